package okta

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

// oktaLayout is how Okta writes timestamps: UTC with milliseconds.
const oktaLayout = "2006-01-02T15:04:05.000Z"

// oktaTime marshals the way Okta writes timestamps.
type oktaTime struct{ time.Time }

func (t oktaTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(oktaLayout) + `"`), nil
}

func (t *oktaTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v.UTC()
	return nil
}

func stamp(t time.Time) *oktaTime { return &oktaTime{t.UTC()} }

func (t *oktaTime) String() string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(oktaLayout)
}

// stateVersion is the version of the SaveState format.
const stateVersion = 1

// state is everything the emulator holds. It is what SaveState writes.
type state struct {
	Version int         `json:"version"`
	Domain  string      `json:"domain"`
	Users   []*user     `json:"users"`
	Groups  []*group    `json:"groups"`
	Clients []*client   `json:"clients"`
	Events  []*logEvent `json:"events"`
	// Serial feeds the generated IDs so they stay unique across restarts.
	Serial uint64 `json:"serial"`
}

type user struct {
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	Created         oktaTime          `json:"created"`
	Activated       *oktaTime         `json:"activated"`
	StatusChanged   *oktaTime         `json:"statusChanged"`
	LastLogin       *oktaTime         `json:"lastLogin"`
	LastUpdated     oktaTime          `json:"lastUpdated"`
	PasswordChanged *oktaTime         `json:"passwordChanged"`
	Profile         map[string]string `json:"profile"`
	Groups          []string          `json:"groups"`
	Roles           []*role           `json:"roles"`
	Factors         []*factor         `json:"factors"`
	Grants          []*grant          `json:"grants"`
	Sessions        int               `json:"sessions"`
	// Tokens counts the OAuth access/refresh tokens per client ID.
	Tokens map[string]int `json:"tokens"`
}

type role struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Created oktaTime `json:"created"`
}

type factor struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Provider string   `json:"provider"`
	Created  oktaTime `json:"created"`
}

type grant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"clientId"`
	ScopeID  string   `json:"scopeId"`
	Created  oktaTime `json:"created"`
}

type group struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Created oktaTime `json:"created"`
}

type client struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (u *user) login() string { return u.Profile["login"] }

func (u *user) displayName() string {
	return strings.TrimSpace(u.Profile["firstName"] + " " + u.Profile["lastName"])
}

func (u *user) tokenCount() int {
	n := 0
	for _, c := range u.Tokens {
		n += c
	}
	return n
}

func (st *state) user(id string) *user {
	i, ok := slices.BinarySearchFunc(st.Users, id, func(u *user, id string) int { return strings.Compare(u.ID, id) })
	if !ok {
		return nil
	}
	return st.Users[i]
}

func (st *state) userByIDOrLogin(key string) *user {
	if u := st.user(key); u != nil {
		return u
	}
	for _, u := range st.Users {
		if strings.EqualFold(u.login(), key) {
			return u
		}
	}
	return nil
}

func (st *state) group(id string) *group {
	for _, g := range st.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (st *state) client(id string) *client {
	for _, c := range st.Clients {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// newID makes a 20-character Okta-style ID with the given 3-letter prefix.
// IDs are derived from the org domain and a serial, so a given seed always
// produces the same IDs.
func (st *state) newID(prefix string) string {
	st.Serial++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", st.Domain, prefix, st.Serial))
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := []byte(prefix)
	for i := 0; len(b) < 20; i++ {
		b = append(b, alphabet[int(sum[i])%len(alphabet)])
	}
	return string(b)
}

// newUUID makes a version-4-shaped UUID, derived like newID.
func (st *state) newUUID() string {
	st.Serial++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/uuid/%d", st.Domain, st.Serial))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		binary.BigEndian.Uint32(sum[0:4]), binary.BigEndian.Uint16(sum[4:6]), binary.BigEndian.Uint16(sum[6:8]),
		binary.BigEndian.Uint16(sum[8:10]), sum[10:16])
}

// factorProviders maps factor types to the provider Okta reports.
var factorProviders = map[string]string{
	"push":                "OKTA",
	"token:software:totp": "OKTA",
	"sms":                 "OKTA",
	"call":                "OKTA",
	"email":               "OKTA",
	"question":            "OKTA",
	"signed_nonce":        "OKTA",
	"webauthn":            "FIDO",
	"u2f":                 "FIDO",
	"token:hardware":      "YUBICO",
	"token":               "RSA",
}

var factorPrefixes = map[string]string{
	"push":                "opf",
	"token:software:totp": "ost",
	"sms":                 "mbl",
	"call":                "clf",
	"email":               "emf",
	"question":            "ufs",
	"webauthn":            "fwf",
	"u2f":                 "fuf",
	"token:hardware":      "ykf",
}

// roleLabels are the labels Okta gives the standard admin role types.
var roleLabels = map[string]string{
	"SUPER_ADMIN":                 "Super Administrator",
	"ORG_ADMIN":                   "Organizational Administrator",
	"APP_ADMIN":                   "Application Administrator",
	"USER_ADMIN":                  "Group Administrator",
	"HELP_DESK_ADMIN":             "Help Desk Administrator",
	"READ_ONLY_ADMIN":             "Read-only Administrator",
	"MOBILE_ADMIN":                "Mobile Administrator",
	"API_ACCESS_MANAGEMENT_ADMIN": "API Access Management Administrator",
	"REPORT_ADMIN":                "Report Administrator",
	"GROUP_MEMBERSHIP_ADMIN":      "Group Membership Administrator",
}

// seedTime is when the demo org's objects were created.
var seedTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// fromSeed builds the initial state from the demo org.
func fromSeed(org *seed.Org) *state {
	st := &state{Version: stateVersion, Domain: org.Domain}
	if st.Domain == "" {
		st.Domain = "example.com"
	}
	for i, g := range org.Okta.Groups {
		st.Groups = append(st.Groups, &group{ID: g.ID, Name: g.Name, Type: g.Type, Created: oktaTime{seedTime.Add(-time.Duration(len(org.Okta.Groups)-i) * time.Hour)}})
	}
	for _, c := range org.Okta.Clients {
		st.Clients = append(st.Clients, &client{ID: c.ID, Name: c.Name})
	}
	var people []seed.Person
	for _, p := range org.People {
		if p.Okta != nil {
			people = append(people, p)
		}
	}
	type seeded struct {
		ev seed.Event
		u  *user
	}
	var events []seeded
	for i, p := range people {
		o := p.Okta
		created := seedTime.Add(time.Duration(i) * 24 * time.Hour)
		u := &user{
			ID:          o.ID,
			Status:      o.Status,
			Created:     oktaTime{created},
			LastUpdated: oktaTime{created},
			Profile: map[string]string{
				"firstName":      p.FirstName,
				"lastName":       p.LastName,
				"login":          p.Email,
				"email":          p.Email,
				"employeeNumber": p.EmployeeID,
			},
			Groups:   slices.Clone(o.Groups),
			Sessions: o.Sessions,
			Tokens:   map[string]int{},
		}
		for k, v := range o.Profile {
			if v == "" {
				delete(u.Profile, k) // an empty seed value unsets a base attribute
				continue
			}
			u.Profile[k] = v
		}
		if o.Status != "STAGED" {
			act := created.Add(5 * time.Minute)
			u.Activated = stamp(act)
			u.StatusChanged = stamp(act)
			u.PasswordChanged = stamp(act.Add(10 * time.Minute))
			u.LastUpdated = oktaTime{act.Add(10 * time.Minute)}
		}
		for _, r := range o.Roles {
			u.Roles = append(u.Roles, &role{ID: st.newID("ra1"), Type: r, Created: oktaTime{created.Add(time.Hour)}})
		}
		for _, f := range o.Factors {
			prefix := factorPrefixes[f]
			if prefix == "" {
				prefix = "fct"
			}
			provider := factorProviders[f]
			if provider == "" {
				provider = "OKTA"
			}
			u.Factors = append(u.Factors, &factor{ID: st.newID(prefix), Type: f, Provider: provider, Created: oktaTime{created.Add(20 * time.Minute)}})
		}
		for _, g := range o.Grants {
			u.Grants = append(u.Grants, &grant{ID: st.newID("oag"), ClientID: g.Client, ScopeID: g.Scope, Created: oktaTime{created.Add(2 * time.Hour)}})
			u.Tokens[g.Client]++
		}
		var last time.Time
		for _, e := range o.Events {
			events = append(events, seeded{e, u})
			if e.At.After(last) {
				last = e.At
			}
			if e.Type == "user.session.start" && (e.Result == "" || e.Result == "SUCCESS") {
				if u.LastLogin == nil || e.At.After(u.LastLogin.Time) {
					u.LastLogin = stamp(e.At)
				}
			}
		}
		if o.Status == "SUSPENDED" || o.Status == "DEPROVISIONED" {
			changed := created.Add(30 * 24 * time.Hour)
			if !last.IsZero() {
				changed = last.Add(24 * time.Hour)
			}
			u.StatusChanged = stamp(changed)
			u.LastUpdated = oktaTime{changed}
		}
		st.Users = append(st.Users, u)
	}
	sort.Slice(st.Users, func(i, j int) bool { return st.Users[i].ID < st.Users[j].ID })
	sort.SliceStable(events, func(i, j int) bool { return events[i].ev.At.Before(events[j].ev.At) })
	for _, e := range events {
		st.Events = append(st.Events, st.seedEvent(e.u, e.ev))
	}
	return st
}

// normalize fills what a decoded state may leave nil and checks it.
func (st *state) normalize() error {
	if st.Version != stateVersion {
		return fmt.Errorf("okta emulator state: version %d, want %d", st.Version, stateVersion)
	}
	sort.Slice(st.Users, func(i, j int) bool { return st.Users[i].ID < st.Users[j].ID })
	for i, u := range st.Users {
		if u == nil || u.ID == "" {
			return fmt.Errorf("okta emulator state: user %d has no id", i)
		}
		if i > 0 && st.Users[i-1].ID == u.ID {
			return fmt.Errorf("okta emulator state: user %s appears twice", u.ID)
		}
		if u.Profile == nil {
			u.Profile = map[string]string{}
		}
		if u.Tokens == nil {
			u.Tokens = map[string]int{}
		}
	}
	for i, e := range st.Events {
		if e == nil {
			return fmt.Errorf("okta emulator state: event %d is null", i)
		}
	}
	return nil
}
