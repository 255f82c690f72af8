package okta_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/emulators/emu"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
)

type fixture struct {
	emu *oktaemu.Server
	ts  *httptest.Server
	c   *okta.Client
	rec *connectorstest.Recorder
}

type options struct {
	org       *seed.Org
	emu       oktaemu.Options
	token     string
	lifecycle string
	before    func(*http.Request)
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

// setup starts an emulator and points the real SDK-based client at it.
func setup(t *testing.T, o options) *fixture {
	t.Helper()
	if o.org == nil {
		o.org = demo(t)
	}
	srv := oktaemu.New(o.org, o.emu)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if o.token == "" {
		o.token = oktaemu.DefaultToken
	}
	rec := &connectorstest.Recorder{Before: o.before}
	c, err := okta.New(t.Context(), okta.Config{
		OrgURL:     ts.URL,
		Token:      config.Secret(o.token),
		Lifecycle:  o.lifecycle,
		HTTPClient: &http.Client{Transport: rec, Timeout: 30 * time.Second},
		Retry:      connectorstest.RetryOr(o.retry),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: srv, ts: ts, c: c, rec: rec}
}

func (f *fixture) resolve(t *testing.T, emp string) connectors.Account {
	t.Helper()
	a, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: emp})
	if err != nil {
		t.Fatalf("resolve %s: %v", emp, err)
	}
	return a
}

func (f *fixture) user(t *testing.T, id string) oktaemu.UserState {
	t.Helper()
	u, ok := f.emu.User(id)
	if !ok {
		t.Fatalf("emulator has no user %s", id)
	}
	return u
}

func (f *fixture) plan(t *testing.T, a connectors.Account) []connectors.Step {
	t.Helper()
	steps, err := f.c.Plan(t.Context(), a)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return steps
}

func step(t *testing.T, steps []connectors.Step, id string) connectors.Step {
	t.Helper()
	i := slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("plan has no %s", id)
	}
	return steps[i]
}

var emailRE = connectorstest.EmailRE

func connErr(t *testing.T, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	return connectorstest.ConnErr(t, err, "okta", kind)
}

const (
	ada      = "00u00000000000001001" // E1001
	grace    = "00u00000000000001002" // E1002
	alan     = "00u00000000000001003" // E1003
	margaret = "00u00000000000001005" // E1005
	ken      = "00u00000000000001006" // E1006
	sophie   = "00u00000000000001013" // E1013
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		cfg  okta.Config
		want string // "" means valid
	}{
		"https org":            {okta.Config{OrgURL: "https://acme.okta.com", Token: "t"}, ""},
		"trailing slash":       {okta.Config{OrgURL: "https://acme.okta.com/", Token: "t"}, ""},
		"http loopback":        {okta.Config{OrgURL: "http://127.0.0.1:8080", Token: "t"}, ""},
		"http localhost":       {okta.Config{OrgURL: "http://localhost:8080", Token: "t", Lifecycle: "deactivate"}, ""},
		"missing URL":          {okta.Config{Token: "t"}, "OrgURL is required"},
		"relative URL":         {okta.Config{OrgURL: "acme.okta.com", Token: "t"}, "not an absolute URL"},
		"plain http elsewhere": {okta.Config{OrgURL: "http://acme.okta.com", Token: "t"}, "must use https"},
		"other scheme":         {okta.Config{OrgURL: "ftp://acme.okta.com", Token: "t"}, "must use https"},
		"path":                 {okta.Config{OrgURL: "https://acme.okta.com/api/v1", Token: "t"}, "without a path"},
		"admin console":        {okta.Config{OrgURL: "https://acme-admin.okta.com", Token: "t"}, "-admin"},
		"credentials in URL":   {okta.Config{OrgURL: "https://u:p@acme.okta.com", Token: "t"}, "credentials"},
		"missing token":        {okta.Config{OrgURL: "https://acme.okta.com"}, "token is required"},
		"blank token":          {okta.Config{OrgURL: "https://acme.okta.com", Token: "  "}, "token is required"},
		"unknown lifecycle":    {okta.Config{OrgURL: "https://acme.okta.com", Token: "t", Lifecycle: "delete"}, `lifecycle "delete"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl, err := okta.New(t.Context(), c.cfg)
			if c.want == "" {
				if err != nil || cl == nil || cl.Name() != "okta" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			ce := connErr(t, err, connectors.InvalidInput)
			if !strings.Contains(ce.Msg, c.want) {
				t.Errorf("message %q lacks %q", ce.Msg, c.want)
			}
		})
	}
	// The token never shows in an error.
	_, err := okta.New(t.Context(), okta.Config{OrgURL: "http://acme.okta.com", Token: "sekrit-token"})
	if err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("error %v", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	// grace without an employeeNumber, to resolve by email; and one more
	// user sharing E1004's number, to be ambiguous.
	org := demo(t)
	for i, p := range org.People {
		switch p.EmployeeID {
		case "E1002":
			org.People[i].Okta.Profile = map[string]string{"employeeNumber": "", "githubUsername": "ghopper"}
		case "E1007":
			org.People[i].Okta.Profile["employeeNumber"] = "E1004"
		}
	}
	f := setup(t, options{org: org})
	cases := map[string]struct {
		s      connectors.Subject
		id     string
		kind   connectors.Kind
		msg    string
		status string
	}{
		"by employee ID":                         {s: connectors.Subject{EmployeeID: "E1001", Email: "someone.else@example.com"}, id: ada, status: "ACTIVE"},
		"suspended":                              {s: connectors.Subject{EmployeeID: "E1003"}, id: alan, status: "SUSPENDED"},
		"deprovisioned":                          {s: connectors.Subject{EmployeeID: "E1013"}, id: sophie, status: "DEPROVISIONED"},
		"by email fallback":                      {s: connectors.Subject{EmployeeID: "E7777", Email: "grace.hopper@example.com"}, id: grace},
		"by email only":                          {s: connectors.Subject{Email: "Grace.Hopper@example.com"}, id: grace},
		"override by id":                         {s: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"okta": margaret}}, id: margaret},
		"override by login":                      {s: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"okta": "ken.thompson@example.com"}}, id: ken},
		"override for another system is ignored": {s: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"github": "x"}}, id: ada},
		"unknown employee":                       {s: connectors.Subject{EmployeeID: "E9999"}, kind: connectors.NotFound, msg: "no Okta user has employeeNumber E9999"},
		"unknown employee and email":             {s: connectors.Subject{EmployeeID: "E9999", Email: "nobody@example.com"}, kind: connectors.NotFound, msg: "E9999"},
		"unknown override":                       {s: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"okta": "nobody@example.com"}}, kind: connectors.InvalidInput, msg: "the okta override for employee E1001 matches no Okta user"},
		"ambiguous employee ID":                  {s: connectors.Subject{EmployeeID: "E1004"}, kind: connectors.InvalidInput, msg: "several Okta users have employeeNumber E1004"},
		"email of someone else":                  {s: connectors.Subject{EmployeeID: "E7777", Email: "ada.lovelace@example.com"}, kind: connectors.InvalidInput, msg: "has employeeNumber E1001, not E7777"},
		"nothing to go by":                       {s: connectors.Subject{}, kind: connectors.InvalidInput, msg: "no employee ID, email or okta override"},
		"quote in employee ID":                   {s: connectors.Subject{EmployeeID: `E1001" or status eq "ACTIVE`}, kind: connectors.NotFound},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := f.c.Resolve(t.Context(), c.s)
			if c.kind != "" {
				ce := connErr(t, err, c.kind)
				if !strings.Contains(ce.Msg, c.msg) {
					t.Errorf("message %q lacks %q", ce.Msg, c.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != c.id || a.System != "okta" || (c.status != "" && a.Status != c.status) {
				t.Errorf("got %+v, want %s %s", a, c.id, c.status)
			}
		})
	}

	t.Run("employee ID as Okta holds it", func(t *testing.T) {
		t.Parallel()
		// Okta's search compares employeeNumber case-insensitively; the
		// account reports the number as Okta holds it.
		a := f.resolve(t, "e1001")
		if a.ID != ada || a.EmployeeID != "E1001" {
			t.Errorf("resolve e1001: ID %s EmployeeID %q, want %s E1001", a.ID, a.EmployeeID, ada)
		}
		if b := f.resolve(t, "E1003"); b.EmployeeID != "E1003" {
			t.Errorf("resolve E1003: EmployeeID %q", b.EmployeeID)
		}
	})

	t.Run("attributes", func(t *testing.T) {
		t.Parallel()
		a := f.resolve(t, "E1001")
		want := map[string]string{"email": "ada.lovelace@example.com", "login": "ada.lovelace@example.com", "employeeNumber": "E1001", "githubUsername": "alovelace", "slackUserId": "U00001001"}
		for k, v := range want {
			if a.Attributes[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, a.Attributes[k], v)
			}
		}
		for _, k := range []string{"firstName", "lastName", "mobilePhone"} {
			if _, ok := a.Attributes[k]; ok {
				t.Errorf("attribute %s should not be carried", k)
			}
		}
	})
}

func stepIDs(steps []connectors.Step) []string {
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestPlan(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	before := f.user(t, ada)
	nreq := len(f.emu.Emulator().Requests())
	steps := f.plan(t, a)

	want := []string{"okta.suspend", "okta.clear-sessions", "okta.revoke-grants", "okta.remove-admin-roles", "okta.remove-groups", "okta.reset-factors"}
	if got := stepIDs(steps); !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	// Suspension cuts first; everything else waits for it, and only for it.
	for _, s := range steps[1:] {
		if !slices.Equal(s.After, []string{"okta.suspend"}) {
			t.Errorf("%s runs after %v, want after okta.suspend", s.ID, s.After)
		}
	}
	for _, s := range steps {
		if s.System != "okta" || "okta."+s.Action != s.ID || s.Description == "" {
			t.Errorf("step %+v", s)
		}
		for _, target := range s.Targets {
			if emailRE.MatchString(target) {
				t.Errorf("target %q is PII", target)
			}
		}
	}
	targets := map[string][]string{
		"okta.remove-admin-roles": {"SUPER_ADMIN"},
		"okta.revoke-grants":      {"0oaJIRA0000000000001", "0oaSLACK000000000001"},
		"okta.remove-groups":      {"00gADMINS00000000001", "00gENGINEERING000001", "00gPROJ0000000000001", "00gPROJ0000000000002", "00gPROJ0000000000003", "00gPROJ0000000000004", "00gPROJ0000000000005"},
		"okta.reset-factors":      {"push", "token:software:totp"},
	}
	for id, want := range targets {
		if got := step(t, steps, id).Targets; !slices.Equal(got, want) {
			t.Errorf("%s targets %v, want %v", id, got, want)
		}
	}
	if !strings.Contains(step(t, steps, "okta.remove-groups").Description, "2 others are skipped") {
		t.Errorf("remove-groups description %q", step(t, steps, "okta.remove-groups").Description)
	}

	// Plan only reads.
	for _, r := range f.emu.Emulator().Requests()[nreq:] {
		if r.Method != http.MethodGet {
			t.Errorf("plan sent %s %s", r.Method, r.Path)
		}
	}
	if after := f.user(t, ada); !equalState(before, after) {
		t.Errorf("plan changed state: %+v -> %+v", before, after)
	}

	d := setup(t, options{lifecycle: okta.LifecycleDeactivate})
	dsteps := d.plan(t, d.resolve(t, "E1001"))
	if got := stepIDs(dsteps); got[0] != "okta.deactivate" || len(got) != 6 {
		t.Errorf("deactivate plan %v", got)
	}
	if after := dsteps[1].After; !slices.Equal(after, []string{"okta.deactivate"}) {
		t.Errorf("with deactivation, %s runs after %v, want after okta.deactivate", dsteps[1].ID, after)
	}
}

func equalState(a, b oktaemu.UserState) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// hasWork says whether a step of a fresh plan has something to do.
func hasWork(s connectors.Step, status string) bool {
	switch s.ID {
	case okta.StepSuspend:
		return status == "ACTIVE"
	case okta.StepDeactivate:
		return status != "DEPROVISIONED"
	case okta.StepClearSessions:
		return true // no session clear in the seeded log
	}
	return len(s.Targets) > 0
}

func TestRunVerifyAndRepeat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		emp, lifecycle string
	}{
		{"E1001", ""}, // admin, grants, factors, APP and BUILT_IN groups
		{"E1002", ""}, // 30+ groups: two pages
		{"E1005", okta.LifecycleDeactivate},
		{"E1021", ""}, // no factors
		{"E1003", okta.LifecycleDeactivate},
	}
	for _, c := range cases {
		t.Run(c.emp+"/"+c.lifecycle, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{lifecycle: c.lifecycle})
			a := f.resolve(t, c.emp)
			steps := f.plan(t, a)

			for _, s := range steps {
				work := hasWork(s, a.Status)
				if work {
					ce := connErr(t, f.c.Verify(t.Context(), a, s), connectors.Conflict)
					if !strings.HasPrefix(ce.Msg, "verify: ") {
						t.Errorf("%s: conflict message %q", s.ID, ce.Msg)
					}
				}
				out, err := f.c.Run(t.Context(), a, s)
				if err != nil {
					t.Fatalf("run %s: %v", s.ID, err)
				}
				want := connectors.ResultAlready
				if work {
					want = connectors.ResultDone
				}
				if out.Result != want {
					t.Errorf("run %s: %s, want %s (%v)", s.ID, out.Result, want, out.Records)
				}
				for _, r := range out.Records {
					if emailRE.MatchString(r) {
						t.Errorf("record %q is PII", r)
					}
				}
				if err := f.c.Verify(t.Context(), a, s); err != nil {
					t.Errorf("verify %s after run: %v", s.ID, err)
				}
			}

			u := f.user(t, a.ID)
			wantStatus := "SUSPENDED"
			if c.lifecycle == okta.LifecycleDeactivate {
				wantStatus = "DEPROVISIONED"
			}
			if u.Status != wantStatus || len(u.Roles) != 0 || len(u.Factors) != 0 || u.Sessions != 0 || len(u.Grants) != 0 || u.OAuthTokens != 0 {
				t.Errorf("emulator state after run: %+v", u)
			}
			for _, g := range u.Groups {
				if g != "00gEVERYONE0000000001" && !strings.HasPrefix(g, "00gAPP") {
					t.Errorf("still in editable group %s", g)
				}
			}

			for _, s := range steps {
				out, err := f.c.Run(t.Context(), a, s)
				if err != nil || out.Result != connectors.ResultAlready {
					t.Errorf("second run of %s: %v %v", s.ID, out, err)
				}
				if err := f.c.Verify(t.Context(), a, s); err != nil {
					t.Errorf("verify %s after second run: %v", s.ID, err)
				}
			}

			for _, r := range f.emu.Emulator().Requests() {
				if r.Method == http.MethodDelete && r.Path == "/api/v1/users/"+a.ID {
					t.Error("DeactivateOrDeleteUser was called")
				}
			}
		})
	}
}

// stepOf is the Okta step of action, as Plan would make it.
func stepOf(action string) connectors.Step { return connectors.NewStep("okta", action, "", "", nil) }

func runStep(t *testing.T, f *fixture, a connectors.Account, action string) connectors.Outcome {
	t.Helper()
	out, err := f.c.Run(t.Context(), a, stepOf(action))
	if err != nil {
		t.Fatalf("run %s: %v", action, err)
	}
	return out
}

func TestManyGroupsArePaged(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1002")
	p, _ := demo(t).Person("E1002")
	if got := step(t, f.plan(t, a), okta.StepRemoveGroups).Targets; len(got) != len(p.Okta.Groups)-1 {
		t.Errorf("plan targets %d groups, want %d (all but Everyone)", len(got), len(p.Okta.Groups)-1)
	}
	out := runStep(t, f, a, okta.ActionRemoveGroups)
	removed := 0
	for _, r := range out.Records {
		if strings.HasPrefix(r, "removed group ") {
			removed++
		}
	}
	if removed != len(p.Okta.Groups)-1 {
		t.Errorf("removed %d groups, want %d", removed, len(p.Okta.Groups)-1)
	}
	paged := false
	for _, r := range f.emu.Emulator().Requests() {
		if r.Path == "/api/v1/users/"+grace+"/groups" && strings.Contains(r.Query, "after=") {
			paged = true
		}
	}
	if !paged {
		t.Error("the second page of groups was never requested")
	}
	if got := f.user(t, grace).Groups; !slices.Equal(got, []string{"00gEVERYONE0000000001"}) {
		t.Errorf("groups left %v", got)
	}
}

func TestAlreadySuspended(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1003")
	out := runStep(t, f, a, okta.ActionSuspend)
	if out.Result != connectors.ResultAlready || !slices.Equal(out.Records, []string{"status SUSPENDED"}) {
		t.Errorf("suspend: %+v", out)
	}
	if err := f.c.Verify(t.Context(), a, stepOf(okta.ActionSuspend)); err != nil {
		t.Error(err)
	}
	if err := f.c.Verify(t.Context(), a, stepOf(okta.ActionDeactivate)); connectors.KindOf(err) != connectors.Conflict {
		t.Errorf("verify deactivate of a SUSPENDED user: %v", err)
	}
	if out := runStep(t, f, a, okta.ActionDeactivate); out.Result != connectors.ResultDone || f.user(t, alan).Status != "DEPROVISIONED" {
		t.Errorf("deactivate: %+v", out)
	}
}

func TestDeprovisioned(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1013")
	for _, action := range []string{okta.ActionRemoveAdminRoles, okta.ActionSuspend, okta.ActionDeactivate, okta.ActionRevokeGrants, okta.ActionRemoveGroups, okta.ActionResetFactors} {
		if out := runStep(t, f, a, action); out.Result != connectors.ResultAlready {
			t.Errorf("%s: %+v", action, out)
		}
		if err := f.c.Verify(t.Context(), a, stepOf(action)); err != nil {
			t.Errorf("verify %s: %v", action, err)
		}
	}
	// Nothing can be read about sessions: the first clear is done, the
	// next is already, by the System Log.
	if out := runStep(t, f, a, okta.ActionClearSessions); out.Result != connectors.ResultDone {
		t.Errorf("first clear: %+v", out)
	}
	if out := runStep(t, f, a, okta.ActionClearSessions); out.Result != connectors.ResultAlready {
		t.Errorf("second clear: %+v", out)
	}
	if err := f.c.Verify(t.Context(), a, stepOf(okta.ActionClearSessions)); err != nil {
		t.Error(err)
	}
}

func TestAppGroupsOnly(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1006")
	if got := step(t, f.plan(t, a), okta.StepRemoveGroups).Targets; len(got) != 0 {
		t.Errorf("plan targets %v", got)
	}
	before := f.user(t, ken).Groups
	out := runStep(t, f, a, okta.ActionRemoveGroups)
	want := []string{"skipped group 00gAPPSALESFORCE0001 (APP_GROUP)", "skipped group 00gAPPWORKDAY0000001 (APP_GROUP)", "skipped group 00gEVERYONE0000000001 (BUILT_IN)"}
	if out.Result != connectors.ResultAlready || !slices.Equal(out.Records, want) {
		t.Errorf("remove-groups: %s %q", out.Result, out.Records)
	}
	if after := f.user(t, ken).Groups; !slices.Equal(before, after) {
		t.Errorf("groups changed: %v -> %v", before, after)
	}
	if err := f.c.Verify(t.Context(), a, stepOf(okta.ActionRemoveGroups)); err != nil {
		t.Error(err)
	}
	for _, r := range f.emu.Emulator().Requests() {
		if r.Method == http.MethodDelete {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
	}
}

func TestRemovalNotFoundIsAlready(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		emp, step, method, path string
	}{
		"role":    {"E1005", okta.ActionRemoveAdminRoles, "DELETE", `^/api/v1/users/[^/]+/roles/`},
		"group":   {"E1005", okta.ActionRemoveGroups, "DELETE", `^/api/v1/groups/[^/]+/users/`},
		"grants":  {"E1001", okta.ActionRevokeGrants, "DELETE", `^/api/v1/users/[^/]+/grants$`},
		"factors": {"E1001", okta.ActionResetFactors, "POST", `/lifecycle/reset_factors$`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			if err := f.emu.Emulator().AddFault(emu.Fault{Method: c.method, Path: c.path, Status: 404}); err != nil {
				t.Fatal(err)
			}
			a := f.resolve(t, c.emp)
			if out := runStep(t, f, a, c.step); out.Result != connectors.ResultAlready || len(out.Records) == 0 {
				t.Errorf("%+v", out)
			}
		})
	}
}

// oob runs a lifecycle operation behind the connector's back, as another
// admin would.
func oob(t *testing.T, ts *httptest.Server, path string) {
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, nil)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Authorization", "SSWS "+oktaemu.DefaultToken)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
}

func TestLifecycleRaces(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		lifecycle, step, op string
		refused             int // what Okta answered the connector's call
	}{
		"suspended meanwhile":   {"", okta.ActionSuspend, "suspend", 400},
		"deactivated meanwhile": {okta.LifecycleDeactivate, okta.ActionDeactivate, "deactivate", 404},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var once sync.Once
			var ts *httptest.Server
			f := setup(t, options{lifecycle: c.lifecycle, before: func(r *http.Request) {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/lifecycle/"+c.op) {
					once.Do(func() { oob(t, ts, r.URL.Path) })
				}
			}})
			ts = f.ts
			a := f.resolve(t, "E1001")
			out := runStep(t, f, a, c.step)
			if out.Result != connectors.ResultAlready {
				t.Errorf("%+v", out)
			}
			var statuses []int
			for _, r := range f.emu.Emulator().Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/lifecycle/"+c.op) {
					statuses = append(statuses, r.Status)
				}
			}
			if !slices.Equal(statuses, []int{200, c.refused}) {
				t.Errorf("lifecycle calls answered %v, want the other admin's 200 then %d", statuses, c.refused)
			}
		})
	}
}

func TestSuspendRefusedExplains(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: `/lifecycle/suspend$`, Status: 400}); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Run(t.Context(), f.resolve(t, "E1001"), stepOf(okta.ActionSuspend))
	ce := connErr(t, err, connectors.InvalidInput)
	if ce.Status != 400 || !strings.Contains(ce.Msg, "E0000001") || !strings.Contains(ce.Msg, "user is ACTIVE") {
		t.Errorf("%+v", ce)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	plan := func(f *fixture, t *testing.T) error {
		_, err := f.c.Plan(t.Context(), connectors.Account{System: "okta", ID: ada})
		return err
	}
	cases := map[string]struct {
		opts   options
		fault  *emu.Fault
		call   func(f *fixture, t *testing.T) error
		kind   connectors.Kind
		status int
		msg    string
		check  func(t *testing.T, f *fixture, ce *connectors.Error)
	}{
		"401 wrong token": {
			opts: options{token: "wrong"},
			call: func(f *fixture, t *testing.T) error {
				_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: "ada.lovelace@example.com"})
				return err
			},
			kind: connectors.Unauthenticated, status: 401, msg: "E0000011: Invalid token provided",
		},
		"403": {
			fault: &emu.Fault{Path: `/roles$`, Status: 403}, call: plan,
			kind: connectors.PermissionDenied, status: 403, msg: "E0000006: You do not have permission to perform the requested action",
		},
		"404 by login is scrubbed": {
			call: func(f *fixture, t *testing.T) error {
				_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"okta": "ada.lovelace@example.org"}})
				return err
			},
			kind: connectors.InvalidInput, status: 404, msg: "okta override for employee E1001",
		},
		"404 on run": {
			call: func(f *fixture, t *testing.T) error {
				_, err := f.c.Run(t.Context(), connectors.Account{System: "okta", ID: "00uGONE"}, stepOf(okta.ActionSuspend))
				return err
			},
			kind: connectors.NotFound, status: 404, msg: "E0000007: Not found: Resource not found: 00uGONE (User)",
		},
		"429 injected": {
			fault: &emu.Fault{Path: `/groups$`, Status: 429, RetryAfter: 7}, call: plan,
			kind: connectors.RateLimited, status: 429, msg: "E0000047",
			check: func(t *testing.T, f *fixture, ce *connectors.Error) {
				if ce.RetryAfter != 7*time.Second || ce.RetryAfter != headerWait(t, f.rec.Header("/api/v1/users/"+ada+"/groups")) {
					t.Errorf("RetryAfter %s", ce.RetryAfter)
				}
			},
		},
		"429 from the rate limit": {
			// A still clock at hh:mm:30 keeps the one-minute window from
			// turning over between requests.
			opts: options{emu: oktaemu.Options{RateLimit: 2, Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC) }}}, call: plan,
			kind: connectors.RateLimited, status: 429, msg: "E0000047",
			check: func(t *testing.T, f *fixture, ce *connectors.Error) {
				// roles and user took the users bucket; grants hit the limit.
				want := headerWait(t, f.rec.Header("/api/v1/users/"+ada+"/grants"))
				if ce.RetryAfter != 30*time.Second || ce.RetryAfter != want {
					t.Errorf("RetryAfter %s, headers say %s", ce.RetryAfter, want)
				}
			},
		},
		"500": {
			fault: &emu.Fault{Path: `/factors$`, Status: 500}, call: plan,
			kind: connectors.Unavailable, status: 500, msg: "E0000009: Internal Server Error",
		},
		"503 with Retry-After": {
			fault: &emu.Fault{Path: `/grants$`, Status: 503, RetryAfter: 4}, call: plan,
			kind: connectors.Unavailable, status: 503, msg: "E0000009",
			check: func(t *testing.T, f *fixture, ce *connectors.Error) {
				if ce.RetryAfter != 4*time.Second {
					t.Errorf("RetryAfter %s", ce.RetryAfter)
				}
			},
		},
		"5xx during an email search": {
			fault: &emu.Fault{Path: `^/api/v1/users$`, Status: 502},
			call: func(f *fixture, t *testing.T) error {
				_, err := f.c.Resolve(t.Context(), connectors.Subject{Email: "ada.lovelace@example.com"})
				return err
			},
			kind: connectors.Unavailable, status: 502,
		},
		"5xx on a removal": {
			fault: &emu.Fault{Method: "DELETE", Path: `^/api/v1/groups/`, Status: 500},
			call: func(f *fixture, t *testing.T) error {
				_, err := f.c.Run(t.Context(), connectors.Account{System: "okta", ID: ada}, stepOf(okta.ActionRemoveGroups))
				return err
			},
			kind: connectors.Unavailable, status: 500,
		},
		"connection refused": {
			call: func(f *fixture, t *testing.T) error {
				f.ts.Close()
				_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"okta": "ada.lovelace@example.com"}})
				return err
			},
			kind: connectors.Unavailable, msg: "connection refused",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.opts)
			if c.fault != nil {
				if err := f.emu.Emulator().AddFault(*c.fault); err != nil {
					t.Fatal(err)
				}
			}
			ce := connErr(t, c.call(f, t), c.kind)
			if ce.Status != c.status {
				t.Errorf("status %d, want %d", ce.Status, c.status)
			}
			if !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("message %q lacks %q", ce.Msg, c.msg)
			}
			if c.check != nil {
				c.check(t, f, ce)
			}
		})
	}
}

// TestRetryAfterHTTPDate checks a 429 whose wait is a Retry-After in
// HTTP-date form, without X-Rate-Limit-Reset: the wait is measured from the
// response's Date. The emulator always sends X-Rate-Limit-Reset, so a plain
// handler answers.
func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", date.Format(http.TimeFormat))
		w.Header().Set("Retry-After", date.Add(42*time.Second).Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[]}`))
	}))
	t.Cleanup(ts.Close)
	c, err := okta.New(t.Context(), okta.Config{OrgURL: ts.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Plan(t.Context(), connectors.Account{System: "okta", ID: ada})
	ce := connErr(t, err, connectors.RateLimited)
	if ce.Status != 429 || ce.RetryAfter != 42*time.Second {
		t.Errorf("status %d RetryAfter %s, want 429 42s", ce.Status, ce.RetryAfter)
	}
}

// headerWait is X-Rate-Limit-Reset minus Date, from a recorded response.
func headerWait(t *testing.T, h http.Header) time.Duration {
	t.Helper()
	if h == nil {
		t.Fatal("no response recorded")
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(reset, 0).Sub(date)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	cases := map[string]struct {
		a  connectors.Account
		st string
	}{
		"unknown step":       {connectors.Account{System: "okta", ID: ada}, "delete-user"},
		"path in account ID": {connectors.Account{System: "okta", ID: "../groups"}, okta.ActionSuspend},
		"empty account ID":   {connectors.Account{System: "okta"}, okta.ActionSuspend},
		"another system":     {connectors.Account{System: "github", ID: ada}, okta.ActionSuspend},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := f.c.Run(t.Context(), c.a, stepOf(c.st))
			connErr(t, err, connectors.InvalidInput)
			connErr(t, f.c.Verify(t.Context(), c.a, stepOf(c.st)), connectors.InvalidInput)
		})
	}
	if n := len(f.emu.Emulator().Requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

// TestConcurrentCallsKeepErrorsApart runs plans for several people at once
// on one client; only the throttled one reports a rate limit, with its own
// headers.
func TestConcurrentCallsKeepErrorsApart(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/api/v1/users/" + margaret + "/roles$", Status: 429, RetryAfter: 9}); err != nil {
		t.Fatal(err)
	}
	people := []string{ada, grace, alan, margaret, ken, sophie}
	errs := make([]error, len(people))
	var wg sync.WaitGroup
	for i, id := range people {
		wg.Go(func() {
			_, errs[i] = f.c.Plan(t.Context(), connectors.Account{System: "okta", ID: id})
		})
	}
	wg.Wait()
	for i, id := range people {
		if id == margaret {
			ce := connErr(t, errs[i], connectors.RateLimited)
			if ce.RetryAfter != 9*time.Second {
				t.Errorf("RetryAfter %s", ce.RetryAfter)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("%s: %v", id, errs[i])
		}
	}
}

// TestDroppedConnectionsFailOnce checks that a server that closes every
// connection gives one Unavailable error, not an endless SDK retry: with
// retries off after one request or so, and with the default retries after
// the bounded few.
func TestDroppedConnectionsFailOnce(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		retry   connectors.RetryPolicy
		maxHits int
	}{
		"retries off":     {connectors.RetryPolicy{MaxRetries: -1}, 3},
		"default retries": {connectors.RetryPolicy{}, 1 + connectors.DefaultMaxRetries},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			hits := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
			}))
			defer ts.Close()
			cl, err := okta.New(t.Context(), okta.Config{OrgURL: ts.URL, Token: "t", HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, Retry: c.retry})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err = cl.Resolve(ctx, connectors.Subject{EmployeeID: "E1001"})
			ce := connErr(t, err, connectors.Unavailable)
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("retried until the deadline: %v", ce)
			}
			mu.Lock()
			defer mu.Unlock()
			if hits > c.maxHits {
				t.Errorf("%d requests for one call, want at most %d", hits, c.maxHits)
			}
		})
	}
}
