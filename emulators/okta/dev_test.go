package okta_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboard/offboard/connectors"
	oktaconn "github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/emulators/emutest"
	"github.com/offboard/offboard/emulators/okta"
)

// TestDevSection points the real connector at the dev emulator through
// the section it describes, and plans one demo person.
func TestDevSection(t *testing.T) {
	t.Parallel()
	dev := okta.Dev(demo(t))
	ds := emutest.DevSection(t, dev)
	ts, dir, secrets, sec := ds.Server, ds.Dir, ds.Secrets, ds.Section
	s, ok := sec.(*oktaconn.Section)
	if !ok {
		t.Fatalf("section is %T", sec)
	}
	if s.OrgURL != ts.URL || s.Token != "" || s.TokenFile != filepath.Join(dir, "okta-token") || s.Lifecycle != "" {
		t.Errorf("section %+v", s)
	}
	if len(secrets) != 1 || secrets["okta-token"] != okta.DevToken {
		t.Errorf("secrets %v", secrets)
	}
	if _, err := sec.FromEnv(func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	if err := sec.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := sec.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.(connectors.Resolver).Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001"})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := c.(connectors.Planner).Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 6 || steps[0].ID != "okta.suspend" {
		var ids []string
		for _, st := range steps {
			ids = append(ids, st.ID)
		}
		t.Errorf("plan %s", strings.Join(ids, ", "))
	}
}
