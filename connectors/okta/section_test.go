package okta_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/okta"
)

func lookup(m map[string]string) connectors.Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestVendor(t *testing.T) {
	t.Parallel()
	if okta.Vendor.Name != "okta" || !okta.Vendor.Identity {
		t.Errorf("vendor %+v", okta.Vendor)
	}
	if _, ok := okta.Vendor.NewSection().(*okta.Section); !ok {
		t.Error("NewSection is not an *okta.Section")
	}
}

func TestSectionFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		file    okta.Section
		env     map[string]string
		want    okta.Section
		fromEnv bool
		err     string
	}{
		"file only": {
			file: okta.Section{OrgURL: "https://acme.okta.com", Token: "t", Lifecycle: "deactivate"},
			want: okta.Section{OrgURL: "https://acme.okta.com", Token: "t", Lifecycle: "deactivate"},
		},
		"env overrides the file": {
			file:    okta.Section{OrgURL: "https://acme.okta.com", Token: "t", Lifecycle: "suspend"},
			env:     map[string]string{okta.EnvOrgURL: "https://beta.okta.com", okta.EnvToken: "env-token", okta.EnvLifecycle: "deactivate"},
			want:    okta.Section{OrgURL: "https://beta.okta.com", Token: "env-token", Lifecycle: "deactivate"},
			fromEnv: true,
		},
		"empty env values are ignored": {
			file: okta.Section{OrgURL: "https://acme.okta.com", Token: "t"},
			env:  map[string]string{okta.EnvOrgURL: "", okta.EnvToken: ""},
			want: okta.Section{OrgURL: "https://acme.okta.com", Token: "t"},
		},
		"env alone configures okta": {
			env:     map[string]string{okta.EnvOrgURL: "https://acme.okta.com", okta.EnvToken: "env-token"},
			want:    okta.Section{OrgURL: "https://acme.okta.com", Token: "env-token"},
			fromEnv: true,
		},
		"lifecycle alone configures okta": {
			env:     map[string]string{okta.EnvLifecycle: "deactivate"},
			want:    okta.Section{Lifecycle: "deactivate"},
			fromEnv: true,
		},
		"token file, trimmed": {
			file: okta.Section{OrgURL: "https://acme.okta.com", TokenFile: tokenFile},
			want: okta.Section{OrgURL: "https://acme.okta.com", Token: "file-token", TokenFile: tokenFile},
		},
		"inline token beats the file": {
			file: okta.Section{OrgURL: "https://acme.okta.com", Token: "inline", TokenFile: tokenFile},
			want: okta.Section{OrgURL: "https://acme.okta.com", Token: "inline", TokenFile: tokenFile},
		},
		"env token beats the file": {
			file:    okta.Section{OrgURL: "https://acme.okta.com", TokenFile: filepath.Join(dir, "missing")},
			env:     map[string]string{okta.EnvToken: "env-token"},
			want:    okta.Section{OrgURL: "https://acme.okta.com", Token: "env-token", TokenFile: filepath.Join(dir, "missing")},
			fromEnv: true,
		},
		"missing token file": {
			file: okta.Section{OrgURL: "https://acme.okta.com", TokenFile: filepath.Join(dir, "missing")},
			err:  "okta token file: ",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.file
			fromEnv, err := s.FromEnv(lookup(c.env))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("FromEnv: %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fromEnv != c.fromEnv {
				t.Errorf("FromEnv reported %v, want %v", fromEnv, c.fromEnv)
			}
			if s != c.want {
				t.Errorf("section %+v, want %+v", s, c.want)
			}
		})
	}
}

func TestSectionValidate(t *testing.T) {
	t.Parallel()
	ok := okta.Section{OrgURL: "https://acme.okta.com", Token: "t"}
	with := func(f func(*okta.Section)) okta.Section { s := ok; f(&s); return s }
	cases := map[string]connectorstest.ValidateCase[okta.Section]{
		"valid":              {S: ok},
		"deactivate":         {S: with(func(s *okta.Section) { s.Lifecycle = "deactivate" })},
		"suspend":            {S: with(func(s *okta.Section) { s.Lifecycle = "suspend" })},
		"missing org URL":    {S: with(func(s *okta.Section) { s.OrgURL = "" }), Want: []string{"okta.orgUrl must be an absolute URL such as https://acme.okta.com"}},
		"relative org URL":   {S: with(func(s *okta.Section) { s.OrgURL = "acme.okta.com" }), Want: []string{"okta.orgUrl must be an absolute URL such as https://acme.okta.com"}},
		"missing token":      {S: with(func(s *okta.Section) { s.Token = "" }), Want: []string{"okta token is missing: set OFFBOARD_OKTA_TOKEN or okta.tokenFile"}},
		"unknown lifecycle":  {S: with(func(s *okta.Section) { s.Lifecycle = "delete" }), Want: []string{`okta.lifecycle "delete": want suspend or deactivate`}},
		"everything missing": {S: okta.Section{Lifecycle: "x"}, Want: []string{"okta.orgUrl", "okta token is missing", `okta.lifecycle "x"`}},
	}
	connectorstest.CheckValidate(t, cases)
}

func TestSectionConnector(t *testing.T) {
	t.Parallel()
	s := &okta.Section{OrgURL: "https://acme.okta.com", Token: config.Secret("t"), Lifecycle: "deactivate"}
	c, err := s.Connector(t.Context())
	if err != nil || c.Name() != "okta" {
		t.Fatalf("Connector: %v %v", c, err)
	}
	if _, ok := c.(*okta.Client); !ok {
		t.Errorf("connector is %T", c)
	}
	// What the section cannot check, New does.
	_, err = (&okta.Section{OrgURL: "http://acme.okta.com", Token: "t"}).Connector(t.Context())
	connErr(t, err, connectors.InvalidInput)
}
