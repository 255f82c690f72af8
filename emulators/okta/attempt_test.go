package okta_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/okta"
)

// attemptAt is the test clock of the attempt tests.
var attemptAt = time.Date(2026, 12, 10, 9, 30, 0, 0, time.UTC)

// attemptServer serves the demo org with its clock stopped at attemptAt.
func attemptServer(t *testing.T, opts okta.Options) (*okta.Server, *httptest.Server, *clock) {
	t.Helper()
	c := &clock{t: attemptAt}
	opts.Now = c.Now
	s, ts := start(t, opts)
	return s, ts, c
}

// postAttempt posts body (JSON-encoded unless a string) to POST
// /_emulator/attempt.
func postAttempt(t *testing.T, ts *httptest.Server, body any) reply {
	t.Helper()
	s, ok := body.(string)
	if !ok {
		s = string(mustJSON(t, body))
	}
	resp, err := ts.Client().Post(ts.URL+emu.AttemptPath, "application/json", strings.NewReader(s))
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

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// attemptAnswer is what POST /_emulator/attempt answers.
type attemptAnswer struct {
	Outcome string          `json:"outcome"`
	Event   json.RawMessage `json:"event"`
	Error   string          `json:"error"`
}

func mustAttempt(t *testing.T, ts *httptest.Server, body any) (attemptAnswer, sdk.LogEvent) {
	t.Helper()
	r := postAttempt(t, ts, body)
	if r.status != http.StatusOK {
		t.Fatalf("attempt %v: %d %s", body, r.status, r.body)
	}
	var a attemptAnswer
	r.json(t, &a)
	var le sdk.LogEvent
	if err := json.Unmarshal(a.Event, &le); err != nil {
		t.Fatalf("event %s is not an Okta LogEvent: %v", a.Event, err)
	}
	return a, le
}

// debugData is an event's debugContext.debugData.
func debugData(le sdk.LogEvent) map[string]any {
	if le.DebugContext == nil {
		return nil
	}
	m, _ := le.DebugContext.DebugData.(map[string]any)
	return m
}

// dayLogs reads, as raw JSON, the System Log events matching filter in the
// hour around attemptAt.
func dayLogs(t *testing.T, ts *httptest.Server, filter string) []json.RawMessage {
	t.Helper()
	v := url.Values{"since": {attemptAt.Add(-time.Hour).Format(time.RFC3339)}, "until": {attemptAt.Add(time.Hour).Format(time.RFC3339)}}
	if filter != "" {
		v.Set("filter", filter)
	}
	r := call(t, ts, "GET", "/api/v1/logs?"+v.Encode())
	if r.status != 200 {
		t.Fatalf("logs %q: %d %s", filter, r.status, r.body)
	}
	var evs []json.RawMessage
	r.json(t, &evs)
	return evs
}

func TestAttemptOfUserWhoMayNotSignInFails(t *testing.T) {
	t.Parallel()
	org := demo(t)
	for i, p := range org.People {
		switch p.EmployeeID {
		case "E1006": // ken, ACTIVE in the demo
			org.People[i].Okta.Status = "LOCKED_OUT"
		case "E1003": // alan, SUSPENDED, gets a login that is not his email
			if p.Okta.Profile == nil {
				org.People[i].Okta.Profile = map[string]string{}
			}
			org.People[i].Okta.Profile["login"] = "aturing"
		}
	}
	s := okta.New(org, okta.Options{Now: func() time.Time { return attemptAt }})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	// ada is ACTIVE until offboard suspends her, as it would.
	if r := lifecycle(t, ts, ada, "suspend"); r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}

	cases := map[string]struct {
		account, id, login, reason string
	}{
		"suspended by offboard, by login": {"ada.lovelace@example.com", ada, "ada.lovelace@example.com", "VERIFICATION_ERROR"},
		"suspended, by email, any case":   {"Alan.Turing@Example.com", alan, "aturing", "VERIFICATION_ERROR"},
		"suspended, by login":             {"aturing", alan, "aturing", "VERIFICATION_ERROR"},
		"deactivated, by id":              {sophie, sophie, "sophie.wilson@example.com", "VERIFICATION_ERROR"},
		"locked out":                      {ken, ken, "ken.thompson@example.com", "LOCKED_OUT"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := state(t, s, c.id)
			byActor := `actor.id eq "` + c.id + `" and eventType eq "user.session.start"`
			had := dayLogs(t, ts, byActor)
			const ip = "198.51.100.23"
			a, le := mustAttempt(t, ts, map[string]string{"account": c.account, "ip": ip})
			if a.Outcome != "failure" {
				t.Errorf("outcome %q, want failure", a.Outcome)
			}
			if le.EventType != "user.session.start" || le.DisplayMessage != "User login to Okta" || le.Severity != "WARN" ||
				le.LegacyEventType != "core.user_auth.login_failed" || le.Version != "0" || le.Uuid == "" {
				t.Errorf("event %s", a.Event)
			}
			if le.Outcome == nil || le.Outcome.Result != "FAILURE" || le.Outcome.Reason != c.reason {
				t.Errorf("outcome %+v, want FAILURE %s", le.Outcome, c.reason)
			}
			if le.Actor == nil || le.Actor.Id != c.id || le.Actor.Type != "User" || le.Actor.AlternateId != c.login || le.Actor.DisplayName == "" {
				t.Errorf("actor %+v, want user %s (%s)", le.Actor, c.id, c.login)
			}
			if le.Client == nil || le.Client.IpAddress != ip || le.Client.UserAgent == nil || !strings.HasPrefix(le.Client.UserAgent.RawUserAgent, "Mozilla/5.0") {
				t.Errorf("client %+v", le.Client)
			}
			if le.Request == nil || len(le.Request.IpChain) != 1 || le.Request.IpChain[0].Ip != ip || le.Request.IpChain[0].Version != "V4" {
				t.Errorf("request %+v", le.Request)
			}
			if le.Published == nil || !le.Published.Equal(attemptAt) {
				t.Errorf("published %v, want %v", le.Published, attemptAt)
			}
			if dd := debugData(le); dd["loginResult"] != c.reason || dd["requestUri"] != "/api/v1/authn" {
				t.Errorf("debugData %v", dd)
			}
			if len(le.Target) != 0 {
				t.Errorf("target %+v: Okta's user.session.start has none", le.Target)
			}

			// The connector's query finds this one more event, as returned.
			got := dayLogs(t, ts, byActor)
			if len(got) != len(had)+1 || !sameJSON(t, got[len(got)-1], a.Event) {
				t.Fatalf("System Log by actor.id: %s\nwant the %d events before and the event returned: %s", got, len(had), a.Event)
			}
			if got := dayLogs(t, ts, `client.ipAddress eq "`+ip+`" and actor.id eq "`+c.id+`" and outcome.reason eq "`+c.reason+`"`); len(got) != len(had)+1 {
				t.Errorf("System Log by client.ipAddress and outcome.reason: %d events, want %d", len(got), len(had)+1)
			}
			if got := dayLogs(t, ts, `target.id eq "`+c.id+`" and eventType eq "user.session.start"`); len(got) != 0 {
				t.Errorf("target.id (what was done to the user) finds the attempt: %s", got)
			}
			after := state(t, s, c.id)
			if after.Status != before.Status || after.Sessions != before.Sessions {
				t.Errorf("failed sign-in changed the user: %+v → %+v", before, after)
			}
		})
	}
	// Nothing signed in: no lastLogin at the clock.
	var u userBody
	call(t, ts, "GET", "/api/v1/users/"+ada).json(t, &u)
	if u.LastLogin != nil && *u.LastLogin == attemptAt.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("failed sign-in set lastLogin %s", *u.LastLogin)
	}
}

func TestAttemptOfActiveUserSucceeds(t *testing.T) {
	t.Parallel()
	s, ts, _ := attemptServer(t, okta.Options{})
	before := state(t, s, grace)
	count := s.State().EventCount
	const ua = "curl/8.5.0"
	a, le := mustAttempt(t, ts, map[string]string{"account": "Grace.Hopper@example.com", "ip": "2001:db8::7", "userAgent": ua, "action": "user.session.start"})
	if a.Outcome != "success" {
		t.Errorf("outcome %q, want success", a.Outcome)
	}
	if le.EventType != "user.session.start" || le.Severity != "INFO" || le.LegacyEventType != "core.user_auth.login_success" ||
		le.Outcome == nil || le.Outcome.Result != "SUCCESS" || le.Outcome.Reason != "" {
		t.Errorf("event %s", a.Event)
	}
	var raw struct {
		Outcome map[string]any `json:"outcome"`
	}
	if err := json.Unmarshal(a.Event, &raw); err != nil || raw.Outcome["reason"] != nil {
		t.Errorf("outcome %v: a success has reason null", raw.Outcome)
	}
	if le.Actor.Id != grace || le.Client.IpAddress != "2001:db8::7" || le.Client.UserAgent.RawUserAgent != ua ||
		le.Request.IpChain[0].Version != "V6" || le.AuthenticationContext == nil || le.AuthenticationContext.ExternalSessionId == "unknown" {
		t.Errorf("actor %+v client %+v request %+v auth %+v", le.Actor, le.Client, le.Request, le.AuthenticationContext)
	}
	if dd := debugData(le); dd["loginResult"] != nil || dd["requestUri"] != "/api/v1/authn" {
		t.Errorf("a success's debugData %v", dd)
	}

	// Okta gave grace a session and a new lastLogin.
	after := state(t, s, grace)
	if after.Sessions != before.Sessions+1 || after.Status != "ACTIVE" {
		t.Errorf("after sign-in %+v, before %+v", after, before)
	}
	var u userBody
	call(t, ts, "GET", "/api/v1/users/"+grace).json(t, &u)
	if u.LastLogin == nil || *u.LastLogin != "2026-12-10T09:30:00.000Z" {
		t.Errorf("lastLogin %v, want the attempt's time", u.LastLogin)
	}
	if got := s.State().EventCount; got != count+1 {
		t.Errorf("event count %d, want %d", got, count+1)
	}

	// The connector's session check sees it as the newest sign-in.
	v := url.Values{
		"since": {attemptAt.Add(-time.Hour).Format(time.RFC3339)}, "until": {attemptAt.Add(time.Minute).Format(time.RFC3339)},
		"filter":    {`(eventType eq "user.session.clear" and target.id eq "` + grace + `") or (actor.id eq "` + grace + `" and outcome.result eq "SUCCESS" and eventType eq "user.session.start")`},
		"sortOrder": {"DESCENDING"}, "limit": {"1"},
	}
	evs, _ := logs(t, ts, v)
	if len(evs) != 1 || evs[0].UUID != le.Uuid {
		t.Errorf("newest sign-in %+v, want %s", evs, le.Uuid)
	}
	// So does okta-sdk-golang, through the actor.id filter the connector uses.
	_, client, err := sdk.NewClient(t.Context(), sdk.WithOrgUrl(ts.URL), sdk.WithToken(okta.DefaultToken),
		sdk.WithTestingDisableHttpsCheck(true), sdk.WithCache(false), sdk.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	sdkEvs, _, err := client.LogEvent.GetLogs(t.Context(), query.NewQueryParams(
		query.WithFilter(`actor.id eq "`+grace+`"`),
		query.WithSince(attemptAt.Add(-time.Hour).Format(time.RFC3339)),
		query.WithUntil(attemptAt.Add(time.Hour).Format(time.RFC3339))))
	if err != nil || len(sdkEvs) != 1 || sdkEvs[0].Uuid != le.Uuid || sdkEvs[0].Client.IpAddress != "2001:db8::7" {
		t.Errorf("SDK GetLogs: %+v %v", sdkEvs, err)
	}
}

func TestAttemptRefused(t *testing.T) {
	t.Parallel()
	s, ts, _ := attemptServer(t, okta.Options{})
	count, sessions := s.State().EventCount, state(t, s, ada).Sessions
	cases := map[string]struct {
		body   any
		status int
		words  []string
	}{
		"unknown account":        {map[string]string{"account": "nobody@example.com"}, 404, []string{"nobody@example.com"}},
		"unknown id":             {map[string]string{"account": "00uNOPE"}, 404, []string{"00uNOPE"}},
		"account and credential": {map[string]string{"account": ada, "credential": "AKIAEXAMPLE"}, 400, []string{"exactly one"}},
		"credential":             {map[string]string{"credential": "AKIAEXAMPLE"}, 400, []string{"okta attempts name an account, not a credential"}},
		"unknown field":          {`{"account": "` + ada + `", "password": "hunter2"}`, 400, []string{"password"}},
		"nothing named":          {`{}`, 400, []string{"exactly one"}},
		"not JSON":               {`account=ada`, 400, []string{"bad body"}},
		"bad ip":                 {map[string]string{"account": ada, "ip": "203.0.113"}, 400, []string{"203.0.113", "not an IP"}},
		"other action":           {map[string]string{"account": ada, "action": "user.authentication.sso"}, 400, []string{"user.authentication.sso"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := postAttempt(t, ts, c.body)
			var a attemptAnswer
			r.json(t, &a)
			if r.status != c.status || a.Error == "" || len(a.Event) != 0 {
				t.Fatalf("%d %s, want %d with an error", r.status, r.body, c.status)
			}
			for _, w := range c.words {
				if !strings.Contains(a.Error, w) {
					t.Errorf("error %q does not mention %q", a.Error, w)
				}
			}
		})
	}
	if got := s.State().EventCount; got != count {
		t.Errorf("refused attempts recorded %d events", got-count)
	}
	if got := dayLogs(t, ts, `eventType eq "user.session.start"`); len(got) != 0 {
		t.Errorf("refused attempts in the System Log: %s", got)
	}
	if st := state(t, s, ada); st.Sessions != sessions {
		t.Errorf("ada's sessions %d, want %d", st.Sessions, sessions)
	}

	t.Run("wrong method", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			r := call(t, ts, m, emu.AttemptPath)
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost {
				t.Errorf("%s: %d Allow %q, want 405 Allow POST", m, r.status, r.header.Get("Allow"))
			}
		}
		if got := s.State().EventCount; got != count {
			t.Errorf("%d events recorded", got-count)
		}
	})
}

// TestBringingBackLogsWhoDidIt checks the lifecycle calls that bring an
// account back log an event whose actor is the token's principal and whose
// target is the user: what the watch reads, by target.id, to say who.
func TestBringingBackLogsWhoDidIt(t *testing.T) {
	t.Parallel()
	s, ts, c := attemptServer(t, okta.Options{HRToken: "hr-secret"})
	ctx := t.Context()
	newClient := func(token string) *sdk.Client {
		_, client, err := sdk.NewClient(ctx, sdk.WithOrgUrl(ts.URL), sdk.WithToken(token),
			sdk.WithTestingDisableHttpsCheck(true), sdk.WithCache(false), sdk.WithRateLimitMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		return client
	}
	admin, hr := newClient(okta.DefaultToken), newClient("hr-secret")
	step := func() { c.Add(time.Minute) }

	// ada: suspended, then unsuspended by the admin.
	lifecycle(t, ts, ada, "suspend")
	step()
	if _, err := admin.User.UnsuspendUser(ctx, ada); err != nil {
		t.Fatal(err)
	}
	if st := state(t, s, ada); st.Status != "ACTIVE" {
		t.Fatalf("after unsuspend: %s", st.Status)
	}
	step()
	// grace: deactivated, then activated by HR without an email.
	lifecycle(t, ts, grace, "deactivate")
	step()
	tok, _, err := hr.User.ActivateUser(ctx, grace, query.NewQueryParams(query.WithSendEmail(false)))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ActivationToken == "" || !strings.HasPrefix(tok.ActivationUrl, ts.URL+"/welcome/") || !strings.HasSuffix(tok.ActivationUrl, tok.ActivationToken) {
		t.Errorf("activation token %+v", tok)
	}
	// Deactivation deleted her password: she must finish activating.
	if st := state(t, s, grace); st.Status != "PROVISIONED" {
		t.Errorf("after activate: %s, want PROVISIONED", st.Status)
	}
	a, _ := mustAttempt(t, ts, map[string]string{"account": grace})
	if a.Outcome != "failure" {
		t.Errorf("PROVISIONED user's sign-in: %s", a.Outcome)
	}
	step()
	if _, _, err := admin.User.ReactivateUser(ctx, grace, nil); err != nil {
		t.Fatal(err)
	}
	step()

	for _, w := range []struct {
		id, filter string
		want       []string // eventType/actor id
	}{
		{ada, `target.id eq "` + ada + `"`, []string{"user.lifecycle.suspend/" + okta.AdminActorID, "user.lifecycle.unsuspend/" + okta.AdminActorID}},
		{grace, `target.id eq "` + grace + `"`, []string{"user.lifecycle.deactivate/" + okta.AdminActorID, "user.lifecycle.activate/" + okta.HRActorID, "user.lifecycle.reactivate/" + okta.AdminActorID}},
	} {
		evs, _ := logs(t, ts, url.Values{"since": {attemptAt.Format(time.RFC3339)}, "until": {c.Now().Format(time.RFC3339)}, "filter": {w.filter}})
		var got []string
		for _, e := range evs {
			got = append(got, e.EventType+"/"+e.Actor.ID)
			if len(e.Target) != 1 || e.Target[0].ID != w.id || e.Target[0].Type != "User" || e.DisplayMessage == e.EventType {
				t.Errorf("%s: target %+v message %q", e.EventType, e.Target, e.DisplayMessage)
			}
		}
		if !slices.Equal(got, w.want) {
			t.Errorf("%s: %v, want %v", w.filter, got, w.want)
		}
	}

	// Okta's errors for the wrong status, which log nothing.
	count := s.State().EventCount
	wantError(t, lifecycle(t, ts, ada, "activate"), 403, "E0000016", "Activation failed because the user is already active")
	wantError(t, lifecycle(t, ts, ada, "reactivate"), 403, "E0000038", "This operation is not allowed in the user's current status.")
	wantError(t, lifecycle(t, ts, alan, "activate"), 403, "E0000038", "")  // SUSPENDED: unsuspend, not activate
	wantError(t, lifecycle(t, ts, grace, "activate"), 403, "E0000038", "") // PROVISIONED: reactivate
	wantError(t, lifecycle(t, ts, "00uNOPE", "activate"), 404, "E0000007", "")
	wantError(t, call(t, ts, "POST", "/api/v1/users/"+sophie+"/lifecycle/activate?sendEmail=maybe"), 400, "E0000001", "")
	if got := s.State().EventCount; got != count {
		t.Errorf("refused lifecycle calls logged %d events", got-count)
	}
	// The default sendEmail of activate is true: no token in the answer.
	r := lifecycle(t, ts, sophie, "activate")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "{}" {
		t.Errorf("activate with the email: %d %s", r.status, r.body)
	}
}
