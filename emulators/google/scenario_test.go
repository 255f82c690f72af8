package google_test

import (
	"net/http/httptest"
	"testing"
	"time"

	reports "google.golang.org/api/admin/reports/v1"

	googleemu "github.com/offboard/offboard/emulators/google"
	"github.com/offboard/offboard/emulators/seed"
)

// activities lists an application's activities for userKey between from
// and to through the SDK, every page.
func activities(t *testing.T, rep *reports.Service, userKey, app string, from, to time.Time) []*reports.Activity {
	t.Helper()
	call := rep.Activities.List(userKey, app).StartTime(from.UTC().Format(time.RFC3339)).EndTime(to.UTC().Format(time.RFC3339)).MaxResults(100)
	var out []*reports.Activity
	if err := call.Pages(t.Context(), func(a *reports.Activities) error { out = append(out, a.Items...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func activityTime(t *testing.T, a *reports.Activity) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, a.Id.Time)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestDevScenario(t *testing.T) {
	t.Parallel()
	// The demo insider, E1019, has no Google account in the demo seed (so
	// nothing of hers is played there); this test gives her one.
	org := demo(t)
	insider := ""
	for i, p := range org.People {
		if p.EmployeeID != "E1019" {
			continue
		}
		if p.Google == nil {
			org.People[i].Google = &seed.GoogleUser{ID: "100000000000001019"}
		}
		insider = org.People[i].Google.ID
	}
	if insider == "" {
		t.Fatal("no E1019 in the demo seed")
	}
	c := newClock(t)
	srv := googleemu.New(org, googleemu.Options{Now: c.now})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	_, rep := clients(t, ts.URL, googleemu.DefaultToken)
	now := c.now()
	before := srv.State().EventCount
	if err := srv.DevScenario(now); err != nil {
		t.Fatal(err)
	}
	if srv.State().EventCount == before {
		t.Fatal("the scenario appended nothing")
	}
	month := now.UTC().Truncate(24 * time.Hour).Add(-28 * 24 * time.Hour)

	// The insider: 40 distinct documents downloaded from the VPN in the
	// last five days.
	docs := map[string]bool{}
	n := 0
	for _, a := range activities(t, rep, insider, "drive", now.Add(-5*24*time.Hour), now) {
		if a.IpAddress != "45.14.71.9" {
			continue // the seed's own history
		}
		for _, e := range a.Events {
			if e.Name != "download" || param(e, "doc_id") == "" || param(e, "doc_title") == "" || a.Actor.ProfileId != insider {
				t.Errorf("insider's event %s %+v", e.Name, e.Parameters)
			}
			n++
			docs[param(e, "doc_id")] = true
		}
	}
	if n != 40 || len(docs) != 40 {
		t.Errorf("insider: %d downloads of %d distinct documents in five days, want 40 of 40", n, len(docs))
	}

	// An ordinary person: a login each weekday morning and two Drive views
	// a week from home, no downloads, nothing from the VPN.
	days := map[string]bool{}
	for _, a := range activities(t, rep, ada, "login", month, now) {
		at := activityTime(t, a)
		if a.IpAddress == "45.14.71.9" {
			t.Errorf("ordinary person signs in from the VPN at %s", at)
		}
		if a.IpAddress != "198.51.100.20" {
			continue
		}
		if at.Hour() != 9 || at.Weekday() == time.Saturday || at.Weekday() == time.Sunday || len(a.Events) != 1 || a.Events[0].Name != "login_success" {
			t.Errorf("ordinary login at %s: %+v", at, a.Events)
		}
		days[at.Format(time.DateOnly)] = true
	}
	if len(days) != 20 {
		t.Errorf("ordinary: logins on %d weekdays of four weeks, want 20", len(days))
	}
	views := map[int]int{}
	for _, a := range activities(t, rep, adaEmail, "drive", month, now) {
		at := activityTime(t, a)
		for _, e := range a.Events {
			if a.IpAddress == "45.14.71.9" || a.IpAddress == "198.51.100.20" && e.Name != "view" {
				t.Errorf("ordinary person's Drive %s at %s from %s", e.Name, at, a.IpAddress)
			}
			if a.IpAddress == "198.51.100.20" && e.Name == "view" {
				_, w := at.ISOWeek()
				views[w]++
			}
		}
	}
	total := 0
	for w, k := range views {
		total += k
		if k > 2 {
			t.Errorf("ordinary: %d Drive views in week %d, want at most 2", k, w)
		}
	}
	if total != 8 {
		t.Errorf("ordinary: %d Drive views in four weeks, want 8 (Tuesdays and Thursdays): %v", total, views)
	}

	// Nothing is after now: with the clock moved on a month (Google hides
	// activities in the future), the month after now is still empty.
	c.advance(30 * 24 * time.Hour)
	for _, app := range []string{"login", "drive"} {
		for _, a := range activities(t, rep, "all", app, month, now.Add(30*24*time.Hour)) {
			if at := activityTime(t, a); at.After(now) {
				t.Errorf("%s activity at %s, after now", app, at)
			}
		}
	}

	// The demo seed as it is plays too.
	plain := setup(t, googleemu.Options{})
	if err := plain.srv.DevScenario(plain.clock.now()); err != nil {
		t.Fatal(err)
	}
	if n := len(activities(t, plain.rep, "all", "login", month, now)); n < 20 {
		t.Errorf("demo seed: %d logins in four weeks", n)
	}
}
