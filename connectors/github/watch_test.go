package github_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	ghemu "github.com/offboard/offboard/emulators/github"
	"github.com/offboard/offboard/emulators/seed"
)

// Changes finds who invited the person back after her removal (user:
// <login>), by the admin; Search finds entries by an indicator IP of
// anyone's, and by a login, each once.
func TestChangesAndSearch(t *testing.T) {
	org := demo(t)
	for i := range org.People {
		if p := &org.People[i]; p.EmployeeID == "E1002" {
			p.GitHub.Events = append(p.GitHub.Events, seed.Event{Type: "git.clone", At: time.Now().Add(-time.Minute).UTC(), IP: "45.14.71.9", Target: "acme/platform"})
		}
	}
	f := setup(t, options{org: org})
	a := f.resolve(t, "E1001")
	from := time.Now().Add(-time.Hour)
	call := func(method, path, body string) {
		req, _ := http.NewRequest(method, f.ts.URL+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+ghemu.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
	}
	// Removed (the cut), then invited back.
	call(http.MethodDelete, "/orgs/"+org.GitHub.Orgs[0]+"/members/"+a.ID, "")
	call(http.MethodPut, "/orgs/"+org.GitHub.Orgs[0]+"/memberships/"+a.ID, `{"role":"member"}`)
	to := time.Now().Add(time.Minute)
	ch, err := f.c.Changes(t.Context(), a, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range ch {
		if e.Actor == a.ID {
			t.Errorf("a change by the person herself: %+v", e)
		}
		actions = append(actions, e.Action)
	}
	if len(actions) != 2 || actions[0] != "org.remove_member" || actions[1] != "org.invite_member" {
		t.Fatalf("changes %+v: want the re-invitation", ch)
	}
	byIP, err := f.c.Search(t.Context(), connectors.Query{IPs: []string{"45.14.71.9", "not-an-ip"}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(byIP) != 1 || byIP[0].Action != "git.clone" || byIP[0].SourceIP != "45.14.71.9" || byIP[0].Actor == a.ID {
		t.Fatalf("search by IP: %+v", byIP)
	}
	both, err := f.c.Search(t.Context(), connectors.Query{IPs: []string{"45.14.71.9"}, Logins: []string{byIP[0].Actor}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(both) != 1 {
		t.Fatalf("an entry found by IP and by login is listed once: %d", len(both))
	}
}
