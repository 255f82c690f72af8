package google_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/offboard/offboard/connectors"
)

// Changes finds the admin who suspended and unsuspended the user; Search
// finds a sign-in attempt by its IP, whoever's, and by the person's email,
// and an email outside the domain finds nothing without failing.
func TestChangesAndSearch(t *testing.T) {
	f := setup(t, options{})
	from := start.Add(-time.Minute)
	dir := f.sdk(t)
	for _, s := range []bool{true, false} {
		if _, err := dir.Users.Update(ada, &directory.User{Suspended: s, ForceSendFields: []string{"Suspended"}}).Context(t.Context()).Do(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(f.ts.URL+"/_emulator/attempt", "application/json", bytes.NewReader([]byte(`{"account":"`+adaEmail+`","ip":"45.14.71.9"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("attempt: %s", resp.Status)
	}
	to := start.Add(time.Minute)
	ch, err := f.c.Changes(t.Context(), account(ada), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range ch {
		actions = append(actions, e.Action)
	}
	if len(actions) != 2 || actions[0] != "admin:SUSPEND_USER" || actions[1] != "admin:UNSUSPEND_USER" {
		t.Fatalf("changes %v, want the suspension and the unsuspension", actions)
	}
	byIP, err := f.c.Search(t.Context(), connectors.Query{IPs: []string{"45.14.71.9"}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(byIP) != 1 || byIP[0].Action != "login:login_success" || byIP[0].Actor != ada {
		t.Fatalf("search by IP: %+v", byIP)
	}
	byEmail, err := f.c.Search(t.Context(), connectors.Query{Emails: []string{adaEmail, "jt.dev@proton.me"}}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(byEmail) != 1 || byEmail[0].SourceIP != "45.14.71.9" {
		t.Fatalf("search by email: %+v", byEmail)
	}
}
