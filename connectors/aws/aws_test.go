package aws_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/connectors/connectorstest"
	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

const (
	prod    = "111111111111"
	staging = "222222222222"
	storeID = "d-9067000001"
	inst    = "arn:aws:sso:::instance/ssoins-7223000000000001"
	roleB   = "arn:aws:iam::222222222222:role/OffboardingRole"

	adaSSO    = "90671001-aaaa-4bbb-8ccc-000000001001" // E1001
	francesID = "90671009-aaaa-4bbb-8ccc-000000001009" // E1009
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

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type fixture struct {
	emu   *awsemu.Server
	ts    *httptest.Server
	c     *aws.Client
	clock *clock
	cfg   aws.Config
}

type options struct {
	emu  awsemu.Options
	cfg  func(*aws.Config)
	opts []aws.Option
	// org is the seed; nil is the demo.
	org *seed.Org
}

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// setup starts an emulator and points the SDK-based connector at it: prod
// with the default (management account) key, staging through AssumeRole.
func setup(t *testing.T, o options) *fixture {
	t.Helper()
	clk := &clock{t: start}
	if o.emu.Now == nil {
		o.emu.Now = clk.Now
	}
	// The clock stands still, so every request falls in the same rate
	// window: only the throttling tests keep a low rate.
	for _, r := range []*int{&o.emu.IAMRate, &o.emu.STSRate, &o.emu.IdentityStoreRate, &o.emu.SSOAdminRate, &o.emu.LookupEventsRate} {
		if *r == 0 {
			*r = 1 << 20
		}
	}
	if o.org == nil {
		o.org = demo(t)
	}
	srv := awsemu.New(o.org, o.emu)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cfg := aws.Config{
		Accounts:        []aws.Account{{ID: prod}, {ID: staging, RoleARN: roleB}},
		Endpoint:        ts.URL,
		AccessKeyID:     awsemu.DefaultAccessKeyID,
		SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey),
		IdentityStoreID: storeID,
		InstanceARN:     inst,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	// Reads retry as in production, but without real waits.
	opts := append([]aws.Option{aws.WithClock(clk.Now), aws.WithPolling(time.Millisecond, 5*time.Second), aws.WithReadRetries(aws.DefaultReadAttempts, 10*time.Millisecond)}, o.opts...)
	c, err := aws.New(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: srv, ts: ts, c: c, clock: clk, cfg: cfg}
}

func person(t *testing.T, emp string) connectors.Subject {
	t.Helper()
	p, ok := demo(t).Person(emp)
	if !ok {
		t.Fatalf("no person %s", emp)
	}
	return connectors.Subject{EmployeeID: emp, Email: p.Email}
}

func (f *fixture) resolve(t *testing.T, emp string) connectors.Account {
	t.Helper()
	a, err := f.c.Resolve(t.Context(), person(t, emp))
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

func step(t *testing.T, steps []connectors.Step, id string) connectors.Step {
	t.Helper()
	i := slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("plan has no %s", id)
	}
	return steps[i]
}

func (f *fixture) iamUser(t *testing.T, acct, name string) awsemu.IAMUserState {
	t.Helper()
	u, ok := f.emu.IAMUser(acct, name)
	if !ok {
		t.Fatalf("emulator has no IAM user %s:%s", acct, name)
	}
	return u
}

// scope is the step scope of an IAM user, "<account>:<userId>", with the
// user ID the emulator gave it.
func (f *fixture) scope(t *testing.T, acct, name string) string {
	t.Helper()
	return acct + ":" + f.iamUser(t, acct, name).UserID
}

// demoScope is the scope of a demo IAM user, for test tables built before
// a fixture: the emulator derives user IDs from the seed alone.
func demoScope(t *testing.T, acct, name string) string {
	t.Helper()
	u, ok := awsemu.New(demo(t), awsemu.Options{}).IAMUser(acct, name)
	if !ok {
		t.Fatalf("emulator has no IAM user %s:%s", acct, name)
	}
	return acct + ":" + u.UserID
}

// iamUsersAttr is the AttrIAMUsers entry of an IAM user.
func (f *fixture) iamUsersAttr(t *testing.T, acct, name string) string {
	t.Helper()
	return f.scope(t, acct, name) + ":" + name
}

// paths is the emulator's request log as virtual paths (/iam/Action).
func (f *fixture) paths() []string {
	var out []string
	for _, r := range f.emu.Emulator().Requests() {
		out = append(out, r.Path)
	}
	return out
}

var emailRE = connectorstest.EmailRE

func connErr(t *testing.T, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	return connectorstest.ConnErr(t, err, "aws", kind)
}

// iamNames are the demo's IAM user names (of E1001, E1007 and E1011), which
// must appear in no step ID, scope, Account ID, target, record or error.
var iamNames = []string{"alovelace", "bliskov", "rperlman"}

// noUserName checks an error, and what it wraps, names no IAM user.
func noUserName(t *testing.T, err error) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if name, ok := hasUserName(e.Error()); ok {
			t.Errorf("error %q names IAM user %s", e.Error(), name)
		}
	}
}

func hasUserName(s string) (string, bool) {
	for _, n := range iamNames {
		if strings.Contains(strings.ToLower(s), n) {
			return n, true
		}
	}
	return "", false
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	ok := func(c aws.Config) aws.Config {
		if c.Accounts == nil {
			c.Accounts = []aws.Account{{ID: prod}}
		}
		return c
	}
	cases := map[string]struct {
		cfg  aws.Config
		want string // "" means valid
	}{
		"one account":          {ok(aws.Config{}), ""},
		"role in account":      {aws.Config{Accounts: []aws.Account{{ID: staging, RoleARN: roleB}}}, ""},
		"identity center only": {aws.Config{IdentityStoreID: storeID, InstanceARN: inst, KillSwitchPermissionSets: []string{"AdministratorAccess"}}, ""},
		"static credentials":   {ok(aws.Config{AccessKeyID: "AKIAOFFBOARDEMULATOR", SecretAccessKey: "s"}), ""},
		"loopback endpoint":    {ok(aws.Config{Endpoint: "http://127.0.0.1:9000"}), ""},
		"nothing":              {aws.Config{}, "at least one account"},
		"short account":        {aws.Config{Accounts: []aws.Account{{ID: "1234"}}}, "12-digit"},
		"duplicate account":    {aws.Config{Accounts: []aws.Account{{ID: prod}, {ID: prod}}}, "configured twice"},
		"bad role":             {aws.Config{Accounts: []aws.Account{{ID: prod, RoleARN: "role/x"}}}, "not an IAM role ARN"},
		"role elsewhere":       {aws.Config{Accounts: []aws.Account{{ID: prod, RoleARN: roleB}}}, "role in account 222222222222"},
		"bad region":           {ok(aws.Config{Region: "mars"}), "not an AWS region"},
		"bad sso region":       {aws.Config{IdentityStoreID: storeID, InstanceARN: inst, IdentityCenterRegion: "EU"}, "Identity Center region"},
		"sso region":           {aws.Config{IdentityStoreID: storeID, InstanceARN: inst, IdentityCenterRegion: "eu-west-1"}, ""},
		"store without arn":    {aws.Config{IdentityStoreID: storeID}, "InstanceARN"},
		"bad store":            {aws.Config{IdentityStoreID: "store", InstanceARN: inst}, "identity store ID"},
		"kill without sso":     {ok(aws.Config{KillSwitchPermissionSets: []string{"Admin"}}), "needs IAM Identity Center"},
		"bad kill set":         {aws.Config{IdentityStoreID: storeID, InstanceARN: inst, KillSwitchPermissionSets: []string{"no spaces allowed"}}, "neither a permission set ARN"},
		"half credentials":     {ok(aws.Config{AccessKeyID: "AKIAOFFBOARDEMULATOR"}), "both AccessKeyID and SecretAccessKey"},
		"plain http elsewhere": {ok(aws.Config{Endpoint: "http://aws.example"}), "must use https"},
		"relative endpoint":    {ok(aws.Config{Endpoint: "localhost:9000"}), "not an absolute URL"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl, err := aws.New(t.Context(), c.cfg)
			if c.want == "" {
				if err != nil || cl == nil || cl.Name() != "aws" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			ce := connErr(t, err, connectors.InvalidInput)
			if !strings.Contains(ce.Msg, c.want) {
				t.Errorf("message %q does not mention %q", ce.Msg, c.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ada, radia, barbara := f.scope(t, prod, "alovelace"), f.scope(t, prod, "rperlman"), f.scope(t, prod, "bliskov")
	adaAttr, radiaAttr, barbaraAttr := f.iamUsersAttr(t, prod, "alovelace"), f.iamUsersAttr(t, prod, "rperlman"), f.iamUsersAttr(t, prod, "bliskov")
	cases := map[string]struct {
		subject  connectors.Subject
		id       string
		iamUsers string
		sso      string
		kind     connectors.Kind // error kind, "" for success
	}{
		"E1001 IAM and Identity Center": {subject: person(t, "E1001"), id: adaSSO, iamUsers: adaAttr, sso: adaSSO},
		"E1009 Identity Center only":    {subject: person(t, "E1009"), id: francesID, sso: francesID},
		"E1011 IAM only (no Okta)":      {subject: person(t, "E1011"), id: "iam:" + radia, iamUsers: radiaAttr},
		"E1012 no AWS":                  {subject: person(t, "E1012"), kind: connectors.NotFound},
		"email case differs":            {subject: connectors.Subject{EmployeeID: "E1011", Email: "Radia.Perlman@Example.com"}, id: "iam:" + radia, iamUsers: radiaAttr},
		"override sso":                  {subject: connectors.Subject{EmployeeID: "E1009", Overrides: map[string]string{"aws": "sso:" + francesID}}, id: francesID, sso: francesID},
		"override account and user":     {subject: connectors.Subject{EmployeeID: "E1007", Overrides: map[string]string{"aws": prod + ":bliskov"}}, id: "iam:" + barbara, iamUsers: barbaraAttr},
		"override bare user and sso":    {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": "alovelace, sso:" + adaSSO}}, id: adaSSO, iamUsers: adaAttr, sso: adaSSO},
		"override user named twice":     {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": "alovelace," + prod + ":alovelace"}}, id: "iam:" + ada, iamUsers: adaAttr},
		"override unknown user":         {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": "nobody"}}, kind: connectors.InvalidInput},
		"override unknown sso":          {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": "sso:00000000-0000-4000-8000-000000000000"}}, kind: connectors.InvalidInput},
		// Nothing identifies an AWS account: there is none to close.
		"no email": {subject: connectors.Subject{EmployeeID: "E1001"}, kind: connectors.NotFound},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := f.c.Resolve(t.Context(), c.subject)
			if c.kind != "" {
				connErr(t, err, c.kind)
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if a.System != "aws" || a.ID != c.id || a.Attributes[aws.AttrIAMUsers] != c.iamUsers || a.Attributes[aws.AttrSSOUserID] != c.sso {
				t.Errorf("account %+v, want id %s iamUsers %q sso %q", a, c.id, c.iamUsers, c.sso)
			}
			if emailRE.MatchString(fmt.Sprint(a)) {
				t.Errorf("account carries an email: %+v", a)
			}
		})
	}
}

// TestNoUserNamesInIDs checks that step IDs, scopes and Account IDs, which
// end up in plaintext search attributes, carry IAM user IDs (AIDA…), never
// IAM user names (people's names, even emails); targets, records and errors
// do not carry them either. The names stay in the Account's attributes,
// where IAM's API needs them.
func TestNoUserNamesInIDs(t *testing.T) {
	t.Parallel()
	scopeRE := regexp.MustCompile(`^\d{12}:AIDA[A-Z0-9]+$`)
	cases := map[string]struct {
		subject connectors.Subject
		id      func(f *fixture) string
	}{
		"E1001 by email":                      {subject: person(t, "E1001"), id: func(*fixture) string { return adaSSO }},
		"E1001 by account and user override":  {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": prod + ":alovelace"}}, id: func(f *fixture) string { return "iam:" + f.scope(t, prod, "alovelace") }},
		"E1001 by bare user and sso override": {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"aws": "alovelace,sso:" + adaSSO}}, id: func(*fixture) string { return adaSSO }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			ada := f.scope(t, prod, "alovelace")
			a, err := f.c.Resolve(t.Context(), c.subject)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != c.id(f) {
				t.Errorf("account ID %q, want %q", a.ID, c.id(f))
			}
			if n, ok := hasUserName(a.ID); ok {
				t.Errorf("account ID %q names IAM user %s", a.ID, n)
			}
			// The name is kept where IAM's API needs it.
			if got, want := a.Attributes[aws.AttrIAMUsers], ada+":alovelace"; got != want {
				t.Errorf("attribute %s %q, want %q", aws.AttrIAMUsers, got, want)
			}
			steps := f.plan(t, a)
			iamSteps := 0
			for _, s := range steps {
				for _, v := range append([]string{s.ID, s.Scope}, s.Targets...) {
					if n, ok := hasUserName(v); ok {
						t.Errorf("step %s: %q names IAM user %s", s.ID, v, n)
					}
				}
				if slices.Contains(aws.IAMActions, s.Action) {
					iamSteps++
					if s.Scope != ada || !scopeRE.MatchString(s.Scope) || s.ID != "aws."+s.Action+"/"+ada {
						t.Errorf("IAM step %s scope %q, want %q", s.ID, s.Scope, ada)
					}
				}
			}
			if iamSteps != len(aws.IAMActions) {
				t.Errorf("%d IAM steps, want %d", iamSteps, len(aws.IAMActions))
			}
			for _, s := range steps {
				noUserName(t, f.c.Verify(t.Context(), a, s))
			}
			for id, out := range runAll(t, f, a, steps) {
				for _, r := range out.Records {
					if n, ok := hasUserName(r); ok {
						t.Errorf("step %s: record %q names IAM user %s", id, r, n)
					}
				}
			}
			// The steps acted on the user the attribute names.
			if u := f.iamUser(t, prod, "alovelace"); len(u.AccessKeys) != 0 || len(u.Groups) != 0 {
				t.Errorf("IAM user still has keys or groups: %+v", u)
			}
		})
	}
}

func TestPlanOrder(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	steps := f.plan(t, f.resolve(t, "E1001"))
	ada := f.scope(t, prod, "alovelace")
	var want []string
	for _, a := range aws.IAMActions {
		want = append(want, "aws."+a+"/"+ada)
	}
	for _, a := range aws.SSOActions {
		want = append(want, "aws."+a+"/"+adaSSO)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.ID)
		if s.System != "aws" || s.Scope == "" || !strings.HasSuffix(s.ID, "/"+s.Scope) || s.Description == "" {
			t.Errorf("step %+v is malformed", s)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan\n got %v\nwant %v", got, want)
	}
	u := f.iamUser(t, prod, "alovelace")
	keys := step(t, steps, "aws.deactivate-access-keys/"+ada).Targets
	if len(keys) != 2 || keys[0] != u.AccessKeys[0].ID || keys[1] != u.AccessKeys[1].ID {
		t.Errorf("deactivate targets %v, want the user's keys %v", keys, u.AccessKeys)
	}
	if got := step(t, steps, "aws.remove-groups/"+ada).Targets; !slices.Equal(got, []string{"developers", "oncall"}) {
		t.Errorf("group targets %v", got)
	}
	if got := step(t, steps, "aws.detach-policies/"+ada).Targets; !slices.Equal(got, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "inline:s3-scratch"}) {
		t.Errorf("policy targets %v", got)
	}
	if got := step(t, steps, "aws.sso-remove-assignments/"+adaSSO).Targets; len(got) != 2 {
		t.Errorf("assignment targets %v, want 2", got)
	}
	if got := step(t, steps, "aws.sso-kill-sessions/"+adaSSO).Targets; len(got) != 2 {
		t.Errorf("kill-switch targets %v, want both permission sets", got)
	}
	// Planning reads each list once per user, though several steps plan
	// from it.
	log := strings.Join(f.paths(), " ") + " "
	for _, p := range []string{"/iam/ListAccessKeys", "/iam/ListUserPolicies", "/iam/GetLoginProfile", "/sso/ListAccountAssignmentsForPrincipal"} {
		if n := strings.Count(log, p+" "); n != 1 {
			t.Errorf("plan called %s %d times, want once", p, n)
		}
	}
	// Planning only reads.
	for _, p := range f.paths() {
		action := p[strings.LastIndex(p, "/")+1:]
		if !strings.HasPrefix(action, "List") && !strings.HasPrefix(action, "Get") && !strings.HasPrefix(action, "Describe") && action != "AssumeRole" {
			t.Errorf("plan called %s", p)
		}
	}
}

// runAll runs every step twice and verifies it after the first run. It
// returns the first run's outcomes by step ID.
func runAll(t *testing.T, f *fixture, a connectors.Account, steps []connectors.Step) map[string]connectors.Outcome {
	t.Helper()
	outs := map[string]connectors.Outcome{}
	for _, s := range steps {
		out, err := f.c.Run(t.Context(), a, s)
		if err != nil {
			t.Fatalf("run %s: %v", s.ID, err)
		}
		outs[s.ID] = out
		if err := f.c.Verify(t.Context(), a, s); err != nil {
			t.Fatalf("verify %s: %v", s.ID, err)
		}
	}
	// Each step again as an activity's retry sends it, with what the plan
	// found: safe, no error, still verified.
	for _, s := range steps {
		if _, err := f.c.Run(t.Context(), a, s); err != nil {
			t.Fatalf("retried run %s: %v", s.ID, err)
		}
		if err := f.c.Verify(t.Context(), a, s); err != nil {
			t.Errorf("verify %s after the retried run: %v", s.ID, err)
		}
	}
	// Everything again as a re-run sends it, reading: all already.
	for _, s := range steps {
		s.Found = nil
		out, err := f.c.Run(t.Context(), a, s)
		if err != nil {
			t.Fatalf("second run %s: %v", s.ID, err)
		}
		if out.Result != connectors.ResultAlready {
			t.Errorf("second run of %s: %s, want already (records %v)", s.ID, out.Result, out.Records)
		}
		if err := f.c.Verify(t.Context(), a, s); err != nil {
			t.Errorf("verify %s after the second run: %v", s.ID, err)
		}
	}
	return outs
}

func TestRunVerifyAndRepeat(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		emp      string
		iamUsers []string // user names in prod
		sso      string
		done     int // steps whose first run changes something
	}{
		"E1001 IAM and Identity Center":         {emp: "E1001", iamUsers: []string{"alovelace"}, sso: adaSSO, done: 13},
		"E1009 Identity Center in two accounts": {emp: "E1009", sso: francesID, done: 3},
		// No service credentials or signing certificates.
		"E1011 AWS and Google only": {emp: "E1011", iamUsers: []string{"rperlman"}, done: 8},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, c.emp)
			steps := f.plan(t, a)
			if want := 10*len(c.iamUsers) + 3*min(len(c.sso), 1); len(steps) != want {
				t.Fatalf("%d steps, want %d", len(steps), want)
			}
			outs := runAll(t, f, a, steps)
			n := 0
			for _, o := range outs {
				if o.Result == connectors.ResultDone {
					n++
				}
			}
			if n != c.done {
				t.Errorf("%d steps did something on the first run, want %d: %v", n, c.done, outs)
			}
			for _, name := range c.iamUsers {
				u := f.iamUser(t, prod, name)
				if len(u.AccessKeys) != 0 || u.LoginProfile || len(u.MFADevices) != 0 || len(u.SSHKeys) != 0 || len(u.ServiceCredentials) != 0 ||
					len(u.SigningCertificates) != 0 || len(u.Groups) != 0 || len(u.ManagedPolicies) != 0 {
					t.Errorf("IAM user %s still has access: %+v", name, u)
				}
				if !slices.Equal(u.InlinePolicies, []string{aws.RevokePolicyName}) {
					t.Errorf("inline policies %v, want only %s", u.InlinePolicies, aws.RevokePolicyName)
				}
			}
			if c.sso != "" {
				u, ok := f.emu.SSOUser(c.sso)
				if !ok || len(u.Groups) != 0 || len(u.Assignments) != 0 {
					t.Errorf("Identity Center user %+v still has groups or assignments", u)
				}
				for _, ps := range f.emu.State().PermissionSets {
					if !strings.Contains(ps.InlinePolicy, c.sso) || len(ps.NotProvisioned) != 0 {
						t.Errorf("permission set %s: policy %s, not provisioned in %v", ps.Name, ps.InlinePolicy, ps.NotProvisioned)
					}
				}
			}
		})
	}
}

func TestKeysRecordedBeforeTheyChange(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	before := f.iamUser(t, prod, "alovelace")
	scope := f.scope(t, prod, "alovelace")

	// The run acts on the keys its plan listed (Step.Found): the list comes
	// before every change, and the run does not list them again.
	mark := len(f.paths())
	steps := f.plan(t, a)
	out, err := f.c.Run(t.Context(), a, step(t, steps, "aws.deactivate-access-keys/"+scope))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range before.AccessKeys {
		rec := slices.IndexFunc(out.Records, func(r string) bool {
			return strings.HasPrefix(r, "key "+k.ID+" Active") && strings.Contains(r, "last used")
		})
		if rec < 0 {
			t.Errorf("records %v do not record key %s with its status and last use", out.Records, k.ID)
		}
	}
	if !slices.ContainsFunc(out.Records, func(r string) bool { return strings.Contains(r, "service s3, region us-east-1") }) {
		t.Errorf("records %v lack the last-used service of the used key", out.Records)
	}
	// The keys are listed (the statuses recorded) before any changes;
	// their last use, which deactivation leaves as it was, is read at the
	// same time as the deactivations, so the cut does not wait for it.
	log := f.paths()[mark:]
	list, firstWrite := slices.Index(log, "/iam/ListAccessKeys"), slices.IndexFunc(log, func(p string) bool {
		return p == "/iam/UpdateAccessKey" || p == "/iam/DeleteAccessKey"
	})
	if n := strings.Count(strings.Join(log, " "), "/iam/GetAccessKeyLastUsed"); n != len(before.AccessKeys) {
		t.Errorf("GetAccessKeyLastUsed called %d times, want %d: %v", n, len(before.AccessKeys), log)
	}
	if n := strings.Count(strings.Join(log, " "), "/iam/ListAccessKeys"); n != 1 {
		t.Errorf("ListAccessKeys called %d times by the plan and the run, want once: %v", n, log)
	}
	if list < 0 || firstWrite < 0 || list > firstWrite {
		t.Errorf("keys were not listed before the first change: %v", log)
	}
	for _, k := range f.iamUser(t, prod, "alovelace").AccessKeys {
		if k.Status != "Inactive" {
			t.Errorf("key %s is %s", k.ID, k.Status)
		}
	}

	mark = len(f.paths())
	out, err = f.c.Run(t.Context(), a, step(t, steps, "aws.delete-access-keys/"+scope))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range before.AccessKeys {
		rec := slices.IndexFunc(out.Records, func(r string) bool { return strings.HasPrefix(r, "access key "+k.ID+" (Inactive, created ") })
		rm := slices.IndexFunc(out.Records, func(r string) bool { return strings.HasPrefix(r, "removed access key "+k.ID) })
		if rec < 0 || rm < rec {
			t.Errorf("records %v do not record key %s before removing it", out.Records, k.ID)
		}
	}
	log = f.paths()[mark:]
	if i, j := slices.Index(log, "/iam/ListAccessKeys"), slices.Index(log, "/iam/DeleteAccessKey"); i < 0 || j < 0 || i > j {
		t.Errorf("keys were not listed before deletion: %v", log)
	}
}

func TestRevokeSessionsPolicy(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1011")
	steps := f.plan(t, a)
	scope := f.scope(t, prod, "rperlman")
	// The plan found no deny: the run puts it without reading again.
	mark := len(f.paths())
	out, err := f.c.Run(t.Context(), a, step(t, steps, "aws.revoke-sessions/"+scope))
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("revoke-sessions: %v %v", out, err)
	}
	if log := f.paths()[mark:]; !slices.Equal(log, []string{"/iam/PutUserPolicy"}) {
		t.Errorf("the run with what its plan found called %v, want only PutUserPolicy", log)
	}
	// Later runs read, as the workflow sends them (without Step.Found).
	for i := range steps {
		steps[i].Found = nil
	}
	cutoff := start.Add(time.Second).Format(time.RFC3339)
	if want := "denied sessions issued before " + cutoff + " (policy " + aws.RevokePolicyName + ")"; !slices.Contains(out.Records, want) {
		t.Errorf("records %v, want %q", out.Records, want)
	}
	// Later steps keep the deny, and a later clock does not move it.
	f.clock.Add(time.Hour)
	for _, id := range []string{"aws.detach-policies/" + scope, "aws.revoke-sessions/" + scope} {
		if _, err := f.c.Run(t.Context(), a, step(t, steps, id)); err != nil {
			t.Fatal(err)
		}
	}
	out, err = f.c.Run(t.Context(), a, step(t, steps, "aws.revoke-sessions/"+scope))
	if err != nil || out.Result != connectors.ResultAlready || !slices.Contains(out.Records, "sessions issued before "+cutoff+" are denied") {
		t.Errorf("rerun: %+v %v", out, err)
	}
	if got := f.iamUser(t, prod, "rperlman").InlinePolicies; !slices.Equal(got, []string{aws.RevokePolicyName}) {
		t.Errorf("inline policies %v", got)
	}
	if err := f.c.Verify(t.Context(), a, step(t, steps, "aws.revoke-sessions/"+scope)); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// ssoAdmin is a real ssoadmin client on the emulator, for arranging state.
func (f *fixture) ssoAdmin() *ssoadmin.Client {
	return ssoadmin.NewFromConfig(sdkaws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, ""),
		RetryMaxAttempts: 1,
		BaseEndpoint:     sdkaws.String(f.ts.URL),
	})
}

func TestKillSwitchKeepsOthers(t *testing.T) {
	t.Parallel()
	f := setup(t, options{cfg: func(c *aws.Config) { c.KillSwitchPermissionSets = []string{"AdministratorAccess"} }})
	admin, _ := f.emu.PermissionSet("AdministratorAccess")
	readOnly, _ := f.emu.PermissionSet("ReadOnlyAccess")
	const other = "906710ff-aaaa-4bbb-8ccc-0000000010ff"
	prestaged := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"DenyBilling","Effect":"Deny","Action":"aws-portal:*","Resource":"*"},` +
		`{"Sid":"DepartedUsers","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":["` + other + `"]}}}]}`
	if _, err := f.ssoAdmin().PutInlinePolicyToPermissionSet(t.Context(), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: sdkaws.String(inst), PermissionSetArn: sdkaws.String(admin.ARN), InlinePolicy: sdkaws.String(prestaged),
	}); err != nil {
		t.Fatal(err)
	}
	a := f.resolve(t, "E1001")
	st := step(t, f.plan(t, a), "aws.sso-kill-sessions/"+adaSSO)
	if !slices.Equal(st.Targets, []string{admin.ARN}) {
		t.Fatalf("targets %v, want only AdministratorAccess", st.Targets)
	}
	out, err := f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("run: %+v %v", out, err)
	}
	first, _ := f.emu.PermissionSet("AdministratorAccess")
	var doc struct {
		Statement []struct {
			Sid       string
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(first.InlinePolicy), &doc); err != nil {
		t.Fatalf("policy %s: %v", first.InlinePolicy, err)
	}
	if len(doc.Statement) != 2 || doc.Statement[0].Sid != "DenyBilling" || doc.Statement[1].Sid != "DepartedUsers" {
		t.Fatalf("statements changed: %s", first.InlinePolicy)
	}
	if ids := doc.Statement[1].Condition["StringEquals"]["identitystore:UserId"]; !slices.Equal(ids, []string{other, adaSSO}) {
		t.Errorf("denied IDs %v, want the other user kept and the leaver added", ids)
	}
	if len(first.NotProvisioned) != 0 || first.Version != admin.Version+2 {
		t.Errorf("after the run: version %d (was %d), not provisioned in %v", first.Version, admin.Version, first.NotProvisioned)
	}
	if ro, _ := f.emu.PermissionSet("ReadOnlyAccess"); ro.InlinePolicy != readOnly.InlinePolicy || ro.Version != readOnly.Version {
		t.Errorf("ReadOnlyAccess was changed: %+v", ro)
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Errorf("verify: %v", err)
	}

	out, err = f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultAlready {
		t.Fatalf("second run: %+v %v", out, err)
	}
	if second, _ := f.emu.PermissionSet("AdministratorAccess"); second.InlinePolicy != first.InlinePolicy || second.Version != first.Version {
		t.Errorf("second run changed the policy:\n%s\n%s", first.InlinePolicy, second.InlinePolicy)
	}

	// Another leaver joins the same statement.
	b := f.resolve(t, "E1009")
	if _, err := f.c.Run(t.Context(), b, step(t, f.plan(t, b), "aws.sso-kill-sessions/"+francesID)); err != nil {
		t.Fatal(err)
	}
	third, _ := f.emu.PermissionSet("AdministratorAccess")
	if !strings.Contains(third.InlinePolicy, `["`+other+`","`+adaSSO+`","`+francesID+`"]`) {
		t.Errorf("policy after a second leaver: %s", third.InlinePolicy)
	}
}

func TestKillSwitchVerifyNeedsProvisioning(t *testing.T) {
	t.Parallel()
	f := setup(t, options{cfg: func(c *aws.Config) { c.KillSwitchPermissionSets = []string{"ReadOnlyAccess"} }})
	a := f.resolve(t, "E1001")
	st := step(t, f.plan(t, a), "aws.sso-kill-sessions/"+adaSSO)
	if err := f.c.Verify(t.Context(), a, st); err == nil {
		t.Fatal("verify passed before the run")
	}
	// The deny is in place but provisioning fails: verify must not pass.
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/sso/ProvisionPermissionSet$", Status: 500, Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Run(t.Context(), a, st)
	connErr(t, err, connectors.Unavailable)
	ce := connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
	if !strings.Contains(ce.Msg, "not provisioned") {
		t.Errorf("verify message %q", ce.Msg)
	}
	out, err := f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultDone || !slices.ContainsFunc(out.Records, func(r string) bool { return strings.Contains(r, "already denied") }) {
		t.Fatalf("rerun: %+v %v", out, err)
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestAssignmentDeletionPolls(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1009")
	st := step(t, f.plan(t, a), "aws.sso-remove-assignments/"+francesID)
	mark := len(f.paths())
	out, err := f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("run: %+v %v", out, err)
	}
	log := f.paths()[mark:]
	count := func(p string) int { return strings.Count(strings.Join(log, " ")+" ", p+" ") }
	if count("/sso/DeleteAccountAssignment") != 2 || count("/sso/DescribeAccountAssignmentDeletionStatus") != 4 {
		t.Errorf("want 2 deletions each polled twice (IN_PROGRESS, then SUCCEEDED): %v", log)
	}
	for _, acct := range []string{prod, staging} {
		if !slices.ContainsFunc(out.Records, func(r string) bool {
			return strings.HasPrefix(r, "assignment of permission set ") && strings.HasSuffix(r, "in account "+acct)
		}) || !slices.ContainsFunc(out.Records, func(r string) bool { return strings.HasPrefix(r, "deleted assignment "+acct+":") }) {
			t.Errorf("records %v lack account %s", out.Records, acct)
		}
	}
	if u, _ := f.emu.SSOUser(francesID); len(u.Assignments) != 0 {
		t.Errorf("assignments left: %v", u.Assignments)
	}
}

func TestAssignmentDeletionTimesOut(t *testing.T) {
	t.Parallel()
	f := setup(t, options{opts: []aws.Option{aws.WithPolling(time.Millisecond, time.Nanosecond)}})
	a := f.resolve(t, "E1009")
	st := step(t, f.plan(t, a), "aws.sso-remove-assignments/"+francesID)
	_, err := f.c.Run(t.Context(), a, st)
	ce := connErr(t, err, connectors.Unavailable)
	if !strings.Contains(ce.Msg, "IN_PROGRESS") {
		t.Errorf("message %q", ce.Msg)
	}
	connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
	// AWS finishes in the background; the next run finds nothing to do.
	f.clock.Add(3 * time.Second)
	out, err := f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultAlready {
		t.Fatalf("rerun: %+v %v", out, err)
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	scope := demoScope(t, prod, "alovelace")
	cases := map[string]struct {
		fault      emu.Fault
		step       string
		kind       connectors.Kind
		status     int
		code       string
		retryAfter time.Duration
	}{
		"403 access denied":        {fault: emu.Fault{Path: "^/iam/UpdateAccessKey$", Status: 403}, step: "aws.deactivate-access-keys/" + scope, kind: connectors.PermissionDenied, status: 403, code: "AccessDenied"},
		"401 invalid token":        {fault: emu.Fault{Path: "^/iam/ListSSHPublicKeys$", Status: 401}, step: "aws.delete-ssh-keys/" + scope, kind: connectors.Unauthenticated, status: 401, code: "InvalidClientTokenId"},
		"429 with Retry-After":     {fault: emu.Fault{Path: "^/iam/ListGroupsForUser$", Status: 429, RetryAfter: 7}, step: "aws.remove-groups/" + scope, kind: connectors.RateLimited, status: 429, code: "Throttling", retryAfter: 7 * time.Second},
		"409 temporarily unmodif.": {fault: emu.Fault{Path: "^/iam/DeleteLoginProfile$", Status: 409}, step: "aws.delete-login-profile/" + scope, kind: connectors.Unavailable, status: 409, code: "EntityTemporarilyUnmodifiable"},
		"500 service failure":      {fault: emu.Fault{Path: "^/iam/DetachUserPolicy$", Status: 500}, step: "aws.detach-policies/" + scope, kind: connectors.Unavailable, status: 500, code: "ServiceFailure"},
		"503 with Retry-After":     {fault: emu.Fault{Path: "^/iam/PutUserPolicy$", Status: 503, RetryAfter: 4}, step: "aws.revoke-sessions/" + scope, kind: connectors.Unavailable, status: 503, code: "ServiceUnavailable", retryAfter: 4 * time.Second},
		"403 identity store":       {fault: emu.Fault{Path: "^/identitystore/DeleteGroupMembership$", Status: 403}, step: "aws.sso-remove-groups/" + adaSSO, kind: connectors.PermissionDenied, status: 403, code: "AccessDeniedException"},
		"429 admin API":            {fault: emu.Fault{Path: "^/sso/DeleteAccountAssignment$", Status: 429, RetryAfter: 3}, step: "aws.sso-remove-assignments/" + adaSSO, kind: connectors.RateLimited, status: 429, code: "ThrottlingException", retryAfter: 3 * time.Second},
		"409 admin API conflict":   {fault: emu.Fault{Path: "^/sso/PutInlinePolicyToPermissionSet$", Status: 409}, step: "aws.sso-kill-sessions/" + adaSSO, kind: connectors.Conflict, status: 409, code: "ConflictException"},
		"500 admin API":            {fault: emu.Fault{Path: "^/sso/DescribeAccountAssignmentDeletionStatus$", Status: 500}, step: "aws.sso-remove-assignments/" + adaSSO, kind: connectors.Unavailable, status: 500, code: "InternalServerException"},
		"403 assume role":          {fault: emu.Fault{Path: "^/sts/AssumeRole$", Status: 403}, step: "", kind: connectors.PermissionDenied, status: 403, code: "AccessDenied"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, "E1001")
			steps := f.plan(t, a)
			if err := f.emu.Emulator().AddFault(c.fault); err != nil {
				t.Fatal(err)
			}
			var err error
			if c.step == "" {
				// Staging is reached through AssumeRole; E1009 has no IAM
				// user there, so resolving by email searches it.
				_, err = f.c.Resolve(t.Context(), person(t, "E1009"))
			} else {
				_, err = f.c.Run(t.Context(), a, step(t, steps, c.step))
			}
			ce := connErr(t, err, c.kind)
			if ce.Status != c.status || ce.RetryAfter != c.retryAfter || !strings.HasPrefix(ce.Msg, c.code+": ") {
				t.Errorf("error %q: status %d retryAfter %s, want %d %s code %s", ce, ce.Status, ce.RetryAfter, c.status, c.retryAfter, c.code)
			}
			if c.step == "" && !strings.HasPrefix(ce.Op, "assume role "+roleB) {
				t.Errorf("op %q does not name the role", ce.Op)
			}
		})
	}
}

func TestRemovalNotFoundIsAlready(t *testing.T) {
	t.Parallel()
	scope := demoScope(t, prod, "alovelace")
	cases := map[string]struct {
		path, step string
	}{
		"login profile":    {"^/iam/DeleteLoginProfile$", "aws.delete-login-profile/" + scope},
		"ssh key":          {"^/iam/DeleteSSHPublicKey$", "aws.delete-ssh-keys/" + scope},
		"group":            {"^/iam/RemoveUserFromGroup$", "aws.remove-groups/" + scope},
		"group membership": {"^/identitystore/DeleteGroupMembership$", "aws.sso-remove-groups/" + adaSSO},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			a := f.resolve(t, "E1001")
			steps := f.plan(t, a)
			if err := f.emu.Emulator().AddFault(emu.Fault{Path: c.path, Status: 404}); err != nil {
				t.Fatal(err)
			}
			out, err := f.c.Run(t.Context(), a, step(t, steps, c.step))
			if err != nil || out.Result != connectors.ResultAlready {
				t.Errorf("run with 404 removals: %+v %v, want already", out, err)
			}
		})
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opts       awsemu.Options
		emp        string
		code       string
		status     int
		retryAfter time.Duration
	}{
		// Resolving E1011 makes 5 IAM calls (list users, 4 user tags).
		"IAM": {opts: awsemu.Options{IAMRate: 5}, emp: "E1011", code: "Throttling", status: 400},
		// Resolving E1009 makes 2 identity store calls; the store sends
		// Retry-After.
		"identity store": {opts: awsemu.Options{IdentityStoreRate: 2}, emp: "E1009", code: "ThrottlingException", status: 429, retryAfter: time.Second},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{emu: c.opts, cfg: func(cfg *aws.Config) { cfg.Accounts = cfg.Accounts[:1] }})
			if _, err := f.c.Resolve(t.Context(), person(t, c.emp)); err != nil {
				t.Fatalf("first resolve, within the rate: %v", err)
			}
			_, err := f.c.Resolve(t.Context(), person(t, c.emp))
			ce := connErr(t, err, connectors.RateLimited)
			if ce.Status != c.status || ce.RetryAfter != c.retryAfter || !strings.HasPrefix(ce.Msg, c.code+": ") {
				t.Errorf("error %q: status %d retryAfter %s", ce, ce.Status, ce.RetryAfter)
			}
			// The next second's window lets it through.
			f.clock.Add(time.Second)
			if _, err := f.c.Resolve(t.Context(), person(t, c.emp)); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		key, secret string
		code        string
	}{
		"unknown key":  {"AKIAUNKNOWNUNKNOWN00", "secret", "InvalidClientTokenId"},
		"wrong secret": {awsemu.DefaultAccessKeyID, "wrong", "SignatureDoesNotMatch"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{cfg: func(cfg *aws.Config) {
				cfg.Accounts, cfg.AccessKeyID, cfg.SecretAccessKey = cfg.Accounts[:1], c.key, config.Secret(c.secret)
			}})
			_, err := f.c.Resolve(t.Context(), person(t, "E1011"))
			ce := connErr(t, err, connectors.Unauthenticated)
			if ce.Status != 403 || !strings.HasPrefix(ce.Msg, c.code+": ") {
				t.Errorf("error %q", ce)
			}
		})
	}
}

func TestDefaultCredentialsMustMatchAccount(t *testing.T) {
	t.Parallel()
	f := setup(t, options{cfg: func(cfg *aws.Config) { cfg.Accounts = []aws.Account{{ID: staging}} }})
	_, err := f.c.Resolve(t.Context(), person(t, "E1011"))
	ce := connErr(t, err, connectors.InvalidInput)
	if !strings.Contains(ce.Msg, "belong to account "+prod+", not "+staging) {
		t.Errorf("message %q", ce.Msg)
	}
	for _, p := range f.paths() {
		if strings.HasPrefix(p, "/iam/") {
			t.Errorf("called IAM with credentials of another account: %s", p)
		}
	}
}

func TestStagingThroughAssumedRole(t *testing.T) {
	t.Parallel()
	// The SDK caches the session until its expiry by the real clock, so
	// the emulator issues it by the real clock too.
	f := setup(t, options{emu: awsemu.Options{Now: time.Now}})
	// An IAM user exists only in staging when the test makes one there:
	// the demo has none, so resolve shows the role was used and searched.
	if _, err := f.c.Resolve(t.Context(), person(t, "E1011")); err != nil {
		t.Fatal(err)
	}
	log := strings.Join(f.paths(), " ")
	if !strings.Contains(log, "/sts/AssumeRole") || strings.Count(log, "/iam/ListUsers") != 2 {
		t.Errorf("want AssumeRole and a user listing in each account: %s", log)
	}
	// The session is cached: resolving again assumes no role.
	n := strings.Count(log, "/sts/AssumeRole")
	if _, err := f.c.Resolve(t.Context(), person(t, "E1011")); err != nil {
		t.Fatal(err)
	}
	if m := strings.Count(strings.Join(f.paths(), " "), "/sts/AssumeRole"); m != n {
		t.Errorf("AssumeRole called %d times, want %d", m, n)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	steps := f.plan(t, a)
	other := f.resolve(t, "E1011")
	cases := map[string]struct {
		a    connectors.Account
		step connectors.Step
	}{
		"other system":        {connectors.Account{System: "okta", ID: "x"}, steps[0]},
		"no users":            {connectors.Account{System: "aws", ID: "x"}, steps[0]},
		"step of another":     {other, steps[0]},
		"sso step of another": {other, steps[len(steps)-1]},
		"unknown action":      {a, connectors.NewStep("aws", "delete-user", f.scope(t, prod, "alovelace"), "", nil)},
		"not an aws step":     {a, connectors.NewStep("okta", "suspend", "", "", nil)},
		"aws step of okta":    {a, connectors.Step{ID: steps[0].ID, System: "okta", Action: steps[0].Action, Scope: steps[0].Scope}},
		"no action or scope":  {a, connectors.Step{ID: steps[0].ID, System: "aws"}},
		"sso step no scope":   {a, connectors.Step{ID: "aws.sso-kill-sessions", System: "aws", Action: aws.ActionSSOKillSessions}},
		"unconfigured account": {connectors.Account{System: "aws", ID: "iam:333333333333:AIDAXXXXXXXXXXXXXXXXX", Attributes: map[string]string{aws.AttrIAMUsers: "333333333333:AIDAXXXXXXXXXXXXXXXXX:x"}},
			connectors.NewStep("aws", aws.ActionRemoveGroups, "333333333333:AIDAXXXXXXXXXXXXXXXXX", "", nil)},
		// Before user IDs, the attribute and step scopes named users.
		"old attribute": {connectors.Account{System: "aws", ID: "iam:" + prod + ":alovelace", Attributes: map[string]string{aws.AttrIAMUsers: prod + ":alovelace"}},
			connectors.NewStep("aws", aws.ActionRemoveGroups, prod+":alovelace", "", nil)},
		"step named by user name":     {a, connectors.NewStep("aws", aws.ActionRemoveGroups, prod+":alovelace", "", nil)},
		"sso step named by user name": {a, connectors.NewStep("aws", aws.ActionSSORemoveGroups, "alovelace", "", nil)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := f.c.Run(t.Context(), c.a, c.step)
			noUserName(t, connErr(t, err, connectors.InvalidInput))
			noUserName(t, connErr(t, f.c.Verify(t.Context(), c.a, c.step), connectors.InvalidInput))
		})
	}
}

func TestVerifyFailsBeforeRun(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	for _, s := range f.plan(t, a) {
		err := f.c.Verify(t.Context(), a, s)
		ce := connErr(t, err, connectors.Conflict)
		if !strings.HasPrefix(ce.Msg, "verify: ") {
			t.Errorf("%s: message %q", s.ID, ce.Msg)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c, err := aws.New(t.Context(), aws.Config{Accounts: []aws.Account{{ID: prod}}, Endpoint: url,
		AccessKeyID: awsemu.DefaultAccessKeyID, SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(t.Context(), person(t, "E1011"))
	ce := connErr(t, err, connectors.Unavailable)
	if ce.Status != 0 {
		t.Errorf("status %d", ce.Status)
	}
}

func TestLookupEvents(t *testing.T) {
	t.Parallel()
	f := setup(t, options{emu: awsemu.Options{LookupEventsRate: 2}, opts: []aws.Option{aws.WithLookupPace(0)}})
	a := f.resolve(t, "E1011")
	steps := f.plan(t, a)
	keys := f.iamUser(t, prod, "rperlman").AccessKeys
	radia := f.scope(t, prod, "rperlman")
	for _, id := range []string{"aws.deactivate-access-keys/" + radia, "aws.delete-login-profile/" + radia} {
		f.clock.Add(time.Minute)
		if _, err := f.c.Run(t.Context(), a, step(t, steps, id)); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(time.Second)
	evs, err := f.c.LookupEvents(t.Context(), prod, aws.LookupResourceName, "rperlman", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
		if e.Source != "iam.amazonaws.com" || e.Record == "" || e.ReadOnly || !slices.Contains(e.Resources, "AWS::IAM::User:rperlman") {
			t.Errorf("event %+v", e)
		}
	}
	if !slices.Equal(names, []string{"DeleteLoginProfile", "UpdateAccessKey", "UpdateAccessKey"}) {
		t.Errorf("events newest first: %v", names)
	}
	f.clock.Add(time.Second)
	byKey, err := f.c.LookupEvents(t.Context(), prod, aws.LookupResourceName, keys[0].ID, start, start.Add(time.Hour), 0)
	if err != nil || len(byKey) != 1 || byKey[0].Name != "UpdateAccessKey" {
		t.Errorf("by key: %+v %v", byKey, err)
	}
	// The seeded sign-in, by user name; the S3 data event is not there.
	f.clock.Add(time.Second)
	mine, err := f.c.LookupEvents(t.Context(), prod, aws.LookupUsername, "rperlman", time.Time{}, time.Time{}, 0)
	if err != nil || len(mine) != 1 || mine[0].Name != "ConsoleLogin" {
		t.Errorf("by user name: %+v %v", mine, err)
	}
	// Over the rate (2 per second): RateLimited, not a wait.
	if _, err := f.c.LookupEvents(t.Context(), prod, aws.LookupEventName, "ConsoleLogin", time.Time{}, time.Time{}, 0); err != nil {
		t.Fatalf("second call in the window: %v", err)
	}
	_, err = f.c.LookupEvents(t.Context(), prod, aws.LookupEventName, "ConsoleLogin", time.Time{}, time.Time{}, 0)
	connErr(t, err, connectors.RateLimited)
	_, err = f.c.LookupEvents(t.Context(), prod, "Nickname", "x", time.Time{}, time.Time{}, 0)
	connErr(t, err, connectors.InvalidInput)
}

func TestLookupEventsPages(t *testing.T) {
	t.Parallel()
	f := setup(t, options{opts: []aws.Option{aws.WithLookupPace(time.Millisecond)}})
	// 60 audited changes of one key: more than one page of 50.
	api := iam.NewFromConfig(sdkaws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, ""),
		RetryMaxAttempts: 1,
		BaseEndpoint:     sdkaws.String(f.ts.URL),
	})
	key := f.iamUser(t, prod, "nwirth").AccessKeys[0].ID
	for i := range 60 {
		f.clock.Add(time.Second)
		status := iamtypes.StatusTypeInactive
		if i%2 == 1 {
			status = iamtypes.StatusTypeActive
		}
		if _, err := api.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("nwirth"), AccessKeyId: sdkaws.String(key), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(f.paths())
	all, err := f.c.LookupEvents(t.Context(), prod, aws.LookupResourceName, key, time.Time{}, time.Time{}, 0)
	if err != nil || len(all) != 60 {
		t.Fatalf("%d events %v", len(all), err)
	}
	if n := strings.Count(strings.Join(f.paths()[mark:], " "), "/cloudtrail/LookupEvents"); n != 2 {
		t.Errorf("%d LookupEvents calls, want 2 pages", n)
	}
	for i := 1; i < len(all); i++ {
		if !all[i].Time.Before(all[i-1].Time) {
			t.Errorf("not newest first at %d", i)
		}
	}
	two, err := f.c.LookupEvents(t.Context(), prod, aws.LookupResourceName, key, time.Time{}, time.Time{}, 2)
	if err != nil || len(two) != 2 || two[0].ID != all[0].ID || two[1].ID != all[1].ID {
		t.Errorf("limited: %+v %v", two, err)
	}
}

// TestRetryAfterHTTPDate checks a Retry-After given as an HTTP date: the
// wait is measured from the response's Date. The emulator's faults send
// seconds, so a handler in front of it throttles ListUsers.
func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	srv := awsemu.New(demo(t), awsemu.Options{})
	date := time.Now().UTC().Truncate(time.Second).Add(-time.Hour) // a skewed server clock
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Action=ListUsers") {
			w.Header().Set("Content-Type", "text/xml")
			w.Header().Set("Date", date.Format(http.TimeFormat))
			w.Header().Set("Retry-After", date.Add(7*time.Second).Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c, err := aws.New(t.Context(), aws.Config{Accounts: []aws.Account{{ID: prod}}, Endpoint: ts.URL,
		AccessKeyID: awsemu.DefaultAccessKeyID, SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(t.Context(), person(t, "E1011"))
	ce := connErr(t, err, connectors.RateLimited)
	if ce.Status != 429 || ce.RetryAfter != 7*time.Second || !strings.HasPrefix(ce.Msg, "Throttling: ") {
		t.Errorf("error %q: status %d retryAfter %s, want 429 7s Throttling", ce, ce.Status, ce.RetryAfter)
	}
}

// requests counts the logged requests to path (a virtual path such as
// /iam/ListAccessKeys) from mark on, by status.
func (f *fixture) requests(mark int, path string) map[int]int {
	out := map[int]int{}
	for _, r := range f.emu.Emulator().Requests()[mark:] {
		if r.Path == path {
			out[r.Status]++
		}
	}
	return out
}

func TestKillSwitchAppliesToEverySetItCan(t *testing.T) {
	t.Parallel()
	both := func(c *aws.Config) { c.KillSwitchPermissionSets = []string{"AdministratorAccess", "ReadOnlyAccess"} }
	denies := func(t *testing.T, f *fixture, name string) bool {
		t.Helper()
		ps, _ := f.emu.PermissionSet(name)
		return strings.Contains(ps.InlinePolicy, adaSSO) && len(ps.NotProvisioned) == 0
	}
	cases := map[string]struct {
		faults []emu.Fault
		kind   connectors.Kind
		status int
		// failed are the sets left without the deny; "?" is one of the
		// two, whichever met the fault (the sets are written at once).
		failed []string
	}{
		// One set's put fails: the other still gets the deny,
		// provisioned; the error is the one failure's.
		"one put fails": {
			faults: []emu.Fault{{Path: "^/sso/PutInlinePolicyToPermissionSet$", Status: 409, Times: 1}},
			kind:   connectors.Conflict, status: 409, failed: []string{"?"},
		},
		// Both fail alike: that kind, and both named.
		"every put denied": {
			faults: []emu.Fault{{Path: "^/sso/PutInlinePolicyToPermissionSet$", Status: 403}},
			kind:   connectors.PermissionDenied, status: 403, failed: []string{"AdministratorAccess", "ReadOnlyAccess"},
		},
		// One set's put conflicts, the other's provisioning fails: mixed
		// kinds are Unavailable.
		"put and provisioning fail": {
			faults: []emu.Fault{
				{Path: "^/sso/PutInlinePolicyToPermissionSet$", Status: 409, Times: 1},
				{Path: "^/sso/ProvisionPermissionSet$", Status: 500, Times: 1},
			},
			kind: connectors.Unavailable, failed: []string{"AdministratorAccess", "ReadOnlyAccess"},
		},
		// One set's provisioning fails after its deny was put: the record
		// of the put is kept, and the other set is done.
		"one provisioning fails": {
			faults: []emu.Fault{{Path: "^/sso/ProvisionPermissionSet$", Status: 500, Times: 1}},
			kind:   connectors.Unavailable, status: 500, failed: []string{"?"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{cfg: both})
			arns := map[string]string{}
			for _, n := range []string{"AdministratorAccess", "ReadOnlyAccess"} {
				ps, _ := f.emu.PermissionSet(n)
				arns[n] = ps.ARN
			}
			a := f.resolve(t, "E1001")
			st := step(t, f.plan(t, a), "aws.sso-kill-sessions/"+adaSSO)
			for _, fault := range c.faults {
				if err := f.emu.Emulator().AddFault(fault); err != nil {
					t.Fatal(err)
				}
			}
			out, err := f.c.Run(t.Context(), a, st)
			ce := connErr(t, err, c.kind)
			if ce.Status != c.status {
				t.Errorf("status %d, want %d: %v", ce.Status, c.status, ce)
			}
			if emailRE.MatchString(ce.Error()) || strings.Contains(ce.Error(), adaSSO) {
				t.Errorf("error names the person: %v", ce)
			}
			if !strings.Contains(ce.Msg, fmt.Sprintf("%d of 2 permission sets still lack the deny", len(c.failed))) {
				t.Errorf("message %q does not count the sets lacking the deny", ce.Msg)
			}
			if slices.Equal(c.failed, []string{"?"}) {
				// The one the message names; the checks below hold the
				// other to having the deny.
				for n, arn := range arns {
					if strings.Contains(ce.Msg, arn) {
						c.failed = []string{n}
					}
				}
			}
			for n, arn := range arns {
				failed := slices.Contains(c.failed, n)
				if failed != strings.Contains(ce.Msg, arn) {
					t.Errorf("message %q: names %s: %t, want %t", ce.Msg, n, !failed, failed)
				}
				if got := denies(t, f, n); got == failed {
					t.Errorf("%s: deny in place and provisioned: %t, want %t", n, got, !failed)
				}
				if !failed && (!slices.Contains(out.Records, "permission set "+n+" ("+arn+"): denied the user") ||
					!slices.ContainsFunc(out.Records, func(r string) bool { return strings.HasPrefix(r, "provisioned "+arn+" to accounts ") })) {
					t.Errorf("records %v lack what was done to %s", out.Records, n)
				}
			}
			if name == "one provisioning fails" && !slices.Contains(out.Records, "permission set "+c.failed[0]+" ("+arns[c.failed[0]]+"): denied the user") {
				t.Errorf("records %v lack the deny put before provisioning failed", out.Records)
			}
			if len(c.failed) < 2 && out.Result != connectors.ResultDone {
				t.Errorf("result %q with records %v, want done", out.Result, out.Records)
			}

			// Verify names every set still lacking the deny, and only those.
			vce := connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
			for n, arn := range arns {
				if slices.Contains(c.failed, n) != strings.Contains(vce.Msg, arn) {
					t.Errorf("verify message %q: names %s wrongly", vce.Msg, n)
				}
			}

			f.emu.Emulator().ClearFaults()
			if _, err := f.c.Run(t.Context(), a, st); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if err := f.c.Verify(t.Context(), a, st); err != nil {
				t.Errorf("verify after the rerun: %v", err)
			}
		})
	}
}

// TestUndecodableResponseNamesTheDecodeError has a handler in front of the
// emulator answer ListAccessKeys with 200 and a body that is not its XML.
func TestUndecodableResponseNamesTheDecodeError(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"not XML":   `this is not XML, ada@example.com`,
		"bad value": `<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccessKeysResult><IsTruncated>ada@example.com</IsTruncated><AccessKeyMetadata></AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>`,
		"truncated": `<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccessKeysResult><AccessKeyMetadata><member>`,
	}
	for name, garbage := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := awsemu.New(demo(t), awsemu.Options{})
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if strings.Contains(string(body), "Action=ListAccessKeys") {
					w.Header().Set("Content-Type", "text/xml")
					_, _ = io.WriteString(w, garbage)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				srv.ServeHTTP(w, r)
			}))
			t.Cleanup(ts.Close)
			c, err := aws.New(t.Context(), aws.Config{Accounts: []aws.Account{{ID: prod}}, Endpoint: ts.URL,
				AccessKeyID: awsemu.DefaultAccessKeyID, SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey)})
			if err != nil {
				t.Fatal(err)
			}
			a, err := c.Resolve(t.Context(), person(t, "E1011"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Plan(t.Context(), a)
			ce := connErr(t, err, connectors.Unavailable)
			cause, ok := strings.CutPrefix(ce.Msg, "could not decode the response: ")
			if ce.Status != 200 || !ok || strings.TrimSpace(cause) == "" {
				t.Errorf("error %q: want status 200 and the decode error", ce)
			}
			if emailRE.MatchString(ce.Error()) {
				t.Errorf("error %q carries an email", ce)
			}
			noUserName(t, err)
			t.Log(ce)
		})
	}
}

func TestReadsRetryInsideTheConnector(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1011")

	// Two 503s, then the answer: planning never sees them.
	mark := len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/ListAccessKeys$", Status: 503, Times: 2}); err != nil {
		t.Fatal(err)
	}
	steps := f.plan(t, a)
	if got := f.requests(mark, "/iam/ListAccessKeys"); got[503] != 2 || got[200] < 1 {
		t.Errorf("ListAccessKeys answers %v, want 2 503s and then 200", got)
	}
	radia := f.scope(t, prod, "rperlman")

	// Throttling of a read, too.
	mark = len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/ListSSHPublicKeys$", Status: 429, Times: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Run(t.Context(), a, step(t, steps, "aws.delete-ssh-keys/"+radia)); err != nil {
		t.Errorf("run after three throttled reads: %v", err)
	}
	if got := f.requests(mark, "/iam/ListSSHPublicKeys"); got[429] != 3 || got[200] != 1 {
		t.Errorf("ListSSHPublicKeys answers %v, want 3 429s and then 200", got)
	}

	// A read that keeps failing gives up after DefaultReadAttempts.
	mark = len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/ListGroupsForUser$", Status: 503}); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Run(t.Context(), a, step(t, steps, "aws.remove-groups/"+radia))
	if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 || !strings.HasPrefix(ce.Msg, "ServiceUnavailable: ") {
		t.Errorf("error %q", ce)
	}
	if got := f.requests(mark, "/iam/ListGroupsForUser"); got[503] != aws.DefaultReadAttempts || len(got) != 1 {
		t.Errorf("ListGroupsForUser answers %v, want %d 503s", got, aws.DefaultReadAttempts)
	}
	f.emu.Emulator().ClearFaults()

	// A read asked to wait longer than the connector waits returns at
	// once, for the workflow to wait.
	mark = len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/ListGroupsForUser$", Status: 429, RetryAfter: 7, Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.Run(t.Context(), a, step(t, steps, "aws.remove-groups/"+radia))
	if ce := connErr(t, err, connectors.RateLimited); ce.RetryAfter != 7*time.Second {
		t.Errorf("error %q: retry after %s, want 7s", ce, ce.RetryAfter)
	}
	if got := f.requests(mark, "/iam/ListGroupsForUser"); got[429] != 1 || len(got) != 1 {
		t.Errorf("ListGroupsForUser answers %v, want one 429", got)
	}

	// A write with one 503 fails at once: one attempt, Unavailable.
	mark = len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/UpdateAccessKey$", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	st := step(t, steps, "aws.deactivate-access-keys/"+radia)
	_, err = f.c.Run(t.Context(), a, st)
	if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 {
		t.Errorf("error %q", ce)
	}
	// The keys are deactivated at once; the one that met the 503 is not
	// tried again.
	keys := len(f.iamUser(t, prod, "rperlman").AccessKeys)
	if got := f.requests(mark, "/iam/UpdateAccessKey"); got[503] != 1 || got[503]+got[200] > keys || len(got) > 2 {
		t.Errorf("UpdateAccessKey answers %v, want one 503 and each of %d keys tried once at most", got, keys)
	}
	// The fault is spent: the workflow's retry goes through.
	if out, err := f.c.Run(t.Context(), a, st); err != nil || out.Result != connectors.ResultDone {
		t.Errorf("rerun: %+v %v", out, err)
	}
}

// TestAssumeRoleRetries: AssumeRole is safe to repeat, so it retries like
// a read.
func TestAssumeRoleRetries(t *testing.T) {
	t.Parallel()
	f := setup(t, options{emu: awsemu.Options{Now: time.Now}})
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/sts/AssumeRole$", Status: 500, Times: 2}); err != nil {
		t.Fatal(err)
	}
	// E1009 has no IAM user: resolving searches staging, through the role.
	if _, err := f.c.Resolve(t.Context(), person(t, "E1009")); err != nil {
		t.Fatalf("resolve through a role whose first two assumptions failed: %v", err)
	}
	if got := f.requests(0, "/sts/AssumeRole"); got[500] != 2 || got[200] != 1 {
		t.Errorf("AssumeRole answers %v, want 2 500s and then 200", got)
	}
}

func TestReadRetriesOff(t *testing.T) {
	t.Parallel()
	f := setup(t, options{opts: []aws.Option{aws.WithReadRetries(1, 0)}})
	a := f.resolve(t, "E1011")
	mark := len(f.paths())
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/iam/ListAccessKeys$", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Plan(t.Context(), a)
	connErr(t, err, connectors.Unavailable)
	if got := f.requests(mark, "/iam/ListAccessKeys"); got[503] != 1 || len(got) != 1 {
		t.Errorf("ListAccessKeys answers %v, want one 503", got)
	}
}

// Activity reads the person's CloudTrail history by user name and by each
// access key, once per event, oldest first, with the whole record.
func TestActivity(t *testing.T) {
	t.Parallel()
	f := setup(t, options{opts: []aws.Option{aws.WithLookupPace(time.Millisecond)}})
	a := f.resolve(t, "E1011")
	steps := f.plan(t, a)
	radia := f.scope(t, prod, "rperlman")
	f.clock.Add(time.Minute)
	if _, err := f.c.Run(t.Context(), a, step(t, steps, "aws.deactivate-access-keys/"+radia)); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	evs, err := f.c.Activity(t.Context(), a, time.Time{}, f.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ids := map[string]bool{}
	for i, e := range evs {
		names = append(names, e.Action)
		if e.System != "aws" || len(e.Raw) == 0 || !json.Valid(e.Raw) || (i > 0 && e.Time.Before(evs[i-1].Time)) {
			t.Errorf("event %d: %+v", i, e)
		}
		var rec map[string]any
		if err := json.Unmarshal(e.Raw, &rec); err != nil || rec["eventID"] == nil {
			t.Errorf("raw record not kept: %s", e.Raw)
		} else if ids[rec["eventID"].(string)] {
			t.Errorf("event %v kept twice", rec["eventID"])
		} else {
			ids[rec["eventID"].(string)] = true
		}
	}
	if !slices.Contains(names, "signin.amazonaws.com:ConsoleLogin") {
		t.Errorf("the seeded sign-in is missing: %v", names)
	}
	// One lookup by name and one per access key: CloudTrail takes one
	// attribute per call.
	keys := len(f.iamUser(t, prod, "rperlman").AccessKeys)
	lookups := 0
	for _, p := range f.paths() {
		if p == "/cloudtrail/LookupEvents" {
			lookups++
		}
	}
	if keys == 0 || lookups < 1+keys {
		t.Errorf("%d LookupEvents calls for a user with %d access keys", lookups, keys)
	}
	if _, err := f.c.Activity(t.Context(), connectors.Account{System: "okta", ID: "x"}, time.Time{}, time.Now()); err == nil {
		t.Error("an Okta account was read as AWS")
	}
}

// TestTagIndex: people looked up one after another read each IAM user's
// tags once per aws.TagIndexTTL, not once per person; a tag set since is
// seen once its entry is older than the TTL.
func TestTagIndex(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ctx := t.Context()
	tagReads := func(mark int) int { return f.requests(mark, "/iam/ListUserTags")[200] }

	mark := len(f.emu.Emulator().Requests())
	a, err := f.c.Resolve(ctx, person(t, "E1001"))
	if err != nil || a.Attributes[aws.AttrIAMUsers] == "" {
		t.Fatalf("resolve E1001: %+v %v", a, err)
	}
	first := tagReads(mark)
	if first == 0 {
		t.Fatal("the first lookup read no tags")
	}
	mark = len(f.emu.Emulator().Requests())
	if _, err := f.c.Resolve(ctx, person(t, "E1011")); err != nil {
		t.Fatalf("resolve E1011: %v", err)
	}
	if n := tagReads(mark); n != 0 {
		t.Errorf("a second person within the TTL read %d users' tags, want 0", n)
	}

	// Someone tags bliskov with Ada's email: unseen within the TTL, seen
	// after it.
	if !f.emu.SetUserTag(prod, "bliskov", "email", person(t, "E1001").Email) {
		t.Fatal("no user bliskov")
	}
	f.clock.Add(aws.TagIndexTTL - time.Second)
	b, err := f.c.Resolve(ctx, person(t, "E1001"))
	if err != nil || b.Attributes[aws.AttrIAMUsers] != a.Attributes[aws.AttrIAMUsers] {
		t.Errorf("within the TTL: %q %v, want the index's %q", b.Attributes[aws.AttrIAMUsers], err, a.Attributes[aws.AttrIAMUsers])
	}
	f.clock.Add(2 * time.Second)
	mark = len(f.emu.Emulator().Requests())
	b, err = f.c.Resolve(ctx, person(t, "E1001"))
	if err != nil || !strings.Contains(b.Attributes[aws.AttrIAMUsers], f.scope(t, prod, "bliskov")) {
		t.Errorf("after the TTL: %q %v, want bliskov too", b.Attributes[aws.AttrIAMUsers], err)
	}
	if n := tagReads(mark); n != first {
		t.Errorf("after the TTL %d users' tags read, want all %d again", n, first)
	}
}

// TestKillSwitchVerifyWaitsForProvisioning: the next batch of the
// kill-switch workflow has written the policy again (still denying the
// user) and its provisioning is under way: verify waits for it and holds,
// rather than call the user's deny missing.
func TestKillSwitchVerifyWaitsForProvisioning(t *testing.T) {
	t.Parallel()
	f := setup(t, options{cfg: func(c *aws.Config) { c.KillSwitchPermissionSets = []string{"AdministratorAccess"} }})
	a := f.resolve(t, "E1001")
	st := step(t, f.plan(t, a), "aws.sso-kill-sessions/"+adaSSO)
	if _, err := f.c.Run(t.Context(), a, st); err != nil {
		t.Fatal(err)
	}
	admin, _ := f.emu.PermissionSet("AdministratorAccess")
	api := f.ssoAdmin()
	got, err := api.GetInlinePolicyForPermissionSet(t.Context(), &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: sdkaws.String(admin.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	// A new version of the same policy, and its provisioning, not yet done.
	if _, err := api.PutInlinePolicyToPermissionSet(t.Context(), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: sdkaws.String(inst), PermissionSetArn: sdkaws.String(admin.ARN), InlinePolicy: got.InlinePolicy,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ProvisionPermissionSet(t.Context(), &ssoadmin.ProvisionPermissionSetInput{
		InstanceArn: sdkaws.String(inst), PermissionSetArn: sdkaws.String(admin.ARN), TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts,
	}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := f.emu.PermissionSet("AdministratorAccess"); len(ps.NotProvisioned) == 0 {
		t.Fatal("the new version is provisioned already; the test needs it under way")
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Errorf("verify while the next provisioning is under way: %v", err)
	}
	if ps, _ := f.emu.PermissionSet("AdministratorAccess"); len(ps.NotProvisioned) != 0 {
		t.Errorf("verify did not wait for the provisioning: %v not provisioned", ps.NotProvisioned)
	}
}

// An IAM user deleted between Resolve and Plan (an administrator got there
// first) has nothing to do in any of its steps, whatever each kind's own
// reads answered, while the person's other steps are planned as usual.
func TestPlanUserDeletedAfterResolve(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	ada := f.scope(t, prod, "alovelace")
	if !strings.Contains(a.Attributes[aws.AttrIAMUsers], ada) {
		t.Fatalf("resolve: %q has no %s", a.Attributes[aws.AttrIAMUsers], ada)
	}
	if !f.emu.RemoveUser(prod, "alovelace") {
		t.Fatal("no user alovelace")
	}
	if _, ok := f.emu.IAMUser(prod, "alovelace"); ok {
		t.Fatal("alovelace is still in the emulator")
	}
	steps := f.plan(t, a)
	iam, others := 0, 0
	for _, s := range steps {
		if s.Scope != ada {
			others++
			continue
		}
		iam++
		if s.Description != "The IAM user no longer exists; nothing to do" || len(s.Targets) != 0 || s.Found != nil {
			t.Errorf("%s: %q %v %v, want nothing to do", s.ID, s.Description, s.Targets, s.Found)
		}
	}
	if iam == 0 || others == 0 {
		t.Errorf("plan: %d steps of the deleted user, %d others; want both", iam, others)
	}
}

// TestFoundNotAsPlanned runs the cut steps with a Step.Found no plan
// writes, as a step built by hand or tampered with: each is refused as
// InvalidInput, names no IAM user, and changes nothing.
func TestFoundNotAsPlanned(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	steps := f.plan(t, a)
	scope := f.scope(t, prod, "alovelace")
	before := f.iamUser(t, prod, "alovelace")
	for name, c := range map[string]struct {
		id    string
		found connectors.Found
	}{
		"a key that is no key ID":       {"aws.deactivate-access-keys/" + scope, connectors.Found{IDs: []string{"key:alovelace:Active"}, Records: []string{"r"}}},
		"a key of no known status":      {"aws.deactivate-access-keys/" + scope, connectors.Found{IDs: []string{"key:" + before.AccessKeys[0].ID + ":Gone"}, Records: []string{"r"}}},
		"a key without its record":      {"aws.deactivate-access-keys/" + scope, connectors.Found{IDs: []string{"key:" + before.AccessKeys[0].ID + ":Active"}}},
		"a login profile of other kind": {"aws.delete-login-profile/" + scope, connectors.Found{IDs: []string{"password"}, Records: []string{"2026-01-01T00:00:00Z"}}},
		"a login profile without time":  {"aws.delete-login-profile/" + scope, connectors.Found{IDs: []string{"login-profile"}, Records: []string{"yesterday"}}},
	} {
		t.Run(name, func(t *testing.T) {
			st := step(t, steps, c.id)
			st.Found = &c.found
			_, err := f.c.Run(t.Context(), a, st)
			connErr(t, err, connectors.InvalidInput)
			noUserName(t, err)
		})
	}
	if after := f.iamUser(t, prod, "alovelace"); !slices.Equal(after.AccessKeys, before.AccessKeys) || after.LoginProfile != before.LoginProfile {
		t.Errorf("a refused run changed the user: %+v, was %+v", after, before)
	}
}

// TestWarm: after the warm-up, a person's resolve reads no IAM user's tags
// and their plan no permission set's name (ListPermissionSets,
// DescribePermissionSet); both still work without it, and the warm-up
// reads each account's users' tags and the names once.
func TestWarm(t *testing.T) {
	t.Parallel()
	count := func(log []string, paths ...string) int {
		n := 0
		for _, p := range log {
			if slices.Contains(paths, p) {
				n++
			}
		}
		return n
	}
	cold := setup(t, options{})
	a := cold.resolve(t, "E1001")
	cold.plan(t, a)
	coldTags, coldNames := count(cold.paths(), "/iam/ListUserTags"), count(cold.paths(), "/sso/ListPermissionSets", "/sso/DescribePermissionSet")
	if coldTags == 0 || coldNames == 0 {
		t.Fatalf("without the warm-up the case read %d tags and %d names, want some of each", coldTags, coldNames)
	}

	f := setup(t, options{})
	if err := f.c.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	warm := f.paths()
	if n := count(warm, "/iam/ListUserTags"); n != coldTags {
		t.Errorf("the warm-up read %d users' tags, want every account's %d", n, coldTags)
	}
	if n := count(warm, "/sso/ListPermissionSets", "/sso/DescribePermissionSet"); n != coldNames {
		t.Errorf("the warm-up made %d permission-set name reads, want %d", n, coldNames)
	}
	b := f.resolve(t, "E1001")
	if b.Attributes[aws.AttrIAMUsers] != a.Attributes[aws.AttrIAMUsers] || b.Attributes[aws.AttrSSOUserID] != a.Attributes[aws.AttrSSOUserID] {
		t.Errorf("warm resolve %v, cold %v", b.Attributes, a.Attributes)
	}
	steps := f.plan(t, b)
	if log := f.paths()[len(warm):]; count(log, "/iam/ListUserTags", "/sso/ListPermissionSets", "/sso/DescribePermissionSet") != 0 {
		t.Errorf("after the warm-up the case read again what it read: %v", log)
	}
	if len(steps) != len(cold.plan(t, a)) {
		t.Errorf("warm plan has %d steps, cold %d", len(steps), len(cold.plan(t, a)))
	}
}
