// Package slack is a stateful stand-in for the parts of Slack that offboard
// uses on an Enterprise Grid org:
//
//   - the Web API under /api/: auth.test, users.lookupByEmail, users.info,
//     users.list, admin.users.session.reset, admin.users.session.list,
//     chat.postMessage, chat.update, chat.postEphemeral, views.open,
//     views.update, conversations.info, conversations.members,
//     usergroups.list and usergroups.users.list, as GET or POST (form or
//     JSON) the way Slack accepts them, with the token as "Authorization:
//     Bearer" or as the token parameter;
//   - SCIM v2 under /scim/v2/: list and filter users, read, deactivate
//     (DELETE) and PATCH active;
//   - the Audit Logs API at /audit/v1/logs, whose history POST
//     /_emulator/events can add to with entries in Slack's own format (see
//     emu.EventsPath and events.go).
//
// It answers like Slack: Web API errors are HTTP 200 with
// {"ok":false,"error":"…"}, SCIM errors are SCIM error bodies with real HTTP
// statuses, rate limits are per-method tiers answered with HTTP 429 and
// Retry-After. slack-go works against it with only its API URLs changed
// (slack.OptionAPIURL(srv.URL+"/api/"), slack.OptionAuditAPIURL(srv.URL+"/")).
//
// Injected faults (emu.Fault) are answered the way Slack reports that class
// of failure: on the Web API and Audit Logs API a 429 is HTTP 429 with
// Retry-After and "ratelimited", a 5xx keeps its status, and a 400, 401,
// 403 or 404 becomes HTTP 200 with invalid_arguments, invalid_auth,
// missing_scope or user_not_found (users_not_found for users.lookupByEmail),
// since Slack never answers those with an HTTP error there. SCIM faults keep
// their status.
//
// It plays Slack's side of interactivity too: POST /_emulator/click turns a
// user's click on a button of a posted message (or a modal submission)
// into Slack's signed block_actions or view_submission payload and POSTs it
// to the app's interactivity URL (Options or POST /_emulator/interactivity),
// handing out a trigger_id (3 s, once) and a response_url served at
// /_emulator/response/<token>. The demo's conversations and user group
// (C0APPROVALS and the rest, S0SECURITY) come from the seed's people; see
// SecurityPeople.
//
// The emulator logs nothing; what it did is visible through
// /_emulator/requests, /_emulator/state (which carries no names or
// emails), /_emulator/messages and /_emulator/views.
package slack

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// Default tokens, accepted when Options leaves them empty.
const (
	DefaultAdminToken = "xoxp-emulator-admin-token"
	DefaultBotToken   = "xoxb-emulator-bot-token"
)

// DefaultAdminScopes are the admin token's scopes when Options.AdminScopes
// is nil: an org owner's user token for SCIM, admin.users.*, the Audit Logs
// API and the user reads.
var DefaultAdminScopes = []string{"admin", "admin.users:read", "admin.users:write", "auditlogs:read", "users:read", "users:read.email", "chat:write", "channels:read", "groups:read", "usergroups:read"}

// DefaultBotScopes are the bot token's scopes when Options.BotScopes is nil.
var DefaultBotScopes = []string{"users:read", "users:read.email", "chat:write", "channels:read", "groups:read", "usergroups:read"}

// RateLimits are requests per minute. Zero takes the default, a negative
// value turns that limit off. Web API limits count per method and token
// (Slack counts per app and workspace); SCIM and Audit Logs limits are
// org-wide, as Slack's are. Windows are fixed minutes of the emulator's
// clock.
type RateLimits struct {
	Tier1 int // default 1
	Tier2 int // default 20 (users.list, admin.users.session.*)
	Tier3 int // default 50 (users.lookupByEmail, chat.update, audit logs)
	Tier4 int // default 100 (users.info, auth.test)
	// PostMessage is chat.postMessage per channel (Slack: about one a
	// second). Default 60.
	PostMessage int
	SCIMRead    int // default 1000
	SCIMWrite   int // PATCH and DELETE; default 600
	SCIMDelete  int // DELETE, in addition to SCIMWrite; default 180
}

func (l *RateLimits) fill() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.Tier1, 1)
	def(&l.Tier2, 20)
	def(&l.Tier3, 50)
	def(&l.Tier4, 100)
	def(&l.PostMessage, 60)
	def(&l.SCIMRead, 1000)
	def(&l.SCIMWrite, 600)
	def(&l.SCIMDelete, 180)
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// AdminToken is the org admin's user token (xoxp-…). Default
	// DefaultAdminToken.
	AdminToken string
	// BotToken is the app's bot token (xoxb-…). Default DefaultBotToken.
	BotToken string
	// AdminScopes and BotScopes are the tokens' OAuth scopes. Nil takes
	// DefaultAdminScopes / DefaultBotScopes; an empty slice means none.
	AdminScopes []string
	BotScopes   []string
	// RateLimits sets the per-minute limits.
	RateLimits RateLimits
	// Now is the clock. Default time.Now. It stamps messages and times
	// trigger_ids; request signatures carry the wall clock, which is what
	// the receiver checks them against.
	Now func() time.Time

	// InteractivityURL is the app's interactivity Request URL, where
	// /_emulator/click delivers payloads; POST /_emulator/interactivity
	// (or SetInteractivity) changes it.
	InteractivityURL string
	// SigningSecret signs delivered payloads (X-Slack-Signature).
	SigningSecret string
	// VerificationToken is the deprecated token field of payloads. Default
	// DefaultVerificationToken.
	VerificationToken string
	// InteractivityTimeout is how long a delivery waits for the app's
	// answer. Default 3 s, as Slack waits.
	InteractivityTimeout time.Duration
}

// Server is the Slack emulator. It implements http.Handler. SaveState and
// LoadState (from its emu.Store) save and restore the full state
// (users with profiles and sessions, messages, audit log) as JSON.
type Server struct {
	opts Options
	emu  *emu.Emulator

	// Store holds the state; its lock also guards windows.
	*emu.Store[state]
	windows map[string]*window
	// devTeam is the workspace the dev config names: the seed's team ID,
	// else DevTeamID.
	devTeam string
	// webUI is what DevSection links messages to (DevChat).
	webUI string
	// triggers are the trigger_ids handed out in interaction payloads,
	// guarded by the Store's lock like hook.
	triggers map[string]*trigger
	hook     Interactivity
	// org is the seed, for DevScenario.
	org *seed.Org
}

type window struct {
	start time.Time
	used  int
}

// New returns an emulator seeded with the Slack part of org. A nil org
// gives an empty org.
func New(org *seed.Org, opts Options) *Server {
	if opts.AdminToken == "" {
		opts.AdminToken = DefaultAdminToken
	}
	if opts.BotToken == "" {
		opts.BotToken = DefaultBotToken
	}
	if opts.AdminScopes == nil {
		opts.AdminScopes = DefaultAdminScopes
	}
	if opts.BotScopes == nil {
		opts.BotScopes = DefaultBotScopes
	}
	opts.AdminScopes = slices.Clone(opts.AdminScopes)
	opts.BotScopes = slices.Clone(opts.BotScopes)
	opts.RateLimits.fill()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.VerificationToken == "" {
		opts.VerificationToken = DefaultVerificationToken
	}
	if opts.InteractivityTimeout <= 0 {
		opts.InteractivityTimeout = 3 * time.Second
	}
	if org == nil {
		org = &seed.Org{}
	}
	devTeam := org.Slack.TeamID
	if devTeam == "" {
		devTeam = DevTeamID
	}
	chans, groups := defaultDirectory(org)
	check := func(st *state) error {
		// A state saved before channels existed gets the seed's.
		if st.Channels == nil {
			st.Channels = cloneJSON(chans)
		}
		if st.UserGroups == nil {
			st.UserGroups = cloneJSON(groups)
		}
		return st.normalize()
	}
	s := &Server{opts: opts, Store: emu.NewStore("slack", fromSeed(org), check), windows: map[string]*window{}, devTeam: devTeam, triggers: map[string]*trigger{}, org: org}
	s.hook = Interactivity{URL: opts.InteractivityURL, SigningSecret: opts.SigningSecret}
	s.emu = emu.New(http.HandlerFunc(s.serveAPI), func() any { return s.State() }, s.writeFault)
	s.emu.SetEvents(s.eventsEndpoint())
	return s
}

// ServeHTTP serves the Slack APIs and the /_emulator/ control endpoints.
// Those of interactivity (messages, views, interactivity, click) are not
// logged or faulted; response_urls are Slack's and are.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveControl(w, r) {
		return
	}
	s.emu.ServeHTTP(w, r)
}

// Emulator returns the wrapper that injects faults and latency and keeps the
// request log.
func (s *Server) Emulator() *emu.Emulator { return s.emu }

// State is what GET /_emulator/state serves. It holds no names, emails or
// message text.
type State struct {
	EnterpriseID    string         `json:"enterpriseId"`
	TeamID          string         `json:"teamId"`
	Users           []UserState    `json:"users"`
	Messages        []MessageState `json:"messages"`
	AuditEventCount int            `json:"auditEventCount"`
}

// UserState is one user's revocable state.
type UserState struct {
	ID         string `json:"id"`
	EmployeeID string `json:"employeeId,omitempty"`
	// Active is SCIM's active; users.info reports deleted = !Active.
	Active     bool    `json:"active"`
	Admin      bool    `json:"admin"`
	Sessions   int     `json:"sessions"`
	SessionIDs []int64 `json:"sessionIds"`
}

// MessageState is one posted message, without its content.
type MessageState struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Blocks  int    `json:"blocks"`
	Edits   int    `json:"edits"`
}

// Message is a posted message as the emulator recorded it, for tests.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	// Blocks is the blocks JSON array as received (compacted), or nil.
	Blocks json.RawMessage
	// User is who posted it: BotUserID for the bot token, AdminUserID for
	// the admin token.
	User string
	// Edits are the chat.update calls (and response_url replacements),
	// oldest first.
	Edits []MessageEdit
	// Deleted is set when a response_url answer deleted the message.
	Deleted bool
}

// MessageEdit is one chat.update of a message.
type MessageEdit struct {
	At     time.Time
	Text   string
	Blocks json.RawMessage
}

func snapshot(u *user) UserState {
	us := UserState{ID: u.ID, EmployeeID: u.EmployeeID, Active: u.Active, Admin: u.Admin, Sessions: len(u.Sessions), SessionIDs: []int64{}}
	for _, s := range u.Sessions {
		us.SessionIDs = append(us.SessionIDs, s.ID)
	}
	return us
}

func countBlocks(raw json.RawMessage) int {
	var bs []json.RawMessage
	if json.Unmarshal(raw, &bs) != nil {
		return 0
	}
	return len(bs)
}

// State returns a snapshot of every user's state and the posted messages.
func (s *Server) State() State {
	s.Lock()
	defer s.Unlock()
	out := State{EnterpriseID: s.St.EnterpriseID, TeamID: s.St.TeamID, Users: []UserState{}, Messages: []MessageState{}, AuditEventCount: len(s.St.Events)}
	for _, u := range s.St.Users {
		out.Users = append(out.Users, snapshot(u))
	}
	for _, m := range s.St.Messages {
		out.Messages = append(out.Messages, MessageState{Channel: m.Channel, TS: m.TS, Blocks: countBlocks(m.Blocks), Edits: len(m.Edits)})
	}
	return out
}

// User returns a snapshot of one user, by Slack user ID.
func (s *Server) User(id string) (UserState, bool) {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(id)
	if u == nil {
		return UserState{}, false
	}
	return snapshot(u), true
}

// Messages returns every posted message with its blocks and edits, oldest
// first.
func (s *Server) Messages() []Message {
	s.Lock()
	defer s.Unlock()
	var out []Message
	for _, m := range s.St.Messages {
		msg := Message{Channel: m.Channel, TS: m.TS, ThreadTS: m.ThreadTS, Text: m.Text, Blocks: slices.Clone(m.Blocks), User: m.User, Deleted: m.Deleted}
		for _, e := range m.Edits {
			msg.Edits = append(msg.Edits, MessageEdit{At: e.At, Text: e.Text, Blocks: slices.Clone(e.Blocks)})
		}
		out = append(out, msg)
	}
	return out
}

// identity is who a token belongs to.
type identity struct {
	admin  bool // the org admin's user token; otherwise the bot token
	userID string
	scopes []string
}

func (s *Server) identify(token string) *identity {
	switch token {
	case "":
		return nil
	case s.opts.AdminToken:
		return &identity{admin: true, userID: AdminUserID, scopes: s.opts.AdminScopes}
	case s.opts.BotToken:
		return &identity{userID: BotUserID, scopes: s.opts.BotScopes}
	}
	return nil
}

func (id *identity) has(scope string) bool { return scope == "" || slices.Contains(id.scopes, scope) }

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// limit is one rate-limit bucket a request counts against.
type limit struct {
	key string
	n   int
}

// take counts a request against every bucket, or none when one is full; it
// returns how long until the fullest bucket's window ends.
func (s *Server) take(now time.Time, limits ...limit) (time.Duration, bool) {
	start := now.UTC().Truncate(time.Minute)
	var wait time.Duration
	for _, l := range limits {
		if l.n < 0 {
			continue
		}
		w := s.windows[l.key]
		if w == nil || !w.start.Equal(start) {
			w = &window{start: start}
			s.windows[l.key] = w
		}
		if w.used >= l.n {
			wait = max(wait, start.Add(time.Minute).Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, l := range limits {
		if l.n >= 0 {
			s.windows[l.key].used++
		}
	}
	return 0, true
}

// serveAPI routes to the Web API, SCIM or the Audit Logs API.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now()
	w.Header().Set("X-Slack-Req-Id", reqID())
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/"):
		s.serveWeb(w, r, now)
	case strings.HasPrefix(p, "/scim/v2/"):
		s.serveSCIM(w, r, now)
	case p == "/audit/v1/logs":
		s.serveAudit(w, r, now)
	case strings.HasPrefix(p, responsePath):
		s.serveResponseURL(w, r, now)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "404 page not found\n")
	}
}

// reqID makes a request ID like the ones Slack sends in X-Slack-Req-Id.
func reqID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = hex[rand.IntN(len(hex))]
	}
	return string(b)
}

// writeJSON writes v with Slack's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRateLimited answers a Web API or Audit Logs request over its limit.
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", emu.RetryAfterSeconds(wait))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
}

// webErr writes a Web API error: HTTP 200 with ok false.
func webErr(w http.ResponseWriter, code string, extra ...any) {
	body := map[string]any{"ok": false, "error": code}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	writeJSON(w, http.StatusOK, body)
}

// writeFault is the emu.ErrorWriter: an injected failure, written Slack's
// way for the API the path belongs to.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	if strings.HasPrefix(r.URL.Path, "/scim/") {
		if status == http.StatusTooManyRequests || (status == http.StatusServiceUnavailable && retryAfter > 0) {
			w.Header().Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
		}
		writeSCIMError(w, status, scimDescription(status))
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	switch {
	case status == http.StatusTooManyRequests:
		writeRateLimited(w, retryAfter)
	case status >= 500:
		if status == http.StatusServiceUnavailable && retryAfter > 0 {
			w.Header().Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
		}
		writeJSON(w, status, map[string]any{"ok": false, "error": "fatal_error"})
	case status == http.StatusUnauthorized:
		webErr(w, "invalid_auth")
	case status == http.StatusForbidden:
		webErr(w, "missing_scope", "needed", neededScope(method), "provided", "")
	case status == http.StatusNotFound:
		if method == "users.lookupByEmail" {
			webErr(w, "users_not_found")
		} else {
			webErr(w, "user_not_found")
		}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		webErr(w, "invalid_arguments")
	default:
		writeJSON(w, status, map[string]any{"ok": false, "error": "request_failed"})
	}
}

func neededScope(method string) string {
	if m, ok := webMethods[method]; ok {
		return m.scope
	}
	if method == "/audit/v1/logs" {
		return "auditlogs:read"
	}
	return ""
}

// scimDescription is the SCIM error description Slack gives a status.
func scimDescription(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_syntax"
	case http.StatusUnauthorized:
		return "invalid_authentication"
	case http.StatusForbidden:
		return "insufficient_permissions"
	case http.StatusNotFound:
		return "user_not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "request_failed"
}

// parseInt reads an optional integer parameter.
func parseInt(s string, def int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}
