package google_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/offboard/offboard/connectors"
	googleconn "github.com/offboard/offboard/connectors/google"
	"github.com/offboard/offboard/emulators/emutest"
	googleemu "github.com/offboard/offboard/emulators/google"
)

// The dev section points the real connector at the dev emulator: it
// validates, and the connector resolves and plans a demo person.
func TestDevSection(t *testing.T) {
	t.Parallel()
	org := demo(t)
	dev := googleemu.Dev(org)
	ds := emutest.DevSection(t, dev)
	ts, dir, sec := ds.Server, ds.Dir, ds.Section
	s, ok := sec.(*googleconn.Section)
	if !ok {
		t.Fatalf("section %T", sec)
	}
	want := googleconn.Section{BaseURL: ts.URL + "/", Customer: org.Google.Customer, Domain: org.Domain, TokenFile: filepath.Join(dir, "google-token")}
	if *s != want || s.Customer != customer || s.Domain != "example.com" {
		t.Errorf("section %+v, want %+v", *s, want)
	}
	if configured, err := s.FromEnv(func(string) (string, bool) { return "", false }); err != nil || configured {
		t.Fatalf("FromEnv: %v %v", configured, err)
	}
	if s.Token.Reveal() != googleemu.DevToken {
		t.Errorf("token from the file %q, want the dev token", s.Token.Reveal())
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*googleconn.Client)
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
	if err != nil || a.ID != ada {
		t.Fatalf("resolve: %+v %v", a, err)
	}
	steps, err := c.Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(googleconn.Actions) {
		t.Errorf("%d steps", len(steps))
	}
}

// The dev emulator accepts DevToken and nothing else.
func TestDevToken(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(googleemu.Dev(demo(t)))
	t.Cleanup(ts.Close)
	dir, _ := clients(t, ts.URL, googleemu.DevToken)
	if _, err := dir.Users.Get(ada).Context(t.Context()).Do(); err != nil {
		t.Errorf("dev token: %v", err)
	}
	dir, _ = clients(t, ts.URL, googleemu.DefaultToken)
	if _, err := dir.Users.Get(ada).Context(t.Context()).Do(); err == nil {
		t.Error("the default token works on the dev emulator")
	}
}
