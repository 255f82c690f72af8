package github_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/emulators/seed"
)

// Activity reads the person's audit log entries in every configured org,
// Git events included, through every page, within the window.
func TestActivity(t *testing.T) {
	org := demo(t)
	// More clones than one page holds (100), and one outside the window.
	for i := range org.People {
		if p := &org.People[i]; p.EmployeeID == "E1001" {
			for n := range 150 {
				p.GitHub.Events = append(p.GitHub.Events, seed.Event{Type: "git.clone", At: time.Date(2026, 11, 25, 0, n, 0, 0, time.UTC), IP: "192.0.2.9", Target: "acme/platform"})
			}
			p.GitHub.Events = append(p.GitHub.Events, seed.Event{Type: "git.clone", At: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Target: "acme/old"})
		}
	}
	f := setup(t, options{org: org})
	a := f.resolve(t, "E1001")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	evs, err := f.c.Activity(t.Context(), a, from, to)
	if err != nil {
		t.Fatal(err)
	}
	clones := 0
	for i, e := range evs {
		if e.System != "github" || e.Actor != a.ID || e.Time.Before(from) || !e.Time.Before(to) {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && e.Time.Before(evs[i-1].Time) {
			t.Errorf("events out of order at %d", i)
		}
		if e.Target == "acme/old" {
			t.Errorf("an event outside the window: %+v", e)
		}
		if e.Action == "git.clone" {
			clones++
			var raw map[string]any
			if err := json.Unmarshal(e.Raw, &raw); err != nil || raw["action"] != "git.clone" {
				t.Errorf("raw entry not kept: %s", e.Raw)
			}
		}
	}
	// The 150 added and the demo's own two, in acme.
	if clones != 152 {
		t.Errorf("%d git.clone events, want 152", clones)
	}
	if _, err := f.c.Activity(t.Context(), connectors.Account{System: "okta", ID: "00u1"}, from, to); err == nil {
		t.Error("an Okta account was read as a GitHub login")
	}
}
