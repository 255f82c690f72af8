package slack_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/slack"
)

func lookup(m map[string]string) connectors.Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestVendor(t *testing.T) {
	t.Parallel()
	if slack.Vendor.Name != "slack" || slack.Vendor.Identity {
		t.Errorf("vendor %+v", slack.Vendor)
	}
	if _, ok := slack.Vendor.NewSection().(*slack.Section); !ok {
		t.Error("NewSection is not a *slack.Section")
	}
}

func TestSectionFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	adminFile, botFile := filepath.Join(dir, "admin"), filepath.Join(dir, "bot")
	if err := os.WriteFile(adminFile, []byte("\txoxp-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(botFile, []byte("xoxb-file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	base := slack.Section{TeamID: "T0ACME0001"}
	with := func(f func(*slack.Section)) slack.Section { s := base; f(&s); return s }
	cases := map[string]struct {
		file slack.Section
		env  map[string]string
		want slack.Section
		err  []string
	}{
		"inline tokens": {
			file: with(func(s *slack.Section) { s.AdminToken, s.BotToken = "xoxp-1", "xoxb-1" }),
			want: with(func(s *slack.Section) { s.AdminToken, s.BotToken = "xoxp-1", "xoxb-1" }),
		},
		"env overrides inline tokens": {
			file: with(func(s *slack.Section) { s.AdminToken, s.BotToken = "xoxp-1", "xoxb-1" }),
			env:  map[string]string{slack.EnvAdminToken: "xoxp-env", slack.EnvBotToken: "xoxb-env"},
			want: with(func(s *slack.Section) { s.AdminToken, s.BotToken = "xoxp-env", "xoxb-env" }),
		},
		"env overrides token files": {
			file: with(func(s *slack.Section) { s.AdminTokenFile, s.BotTokenFile = missing, missing }),
			env:  map[string]string{slack.EnvAdminToken: "xoxp-env", slack.EnvBotToken: "xoxb-env"},
			want: with(func(s *slack.Section) {
				s.AdminToken, s.BotToken, s.AdminTokenFile, s.BotTokenFile = "xoxp-env", "xoxb-env", missing, missing
			}),
		},
		"token files, trimmed": {
			file: with(func(s *slack.Section) { s.AdminTokenFile, s.BotTokenFile = adminFile, botFile }),
			want: with(func(s *slack.Section) {
				s.AdminToken, s.BotToken, s.AdminTokenFile, s.BotTokenFile = "xoxp-file", "xoxb-file", adminFile, botFile
			}),
		},
		"inline beats the file": {
			file: with(func(s *slack.Section) { s.AdminToken, s.AdminTokenFile = "xoxp-1", missing }),
			want: with(func(s *slack.Section) { s.AdminToken, s.AdminTokenFile = "xoxp-1", missing }),
		},
		"missing token files": {
			file: with(func(s *slack.Section) { s.AdminTokenFile, s.BotTokenFile = missing, missing }),
			err:  []string{"slack admin token file: ", "slack bot token file: "},
		},
		"env alone sets the token but does not configure slack": {
			env:  map[string]string{slack.EnvAdminToken: "xoxp-env"},
			want: slack.Section{AdminToken: "xoxp-env"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.file
			fromEnv, err := s.FromEnv(lookup(c.env))
			if fromEnv {
				t.Error("FromEnv reported that the environment configures slack")
			}
			if c.err != nil {
				for _, w := range c.err {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("FromEnv: %v, want %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s, c.want) {
				t.Errorf("section %+v, want %+v", s, c.want)
			}
		})
	}
}

func TestSectionValidate(t *testing.T) {
	t.Parallel()
	ok := slack.Section{TeamID: "T0ACME0001", AdminToken: "xoxp-1"}
	with := func(f func(*slack.Section)) slack.Section { s := ok; f(&s); return s }
	cases := map[string]connectorstest.ValidateCase[slack.Section]{
		"valid": {S: ok},
		"all URLs": {S: with(func(s *slack.Section) {
			s.APIURL, s.SCIMURL, s.AuditURL = "https://slack.com/api/", "https://api.slack.com/scim/v2/", "https://api.slack.com/audit/v1/"
		})},
		"relative apiUrl":    {S: with(func(s *slack.Section) { s.APIURL = "slack.com/api" }), Want: []string{"slack.apiUrl must be an absolute URL"}},
		"relative scimUrl":   {S: with(func(s *slack.Section) { s.SCIMURL = "/scim/v2/" }), Want: []string{"slack.scimUrl must be an absolute URL"}},
		"relative auditUrl":  {S: with(func(s *slack.Section) { s.AuditURL = "audit" }), Want: []string{"slack.auditUrl must be an absolute URL"}},
		"missing team":       {S: with(func(s *slack.Section) { s.TeamID = "" }), Want: []string{"slack.teamId is missing"}},
		"missing admin":      {S: with(func(s *slack.Section) { s.AdminToken = "" }), Want: []string{"slack admin token is missing: set OFFBOARD_SLACK_ADMIN_TOKEN or slack.adminTokenFile"}},
		"everything missing": {S: slack.Section{APIURL: "x", SCIMURL: "y", AuditURL: "z"}, Want: []string{"slack.apiUrl", "slack.scimUrl", "slack.auditUrl", "slack.teamId", "slack admin token"}},
		"ops channel": {S: with(func(s *slack.Section) {
			s.OpsChannel, s.Operators, s.OperatorGroup, s.SigningSecret, s.WebUIURL = "C0OPS", []string{"U0OPS"}, "S0OPS", "secret", "http://127.0.0.1:8233"
		})},
		"ops channel without operators": {S: with(func(s *slack.Section) { s.OpsChannel, s.SigningSecret = "C0OPS", "secret" }),
			Want: []string{"no one may click Retry or Skip"}},
		"ops channel without signing secret": {S: with(func(s *slack.Section) { s.OpsChannel, s.Operators = "C0OPS", []string{"U0OPS"} }),
			Want: []string{"signing secret to verify clicks: set slack.signingSecretFile or OFFBOARD_SLACK_SIGNING_SECRET"}},
		"bad IDs": {S: with(func(s *slack.Section) {
			s.OpsChannel, s.Operators, s.OperatorGroup, s.SigningSecret = "#ops", []string{"bob"}, "ops", "secret"
		}), Want: []string{`slack.opsChannel "#ops"`, `"bob" is not a Slack user ID`, `slack.operatorGroup "ops"`}},
		"relative webUiUrl": {S: with(func(s *slack.Section) { s.WebUIURL = "ui" }), Want: []string{"slack.webUiUrl must be an absolute URL"}},
	}
	connectorstest.CheckValidate(t, cases)
}

func TestSectionConnector(t *testing.T) {
	t.Parallel()
	s := &slack.Section{TeamID: "T0ACME0001", AdminToken: "xoxp-1", BotToken: "xoxb-1", UserIDAttribute: "chatId"}
	c, err := s.Connector(t.Context())
	if err != nil || c.Name() != "slack" {
		t.Fatalf("Connector: %v %v", c, err)
	}
	if _, ok := c.(*slack.Client); !ok {
		t.Errorf("connector is %T", c)
	}
	// What the section cannot check, New does.
	_, err = (&slack.Section{TeamID: "T0ACME0001", AdminToken: "xoxb-1"}).Connector(t.Context())
	connErr(t, err, connectors.InvalidInput)
}
