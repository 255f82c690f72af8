package okta_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/offboard/offboard/emulators/emutest"
	"github.com/offboard/offboard/emulators/okta"
)

const givenUUID = "5c1f3c1e-0d7a-4a51-9a1f-2b7c9d7e0a11"

// scenario is three LogEvents as Okta's System Log serves them, with a
// field Okta does not have, non-string debugData and a time in another
// zone.
func scenario() []map[string]any {
	return []map[string]any{
		{
			"eventType": "user.session.start", "published": "2026-12-01T10:00:00.000Z",
			"displayMessage": "User login to Okta", "severity": "INFO", "version": "0", "legacyEventType": "core.user_auth.login_success",
			"actor":        map[string]any{"id": ada, "type": "User", "alternateId": "ada.lovelace@example.com", "displayName": "Ada Lovelace", "detailEntry": nil},
			"client":       map[string]any{"ipAddress": "192.0.2.44", "zone": "null", "device": "Computer", "geographicalContext": map[string]any{"city": "Lisbon", "country": "Portugal"}},
			"outcome":      map[string]any{"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
			"debugContext": map[string]any{"debugData": map[string]any{"risk": "{level=HIGH}", "score": 0.9, "threatSuspected": false}},
			"target":       []any{},
			"x_scenario":   map[string]any{"step": 1, "note": "credential stuffing"},
		},
		{
			"eventType": "user.authentication.sso", "published": "2026-12-01T12:30:00.000+01:00", "uuid": givenUUID,
			"actor":  map[string]any{"id": ada, "type": "User", "alternateId": "ada.lovelace@example.com"},
			"client": map[string]any{"ipAddress": "192.0.2.44"},
			"target": []any{map[string]any{"id": "0oaSLACK000000000001", "type": "AppInstance", "alternateId": "Slack", "displayName": "Slack"}},
		},
		{
			"eventType": "user.session.start", "published": "2026-12-02T09:00:00Z",
			"actor":   map[string]any{"id": grace, "type": "User"},
			"outcome": map[string]any{"result": "SUCCESS"},
		},
	}
}

func decemberLogs(t *testing.T, ts *httptest.Server, extra ...string) ([]map[string]any, reply) {
	t.Helper()
	v := url.Values{"since": {"2026-12-01T00:00:00.000Z"}, "until": {"2026-12-03T00:00:00.000Z"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	r := call(t, ts, "GET", "/api/v1/logs?"+v.Encode())
	if r.status != 200 {
		t.Fatalf("logs: %d %s", r.status, r.body)
	}
	var evs []map[string]any
	r.json(t, &evs)
	return evs, r
}

// roundTrip is v as JSON would give it back.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInjectedEventsServedAsGiven(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	before := s.State().EventCount
	given := scenario()
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": given}, 3)
	if n := s.State().EventCount; n != before+3 {
		t.Fatalf("%d events, want %d", n, before+3)
	}
	evs, _ := decemberLogs(t, ts)
	if len(evs) != 3 {
		t.Fatalf("%d events in December, want the 3 injected", len(evs))
	}
	// Ascending by published: 10:00Z, 11:30Z (12:30+01:00), the 2nd 09:00Z.
	uuid, _ := evs[0]["uuid"].(string)
	if !uuidRE.MatchString(uuid) || evs[1]["uuid"] != givenUUID {
		t.Errorf("uuids %v %v: want a new one and the given one", evs[0]["uuid"], evs[1]["uuid"])
	}
	for i, want := range given {
		w := roundTrip(t, want).(map[string]any)
		if _, ok := w["uuid"]; !ok {
			w["uuid"] = evs[i]["uuid"]
		}
		if !reflect.DeepEqual(evs[i], w) {
			got, _ := json.Marshal(evs[i])
			exp, _ := json.Marshal(w)
			t.Errorf("event %d served\n%s\nwant as given plus uuid\n%s", i, got, exp)
		}
	}
}

func TestInjectedEventsFilterAndPageThroughSDK(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{})
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": scenario()}, 3)
	_, client, err := sdk.NewClient(t.Context(), sdk.WithOrgUrl(ts.URL), sdk.WithToken(okta.DefaultToken),
		sdk.WithTestingDisableHttpsCheck(true), sdk.WithCache(false), sdk.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	list := func(opts ...query.ParamOptions) []*sdk.LogEvent {
		t.Helper()
		opts = append(opts, query.WithSince("2026-12-01T00:00:00.000Z"), query.WithUntil("2026-12-03T00:00:00.000Z"))
		evs, resp, err := client.LogEvent.GetLogs(t.Context(), query.NewQueryParams(opts...))
		if err != nil {
			t.Fatal(err)
		}
		for pages := 0; resp.HasNextPage(); pages++ {
			var more []*sdk.LogEvent
			if resp, err = resp.Next(t.Context(), &more); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, more...)
			if pages > 10 {
				t.Fatal("paging did not end")
			}
		}
		return evs
	}
	actors := func(evs []*sdk.LogEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Actor.Id)
		}
		return out
	}
	all := list(query.WithLimit(1))
	if len(all) != 3 || all[1].Uuid != givenUUID || all[1].Published.UTC() != time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC) {
		t.Fatalf("paged by one: %d events, second %+v", len(all), all[min(1, len(all)-1)])
	}
	if all[0].Client.GeographicalContext == nil || all[0].Client.GeographicalContext.City != "Lisbon" || all[0].Outcome.Reason != "INVALID_CREDENTIALS" {
		t.Errorf("first event as the SDK reads it: client %+v outcome %+v", all[0].Client, all[0].Outcome)
	}
	cases := map[string]struct {
		opts []query.ParamOptions
		want []string
	}{
		"eventType":        {[]query.ParamOptions{query.WithFilter(`eventType eq "user.session.start"`), query.WithLimit(1)}, []string{ada, grace}},
		"actor and result": {[]query.ParamOptions{query.WithFilter(`actor.id eq "` + ada + `" and outcome.result eq "FAILURE"`)}, []string{ada}},
		"target":           {[]query.ParamOptions{query.WithFilter(`target.id eq "0oaSLACK000000000001"`)}, []string{ada}},
		"debugData number": {[]query.ParamOptions{query.WithFilter(`debugContext.debugData.score eq "0.9"`)}, []string{ada}},
		"published":        {[]query.ParamOptions{query.WithFilter(`published gt "2026-12-01T11:00:00.000Z"`)}, []string{ada, grace}},
		"q":                {[]query.ParamOptions{query.WithQ("192.0.2.44 sso")}, []string{ada}},
		"descending":       {[]query.ParamOptions{query.WithSortOrder("DESCENDING"), query.WithLimit(2)}, []string{grace, ada, ada}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := actors(list(c.opts...)); !slices.Equal(got, c.want) {
				t.Errorf("actors %v, want %v", got, c.want)
			}
		})
	}
	// The seeded history is still there, and the injected events are
	// outside its window.
	seeded, _ := logs(t, ts, window("limit", "1000"))
	for _, e := range seeded {
		if e.UUID == givenUUID {
			t.Error("injected event in November")
		}
	}
	if len(seeded) < 10 {
		t.Errorf("%d seeded events", len(seeded))
	}
}

// TestInjectedEventsNotDelivered checks that injected events, history
// rather than changes, never reach the event hook.
func TestInjectedEventsNotDelivered(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	rc := newReceiver(t)
	hookOn(t, ts, rc, "user.session.start", "user.lifecycle.suspend")
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": scenario()}, 3)
	lifecycle(t, ts, ada, "suspend")
	drain(t, s)
	posts := rc.got()
	if len(posts) != 1 || len(posts[0].env.Data.Events) != 1 || posts[0].env.Data.Events[0].EventType != "user.lifecycle.suspend" {
		t.Fatalf("deliveries %+v, want only the suspend", posts)
	}
}

func TestInjectedEventsRefused(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": scenario()[1:2]}, 1)
	before := s.State().EventCount
	good := func() map[string]any {
		return map[string]any{"eventType": "user.session.end", "published": "2026-12-01T10:00:00Z", "actor": map[string]any{"id": ada}}
	}
	with := func(k string, v any) map[string]any { return emutest.With(good(), k, v) }
	cases := map[string]struct {
		ev    map[string]any
		field string
		words []string
	}{
		"no published":      {with("published", nil), "published", []string{"events[1].published", "required"}},
		"bad published":     {with("published", "yesterday"), "published", []string{"ISO 8601"}},
		"no eventType":      {with("eventType", nil), "eventType", []string{"required"}},
		"no actor.id":       {with("actor", map[string]any{"type": "User"}), "actor.id", []string{"required"}},
		"actor.id a number": {with("actor", map[string]any{"id": 7}), "actor.id", []string{"want a string"}},
		"target an object":  {with("target", map[string]any{"id": "x"}), "target", []string{"want an array"}},
		"uuid taken":        {with("uuid", givenUUID), "uuid", []string{"already"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			emutest.WantRefused(t, ts.URL, map[string]any{"events": []any{good(), c.ev, good()}}, 1, c.field, c.words...)
			if n := s.State().EventCount; n != before {
				t.Errorf("a refused request appended: %d events, want %d", n, before)
			}
		})
	}
	emutest.WantRefused(t, ts.URL, map[string]any{"events": []any{with("uuid", "u-1"), with("uuid", "u-1")}}, 1, "uuid", "already")
	emutest.WantRefused(t, ts.URL, `{"events":[{"eventType":"x","published":"2026-12-01T10:00:00Z","actor":{"id":"a"}}, "x"]}`, 1, "", "JSON object")
	if n := s.State().EventCount; n != before {
		t.Errorf("a refused request appended: %d events, want %d", n, before)
	}
}

func TestInjectedEventsSavedAndLoaded(t *testing.T) {
	t.Parallel()
	a, tsA := start(t, okta.Options{})
	emutest.MustPostEvents(t, tsA.URL, map[string]any{"events": scenario()}, 3)
	b, tsB := start(t, okta.Options{})
	saved := emutest.CopyState(t, a, b)
	if !strings.Contains(string(saved), "credential stuffing") {
		t.Error("saved state lacks the injected event's own field")
	}
	want, r1 := decemberLogs(t, tsA, "filter", `eventType eq "user.session.start"`)
	got, r2 := decemberLogs(t, tsB, "filter", `eventType eq "user.session.start"`)
	if len(got) != 2 || !reflect.DeepEqual(got, want) || !bytes.Equal(r1.body, r2.body) {
		t.Errorf("after load:\n%s\nbefore:\n%s", r2.body, r1.body)
	}
	var again bytes.Buffer
	if err := b.SaveState(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved, again.Bytes()) {
		t.Error("save → load → save is not stable")
	}
	// New uuids after the load do not collide with the injected ones.
	emutest.MustPostEvents(t, tsB.URL, map[string]any{"events": scenario()[2:]}, 1)
	all, _ := decemberLogs(t, tsB)
	seen := map[any]bool{}
	for _, e := range all {
		if seen[e["uuid"]] {
			t.Errorf("uuid %v repeated", e["uuid"])
		}
		seen[e["uuid"]] = true
	}
}
