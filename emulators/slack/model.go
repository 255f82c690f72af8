package slack

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// stateVersion is the version of the SaveState format.
const stateVersion = 1

// The identities behind the two tokens the emulator accepts. They are not
// people of the seed, so they are not listed by users.list or SCIM.
const (
	// AdminUserID is the org admin who owns the admin (xoxp) token.
	AdminUserID = "U0ADMIN0001"
	// BotUserID is the bot user of the app that owns the bot (xoxb) token.
	BotUserID = "U0BOT00001"
	// BotID is that app's bot ID.
	BotID = "B0BOT00001"
	// AppID is that app's ID.
	AppID = "A0OFFBOARD1"
)

// seedTime is when the demo org's users were created.
var seedTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// state is everything the emulator holds. It is what SaveState writes.
type state struct {
	Version      int    `json:"version"`
	Domain       string `json:"domain"`
	EnterpriseID string `json:"enterpriseId"`
	TeamID       string `json:"teamId"`
	// Users are sorted by ID.
	Users    []*user       `json:"users"`
	Messages []*message    `json:"messages"`
	Events   []*auditEntry `json:"events"`
	// Serial feeds generated IDs so they stay unique across restarts.
	Serial uint64 `json:"serial"`
	// LastTS is the newest message timestamp handed out, in microseconds.
	LastTS int64 `json:"lastTs"`

	// Channels and UserGroups are the conversations and user groups; a
	// state saved before they existed gets the seed's defaults on load.
	Channels   []*channel   `json:"channels,omitempty"`
	UserGroups []*usergroup `json:"userGroups,omitempty"`
	// Ephemerals are chat.postEphemeral messages and ephemeral response_url
	// answers, oldest first.
	Ephemerals []*message `json:"ephemerals,omitempty"`
	// Views are the modals opened by views.open (and pushed), oldest first.
	Views []*view `json:"views,omitempty"`
	// Log is every message event in order (posted, updated, ephemeral,
	// response_url answer), for GET /_emulator/messages.
	Log []*Post `json:"log,omitempty"`
	// ResponseURLs are the response_urls handed out in click payloads.
	ResponseURLs []*responseURL `json:"responseUrls,omitempty"`
	// Seq numbers Log entries and Views in one sequence.
	Seq int `json:"seq,omitempty"`
}

type user struct {
	ID         string     `json:"id"`
	EmployeeID string     `json:"employeeId,omitempty"`
	UserName   string     `json:"userName"`
	FirstName  string     `json:"firstName"`
	LastName   string     `json:"lastName"`
	Email      string     `json:"email"`
	Title      string     `json:"title,omitempty"`
	Active     bool       `json:"active"`
	Admin      bool       `json:"admin"`
	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
	Sessions   []*session `json:"sessions"`
}

type session struct {
	ID            int64     `json:"id"`
	Created       time.Time `json:"created"`
	Hardware      string    `json:"hardware"`
	OS            string    `json:"os"`
	OSVersion     string    `json:"osVersion"`
	ClientVersion string    `json:"clientVersion"`
	IP            string    `json:"ip"`
}

// mobile reports whether a session is on a phone (for mobile_only resets).
func (s *session) mobile() bool { return s.OS == "iOS" || s.OS == "Android" }

type message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"threadTs,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	User     string          `json:"user"`
	BotID    string          `json:"botId,omitempty"`
	Posted   time.Time       `json:"posted"`
	Edits    []*edit         `json:"edits,omitempty"`
	// Recipient is who sees an ephemeral message.
	Recipient string `json:"recipient,omitempty"`
	// Deleted is set when a response_url answer deleted the message.
	Deleted bool `json:"deleted,omitempty"`
}

type edit struct {
	At     time.Time       `json:"at"`
	Text   string          `json:"text"`
	Blocks json.RawMessage `json:"blocks,omitempty"`
}

// auditEntry is one Audit Logs API entry.
type auditEntry struct {
	ID         string     `json:"id"`
	DateCreate int64      `json:"dateCreate"`
	Action     string     `json:"action"`
	Actor      auditUser  `json:"actor"`
	EntityType string     `json:"entityType"`
	EntityUser *auditUser `json:"entityUser,omitempty"`
	EntityFile *auditFile `json:"entityFile,omitempty"`
	// Location is "workspace" (the team) or "enterprise" (the org).
	Location string         `json:"location"`
	UA       string         `json:"ua"`
	IP       string         `json:"ip"`
	Details  map[string]any `json:"details,omitempty"`
	// EntityID is the entity's id when it is neither EntityUser nor
	// EntityFile (an entry given to POST /_emulator/events).
	EntityID string `json:"entityId,omitempty"`
	// Given is the entry as POST /_emulator/events gave it (with the id
	// added when it lacked one): what the Audit Logs API serves for it.
	// The fields above are read from it for the queries. Empty for the
	// entries the emulator wrote itself.
	Given json.RawMessage `json:"given,omitempty"`
}

type auditUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Team  string `json:"team"`
}

type auditFile struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Filetype string `json:"filetype"`
	Title    string `json:"title"`
}

func (u *user) realName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

func (st *state) user(id string) *user {
	i, ok := slices.BinarySearchFunc(st.Users, id, func(u *user, id string) int { return strings.Compare(u.ID, id) })
	if !ok {
		return nil
	}
	return st.Users[i]
}

// domainLabel is the first label of the org's domain ("example" for
// example.com): the workspace's Slack subdomain.
func (st *state) domainLabel() string {
	label, _, _ := strings.Cut(st.Domain, ".")
	if label == "" {
		return "acme"
	}
	return label
}

// hash derives stable bytes from the org and a key.
func (st *state) hash(key string) [32]byte {
	return sha256.Sum256([]byte(st.Domain + "/" + key))
}

// newUUID makes a version-4-shaped UUID from the serial, so a given seed
// and sequence of calls always produce the same IDs.
func (st *state) newUUID() string {
	st.Serial++
	return uuidFrom(st.hash(fmt.Sprintf("uuid/%d", st.Serial)))
}

func uuidFrom(sum [32]byte) string {
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		binary.BigEndian.Uint32(sum[0:4]), binary.BigEndian.Uint16(sum[4:6]), binary.BigEndian.Uint16(sum[6:8]),
		binary.BigEndian.Uint16(sum[8:10]), sum[10:16])
}

// sessionID derives a positive session ID, like the integers Slack uses.
func (st *state) sessionID(userID string, n int) int64 {
	sum := st.hash(fmt.Sprintf("session/%s/%d", userID, n))
	return int64(binary.BigEndian.Uint64(sum[:8])>>34) + 1_000_000_000
}

// conversationID derives a stable channel ID ("C…" or "D…") from a name.
func (st *state) conversationID(prefix, name string) string {
	sum := st.hash("conversation/" + name)
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := []byte(prefix)
	for i := 0; len(b) < 11; i++ {
		b = append(b, alphabet[int(sum[i])%len(alphabet)])
	}
	return string(b)
}

var devices = []struct{ hardware, os, version, client string }{
	{"Computer", "Mac OS X", "14.6.1", "4.41.105"},
	{"iPhone", "iOS", "18.1", "24.11.10"},
	{"Computer", "Windows", "10.0.22631", "4.41.105"},
	{"Pixel 8", "Android", "15", "24.11.10.0"},
}

// fromSeed builds the initial state from the demo org.
func fromSeed(org *seed.Org) *state {
	st := &state{Version: stateVersion, Domain: org.Domain, EnterpriseID: org.Slack.EnterpriseID, TeamID: org.Slack.TeamID}
	if st.Domain == "" {
		st.Domain = "example.com"
	}
	if st.EnterpriseID == "" {
		st.EnterpriseID = "E0" + strings.ToUpper(st.domainLabel())
	}
	if st.TeamID == "" {
		st.TeamID = "T0" + strings.ToUpper(st.domainLabel())
	}
	type seeded struct {
		ev seed.Event
		u  *user
		n  int
	}
	var events []seeded
	i := 0
	for _, p := range org.People {
		if p.Slack == nil || p.Slack.ID == "" {
			continue
		}
		sl := p.Slack
		created := seedTime.Add(time.Duration(i) * 24 * time.Hour)
		i++
		local, _, _ := strings.Cut(p.Email, "@")
		u := &user{
			ID:         sl.ID,
			EmployeeID: p.EmployeeID,
			UserName:   strings.ToLower(local),
			FirstName:  p.FirstName,
			LastName:   p.LastName,
			Email:      p.Email,
			Title:      p.Title,
			Active:     !sl.Deactivated,
			Admin:      sl.Admin,
			Created:    created,
			Updated:    created,
			Sessions:   []*session{},
		}
		ip, login := "203.0.113.1", created.Add(time.Hour)
		var last time.Time
		for n, e := range sl.Events {
			events = append(events, seeded{e, u, n})
			if e.Type == "user_login" {
				if e.IP != "" {
					ip = e.IP
				}
				login = e.At
			}
			if e.At.After(last) {
				last = e.At
			}
		}
		if u.Active {
			for n := range sl.Sessions {
				d := devices[n%len(devices)]
				u.Sessions = append(u.Sessions, &session{
					ID: st.sessionID(u.ID, n), Created: login.Add(time.Duration(n) * time.Minute).UTC(),
					Hardware: d.hardware, OS: d.os, OSVersion: d.version, ClientVersion: d.client, IP: ip,
				})
			}
		} else if !last.IsZero() {
			u.Updated = last.Add(24 * time.Hour)
		}
		st.Users = append(st.Users, u)
	}
	sort.Slice(st.Users, func(i, j int) bool { return st.Users[i].ID < st.Users[j].ID })
	st.Channels, st.UserGroups = defaultDirectory(org)
	sort.SliceStable(events, func(i, j int) bool { return events[i].ev.At.Before(events[j].ev.At) })
	for _, e := range events {
		st.Events = append(st.Events, st.seedEntry(e.u, e.ev, e.n))
	}
	return st
}

// desktopUA is the user agent seeded events carry.
const desktopUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.41.105 Chrome/130.0.6723.191 Electron/33.2.1 Safari/537.36 Sonic Slack_SSB/4.41.105"

func (st *state) actorOf(u *user) auditUser {
	return auditUser{ID: u.ID, Name: u.realName(), Email: u.Email, Team: st.TeamID}
}

// seedEntry turns a seeded event into an audit entry. The target names what
// the event acted on: a file ID (F…) makes a file entity; anything else
// makes the user the entity.
func (st *state) seedEntry(u *user, e seed.Event, n int) *auditEntry {
	a := st.actorOf(u)
	entry := &auditEntry{
		ID:         uuidFrom(st.hash(fmt.Sprintf("event/%s/%d", u.ID, n))),
		DateCreate: e.At.Unix(),
		Action:     e.Type,
		Actor:      a,
		Location:   "workspace",
		UA:         desktopUA,
		IP:         e.IP,
	}
	switch {
	case strings.HasPrefix(e.Target, "F"):
		entry.EntityType = "file"
		entry.EntityFile = &auditFile{ID: e.Target, Name: strings.ToLower(e.Target) + ".pdf", Filetype: "pdf", Title: e.Target}
	default:
		entry.EntityType = "user"
		entry.EntityUser = &a
	}
	return entry
}

// normalize fills what a decoded state may leave nil and checks it.
func (st *state) normalize() error {
	if st.Version != stateVersion {
		return fmt.Errorf("slack emulator state: version %d, want %d", st.Version, stateVersion)
	}
	sort.Slice(st.Users, func(i, j int) bool { return st.Users[i].ID < st.Users[j].ID })
	for i, u := range st.Users {
		if u == nil || u.ID == "" {
			return fmt.Errorf("slack emulator state: user %d has no id", i)
		}
		if i > 0 && st.Users[i-1].ID == u.ID {
			return fmt.Errorf("slack emulator state: user %s appears twice", u.ID)
		}
		if u.Sessions == nil {
			u.Sessions = []*session{}
		}
		for _, s := range u.Sessions {
			if s == nil {
				return fmt.Errorf("slack emulator state: user %s has a null session", u.ID)
			}
		}
	}
	for i, m := range st.Messages {
		if m == nil {
			return fmt.Errorf("slack emulator state: message %d is null", i)
		}
	}
	for i, m := range st.Ephemerals {
		if m == nil {
			return fmt.Errorf("slack emulator state: ephemeral %d is null", i)
		}
	}
	for i, c := range st.Channels {
		if c == nil || c.ID == "" {
			return fmt.Errorf("slack emulator state: channel %d has no id", i)
		}
	}
	for i, g := range st.UserGroups {
		if g == nil || g.ID == "" {
			return fmt.Errorf("slack emulator state: user group %d has no id", i)
		}
	}
	for i, v := range st.Views {
		if v == nil || v.ID == "" {
			return fmt.Errorf("slack emulator state: view %d has no id", i)
		}
	}
	for i, e := range st.Log {
		if e == nil {
			return fmt.Errorf("slack emulator state: log entry %d is null", i)
		}
	}
	for i, r := range st.ResponseURLs {
		if r == nil {
			return fmt.Errorf("slack emulator state: response url %d is null", i)
		}
	}
	for i, e := range st.Events {
		if e == nil {
			return fmt.Errorf("slack emulator state: event %d is null", i)
		}
	}
	return nil
}
