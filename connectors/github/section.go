package github

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// EnvToken is the environment variable that gives the token; it wins over
// the config file's token and tokenFile.
const EnvToken = "OFFBOARD_GITHUB_TOKEN"

// Vendor describes GitHub to the rest of offboard.
var Vendor = connectors.Vendor{Name: System, Identity: false, NewSection: func() connectors.Section { return &Section{} }, Buckets: Buckets}

// Section is the github part of the config file: one or more GitHub
// organizations.
type Section struct {
	// BaseURL is the REST API base: empty for github.com, or
	// https://ghes.example.com/api/v3/ for GitHub Enterprise Server.
	BaseURL string   `yaml:"baseUrl,omitempty"`
	Orgs    []string `yaml:"orgs"`
	// Token is a GitHub App installation token or a PAT with admin:org.
	// Prefer OFFBOARD_GITHUB_TOKEN or TokenFile.
	Token     config.Secret `yaml:"token,omitempty"`
	TokenFile string        `yaml:"tokenFile,omitempty"`
	// UsernameAttribute is the identity system's attribute that holds the
	// person's GitHub login. Default "githubUsername".
	UsernameAttribute string `yaml:"usernameAttribute,omitempty"`
}

var _ connectors.Section = (*Section)(nil)

// FromEnv applies OFFBOARD_GITHUB_TOKEN, else reads tokenFile when the file
// gives no token. The environment alone never configures GitHub.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	return false, config.ReadSecret(&s.Token, s.TokenFile, EnvToken, "github token", env)
}

// Validate checks the section without calling GitHub.
func (s *Section) Validate() error {
	var errs []error
	if len(s.Orgs) == 0 {
		errs = append(errs, errors.New("github.orgs lists no organization"))
	}
	if s.BaseURL != "" && !config.AbsoluteURL(s.BaseURL) {
		errs = append(errs, errors.New("github.baseUrl must be an absolute URL"))
	}
	if s.Token == "" {
		errs = append(errs, fmt.Errorf("github token is missing: set %s or github.tokenFile", EnvToken))
	}
	return errors.Join(errs...)
}

// Connector builds the GitHub connector. It makes no request.
func (s *Section) Connector(ctx context.Context) (connectors.Connector, error) {
	c, err := New(ctx, Config{Orgs: s.Orgs, BaseURL: s.BaseURL, Token: s.Token, UsernameAttribute: s.UsernameAttribute})
	if err != nil {
		return nil, err
	}
	return c, nil
}
