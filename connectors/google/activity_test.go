package google_test

import (
	"encoding/json"
	"testing"

	"github.com/offboard/offboard/connectors"
)

// Activity reads the user's sign-ins and Drive activity from the Reports
// API, oldest first, with the whole activity kept.
func TestActivity(t *testing.T) {
	f := setup(t, options{})
	a, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := f.c.Activity(t.Context(), a, start.AddDate(0, 0, -30), start)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i, e := range evs {
		actions = append(actions, e.Action)
		if e.System != "google" || e.Actor != a.ID || (i > 0 && e.Time.Before(evs[i-1].Time)) {
			t.Errorf("event %d: %+v", i, e)
		}
		var raw map[string]any
		if err := json.Unmarshal(e.Raw, &raw); err != nil || raw["id"] == nil {
			t.Errorf("raw activity not kept: %s", e.Raw)
		}
	}
	if len(evs) != 2 || evs[0].Action != "login:login_success" || evs[0].Outcome != "success" || evs[0].SourceIP != "203.0.113.10" ||
		evs[1].Action != "drive:download" || evs[1].Target != "Q4 roadmap" {
		t.Errorf("events %v: %+v", actions, evs)
	}
	if evs, err := f.c.Activity(t.Context(), a, start.AddDate(0, 0, -90), start.AddDate(0, 0, -60)); err != nil || len(evs) != 0 {
		t.Errorf("a window without activity: %v %v", evs, err)
	}
	if _, err := f.c.Activity(t.Context(), connectors.Account{System: "google", ID: adaEmail}, start, start); err == nil {
		t.Error("an email was taken as a Google user ID")
	}
}
