package github_test

import (
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/offboard/offboard/connectors"
	ghconn "github.com/offboard/offboard/connectors/github"
	"github.com/offboard/offboard/emulators/emutest"
	ghemu "github.com/offboard/offboard/emulators/github"
)

// The dev section points the real connector at the dev emulator: it
// validates, and the connector resolves and plans a demo person.
func TestDevSection(t *testing.T) {
	t.Parallel()
	org := demo(t)
	dev := ghemu.Dev(org)
	ds := emutest.DevSection(t, dev)
	ts, dir, sec := ds.Server, ds.Dir, ds.Section
	s, ok := sec.(*ghconn.Section)
	if !ok {
		t.Fatalf("section %T", sec)
	}
	if s.BaseURL != ts.URL+"/" || !slices.Equal(s.Orgs, org.GitHub.Orgs) || s.Token != "" || s.TokenFile != filepath.Join(dir, "github-token") {
		t.Errorf("section %+v", s)
	}
	if configured, err := s.FromEnv(func(string) (string, bool) { return "", false }); err != nil || configured {
		t.Fatalf("FromEnv: %v %v", configured, err)
	}
	if s.Token.Reveal() != ghemu.DevToken {
		t.Errorf("token from the file %q, want the dev token", s.Token.Reveal())
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*ghconn.Client)
	p, _ := org.Person("E1001")
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: p.Email, Attributes: p.Okta.Profile})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := c.Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(ghconn.Actions)*len(org.GitHub.Orgs) {
		t.Errorf("%d steps", len(steps))
	}
}

// The dev emulator accepts DevToken and nothing else.
func TestDevToken(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(ghemu.Dev(demo(t)))
	t.Cleanup(ts.Close)
	if _, _, err := sdk(t, ts, ghemu.DevToken).Users.Get(t.Context(), ada); err != nil {
		t.Errorf("dev token: %v", err)
	}
	if _, _, err := sdk(t, ts, ghemu.DefaultToken).Users.Get(t.Context(), ada); err == nil {
		t.Error("the default token works on the dev emulator")
	}
}
