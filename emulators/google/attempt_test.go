package google_test

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"
	reports "google.golang.org/api/admin/reports/v1"

	"github.com/offboard/offboard/emulators/emu"
	googleemu "github.com/offboard/offboard/emulators/google"
)

// attempt posts body to POST /_emulator/attempt.
func (f *fixture) attempt(t *testing.T, body any) (int, map[string]any) {
	t.Helper()
	status, _, m := f.raw(t, http.MethodPost, emu.AttemptPath, "", body)
	return status, m
}

// mustAttempt posts an attempt that must be recorded, and returns the
// outcome and the activity.
func (f *fixture) mustAttempt(t *testing.T, body any) (string, map[string]any) {
	t.Helper()
	status, m := f.attempt(t, body)
	ev, _ := m["event"].(map[string]any)
	if status != http.StatusOK || ev == nil {
		t.Fatalf("attempt %v: %d %v", body, status, m)
	}
	out, _ := m["outcome"].(string)
	return out, ev
}

// logins lists a user's (or all users') login activities through the SDK,
// every page.
func (f *fixture) logins(t *testing.T, userKey string, opts ...func(*reports.ActivitiesListCall)) []*reports.Activity {
	t.Helper()
	call := f.rep.Activities.List(userKey, "login")
	for _, o := range opts {
		o(call)
	}
	var out []*reports.Activity
	if err := call.Pages(t.Context(), func(a *reports.Activities) error { out = append(out, a.Items...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// boolParam is an event's boolean parameter, or nil.
func boolParam(e *reports.ActivityEvents, name string) *bool {
	for _, p := range e.Parameters {
		if p.Name == name {
			return &p.BoolValue
		}
	}
	return nil
}

func suspend(t *testing.T, f *fixture, id string) {
	t.Helper()
	if _, err := f.dir.Users.Patch(id, &directory.User{Suspended: true}).Context(t.Context()).Do(); err != nil {
		t.Fatal(err)
	}
}

func TestAttemptOfSuspendedUserFails(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	suspend(t, f, ada) // as offboard does
	f.clock.advance(time.Minute)
	now := f.clock.now().UTC().Format("2006-01-02T15:04:05.000Z")

	for i, account := range []string{adaEmail, ada, strings.ToUpper(adaEmail)} {
		before := f.user(t, ada)
		count := f.srv.State().EventCount
		const ip = "198.51.100.23"
		outcome, ev := f.mustAttempt(t, map[string]string{"account": account, "ip": ip})
		if outcome != "failure" {
			t.Errorf("%s: outcome %q, want failure", account, outcome)
		}
		id, _ := ev["id"].(map[string]any)
		actor, _ := ev["actor"].(map[string]any)
		if id["applicationName"] != "login" || id["time"] != now || id["customerId"] != customer || id["uniqueQualifier"] == nil ||
			actor["email"] != adaEmail || actor["profileId"] != ada || ev["ipAddress"] != ip || ev["kind"] != "admin#reports#activity" {
			t.Errorf("%s: activity %v", account, ev)
		}

		// The connector's query (userKey the email, application login)
		// serves it first, newest first, exactly as returned.
		got := f.logins(t, adaEmail)
		if len(got) != i+2 { // the seeded login, and one per attempt
			t.Fatalf("%s: %d login activities, want %d", account, len(got), i+2)
		}
		a := got[0]
		if strconv.FormatInt(a.Id.UniqueQualifier, 10) != id["uniqueQualifier"] || a.IpAddress != ip || a.Actor.ProfileId != ada || len(a.Events) != 1 {
			t.Fatalf("%s: newest login %+v %+v, want the attempt", account, a.Id, a)
		}
		e := a.Events[0]
		if e.Type != "login" || e.Name != "login_failure" || param(e, "login_failure_type") != "login_failure_account_disabled" ||
			param(e, "login_type") != "google_password" || boolParam(e, "is_suspicious") == nil || *boolParam(e, "is_suspicious") {
			t.Errorf("%s: event %+v %+v", account, e, e.Parameters)
		}
		items := f.rawLogins(t, adaEmail)
		if len(items) == 0 || !reflect.DeepEqual(items[0], any(ev)) {
			t.Errorf("%s: activities.list serves %v, the attempt returned %v", account, items[0], ev)
		}

		after := f.user(t, ada)
		if !after.Suspended || after.Sessions != before.Sessions || f.srv.State().EventCount != count+1 {
			t.Errorf("%s: user %+v → %+v, events %d → %d", account, before, after, count, f.srv.State().EventCount)
		}
	}
	// eventName and filters find the failures, and only them.
	disabled := f.logins(t, ada, func(c *reports.ActivitiesListCall) {
		c.EventName("login_failure").Filters("login_failure_type==login_failure_account_disabled")
	})
	if len(disabled) != 3 {
		t.Errorf("%d account-disabled failures, want 3", len(disabled))
	}
	u, err := f.dir.Users.Get(ada).Context(t.Context()).Do()
	if err != nil || u.LastLoginTime == now {
		t.Errorf("failed sign-in set lastLoginTime: %v %v", u, err)
	}
}

// rawLogins is activities.list for userKey and application login, as JSON.
func (f *fixture) rawLogins(t *testing.T, userKey string) []any {
	t.Helper()
	status, _, body := f.raw(t, http.MethodGet, "/admin/reports/v1/activity/users/"+userKey+"/applications/login", googleemu.DefaultToken, nil)
	if status != 200 {
		t.Fatalf("activities.list: %d %v", status, body)
	}
	items, _ := body["items"].([]any)
	return items
}

func TestAttemptOfActiveUserSucceeds(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	before := f.user(t, ken)
	outcome, ev := f.mustAttempt(t, map[string]string{"account": ken, "userAgent": "curl/8.5.0", "action": "login"})
	if outcome != "success" {
		t.Errorf("outcome %q, want success", outcome)
	}
	if ev["ipAddress"] != emu.DefaultAttemptIP {
		t.Errorf("ipAddress %v, want the default %s", ev["ipAddress"], emu.DefaultAttemptIP)
	}
	got := f.logins(t, ken)
	if len(got) == 0 {
		t.Fatal("no login activity")
	}
	e := got[0].Events[0]
	if got[0].Actor.Email != "ken.thompson@example.com" || e.Type != "login" || e.Name != "login_success" ||
		param(e, "login_failure_type") != "" || param(e, "login_type") != "google_password" {
		t.Errorf("activity %+v event %+v %+v", got[0], e, e.Parameters)
	}
	// Google gave ken a session and a new lastLoginTime.
	after := f.user(t, ken)
	if after.Sessions != before.Sessions+1 || after.Suspended {
		t.Errorf("after sign-in %+v, before %+v", after, before)
	}
	u, err := f.dir.Users.Get(ken).Context(t.Context()).Do()
	if err != nil || u.LastLoginTime != "2026-11-25T12:00:00.000Z" {
		t.Errorf("lastLoginTime %v (%v), want the attempt's time", u.LastLoginTime, err)
	}
}

func TestAttemptRefused(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	count, logins, sessions := f.srv.State().EventCount, len(f.logins(t, "all")), f.user(t, ada).Sessions
	cases := map[string]struct {
		body   any
		status int
		words  []string
	}{
		"unknown email":          {map[string]string{"account": "nobody@example.com"}, 404, []string{"nobody@example.com"}},
		"unknown ID":             {map[string]string{"account": "100000000000009999"}, 404, []string{"100000000000009999"}},
		"account and credential": {map[string]string{"account": ada, "credential": "AKIAEXAMPLE"}, 400, []string{"exactly one"}},
		"credential":             {map[string]string{"credential": "AKIAEXAMPLE"}, 400, []string{"google attempts name an account, not a credential"}},
		"unknown field":          {map[string]string{"account": ada, "password": "hunter2"}, 400, []string{"password"}},
		"bad ip":                 {map[string]string{"account": ada, "ip": "not-an-ip"}, 400, []string{"not-an-ip"}},
		"other action":           {map[string]string{"account": ada, "action": "drive"}, 400, []string{`"drive"`}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			status, m := f.attempt(t, c.body)
			msg, _ := m["error"].(string)
			if status != c.status || msg == "" || m["event"] != nil {
				t.Fatalf("%d %v, want %d with an error", status, m, c.status)
			}
			for _, w := range c.words {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPut} {
			status, h, _ := f.raw(t, m, emu.AttemptPath, "", nil)
			if status != http.StatusMethodNotAllowed || h.Get("Allow") != http.MethodPost {
				t.Errorf("%s: %d Allow %q, want 405 Allow POST", m, status, h.Get("Allow"))
			}
		}
	})
	if got := f.srv.State().EventCount; got != count {
		t.Errorf("refused attempts recorded %d activities", got-count)
	}
	if got := len(f.logins(t, "all")); got != logins {
		t.Errorf("%d login activities, want %d", got, logins)
	}
	if got := f.user(t, ada).Sessions; got != sessions {
		t.Errorf("ada's sessions %d, want %d", got, sessions)
	}
}

// TestAttemptsFoundByActorIP checks activities.list with userKey all and
// actorIpAddress, through the SDK, finds every user's attempts from an
// indicator IP, and only those: how offboard searches for a person coming
// back under another account.
func TestAttemptsFoundByActorIP(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	suspend(t, f, ada)
	const indicator = "192.0.2.99"
	for _, a := range []map[string]string{
		{"account": adaEmail, "ip": indicator},
		{"account": adminID, "ip": "198.51.100.5"},
		{"account": ken, "ip": indicator},
	} {
		f.clock.advance(time.Minute)
		f.mustAttempt(t, a)
	}
	type hit struct{ actor, name string }
	hits := func(acts []*reports.Activity) []hit {
		var out []hit
		for _, a := range acts {
			if a.IpAddress != indicator {
				t.Errorf("activity from %s listed for actorIpAddress %s", a.IpAddress, indicator)
			}
			for _, e := range a.Events {
				out = append(out, hit{a.Actor.ProfileId, e.Name})
			}
		}
		return out
	}
	want := []hit{{ken, "login_success"}, {ada, "login_failure"}} // newest first
	byIP := func(c *reports.ActivitiesListCall) { c.ActorIpAddress(indicator) }
	if got := hits(f.logins(t, "all", byIP)); !slices.Equal(got, want) {
		t.Errorf("all users from %s: %v, want %v", indicator, got, want)
	}
	onePerPage := func(c *reports.ActivitiesListCall) { c.ActorIpAddress(indicator).MaxResults(1) }
	if got := hits(f.logins(t, "all", onePerPage)); !slices.Equal(got, want) {
		t.Errorf("paged one by one: %v, want %v", got, want)
	}
	failures := func(c *reports.ActivitiesListCall) { c.ActorIpAddress(indicator).EventName("login_failure") }
	if got := hits(f.logins(t, "all", failures)); !slices.Equal(got, want[1:]) {
		t.Errorf("failures from %s: %v, want %v", indicator, got, want[1:])
	}
	if got := hits(f.logins(t, ken, byIP)); !slices.Equal(got, want[:1]) {
		t.Errorf("ken from %s: %v, want %v", indicator, got, want[:1])
	}
	if got := f.logins(t, "all", func(c *reports.ActivitiesListCall) { c.ActorIpAddress("192.0.2.100") }); len(got) != 0 {
		t.Errorf("another IP: %d activities", len(got))
	}
}
