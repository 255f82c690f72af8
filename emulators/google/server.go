// Package google is a stateful stand-in for the parts of the Google
// Workspace Admin SDK that offboard uses: Directory API users (get, patch,
// signOut), OAuth tokens, app-specific passwords, backup verification
// codes, groups and memberships, and the Reports API activity log. It
// serves Google's real paths, bodies, status codes, JSON error bodies and
// pageToken pagination, so google.golang.org/api/admin/directory/v1 and
// admin/reports/v1 work against it with only the endpoint changed.
//
// Every mutation changes state and appends the admin audit event Google
// would log (SUSPEND_USER, RESET_SIGNIN_COOKIES, REVOKE_3LO_TOKEN,
// REVOKE_ASP, DELETE_2SV_SCRATCH_CODES, REMOVE_GROUP_MEMBER, ...), plus a
// token "revoke" event for each revoked OAuth token, readable through the
// Reports API. POST /_emulator/events appends activities given in the
// Reports API's own format (see emu.EventsPath and events.go); POST
// /_emulator/attempt simulates the person signing in and logs the login
// activity Google would (see emu.AttemptPath and attempt.go).
//
// The emulator logs nothing; what it did is visible through
// /_emulator/requests and /_emulator/state (which carries no names or
// emails).
package google

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// DefaultToken is the bearer token a Server accepts when Options.Token is
// empty.
const DefaultToken = "emulator-token"

// Options configures a Server. The zero value is usable.
type Options struct {
	// Token is the accepted OAuth access token, sent as "Bearer <token>".
	// Default "emulator-token".
	Token string
	// ReadOnlyToken, when set, is a second accepted token that carries only
	// read-only scopes: every request that changes something gets Google's
	// 403 insufficientPermissions answer.
	ReadOnlyToken string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// PageSize is the default page size of groups.list (Google's is 200)
	// and activities.list (Google's is 1000). Zero keeps Google's defaults.
	PageSize int
	// RateLimit is the number of requests per minute per user: per
	// quotaUser parameter when a request sends one, else per token.
	// Default 2400 (Google's default per-user quota).
	RateLimit int
	// RateLimitStatus is how an exceeded rate limit is answered: 403 with
	// reason userRateLimitExceeded (the default, the classic Admin SDK
	// answer) or 429 with reason rateLimitExceeded (RESOURCE_EXHAUSTED).
	RateLimitStatus int
	// RateLimitRetryAfter adds a Retry-After header (seconds to the end of
	// the minute window) to rate-limit answers. Google usually sends none;
	// off by default.
	RateLimitRetryAfter bool
	// AdminEmail is the actor of the admin audit events the API calls log
	// (the impersonated admin). Default admin@<domain>.
	AdminEmail string
}

// Server is the Google Workspace emulator. It implements http.Handler and
// emu.Dev.
//
// Its Store holds the state (SaveState writes it all: users with their
// credentials, groups, the activity log; LoadState checks what it reads)
// and its lock, which guards the rate-limit buckets too. The buckets are
// not part of the saved state.
type Server struct {
	*emu.Store[state]
	opts Options
	emu  *emu.Emulator
	// customer and domain are the seed's, for DevSection.
	customer, domain string
	// org is the seed, for DevScenario.
	org *seed.Org

	buckets map[string]*bucket
}

type bucket struct {
	window time.Time
	used   int
}

// New returns an emulator seeded with the Google part of org. A nil org
// gives an empty customer.
func New(org *seed.Org, opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 2400
	}
	if opts.RateLimitStatus != http.StatusTooManyRequests {
		opts.RateLimitStatus = http.StatusForbidden
	}
	if opts.PageSize < 0 {
		opts.PageSize = 0
	}
	if org == nil {
		org = &seed.Org{}
	}
	s := &Server{
		Store:    emu.NewStore("google", fromSeed(org, opts.AdminEmail), (*state).normalize),
		opts:     opts,
		customer: org.Google.Customer,
		domain:   org.Domain,
		org:      org,
		buckets:  map[string]*bucket{},
	}
	s.emu = emu.New(http.HandlerFunc(s.serveAPI), func() any { return s.State() }, s.writeFault)
	s.emu.SetEvents(s.eventsEndpoint())
	s.emu.SetAttempts(s.attempt)
	return s
}

// ServeHTTP serves the Admin SDK and the /_emulator/ control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.emu.ServeHTTP(w, r) }

// Emulator returns the wrapper that injects faults and latency and keeps the
// request log.
func (s *Server) Emulator() *emu.Emulator { return s.emu }

// State is what GET /_emulator/state serves: per user the facts offboard
// changes, per group its member count, and how many audit events exist.
// It holds no names or emails.
type State struct {
	Customer   string       `json:"customer"`
	Users      []UserState  `json:"users"`
	Groups     []GroupState `json:"groups"`
	EventCount int          `json:"eventCount"`
}

// UserState is one user's revocable state.
type UserState struct {
	ID           string   `json:"id"`
	EmployeeID   string   `json:"employeeId,omitempty"`
	Suspended    bool     `json:"suspended"`
	IsAdmin      bool     `json:"isAdmin"`
	Tokens       []string `json:"tokens"`       // OAuth client IDs
	AppPasswords []int64  `json:"appPasswords"` // ASP code IDs
	BackupCodes  int      `json:"backupCodes"`  // valid backup verification codes
	Sessions     int      `json:"sessions"`
	Groups       []string `json:"groups"` // group IDs
}

// GroupState is one group, by ID.
type GroupState struct {
	ID      string `json:"id"`
	Members int    `json:"members"`
}

func (st *state) snapshot(u *user) UserState {
	us := UserState{
		ID:           u.ID,
		EmployeeID:   u.EmployeeID,
		Suspended:    u.Suspended,
		IsAdmin:      u.IsAdmin,
		Tokens:       []string{},
		AppPasswords: []int64{},
		BackupCodes:  len(u.BackupCodes),
		Sessions:     u.Sessions,
		Groups:       []string{},
	}
	for _, t := range u.Tokens {
		us.Tokens = append(us.Tokens, t.ClientID)
	}
	for _, a := range u.ASPs {
		us.AppPasswords = append(us.AppPasswords, a.CodeID)
	}
	for _, g := range st.groupsOf(u.ID) {
		us.Groups = append(us.Groups, g.ID)
	}
	slices.Sort(us.Groups)
	return us
}

// State returns a snapshot of every user and group.
func (s *Server) State() State {
	s.Lock()
	defer s.Unlock()
	out := State{Customer: s.St.Customer, Users: make([]UserState, 0, len(s.St.Users)), Groups: make([]GroupState, 0, len(s.St.Groups)), EventCount: len(s.St.Events)}
	for _, u := range s.St.Users {
		out.Users = append(out.Users, s.St.snapshot(u))
	}
	for _, g := range s.St.Groups {
		out.Groups = append(out.Groups, GroupState{ID: g.ID, Members: len(g.Members)})
	}
	return out
}

// User returns a snapshot of one user, by Google user ID.
func (s *Server) User(id string) (UserState, bool) {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(id)
	if u == nil {
		return UserState{}, false
	}
	return s.St.snapshot(u), true
}

// Google's error messages.
const (
	msgLoginRequired = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	msgInvalidCreds  = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	msgForbidden     = "Not Authorized to access this resource/api"
	msgScopes        = "Request had insufficient authentication scopes."
	msgInvalidInput  = "Invalid Input"
	msgBadRequest    = "Bad Request"
	msgUserRate      = "User Rate Limit Exceeded"
	msgQuota         = "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com' for consumer 'project_number:000000000000'."
	msgBackend       = "Internal error encountered."
	msgUnavailable   = "The service is currently unavailable."
	msgConflict      = "Entity already exists."
	msgPrecondition  = "Precondition Failed"
)

// gerr is one error answer: status, top-level message and status string,
// and the errors[] item.
type gerr struct {
	code     int
	message  string
	reason   string
	domain   string
	status   string // google.rpc code name; "" omits it
	location string // for auth errors: "Authorization"
	details  []any
}

type errorItem struct {
	Message      string `json:"message"`
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status,omitempty"`
	Details []any       `json:"details,omitempty"`
}

// writeError writes Google's JSON error body.
func writeError(w http.ResponseWriter, e gerr) {
	if e.domain == "" {
		e.domain = "global"
	}
	item := errorItem{Message: e.message, Domain: e.domain, Reason: e.reason}
	if e.location != "" {
		item.Location, item.LocationType = e.location, "header"
	}
	if e.code == http.StatusUnauthorized {
		v := `Bearer realm="https://accounts.google.com/"`
		if e.reason == "authError" {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	writeJSON(w, e.code, map[string]errorBody{"error": {Code: e.code, Message: e.message, Errors: []errorItem{item}, Status: e.status, Details: e.details}})
}

func notFound(param string) gerr {
	return gerr{code: http.StatusNotFound, message: "Resource Not Found: " + param, reason: "notFound"}
}

func invalid(msg string) gerr {
	if msg == "" {
		msg = msgInvalidInput
	}
	return gerr{code: http.StatusBadRequest, message: msg, reason: "invalid"}
}

var (
	errForbidden = gerr{code: http.StatusForbidden, message: msgForbidden, reason: "forbidden"}
	errScopes    = gerr{code: http.StatusForbidden, message: msgScopes, reason: "insufficientPermissions", status: "PERMISSION_DENIED",
		details: []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "admin.googleapis.com"}}}}
	errUserRate = gerr{code: http.StatusForbidden, message: msgUserRate, reason: "userRateLimitExceeded", domain: "usageLimits"}
	errRate     = gerr{code: http.StatusTooManyRequests, message: msgQuota, reason: "rateLimitExceeded", status: "RESOURCE_EXHAUSTED"}
)

// faultError is the error body an injected failure of a given status gets.
func faultError(status int, path string) gerr {
	switch {
	case status == http.StatusUnauthorized:
		return gerr{code: status, message: msgInvalidCreds, reason: "authError", status: "UNAUTHENTICATED", location: "Authorization"}
	case status == http.StatusForbidden:
		return errForbidden
	case status == http.StatusNotFound:
		return notFound(resourceParam(path))
	case status == http.StatusConflict:
		return gerr{code: status, message: msgConflict, reason: "duplicate"}
	case status == http.StatusPreconditionFailed:
		return gerr{code: status, message: msgPrecondition, reason: "conditionNotMet"}
	case status == http.StatusTooManyRequests:
		return errRate
	case status == http.StatusServiceUnavailable:
		return gerr{code: status, message: msgUnavailable, reason: "backendError", status: "UNAVAILABLE"}
	case status >= 500:
		return gerr{code: status, message: msgBackend, reason: "backendError", status: "INTERNAL"}
	}
	return gerr{code: status, message: msgBadRequest, reason: "badRequest"}
}

// resourceParam names the path parameter a 404 on path is about, the way
// Google's "Resource Not Found: <param>" does.
func resourceParam(path string) string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(seg) >= 6 && seg[3] == "groups" && seg[5] == "members":
		if len(seg) >= 7 {
			return "memberKey"
		}
		return "groupKey"
	case len(seg) >= 4 && seg[3] == "groups":
		return "groupKey"
	case len(seg) >= 7 && seg[3] == "users" && seg[5] == "tokens":
		return "clientId"
	case len(seg) >= 7 && seg[3] == "users" && seg[5] == "asps":
		return "codeId"
	}
	return "userKey"
}

// writeFault is the emu.ErrorWriter: an injected failure, written Google's
// way, with Retry-After when the fault carries one.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
	}
	writeError(w, faultError(status, r.URL.Path))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Vary", "Origin, X-Origin, Referer")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeNotFoundPage is Google's front end's answer to a path no API
// serves: an HTML 404.
func writeNotFoundPage(w http.ResponseWriter, path string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=en>\n<title>Error 404 (Not Found)!!1</title>\n<p><b>404.</b> <ins>That’s an error.</ins>\n<p>The requested URL <code>%s</code> was not found on this server.  <ins>That’s all we know.</ins>\n", htmlEscaper.Replace(path))
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// rate uses one request from the caller's bucket. Buckets are fixed
// one-minute windows.
func (s *Server) rate(key string, now time.Time) (ok bool, reset time.Time) {
	win := now.UTC().Truncate(time.Minute)
	b := s.buckets[key]
	if b == nil || !b.window.Equal(win) {
		b = &bucket{window: win}
		s.buckets[key] = b
	}
	reset = win.Add(time.Minute)
	if b.used >= s.opts.RateLimit {
		return false, reset
	}
	b.used++
	return true, reset
}

// request carries what every handler needs.
type request struct {
	w   http.ResponseWriter
	r   *http.Request
	now time.Time
	ip  string
}

// serveAPI serves the Admin SDK: authentication, rate limit, then routing.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now()
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Server", "ESF")
	h.Set("Cache-Control", "private")

	auth := r.Header.Get("Authorization")
	tok, hasBearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth == "" || !hasBearer:
		writeError(w, gerr{code: http.StatusUnauthorized, message: msgLoginRequired, reason: "required", status: "UNAUTHENTICATED", location: "Authorization"})
		return
	case tok != s.opts.Token && (s.opts.ReadOnlyToken == "" || tok != s.opts.ReadOnlyToken):
		writeError(w, gerr{code: http.StatusUnauthorized, message: msgInvalidCreds, reason: "authError", status: "UNAUTHENTICATED", location: "Authorization"})
		return
	}
	key := "token:" + tok
	if q := r.URL.Query().Get("quotaUser"); q != "" {
		key = "quotaUser:" + q
	}
	if ok, reset := s.rate(key, now); !ok {
		if s.opts.RateLimitRetryAfter {
			h.Set("Retry-After", emu.RetryAfterSeconds(reset.Sub(now)))
		}
		if s.opts.RateLimitStatus == http.StatusTooManyRequests {
			writeError(w, errRate)
		} else {
			writeError(w, errUserRate)
		}
		return
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	req := &request{w: w, r: r, now: now, ip: ip}
	hd := s.route(r)
	if hd == nil {
		writeNotFoundPage(w, r.URL.Path)
		return
	}
	if s.opts.ReadOnlyToken != "" && tok == s.opts.ReadOnlyToken && r.Method != http.MethodGet {
		writeError(w, errScopes)
		return
	}
	hd(req)
}

// pathSegments splits the escaped path and unescapes each segment, so a key
// holding an escaped slash stays one segment.
func pathSegments(r *http.Request) []string {
	raw := strings.Trim(r.URL.EscapedPath(), "/")
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// route finds the handler for a request, or nil when no API serves its
// method and path.
func (s *Server) route(r *http.Request) func(*request) {
	seg := pathSegments(r)
	n := len(seg)
	m := r.Method
	if n >= 3 && seg[0] == "admin" && seg[1] == "reports" && seg[2] == "v1" {
		if n == 8 && seg[3] == "activity" && seg[4] == "users" && seg[6] == "applications" && m == http.MethodGet {
			return func(q *request) { s.listActivities(q, seg[5], seg[7]) }
		}
		return nil
	}
	if n < 4 || seg[0] != "admin" || seg[1] != "directory" || seg[2] != "v1" {
		return nil
	}
	seg = seg[3:]
	n = len(seg)
	switch {
	case n == 2 && seg[0] == "users":
		switch m {
		case http.MethodGet:
			return func(q *request) { s.getUser(q, seg[1]) }
		case http.MethodPatch, http.MethodPut:
			return func(q *request) { s.patchUser(q, seg[1]) }
		}
	case n == 3 && seg[0] == "users" && seg[2] == "signOut" && m == http.MethodPost:
		return func(q *request) { s.signOut(q, seg[1]) }
	case n == 3 && seg[0] == "users" && seg[2] == "tokens" && m == http.MethodGet:
		return func(q *request) { s.listTokens(q, seg[1]) }
	case n == 4 && seg[0] == "users" && seg[2] == "tokens":
		switch m {
		case http.MethodGet:
			return func(q *request) { s.getToken(q, seg[1], seg[3]) }
		case http.MethodDelete:
			return func(q *request) { s.deleteToken(q, seg[1], seg[3]) }
		}
	case n == 3 && seg[0] == "users" && seg[2] == "asps" && m == http.MethodGet:
		return func(q *request) { s.listASPs(q, seg[1]) }
	case n == 4 && seg[0] == "users" && seg[2] == "asps":
		switch m {
		case http.MethodGet:
			return func(q *request) { s.getASP(q, seg[1], seg[3]) }
		case http.MethodDelete:
			return func(q *request) { s.deleteASP(q, seg[1], seg[3]) }
		}
	case n == 3 && seg[0] == "users" && seg[2] == "verificationCodes" && m == http.MethodGet:
		return func(q *request) { s.listCodes(q, seg[1]) }
	case n == 4 && seg[0] == "users" && seg[2] == "verificationCodes" && m == http.MethodPost:
		switch seg[3] {
		case "invalidate":
			return func(q *request) { s.invalidateCodes(q, seg[1]) }
		case "generate":
			return func(q *request) { s.generateCodes(q, seg[1]) }
		}
	case n == 1 && seg[0] == "groups" && m == http.MethodGet:
		return s.listGroups
	case n == 2 && seg[0] == "groups" && m == http.MethodGet:
		return func(q *request) { s.getGroup(q, seg[1]) }
	case n == 3 && seg[0] == "groups" && seg[2] == "members" && m == http.MethodGet:
		return func(q *request) { s.listMembers(q, seg[1]) }
	case n == 4 && seg[0] == "groups" && seg[2] == "members":
		switch m {
		case http.MethodGet:
			return func(q *request) { s.getMember(q, seg[1], seg[3]) }
		case http.MethodDelete:
			return func(q *request) { s.deleteMember(q, seg[1], seg[3]) }
		}
	}
	return nil
}
