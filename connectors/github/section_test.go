package github_test

import (
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
	connectorstest.CheckSecretFromEnv(t, connectorstest.SecretFromEnv[github.Section]{
		Env: github.EnvToken, What: "github token",
		Set: func(s *github.Section, inline config.Secret, file string) { s.Token, s.TokenFile = inline, file },
		Get: func(s *github.Section) config.Secret { return s.Token },
	})
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
