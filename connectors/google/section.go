package google

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// EnvToken is the environment variable that gives a static token; it wins
// over the config file's token and tokenFile.
const EnvToken = "OFFBOARD_GOOGLE_TOKEN"

// Vendor describes Google Workspace to the rest of offboard.
var Vendor = connectors.Vendor{Name: System, Identity: false, NewSection: func() connectors.Section { return &Section{} }, Buckets: Buckets}

// Section is the google part of the config file: one Google Workspace
// customer.
type Section struct {
	// BaseURL overrides https://admin.googleapis.com/ (the emulator).
	BaseURL  string `yaml:"baseUrl,omitempty"`
	Customer string `yaml:"customer,omitempty"`
	Domain   string `yaml:"domain,omitempty"`
	// CredentialsFile is a service-account JSON key with domain-wide
	// delegation; AdminSubject is the admin it impersonates.
	CredentialsFile string `yaml:"credentialsFile,omitempty"`
	AdminSubject    string `yaml:"adminSubject,omitempty"`
	// Token is a static bearer token instead of a credentials file (dev).
	// Prefer OFFBOARD_GOOGLE_TOKEN or TokenFile.
	Token     config.Secret `yaml:"token,omitempty"`
	TokenFile string        `yaml:"tokenFile,omitempty"`
}

var _ connectors.Section = (*Section)(nil)

// FromEnv applies OFFBOARD_GOOGLE_TOKEN, else reads tokenFile when the file
// gives no token. The environment alone never configures Google.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	return false, config.ReadSecret(&s.Token, s.TokenFile, EnvToken, "google token", env)
}

// Validate checks the section without calling Google.
func (s *Section) Validate() error {
	var errs []error
	if s.BaseURL != "" && !config.AbsoluteURL(s.BaseURL) {
		errs = append(errs, errors.New("google.baseUrl must be an absolute URL"))
	}
	switch {
	case s.CredentialsFile == "" && s.Token == "":
		errs = append(errs, fmt.Errorf("google credentials are missing: set google.credentialsFile (with adminSubject) or %s", EnvToken))
	case s.CredentialsFile != "" && s.AdminSubject == "":
		errs = append(errs, errors.New("google.adminSubject is missing: the admin the service account impersonates"))
	}
	return errors.Join(errs...)
}

// Connector builds the Google Workspace connector. It reads the
// credentials file but makes no request.
func (s *Section) Connector(ctx context.Context) (connectors.Connector, error) {
	c, err := New(ctx, Config{
		BaseURL: s.BaseURL, Customer: s.Customer, Domain: s.Domain,
		CredentialsFile: s.CredentialsFile, AdminSubject: s.AdminSubject, Token: s.Token,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
