package okta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/offboard/offboard/emulators/okta"
)

// hookPost is one delivery a receiver got.
type hookPost struct {
	header http.Header
	body   []byte
	env    hookEnvelope
}

type hookEnvelope struct {
	EventType          string `json:"eventType"`
	EventTypeVersion   string `json:"eventTypeVersion"`
	CloudEventsVersion string `json:"cloudEventsVersion"`
	Source             string `json:"source"`
	EventID            string `json:"eventId"`
	EventTime          string `json:"eventTime"`
	ContentType        string `json:"contentType"`
	Data               struct {
		Events []logEvent `json:"events"`
	} `json:"data"`
}

// receiver is an event hook endpoint: it answers Okta's verification (or
// not, per verify) and records deliveries, answering them with statuses in
// turn (200 once they run out).
type receiver struct {
	t  *testing.T
	ts *httptest.Server

	mu       sync.Mutex
	verify   func(challenge string) (int, string) // nil: the right answer
	gets     []http.Header
	posts    []hookPost
	statuses []int
	hold     chan struct{} // when set, deliveries wait for it to close
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{t: t}
	rc.ts = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.ts.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		rc.mu.Lock()
		rc.gets = append(rc.gets, r.Header.Clone())
		verify := rc.verify
		rc.mu.Unlock()
		challenge := r.Header.Get("X-Okta-Verification-Challenge")
		if verify != nil {
			status, body := verify(challenge)
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"verification": challenge})
	case http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		p := hookPost{header: r.Header.Clone(), body: body}
		if err := json.Unmarshal(body, &p.env); err != nil {
			rc.t.Errorf("delivery is not JSON: %v: %s", err, body)
		}
		rc.mu.Lock()
		hold := rc.hold
		rc.mu.Unlock()
		if hold != nil {
			<-hold
		}
		rc.mu.Lock()
		rc.posts = append(rc.posts, p)
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (rc *receiver) got() []hookPost {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.posts)
}

func drain(t *testing.T, s *okta.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.DrainEventHook(ctx); err != nil {
		t.Fatalf("deliveries did not finish: %v", err)
	}
}

// control calls the emulator's event hook endpoint.
func control(t *testing.T, ts *httptest.Server, method string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+okta.EventHookPath, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func hookOn(t *testing.T, ts *httptest.Server, rc *receiver, events ...string) okta.EventHookStatus {
	t.Helper()
	status, body := control(t, ts, "POST", okta.EventHookRequest{URL: rc.ts.URL + "/v1/okta/events", Authorization: "Bearer hook-secret", Events: events})
	if status != 200 {
		t.Fatalf("set hook: %d %s", status, body)
	}
	var st okta.EventHookStatus
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func lifecycleAs(t *testing.T, ts *httptest.Server, token, id, op string) {
	t.Helper()
	if r := callToken(t, ts, "POST", "/api/v1/users/"+id+"/lifecycle/"+op, "SSWS "+token); r.status != 200 {
		t.Fatalf("%s %s: %d %s", op, id, r.status, r.body)
	}
}

func TestEventHookVerification(t *testing.T) {
	t.Parallel()
	t.Run("good answer", func(t *testing.T) {
		t.Parallel()
		s, ts := start(t, okta.Options{})
		rc := newReceiver(t)
		st := hookOn(t, ts, rc, "user.lifecycle.deactivate", "user.lifecycle.suspend")
		if !st.Active || !regexp.MustCompile(`^who[A-Za-z0-9]{17}$`).MatchString(st.ID) || st.URL != rc.ts.URL+"/v1/okta/events" ||
			!slices.Equal(st.Events, []string{"user.lifecycle.deactivate", "user.lifecycle.suspend"}) || st.Verified == nil {
			t.Errorf("status %+v", st)
		}
		if strings.Contains(string(mustJSON(t, st)), "hook-secret") {
			t.Error("status shows the authorization value")
		}
		if len(rc.gets) != 1 {
			t.Fatalf("%d verification GETs", len(rc.gets))
		}
		if c := rc.gets[0].Get("X-Okta-Verification-Challenge"); len(c) < 20 {
			t.Errorf("challenge %q", c)
		}
		if a := rc.gets[0].Get("Authorization"); a != "Bearer hook-secret" {
			t.Errorf("verification Authorization %q", a)
		}
		if got := s.EventHookStatus(); got.ID != st.ID || !got.Active {
			t.Errorf("EventHookStatus %+v", got)
		}
		// A second verification sends a new challenge.
		if err := s.SetEventHook(rc.ts.URL, "x", []string{"user.lifecycle.suspend"}); err != nil {
			t.Fatal(err)
		}
		if rc.gets[0].Get("X-Okta-Verification-Challenge") == rc.gets[1].Get("X-Okta-Verification-Challenge") {
			t.Error("the same challenge twice")
		}
		if status, _ := control(t, ts, "DELETE", nil); status != 204 {
			t.Errorf("DELETE: %d", status)
		}
		if s.EventHookStatus().Active {
			t.Error("still active after DELETE")
		}
	})
	for name, tc := range map[string]struct {
		answer func(string) (int, string)
		why    string
	}{
		"wrong value": {func(string) (int, string) { return 200, `{"verification":"nope"}` }, `"nope" is not the challenge`},
		"not found":   {func(string) (int, string) { return 404, "" }, "answered 404"},
		"no JSON":     {func(c string) (int, string) { return 200, c }, "not JSON"},
		"no field":    {func(c string) (int, string) { return 200, `{"challenge":"` + c + `"}` }, `no "verification"`},
		"204":         {func(c string) (int, string) { return 204, "" }, "answered 204"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, okta.Options{})
			rc := newReceiver(t)
			rc.verify = tc.answer
			status, body := control(t, ts, "POST", okta.EventHookRequest{URL: rc.ts.URL, Events: []string{"user.lifecycle.deactivate"}})
			var e struct{ Error string }
			json.Unmarshal(body, &e)
			if status != http.StatusBadGateway || !strings.Contains(e.Error, tc.why) {
				t.Errorf("answer %d %s, want 502 saying %q", status, body, tc.why)
			}
			if err := s.SetEventHook(rc.ts.URL, "", []string{"user.lifecycle.deactivate"}); err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("SetEventHook: %v", err)
			}
			if s.EventHookStatus().Active {
				t.Error("hook active after failed verification")
			}
			lifecycle(t, ts, ada, "deactivate")
			drain(t, s)
			if n := len(rc.got()); n != 0 {
				t.Errorf("%d deliveries to an unverified hook", n)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		s, _ := start(t, okta.Options{})
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		if err := s.SetEventHook(dead.URL, "", []string{"user.lifecycle.deactivate"}); err == nil || !strings.Contains(err.Error(), "GET "+dead.URL) {
			t.Errorf("SetEventHook: %v", err)
		}
	})
	t.Run("failure keeps the active hook", func(t *testing.T) {
		t.Parallel()
		s, ts := start(t, okta.Options{})
		good := newReceiver(t)
		st := hookOn(t, ts, good, "user.lifecycle.suspend")
		bad := newReceiver(t)
		bad.verify = func(string) (int, string) { return 500, "" }
		if err := s.SetEventHook(bad.ts.URL, "", []string{"user.lifecycle.suspend"}); err == nil {
			t.Fatal("no error")
		}
		if got := s.EventHookStatus(); got.ID != st.ID {
			t.Errorf("active hook %+v, want %s", got, st.ID)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		t.Parallel()
		_, ts := start(t, okta.Options{})
		rc := newReceiver(t)
		for _, body := range []any{
			okta.EventHookRequest{URL: rc.ts.URL},
			okta.EventHookRequest{URL: "ftp://x/", Events: []string{"user.lifecycle.suspend"}},
			okta.EventHookRequest{URL: "/relative", Events: []string{"user.lifecycle.suspend"}},
			map[string]any{"url": rc.ts.URL, "events": []string{"user.lifecycle.suspend"}, "bogus": 1},
		} {
			if status, b := control(t, ts, "POST", body); status != 400 || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%+v: %d %s", body, status, b)
			}
		}
		if len(rc.gets) != 0 {
			t.Errorf("bad requests verified: %d GETs", len(rc.gets))
		}
		if status, b := control(t, ts, "GET", nil); status != 200 || !strings.Contains(string(b), `"active": false`) {
			t.Errorf("GET: %d %s", status, b)
		}
		if status, _ := control(t, ts, "PUT", nil); status != 405 {
			t.Errorf("PUT: %d", status)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// systemLog returns the System Log events of a type about a user.
func systemLog(t *testing.T, ts *httptest.Server, typ, target string) []logEvent {
	t.Helper()
	evs, _ := logs(t, ts, url.Values{
		"since":  {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		"until":  {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		"filter": {`eventType eq "` + typ + `" and target.id eq "` + target + `"`},
	})
	return evs
}

// TestEventHookHRDeactivate deactivates a user as the HR integration would,
// through okta-sdk-golang with the HR token, and checks the delivery.
func TestEventHookHRDeactivate(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{HRToken: "hr-secret"})
	rc := newReceiver(t)
	hk := hookOn(t, ts, rc, "user.lifecycle.deactivate", "user.lifecycle.suspend")

	_, client, err := sdk.NewClient(t.Context(), sdk.WithOrgUrl(ts.URL), sdk.WithToken("hr-secret"),
		sdk.WithTestingDisableHttpsCheck(true), sdk.WithCache(false), sdk.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.User.DeactivateUser(t.Context(), ada, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, s)

	posts := rc.got()
	if len(posts) != 1 {
		t.Fatalf("%d deliveries, want 1", len(posts))
	}
	p := posts[0]
	if a := p.header.Get("Authorization"); a != "Bearer hook-secret" {
		t.Errorf("Authorization %q", a)
	}
	if ct := p.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	env := p.env
	if env.EventType != "com.okta.event_hook" || env.EventTypeVersion != "1.0" || env.CloudEventsVersion != "0.1" || env.ContentType != "application/json" {
		t.Errorf("envelope %+v", env)
	}
	if env.Source != ts.URL+"/api/v1/eventHooks/"+hk.ID {
		t.Errorf("source %q", env.Source)
	}
	if !uuidRE.MatchString(env.EventID) || !oktaStamp.MatchString(env.EventTime) {
		t.Errorf("eventId %q eventTime %q", env.EventID, env.EventTime)
	}
	var raw struct {
		Data struct {
			Events []map[string]json.RawMessage `json:"events"`
		} `json:"data"`
	}
	json.Unmarshal(p.body, &raw)
	if len(raw.Data.Events) != 1 || len(env.Data.Events) != 1 {
		t.Fatalf("data.events %s", p.body)
	}
	for _, k := range []string{"uuid", "published", "eventType", "version", "displayMessage", "severity", "actor", "client", "outcome", "target", "transaction", "debugContext", "authenticationContext", "securityContext", "request"} {
		if _, ok := raw.Data.Events[0][k]; !ok {
			t.Errorf("event lacks %s", k)
		}
	}
	e := env.Data.Events[0]
	if e.EventType != "user.lifecycle.deactivate" || e.Version != "0" || e.Severity != "INFO" || e.Outcome.Result != "SUCCESS" || e.DisplayMessage != "Deactivate Okta user" || !oktaStamp.MatchString(e.Published) {
		t.Errorf("event %+v", e)
	}
	if e.Actor.ID != okta.HRActorID || e.Actor.Type != "PublicClientApp" || e.Actor.DisplayName != okta.HRActorName {
		t.Errorf("actor %+v", e.Actor)
	}
	if len(e.Target) != 1 || e.Target[0].ID != ada || e.Target[0].Type != "User" || e.Target[0].AlternateID != "ada.lovelace@example.com" || e.Target[0].DisplayName != "Ada Lovelace" {
		t.Errorf("target %+v", e.Target)
	}
	var cl struct {
		ID *string `json:"id"`
	}
	json.Unmarshal(raw.Data.Events[0]["client"], &cl)
	if cl.ID == nil || *cl.ID != okta.HRActorID {
		t.Errorf("client %s", raw.Data.Events[0]["client"])
	}

	// The delivered event is the System Log's, uuid and all.
	logged := systemLog(t, ts, "user.lifecycle.deactivate", ada)
	if len(logged) != 1 || logged[0].UUID != e.UUID || logged[0].Actor.ID != okta.HRActorID {
		t.Fatalf("System Log %+v, delivered uuid %s", logged, e.UUID)
	}
	var fromLog []map[string]json.RawMessage
	r := call(t, ts, "GET", "/api/v1/logs?filter="+url.QueryEscape(`uuid eq "`+e.UUID+`"`)+"&since="+url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))
	r.json(t, &fromLog)
	if len(fromLog) != 1 || !equalJSON(t, fromLog[0], raw.Data.Events[0]) {
		t.Errorf("delivered event differs from the System Log's:\n%s\n%s", mustJSON(t, raw.Data.Events[0]), r.body)
	}

	ds := s.EventHookDeliveries()
	if len(ds) != 1 || !ds[0].OK || ds[0].Status != 200 || ds[0].Attempt != 1 || ds[0].EventID != env.EventID || ds[0].HookID != hk.ID || !slices.Equal(ds[0].UUIDs, []string{e.UUID}) {
		t.Errorf("deliveries %+v", ds)
	}
}

// TestEventHookActors: each token's changes name its own principal.
func TestEventHookActors(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{Token: "offboard", HRToken: "hr"})
	rc := newReceiver(t)
	hookOn(t, ts, rc, "user.lifecycle.suspend", "user.lifecycle.unsuspend")
	lifecycleAs(t, ts, "offboard", grace, "suspend")
	lifecycleAs(t, ts, "hr", grace, "unsuspend")
	drain(t, s)
	var evs []logEvent
	for _, p := range rc.got() {
		evs = append(evs, p.env.Data.Events...)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events delivered", len(evs))
	}
	if a := evs[0].Actor; evs[0].EventType != "user.lifecycle.suspend" || a.ID != okta.AdminActorID || a.Type != "User" || a.AlternateID != "api-admin@example.com" || a.DisplayName != okta.AdminActorName {
		t.Errorf("offboard token's event %s by %+v", evs[0].EventType, a)
	}
	if a := evs[1].Actor; evs[1].EventType != "user.lifecycle.unsuspend" || a.ID != okta.HRActorID || a.Type != "PublicClientApp" {
		t.Errorf("HR token's event %s by %+v", evs[1].EventType, a)
	}
	// Without Options.HRToken there is no second token.
	_, ts2 := start(t, okta.Options{})
	if r := callToken(t, ts2, "POST", "/api/v1/users/"+grace+"/lifecycle/suspend", "SSWS "); r.status != 401 {
		t.Errorf("empty token: %d", r.status)
	}
}

func TestEventHookSubscription(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	rc := newReceiver(t)
	hookOn(t, ts, rc, "user.lifecycle.deactivate")
	lifecycle(t, ts, ada, "suspend")
	lifecycle(t, ts, ada, "unsuspend")
	lifecycle(t, ts, ada, "reset_factors")
	call(t, ts, "DELETE", "/api/v1/users/"+ada+"/sessions?oauthTokens=true")
	drain(t, s)
	if n := len(rc.got()); n != 0 {
		t.Fatalf("%d deliveries of unsubscribed events", n)
	}
	lifecycle(t, ts, ada, "deactivate")
	drain(t, s)
	posts := rc.got()
	if len(posts) != 1 || len(posts[0].env.Data.Events) != 1 || posts[0].env.Data.Events[0].EventType != "user.lifecycle.deactivate" {
		t.Fatalf("deliveries %+v", posts)
	}
	// A failed call changes nothing and delivers nothing.
	wantError(t, lifecycle(t, ts, ada, "deactivate"), 404, "E0000007", "")
	drain(t, s)
	if n := len(rc.got()); n != 1 {
		t.Errorf("%d deliveries after a failed call", n)
	}
}

func TestEventHookNothingBeforeSet(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	rc := newReceiver(t)
	lifecycle(t, ts, ada, "suspend")
	lifecycle(t, ts, grace, "deactivate")
	drain(t, s)
	hookOn(t, ts, rc, "user.lifecycle.deactivate", "user.lifecycle.suspend")
	drain(t, s)
	if n := len(rc.got()); n != 0 {
		t.Fatalf("%d deliveries of events before the hook", n)
	}
	lifecycle(t, ts, margaret, "suspend")
	drain(t, s)
	posts := rc.got()
	if len(posts) != 1 || len(posts[0].env.Data.Events) != 1 || posts[0].env.Data.Events[0].Target[0].ID != margaret {
		t.Fatalf("deliveries %+v", posts)
	}
	// After DELETE nothing more goes out.
	control(t, ts, "DELETE", nil)
	lifecycle(t, ts, ken, "suspend")
	drain(t, s)
	if n := len(rc.got()); n != 1 {
		t.Errorf("%d deliveries after the hook was removed", n)
	}
}

func TestEventHookRetry(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		statuses []int
		posts    int
		ok       bool
	}{
		"500 then 200": {[]int{500, 200}, 2, true},
		"500 twice":    {[]int{500, 503}, 2, false},
		"400":          {[]int{400}, 1, false}, // Okta does not retry a 4xx
		"200":          {nil, 1, true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, okta.Options{EventHookRetryWait: 20 * time.Millisecond})
			rc := newReceiver(t)
			rc.statuses = tc.statuses
			hookOn(t, ts, rc, "user.lifecycle.deactivate")
			before := s.State().EventCount
			lifecycle(t, ts, ada, "deactivate")
			drain(t, s)
			posts := rc.got()
			if len(posts) != tc.posts {
				t.Fatalf("%d POSTs, want %d", len(posts), tc.posts)
			}
			if len(posts) == 2 && (!bytes.Equal(posts[0].body, posts[1].body) || posts[1].header.Get("Authorization") != "Bearer hook-secret") {
				t.Errorf("the retry differs:\n%s\n%s", posts[0].body, posts[1].body)
			}
			ds := s.EventHookDeliveries()
			if len(ds) != tc.posts || ds[len(ds)-1].OK != tc.ok || ds[0].Attempt != 1 || ds[len(ds)-1].Attempt != tc.posts || ds[0].Status != posts[0].statusOr(tc.statuses) {
				t.Errorf("deliveries %+v", ds)
			}
			// A delivery given up on is logged as Okta logs it.
			want := before + 1
			if !tc.ok {
				want++
			}
			if got := s.State().EventCount; got != want {
				t.Errorf("event count %d, want %d", got, want)
			}
			if !tc.ok {
				evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`eventType eq "event_hook.delivery"`}})
				if len(evs) != 1 || evs[0].Outcome.Result != "FAILURE" || evs[0].Actor.Type != "SystemPrincipal" {
					t.Errorf("delivery failure events %+v", evs)
				}
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		s, ts := start(t, okta.Options{EventHookTimeout: 200 * time.Millisecond, EventHookRetryWait: time.Millisecond})
		rc := newReceiver(t)
		hookOn(t, ts, rc, "user.lifecycle.suspend")
		release := make(chan struct{})
		rc.mu.Lock()
		rc.hold = release
		rc.mu.Unlock()
		lifecycle(t, ts, ada, "suspend")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		for len(s.EventHookDeliveries()) < 2 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		close(release)
		drain(t, s)
		ds := s.EventHookDeliveries()
		if len(ds) != 2 || ds[0].OK || ds[0].Status != 0 || ds[0].Error == "" || ds[1].Attempt != 2 || ds[1].OK {
			t.Errorf("deliveries %+v", ds)
		}
	})
}

func (p hookPost) statusOr(statuses []int) int {
	if len(statuses) > 0 {
		return statuses[0]
	}
	return 200
}

// TestEventHookAsyncInOrder: the API answers without waiting for the hook,
// and the events arrive in the order they happened, batched while a
// delivery is in flight.
func TestEventHookAsyncInOrder(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	rc := newReceiver(t)
	hookOn(t, ts, rc, "user.lifecycle.suspend", "user.lifecycle.unsuspend", "user.lifecycle.deactivate")
	release := make(chan struct{})
	rc.mu.Lock()
	rc.hold = release
	rc.mu.Unlock()
	begin := time.Now()
	for _, op := range []string{"suspend", "unsuspend", "suspend", "unsuspend", "deactivate"} {
		lifecycle(t, ts, grace, op)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("API calls took %v with the receiver stuck", d)
	}
	close(release)
	drain(t, s)
	var got []string
	for _, p := range rc.got() {
		if len(p.env.Data.Events) == 0 {
			t.Error("empty delivery")
		}
		for _, e := range p.env.Data.Events {
			got = append(got, e.UUID)
		}
	}
	evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`target.id eq "` + grace + `"`}})
	var want []string
	for _, e := range evs {
		want = append(want, e.UUID)
	}
	if len(want) != 5 || !slices.Equal(got, want) {
		t.Errorf("delivered %v, System Log %v", got, want)
	}
	if n := len(rc.got()); n > 2 {
		t.Errorf("%d deliveries: want the first, then the rest batched while it was held", n)
	}
}

func TestDevHRToken(t *testing.T) {
	t.Parallel()
	dev := okta.Dev(demo(t)).(*okta.Server)
	ts := httptest.NewServer(dev)
	t.Cleanup(ts.Close)
	rc := newReceiver(t)
	hookOn(t, ts, rc, "user.lifecycle.deactivate")
	lifecycleAs(t, ts, okta.DevHRToken, ada, "deactivate")
	lifecycleAs(t, ts, okta.DevToken, grace, "deactivate")
	drain(t, dev)
	var actors []string
	for _, p := range rc.got() {
		for _, e := range p.env.Data.Events {
			actors = append(actors, e.Target[0].ID+" by "+e.Actor.ID)
		}
	}
	if want := []string{ada + " by " + okta.HRActorID, grace + " by " + okta.AdminActorID}; !slices.Equal(actors, want) {
		t.Errorf("delivered %v, want %v", actors, want)
	}
}
