package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/offboard/offboard/connectors"
)

// Intake configures `offboard serve`, the HTTP intake of HR and Okta
// events (the config file's intake key).
type Intake struct {
	// Listen is the address to serve on; default DefaultListen.
	Listen        string         `yaml:"listen,omitempty"`
	HR            *HRIntake      `yaml:"hr,omitempty"`
	OktaEventHook *OktaEventHook `yaml:"oktaEventHook,omitempty"`
	// Reports takes messages reported on a watch (POST /v1/watch/reports),
	// signed like the HR webhook (Standard Webhooks) with its own secrets.
	Reports *ReportsIntake `yaml:"reports,omitempty"`
}

// ReportsIntake is the signed endpoint for reports of extortion, contact
// and leaks.
type ReportsIntake struct {
	// SecretFile holds the signing secrets ("whsec_<base64>"), like
	// intake.hr's.
	SecretFile string `yaml:"secretFile,omitempty"`
	// Secrets are read from SecretFile, or $OFFBOARD_REPORT_SECRETS.
	Secrets []Secret `yaml:"-"`
}

// HRIntake is the HR system's signed webhook (Standard Webhooks).
type HRIntake struct {
	// SecretFile holds the signing secrets ("whsec_<base64>"), one per line
	// or separated by spaces: several while a secret is rotated.
	SecretFile string `yaml:"secretFile,omitempty"`
	// Secrets are read from SecretFile, or $OFFBOARD_HR_WEBHOOK_SECRETS.
	Secrets []Secret `yaml:"-"`
}

// OktaEventHook is Okta's event hook.
type OktaEventHook struct {
	// SecretFile holds the value Okta sends in the Authorization header.
	SecretFile string `yaml:"secretFile,omitempty"`
	Secret     Secret `yaml:"-"`
	// Events are the event types that start a case; default
	// DefaultOktaEvents.
	Events []string `yaml:"events,omitempty"`
	// IgnoreActors are the Okta principals (user or app IDs) whose changes
	// are offboard's own — its API token's — and start nothing.
	IgnoreActors []string `yaml:"ignoreActors,omitempty"`
}

// Intake defaults and environment.
const (
	DefaultListen       = "127.0.0.1:8800"
	EnvHRWebhookSecrets = "OFFBOARD_HR_WEBHOOK_SECRETS"
	EnvOktaHookSecret   = "OFFBOARD_OKTA_HOOK_SECRET"
	EnvReportSecrets    = "OFFBOARD_REPORT_SECRETS"
)

// DefaultOktaEvents are the Okta events that start a case by default.
var DefaultOktaEvents = []string{"user.lifecycle.deactivate", "user.lifecycle.suspend"}

// fromEnv reads the secrets and fills the defaults.
func (in *Intake) fromEnv(env connectors.Lookup) error {
	if in.Listen == "" {
		in.Listen = DefaultListen
	}
	var errs []error
	if h := in.HR; h != nil {
		var err error
		h.Secrets, err = readSecrets(h.SecretFile, EnvHRWebhookSecrets, "intake.hr", env)
		errs = append(errs, err)
	}
	if rp := in.Reports; rp != nil {
		var err error
		rp.Secrets, err = readSecrets(rp.SecretFile, EnvReportSecrets, "intake.reports", env)
		errs = append(errs, err)
	}
	if o := in.OktaEventHook; o != nil {
		errs = append(errs, ReadSecret(&o.Secret, o.SecretFile, EnvOktaHookSecret, "intake.oktaEventHook secret", env))
		if len(o.Events) == 0 {
			o.Events = DefaultOktaEvents
		}
	}
	return errors.Join(errs...)
}

// readSecrets reads signing secrets (space or line separated) from the
// environment variable, else the file.
func readSecrets(file, envName, key string, env connectors.Lookup) ([]Secret, error) {
	raw := ""
	if v, ok := env(envName); ok && v != "" {
		raw = v
	} else if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s secret file: %w", key, err)
		}
		raw = string(b)
	}
	var out []Secret
	for _, f := range strings.Fields(raw) {
		out = append(out, Secret(f))
	}
	return out, nil
}

// validate checks what can be checked without serving.
func (in *Intake) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(in.Listen); err != nil {
		errs = append(errs, fmt.Errorf("intake.listen %q: want host:port", in.Listen))
	}
	if h := in.HR; h != nil && len(h.Secrets) == 0 {
		errs = append(errs, fmt.Errorf("intake.hr has no signing secret: set intake.hr.secretFile or %s", EnvHRWebhookSecrets))
	}
	if o := in.OktaEventHook; o != nil && o.Secret == "" {
		errs = append(errs, fmt.Errorf("intake.oktaEventHook has no secret: set intake.oktaEventHook.secretFile or %s", EnvOktaHookSecret))
	}
	if rp := in.Reports; rp != nil && len(rp.Secrets) == 0 {
		errs = append(errs, fmt.Errorf("intake.reports has no signing secret: set intake.reports.secretFile or %s", EnvReportSecrets))
	}
	if in.HR == nil && in.OktaEventHook == nil && in.Reports == nil {
		errs = append(errs, errors.New("intake has none of hr, oktaEventHook and reports: nothing to serve"))
	}
	return errors.Join(errs...)
}
