package slack_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
)

// Activity reads the user's own Audit Logs entries in the window, oldest
// first, with the raw entry kept whole.
func TestActivity(t *testing.T) {
	f := setup(t, options{})
	a := connectors.Account{System: "slack", ID: "U00001001"}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	evs, err := f.c.Activity(t.Context(), a, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want E1001's seeded login and download: %+v", len(evs), evs)
	}
	if d := evs[1]; d.Action != "file_downloaded" || d.Target != "f00000000.pdf" || !d.Time.After(evs[0].Time) {
		t.Errorf("download %+v", d)
	}
	e := evs[0]
	if e.System != "slack" || e.Actor != a.ID || e.Action != "user_login" || e.SourceIP != "203.0.113.10" ||
		!e.Time.Equal(time.Date(2026, 11, 20, 8, 0, 10, 0, time.UTC)) || e.Outcome != "success" {
		t.Errorf("event %+v", e)
	}
	var raw map[string]any
	if err := json.Unmarshal(e.Raw, &raw); err != nil || raw["id"] == nil || raw["action"] != "user_login" {
		t.Errorf("raw entry not kept: %s", e.Raw)
	}
	if evs, err := f.c.Activity(t.Context(), a, to, to.Add(24*time.Hour)); err != nil || len(evs) != 0 {
		t.Errorf("a window without events: %v %v", evs, err)
	}
	_, err = f.c.Activity(t.Context(), connectors.Account{System: "okta", ID: "00u1"}, from, to)
	if ce, ok := err.(*connectors.Error); !ok || ce.Kind != connectors.InvalidInput {
		t.Errorf("an Okta account: %v", err)
	}
}
