package config_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/vendors"
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

func load(t *testing.T, file string, e map[string]string) (*config.Config, error) {
	t.Helper()
	path := ""
	if file != "" {
		path = write(t, file)
	}
	t.Chdir(t.TempDir()) // no default config files around
	return config.Load(path, env(e), vendors.Connectors())
}

func section[T any](t *testing.T, c *config.Config, name string) T {
	t.Helper()
	for _, s := range c.Systems {
		if s.Vendor.Name == name {
			v, ok := s.Section.(T)
			if !ok {
				t.Fatalf("%s section is %T", name, s.Section)
			}
			return v
		}
	}
	t.Fatalf("%s is not configured", name)
	var zero T
	return zero
}

// TestLoad covers what config itself does: find the file, hand each
// vendor's key to the vendor's section (strictly), let the environment
// configure a vendor the file lacks, pick the identity system, and wrap
// every error with the file's path. Each vendor's own keys and checks are
// tested in its package.
func TestLoad(t *testing.T) {
	cases := []struct {
		name, file string
		env        map[string]string
		systems    string // configured vendors, in order
		identity   string
		wantErr    string
	}{
		{name: "okta from the file", file: "okta:\n  orgUrl: https://acme.okta.com\n  token: t1\n", systems: "okta", identity: "okta"},
		{name: "okta from the environment alone", env: map[string]string{okta.EnvToken: "t3", okta.EnvOrgURL: "http://127.0.0.1:1"}, systems: "okta", identity: "okta"},
		{name: "vendor order is the list's", file: "slack:\n  teamId: T1\n  adminToken: xoxp-1\nokta:\n  orgUrl: https://a.okta.com\n  token: t\n", systems: "okta slack", identity: "okta"},
		{name: "no identity system", file: "slack:\n  teamId: T1\n  adminToken: xoxp-1\n", systems: "slack"},
		{name: "empty file", file: "\n", systems: ""},
		{name: "unknown vendor key", file: "okta:\n  orgURL: x\n", wantErr: "field orgURL not found"},
		{name: "unknown top-level key", file: "jira:\n  url: x\n", wantErr: `unknown key "jira"`},
		{name: "vendor validation", file: "okta:\n  orgUrl: https://acme.okta.com\n", wantErr: "okta token is missing"},
		{name: "identity not configured", file: "identity: okta\nslack:\n  teamId: T1\n  adminToken: xoxp-1\n", wantErr: "identity okta is not configured"},
		{name: "identity that cannot be one", file: "identity: slack\nslack:\n  teamId: T1\n  adminToken: xoxp-1\n", wantErr: "slack cannot be the identity system"},
		{name: "not yaml", file: "okta: [\n", wantErr: "config "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(t, c.file, c.env)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, c.wantErr)
				}
				if c.file != "" && !strings.Contains(err.Error(), "offboard.yaml") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range cfg.Systems {
				names = append(names, s.Vendor.Name)
			}
			if got := strings.Join(names, " "); got != c.systems || cfg.Identity != c.identity {
				t.Fatalf("systems %q identity %q, want %q %q", got, cfg.Identity, c.systems, c.identity)
			}
			if cfg.Empty() != (c.systems == "") {
				t.Fatalf("Empty() = %v", cfg.Empty())
			}
		})
	}
}

// Issue 8, item 10: a second YAML document, a path that is not a regular
// file, or a file over 1 MiB is an error, not ignored or read for ever.
func TestIssue8_ConfigFileBounds(t *testing.T) {
	if _, err := load(t, "okta:\n  orgUrl: https://a.okta.com\n  token: t\n---\nokta:\n  token: other\n", nil); err == nil || !strings.Contains(err.Error(), "more than one YAML document") {
		t.Errorf("two documents: %v", err)
	}
	for _, p := range []string{"/dev/zero", t.TempDir()} {
		if _, err := config.Load(p, env(nil), vendors.Connectors()); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("%s: %v", p, err)
		}
	}
	big := write(t, "# "+strings.Repeat("x", config.MaxFileSize)+"\n")
	if _, err := config.Load(big, env(nil), vendors.Connectors()); err == nil || !strings.Contains(err.Error(), "larger than 1024 KiB") {
		t.Errorf("big file: %v", err)
	}
}

func TestLoadEnvironmentOverFile(t *testing.T) {
	cfg, err := load(t, "okta:\n  orgUrl: https://acme.okta.com\n  token: t1\nslack:\n  teamId: T1\n",
		map[string]string{okta.EnvToken: "t2", okta.EnvOrgURL: "https://b.okta.com", slack.EnvAdminToken: "xoxp-env"})
	if err != nil {
		t.Fatal(err)
	}
	o := section[*okta.Section](t, cfg, "okta")
	if o.OrgURL != "https://b.okta.com" || o.Token.Reveal() != "t2" {
		t.Errorf("okta: %s %s", o.OrgURL, o.Token.Reveal())
	}
	if s := section[*slack.Section](t, cfg, "slack"); s.AdminToken.Reveal() != "xoxp-env" {
		t.Errorf("slack admin token %q", s.AdminToken.Reveal())
	}
}

func TestReadSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, have, file string
		env              map[string]string
		want, wantErr    string
	}{
		{name: "env wins", have: "inline", file: file, env: map[string]string{"X": "from-env"}, want: "from-env"},
		{name: "inline over file", have: "inline", file: file, want: "inline"},
		{name: "file, trimmed", file: file, want: "from-file"},
		{name: "nothing", want: ""},
		{name: "missing file", file: filepath.Join(t.TempDir(), "nope"), wantErr: "okta token file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := config.Secret(c.have)
			err := config.ReadSecret(&s, c.file, "X", "okta token", env(c.env))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || s.Reveal() != c.want {
				t.Fatalf("got %q, %v; want %q", s.Reveal(), err, c.want)
			}
		})
	}
}

func TestSecretRedacts(t *testing.T) {
	s := config.Secret("hunter2")
	var b strings.Builder
	sec := okta.Section{Token: s}
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "token", s, "cfg", sec)
	for _, out := range []string{b.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, sec, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}
