package google_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	reports "google.golang.org/api/admin/reports/v1"

	"github.com/offboard/offboard/emulators/emutest"
	googleemu "github.com/offboard/offboard/emulators/google"
)

const (
	dayStart = "2026-11-24T00:00:00Z"
	dayEnd   = "2026-11-25T00:00:00Z"
)

// scenario is four Reports API activities as Google serves them, the day
// before the test clock: a suspicious failed login (with fields the
// emulator has no use for), a Drive download and view with int
// parameters, a token grant and a super admin's login.
func scenario() []map[string]any {
	return []map[string]any{
		{
			"id":        map[string]any{"time": "2026-11-24T09:00:00.000Z", "applicationName": "login"},
			"actor":     map[string]any{"callerType": "USER", "email": adaEmail},
			"ipAddress": "192.0.2.50", "networkInfo": map[string]any{"ipAsn": []any{64500}, "regionCode": "PT"},
			"events": []any{map[string]any{"type": "login", "name": "login_failure", "parameters": []any{
				map[string]any{"name": "login_type", "value": "google_password"},
				map[string]any{"name": "login_failure_type", "value": "login_failure_invalid_password"},
				map[string]any{"name": "is_suspicious", "boolValue": true},
			}}},
			"x_scenario": map[string]any{"step": 1},
		},
		{
			"kind":  "admin#reports#activity",
			"id":    map[string]any{"time": "2026-11-24T09:05:00.000Z", "applicationName": "drive", "uniqueQualifier": "-8744562548613392386", "customerId": customer},
			"actor": map[string]any{"email": adaEmail, "profileId": ada}, "ownerDomain": "example.com",
			"events": []any{
				map[string]any{"type": "access", "name": "download", "parameters": []any{
					map[string]any{"name": "doc_title", "value": "Payroll 2026"},
					map[string]any{"name": "doc_id", "value": "1payroll"},
					map[string]any{"name": "size", "intValue": "42"},
					map[string]any{"name": "chunks", "multiIntValue": []any{"1", "2"}},
				}},
				map[string]any{"type": "access", "name": "view", "parameters": []any{map[string]any{"name": "doc_title", "value": "Payroll 2026"}}},
			},
		},
		{
			"id":    map[string]any{"time": "2026-11-24T09:10:00Z", "applicationName": "token"},
			"actor": map[string]any{"profileId": adminID},
			"events": []any{map[string]any{"type": "auth", "name": "authorize", "parameters": []any{
				map[string]any{"name": "client_id", "value": "evil.apps.googleusercontent.com"},
				map[string]any{"name": "scope", "multiValue": []any{driveURL}},
			}}},
		},
		{
			"id":    map[string]any{"time": "2026-11-24T09:15:00Z", "applicationName": "login"},
			"actor": map[string]any{"profileId": adminID}, "ipAddress": "192.0.2.51",
			"events": []any{map[string]any{"type": "login", "name": "login_success"}},
		},
	}
}

// day lists an application's activities for userKey on the scenario's day
// through the SDK, page by page.
func (f *fixture) day(t *testing.T, userKey, app string, page int64, opts ...func(*reports.ActivitiesListCall)) []*reports.Activity {
	t.Helper()
	call := f.rep.Activities.List(userKey, app).StartTime(dayStart).EndTime(dayEnd).MaxResults(page)
	for _, o := range opts {
		o(call)
	}
	var out []*reports.Activity
	if err := call.Pages(t.Context(), func(a *reports.Activities) error { out = append(out, a.Items...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) rawDay(t *testing.T, userKey, app string, extra url.Values) []any {
	t.Helper()
	v := url.Values{"startTime": {dayStart}, "endTime": {dayEnd}}
	for k, vs := range extra {
		v[k] = vs
	}
	status, _, body := f.raw(t, http.MethodGet, "/admin/reports/v1/activity/users/"+userKey+"/applications/"+app+"?"+v.Encode(), googleemu.DefaultToken, nil)
	if status != 200 {
		t.Fatalf("activities.list: %d %v", status, body)
	}
	items, _ := body["items"].([]any)
	return items
}

func eventNames(a *reports.Activity) []string {
	var out []string
	for _, e := range a.Events {
		out = append(out, e.Name)
	}
	return out
}

func TestInjectedActivities(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	before := f.srv.State().EventCount
	given := scenario()
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"items": given}, 4)
	if n := f.srv.State().EventCount; n != before+4 {
		t.Fatalf("%d activities, want %d", n, before+4)
	}

	// Served as given, plus the defaults it lacked.
	items := f.rawDay(t, "all", "login", nil)
	if len(items) != 2 {
		t.Fatalf("%d logins that day, want 2", len(items))
	}
	got := items[1].(map[string]any)
	var want map[string]any
	b, _ := json.Marshal(given[0])
	json.Unmarshal(b, &want)
	id := want["id"].(map[string]any)
	gotID, _ := got["id"].(map[string]any)
	id["uniqueQualifier"], id["customerId"] = gotID["uniqueQualifier"], customer
	want["actor"].(map[string]any)["profileId"] = ada
	want["kind"], want["etag"] = "admin#reports#activity", got["etag"]
	if !reflect.DeepEqual(got, want) || gotID["uniqueQualifier"] == nil || got["etag"] == nil {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("login served\n%s\nwant\n%s", gb, wb)
	}
	// With eventName, only the matching events, the rest as given.
	drive := f.rawDay(t, ada, "drive", url.Values{"eventName": {"view"}})
	if len(drive) != 1 {
		t.Fatalf("%d drive views", len(drive))
	}
	dv := drive[0].(map[string]any)
	if evs, _ := dv["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["name"] != "view" || dv["ownerDomain"] != "example.com" ||
		dv["id"].(map[string]any)["uniqueQualifier"] != "-8744562548613392386" {
		t.Errorf("drive view %v", dv)
	}

	// Through the SDK, with its filters and paging.
	logins := f.day(t, "all", "login", 1)
	if len(logins) != 2 || logins[0].Actor.ProfileId != adminID || logins[1].Actor.Email != adaEmail || logins[1].Actor.ProfileId != ada ||
		logins[1].Id.UniqueQualifier == 0 || logins[1].Id.CustomerId != customer || logins[1].NetworkInfo == nil || logins[1].NetworkInfo.RegionCode != "PT" {
		t.Fatalf("logins paged by one: %+v", logins)
	}
	if p := logins[1].Events[0].Parameters; len(p) != 3 || !p[2].BoolValue {
		t.Errorf("login parameters %+v", p)
	}
	cases := map[string]struct {
		userKey, app string
		opt          func(*reports.ActivitiesListCall)
		want         [][]string // event names per activity, newest first
	}{
		"by email":           {adaEmail, "login", nil, [][]string{{"login_failure"}}},
		"by profile ID":      {adminID, "login", nil, [][]string{{"login_success"}}},
		"ip":                 {"all", "login", func(c *reports.ActivitiesListCall) { c.ActorIpAddress("192.0.2.50") }, [][]string{{"login_failure"}}},
		"bool filter":        {"all", "login", func(c *reports.ActivitiesListCall) { c.Filters("is_suspicious==true") }, [][]string{{"login_failure"}}},
		"eventName":          {"all", "drive", func(c *reports.ActivitiesListCall) { c.EventName("download") }, [][]string{{"download"}}},
		"value filter":       {ada, "drive", func(c *reports.ActivitiesListCall) { c.Filters("doc_title==Payroll 2026") }, [][]string{{"download", "view"}}},
		"int filter":         {"all", "drive", func(c *reports.ActivitiesListCall) { c.Filters("size>40") }, [][]string{{"download"}}},
		"multi int filter":   {"all", "drive", func(c *reports.ActivitiesListCall) { c.Filters("chunks==2") }, [][]string{{"download"}}},
		"multi value filter": {"all", "token", func(c *reports.ActivitiesListCall) { c.Filters("scope==" + driveURL) }, [][]string{{"authorize"}}},
		"other user":         {ken, "login", nil, nil},
		"window": {"all", "login", func(c *reports.ActivitiesListCall) {
			c.StartTime("2026-11-24T09:10:00Z").EndTime("2026-11-24T09:20:00Z")
		}, [][]string{{"login_success"}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var opts []func(*reports.ActivitiesListCall)
			if c.opt != nil {
				opts = append(opts, c.opt)
			}
			var got [][]string
			for _, a := range f.day(t, c.userKey, c.app, 1000, opts...) {
				got = append(got, eventNames(a))
			}
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("%v, want %v", got, c.want)
			}
		})
	}
	dl := f.day(t, "all", "drive", 10, func(c *reports.ActivitiesListCall) { c.EventName("download") })
	if len(dl) != 1 || dl[0].Id.UniqueQualifier != -8744562548613392386 || dl[0].Events[0].Parameters[2].IntValue != 42 ||
		!slices.Equal(dl[0].Events[0].Parameters[3].MultiIntValue, []int64{1, 2}) {
		t.Errorf("download as the SDK reads it: %+v", dl)
	}
}

func TestInjectedActivitiesRefused(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"items": scenario()[1:2]}, 1)
	before := f.srv.State().EventCount
	good := func() map[string]any {
		return map[string]any{"id": map[string]any{"time": "2026-11-24T10:00:00Z", "applicationName": "login"},
			"actor": map[string]any{"email": adaEmail}, "events": []any{map[string]any{"type": "login", "name": "logout"}}}
	}
	with := func(k string, v any) map[string]any { return emutest.With(good(), k, v) }
	withID := func(k string, v any) map[string]any {
		e := good()
		id := e["id"].(map[string]any)
		if v == nil {
			delete(id, k)
		} else {
			id[k] = v
		}
		return e
	}
	param := func(p map[string]any) map[string]any {
		return with("events", []any{map[string]any{"name": "logout", "parameters": []any{map[string]any{"name": "ok", "value": "x"}, p}}})
	}
	cases := map[string]struct {
		ev    map[string]any
		field string
		words []string
	}{
		"no id":               {with("id", nil), "id", []string{"items[1].id", "required"}},
		"no time":             {withID("time", nil), "id.time", []string{"required"}},
		"bad time":            {withID("time", "yesterday"), "id.time", []string{"RFC 3339"}},
		"no application":      {withID("applicationName", nil), "id.applicationName", []string{"required"}},
		"unknown application": {withID("applicationName", "fax"), "id.applicationName", []string{`"fax"`, "login"}},
		"other customer":      {withID("customerId", "C99other"), "id.customerId", []string{customer}},
		"qualifier a number":  {withID("uniqueQualifier", 42), "id.uniqueQualifier", []string{"as a string"}},
		"qualifier taken":     {withID("uniqueQualifier", "-8744562548613392386"), "", nil},
		"no actor":            {with("actor", nil), "actor", []string{"required"}},
		"unknown email":       {with("actor", map[string]any{"email": "mallory@example.com"}), "actor.email", []string{"mallory@example.com"}},
		"unknown profileId":   {with("actor", map[string]any{"profileId": "999"}), "actor.profileId", []string{"999"}},
		"actor disagrees":     {with("actor", map[string]any{"email": adaEmail, "profileId": ken}), "actor.email", []string{"not the user"}},
		"no events":           {with("events", []any{}), "events", []string{"at least one"}},
		"event without name":  {with("events", []any{map[string]any{"type": "login"}}), "events[0].name", []string{"required"}},
		"intValue a number":   {param(map[string]any{"name": "n", "intValue": 5}), "events[0].parameters[1].intValue", []string{"as a string"}},
		"boolValue a string":  {param(map[string]any{"name": "b", "boolValue": "true"}), "events[0].parameters[1].boolValue", []string{"want a boolean"}},
		"parameter no name":   {param(map[string]any{"value": "x"}), "events[0].parameters[1].name", []string{"required"}},
		"events an object":    {with("events", map[string]any{"name": "x"}), "events", []string{"want an array"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if name == "qualifier taken" {
				// Taken only at the same time.
				e := withID("uniqueQualifier", "-8744562548613392386")
				e["id"].(map[string]any)["time"] = "2026-11-24T09:05:00.000Z"
				emutest.WantRefused(t, f.ts.URL, map[string]any{"items": []any{good(), e}}, 1, "id.uniqueQualifier", "already")
				return
			}
			emutest.WantRefused(t, f.ts.URL, map[string]any{"items": []any{good(), c.ev}}, 1, c.field, c.words...)
		})
	}
	if n := f.srv.State().EventCount; n != before {
		t.Errorf("refused requests appended: %d activities, want %d", n, before)
	}
}

func TestInjectedActivitiesSavedAndLoaded(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"items": scenario()}, 4)
	g := setup(t, googleemu.Options{})
	saved := emutest.CopyState(t, f.srv, g.srv)
	for _, app := range []string{"login", "drive", "token"} {
		a, b := f.rawDay(t, "all", app, nil), g.rawDay(t, "all", app, nil)
		if len(b) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s after load: %v\nbefore: %v", app, b, a)
		}
	}
	if dl := g.day(t, ada, "drive", 10, func(c *reports.ActivitiesListCall) { c.Filters("size>=42") }); len(dl) != 1 {
		t.Errorf("filter after load: %d activities", len(dl))
	}
	var again bytes.Buffer
	if err := g.srv.SaveState(&again); err != nil || !bytes.Equal(again.Bytes(), saved) {
		t.Errorf("save after load differs (%v)", err)
	}
}
