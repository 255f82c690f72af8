package github_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/github"
	"github.com/offboard/offboard/emulators/emu"
	ghemu "github.com/offboard/offboard/emulators/github"
	"github.com/offboard/offboard/emulators/seed"
)

type fixture struct {
	emu *ghemu.Server
	ts  *httptest.Server
	c   *github.Client
	rec *connectorstest.Recorder
	org *seed.Org
}

type options struct {
	org   *seed.Org
	emu   ghemu.Options
	token string
	base  string // appended to the emulator's URL
	orgs  []string
	clock func() time.Time
	// retry is the connector's retry policy; nil means connectorstest.FastRetry.
	retry *connectors.RetryPolicy
}

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// setup starts an emulator and points the connector (the real go-github
// client underneath) at it.
func setup(t *testing.T, o options) *fixture {
	t.Helper()
	if o.org == nil {
		o.org = demo(t)
	}
	srv := ghemu.New(o.org, o.emu)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if o.token == "" {
		o.token = ghemu.DefaultToken
	}
	if o.orgs == nil {
		o.orgs = o.org.GitHub.Orgs
	}
	rec := &connectorstest.Recorder{}
	c, err := github.New(t.Context(), github.Config{
		Orgs:       o.orgs,
		BaseURL:    ts.URL + o.base,
		Token:      config.Secret(o.token),
		HTTPClient: &http.Client{Transport: rec, Timeout: 30 * time.Second},
		Retry:      connectorstest.RetryOr(o.retry),
	}, github.WithClock(o.clock))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: srv, ts: ts, c: c, rec: rec, org: o.org}
}

// subject is what the workflow hands the connector after Okta: the email
// and Okta's profile attributes.
func (f *fixture) subject(t *testing.T, emp string) connectors.Subject {
	t.Helper()
	p, ok := f.org.Person(emp)
	if !ok {
		t.Fatalf("no person %s", emp)
	}
	s := connectors.Subject{EmployeeID: emp, Email: p.Email, Attributes: map[string]string{}}
	if p.Okta != nil {
		for k, v := range p.Okta.Profile {
			s.Attributes[k] = v
		}
	}
	return s
}

func (f *fixture) resolve(t *testing.T, emp string) connectors.Account {
	t.Helper()
	a, err := f.c.Resolve(t.Context(), f.subject(t, emp))
	if err != nil {
		t.Fatalf("resolve %s: %v", emp, err)
	}
	return a
}

func (f *fixture) plan(t *testing.T, a connectors.Account) []connectors.Step {
	t.Helper()
	steps, err := f.c.Plan(t.Context(), a)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return steps
}

func (f *fixture) user(t *testing.T, login string) ghemu.UserState {
	t.Helper()
	u, ok := f.emu.User(login)
	if !ok {
		t.Fatalf("emulator has no user %s", login)
	}
	return u
}

var emailRE = connectorstest.EmailRE

// step is the step of an action in an org, as Plan makes it.
func step(action, org string) connectors.Step {
	return connectors.NewStep("github", action, org, "", nil)
}

func connErr(t *testing.T, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	return connectorstest.ConnErr(t, err, "github", kind)
}

func noEmails(t *testing.T, what string, ss ...string) {
	t.Helper()
	connectorstest.NoEmails(t, what, ss...)
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	orgs := []string{"acme"}
	cases := map[string]struct {
		cfg  github.Config
		want string // "" means valid
	}{
		"github.com default":  {github.Config{Orgs: orgs, Token: "t"}, ""},
		"api.github.com":      {github.Config{Orgs: orgs, BaseURL: "https://api.github.com", Token: "t"}, ""},
		"enterprise server":   {github.Config{Orgs: orgs, BaseURL: "https://ghe.example.com/api/v3", Token: "t"}, ""},
		"http loopback":       {github.Config{Orgs: []string{"acme", "acme-labs"}, BaseURL: "http://127.0.0.1:8080", Token: "t"}, ""},
		"no orgs":             {github.Config{Token: "t"}, "at least one organization"},
		"bad org":             {github.Config{Orgs: []string{"acme/x"}, Token: "t"}, `organization "acme/x"`},
		"org with --":         {github.Config{Orgs: []string{"ac--me"}, Token: "t"}, `organization "ac--me"`},
		"duplicate org":       {github.Config{Orgs: []string{"acme", "ACME"}, Token: "t"}, "listed twice"},
		"relative URL":        {github.Config{Orgs: orgs, BaseURL: "api.github.com", Token: "t"}, "not an absolute URL"},
		"plain http":          {github.Config{Orgs: orgs, BaseURL: "http://ghe.example.com/api/v3", Token: "t"}, "must use https"},
		"web host":            {github.Config{Orgs: orgs, BaseURL: "https://github.com", Token: "t"}, "web host"},
		"query":               {github.Config{Orgs: orgs, BaseURL: "https://api.github.com/?x=1", Token: "t"}, "query"},
		"credentials in URL":  {github.Config{Orgs: orgs, BaseURL: "https://u:p@api.github.com", Token: "t"}, "credentials"},
		"missing token":       {github.Config{Orgs: orgs}, "token is required"},
		"token with a scheme": {github.Config{Orgs: orgs, Token: "Bearer t"}, "whitespace"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl, err := github.New(t.Context(), c.cfg)
			if c.want == "" {
				if err != nil || cl == nil || cl.Name() != "github" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			ce := connErr(t, err, connectors.InvalidInput)
			if !strings.Contains(ce.Msg, c.want) {
				t.Errorf("message %q, want it to mention %q", ce.Msg, c.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	type want struct {
		id, orgs, roles, userID string
		kind                    connectors.Kind
	}
	cases := map[string]struct {
		subject func(t *testing.T) connectors.Subject
		want    want
	}{
		"member of both orgs": {
			func(t *testing.T) connectors.Subject { return f.subject(t, "E1001") },
			want{id: "alovelace", orgs: "acme,acme-labs", roles: "acme:member,acme-labs:member", userID: "5000"},
		},
		"admin": {
			func(t *testing.T) connectors.Subject { return f.subject(t, "E1005") },
			want{id: "mhamilton", orgs: "acme,acme-labs", roles: "acme:admin,acme-labs:admin", userID: "5004"},
		},
		"outside collaborator": {
			func(t *testing.T) connectors.Subject { return f.subject(t, "E1004") },
			want{id: "ltorvalds", orgs: "acme", roles: "acme:outside_collaborator", userID: "5003"},
		},
		"invited by email": {
			func(t *testing.T) connectors.Subject { return f.subject(t, "E1007") },
			want{id: "bliskov", orgs: "acme", roles: "acme:invited", userID: "5006"},
		},
		"invited by email, email unknown": {
			func(t *testing.T) connectors.Subject {
				s := f.subject(t, "E1007")
				s.Email = ""
				return s
			},
			want{kind: connectors.NotFound},
		},
		"override": {
			func(t *testing.T) connectors.Subject {
				return connectors.Subject{EmployeeID: "E1010", Overrides: map[string]string{"github": "edijkstra"}}
			},
			want{id: "edijkstra", orgs: "acme,acme-labs", roles: "acme:member,acme-labs:member", userID: "5009"},
		},
		"override wins, @ and case normalised": {
			func(t *testing.T) connectors.Subject {
				s := f.subject(t, "E1001")
				s.Overrides = map[string]string{"github": "@EDijkstra"}
				return s
			},
			want{id: "edijkstra", orgs: "acme,acme-labs", roles: "acme:member,acme-labs:member", userID: "5009"},
		},
		"no GitHub login": {
			func(t *testing.T) connectors.Subject { return f.subject(t, "E1012") },
			want{kind: connectors.NotFound},
		},
		"login of nobody": {
			func(t *testing.T) connectors.Subject {
				return connectors.Subject{EmployeeID: "E9", Attributes: map[string]string{"githubUsername": "no-such-user"}}
			},
			want{kind: connectors.NotFound},
		},
		"override of nobody": {
			func(t *testing.T) connectors.Subject {
				return connectors.Subject{EmployeeID: "E9", Overrides: map[string]string{"github": "no-such-user"}}
			},
			want{kind: connectors.InvalidInput},
		},
		"malformed login": {
			func(t *testing.T) connectors.Subject {
				return connectors.Subject{EmployeeID: "E9", Attributes: map[string]string{"githubUsername": "a/b"}}
			},
			want{kind: connectors.InvalidInput},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := f.c.Resolve(t.Context(), c.subject(t))
			if c.want.kind != "" {
				connErr(t, err, c.want.kind)
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if a.System != "github" || a.ID != c.want.id || a.Attributes[github.AttrOrgs] != c.want.orgs ||
				a.Attributes[github.AttrRoles] != c.want.roles || a.Attributes[github.AttrUserID] != c.want.userID {
				t.Errorf("account %+v, want %+v", a, c.want)
			}
			for k, v := range a.Attributes {
				noEmails(t, "attribute "+k, v)
			}
		})
	}
}

// result of each step in plan order, for the two demo orgs.
type results []connectors.Result

const (
	D = connectors.ResultDone
	A = connectors.ResultAlready
)

func TestOffboardPeople(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		emp, login string
		first      results // acme's five steps, then acme-labs'
	}{
		"member of two orgs with credentials and tokens": {"E1001", "alovelace", results{D, D, D, A, A, A, A, D, A, A}},
		"outside collaborator":                           {"E1004", "ltorvalds", results{A, A, A, A, D, A, A, A, A, A}},
		"admin of both orgs":                             {"E1005", "mhamilton", results{D, A, D, A, A, A, A, D, A, A}},
		"pending email invitation":                       {"E1007", "bliskov", results{A, A, A, D, A, A, A, A, A, A}},
		"fine-grained PATs and a request":                {"E1010", "edijkstra", results{D, D, D, A, A, D, A, D, A, A}},
		"member of one org":                              {"E1016", "cshannon", results{A, A, A, A, A, A, A, D, A, A}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, tc.emp)
			steps := f.plan(t, a)
			var ids []string
			for _, o := range []string{"acme", "acme-labs"} {
				for _, act := range github.Actions {
					ids = append(ids, "github."+act+"/"+o)
				}
			}
			var got []string
			for _, st := range steps {
				got = append(got, st.ID)
				if st.System != "github" || st.Scope == "" || !strings.HasSuffix(st.ID, "/"+st.Scope) || !strings.Contains(st.ID, "."+st.Action+"/") {
					t.Errorf("step %+v", st)
				}
				noEmails(t, "step "+st.ID, append([]string{st.Description}, st.Targets...)...)
			}
			if !slices.Equal(got, ids) {
				t.Fatalf("plan %v, want %v", got, ids)
			}
			for i, st := range steps {
				out, err := f.c.Run(t.Context(), a, st)
				if err != nil {
					t.Fatalf("run %s: %v", st.ID, err)
				}
				if out.Result != tc.first[i] {
					t.Errorf("run %s: %s, want %s (records %q)", st.ID, out.Result, tc.first[i], out.Records)
				}
				if out.Result == D && len(out.Records) == 0 {
					t.Errorf("run %s: done without records", st.ID)
				}
				noEmails(t, "records of "+st.ID, out.Records...)
				if err := f.c.Verify(t.Context(), a, st); err != nil {
					t.Errorf("verify %s: %v", st.ID, err)
				}
			}
			// Each step again as an activity's retry sends it, with what
			// the plan found: safe, no error, still verified.
			for _, st := range steps {
				if st.Found == nil {
					t.Errorf("plan of %s found nothing for the run to act on", st.ID)
				}
				if _, err := f.c.Run(t.Context(), a, st); err != nil {
					t.Errorf("retried run %s: %v", st.ID, err)
				}
			}
			// Everything again as a re-run sends it, reading: all already,
			// all verified.
			for _, st := range steps {
				st.Found = nil
				out, err := f.c.Run(t.Context(), a, st)
				if err != nil || out.Result != A {
					t.Errorf("second run %s: %s %v", st.ID, out.Result, err)
				}
				if err := f.c.Verify(t.Context(), a, st); err != nil {
					t.Errorf("second verify %s: %v", st.ID, err)
				}
			}
			u := f.user(t, tc.login)
			for _, o := range u.Orgs {
				if o.Role != "" || len(o.Invitations)+len(o.FineGrainedPATs)+len(o.PATRequests)+len(o.CredentialAuthorizations) > 0 {
					t.Errorf("emulator still has %s in %s: %+v", tc.login, o.Org, o)
				}
			}
			// And the person is now in no org.
			_, err := f.c.Resolve(t.Context(), f.subject(t, tc.emp))
			connErr(t, err, connectors.NotFound)
		})
	}
}

// Credential authorizations are recorded and revoked before the
// membership goes (GitHub stops listing them after), in every org.
func TestOrdering(t *testing.T) {
	t.Parallel()
	for _, emp := range []string{"E1001", "E1010"} {
		t.Run(emp, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, emp)
			steps := f.plan(t, a)
			var planned []string // credential IDs the plan names
			var records []string
			for _, st := range steps {
				if st.Action == github.ActionRevokeCredentialAuthorizations {
					for _, tg := range st.Targets {
						planned = append(planned, strings.Split(tg, ":")[1])
					}
				}
				out, err := f.c.Run(t.Context(), a, st)
				if err != nil {
					t.Fatalf("run %s: %v", st.ID, err)
				}
				if st.Action == github.ActionRevokeCredentialAuthorizations {
					records = append(records, out.Records...)
				}
			}
			if len(planned) == 0 {
				t.Fatal("the plan names no credential authorizations")
			}
			for _, id := range planned {
				if !slices.ContainsFunc(records, func(r string) bool { return strings.Contains(r, "credential_id="+id+" ") }) {
					t.Errorf("credential %s not recorded: %q", id, records)
				}
			}
			for _, org := range []string{"acme", "acme-labs"} {
				lastRevoke, firstRemove, lastToken := -1, -1, -1
				for i, r := range f.emu.Emulator().Requests() {
					switch {
					case r.Method == "DELETE" && strings.HasPrefix(r.Path, "/orgs/"+org+"/credential-authorizations/"):
						lastRevoke = i
					case r.Method == "POST" && strings.HasPrefix(r.Path, "/orgs/"+org+"/personal-access-token"):
						lastToken = i
					case r.Method == "DELETE" && strings.HasPrefix(r.Path, "/orgs/"+org+"/memberships/") && firstRemove < 0:
						firstRemove = i
					}
				}
				if firstRemove < 0 {
					t.Fatalf("%s: membership never removed", org)
				}
				if lastRevoke > firstRemove || lastToken > firstRemove {
					t.Errorf("%s: credential revoke at %d, token revoke at %d, membership removal at %d", org, lastRevoke, lastToken, firstRemove)
				}
			}
			// None are left behind unlisted.
			for _, o := range f.emu.State().Orgs {
				for _, cr := range o.CredentialAuthorizations {
					if cr.Login == a.ID {
						t.Errorf("credential %d left in %s (listed %v)", cr.ID, o.Login, cr.Listed)
					}
				}
			}
		})
	}
}

func TestVerifyBeforeRun(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	want := map[string]bool{ // step ID -> conflict expected
		"github.revoke-credential-authorizations/acme": true,
		"github.revoke-fine-grained-pats/acme":         true,
		"github.remove-membership/acme":                true,
		"github.cancel-invitations/acme":               false,
		"github.remove-outside-collaborator/acme":      false,
		"github.remove-membership/acme-labs":           true,
	}
	for _, st := range f.plan(t, a) {
		conflict, ok := want[st.ID]
		if !ok {
			continue
		}
		err := f.c.Verify(t.Context(), a, st)
		if !conflict {
			if err != nil {
				t.Errorf("verify %s: %v", st.ID, err)
			}
			continue
		}
		ce := connErr(t, err, connectors.Conflict)
		if !strings.HasPrefix(ce.Msg, "verify: ") {
			t.Errorf("verify %s: message %q", st.ID, ce.Msg)
		}
	}
	// Outside collaborator and invitation mismatches too.
	for emp, id := range map[string]string{"E1004": "github.remove-outside-collaborator/acme", "E1007": "github.cancel-invitations/acme"} {
		b := f.resolve(t, emp)
		steps := f.plan(t, b)
		i := slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
		connErr(t, f.c.Verify(t.Context(), b, steps[i]), connectors.Conflict)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, options{orgs: []string{"acme"}})
	a := connectors.Account{System: "github", ID: "alovelace"}
	member := step(github.ActionRemoveMembership, "acme")
	cases := map[string]struct {
		a  connectors.Account
		st connectors.Step
	}{
		"other system":        {connectors.Account{System: "okta", ID: "alovelace"}, member},
		"bad login":           {connectors.Account{System: "github", ID: "../x"}, member},
		"unknown action":      {a, step("delete-user", "acme")},
		"no scope":            {a, step(github.ActionRemoveMembership, "")},
		"other system step":   {a, connectors.NewStep("okta", "suspend", "acme", "", nil)},
		"unconfigured org":    {a, step(github.ActionRemoveMembership, "acme-labs")},
		"scope disagreement":  {a, connectors.Step{ID: member.ID, System: "github", Action: github.ActionRemoveMembership, Scope: "acme-labs"}},
		"action disagreement": {a, connectors.Step{ID: member.ID, System: "github", Action: github.ActionCancelInvitations, Scope: "acme"}},
		"no action":           {a, connectors.Step{ID: member.ID, System: "github", Scope: "acme"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := f.c.Run(t.Context(), c.a, c.st)
			connErr(t, err, connectors.InvalidInput)
			connErr(t, f.c.Verify(t.Context(), c.a, c.st), connectors.InvalidInput)
		})
	}
	// What a plan found, tampered with: refused before any call.
	for name, c := range map[string]struct {
		action string
		id     string
	}{
		"credential ID not a number": {github.ActionRevokeCredentialAuthorizations, "credential:12ab"},
		"negative PAT ID":            {github.ActionRevokeFineGrainedPATs, "pat:-4"},
		"empty request ID":           {github.ActionRevokeFineGrainedPATs, "request:"},
		"invitation ID overflows":    {github.ActionCancelInvitations, "invitation:99999999999999999999"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := step(c.action, "acme")
			st.Found = &connectors.Found{IDs: []string{c.id}}
			_, err := f.c.Run(t.Context(), a, st)
			if ce := connErr(t, err, connectors.InvalidInput); !strings.Contains(ce.Msg, "is not a positive number") {
				t.Errorf("%s: %q", c.id, ce.Msg)
			}
		})
	}
	if len(f.emu.Emulator().Requests()) != 0 {
		t.Errorf("bad input reached GitHub: %+v", f.emu.Emulator().Requests())
	}
}

// resetWait is what the headers of a rate-limited answer ask for:
// x-ratelimit-reset minus Date.
func resetWait(t *testing.T, h http.Header) time.Duration {
	t.Helper()
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		t.Fatalf("no x-ratelimit-reset in %v", h)
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		t.Fatalf("no Date in %v", h)
	}
	return time.Unix(reset, 0).Sub(date)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	fixed := func() time.Time { return time.Date(2020, 1, 6, 9, 0, 0, 0, time.UTC) }
	cases := map[string]struct {
		opts   options
		fault  *emu.Fault
		run    connectors.Step // step to run for E1001; none resolves E1001
		kind   connectors.Kind
		status int
		msg    string
		// wait is the RetryAfter the answer asked for (nil: none).
		wait func(t *testing.T, f *fixture) time.Duration
	}{
		"401 bad token": {
			opts: options{token: "wrong"}, kind: connectors.Unauthenticated, status: 401, msg: "Bad credentials",
		},
		"403 permission": {
			fault: &emu.Fault{Method: "GET", Path: `/credential-authorizations$`, Status: 403},
			run:   step(github.ActionRevokeCredentialAuthorizations, "acme"), kind: connectors.PermissionDenied, status: 403, msg: "Resource not accessible by integration",
		},
		"404 on a list": {
			fault: &emu.Fault{Method: "GET", Path: `/personal-access-token-requests$`, Status: 404},
			run:   step(github.ActionRevokeFineGrainedPATs, "acme"), kind: connectors.InvalidInput, status: 404, msg: "Not Found (organization acme does not exist",
		},
		"primary 403, limit exhausted": {
			opts: options{emu: ghemu.Options{RateLimit: 2, Now: fixed}}, kind: connectors.RateLimited, status: 403,
			msg:  "API rate limit exceeded for installation ID 4200001.",
			wait: func(t *testing.T, f *fixture) time.Duration { return time.Hour },
		},
		"primary 429": {
			opts:  options{emu: ghemu.Options{Now: fixed}},
			fault: &emu.Fault{Method: "GET", Path: `/memberships/`, Status: 429},
			kind:  connectors.RateLimited, status: 429, msg: "API rate limit exceeded for installation ID 4200001.",
			wait: func(t *testing.T, f *fixture) time.Duration {
				return resetWait(t, f.rec.Header("/orgs/acme/memberships/alovelace"))
			},
		},
		"secondary 429": {
			fault: &emu.Fault{Method: "DELETE", Path: `/credential-authorizations/`, Status: 429, RetryAfter: 17},
			run:   step(github.ActionRevokeCredentialAuthorizations, "acme"), kind: connectors.RateLimited, status: 429, msg: "You have exceeded a secondary rate limit.",
			wait: func(t *testing.T, f *fixture) time.Duration { return 17 * time.Second },
		},
		"secondary 403": {
			fault: &emu.Fault{Method: "POST", Path: `/personal-access-tokens$`, Status: 403, RetryAfter: 23},
			run:   step(github.ActionRevokeFineGrainedPATs, "acme"), kind: connectors.RateLimited, status: 403, msg: "You have exceeded a secondary rate limit.",
			wait: func(t *testing.T, f *fixture) time.Duration { return 23 * time.Second },
		},
		"500": {
			fault: &emu.Fault{Method: "DELETE", Path: `/memberships/`, Status: 500},
			run:   step(github.ActionRemoveMembership, "acme"), kind: connectors.Unavailable, status: 500, msg: "Server Error",
		},
		"503 with retry-after": {
			fault: &emu.Fault{Method: "GET", Path: `/invitations$`, Status: 503, RetryAfter: 7},
			run:   step(github.ActionCancelInvitations, "acme-labs"), kind: connectors.Unavailable, status: 503, msg: "Service Unavailable",
			wait: func(t *testing.T, f *fixture) time.Duration { return 7 * time.Second },
		},
		"422 when still a member": {
			fault: &emu.Fault{Method: "DELETE", Path: `/outside_collaborators/`, Status: 422},
			run:   step(github.ActionRemoveOutsideCollaborator, "acme"), kind: connectors.Conflict, status: 422, msg: "Validation Failed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tc.opts)
			var a connectors.Account
			if tc.run.ID != "" {
				a = f.resolve(t, "E1001")
				if tc.run.Action == github.ActionRemoveOutsideCollaborator {
					a = f.resolve(t, "E1004")
				}
			}
			if tc.fault != nil {
				if err := f.emu.Emulator().AddFault(*tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tc.run.ID == "" {
				_, err = f.c.Resolve(t.Context(), f.subject(t, "E1001"))
			} else {
				var out connectors.Outcome
				out, err = f.c.Run(t.Context(), a, tc.run)
				noEmails(t, "records", out.Records...)
			}
			ce := connErr(t, err, tc.kind)
			if ce.Status != tc.status {
				t.Errorf("status %d, want %d", ce.Status, tc.status)
			}
			if !strings.HasPrefix(ce.Msg, tc.msg) {
				t.Errorf("message %q, want it to start %q", ce.Msg, tc.msg)
			}
			var want time.Duration
			if tc.wait != nil {
				want = tc.wait(t, f)
			}
			if ce.RetryAfter != want {
				t.Errorf("RetryAfter %s, want %s", ce.RetryAfter, want)
			}
		})
	}
}

// go-github refuses to send while it knows the primary limit is exhausted
// until a reset in the future; that refusal is RateLimited too, with the
// wait until the reset by the connector's clock.
func TestSDKRefusesWhileExhausted(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var now time.Time // set once the reset is known
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	// Real emulator clock, so the reset is an hour ahead for the SDK too.
	f := setup(t, options{emu: ghemu.Options{RateLimit: 1}, clock: clock})
	if _, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"github": "no-such-user"}}); err == nil {
		t.Fatal("unknown override resolved")
	}
	h := f.rec.Header("/users/no-such-user")
	if h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("limit not exhausted: %v", h)
	}
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	mu.Lock()
	now = time.Unix(reset, 0).Add(-90 * time.Second)
	mu.Unlock()

	_, err := f.c.Resolve(t.Context(), f.subject(t, "E1001"))
	ce := connErr(t, err, connectors.RateLimited)
	if ce.Status != 0 || ce.RetryAfter != 90*time.Second {
		t.Errorf("status %d retry after %s, want no status and 1m30s", ce.Status, ce.RetryAfter)
	}
	if n := len(f.emu.Emulator().Requests()); n != 1 {
		t.Errorf("%d requests reached GitHub, want 1 (the SDK refuses the rest)", n)
	}
}

// A 404 on a removal means it is already gone; so does a 404 on the
// credential authorization list (an org without SAML SSO).
func TestNotFoundIsAlready(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		emp    string
		fault  emu.Fault
		step   connectors.Step
		result connectors.Result
		record string // a record that must be there ("" for none at all)
	}{
		"membership": {"E1001", emu.Fault{Method: "DELETE", Path: `/memberships/`, Status: 404}, step(github.ActionRemoveMembership, "acme"), A, "was already gone"},
		"credential": {"E1001", emu.Fault{Method: "DELETE", Path: `/credential-authorizations/`, Status: 404}, step(github.ActionRevokeCredentialAuthorizations, "acme"), A, "was already revoked"},
		// The PAT is revoked; the request had been reviewed meanwhile.
		"request":         {"E1001", emu.Fault{Method: "POST", Path: `/personal-access-token-requests/`, Status: 404}, step(github.ActionRevokeFineGrainedPATs, "acme"), D, "was already reviewed"},
		"invitation":      {"E1007", emu.Fault{Method: "DELETE", Path: `/invitations/`, Status: 404}, step(github.ActionCancelInvitations, "acme"), A, "was already gone"},
		"outside":         {"E1004", emu.Fault{Method: "DELETE", Path: `/outside_collaborators/`, Status: 404}, step(github.ActionRemoveOutsideCollaborator, "acme"), A, "was already removed"},
		"credential list": {"E1001", emu.Fault{Method: "GET", Path: `/credential-authorizations$`, Status: 404}, step(github.ActionRevokeCredentialAuthorizations, "acme"), A, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, tc.emp)
			if err := f.emu.Emulator().AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			out, err := f.c.Run(t.Context(), a, tc.step)
			if err != nil || out.Result != tc.result {
				t.Fatalf("run: %s %v", out.Result, err)
			}
			all := strings.Join(out.Records, "\n")
			if (tc.record == "" && len(out.Records) != 0) || !strings.Contains(all, tc.record) {
				t.Errorf("records %q, want one with %q", out.Records, tc.record)
			}
			noEmails(t, "records", out.Records...)
		})
	}
}

// Records are gathered before anything is removed, and come back with a
// failure part-way.
func TestPartialFailureKeepsRecords(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	if err := f.emu.Emulator().AddFault(emu.Fault{Method: "DELETE", Path: `/credential-authorizations/`, Status: 502, Times: 1}); err != nil {
		t.Fatal(err)
	}
	out, err := f.c.Run(t.Context(), a, step(github.ActionRevokeCredentialAuthorizations, "acme"))
	connErr(t, err, connectors.Unavailable)
	if len(out.Records) != 2 || !strings.Contains(out.Records[0], "credential_id=") {
		t.Fatalf("records %q", out.Records)
	}
	if !strings.Contains(strings.Join(out.Records, "\n"), "token_last_eight=") || !strings.Contains(strings.Join(out.Records, "\n"), "fingerprint=SHA256:") {
		t.Errorf("records lack the PAT's last eight or the SSH key's fingerprint: %q", out.Records)
	}
	// The retry finishes the job.
	out, err = f.c.Run(t.Context(), a, step(github.ActionRevokeCredentialAuthorizations, "acme"))
	if err != nil || out.Result != D {
		t.Fatalf("retry: %s %v", out.Result, err)
	}
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	f.ts.Close()
	_, err := f.c.Resolve(t.Context(), f.subject(t, "E1001"))
	ce := connErr(t, err, connectors.Unavailable)
	if ce.Status != 0 || strings.Contains(ce.Msg, "/users/") {
		t.Errorf("error %+v", ce)
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	t.Parallel()
	f := setup(t, options{base: "/api/v3"})
	a := f.resolve(t, "E1004")
	for _, st := range f.plan(t, a) {
		if _, err := f.c.Run(t.Context(), a, st); err != nil {
			t.Fatalf("run %s: %v", st.ID, err)
		}
	}
	for _, r := range f.emu.Emulator().Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") {
			t.Fatalf("request outside the base path: %s", r.Path)
		}
	}
	if u := f.user(t, "ltorvalds"); u.Org("acme").Role != "" {
		t.Errorf("still %s", u.Org("acme").Role)
	}
}

// Lists are followed across pages: the person is on the second page of
// 100 outside collaborators, and of 100 invitations.
func TestPagination(t *testing.T) {
	t.Parallel()
	org := &seed.Org{GitHub: seed.GitHubOrgs{Orgs: []string{"big"}}}
	for i := range 260 {
		role := seed.GitHubOrgRole{Org: "big", Role: "outside_collaborator"}
		if i%2 == 1 {
			role = seed.GitHubOrgRole{Org: "big", Role: "invited", EmailInvitation: true}
		}
		org.People = append(org.People, seed.Person{
			EmployeeID: fmt.Sprintf("E%d", i), Email: fmt.Sprintf("p%d@example.com", i),
			Okta:   &seed.OktaUser{ID: fmt.Sprintf("00u%d", i), Status: "ACTIVE", Profile: map[string]string{"githubUsername": fmt.Sprintf("user%d", i)}},
			GitHub: &seed.GitHubUser{Login: fmt.Sprintf("user%d", i), ID: int64(100 + i), Orgs: []seed.GitHubOrgRole{role}},
		})
	}
	f := setup(t, options{org: org})
	for _, tc := range []struct {
		emp, login, role string
		step             connectors.Step
	}{
		{"E258", "user258", "outside_collaborator", step(github.ActionRemoveOutsideCollaborator, "big")},
		{"E259", "user259", "invited", step(github.ActionCancelInvitations, "big")},
	} {
		a := f.resolve(t, tc.emp)
		if a.ID != tc.login || a.Attributes[github.AttrRoles] != "big:"+tc.role {
			t.Fatalf("account %+v", a)
		}
		out, err := f.c.Run(t.Context(), a, tc.step)
		if err != nil || out.Result != D {
			t.Fatalf("run %s: %s %v", tc.step.ID, out.Result, err)
		}
		if err := f.c.Verify(t.Context(), a, tc.step); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	paged := false
	for _, r := range f.emu.Emulator().Requests() {
		if strings.Contains(r.Query, "page=2") {
			paged = true
		}
	}
	if !paged {
		t.Error("no second page was read")
	}
}

// A Retry-After in HTTP-date form is read from the response's Date: a 429
// is RateLimited and a 503 Unavailable with that wait; a date already past
// still asks for a second. The emulator sends only seconds, so a plain
// handler answers.
func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		status int
		after  time.Time
		kind   connectors.Kind
		wait   time.Duration
	}{
		"429":       {429, date.Add(42 * time.Second), connectors.RateLimited, 42 * time.Second},
		"503":       {503, date.Add(3 * time.Minute), connectors.Unavailable, 3 * time.Minute},
		"429, past": {429, date.Add(-time.Minute), connectors.RateLimited, time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", date.Format(http.TimeFormat))
				w.Header().Set("Retry-After", tc.after.Format(http.TimeFormat))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, `{"message":"slow down","documentation_url":"https://docs.github.com/rest"}`)
			}))
			t.Cleanup(ts.Close)
			// The client's clock is far off: the wait comes from Date.
			c, err := github.New(t.Context(), github.Config{Orgs: []string{"acme"}, BaseURL: ts.URL, Token: "t"},
				github.WithClock(func() time.Time { return date.Add(-24 * time.Hour) }))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1", Attributes: map[string]string{"githubUsername": "alovelace"}})
			ce := connErr(t, err, tc.kind)
			if ce.Status != tc.status || ce.RetryAfter != tc.wait {
				t.Errorf("status %d wait %s, want %d %s", ce.Status, ce.RetryAfter, tc.status, tc.wait)
			}
		})
	}
}

// Config.UsernameAttribute names the attribute the login is read from.
func TestUsernameAttribute(t *testing.T) {
	t.Parallel()
	org := demo(t)
	srv := ghemu.New(org, ghemu.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := github.New(t.Context(), github.Config{Orgs: org.GitHub.Orgs, BaseURL: ts.URL, Token: ghemu.DefaultToken, UsernameAttribute: "ghLogin"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"ghLogin": "alovelace"}})
	if err != nil || a.ID != "alovelace" {
		t.Fatalf("resolve by ghLogin: %+v %v", a, err)
	}
	_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"githubUsername": "alovelace"}})
	ce := connErr(t, err, connectors.NotFound)
	if !strings.Contains(ce.Msg, "no ghLogin attribute") {
		t.Errorf("message %q, want it to name the attribute", ce.Msg)
	}
}

// TestCredentialsListedByLogin: credential authorizations are asked for
// by the person's login (GitHub's filter), not page by page for the whole
// org, and only theirs are planned.
func TestCredentialsListedByLogin(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	mark := len(f.emu.Emulator().Requests())
	steps := f.plan(t, a)
	n := 0
	for _, r := range f.emu.Emulator().Requests()[mark:] {
		if strings.HasSuffix(r.Path, "/credential-authorizations") {
			n++
			if q, _ := url.ParseQuery(r.Query); q.Get("login") != a.ID {
				t.Errorf("%s ?%s: want login=%s", r.Path, r.Query, a.ID)
			}
		}
	}
	if n == 0 {
		t.Fatal("the plan listed no credential authorizations")
	}
	for _, st := range steps {
		if st.Action == github.ActionRevokeCredentialAuthorizations && st.Scope == "acme" && len(st.Targets) != 2 {
			t.Errorf("acme credentials planned: %v, want Ada's two", st.Targets)
		}
	}
}

// TestRunActsOnThePlan: the plan takes an active member's membership from
// Resolve and reads no outside-collaborator list for them; a first run acts
// on what its plan read and sends no read of its own; a plan gone stale (an
// invitation made after it) fails its verification, and the run sent again
// without the plan, as the workflow sends it then, reads and acts.
func TestRunActsOnThePlan(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	n := len(f.emu.Emulator().Requests())
	steps := f.plan(t, a)
	for _, r := range f.emu.Emulator().Requests()[n:] {
		if strings.Contains(r.Path, "/memberships/") || strings.Contains(r.Path, "/outside_collaborators") {
			t.Errorf("the plan read %s %s, which Resolve had answered", r.Method, r.Path)
		}
	}
	n = len(f.emu.Emulator().Requests())
	for _, st := range steps {
		if _, err := f.c.Run(t.Context(), a, st); err != nil {
			t.Fatalf("run %s: %v", st.ID, err)
		}
	}
	writes := 0
	for _, r := range f.emu.Emulator().Requests()[n:] {
		if r.Method == http.MethodGet {
			t.Errorf("a first run read %s", r.Path)
		} else {
			writes++
		}
	}
	if writes == 0 {
		t.Error("the runs changed nothing")
	}

	// cshannon is in acme-labs only: nothing to do in acme, until an
	// invitation to the login comes after the plan.
	b := f.resolve(t, "E1016")
	id := "github." + github.ActionRemoveMembership + "/acme"
	steps = f.plan(t, b)
	i := slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
	st := steps[i]
	if st.Found == nil || len(st.Found.IDs) != 0 {
		t.Fatalf("plan of %s found %+v, want nothing", id, st.Found)
	}
	req, err := http.NewRequest(http.MethodPut, f.ts.URL+"/orgs/acme/memberships/cshannon", strings.NewReader(`{"role":"member"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ghemu.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("invite: %v %v", resp, err)
	}
	resp.Body.Close()
	if out, err := f.c.Run(t.Context(), b, st); err != nil || out.Result != A {
		t.Fatalf("run on the stale plan: %s %v, want already", out.Result, err)
	}
	connErr(t, f.c.Verify(t.Context(), b, st), connectors.Conflict)
	st.Found = nil
	if out, err := f.c.Run(t.Context(), b, st); err != nil || out.Result != D || !slices.ContainsFunc(out.Records, func(r string) bool { return strings.Contains(r, "state=pending") }) {
		t.Fatalf("run reading: %s %v %q, want the pending membership removed", out.Result, err, out.Records)
	}
	if err := f.c.Verify(t.Context(), b, st); err != nil {
		t.Errorf("verify: %v", err)
	}
}
