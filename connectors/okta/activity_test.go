package okta_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/emulators/seed"
)

// Activity reads the person's own System Log events, normalised, with the
// raw LogEvent kept whole, through every page.
func TestActivity(t *testing.T) {
	var mu sync.Mutex
	var logQueries []url.Values
	// More events than one page holds (Okta's limit is 1000).
	org := demo(t)
	for i := range org.People {
		if p := &org.People[i]; p.EmployeeID == "E1001" {
			for n := range 1203 {
				p.Okta.Events = append(p.Okta.Events, seed.Event{Type: "user.session.access_admin_app", At: time.Date(2026, 11, 10, 0, n, 0, 0, time.UTC), IP: "198.51.100.1", Result: "SUCCESS"})
			}
		}
	}
	f := setup(t, options{org: org, before: func(r *http.Request) {
		if r.URL.Path == "/api/v1/logs" {
			mu.Lock()
			logQueries = append(logQueries, r.URL.Query())
			mu.Unlock()
		}
	}})
	a := f.resolve(t, "E1001")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	evs, err := f.c.Activity(t.Context(), a, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1205 {
		t.Fatalf("%d events, want E1001's 1205 seeded ones", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			t.Fatalf("events out of order at %d", i)
		}
	}
	first, second := evs[len(evs)-2], evs[len(evs)-1]
	if first.System != "okta" || first.Actor != a.ID || first.Action != "user.session.start" || first.SourceIP != "203.0.113.10" ||
		first.Outcome != "success" || !first.Time.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("first event %+v", first)
	}
	if second.Action != "user.authentication.sso" || second.Target == "" {
		t.Errorf("second event %+v", second)
	}
	var raw map[string]any
	if err := json.Unmarshal(second.Raw, &raw); err != nil || raw["uuid"] == nil || raw["eventType"] != "user.authentication.sso" {
		t.Errorf("raw event not kept whole: %s", second.Raw)
	}
	// Every page was read; the first asked for this actor in this window.
	mu.Lock()
	qs := logQueries
	mu.Unlock()
	if len(qs) < 2 {
		t.Fatalf("%d System Log pages read, want every page", len(qs))
	}
	if q := qs[0]; q.Get("filter") != `actor.id eq "`+a.ID+`"` || q.Get("since") != "2026-11-01T00:00:00Z" || q.Get("until") != "2026-11-30T00:00:00Z" {
		t.Errorf("first page query %v", q)
	}

	// A window without events, and an account that is not Okta's.
	if evs, err := f.c.Activity(t.Context(), a, from.AddDate(-1, 0, 0), from.AddDate(-1, 0, 1)); err != nil || len(evs) != 0 {
		t.Errorf("empty window: %v %v", evs, err)
	}
	_, err = f.c.Activity(t.Context(), connectors.Account{System: "github", ID: "x"}, from, to)
	connErr(t, err, connectors.InvalidInput)
	var _ connectors.ActivityReader = (*okta.Client)(nil)
}
