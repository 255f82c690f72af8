package okta_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	oktaemu "github.com/offboard/offboard/emulators/okta"
)

// post calls the emulator with the API token (or, for a control
// endpoint, without).
func (f *fixture) post(t *testing.T, path string, body any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "SSWS "+oktaemu.DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

// Changes finds who suspended and unsuspended the user (the admin, as
// actor); the person's own sign-in attempt is not a change. Search finds
// the attempt by its IP and by the person's login, and a quote in a value
// cannot widen the filter.
func TestChangesAndSearch(t *testing.T) {
	f := setup(t, options{})
	a := f.resolve(t, "E1001")
	from := time.Now().Add(-time.Minute)
	f.post(t, "/api/v1/users/"+a.ID+"/lifecycle/suspend", nil)
	f.post(t, "/_emulator/attempt", map[string]string{"account": a.ID, "ip": "45.14.71.9"})
	f.post(t, "/api/v1/users/"+a.ID+"/lifecycle/unsuspend", nil)
	to := time.Now().Add(time.Minute)

	ch, err := f.c.Changes(t.Context(), a, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range ch {
		actions = append(actions, e.Action)
		if e.Actor == a.ID {
			t.Errorf("a change by the person herself: %+v", e)
		}
	}
	if len(actions) != 2 || actions[0] != "user.lifecycle.suspend" || actions[1] != "user.lifecycle.unsuspend" {
		t.Fatalf("changes %v, want the suspend and the unsuspend", actions)
	}

	byIP, err := f.c.Search(t.Context(), connectors.Query{IPs: []string{"45.14.71.9"}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(byIP) != 1 || byIP[0].Actor != a.ID || byIP[0].Outcome != "failure" || byIP[0].Action != "user.session.start" {
		t.Fatalf("search by IP: %+v", byIP)
	}
	byLogin, err := f.c.Search(t.Context(), connectors.Query{Emails: []string{a.Attributes["login"]}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(byLogin) != 1 || byLogin[0].SourceIP != "45.14.71.9" {
		t.Fatalf("search by login %q: %+v", a.Attributes["login"], byLogin)
	}
	injected, err := f.c.Search(t.Context(), connectors.Query{Emails: []string{`x" or actor.id pr or "`}}, from, to)
	if err != nil || len(injected) != 0 {
		t.Fatalf("a quoted value widened the search: %d events, %v", len(injected), err)
	}
	if none, err := f.c.Search(t.Context(), connectors.Query{}, from, to); err != nil || none != nil {
		t.Fatalf("an empty query: %v %v", none, err)
	}
}
