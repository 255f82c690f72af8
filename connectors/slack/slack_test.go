package slack_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

// start is 30 s into a minute, so a full rate-limit window asks for 30 s.
var start = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

type fixture struct {
	emu *slackemu.Server
	ts  *httptest.Server
	c   *slack.Client
}

type options struct {
	emu        slackemu.Options
	adminToken string
	botToken   string
	// retry is the connector's retry policy; nil means connectorstest.FastRetry.
	retry *connectors.RetryPolicy
}

// setup starts an emulator and points the connector (slack-go plus plain
// HTTP) at it.
func setup(t *testing.T, o options) *fixture {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if o.emu.Now == nil {
		o.emu.Now = func() time.Time { return start }
	}
	srv := slackemu.New(org, o.emu)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if o.adminToken == "" {
		o.adminToken = slackemu.DefaultAdminToken
	}
	if o.botToken == "" {
		o.botToken = slackemu.DefaultBotToken
	}
	c, err := slack.New(t.Context(), slack.Config{
		APIURL:     ts.URL + "/api/",
		SCIMURL:    ts.URL + "/scim/v2/",
		AuditURL:   ts.URL + "/audit/v1/",
		AdminToken: config.Secret(o.adminToken),
		BotToken:   config.Secret(o.botToken),
		TeamID:     "T0ACME0001",
	}, slack.WithHTTPClient(ts.Client()), slack.WithRetry(connectorstest.RetryOr(o.retry)))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: srv, ts: ts, c: c}
}

func (f *fixture) user(t *testing.T, id string) slackemu.UserState {
	t.Helper()
	u, ok := f.emu.User(id)
	if !ok {
		t.Fatalf("emulator has no user %s", id)
	}
	return u
}

func (f *fixture) fault(t *testing.T, fl emu.Fault) {
	t.Helper()
	if err := f.emu.Emulator().AddFault(fl); err != nil {
		t.Fatal(err)
	}
}

// requests counts logged requests by method and path pattern.
func (f *fixture) requests(method, pathRE string) int {
	re := regexp.MustCompile(pathRE)
	n := 0
	for _, r := range f.emu.Emulator().Requests() {
		if r.Method == method && re.MatchString(r.Path) {
			n++
		}
	}
	return n
}

var emailRE = connectorstest.EmailRE

func connErr(t *testing.T, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	return connectorstest.ConnErr(t, err, "slack", kind)
}

const (
	ada    = "U00001001" // E1001: 2 sessions
	grace  = "U00001002" // E1002
	alan   = "U00001003" // E1003
	dennis = "U00001008" // E1008: already deactivated
)

func acct(id string) connectors.Account { return connectors.Account{System: "slack", ID: id} }

// stepOf is the Slack step of action, as Plan would make it.
func stepOf(action string) connectors.Step { return connectors.NewStep("slack", action, "", "", nil) }

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	ok := slack.Config{AdminToken: "xoxp-1", BotToken: "xoxb-1", TeamID: "T0ACME0001"}
	with := func(f func(*slack.Config)) slack.Config { c := ok; f(&c); return c }
	cases := map[string]struct {
		cfg  slack.Config
		want string // "" means valid
	}{
		"defaults":     {ok, ""},
		"no bot token": {with(func(c *slack.Config) { c.BotToken = "" }), ""},
		"loopback http": {with(func(c *slack.Config) {
			c.APIURL, c.SCIMURL, c.AuditURL = "http://127.0.0.1:9/api", "http://localhost:9/scim/v2", "http://127.0.0.1:9/audit/v1/"
		}), ""},
		"no admin token":       {with(func(c *slack.Config) { c.AdminToken = "" }), "AdminToken is required"},
		"bot token as admin":   {with(func(c *slack.Config) { c.AdminToken = "xoxb-1" }), "AdminToken must be a Slack token starting with xoxp-"},
		"app token as bot":     {with(func(c *slack.Config) { c.BotToken = "xapp-1" }), "BotToken must be a Slack token starting with xoxb- or xoxp-"},
		"token with space":     {with(func(c *slack.Config) { c.AdminToken = "xoxp-1 2" }), "whitespace"},
		"no team":              {with(func(c *slack.Config) { c.TeamID = "" }), "TeamID is required"},
		"enterprise as team":   {with(func(c *slack.Config) { c.TeamID = "E0ACME0001" }), "not a workspace ID"},
		"custom attribute":     {with(func(c *slack.Config) { c.UserIDAttribute = "slackId" }), ""},
		"attribute with space": {with(func(c *slack.Config) { c.UserIDAttribute = "slack id" }), "UserIDAttribute"},
		"plain http elsewhere": {with(func(c *slack.Config) { c.APIURL = "http://slack.com/api/" }), "must use https"},
		"relative URL":         {with(func(c *slack.Config) { c.SCIMURL = "api.slack.com/scim/v2" }), "not an absolute URL"},
		"credentials in URL":   {with(func(c *slack.Config) { c.APIURL = "https://u:p@slack.com/api/" }), "credentials"},
		"query in URL":         {with(func(c *slack.Config) { c.SCIMURL = "https://api.slack.com/scim/v2/?x=1" }), "query"},
		"audit URL path":       {with(func(c *slack.Config) { c.AuditURL = "https://api.slack.com/" }), "must end in /audit/v1/"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl, err := slack.New(t.Context(), c.cfg)
			if c.want == "" {
				if err != nil || cl == nil || cl.Name() != "slack" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			ce := connErr(t, err, connectors.InvalidInput)
			if !strings.Contains(ce.Msg, c.want) {
				t.Errorf("message %q, want it to contain %q", ce.Msg, c.want)
			}
			if strings.Contains(err.Error(), "xoxp-1") || strings.Contains(err.Error(), "xoxb-1") {
				t.Errorf("error reveals a token: %v", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	cases := map[string]struct {
		s      connectors.Subject
		id     string // "" means an error of kind
		status string
		kind   connectors.Kind
	}{
		"by attribute":             {connectors.Subject{EmployeeID: "E1001", Email: "ada.lovelace@example.com", Attributes: map[string]string{"slackUserId": ada}}, ada, slack.StatusActive, ""},
		"by email":                 {connectors.Subject{EmployeeID: "E1002", Email: "grace.hopper@example.com"}, grace, slack.StatusActive, ""},
		"by override":              {connectors.Subject{EmployeeID: "E1003", Email: "someone.else@example.com", Overrides: map[string]string{"slack": alan}}, alan, slack.StatusActive, ""},
		"override beats attribute": {connectors.Subject{EmployeeID: "E1003", Attributes: map[string]string{"slackUserId": ada}, Overrides: map[string]string{"slack": alan}}, alan, slack.StatusActive, ""},
		"deactivated by attribute": {connectors.Subject{EmployeeID: "E1008", Attributes: map[string]string{"slackUserId": dennis}}, dennis, slack.StatusDeactivated, ""},
		// users.lookupByEmail does not find deactivated users; SCIM does.
		"deactivated by email":       {connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com"}, dennis, slack.StatusDeactivated, ""},
		"stale attribute, by email":  {connectors.Subject{EmployeeID: "E1002", Email: "grace.hopper@example.com", Attributes: map[string]string{"slackUserId": "U99999999"}}, grace, slack.StatusActive, ""},
		"unknown email":              {connectors.Subject{EmployeeID: "E1011", Email: "radia.perlman@example.com"}, "", "", connectors.NotFound},
		"unknown attribute no email": {connectors.Subject{EmployeeID: "E1011", Attributes: map[string]string{"slackUserId": "U99999999"}}, "", "", connectors.NotFound},
		"unknown override":           {connectors.Subject{EmployeeID: "E1001", Email: "ada.lovelace@example.com", Overrides: map[string]string{"slack": "U99999999"}}, "", "", connectors.InvalidInput},
		"malformed override":         {connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"slack": "../admin"}}, "", "", connectors.InvalidInput},
		"nothing to go by":           {connectors.Subject{EmployeeID: "E1099"}, "", "", connectors.NotFound},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := f.c.Resolve(t.Context(), c.s)
			if c.id == "" {
				connErr(t, err, c.kind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.System != "slack" || a.ID != c.id || a.Status != c.status || a.Attributes["slackUserId"] != c.id {
				t.Errorf("account %+v, want %s %s", a, c.id, c.status)
			}
		})
	}
}

// TestResolveByConfiguredAttribute resolves by the attribute
// Config.UserIDAttribute names, and no longer by slackUserId.
func TestResolveByConfiguredAttribute(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	c, err := slack.New(t.Context(), slack.Config{
		APIURL: f.ts.URL + "/api/", SCIMURL: f.ts.URL + "/scim/v2/", AuditURL: f.ts.URL + "/audit/v1/",
		AdminToken: slackemu.DefaultAdminToken, BotToken: slackemu.DefaultBotToken, TeamID: "T0ACME0001",
		UserIDAttribute: "chatId",
	}, slack.WithHTTPClient(f.ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"chatId": ada}})
	if err != nil || a.ID != ada || a.Attributes["chatId"] != ada {
		t.Errorf("by chatId: %+v %v", a, err)
	}
	_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"slackUserId": ada}})
	if ce := connErr(t, err, connectors.NotFound); !strings.Contains(ce.Msg, "chatId") {
		t.Errorf("message %q does not name the attribute", ce.Msg)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	steps, err := f.c.Plan(t.Context(), acct(ada))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
		if s.System != "slack" || s.Action == "" || s.Description == "" || s.ID != "slack."+s.Action {
			t.Errorf("step %+v", s)
		}
	}
	if !slices.Equal(ids, []string{slack.StepDeactivate, slack.StepResetSessions}) {
		t.Fatalf("steps %v: deactivate must come before reset-sessions", ids)
	}
	// Sessions are not listed (Tier 2): deactivation ends them.
	if n := f.requests(http.MethodPost, `admin\.users\.session\.list`); n != 0 {
		t.Errorf("plan listed sessions %d times", n)
	}
	if !slices.Equal(steps[1].After, []string{slack.StepDeactivate}) {
		t.Errorf("reset-sessions runs after %v, want after deactivate", steps[1].After)
	}
	if !strings.Contains(steps[0].Description, "now active") || !strings.Contains(steps[1].Description, "ended by the deactivation") {
		t.Errorf("descriptions %q / %q", steps[0].Description, steps[1].Description)
	}
	// Plan only reads.
	if f.requests(http.MethodDelete, `.`) != 0 || f.requests(http.MethodPost, `admin\.users\.session\.reset`) != 0 || !f.user(t, ada).Active {
		t.Error("Plan changed something")
	}
	// A deactivated user still gets both steps.
	steps, err = f.c.Plan(t.Context(), acct(dennis))
	if err != nil || len(steps) != 2 || !strings.Contains(steps[0].Description, "now deactivated") || len(steps[1].Targets) != 0 {
		t.Errorf("plan for deactivated user: %+v %v", steps, err)
	}
}

// TestRunInPlanOrder runs each planned step twice and verifies it, the way
// the workflow does.
func TestRunInPlanOrder(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: "ada.lovelace@example.com", Attributes: map[string]string{"slackUserId": ada}})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := f.c.Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	// Before Run, verification fails with a Conflict.
	for _, st := range steps {
		ce := connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
		if !strings.HasPrefix(ce.Msg, "verify: ") {
			t.Errorf("%s: message %q", st.ID, ce.Msg)
		}
	}
	want := map[string][]connectors.Result{
		slack.StepDeactivate: {connectors.ResultDone, connectors.ResultAlready},
		// Deactivation ends every session, so the reset finds none.
		slack.StepResetSessions: {connectors.ResultAlready, connectors.ResultAlready},
	}
	for _, st := range steps {
		for i, w := range want[st.ID] {
			out, err := f.c.Run(t.Context(), a, st)
			if err != nil {
				t.Fatalf("%s run %d: %v", st.ID, i+1, err)
			}
			if out.Result != w {
				t.Errorf("%s run %d: %s, want %s (records %v)", st.ID, i+1, out.Result, w, out.Records)
			}
			for _, r := range out.Records {
				if emailRE.MatchString(r) {
					t.Errorf("record carries an email: %q", r)
				}
			}
		}
		if err := f.c.Verify(t.Context(), a, st); err != nil {
			t.Errorf("verify %s: %v", st.ID, err)
		}
	}
	if u := f.user(t, ada); u.Active || u.Sessions != 0 {
		t.Errorf("emulator state %+v, want deactivated without sessions", u)
	}
	if n := f.requests(http.MethodDelete, `^/scim/v2/Users/`+ada+`$`); n != 1 {
		t.Errorf("%d SCIM DELETEs, want 1 (the second run must not call it)", n)
	}
	// The account was deactivated, never removed.
	if st := f.emu.State(); len(st.Users) != 20 {
		t.Errorf("%d users left, want 20", len(st.Users))
	}
}

func TestResetSessionsOnActiveUser(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := acct(grace)
	st := stepOf(slack.ActionResetSessions)
	ids := f.user(t, grace).SessionIDs
	ce := connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
	if !strings.Contains(ce.Msg, "2 active sessions remain") {
		t.Errorf("verify before run: %q", ce.Msg)
	}
	out, err := f.c.Run(t.Context(), a, st)
	if err != nil {
		t.Fatal(err)
	}
	if out.Result != connectors.ResultDone || len(out.Records) != 3 {
		t.Fatalf("first run %+v", out)
	}
	for i, id := range ids {
		if !strings.HasPrefix(out.Records[i], "session "+itoa64(id)+" ") {
			t.Errorf("record %q does not name session %d", out.Records[i], id)
		}
	}
	if u := f.user(t, grace); u.Sessions != 0 || !u.Active {
		t.Errorf("after reset %+v, want active with no sessions", u)
	}
	out, err = f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultAlready {
		t.Errorf("second run %+v %v", out, err)
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Errorf("verify: %v", err)
	}
	if n := f.requests(http.MethodPost, `admin\.users\.session\.reset$`); n != 1 {
		t.Errorf("%d resets sent, want 1", n)
	}
}

func TestAlreadyDeactivated(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com", Attributes: map[string]string{"slackUserId": dennis}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != slack.StatusDeactivated {
		t.Errorf("status %q", a.Status)
	}
	steps, err := f.c.Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		out, err := f.c.Run(t.Context(), a, st)
		if err != nil || out.Result != connectors.ResultAlready {
			t.Errorf("%s: %+v %v, want already", st.ID, out, err)
		}
		if err := f.c.Verify(t.Context(), a, st); err != nil {
			t.Errorf("verify %s: %v", st.ID, err)
		}
	}
	if f.requests(http.MethodDelete, `.`) != 0 || f.requests(http.MethodPost, `session\.reset`) != 0 {
		t.Error("an already deactivated user got a write")
	}
}

func TestDeleteAnswering404IsAlready(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	f.fault(t, emu.Fault{Method: http.MethodDelete, Path: `^/scim/v2/Users/`, Status: 404, Times: 1})
	out, err := f.c.Run(t.Context(), acct(grace), stepOf(slack.ActionDeactivate))
	if err != nil || out.Result != connectors.ResultAlready {
		t.Fatalf("%+v %v, want already", out, err)
	}
}

func TestVerifyDetectsReactivation(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a, st := acct(alan), stepOf(slack.ActionDeactivate)
	if _, err := f.c.Run(t.Context(), a, st); err != nil {
		t.Fatal(err)
	}
	// Someone reactivates the user (an IdP push, say).
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPatch, f.ts.URL+"/scim/v2/Users/"+alan,
		strings.NewReader(`{"Operations":[{"op":"replace","path":"active","value":true}]}`))
	req.Header.Set("Authorization", "Bearer "+slackemu.DefaultAdminToken)
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ce := connErr(t, f.c.Verify(t.Context(), a, st), connectors.Conflict)
	if !strings.Contains(ce.Msg, "active") {
		t.Errorf("message %q", ce.Msg)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	deactivate := stepOf(slack.ActionDeactivate)
	reset := stepOf(slack.ActionResetSessions)
	byEmail := connectors.Subject{EmployeeID: "E1002", Email: "grace.hopper@example.com"}
	cases := map[string]struct {
		o      options
		faults []emu.Fault
		call   func(t *testing.T, c *slack.Client) error
		kind   connectors.Kind
		status int
		retry  time.Duration
		msg    string
	}{
		"SCIM 401 wrong admin token": {
			o: options{adminToken: "xoxp-wrong"},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), deactivate)
				return err
			},
			kind: connectors.Unauthenticated, status: 401, msg: "invalid_authentication",
		},
		"invalid_auth wrong bot token": {
			o:    options{botToken: "xoxb-wrong"},
			call: func(t *testing.T, c *slack.Client) error { _, err := c.Resolve(t.Context(), byEmail); return err },
			kind: connectors.Unauthenticated, status: 200, msg: "invalid_auth",
		},
		"invalid_auth on admin method": {
			faults: []emu.Fault{{Path: `session\.list$`, Status: 401}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), reset)
				return err
			},
			kind: connectors.Unauthenticated, status: 200, msg: "invalid_auth",
		},
		"missing_scope": {
			o: options{emu: slackemu.Options{AdminScopes: []string{"admin", "admin.users:read"}}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), reset)
				return err
			},
			kind: connectors.PermissionDenied, status: 200, msg: "missing_scope (needs scope admin.users:write)",
		},
		"SCIM 403": {
			faults: []emu.Fault{{Method: http.MethodDelete, Path: `^/scim/`, Status: 403}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), deactivate)
				return err
			},
			kind: connectors.PermissionDenied, status: 403, msg: "insufficient_permissions",
		},
		"SCIM without admin scope": {
			o:    options{emu: slackemu.Options{AdminScopes: []string{"admin.users:read", "admin.users:write"}}},
			call: func(t *testing.T, c *slack.Client) error { _, err := c.Plan(t.Context(), acct(grace)); return err },
			kind: connectors.PermissionDenied, status: 403, msg: "insufficient_permissions",
		},
		"SCIM 404 in plan": {
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Plan(t.Context(), acct("U99999999"))
				return err
			},
			kind: connectors.NotFound, status: 404, msg: "user_not_found",
		},
		"user_not_found in verify": {
			faults: []emu.Fault{{Path: `users\.info$`, Status: 404}},
			call: func(t *testing.T, c *slack.Client) error {
				if _, err := c.Run(t.Context(), acct(grace), deactivate); err != nil {
					return err
				}
				return c.Verify(t.Context(), acct(grace), deactivate)
			},
			kind: connectors.NotFound, status: 200, msg: "user_not_found",
		},
		"tier 2 rate limit": {
			o: options{emu: slackemu.Options{RateLimits: slackemu.RateLimits{Tier2: 1}}},
			call: func(t *testing.T, c *slack.Client) error {
				if _, err := c.Run(t.Context(), acct(grace), reset); err != nil {
					return err
				}
				return c.Verify(t.Context(), acct(grace), reset)
			},
			kind: connectors.RateLimited, status: 429, retry: 30 * time.Second, msg: "ratelimited",
		},
		"tier 3 rate limit via slack-go": {
			o: options{emu: slackemu.Options{RateLimits: slackemu.RateLimits{Tier3: 1}}},
			call: func(t *testing.T, c *slack.Client) error {
				if _, err := c.Resolve(t.Context(), byEmail); err != nil {
					return err
				}
				_, err := c.Resolve(t.Context(), byEmail)
				return err
			},
			kind: connectors.RateLimited, status: 429, retry: 30 * time.Second,
		},
		"SCIM delete limit": {
			o: options{emu: slackemu.Options{RateLimits: slackemu.RateLimits{SCIMDelete: 1}}},
			call: func(t *testing.T, c *slack.Client) error {
				if _, err := c.Run(t.Context(), acct(grace), deactivate); err != nil {
					return err
				}
				_, err := c.Run(t.Context(), acct(alan), deactivate)
				return err
			},
			kind: connectors.RateLimited, status: 429, retry: 30 * time.Second, msg: "too_many_requests",
		},
		"429 fault Retry-After on SCIM": {
			faults: []emu.Fault{{Path: `^/scim/`, Status: 429, RetryAfter: 7}},
			call:   func(t *testing.T, c *slack.Client) error { _, err := c.Plan(t.Context(), acct(grace)); return err },
			kind:   connectors.RateLimited, status: 429, retry: 7 * time.Second,
		},
		"429 fault Retry-After on users.info": {
			faults: []emu.Fault{{Path: `users\.info$`, Status: 429, RetryAfter: 9}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1002", Attributes: map[string]string{"slackUserId": grace}})
				return err
			},
			kind: connectors.RateLimited, status: 429, retry: 9 * time.Second,
		},
		"429 fault Retry-After on session reset": {
			faults: []emu.Fault{{Path: `session\.reset$`, Status: 429, RetryAfter: 11}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), reset)
				return err
			},
			kind: connectors.RateLimited, status: 429, retry: 11 * time.Second, msg: "ratelimited",
		},
		"SCIM 503": {
			faults: []emu.Fault{{Path: `^/scim/`, Status: 503, RetryAfter: 5}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(grace), deactivate)
				return err
			},
			kind: connectors.Unavailable, status: 503, retry: 5 * time.Second,
		},
		"users.info 500": {
			faults: []emu.Fault{{Path: `users\.info$`, Status: 500}},
			call: func(t *testing.T, c *slack.Client) error {
				return c.Verify(t.Context(), acct(dennis), deactivate)
			},
			kind: connectors.Unavailable, status: 500,
		},
		"lookupByEmail 502": {
			faults: []emu.Fault{{Path: `lookupByEmail$`, Status: 502}},
			call:   func(t *testing.T, c *slack.Client) error { _, err := c.Resolve(t.Context(), byEmail); return err },
			kind:   connectors.Unavailable, status: 502,
		},
		"session list 500": {
			faults: []emu.Fault{{Path: `session\.list$`, Status: 500}},
			// An active user's sessions are listed.
			call: func(t *testing.T, c *slack.Client) error {
				return c.Verify(t.Context(), acct(grace), stepOf(slack.ActionResetSessions))
			},
			kind: connectors.Unavailable, status: 500, msg: "fatal_error",
		},
		"SCIM fallback 500 after users_not_found": {
			faults: []emu.Fault{{Method: http.MethodGet, Path: `^/scim/v2/Users$`, Status: 500}},
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com"})
				return err
			},
			kind: connectors.Unavailable, status: 500,
		},
		"bad account ID": {
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct("u1; DROP"), deactivate)
				return err
			},
			kind: connectors.InvalidInput,
		},
		"other system's account": {
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Plan(t.Context(), connectors.Account{System: "okta", ID: ada})
				return err
			},
			kind: connectors.InvalidInput,
		},
		"unknown step": {
			call: func(t *testing.T, c *slack.Client) error {
				_, err := c.Run(t.Context(), acct(ada), stepOf("delete"))
				return err
			},
			kind: connectors.InvalidInput,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.o)
			for _, fl := range c.faults {
				f.fault(t, fl)
			}
			ce := connErr(t, c.call(t, f.c), c.kind)
			if ce.Status != c.status || ce.RetryAfter != c.retry {
				t.Errorf("status %d retry %s, want %d %s (%v)", ce.Status, ce.RetryAfter, c.status, c.retry, ce)
			}
			if c.msg != "" && !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("message %q, want it to contain %q", ce.Msg, c.msg)
			}
		})
	}
}

// TestRetryAfterHTTPDate checks 429s whose Retry-After is an HTTP-date,
// measured from the response's Date, on the plain HTTP path (SCIM) and
// through slack-go (users.info). The emulator's faults send seconds, so a
// plain handler answers.
func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", date.Format(http.TimeFormat))
		w.Header().Set("Retry-After", date.Add(42*time.Second).Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
	}))
	t.Cleanup(ts.Close)
	c, err := slack.New(t.Context(), slack.Config{APIURL: ts.URL + "/api/", SCIMURL: ts.URL + "/scim/v2/", AuditURL: ts.URL + "/audit/v1/",
		AdminToken: "xoxp-x", TeamID: "T0ACME0001"}, slack.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Plan(t.Context(), acct(ada))
	if ce := connErr(t, err, connectors.RateLimited); ce.Status != 429 || ce.RetryAfter != 42*time.Second {
		t.Errorf("SCIM: status %d RetryAfter %s, want 429 42s", ce.Status, ce.RetryAfter)
	}
	_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"slackUserId": ada}})
	if ce := connErr(t, err, connectors.RateLimited); ce.Status != 429 || ce.RetryAfter != 42*time.Second {
		t.Errorf("users.info: status %d RetryAfter %s, want 429 42s", ce.Status, ce.RetryAfter)
	}
}

// TestErrorsCarryNoEmail makes every email-bearing call fail and checks the
// errors.
func TestErrorsCarryNoEmail(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	f.fault(t, emu.Fault{Path: `^/scim/v2/Users$`, Status: 400})
	_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com"})
	connErr(t, err, connectors.InvalidInput)

	// A server that drops connections: the transport error names the URL,
	// which for the SCIM filter holds the email.
	g := setup(t, options{})
	g.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/scim/") {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		g.emu.ServeHTTP(w, r)
	})
	_, err = g.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com"})
	connErr(t, err, connectors.Unavailable)
}

func TestKindsForSlackErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]connectors.Kind{
		"invalid_auth": connectors.Unauthenticated, "not_authed": connectors.Unauthenticated, "token_revoked": connectors.Unauthenticated,
		"missing_scope": connectors.PermissionDenied, "not_allowed_token_type": connectors.PermissionDenied,
		"no_permission": connectors.PermissionDenied, "ekm_access_denied": connectors.PermissionDenied,
		"user_not_found": connectors.NotFound, "users_not_found": connectors.NotFound,
		"ratelimited":       connectors.RateLimited,
		"invalid_arguments": connectors.InvalidInput, "invalid_user_id": connectors.InvalidInput,
		"fatal_error": connectors.Unavailable, "internal_error": connectors.Unavailable,
	}
	for code, kind := range cases {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			// Drive each code through the emulator's users.info with a
			// server that answers it, the way Slack does (HTTP 200).
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/scim/v2/Users/"+ada {
					// Still active: the sessions are listed.
					_, _ = w.Write([]byte(`{"id":"` + ada + `","active":true}`))
					return
				}
				_, _ = w.Write([]byte(`{"ok":false,"error":"` + code + `"}`))
			}))
			t.Cleanup(ts.Close)
			c, err := slack.New(t.Context(), slack.Config{APIURL: ts.URL + "/api/", SCIMURL: ts.URL + "/scim/v2/", AuditURL: ts.URL + "/audit/v1/",
				AdminToken: "xoxp-x", TeamID: "T0ACME0001"}, slack.WithHTTPClient(ts.Client()))
			if err != nil {
				t.Fatal(err)
			}
			// Through slack-go (users.info) and through plain HTTP
			// (admin.users.session.list).
			err = c.Verify(t.Context(), acct(ada), stepOf(slack.ActionResetSessions))
			if ce := connErr(t, err, kind); ce.Status != 200 || ce.Msg != code {
				t.Errorf("session list: status %d msg %q", ce.Status, ce.Msg)
			}
			_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1", Overrides: map[string]string{"slack": ada}})
			if kind == connectors.NotFound {
				kind = connectors.InvalidInput // an override that matches nobody
			}
			connErr(t, err, kind)
		})
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
