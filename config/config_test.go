package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "offboard.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file string
		env        map[string]string
		wantURL    string
		wantToken  string
		wantErr    string
	}{
		{name: "file", file: "okta:\n  orgUrl: https://acme.okta.com\n  token: t1\n", wantURL: "https://acme.okta.com", wantToken: "t1"},
		{name: "env beats file", file: "okta:\n  orgUrl: https://acme.okta.com\n  token: t1\n", env: map[string]string{EnvOktaToken: "t2", EnvOktaOrgURL: "https://b.okta.com"}, wantURL: "https://b.okta.com", wantToken: "t2"},
		{name: "token file", file: "okta:\n  orgUrl: https://acme.okta.com\n  tokenFile: " + tokenFile + "\n", wantURL: "https://acme.okta.com", wantToken: "from-file"},
		{name: "env only", env: map[string]string{EnvOktaToken: "t3", EnvOktaOrgURL: "http://127.0.0.1:1"}, wantURL: "http://127.0.0.1:1", wantToken: "t3"},
		{name: "unknown key", file: "okta:\n  orgURL: x\n", wantErr: "field orgURL not found"},
		{name: "missing token", file: "okta:\n  orgUrl: https://acme.okta.com\n", wantErr: "okta token is missing"},
		{name: "relative url", file: "okta:\n  orgUrl: acme.okta.com\n  token: t\n", wantErr: "absolute URL"},
		{name: "bad lifecycle", file: "okta:\n  orgUrl: https://a.okta.com\n  token: t\n  lifecycle: delete\n", wantErr: `lifecycle "delete"`},
		{name: "empty file", file: "\n"},
		{name: "github without orgs", file: "github:\n  token: t\n", wantErr: "github.orgs lists no organization"},
		{name: "github without token", file: "github:\n  orgs: [acme]\n", wantErr: "OFFBOARD_GITHUB_TOKEN"},
		{name: "slack without team", file: "slack:\n  adminToken: xoxp-1\n", wantErr: "slack.teamId is missing"},
		{name: "slack relative url", file: "slack:\n  teamId: T1\n  adminToken: xoxp-1\n  scimUrl: /scim\n", wantErr: "slack.scimUrl must be an absolute URL"},
		{name: "google without credentials", file: "google:\n  customer: C1\n", wantErr: "google credentials are missing"},
		{name: "google file without subject", file: "google:\n  credentialsFile: /x.json\n", wantErr: "google.adminSubject is missing"},
		{name: "aws without accounts", file: "aws:\n  region: us-east-1\n", wantErr: "aws.accounts lists no account"},
		{name: "aws half credentials", file: "aws:\n  accounts: [{id: \"111111111111\"}]\n  accessKeyId: AKIA1\n", wantErr: "need both accessKeyId and the secret"},
		{name: "aws half identity center", file: "aws:\n  accounts: [{id: \"111111111111\"}]\n  identityStoreId: d-1\n", wantErr: "needs both identityStoreId and instanceArn"},
		{name: "identity not configured", file: "identity: okta\nslack:\n  teamId: T1\n  adminToken: xoxp-1\n", wantErr: "identity okta is not configured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := ""
			if c.file != "" {
				path = write(t, c.file)
			}
			t.Chdir(t.TempDir()) // no default config files around
			cfg, err := Load(path, env(c.env))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantURL == "" {
				if !cfg.Empty() {
					t.Fatalf("config not empty: %+v", cfg.Okta)
				}
				return
			}
			if cfg.Okta.OrgURL != c.wantURL || cfg.Okta.Token.Reveal() != c.wantToken {
				t.Fatalf("got %s %s, want %s %s", cfg.Okta.OrgURL, cfg.Okta.Token.Reveal(), c.wantURL, c.wantToken)
			}
		})
	}
}

func TestSecretRedacts(t *testing.T) {
	s := Secret("hunter2")
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "token", s, "cfg", OktaConfig{Token: s})
	for _, out := range []string{b.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, OktaConfig{Token: s}, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}

func TestLoadVendorSecrets(t *testing.T) {
	dir := t.TempDir()
	bot := filepath.Join(dir, "bot")
	if err := os.WriteFile(bot, []byte("xoxb-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := write(t, "github:\n  orgs: [acme]\n  token: from-file\nslack:\n  teamId: T1\n  botTokenFile: "+bot+"\n")
	cfg, err := Load(path, env(map[string]string{EnvGitHubToken: "from-env", EnvSlackAdminToken: "xoxp-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.Token.Reveal() != "from-env" || cfg.Slack.AdminToken.Reveal() != "xoxp-env" || cfg.Slack.BotToken.Reveal() != "xoxb-file" {
		t.Fatalf("secrets: %q %q %q", cfg.GitHub.Token.Reveal(), cfg.Slack.AdminToken.Reveal(), cfg.Slack.BotToken.Reveal())
	}
	if cfg.Identity != "" || cfg.Empty() {
		t.Fatalf("identity %q empty %v", cfg.Identity, cfg.Empty())
	}
}
