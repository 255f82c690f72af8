// Package okta is a stateful stand-in for the parts of the Okta management
// API that offboard uses: users (get, search, lifecycle), sessions, OAuth
// grants and clients, group memberships, admin roles, factors and the System
// Log. It serves Okta's real paths, bodies, status codes, error bodies,
// Link pagination and rate-limit headers, so okta-sdk-golang works against it
// with only the org URL changed. It also delivers Okta event hooks (see
// SetEventHook and EventHookPath) for the System Log events API calls cause.
// POST /_emulator/events appends System Log history given as LogEvents (see
// emu.EventsPath and events.go); POST /_emulator/attempt simulates the
// person signing in and logs the user.session.start Okta would (see
// emu.AttemptPath and attempt.go).
//
// The emulator logs nothing; what it did is visible through
// /_emulator/requests and /_emulator/state (which carries no names or
// emails).
package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Token is the accepted API token, sent as "SSWS <token>". Default
	// "emulator-token".
	Token string
	// PageSize is the default page size of paged lists (users, a user's
	// groups and grants, and the System Log). Default 20, except the System
	// Log, which then defaults to 100 as Okta does.
	PageSize int
	// RateLimit is the number of requests per minute per bucket (users,
	// groups, logs, other). Default 600.
	RateLimit int
	// Now is the clock. Default time.Now.
	Now func() time.Time

	// HRToken, when set, is a second accepted API token ("SSWS <token>"):
	// the HR provisioning integration's. What is done with it is logged
	// (and delivered to the event hook) with the HR service app as actor
	// (HRActorID), where Token's calls have the API admin (AdminActorID).
	HRToken string
	// EventHookTimeout bounds the event hook verification GET and each
	// delivery attempt. Default DefaultEventHookTimeout (Okta's 3 s).
	EventHookTimeout time.Duration
	// EventHookRetryWait is the wait before the one retry of a failed
	// delivery. Default DefaultEventHookRetryWait.
	EventHookRetryWait time.Duration
	// EventHookClient sends the verification and the deliveries (e.g. one
	// that trusts an httptest TLS server). Redirects are never followed.
	// Default a plain http.Client.
	EventHookClient *http.Client
}

// DefaultToken is the API token a Server accepts when Options.Token is empty.
const DefaultToken = "emulator-token"

// Server is the Okta emulator. It implements http.Handler. SaveState and
// LoadState (from its emu.Store) save and restore the full state
// (users with profiles, groups, clients, System Log) as JSON.
type Server struct {
	opts    Options
	logPage int // default System Log page size
	// org is the seed, for DevScenario.
	org *seed.Org
	emu *emu.Emulator

	// Store holds the state; its lock also guards buckets.
	*emu.Store[state]
	buckets map[string]*bucket

	hooks hooks
}

type bucket struct {
	window time.Time
	used   int
}

// New returns an emulator seeded with the Okta part of org. A nil org gives
// an empty org.
func New(org *seed.Org, opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	logPage := opts.PageSize
	if opts.PageSize <= 0 {
		opts.PageSize, logPage = 20, 100
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 600
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventHookTimeout <= 0 {
		opts.EventHookTimeout = DefaultEventHookTimeout
	}
	if opts.EventHookRetryWait <= 0 {
		opts.EventHookRetryWait = DefaultEventHookRetryWait
	}
	if org == nil {
		org = &seed.Org{}
	}
	s := &Server{opts: opts, logPage: logPage, Store: emu.NewStore("okta", fromSeed(org), (*state).normalize), buckets: map[string]*bucket{}, org: org}
	s.emu = emu.New(http.HandlerFunc(s.serveAPI), func() any { return s.State() }, s.writeFault)
	s.emu.SetEvents(s.eventsEndpoint())
	s.emu.SetAttempts(s.attempt)
	return s
}

// ServeHTTP serves the Okta API and the /_emulator/ control endpoints: the
// shared ones, and the event hook's (EventHookPath).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == EventHookPath {
		s.serveEventHook(w, r)
		return
	}
	s.emu.ServeHTTP(w, r)
}

// Emulator returns the wrapper that injects faults and latency and keeps the
// request log.
func (s *Server) Emulator() *emu.Emulator { return s.emu }

// State is what GET /_emulator/state serves: per user the facts offboard
// changes, and how many System Log events exist. It holds no names or
// emails.
type State struct {
	Users      []UserState `json:"users"`
	EventCount int         `json:"eventCount"`
}

// UserState is one user's revocable state.
type UserState struct {
	ID             string   `json:"id"`
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	Status         string   `json:"status"`
	Roles          []string `json:"roles"`   // role types
	Groups         []string `json:"groups"`  // group IDs
	Factors        []string `json:"factors"` // factor types
	Sessions       int      `json:"sessions"`
	Grants         []string `json:"grants"` // client IDs, one per consent grant
	OAuthTokens    int      `json:"oauthTokens"`
}

func snapshot(u *user) UserState {
	us := UserState{
		ID:             u.ID,
		EmployeeNumber: u.Profile["employeeNumber"],
		Status:         u.Status,
		Roles:          []string{},
		Groups:         slices.Clone(u.Groups),
		Factors:        []string{},
		Sessions:       u.Sessions,
		Grants:         []string{},
		OAuthTokens:    u.tokenCount(),
	}
	if us.Groups == nil {
		us.Groups = []string{}
	}
	slices.Sort(us.Groups)
	for _, r := range u.Roles {
		us.Roles = append(us.Roles, r.Type)
	}
	for _, f := range u.Factors {
		us.Factors = append(us.Factors, f.Type)
	}
	for _, g := range u.Grants {
		us.Grants = append(us.Grants, g.ClientID)
	}
	return us
}

// State returns a snapshot of every user's state.
func (s *Server) State() State {
	s.Lock()
	defer s.Unlock()
	out := State{Users: make([]UserState, 0, len(s.St.Users)), EventCount: len(s.St.Events)}
	for _, u := range s.St.Users {
		out.Users = append(out.Users, snapshot(u))
	}
	return out
}

// User returns a snapshot of one user, by Okta user ID.
func (s *Server) User(id string) (UserState, bool) {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(id)
	if u == nil {
		return UserState{}, false
	}
	return snapshot(u), true
}

type requestIDKey struct{}

// principalKey carries the principal behind the request's API token.
type principalKey struct{}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"

func randomID(prefix string, n int) string {
	b := []byte(prefix)
	for range n {
		b = append(b, idAlphabet[rand.IntN(len(idAlphabet))])
	}
	return string(b)
}

// family names the rate-limit bucket a path counts against.
func family(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return "other"
	}
	head, _, _ := strings.Cut(rest, "/")
	switch head {
	case "users", "groups", "logs":
		return head
	}
	return "other"
}

// rate reads, and when consume is set uses, one request from the bucket of
// path. Buckets are fixed one-minute windows.
func (s *Server) rate(path string, now time.Time, consume bool) (limit, remaining int, reset time.Time, ok bool) {
	fam := family(path)
	win := now.UTC().Truncate(time.Minute)
	b := s.buckets[fam]
	if b == nil || !b.window.Equal(win) {
		b = &bucket{window: win}
		s.buckets[fam] = b
	}
	limit, reset = s.opts.RateLimit, win.Add(time.Minute)
	if consume {
		if b.used >= limit {
			return limit, 0, reset, false
		}
		b.used++
	}
	return limit, limit - b.used, reset, true
}

func setRateHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// stampHeaders sets what every Okta response carries. Date comes from the
// emulator's clock so that X-Rate-Limit-Reset minus Date is the real wait.
func stampHeaders(h http.Header, now time.Time, rid string) {
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", rid)
}

const (
	msgRateLimited  = "API call exceeded rate limit due to too many requests."
	msgInvalidToken = "Invalid token provided"
	msgForbidden    = "You do not have permission to perform the requested action"
	msgInternal     = "Internal Server Error"
	msgNoPath       = "The requested path was not found"
	msgBadMethod    = "The endpoint does not support the provided HTTP method"
)

// writeFault is the emu.ErrorWriter: an injected failure, written Okta's way.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	s.Lock()
	now := s.opts.Now()
	limit, remaining, reset, _ := s.rate(r.URL.Path, now, false)
	s.Unlock()
	h := w.Header()
	stampHeaders(h, now, randomID("", 27))
	if status == http.StatusTooManyRequests {
		remaining = 0
		if retryAfter > 0 {
			secs := int64((retryAfter + time.Second - 1) / time.Second)
			reset = time.Unix(now.Unix()+secs, 0)
		}
	}
	setRateHeaders(h, limit, remaining, reset)
	switch {
	case status == http.StatusTooManyRequests:
		writeError(w, status, "E0000047", msgRateLimited)
	case status >= 500:
		if retryAfter > 0 && status == http.StatusServiceUnavailable {
			h.Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
		}
		writeError(w, status, "E0000009", msgInternal)
	case status == http.StatusUnauthorized:
		writeError(w, status, "E0000011", msgInvalidToken)
	case status == http.StatusForbidden:
		writeError(w, status, "E0000006", msgForbidden)
	case status == http.StatusNotFound:
		writeError(w, status, "E0000007", notFoundSummary(r.URL.Path))
	case status == http.StatusMethodNotAllowed:
		writeError(w, status, "E0000022", msgBadMethod)
	default:
		writeError(w, status, "E0000001", "Api validation failed: request", "request: rejected by the emulator's fault injection")
	}
}

// notFoundSummary names the resource a path points at, the way Okta's
// E0000007 does.
func notFoundSummary(path string) string {
	seg := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")
	switch {
	case len(seg) >= 4 && seg[0] == "groups" && seg[2] == "users":
		return fmt.Sprintf("Not found: Resource not found: %s (UserGroup)", seg[1])
	case len(seg) >= 4 && seg[0] == "users" && seg[2] == "roles":
		return fmt.Sprintf("Not found: Resource not found: %s (Role)", seg[3])
	case len(seg) >= 2 && seg[0] == "users":
		return fmt.Sprintf("Not found: Resource not found: %s (User)", seg[1])
	case len(seg) >= 2 && seg[0] == "groups":
		return fmt.Sprintf("Not found: Resource not found: %s (UserGroup)", seg[1])
	}
	return fmt.Sprintf("Not found: Resource not found: %s (Resource)", path)
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

// writeError writes Okta's error body.
func writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	body := errorBody{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: randomID("oae", 22), ErrorCauses: []errorCause{}}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{c})
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func baseURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

func linkHeader(base string, v url.Values, rel string) string {
	u := base
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return "<" + u + `>; rel="` + rel + `"`
}

// parseLimit reads a limit parameter: empty gives def, above max gives max.
func parseLimit(s string, def, max int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, max), true
}

// serveAPI serves the Okta API: rate limit, authentication, then routing.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now()
	rid := randomID("", 27)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid))
	h := w.Header()
	stampHeaders(h, now, rid)
	limit, remaining, reset, ok := s.rate(r.URL.Path, now, true)
	setRateHeaders(h, limit, remaining, reset)
	if !ok {
		writeError(w, http.StatusTooManyRequests, "E0000047", msgRateLimited)
		return
	}
	var who principal
	switch auth := r.Header.Get("Authorization"); {
	case auth == "SSWS "+s.opts.Token:
		who = principalAdmin
	case s.opts.HRToken != "" && auth == "SSWS "+s.opts.HRToken:
		who = principalHR
	default:
		writeError(w, http.StatusUnauthorized, "E0000011", msgInvalidToken)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), principalKey{}, who))
	n := len(s.St.Events)
	s.route(w, r, now)
	s.queueHookEvents(r, s.St.Events[n:])
}

type handler func(w http.ResponseWriter, r *http.Request, now time.Time, seg []string)

// route dispatches on the path segments after /api/v1/.
func (s *Server) route(w http.ResponseWriter, r *http.Request, now time.Time) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		writeError(w, http.StatusNotFound, "E0000008", msgNoPath)
		return
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	methods := s.match(seg)
	if methods == nil {
		writeError(w, http.StatusNotFound, "E0000008", msgNoPath)
		return
	}
	hd, ok := methods[r.Method]
	if !ok {
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "E0000022", msgBadMethod)
		return
	}
	hd(w, r, now, seg)
}

func (s *Server) match(seg []string) map[string]handler {
	n := len(seg)
	switch {
	case n == 1 && seg[0] == "users":
		return map[string]handler{http.MethodGet: s.listUsers}
	case n == 2 && seg[0] == "users":
		return map[string]handler{http.MethodGet: s.getUser}
	case n == 4 && seg[0] == "users" && seg[2] == "lifecycle":
		switch seg[3] {
		case "suspend", "unsuspend", "deactivate", "reset_factors":
			return map[string]handler{http.MethodPost: s.lifecycle}
		case "activate", "reactivate":
			return map[string]handler{http.MethodPost: s.activation}
		}
	case n == 3 && seg[0] == "users":
		switch seg[2] {
		case "sessions":
			return map[string]handler{http.MethodDelete: s.clearSessions}
		case "grants":
			return map[string]handler{http.MethodGet: s.listGrants, http.MethodDelete: s.revokeGrants}
		case "clients":
			return map[string]handler{http.MethodGet: s.listClients}
		case "groups":
			return map[string]handler{http.MethodGet: s.listUserGroups}
		case "roles":
			return map[string]handler{http.MethodGet: s.listRoles}
		case "factors":
			return map[string]handler{http.MethodGet: s.listFactors}
		}
	case n == 4 && seg[0] == "users" && seg[2] == "roles":
		return map[string]handler{http.MethodDelete: s.removeRole}
	case n == 2 && seg[0] == "groups":
		return map[string]handler{http.MethodGet: s.getGroup}
	case n == 4 && seg[0] == "groups" && seg[2] == "users":
		return map[string]handler{http.MethodDelete: s.removeMember}
	case n == 1 && seg[0] == "logs":
		return map[string]handler{http.MethodGet: func(w http.ResponseWriter, r *http.Request, now time.Time, _ []string) { s.serveLogs(w, r, now) }}
	}
	return nil
}
