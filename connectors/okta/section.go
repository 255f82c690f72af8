package okta

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// Environment variables the Okta section reads. Any of them configures Okta
// even when the config file has no okta section.
const (
	EnvOrgURL    = "OFFBOARD_OKTA_ORG_URL"
	EnvToken     = "OFFBOARD_OKTA_TOKEN"
	EnvLifecycle = "OFFBOARD_OKTA_LIFECYCLE"
)

// Vendor describes Okta to the rest of offboard. Okta is the identity
// system: resolved first, it reports the employee ID and the attributes
// others resolve by.
var Vendor = connectors.Vendor{
	Name:       System,
	Identity:   true,
	NewSection: func() connectors.Section { return &Section{} },
	Buckets:    Buckets,
}

// Section is the okta part of the config file: one Okta org.
type Section struct {
	// OrgURL is the org's base URL, like https://acme.okta.com
	// ($OFFBOARD_OKTA_ORG_URL overrides it).
	OrgURL string `yaml:"orgUrl"`
	// Token is an SSWS API token. Prefer the OFFBOARD_OKTA_TOKEN environment
	// variable or TokenFile to writing it here.
	Token     config.Secret `yaml:"token,omitempty"`
	TokenFile string        `yaml:"tokenFile,omitempty"`
	// Lifecycle is "suspend" (default, reversible) or "deactivate"
	// ($OFFBOARD_OKTA_LIFECYCLE overrides it).
	Lifecycle string `yaml:"lifecycle,omitempty"`
}

var _ connectors.Section = (*Section)(nil)

// FromEnv applies OFFBOARD_OKTA_ORG_URL, OFFBOARD_OKTA_TOKEN and
// OFFBOARD_OKTA_LIFECYCLE over the file's values, then reads TokenFile
// (trimmed) when no token is set. It reports whether any of the three
// variables is set: each alone configures Okta.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	set := false
	for _, f := range []struct {
		name string
		to   func(string)
	}{
		{EnvOrgURL, func(v string) { s.OrgURL = v }},
		{EnvToken, func(v string) { s.Token = config.Secret(v) }},
		{EnvLifecycle, func(v string) { s.Lifecycle = v }},
	} {
		if v, ok := env(f.name); ok && v != "" {
			f.to(v)
			set = true
		}
	}
	return set, config.ReadSecret(&s.Token, s.TokenFile, "", "okta token", env)
}

// Validate checks the org URL, that a token is set and the lifecycle.
func (s *Section) Validate() error {
	var errs []error
	if !config.AbsoluteURL(s.OrgURL) {
		errs = append(errs, errors.New("okta.orgUrl must be an absolute URL such as https://acme.okta.com"))
	}
	if s.Token == "" {
		errs = append(errs, fmt.Errorf("okta token is missing: set %s or okta.tokenFile", EnvToken))
	}
	switch s.Lifecycle {
	case "", LifecycleSuspend, LifecycleDeactivate:
	default:
		errs = append(errs, fmt.Errorf("okta.lifecycle %q: want suspend or deactivate", s.Lifecycle))
	}
	return errors.Join(errs...)
}

// Connector builds the Okta client. It makes no request.
func (s *Section) Connector(ctx context.Context) (connectors.Connector, error) {
	c, err := New(ctx, Config{OrgURL: s.OrgURL, Token: s.Token, Lifecycle: s.Lifecycle})
	if err != nil {
		return nil, err
	}
	return c, nil
}
