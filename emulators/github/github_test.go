package github_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/emulators/emu"
	ghemu "github.com/offboard/offboard/emulators/github"
	"github.com/offboard/offboard/emulators/seed"
)

// Logins of the demo people this file uses.
const (
	ada      = "alovelace" // E1001: member of acme (2 credentials, a PAT, a request) and acme-labs
	linus    = "ltorvalds" // E1004: outside collaborator of acme
	margaret = "mhamilton" // E1005: admin of both orgs, 2 credentials in acme
	barbara  = "bliskov"   // E1007: invited to acme by email
	edsger   = "edijkstra" // E1010: 2 PATs and a request in acme, 12 git events
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

func start(t *testing.T, org *seed.Org, opts ghemu.Options) (*ghemu.Server, *httptest.Server) {
	t.Helper()
	if org == nil {
		org = demo(t)
	}
	s := ghemu.New(org, opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// sdk is the real go-github client pointed at the emulator.
func sdk(t *testing.T, ts *httptest.Server, token string) *gh.Client {
	t.Helper()
	if token == "" {
		token = ghemu.DefaultToken
	}
	c := gh.NewClient(ts.Client()).WithAuthToken(token)
	u, err := url.Parse(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func call(t *testing.T, ts *httptest.Server, method, path, auth string, body any) reply {
	t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = ts.URL + path
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

const bearer = "Bearer " + ghemu.DefaultToken

type ghError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status"`
	Errors           []struct {
		Resource, Field, Code string
	} `json:"errors"`
}

// wantError checks GitHub's error body: status, message, documentation
// URL, and the rate-limit headers every answer carries.
func wantError(t *testing.T, r reply, status int, message string) ghError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var e ghError
	r.json(t, &e)
	if e.Message != message {
		t.Errorf("message %q, want %q", e.Message, message)
	}
	if !strings.HasPrefix(e.DocumentationURL, "https://docs.github.com/") {
		t.Errorf("documentation_url %q", e.DocumentationURL)
	}
	if e.Status != strconv.Itoa(status) {
		t.Errorf("status field %q, want %q", e.Status, strconv.Itoa(status))
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource", "X-GitHub-Request-Id"} {
		if r.header.Get(h) == "" {
			t.Errorf("%d answer lacks %s", status, h)
		}
	}
	return e
}

// auditActions lists the actions in an org's audit log (all events,
// oldest first) through the SDK, following the cursors.
func auditActions(t *testing.T, c *gh.Client, org, phrase string) []string {
	t.Helper()
	var out []string
	for _, e := range auditEntries(t, c, org, phrase, "all", "asc", 100) {
		out = append(out, e.GetAction())
	}
	return out
}

func auditEntries(t *testing.T, c *gh.Client, org, phrase, include, order string, per int) []*gh.AuditEntry {
	t.Helper()
	opts := &gh.GetAuditLogOptions{Phrase: gh.String(phrase), Include: gh.String(include), Order: gh.String(order), ListCursorOptions: gh.ListCursorOptions{PerPage: per}}
	var out []*gh.AuditEntry
	for range 100 {
		es, resp, err := c.Organizations.GetAuditLog(t.Context(), org, opts)
		if err != nil {
			t.Fatalf("audit log: %v", err)
		}
		out = append(out, es...)
		if resp.After == "" {
			return out
		}
		opts.After = resp.After
	}
	t.Fatal("audit log pagination did not end")
	return nil
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{Token: "s3cret"})
	cases := map[string]struct {
		auth    string
		status  int
		message string
	}{
		"bearer":      {"Bearer s3cret", 200, ""},
		"token":       {"token s3cret", 200, ""},
		"wrong token": {"Bearer nope", 401, "Bad credentials"},
		"no scheme":   {"s3cret", 401, "Bad credentials"},
		"missing":     {"", 401, "Requires authentication"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, ts, "GET", "/orgs/acme/members", c.auth, nil)
			if c.status == 200 {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, c.status, c.message)
		})
	}
	// The SDK sees a plain ErrorResponse for a 401.
	_, _, err := sdk(t, ts, "nope").Organizations.ListMembers(t.Context(), "acme", nil)
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 401 || er.Message != "Bad credentials" {
		t.Fatalf("SDK error %v", err)
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	cases := map[string]struct {
		method, path string
		body         any
		status       int
		message      string
	}{
		"unknown org":            {"GET", "/orgs/nope/members", nil, 404, "Not Found"},
		"unknown route":          {"GET", "/orgs/acme/widgets", nil, 404, "Not Found"},
		"unsupported method":     {"PUT", "/orgs/acme/invitations", nil, 404, "Not Found"},
		"unknown user":           {"GET", "/users/nobody-here", nil, 404, "Not Found"},
		"not a member":           {"GET", "/orgs/acme/memberships/" + linus, nil, 404, "Not Found"},
		"remove non-member":      {"DELETE", "/orgs/acme-labs/memberships/" + linus, nil, 404, "Not Found"},
		"unknown invitation":     {"DELETE", "/orgs/acme/invitations/1", nil, 404, "Not Found"},
		"unknown credential":     {"DELETE", "/orgs/acme/credential-authorizations/1", nil, 404, "Not Found"},
		"member as outside":      {"DELETE", "/orgs/acme/outside_collaborators/" + ada, nil, 422, "You cannot specify an organization member to remove as an outside collaborator."},
		"bad json":               {"POST", "/orgs/acme/personal-access-tokens", "{", 400, "Problems parsing JSON"},
		"bad pat action":         {"POST", "/orgs/acme/personal-access-tokens", map[string]any{"action": "grant", "pat_ids": []int{1}}, 422, "Validation Failed"},
		"no pat ids":             {"POST", "/orgs/acme/personal-access-tokens", map[string]any{"action": "revoke", "pat_ids": []int{}}, 422, "Validation Failed"},
		"unknown pat":            {"POST", "/orgs/acme/personal-access-tokens/1", map[string]any{"action": "revoke"}, 404, "Not Found"},
		"bad review action":      {"POST", "/orgs/acme/personal-access-token-requests/1", map[string]any{"action": "ignore"}, 422, "Validation Failed"},
		"unknown request":        {"POST", "/orgs/acme/personal-access-token-requests/1", map[string]any{"action": "deny"}, 404, "Not Found"},
		"too many owners":        {"GET", "/orgs/acme/personal-access-tokens?" + strings.Repeat("owner[]=a&", 11), nil, 422, "Validation Failed"},
		"bad audit include":      {"GET", "/orgs/acme/audit-log?include=everything", nil, 422, `Invalid value for include: "everything" (want web, git or all)`},
		"bad audit created date": {"GET", "/orgs/acme/audit-log?phrase=created:>=yesterday", nil, 422, `Invalid search phrase: invalid date "yesterday"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantError(t, call(t, ts, c.method, c.path, bearer, c.body), c.status, c.message)
		})
	}
}

func TestReadsThroughSDK(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	ctx := t.Context()

	u, _, err := c.Users.Get(ctx, ada)
	if err != nil || u.GetID() != 5000 || u.GetLogin() != ada || u.GetType() != "User" || u.Email != nil || u.Name != nil {
		t.Fatalf("get user: %+v %v", u, err)
	}
	if u.GetNodeID() != "MDQ6VXNlcjUwMDA=" { // base64("04:User5000")
		t.Errorf("node_id %q", u.GetNodeID())
	}

	memberships := map[string]struct{ org, state, role string }{
		ada:      {"acme", "active", "member"},
		margaret: {"acme-labs", "active", "admin"},
	}
	for login, want := range memberships {
		m, _, err := c.Organizations.GetOrgMembership(ctx, login, want.org)
		if err != nil {
			t.Fatalf("membership %s: %v", login, err)
		}
		if m.GetState() != want.state || m.GetRole() != want.role || m.GetUser().GetLogin() != login || m.GetOrganization().GetLogin() != want.org {
			t.Errorf("membership %s: %s %s %s %s", login, m.GetState(), m.GetRole(), m.GetUser().GetLogin(), m.GetOrganization().GetLogin())
		}
	}
	for _, login := range []string{barbara, linus} {
		_, resp, err := c.Organizations.GetOrgMembership(ctx, login, "acme")
		if err == nil || resp.StatusCode != 404 {
			t.Errorf("membership of %s: %v, want 404", login, err)
		}
	}

	outs, _, err := c.Organizations.ListOutsideCollaborators(ctx, "acme", nil)
	if err != nil || len(outs) != 1 || outs[0].GetLogin() != linus {
		t.Fatalf("outside collaborators %v %v", outs, err)
	}

	invs, _, err := c.Organizations.ListPendingOrgInvitations(ctx, "acme", nil)
	if err != nil || len(invs) != 1 {
		t.Fatalf("invitations %v %v", invs, err)
	}
	if invs[0].Login != nil || invs[0].GetEmail() != "barbara.liskov@example.com" || invs[0].GetRole() != "direct_member" || invs[0].GetInviter().GetLogin() != ghemu.DefaultActor {
		t.Errorf("invitation %+v", invs[0])
	}

	creds, _, err := c.Organizations.ListCredentialAuthorizations(ctx, "acme", &gh.ListOptions{PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, cr := range creds {
		switch cr.GetCredentialType() {
		case "personal access token":
			if len(cr.GetTokenLastEight()) != 8 || cr.Fingerprint != nil {
				t.Errorf("PAT credential %+v", cr)
			}
		case "SSH key":
			if !strings.HasPrefix(cr.GetFingerprint(), "SHA256:") || cr.TokenLastEight != nil {
				t.Errorf("SSH credential %+v", cr)
			}
		default:
			t.Errorf("credential type %q", cr.GetCredentialType())
		}
		got[cr.GetLogin()] = append(got[cr.GetLogin()], cr.GetCredentialType())
	}
	want := map[string][]string{ada: {"personal access token", "SSH key"}, margaret: {"personal access token", "SSH key"}, edsger: {"personal access token"}}
	if len(got) != len(want) {
		t.Errorf("credentials by login %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("credentials of %s: %v, want %v", k, got[k], v)
		}
	}

	members, _, err := c.Organizations.ListMembers(ctx, "acme", &gh.ListMembersOptions{Role: "admin"})
	if err != nil || len(members) != 1 || members[0].GetLogin() != margaret {
		t.Fatalf("admins %v %v", members, err)
	}
}

func TestPageNumberPagination(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	var logins []string
	opts := &gh.ListMembersOptions{ListOptions: gh.ListOptions{PerPage: 2}}
	pages := 0
	for {
		users, resp, err := c.Organizations.ListMembers(t.Context(), "acme", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(users) > 2 {
			t.Fatalf("page of %d", len(users))
		}
		for _, u := range users {
			logins = append(logins, u.GetLogin())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var want []string
	for _, o := range s.State().Orgs {
		if o.Login == "acme" {
			for _, m := range o.Members {
				want = append(want, m.Login)
			}
		}
	}
	slices.Sort(want)
	slices.Sort(logins)
	if !slices.Equal(logins, want) || pages != (len(want)+1)/2 {
		t.Fatalf("paged members %v in %d pages, want %v", logins, pages, want)
	}

	// The Link header, as GitHub writes it.
	r := call(t, ts, "GET", "/orgs/acme/credential-authorizations?per_page=2&page=2", bearer, nil)
	link := r.header.Get("Link")
	for _, rel := range []string{"prev", "next", "last", "first"} {
		if !strings.Contains(link, `rel="`+rel+`"`) {
			t.Errorf("Link lacks %s: %s", rel, link)
		}
	}
	if !regexp.MustCompile(`<http://[^>]+/organizations/91000001/credential-authorizations\?page=3&per_page=2>; rel="next"`).MatchString(link) {
		t.Errorf("next link %s", link)
	}
	// ...and the /organizations/{id}/ URL it names works.
	next := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(link)[1]
	var page3 []map[string]any
	r3 := call(t, ts, "GET", next, bearer, nil)
	r3.json(t, &page3)
	if r3.status != 200 || len(page3) != 1 {
		t.Errorf("page 3: %d %s", r3.status, r3.body)
	}
	last := call(t, ts, "GET", "/orgs/acme/credential-authorizations?per_page=2&page=3", bearer, nil)
	if strings.Contains(last.header.Get("Link"), `rel="next"`) {
		t.Errorf("last page has a next link: %s", last.header.Get("Link"))
	}
}

func TestMutationsChangeStateAndAudit(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, s *ghemu.Server)
	role := func(login, org, want string) check {
		return func(t *testing.T, s *ghemu.Server) {
			u, _ := s.User(login)
			if got := u.Org(org).Role; got != want {
				t.Errorf("%s in %s: role %q, want %q", login, org, got, want)
			}
		}
	}
	count := func(login, org, what string, want int) check {
		return func(t *testing.T, s *ghemu.Server) {
			u, _ := s.User(login)
			o := u.Org(org)
			got := map[string]int{"invitations": len(o.Invitations), "credentials": len(o.CredentialAuthorizations), "pats": len(o.FineGrainedPATs), "requests": len(o.PATRequests)}[what]
			if got != want {
				t.Errorf("%s in %s: %d %s, want %d", login, org, got, what, want)
			}
		}
	}
	cases := map[string]struct {
		do     func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error)
		status int
		org    string // where the audit events go; default acme
		events int    // how many are appended; default 1
		action string // audit action appended, with the affected user
		user   string
		check  check
	}{
		"remove membership": {
			do: func(t *testing.T, c *gh.Client, _ *ghemu.Server) (*gh.Response, error) {
				return c.Organizations.RemoveOrgMembership(t.Context(), ada, "acme")
			},
			status: 204, action: "org.remove_member", user: ada, check: role(ada, "acme", ""),
		},
		"remove member": {
			do: func(t *testing.T, c *gh.Client, _ *ghemu.Server) (*gh.Response, error) {
				return c.Organizations.RemoveMember(t.Context(), "acme-labs", margaret)
			},
			status: 204, org: "acme-labs", action: "org.remove_member", user: margaret, check: role(margaret, "acme-labs", ""),
		},
		"remove outside collaborator": {
			do: func(t *testing.T, c *gh.Client, _ *ghemu.Server) (*gh.Response, error) {
				return c.Organizations.RemoveOutsideCollaborator(t.Context(), "acme", linus)
			},
			status: 204, action: "org.remove_outside_collaborator", user: linus, check: role(linus, "acme", ""),
		},
		"cancel invitation": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(barbara)
				req, _ := c.NewRequest("DELETE", "orgs/acme/invitations/"+strconv.FormatInt(u.Org("acme").Invitations[0], 10), nil)
				return c.Do(t.Context(), req, nil)
			},
			status: 204, action: "org.cancel_invitation", check: count(barbara, "acme", "invitations", 0),
		},
		"revoke credential authorization": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(ada)
				return c.Organizations.RemoveCredentialAuthorization(t.Context(), "acme", u.Org("acme").CredentialAuthorizations[0])
			},
			status: 204, action: "org_credential_authorization.revoke", user: ada, check: count(ada, "acme", "credentials", 1),
		},
		"revoke PATs in bulk": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(edsger)
				req, _ := c.NewRequest("POST", "orgs/acme/personal-access-tokens", map[string]any{"action": "revoke", "pat_ids": u.Org("acme").FineGrainedPATs})
				resp, err := c.Do(t.Context(), req, nil)
				var acc *gh.AcceptedError
				if !errors.As(err, &acc) {
					t.Errorf("bulk revoke: %v, want the SDK's AcceptedError for a 202", err)
				}
				return resp, nil
			},
			status: 202, events: 2, action: "personal_access_token.access_revoked", user: edsger, check: count(edsger, "acme", "pats", 0),
		},
		"revoke one PAT": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(edsger)
				req, _ := c.NewRequest("POST", "orgs/acme/personal-access-tokens/"+strconv.FormatInt(u.Org("acme").FineGrainedPATs[1], 10), map[string]any{"action": "revoke"})
				return c.Do(t.Context(), req, nil)
			},
			status: 204, action: "personal_access_token.access_revoked", user: edsger, check: count(edsger, "acme", "pats", 1),
		},
		"deny PAT request": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(edsger)
				return c.Organizations.ReviewPersonalAccessTokenRequest(t.Context(), "acme", u.Org("acme").PATRequests[0], gh.ReviewPersonalAccessTokenRequestOptions{Action: "deny"})
			},
			status: 204, action: "personal_access_token.request_denied", user: edsger, check: count(edsger, "acme", "requests", 0),
		},
		"approve PAT request": {
			do: func(t *testing.T, c *gh.Client, s *ghemu.Server) (*gh.Response, error) {
				u, _ := s.User(ada)
				req, _ := c.NewRequest("POST", "orgs/acme/personal-access-token-requests", map[string]any{"action": "approve", "pat_request_ids": u.Org("acme").PATRequests})
				resp, err := c.Do(t.Context(), req, nil)
				var acc *gh.AcceptedError
				if !errors.As(err, &acc) {
					t.Errorf("bulk review: %v", err)
				}
				return resp, nil
			},
			status: 202, action: "personal_access_token.access_granted", user: ada, check: count(ada, "acme", "pats", 2),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, nil, ghemu.Options{})
			c := sdk(t, ts, "")
			before := s.State().EventCount
			resp, err := tc.do(t, c, s)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			tc.check(t, s)
			if tc.events == 0 {
				tc.events = 1
			}
			if got := s.State().EventCount; got != before+tc.events {
				t.Errorf("event count %d -> %d, want %d more", before, got, tc.events)
			}
			org := tc.org
			if org == "" {
				org = "acme"
			}
			es := auditEntries(t, c, org, "action:"+tc.action, "web", "desc", 1)
			if len(es) == 0 {
				t.Fatalf("no %s event in the audit log", tc.action)
			}
			e := es[0]
			if e.GetActor() != ghemu.DefaultActor || e.GetUser() != tc.user || e.GetOrg() != org || e.GetCreatedAt().IsZero() {
				t.Errorf("event %s: actor %q user %q org %q at %v", e.GetAction(), e.GetActor(), e.GetUser(), e.GetOrg(), e.GetCreatedAt())
			}
		})
	}
}

func TestMembershipDeleteCancelsLoginInvitation(t *testing.T) {
	t.Parallel()
	org := &seed.Org{
		GitHub: seed.GitHubOrgs{Orgs: []string{"acme"}},
		People: []seed.Person{{EmployeeID: "E1", Email: "x@example.com", GitHub: &seed.GitHubUser{Login: "invitee", ID: 7, Orgs: []seed.GitHubOrgRole{{Org: "acme", Role: "invited"}}}}},
	}
	s, ts := start(t, org, ghemu.Options{})
	c := sdk(t, ts, "")
	m, _, err := c.Organizations.GetOrgMembership(t.Context(), "invitee", "acme")
	if err != nil || m.GetState() != "pending" {
		t.Fatalf("pending membership: %+v %v", m, err)
	}
	invs, _, err := c.Organizations.ListPendingOrgInvitations(t.Context(), "acme", nil)
	if err != nil || len(invs) != 1 || invs[0].GetLogin() != "invitee" || invs[0].Email != nil {
		t.Fatalf("login invitation: %v %v", invs, err)
	}
	if _, err := c.Organizations.RemoveOrgMembership(t.Context(), "invitee", "acme"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User("invitee"); len(u.Org("acme").Invitations) != 0 {
		t.Errorf("invitation left: %v", u.Org("acme").Invitations)
	}
	if got := auditActions(t, c, "acme", "user:invitee"); !slices.Equal(got, []string{"org.cancel_invitation"}) {
		t.Errorf("audit %v", got)
	}
	if resp, err := c.Organizations.RemoveOrgMembership(t.Context(), "invitee", "acme"); err == nil || resp.StatusCode != 404 {
		t.Errorf("second removal: %v, want 404", err)
	}
}

// GitHub lists a user's credential authorizations only while they are a
// member; the emulator keeps them (unlisted) so a wrong order shows.
func TestCredentialsUnlistedAfterMembershipRemoval(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	r := call(t, ts, "GET", "/orgs/acme/credential-authorizations?login="+ada, bearer, nil)
	var listed []map[string]any
	r.json(t, &listed)
	if len(listed) != 2 {
		t.Fatalf("login filter: %d entries: %s", len(listed), r.body)
	}
	if _, err := c.Organizations.RemoveOrgMembership(t.Context(), ada, "acme"); err != nil {
		t.Fatal(err)
	}
	r = call(t, ts, "GET", "/orgs/acme/credential-authorizations?login="+ada, bearer, nil)
	r.json(t, &listed)
	if len(listed) != 0 {
		t.Errorf("still listed after removal: %s", r.body)
	}
	var unlisted int
	for _, o := range s.State().Orgs {
		for _, cr := range o.CredentialAuthorizations {
			if cr.Login == ada && o.Login == "acme" {
				if cr.Listed {
					t.Errorf("credential %d listed", cr.ID)
				}
				unlisted++
			}
		}
	}
	if unlisted != 2 {
		t.Errorf("%d unlisted credentials in state, want 2", unlisted)
	}
	u, _ := s.User(ada)
	if _, err := c.Organizations.RemoveCredentialAuthorization(t.Context(), "acme", u.Org("acme").CredentialAuthorizations[0]); err == nil {
		t.Error("an unlisted credential could be revoked")
	}
}

func TestAuditLogQueries(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	cases := map[string]struct {
		org, phrase, include string
		want                 int
	}{
		"git events of one actor":   {"acme", "actor:" + edsger, "git", 12},
		"all includes git":          {"acme", "actor:" + edsger, "all", 12},
		"web excludes git":          {"acme", "actor:" + edsger, "web", 0},
		"default include is web":    {"acme", "actor:" + edsger, "", 0},
		"action exact":              {"acme", "actor:" + edsger + " action:git.clone", "all", 12},
		"action category":           {"acme", "actor:" + edsger + " action:git", "all", 12},
		"other action":              {"acme", "actor:" + edsger + " action:git.push", "all", 0},
		"created from a day":        {"acme", "actor:" + edsger + " created:>=2026-11-23", "all", 4},
		"created after a day":       {"acme", "actor:" + edsger + " created:>2026-11-22", "all", 4},
		"created before a day":      {"acme", "actor:" + edsger + " created:<2026-11-21", "all", 0},
		"created on a day":          {"acme", "actor:" + edsger + " created:2026-11-22", "all", 4},
		"created range":             {"acme", "actor:" + edsger + " created:2026-11-21..2026-11-22", "all", 8},
		"negated qualifier":         {"acme", "actor:" + edsger + " -repo:acme/platform", "all", 8},
		"field qualifier":           {"acme", "actor:" + edsger + " repo:acme/payments", "all", 4},
		"other org holds its own":   {"acme-labs", "actor:" + edsger, "all", 0},
		"labs events":               {"acme-labs", "actor:cshannon", "all", 2},
		"user qualifier, no events": {"acme", "user:" + edsger, "all", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			es := auditEntries(t, c, tc.org, tc.phrase, tc.include, "desc", 100)
			if len(es) != tc.want {
				t.Fatalf("%d entries, want %d", len(es), tc.want)
			}
			for _, e := range es {
				if e.Timestamp == nil || e.CreatedAt == nil || e.GetDocumentID() == "" || e.GetOrg() != tc.org {
					t.Errorf("entry %+v", e)
				}
			}
		})
	}

	// A git entry carries the repository and transport, as GitHub's do.
	es := auditEntries(t, c, "acme", "actor:"+edsger, "git", "asc", 1)
	e := es[0]
	if e.AdditionalFields["repo"] == nil || e.AdditionalFields["transport_protocol_name"] != "http" || e.GetActorID() != 5009 {
		t.Errorf("git entry %+v", e)
	}
	if !e.GetCreatedAt().Time.Equal(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("oldest at %v", e.GetCreatedAt())
	}
}

func TestAuditLogCursors(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	for _, order := range []string{"asc", "desc"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			all := auditEntries(t, c, "acme", "", "all", order, 100)
			paged := auditEntries(t, c, "acme", "", "all", order, 7)
			if len(all) < 20 || len(paged) != len(all) {
				t.Fatalf("%d entries paged by 7, %d at once", len(paged), len(all))
			}
			for i := range all {
				if all[i].GetDocumentID() != paged[i].GetDocumentID() {
					t.Fatalf("entry %d differs", i)
				}
				if i > 0 {
					a, b := all[i-1].GetCreatedAt().Time, all[i].GetCreatedAt().Time
					if (order == "asc" && b.Before(a)) || (order == "desc" && a.Before(b)) {
						t.Fatalf("entries %d,%d out of %s order", i-1, i, order)
					}
				}
			}
			// The Link header carries after/before cursors; prev goes back.
			r := call(t, ts, "GET", "/orgs/acme/audit-log?include=all&per_page=5&order="+order, bearer, nil)
			next := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(r.header.Get("Link"))
			if next == nil || !strings.Contains(next[1], "after=") || !strings.Contains(next[1], "before=") || !strings.Contains(next[1], "/organizations/91000001/audit-log") {
				t.Fatalf("Link %s", r.header.Get("Link"))
			}
			r2 := call(t, ts, "GET", next[1], bearer, nil)
			prev := regexp.MustCompile(`<([^>]+)>; rel="prev"`).FindStringSubmatch(r2.header.Get("Link"))
			if prev == nil {
				t.Fatalf("second page has no prev: %s", r2.header.Get("Link"))
			}
			r3 := call(t, ts, "GET", prev[1], bearer, nil)
			if !bytes.Equal(r3.body, r.body) {
				t.Errorf("prev of page 2 is not page 1:\n%s\n%s", r3.body, r.body)
			}
		})
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			_, ts := start(t, nil, ghemu.Options{Now: clk.Now, RateLimit: 3, RateLimitStatus: status})
			for i := range 3 {
				r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil)
				if r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) || r.header.Get("X-RateLimit-Used") != strconv.Itoa(i+1) {
					t.Fatalf("request %d: %d remaining %s used %s", i, r.status, r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Used"))
				}
			}
			r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil)
			e := wantError(t, r, status, "API rate limit exceeded for installation ID 4200001.")
			if !strings.Contains(e.DocumentationURL, "primary-rate-limits") {
				t.Errorf("doc %s", e.DocumentationURL)
			}
			reset := clk.Now().Add(time.Hour).Unix()
			if r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(reset, 10) || r.header.Get("X-RateLimit-Resource") != "core" {
				t.Errorf("headers %v", r.header)
			}
			if d, _ := http.ParseTime(r.header.Get("Date")); !d.Equal(clk.Now()) {
				t.Errorf("Date %s", r.header.Get("Date"))
			}
			// The SDK's view: a RateLimitError for the 403, a plain
			// ErrorResponse for the 429 (v60 does not classify 429s).
			_, _, err := sdk(t, ts, "").Organizations.ListMembers(t.Context(), "acme", nil)
			var rle *gh.RateLimitError
			var er *gh.ErrorResponse
			if status == 403 && (!errors.As(err, &rle) || rle.Rate.Remaining != 0 || rle.Rate.Reset.Unix() != reset) {
				t.Errorf("SDK error %T %v", err, err)
			}
			if status == 429 && (!errors.As(err, &er) || er.Response.StatusCode != 429) {
				t.Errorf("SDK error %T %v", err, err)
			}
			// The window ends an hour after it started.
			clk.Add(time.Hour)
			if r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "2" {
				t.Errorf("after reset: %d %s", r.status, r.header.Get("X-RateLimit-Remaining"))
			}
		})
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	// 7 points a minute: a mutation costs 5, a read 1.
	_, ts := start(t, nil, ghemu.Options{Now: clk.Now, SecondaryPoints: 7, SecondaryRetryAfter: 42 * time.Second})
	if r := call(t, ts, "DELETE", "/orgs/acme/outside_collaborators/"+linus, bearer, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for range 2 {
		if r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil); r.status != 200 {
			t.Fatalf("read: %d", r.status)
		}
	}
	r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil)
	e := wantError(t, r, 403, e0(r))
	if !strings.HasPrefix(e.Message, "You have exceeded a secondary rate limit.") || !strings.HasSuffix(e.DocumentationURL, "secondary-rate-limits") {
		t.Errorf("secondary body %+v", e)
	}
	if r.header.Get("Retry-After") != "42" {
		t.Errorf("retry-after %q", r.header.Get("Retry-After"))
	}
	_, _, err := sdk(t, ts, "").Organizations.ListMembers(t.Context(), "acme", nil)
	var are *gh.AbuseRateLimitError
	if !errors.As(err, &are) || are.RetryAfter == nil || *are.RetryAfter != 42*time.Second {
		t.Fatalf("SDK error %T %v", err, err)
	}
	clk.Add(time.Minute)
	if r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil); r.status != 200 {
		t.Errorf("next minute: %d", r.status)
	}
}

// e0 returns the message of an error reply, for checks on its prefix.
func e0(r reply) string {
	var e ghError
	_ = json.Unmarshal(r.body, &e)
	return e.Message
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fault      emu.Fault
		message    string
		retryAfter string
		remaining  string
	}{
		"secondary 403": {emu.Fault{Path: `/members$`, Status: 403, RetryAfter: 30}, "You have exceeded a secondary rate limit.", "30", ""},
		"secondary 429": {emu.Fault{Path: `/members$`, Status: 429, RetryAfter: 9}, "You have exceeded a secondary rate limit.", "9", ""},
		"primary 429":   {emu.Fault{Path: `/members$`, Status: 429}, "API rate limit exceeded for installation ID 4200001.", "", "0"},
		"forbidden":     {emu.Fault{Path: `/members$`, Status: 403}, "Resource not accessible by integration", "", ""},
		"bad token":     {emu.Fault{Path: `/members$`, Status: 401}, "Bad credentials", "", ""},
		"server error":  {emu.Fault{Path: `/members$`, Status: 500}, "Server Error", "", ""},
		"unavailable":   {emu.Fault{Path: `/members$`, Status: 503, RetryAfter: 5}, "Service Unavailable", "5", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, nil, ghemu.Options{})
			tc.fault.Times = 1
			if err := s.Emulator().AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil)
			if r.status != tc.fault.Status {
				t.Fatalf("status %d", r.status)
			}
			var e ghError
			r.json(t, &e)
			if !strings.HasPrefix(e.Message, tc.message) || e.Status != strconv.Itoa(tc.fault.Status) {
				t.Errorf("body %s", r.body)
			}
			if r.header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("retry-after %q, want %q", r.header.Get("Retry-After"), tc.retryAfter)
			}
			if tc.remaining != "" && r.header.Get("X-RateLimit-Remaining") != tc.remaining {
				t.Errorf("remaining %q", r.header.Get("X-RateLimit-Remaining"))
			}
			if r := call(t, ts, "GET", "/orgs/acme/members", bearer, nil); r.status != 200 {
				t.Errorf("fault did not clear: %d", r.status)
			}
		})
	}
}

func TestEnterpriseBasePath(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	c, err := gh.NewClient(ts.Client()).WithAuthToken(ghemu.DefaultToken).WithEnterpriseURLs(ts.URL, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL.Path != "/api/v3/" {
		t.Fatalf("base %s", c.BaseURL)
	}
	users, resp, err := c.Organizations.ListMembers(t.Context(), "acme", &gh.ListMembersOptions{ListOptions: gh.ListOptions{PerPage: 1}})
	if err != nil || len(users) != 1 || resp.NextPage != 2 {
		t.Fatalf("members under /api/v3: %v %v", users, err)
	}
	if l := resp.Header.Get("Link"); !strings.Contains(l, "/api/v3/organizations/") {
		t.Errorf("Link without the base path: %s", l)
	}
	m, _, err := c.Organizations.GetOrgMembership(t.Context(), ada, "acme")
	if err != nil || !strings.Contains(m.GetURL(), "/api/v3/orgs/acme/memberships/") {
		t.Errorf("membership URL %q %v", m.GetURL(), err)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	if _, err := c.Organizations.RemoveOutsideCollaborator(t.Context(), "acme", linus); err != nil {
		t.Fatal(err)
	}
	reqs := s.Emulator().Requests()
	if len(reqs) != 1 || reqs[0].Method != "DELETE" || reqs[0].Path != "/orgs/acme/outside_collaborators/"+linus || reqs[0].Status != 204 {
		t.Fatalf("log %+v", reqs)
	}
}

func TestStateCarriesNoEmails(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	r := call(t, ts, "GET", "/_emulator/state", "", nil)
	if r.status != 200 {
		t.Fatalf("state: %d", r.status)
	}
	if bytes.Contains(r.body, []byte("@")) {
		t.Errorf("state carries an email: %s", r.body)
	}
	var st ghemu.State
	r.json(t, &st)
	if len(st.Orgs) != 2 || st.Orgs[0].Login != "acme" || st.Orgs[1].Login != "acme-labs" || st.EventCount == 0 {
		t.Fatalf("state %+v", st)
	}
	acme := st.Orgs[0]
	if len(acme.Invitations) != 1 || !acme.Invitations[0].ByEmail || acme.Invitations[0].Login != "" {
		t.Errorf("invitations %+v", acme.Invitations)
	}
	if !slices.Equal(acme.OutsideCollaborators, []string{linus}) {
		t.Errorf("outside collaborators %v", acme.OutsideCollaborators)
	}
	if got, _ := s.User(edsger); len(got.Org("acme").FineGrainedPATs) != 2 || len(got.Org("acme").PATRequests) != 1 || len(got.Org("acme-labs").CredentialAuthorizations) != 1 {
		t.Errorf("user %+v", got)
	}
	if _, ok := s.User("nobody"); ok {
		t.Error("unknown user found")
	}
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	if _, err := c.Organizations.RemoveOrgMembership(t.Context(), ada, "acme"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()

	s2, ts2 := start(t, nil, ghemu.Options{})
	if err := s2.LoadState(bytes.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(s.State())
	b, _ := json.Marshal(s2.State())
	if !bytes.Equal(a, b) {
		t.Fatalf("state after load differs:\n%s\n%s", a, b)
	}
	// The audit log survives, action-specific fields included.
	c2 := sdk(t, ts2, "")
	if got := auditActions(t, c2, "acme", "action:org.remove_member"); len(got) != 1 {
		t.Errorf("audit after load: %v", got)
	}
	es := auditEntries(t, c2, "acme", "actor:"+edsger, "git", "asc", 1)
	if len(es) != 12 || es[0].AdditionalFields["repo"] == nil {
		t.Errorf("git entries after load: %d", len(es))
	}
	var again bytes.Buffer
	if err := s2.SaveState(&again); err != nil || !bytes.Equal(again.Bytes(), saved) {
		t.Errorf("save after load differs (%v)", err)
	}

	for name, bad := range map[string]string{
		"not json":      "{",
		"wrong version": `{"version": 99}`,
		"unknown field": `{"version": 1, "extra": true}`,
		"null user":     `{"version": 1, "users": [null]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := s2.LoadState(strings.NewReader(bad)); err == nil {
				t.Fatal("no error")
			}
			if c, _ := json.Marshal(s2.State()); !bytes.Equal(c, b) {
				t.Error("a failed load changed the state")
			}
		})
	}
}
