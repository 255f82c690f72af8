// Package github is a stateful stand-in for the parts of the GitHub REST
// API that offboard uses on an organization: memberships and members,
// outside collaborators, invitations, SAML SSO credential authorizations,
// fine-grained personal access tokens and their requests, users and the
// org audit log. It serves GitHub's real paths, bodies, status codes, error
// bodies, Link pagination (page numbers, and after/before cursors for the
// audit log) and x-ratelimit-* headers, with primary and secondary rate
// limits, so go-github works against it with only the base URL changed.
//
// The API is served both at the root (like api.github.com) and under
// /api/v3/ (like GitHub Enterprise Server), so either base URL works.
// Paths under /organizations/{org_id}/ are accepted too, as GitHub's own
// Link headers use them.
//
// POST /_emulator/events appends audit log history given as GitHub's own
// audit entries (see emu.EventsPath and events.go). Re-provisioning goes
// through the API as a vendor admin's would: PUT
// /orgs/{org}/memberships/{username} invites a removed member back, and
// the audit log records it (org.invite_member, user the invitee), found by
// the phrase user:<login>. GitHub's audit log records no failed sign-in or
// use of a revoked token, so the emulator serves no POST /_emulator/attempt.
//
// The emulator logs nothing; what it did is visible through
// /_emulator/requests and /_emulator/state (which carries logins and IDs,
// no names or emails).
package github

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Token is the accepted token, sent as "Bearer <token>" or
	// "token <token>". Default DefaultToken.
	Token string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// PageSize is the default per_page of lists. Default 30, as GitHub.
	PageSize int
	// RateLimit is the primary rate limit: requests per hour for the
	// token. The window starts with the first request and resets an hour
	// later. Default 5000. Unauthenticated requests get 60.
	RateLimit int
	// RateLimitStatus is the status of a primary rate-limit answer: 403
	// (default) or 429. GitHub uses both.
	RateLimitStatus int
	// SecondaryPoints is the secondary rate limit: points per minute,
	// where a GET costs 1 and a mutation 5. Default 900, as GitHub.
	SecondaryPoints int
	// SecondaryStatus is the status of a secondary rate-limit answer: 403
	// (default) or 429.
	SecondaryStatus int
	// SecondaryRetryAfter is the retry-after sent with a secondary limit.
	// Default 60s.
	SecondaryRetryAfter time.Duration
	// Actor is the login the token acts as; it is the actor of the audit
	// events mutations append. Default DefaultActor.
	Actor string
}

// DefaultToken is the token a Server accepts when Options.Token is empty.
const DefaultToken = "emulator-token"

// DefaultActor is the actor of mutations when Options.Actor is empty: a
// GitHub App installation.
const DefaultActor = "offboard-app[bot]"

// actorID is the user ID of the acting token's account.
const actorID = 4200001

const (
	apiVersion     = "2022-11-28"
	docsRoot       = "https://docs.github.com/rest"
	docsPrimary    = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
	docsSecondary  = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	anonymousLimit = 60
)

// Server is the GitHub emulator. It implements http.Handler and emu.Dev.
//
// Its Store holds the state (SaveState writes it all: orgs, users with
// their emails, memberships, invitations, credentials, audit log; LoadState
// checks what it reads) and its lock, which guards the rate-limit windows
// too. Rate-limit windows are not part of the saved state.
type Server struct {
	*emu.Store[state]
	opts Options
	emu  *emu.Emulator
	// orgs are the seed's organizations, for DevSection.
	orgs []string
	// org is the seed, for DevScenario.
	org *seed.Org

	primary   map[string]*window
	secondary *window
}

// window is a rate-limit window: when it started and what it used.
type window struct {
	start time.Time
	used  int
}

// New returns an emulator seeded with the GitHub part of org. A nil org
// gives no orgs and no users.
func New(org *seed.Org, opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 30
	}
	opts.PageSize = min(opts.PageSize, 100)
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.RateLimitStatus != http.StatusTooManyRequests {
		opts.RateLimitStatus = http.StatusForbidden
	}
	if opts.SecondaryPoints <= 0 {
		opts.SecondaryPoints = 900
	}
	if opts.SecondaryStatus != http.StatusTooManyRequests {
		opts.SecondaryStatus = http.StatusForbidden
	}
	if opts.SecondaryRetryAfter <= 0 {
		opts.SecondaryRetryAfter = time.Minute
	}
	if opts.Actor == "" {
		opts.Actor = DefaultActor
	}
	if org == nil {
		org = &seed.Org{}
	}
	s := &Server{
		Store:   emu.NewStore("github", fromSeed(org), (*state).normalize),
		opts:    opts,
		orgs:    slices.Clone(org.GitHub.Orgs),
		primary: map[string]*window{},
		org:     org,
	}
	s.emu = emu.New(http.HandlerFunc(s.serveAPI), func() any { return s.State() }, s.writeFault)
	s.emu.SetEvents(s.eventsEndpoint())
	return s
}

// ServeHTTP serves the GitHub API and the /_emulator/ control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.emu.ServeHTTP(w, r) }

// Emulator returns the wrapper that injects faults and latency and keeps the
// request log.
func (s *Server) Emulator() *emu.Emulator { return s.emu }

// State is what GET /_emulator/state serves: per org who is in it and which
// credentials they hold, and how many audit events exist. It carries logins
// and IDs, no names or emails.
type State struct {
	Orgs       []OrgState `json:"orgs"`
	EventCount int        `json:"eventCount"`
}

// OrgState is one organization's revocable state.
type OrgState struct {
	Login                    string            `json:"login"`
	ID                       int64             `json:"id"`
	Members                  []MemberState     `json:"members"`
	OutsideCollaborators     []string          `json:"outsideCollaborators"`
	Invitations              []InvitationState `json:"invitations"`
	CredentialAuthorizations []CredentialState `json:"credentialAuthorizations"`
	FineGrainedPATs          []TokenState      `json:"fineGrainedPats"`
	PATRequests              []TokenState      `json:"patRequests"`
	AuditEvents              int               `json:"auditEvents"`
}

// MemberState is an active membership; Role is admin or member.
type MemberState struct {
	Login string `json:"login"`
	Role  string `json:"role"`
}

// InvitationState is a pending invitation. Login is empty for one
// addressed to an email address.
type InvitationState struct {
	ID      int64  `json:"id"`
	Login   string `json:"login,omitempty"`
	ByEmail bool   `json:"byEmail"`
	Role    string `json:"role"`
}

// CredentialState is a SAML SSO credential authorization. Listed is false
// while GitHub does not list it (its owner is not a member).
type CredentialState struct {
	ID     int64  `json:"id"`
	Login  string `json:"login"`
	Type   string `json:"type"`
	Listed bool   `json:"listed"`
}

// TokenState is a fine-grained PAT's access to the org, or a request for
// it.
type TokenState struct {
	ID      int64  `json:"id"`
	Owner   string `json:"owner"`
	TokenID int64  `json:"tokenId"`
	Name    string `json:"name"`
}

// State returns a snapshot of every org's state.
func (s *Server) State() State {
	s.Lock()
	defer s.Unlock()
	st := s.St
	out := State{Orgs: []OrgState{}, EventCount: len(st.Events)}
	for _, o := range st.Orgs {
		os := OrgState{Login: o.Login, ID: o.ID, Members: []MemberState{}, OutsideCollaborators: []string{}, Invitations: []InvitationState{},
			CredentialAuthorizations: []CredentialState{}, FineGrainedPATs: []TokenState{}, PATRequests: []TokenState{}}
		for _, m := range st.Members {
			if m.Org == o.Login {
				os.Members = append(os.Members, MemberState{m.Login, m.Role})
			}
		}
		for _, c := range st.Collaborators {
			if c.Org == o.Login {
				os.OutsideCollaborators = append(os.OutsideCollaborators, c.Login)
			}
		}
		for _, inv := range st.Invitations {
			if inv.Org == o.Login {
				os.Invitations = append(os.Invitations, InvitationState{ID: inv.ID, Login: inv.Login, ByEmail: inv.Login == "", Role: inv.Role})
			}
		}
		for _, c := range st.Credentials {
			if c.Org == o.Login {
				os.CredentialAuthorizations = append(os.CredentialAuthorizations, CredentialState{c.ID, c.Login, c.Type, st.credentialListed(c)})
			}
		}
		for _, p := range st.PATs {
			if p.Org == o.Login {
				os.FineGrainedPATs = append(os.FineGrainedPATs, TokenState{p.ID, p.Owner, p.TokenID, p.Name})
			}
		}
		for _, p := range st.PATRequests {
			if p.Org == o.Login {
				os.PATRequests = append(os.PATRequests, TokenState{p.ID, p.Owner, p.TokenID, p.Name})
			}
		}
		for _, e := range st.Events {
			if e.Org == o.Login {
				os.AuditEvents++
			}
		}
		out.Orgs = append(out.Orgs, os)
	}
	return out
}

// UserState is one user's standing in every org of the emulator.
type UserState struct {
	Login string         `json:"login"`
	ID    int64          `json:"id"`
	Orgs  []UserOrgState `json:"orgs"`
}

// UserOrgState is a user's standing in one org.
type UserOrgState struct {
	Org string `json:"org"`
	// Role is admin, member, outside_collaborator, or "" for neither.
	Role string `json:"role"`
	// Invitations are the IDs of pending invitations addressed to the
	// user's login or email.
	Invitations []int64 `json:"invitations"`
	// CredentialAuthorizations are credential IDs, listed by GitHub or not.
	CredentialAuthorizations []int64 `json:"credentialAuthorizations"`
	FineGrainedPATs          []int64 `json:"fineGrainedPats"`
	PATRequests              []int64 `json:"patRequests"`
}

// Org returns the user's standing in org, or a zero value.
func (u UserState) Org(name string) UserOrgState {
	for _, o := range u.Orgs {
		if strings.EqualFold(o.Org, name) {
			return o
		}
	}
	return UserOrgState{Org: name}
}

// User returns a snapshot of one user's standing, by login.
func (s *Server) User(login string) (UserState, bool) {
	s.Lock()
	defer s.Unlock()
	st := s.St
	u := st.user(login)
	if u == nil {
		return UserState{}, false
	}
	out := UserState{Login: u.Login, ID: u.ID}
	for _, o := range st.Orgs {
		us := UserOrgState{Org: o.Login, Invitations: []int64{}, CredentialAuthorizations: []int64{}, FineGrainedPATs: []int64{}, PATRequests: []int64{}}
		if m := st.member(o.Login, u.Login); m != nil {
			us.Role = m.Role
		} else if st.collaborator(o.Login, u.Login) != nil {
			us.Role = "outside_collaborator"
		}
		for _, inv := range st.Invitations {
			if inv.Org == o.Login && (strings.EqualFold(inv.Login, u.Login) || (inv.Email != "" && strings.EqualFold(inv.Email, u.Email))) {
				us.Invitations = append(us.Invitations, inv.ID)
			}
		}
		for _, c := range st.Credentials {
			if c.Org == o.Login && strings.EqualFold(c.Login, u.Login) {
				us.CredentialAuthorizations = append(us.CredentialAuthorizations, c.ID)
			}
		}
		for _, p := range st.PATs {
			if p.Org == o.Login && strings.EqualFold(p.Owner, u.Login) {
				us.FineGrainedPATs = append(us.FineGrainedPATs, p.ID)
			}
		}
		for _, p := range st.PATRequests {
			if p.Org == o.Login && strings.EqualFold(p.Owner, u.Login) {
				us.PATRequests = append(us.PATRequests, p.ID)
			}
		}
		out.Orgs = append(out.Orgs, us)
	}
	return out, true
}

// requestID makes a GitHub-style x-github-request-id.
func requestID() string {
	return fmt.Sprintf("%04X:%04X:%06X:%07X:%08X", rand.IntN(1<<16), rand.IntN(1<<16), rand.IntN(1<<24), rand.IntN(1<<28), rand.Uint32())
}

// errorBody is GitHub's error body.
type errorBody struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes GitHub's error body.
func writeError(w http.ResponseWriter, status int, msg, doc string, errs ...fieldError) {
	if doc == "" {
		doc = docsRoot
	}
	writeJSON(w, status, errorBody{Message: msg, Errors: errs, DocumentationURL: doc, Status: strconv.Itoa(status)})
}

func notFound(w http.ResponseWriter, doc string) {
	writeError(w, http.StatusNotFound, "Not Found", doc)
}

// stampHeaders sets what every GitHub response carries. Date comes from
// the emulator's clock, so x-ratelimit-reset minus Date is the real wait.
func stampHeaders(h http.Header, now time.Time, rid string) {
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-GitHub-Request-Id", rid)
	h.Set("X-GitHub-Api-Version-Selected", apiVersion)
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
}

// rate reads, and when consume is set uses, one request from the primary
// bucket key. A window starts with its first request and lasts an hour.
func (s *Server) rate(key string, limit int, now time.Time, consume bool) (used int, reset time.Time, ok bool) {
	win := s.primary[key]
	if win == nil || !now.Before(win.start.Add(time.Hour)) {
		win = &window{start: now}
		s.primary[key] = win
	}
	reset = win.start.Add(time.Hour)
	if win.used >= limit {
		return win.used, reset, false
	}
	if consume {
		win.used++
	}
	return win.used, reset, true
}

func setRateHeaders(h http.Header, limit, used int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// points charges a request against the secondary limit; false means it is
// over. Windows are one minute long, starting with their first request.
func (s *Server) points(method string, now time.Time) bool {
	cost := 5
	if method == http.MethodGet || method == http.MethodHead {
		cost = 1
	}
	if s.secondary == nil || !now.Before(s.secondary.start.Add(time.Minute)) {
		s.secondary = &window{start: now}
	}
	if s.secondary.used+cost > s.opts.SecondaryPoints {
		return false
	}
	s.secondary.used += cost
	return true
}

func secondaryMessage(rid string) string {
	return "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + rid + "."
}

func primaryMessage(authed bool, r *http.Request) string {
	if authed {
		return fmt.Sprintf("API rate limit exceeded for installation ID %d.", actorID)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "API rate limit exceeded for " + host + ". (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
}

// writeFault is the emu.ErrorWriter: an injected failure, written GitHub's
// way. A 403 or 429 with a RetryAfter is a secondary rate limit (with
// retry-after); a 429 without one is a primary rate limit (remaining 0,
// the wait in x-ratelimit-reset); a 403 without one is a permission error.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	s.Lock()
	now := s.opts.Now()
	used, reset, _ := s.rate("token", s.opts.RateLimit, now, false)
	s.Unlock()
	rid := requestID()
	h := w.Header()
	stampHeaders(h, now, rid)
	limit := s.opts.RateLimit
	switch {
	case (status == http.StatusForbidden || status == http.StatusTooManyRequests) && retryAfter > 0:
		setRateHeaders(h, limit, used, reset)
		h.Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
		writeError(w, status, secondaryMessage(rid), docsSecondary)
	case status == http.StatusTooManyRequests:
		setRateHeaders(h, limit, limit, reset)
		writeError(w, status, primaryMessage(true, r), docsPrimary)
	case status == http.StatusForbidden:
		setRateHeaders(h, limit, used, reset)
		writeError(w, status, "Resource not accessible by integration", docsRoot)
	case status == http.StatusUnauthorized:
		setRateHeaders(h, anonymousLimit, 1, now.Add(time.Hour))
		writeError(w, status, "Bad credentials", docsRoot)
	case status == http.StatusNotFound:
		setRateHeaders(h, limit, used, reset)
		notFound(w, docsRoot)
	case status == http.StatusUnprocessableEntity:
		setRateHeaders(h, limit, used, reset)
		writeError(w, status, "Validation Failed", docsRoot)
	case status >= 500:
		setRateHeaders(h, limit, used, reset)
		if retryAfter > 0 {
			h.Set("Retry-After", emu.RetryAfterSeconds(retryAfter))
		}
		msg := http.StatusText(status)
		if status == http.StatusInternalServerError {
			msg = "Server Error"
		}
		writeError(w, status, msg, docsRoot)
	default:
		setRateHeaders(h, limit, used, reset)
		writeError(w, status, http.StatusText(status), docsRoot)
	}
}

// call is what a handler needs about the request being served.
type call struct {
	now  time.Time
	base string // scheme://host plus the /api/v3 prefix when used
	org  *org
	seg  []string
	rid  string
	// per is the default page size.
	per int
}

// serveAPI serves the GitHub API: authentication, rate limits, routing.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now()
	rid := requestID()
	h := w.Header()
	stampHeaders(h, now, rid)

	path := r.URL.Path
	prefix := ""
	if rest, ok := strings.CutPrefix(path, "/api/v3"); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		prefix, path = "/api/v3", rest
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	c := &call{now: now, base: scheme + "://" + r.Host + prefix, rid: rid, per: s.opts.PageSize}

	authed, badToken := false, false
	if a := r.Header.Get("Authorization"); a != "" {
		kind, tok, _ := strings.Cut(a, " ")
		if (strings.EqualFold(kind, "bearer") || strings.EqualFold(kind, "token")) && tok == s.opts.Token {
			authed = true
		} else {
			badToken = true
		}
	}
	key, limit := "anonymous", anonymousLimit
	if authed {
		key, limit = "token", s.opts.RateLimit
	}
	if path == "/rate_limit" && r.Method == http.MethodGet && !badToken {
		used, reset, _ := s.rate(key, limit, now, false)
		setRateHeaders(h, limit, used, reset)
		core := map[string]any{"limit": limit, "remaining": max(limit-used, 0), "used": used, "reset": reset.Unix(), "resource": "core"}
		writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
		return
	}
	used, reset, ok := s.rate(key, limit, now, true)
	setRateHeaders(h, limit, used, reset)
	switch {
	case badToken:
		writeError(w, http.StatusUnauthorized, "Bad credentials", docsRoot)
		return
	case !ok:
		writeError(w, s.opts.RateLimitStatus, primaryMessage(authed, r), docsPrimary)
		return
	case !s.points(r.Method, now):
		h.Set("Retry-After", emu.RetryAfterSeconds(s.opts.SecondaryRetryAfter))
		writeError(w, s.opts.SecondaryStatus, secondaryMessage(rid), docsSecondary)
		return
	}
	s.route(w, r, c, path, authed)
}

// handler serves one route.
type handler func(w http.ResponseWriter, r *http.Request, c *call)

// route dispatches on the path. GitHub answers 404 for unknown paths and
// for methods a path does not support.
func (s *Server) route(w http.ResponseWriter, r *http.Request, c *call, path string, authed bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	// GitHub's Link headers point at /organizations/{id}/...; serve them.
	if len(seg) >= 2 && seg[0] == "organizations" {
		id, err := strconv.ParseInt(seg[1], 10, 64)
		if o := s.St.orgByID(id); err == nil && o != nil {
			seg[0], seg[1] = "orgs", o.Login
		}
	}
	c.seg = seg
	if len(seg) == 2 && seg[0] == "users" && r.Method == http.MethodGet {
		s.getUser(w, r, c)
		return
	}
	if len(seg) < 2 || seg[0] != "orgs" {
		notFound(w, docsRoot)
		return
	}
	hd, doc := s.match(r.Method, seg)
	if !authed {
		writeError(w, http.StatusUnauthorized, "Requires authentication", doc)
		return
	}
	c.org = s.St.org(seg[1])
	if hd == nil || c.org == nil {
		notFound(w, doc)
		return
	}
	hd(w, r, c)
}

const (
	docMembership    = "https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user"
	docSetMship      = "https://docs.github.com/rest/orgs/members#set-organization-membership-for-a-user"
	docRemoveMship   = "https://docs.github.com/rest/orgs/members#remove-organization-membership-for-a-user"
	docMembers       = "https://docs.github.com/rest/orgs/members#list-organization-members"
	docRemoveMember  = "https://docs.github.com/rest/orgs/members#remove-an-organization-member"
	docOutside       = "https://docs.github.com/rest/orgs/outside-collaborators#list-outside-collaborators-for-an-organization"
	docRemoveOutside = "https://docs.github.com/rest/orgs/outside-collaborators#remove-outside-collaborator-from-an-organization"
	docInvitations   = "https://docs.github.com/rest/orgs/members#list-pending-organization-invitations"
	docCancelInvite  = "https://docs.github.com/rest/orgs/members#cancel-an-organization-invitation"
	docCredentials   = "https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization"
	docRemoveCred    = "https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization"
	docPATs          = "https://docs.github.com/rest/orgs/personal-access-tokens#list-fine-grained-personal-access-tokens-with-access-to-organization-resources"
	docUpdatePATs    = "https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens"
	docUpdatePAT     = "https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-a-fine-grained-personal-access-token-has-to-organization-resources"
	docPATRequests   = "https://docs.github.com/rest/orgs/personal-access-tokens#list-requests-to-access-organization-resources-with-fine-grained-personal-access-tokens"
	docReviewReqs    = "https://docs.github.com/rest/orgs/personal-access-tokens#review-requests-to-access-organization-resources-with-fine-grained-personal-access-tokens"
	docReviewReq     = "https://docs.github.com/rest/orgs/personal-access-tokens#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token"
	docOrg           = "https://docs.github.com/rest/orgs/orgs#get-an-organization"
	docUser          = "https://docs.github.com/rest/users/users#get-a-user"
)

// match finds the handler for an /orgs/{org}/... path, and the
// documentation URL its errors carry.
func (s *Server) match(method string, seg []string) (handler, string) {
	n := len(seg)
	pick := func(doc string, hs map[string]handler) (handler, string) { return hs[method], doc }
	if n == 2 {
		return pick(docOrg, map[string]handler{http.MethodGet: s.getOrg})
	}
	switch seg[2] {
	case "members":
		if n == 3 {
			return pick(docMembers, map[string]handler{http.MethodGet: s.listMembers})
		}
		if n == 4 {
			return pick(docRemoveMember, map[string]handler{http.MethodGet: s.checkMember, http.MethodDelete: s.removeMember})
		}
	case "memberships":
		if n == 4 {
			return pick(docMembership, map[string]handler{http.MethodGet: s.getMembership, http.MethodPut: s.setMembership, http.MethodDelete: s.removeMembership})
		}
	case "outside_collaborators":
		if n == 3 {
			return pick(docOutside, map[string]handler{http.MethodGet: s.listOutside})
		}
		if n == 4 {
			return pick(docRemoveOutside, map[string]handler{http.MethodDelete: s.removeOutside})
		}
	case "invitations":
		if n == 3 {
			return pick(docInvitations, map[string]handler{http.MethodGet: s.listInvitations})
		}
		if n == 4 {
			return pick(docCancelInvite, map[string]handler{http.MethodDelete: s.cancelInvitation})
		}
	case "credential-authorizations":
		if n == 3 {
			return pick(docCredentials, map[string]handler{http.MethodGet: s.listCredentials})
		}
		if n == 4 {
			return pick(docRemoveCred, map[string]handler{http.MethodDelete: s.removeCredential})
		}
	case "personal-access-tokens":
		if n == 3 {
			return pick(docPATs, map[string]handler{http.MethodGet: s.listPATs, http.MethodPost: s.updatePATs})
		}
		if n == 4 {
			return pick(docUpdatePAT, map[string]handler{http.MethodPost: s.updatePAT})
		}
	case "personal-access-token-requests":
		if n == 3 {
			return pick(docPATRequests, map[string]handler{http.MethodGet: s.listPATRequests, http.MethodPost: s.reviewPATRequests})
		}
		if n == 4 {
			return pick(docReviewReq, map[string]handler{http.MethodPost: s.reviewPATRequest})
		}
	case "audit-log":
		if n == 3 {
			return pick("https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization",
				map[string]handler{http.MethodGet: s.serveAuditLog})
		}
	}
	return nil, docsRoot
}

// perPage reads per_page: empty or invalid gives def, above 100 gives 100.
func perPage(v string, def int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return def
	}
	return min(n, 100)
}

// paginate serves one page of items by page and per_page, setting the Link
// header GitHub sends (next, last, prev, first).
func paginate[T any](w http.ResponseWriter, r *http.Request, c *call, items []T) []T {
	q := r.URL.Query()
	per := perPage(q.Get("per_page"), c.per)
	pg, err := strconv.Atoi(q.Get("page"))
	if err != nil || pg < 1 {
		pg = 1
	}
	last := max((len(items)+per-1)/per, 1)
	base := c.base + fmt.Sprintf("/organizations/%d/%s", c.org.ID, strings.Join(c.seg[2:], "/"))
	link := func(p int, rel string) string {
		v := q
		v.Set("page", strconv.Itoa(p))
		return "<" + base + "?" + v.Encode() + `>; rel="` + rel + `"`
	}
	var links []string
	if pg > 1 {
		links = append(links, link(min(pg-1, last), "prev"))
	}
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (pg - 1) * per
	if start >= len(items) {
		return items[:0]
	}
	return items[start:min(start+per, len(items))]
}

// nodeID makes a legacy GraphQL node ID, like MDQ6VXNlcjE= for user 1.
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(kind), kind, id))
}
