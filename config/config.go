package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is offboard's configuration: which vendor systems to close and how
// to reach them. Temporal connection settings are not here; they come from
// the standard TEMPORAL_* environment (see the README).
type Config struct {
	// Identity is the system resolved first; others resolve from what it
	// reports. Default "okta" when Okta is configured.
	Identity string        `yaml:"identity,omitempty"`
	Okta     *OktaConfig   `yaml:"okta,omitempty"`
	GitHub   *GitHubConfig `yaml:"github,omitempty"`
	Slack    *SlackConfig  `yaml:"slack,omitempty"`
	AWS      *AWSConfig    `yaml:"aws,omitempty"`
	Google   *GoogleConfig `yaml:"google,omitempty"`
	// Path is where the config was read from ("" for none).
	Path string `yaml:"-"`
}

// OktaConfig reaches one Okta org.
type OktaConfig struct {
	OrgURL string `yaml:"orgUrl"`
	// Token is an SSWS API token. Prefer the OFFBOARD_OKTA_TOKEN environment
	// variable or TokenFile to writing it here.
	Token     Secret `yaml:"token,omitempty"`
	TokenFile string `yaml:"tokenFile,omitempty"`
	// Lifecycle is "suspend" (default, reversible) or "deactivate".
	Lifecycle string `yaml:"lifecycle,omitempty"`
}

// GitHubConfig reaches one or more GitHub organizations.
type GitHubConfig struct {
	// BaseURL is the REST API base: empty for github.com, or
	// https://ghes.example.com/api/v3/ for GitHub Enterprise Server.
	BaseURL string   `yaml:"baseUrl,omitempty"`
	Orgs    []string `yaml:"orgs"`
	// Token is a GitHub App installation token or a PAT with admin:org.
	// Prefer OFFBOARD_GITHUB_TOKEN or TokenFile.
	Token     Secret `yaml:"token,omitempty"`
	TokenFile string `yaml:"tokenFile,omitempty"`
}

// SlackConfig reaches one Slack Enterprise Grid org.
type SlackConfig struct {
	APIURL   string `yaml:"apiUrl,omitempty"`
	SCIMURL  string `yaml:"scimUrl,omitempty"`
	AuditURL string `yaml:"auditUrl,omitempty"`
	TeamID   string `yaml:"teamId"`
	// AdminToken is an org admin's user token (xoxp-) for SCIM and admin.*.
	// Prefer OFFBOARD_SLACK_ADMIN_TOKEN or AdminTokenFile.
	AdminToken     Secret `yaml:"adminToken,omitempty"`
	AdminTokenFile string `yaml:"adminTokenFile,omitempty"`
	// BotToken (xoxb-) reads users; empty means the admin token does.
	BotToken     Secret `yaml:"botToken,omitempty"`
	BotTokenFile string `yaml:"botTokenFile,omitempty"`
}

// AWSConfig reaches AWS accounts (IAM users) and IAM Identity Center.
type AWSConfig struct {
	Region string `yaml:"region,omitempty"`
	// Endpoint is one base URL for every AWS service (the emulator).
	Endpoint string       `yaml:"endpoint,omitempty"`
	Accounts []AWSAccount `yaml:"accounts"`
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the SDK's default chain (AWS_* environment, profiles, instance roles).
	AccessKeyID         string `yaml:"accessKeyId,omitempty"`
	SecretAccessKey     Secret `yaml:"secretAccessKey,omitempty"`
	SecretAccessKeyFile string `yaml:"secretAccessKeyFile,omitempty"`
	// IdentityStoreID and InstanceARN enable IAM Identity Center.
	IdentityStoreID      string `yaml:"identityStoreId,omitempty"`
	InstanceARN          string `yaml:"instanceArn,omitempty"`
	IdentityCenterRegion string `yaml:"identityCenterRegion,omitempty"`
	// KillSwitchPermissionSets carry the deny on departed users' identity
	// store IDs; empty means every permission set.
	KillSwitchPermissionSets []string `yaml:"killSwitchPermissionSets,omitempty"`
}

// AWSAccount is one account, reached directly or by assuming RoleARN.
type AWSAccount struct {
	ID      string `yaml:"id"`
	RoleARN string `yaml:"roleArn,omitempty"`
}

// GoogleConfig reaches one Google Workspace customer.
type GoogleConfig struct {
	// BaseURL overrides https://admin.googleapis.com/ (the emulator).
	BaseURL  string `yaml:"baseUrl,omitempty"`
	Customer string `yaml:"customer,omitempty"`
	Domain   string `yaml:"domain,omitempty"`
	// CredentialsFile is a service-account JSON key with domain-wide
	// delegation; AdminSubject is the admin it impersonates.
	CredentialsFile string `yaml:"credentialsFile,omitempty"`
	AdminSubject    string `yaml:"adminSubject,omitempty"`
	// Token is a static bearer token instead of a credentials file (dev).
	Token     Secret `yaml:"token,omitempty"`
	TokenFile string `yaml:"tokenFile,omitempty"`
}

// Environment variables read by Load. Precedence: flags > env > file > defaults.
const (
	EnvConfig          = "OFFBOARD_CONFIG"
	EnvOktaOrgURL      = "OFFBOARD_OKTA_ORG_URL"
	EnvOktaToken       = "OFFBOARD_OKTA_TOKEN"
	EnvOktaLifecycle   = "OFFBOARD_OKTA_LIFECYCLE"
	EnvGitHubToken     = "OFFBOARD_GITHUB_TOKEN"
	EnvSlackAdminToken = "OFFBOARD_SLACK_ADMIN_TOKEN"
	EnvSlackBotToken   = "OFFBOARD_SLACK_BOT_TOKEN"
	EnvGoogleToken     = "OFFBOARD_GOOGLE_TOKEN"
	EnvAWSSecretKey    = "OFFBOARD_AWS_SECRET_ACCESS_KEY"
)

// DefaultPaths are tried in order when no path is given: a config in the
// working directory, then the one `offboard dev` writes.
var DefaultPaths = []string{"offboard.yaml", ".offboard/dev.yaml"}

// Load reads the config. path is the --config flag; empty means
// $OFFBOARD_CONFIG, then DefaultPaths. lookup reads the environment.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if path == "" {
		if p, ok := lookup(EnvConfig); ok && p != "" {
			path = p
		}
	}
	explicit := path != ""
	if !explicit {
		for _, p := range DefaultPaths {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	c := &Config{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file decodes as io.EOF: it configures nothing.
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		c.Path = path
	}
	if v, ok := lookup(EnvOktaOrgURL); ok && v != "" {
		c.okta().OrgURL = v
	}
	if v, ok := lookup(EnvOktaToken); ok && v != "" {
		c.okta().Token = Secret(v)
	}
	if v, ok := lookup(EnvOktaLifecycle); ok && v != "" {
		c.okta().Lifecycle = v
	}
	var errs []error
	if o := c.Okta; o != nil {
		errs = append(errs, secret(&o.Token, o.TokenFile, "", "okta token", lookup))
	}
	if g := c.GitHub; g != nil {
		errs = append(errs, secret(&g.Token, g.TokenFile, EnvGitHubToken, "github token", lookup))
	}
	if s := c.Slack; s != nil {
		errs = append(errs,
			secret(&s.AdminToken, s.AdminTokenFile, EnvSlackAdminToken, "slack admin token", lookup),
			secret(&s.BotToken, s.BotTokenFile, EnvSlackBotToken, "slack bot token", lookup))
	}
	if g := c.Google; g != nil {
		errs = append(errs, secret(&g.Token, g.TokenFile, EnvGoogleToken, "google token", lookup))
	}
	if a := c.AWS; a != nil {
		errs = append(errs, secret(&a.SecretAccessKey, a.SecretAccessKeyFile, EnvAWSSecretKey, "aws secret access key", lookup))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.Identity == "" && c.Okta != nil {
		c.Identity = "okta"
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// secret fills s from the environment variable env (which wins), else from
// file when s is empty.
func secret(s *Secret, file, env, what string, lookup func(string) (string, bool)) error {
	if env != "" {
		if v, ok := lookup(env); ok && v != "" {
			*s = Secret(v)
			return nil
		}
	}
	if *s != "" || file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s file: %w", what, err)
	}
	*s = Secret(bytes.TrimSpace(b))
	return nil
}

func (c *Config) okta() *OktaConfig {
	if c.Okta == nil {
		c.Okta = &OktaConfig{}
	}
	return c.Okta
}

// Validate checks what can be checked without calling a vendor.
func (c *Config) Validate() error {
	var errs []error
	if o := c.Okta; o != nil {
		if !absolute(o.OrgURL) {
			errs = append(errs, errors.New("okta.orgUrl must be an absolute URL such as https://acme.okta.com"))
		}
		if o.Token == "" {
			errs = append(errs, fmt.Errorf("okta token is missing: set %s or okta.tokenFile", EnvOktaToken))
		}
		switch o.Lifecycle {
		case "", "suspend", "deactivate":
		default:
			errs = append(errs, fmt.Errorf("okta.lifecycle %q: want suspend or deactivate", o.Lifecycle))
		}
	}
	if g := c.GitHub; g != nil {
		if len(g.Orgs) == 0 {
			errs = append(errs, errors.New("github.orgs lists no organization"))
		}
		if g.BaseURL != "" && !absolute(g.BaseURL) {
			errs = append(errs, errors.New("github.baseUrl must be an absolute URL"))
		}
		if g.Token == "" {
			errs = append(errs, fmt.Errorf("github token is missing: set %s or github.tokenFile", EnvGitHubToken))
		}
	}
	if s := c.Slack; s != nil {
		for name, u := range map[string]string{"apiUrl": s.APIURL, "scimUrl": s.SCIMURL, "auditUrl": s.AuditURL} {
			if u != "" && !absolute(u) {
				errs = append(errs, fmt.Errorf("slack.%s must be an absolute URL", name))
			}
		}
		if s.TeamID == "" {
			errs = append(errs, errors.New("slack.teamId is missing"))
		}
		if s.AdminToken == "" {
			errs = append(errs, fmt.Errorf("slack admin token is missing: set %s or slack.adminTokenFile", EnvSlackAdminToken))
		}
	}
	if g := c.Google; g != nil {
		if g.BaseURL != "" && !absolute(g.BaseURL) {
			errs = append(errs, errors.New("google.baseUrl must be an absolute URL"))
		}
		switch {
		case g.CredentialsFile == "" && g.Token == "":
			errs = append(errs, fmt.Errorf("google credentials are missing: set google.credentialsFile (with adminSubject) or %s", EnvGoogleToken))
		case g.CredentialsFile != "" && g.AdminSubject == "":
			errs = append(errs, errors.New("google.adminSubject is missing: the admin the service account impersonates"))
		}
	}
	if a := c.AWS; a != nil {
		if len(a.Accounts) == 0 {
			errs = append(errs, errors.New("aws.accounts lists no account"))
		}
		if a.Endpoint != "" && !absolute(a.Endpoint) {
			errs = append(errs, errors.New("aws.endpoint must be an absolute URL"))
		}
		if (a.AccessKeyID == "") != (a.SecretAccessKey == "") {
			errs = append(errs, fmt.Errorf("aws static credentials need both accessKeyId and the secret (%s or aws.secretAccessKeyFile), or neither", EnvAWSSecretKey))
		}
		if (a.IdentityStoreID == "") != (a.InstanceARN == "") {
			errs = append(errs, errors.New("aws Identity Center needs both identityStoreId and instanceArn, or neither"))
		}
	}
	switch {
	case c.Identity != "" && c.Identity != "okta":
		errs = append(errs, fmt.Errorf("identity %q: only okta can be the identity system", c.Identity))
	case c.Identity == "okta" && c.Okta == nil:
		errs = append(errs, errors.New("identity okta is not configured: add an okta section"))
	}
	if len(errs) > 0 {
		where := ""
		if c.Path != "" {
			where = " (" + c.Path + ")"
		}
		return fmt.Errorf("config%s: %w", where, errors.Join(errs...))
	}
	return nil
}

func absolute(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// Empty reports whether no vendor system is configured.
func (c *Config) Empty() bool {
	return c.Okta == nil && c.GitHub == nil && c.Slack == nil && c.AWS == nil && c.Google == nil
}
