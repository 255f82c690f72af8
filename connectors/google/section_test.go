package google_test

import (
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/google"
)

func TestVendor(t *testing.T) {
	t.Parallel()
	if google.Vendor.Name != "google" || google.Vendor.Identity {
		t.Errorf("vendor %+v", google.Vendor)
	}
	if _, ok := google.Vendor.NewSection().(*google.Section); !ok {
		t.Errorf("NewSection gives %T", google.Vendor.NewSection())
	}
}

// The YAML keys are those of the config file.
func TestSectionYAML(t *testing.T) {
	t.Parallel()
	var s google.Section
	dec := yaml.NewDecoder(strings.NewReader(`baseUrl: http://127.0.0.1:1/
customer: C01acme00
domain: example.com
credentialsFile: /sa.json
adminSubject: admin@example.com
token: t
tokenFile: /f
`))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	want := google.Section{BaseURL: "http://127.0.0.1:1/", Customer: "C01acme00", Domain: "example.com", CredentialsFile: "/sa.json", AdminSubject: "admin@example.com", Token: "t", TokenFile: "/f"}
	if s != want {
		t.Errorf("decoded %+v, want %+v", s, want)
	}
}

func TestSectionFromEnv(t *testing.T) {
	t.Parallel()
	connectorstest.CheckSecretFromEnv(t, connectorstest.SecretFromEnv[google.Section]{
		Env: google.EnvToken, What: "google token",
		Set: func(s *google.Section, inline config.Secret, file string) { s.Token, s.TokenFile = inline, file },
		Get: func(s *google.Section) config.Secret { return s.Token },
	})
}

func TestSectionValidate(t *testing.T) {
	t.Parallel()
	cases := map[string]connectorstest.ValidateCase[google.Section]{
		"token":                         {S: google.Section{Token: "t"}},
		"credentials file with subject": {S: google.Section{CredentialsFile: "/sa.json", AdminSubject: "admin@example.com"}},
		"base URL":                      {S: google.Section{Token: "t", BaseURL: "http://127.0.0.1:8080/"}},
		"relative baseUrl":              {S: google.Section{Token: "t", BaseURL: "admin.googleapis.com"}, Want: []string{"google.baseUrl must be an absolute URL"}},
		"no credentials":                {S: google.Section{Customer: "C1"}, Want: []string{"google credentials are missing: set google.credentialsFile (with adminSubject) or OFFBOARD_GOOGLE_TOKEN"}},
		"credentials file alone":        {S: google.Section{CredentialsFile: "/sa.json"}, Want: []string{"google.adminSubject is missing: the admin the service account impersonates"}},
		"everything wrong":              {S: google.Section{BaseURL: "/x"}, Want: []string{"google.baseUrl must be an absolute URL", "google credentials are missing"}},
	}
	connectorstest.CheckValidate(t, cases)
}

func TestSectionConnector(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "sa.json")
	writeKey(t, key, "https://oauth2.googleapis.com/token")
	for name, s := range map[string]google.Section{
		"token":            {Token: "t", Customer: customer, Domain: "example.com"},
		"credentials file": {CredentialsFile: key, AdminSubject: "admin@example.com"},
	} {
		c, err := s.Connector(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if gc, ok := c.(*google.Client); !ok || gc.Name() != "google" {
			t.Errorf("%s: connector %T", name, c)
		}
	}
	// What New refuses, Connector refuses.
	bad := google.Section{Token: "t", Customer: "not a customer"}
	if _, err := bad.Connector(t.Context()); connectors.KindOf(err) != connectors.InvalidInput {
		t.Errorf("bad customer: %v", err)
	}
}
