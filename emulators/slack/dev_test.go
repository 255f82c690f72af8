package slack_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/offboard/offboard/connectors"
	slackconn "github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/emulators/emutest"
	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

// TestDevSection points the real connector at the dev emulator through
// the section it describes, and plans one demo person.
func TestDevSection(t *testing.T) {
	t.Parallel()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	dev := slackemu.Dev(org)
	ds := emutest.DevSection(t, dev)
	ts, dir, secrets, sec := ds.Server, ds.Dir, ds.Secrets, ds.Section
	s, ok := sec.(*slackconn.Section)
	if !ok {
		t.Fatalf("section is %T", sec)
	}
	want := slackconn.Section{
		APIURL: ts.URL + "/api/", SCIMURL: ts.URL + "/scim/v2/", AuditURL: ts.URL + "/audit/v1/",
		TeamID:         org.Slack.TeamID,
		AdminTokenFile: filepath.Join(dir, "slack-admin-token"),
		BotTokenFile:   filepath.Join(dir, "slack-bot-token"),

		SigningSecretFile: filepath.Join(dir, "slack-signing-secret"),
		OpsChannel:        slackemu.OffboardOpsChannelID,
		SecurityChannel:   slackemu.SecurityLeadsChannelID,
		Operators:         slackemu.SecurityPeople(org),
	}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("section %+v, want %+v", *s, want)
	}
	if len(secrets) != 3 || secrets["slack-admin-token"] != slackemu.DevAdminToken || secrets["slack-bot-token"] != slackemu.DevBotToken ||
		secrets["slack-signing-secret"] != slackemu.DevSigningSecret {
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
	a, err := c.(connectors.Resolver).Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: "ada.lovelace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := c.(connectors.Planner).Plan(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].ID != "slack.deactivate" || steps[1].ID != "slack.reset-sessions" {
		t.Errorf("plan %+v", steps)
	}
	// The admin API answers too: the still-active user's two sessions are
	// listed, so reset-sessions does not hold yet.
	if err := c.(connectors.Verifier).Verify(t.Context(), a, steps[1]); err == nil || !strings.Contains(err.Error(), "2 active sessions remain") {
		t.Errorf("verify reset-sessions before the cut: %v, want 2 active sessions remaining", err)
	}

	// Without a team ID in the seed, the dev config names DevTeamID.
	empty := slackemu.Dev(nil)
	sec, err = empty.DevSection("http://127.0.0.1:1", func(name, _ string) (string, error) { return filepath.Join(dir, name), nil })
	if err != nil || sec.(*slackconn.Section).TeamID != slackemu.DevTeamID {
		t.Errorf("section without seed: %+v %v", sec, err)
	}
}
