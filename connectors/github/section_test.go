package github_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/github"
)

func TestVendor(t *testing.T) {
	t.Parallel()
	if github.Vendor.Name != "github" || github.Vendor.Identity {
		t.Errorf("vendor %+v", github.Vendor)
	}
	if _, ok := github.Vendor.NewSection().(*github.Section); !ok {
		t.Errorf("NewSection gives %T", github.Vendor.NewSection())
	}
}

// The YAML keys are those of the config file.
func TestSectionYAML(t *testing.T) {
	t.Parallel()
	var s github.Section
	dec := yaml.NewDecoder(strings.NewReader("baseUrl: https://ghe.example.com/api/v3/\norgs: [acme, acme-labs]\ntoken: t\ntokenFile: /f\nusernameAttribute: ghLogin\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	want := github.Section{BaseURL: "https://ghe.example.com/api/v3/", Orgs: []string{"acme", "acme-labs"}, Token: "t", TokenFile: "/f", UsernameAttribute: "ghLogin"}
	if s.BaseURL != want.BaseURL || strings.Join(s.Orgs, ",") != "acme,acme-labs" || s.Token != want.Token || s.TokenFile != want.TokenFile || s.UsernameAttribute != want.UsernameAttribute {
		t.Errorf("decoded %+v, want %+v", s, want)
	}
}

func TestSectionFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) connectors.Lookup {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cases := map[string]struct {
		s       github.Section
		env     map[string]string
		want    string
		wantErr string
	}{
		"env wins over the file's token": {s: github.Section{Token: "in-file"}, env: map[string]string{github.EnvToken: "from-env"}, want: "from-env"},
		"env wins over tokenFile":        {s: github.Section{TokenFile: file}, env: map[string]string{github.EnvToken: "from-env"}, want: "from-env"},
		"empty env is unset":             {s: github.Section{Token: "in-file"}, env: map[string]string{github.EnvToken: ""}, want: "in-file"},
		"token file, trimmed":            {s: github.Section{TokenFile: file}, want: "from-file"},
		"inline token beats tokenFile":   {s: github.Section{Token: "in-file", TokenFile: filepath.Join(dir, "missing")}, want: "in-file"},
		"missing token file":             {s: github.Section{TokenFile: filepath.Join(dir, "missing")}, wantErr: "github token file"},
		"nothing":                        {},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.s
			configured, err := s.FromEnv(env(c.env))
			if configured {
				t.Error("the environment alone configures github")
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Token.Reveal() != c.want {
				t.Errorf("token %q, want %q", s.Token.Reveal(), c.want)
			}
		})
	}
}

func TestSectionValidate(t *testing.T) {
	t.Parallel()
	ok := github.Section{Orgs: []string{"acme"}, Token: "t"}
	cases := map[string]connectorstest.ValidateCase[github.Section]{
		"valid":            {S: ok},
		"with a base URL":  {S: github.Section{Orgs: []string{"acme"}, Token: "t", BaseURL: "https://ghe.example.com/api/v3/"}},
		"no orgs":          {S: github.Section{Token: "t"}, Want: []string{"github.orgs lists no organization"}},
		"relative baseUrl": {S: github.Section{Orgs: []string{"acme"}, Token: "t", BaseURL: "ghe.example.com"}, Want: []string{"github.baseUrl must be an absolute URL"}},
		"no token":         {S: github.Section{Orgs: []string{"acme"}}, Want: []string{"github token is missing: set OFFBOARD_GITHUB_TOKEN or github.tokenFile"}},
		"everything wrong": {S: github.Section{BaseURL: "/x"}, Want: []string{"github.orgs lists no organization", "github.baseUrl must be an absolute URL", "github token is missing"}},
	}
	connectorstest.CheckValidate(t, cases)
}

func TestSectionConnector(t *testing.T) {
	t.Parallel()
	s := github.Section{Orgs: []string{"acme"}, Token: config.Secret("t"), UsernameAttribute: "ghLogin"}
	c, err := s.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if gc, ok := c.(*github.Client); !ok || gc.Name() != "github" || strings.Join(gc.Orgs(), ",") != "acme" {
		t.Errorf("connector %T %v", c, c)
	}
	// What New refuses, Connector refuses.
	bad := github.Section{Orgs: []string{"acme/x"}, Token: "t"}
	if _, err := bad.Connector(t.Context()); connectors.KindOf(err) != connectors.InvalidInput {
		t.Errorf("bad org: %v", err)
	}
}
