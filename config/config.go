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
	// reports. Default "okta".
	Identity string      `yaml:"identity,omitempty"`
	Okta     *OktaConfig `yaml:"okta,omitempty"`
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

// Environment variables read by Load. Precedence: flags > env > file > defaults.
const (
	EnvConfig        = "OFFBOARD_CONFIG"
	EnvOktaOrgURL    = "OFFBOARD_OKTA_ORG_URL"
	EnvOktaToken     = "OFFBOARD_OKTA_TOKEN"
	EnvOktaLifecycle = "OFFBOARD_OKTA_LIFECYCLE"
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
	if c.Okta != nil && c.Okta.Token == "" && c.Okta.TokenFile != "" {
		b, err := os.ReadFile(c.Okta.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("okta token file: %w", err)
		}
		c.Okta.Token = Secret(bytes.TrimSpace(b))
	}
	if c.Identity == "" {
		c.Identity = "okta"
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
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
		if u, err := url.Parse(o.OrgURL); err != nil || u.Scheme == "" || u.Host == "" {
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
	if c.Identity != "" && c.Identity != "okta" {
		errs = append(errs, fmt.Errorf("identity %q: only okta can be the identity system", c.Identity))
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

// Empty reports whether no vendor system is configured.
func (c *Config) Empty() bool { return c.Okta == nil }
