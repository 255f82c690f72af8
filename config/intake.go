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
		raw := ""
		if v, ok := env(EnvHRWebhookSecrets); ok && v != "" {
			raw = v
		} else if h.SecretFile != "" {
			b, err := os.ReadFile(h.SecretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("intake.hr secret file: %w", err))
			}
			raw = string(b)
		}
		for _, f := range strings.Fields(raw) {
			h.Secrets = append(h.Secrets, Secret(f))
		}
	}
	if o := in.OktaEventHook; o != nil {
		errs = append(errs, ReadSecret(&o.Secret, o.SecretFile, EnvOktaHookSecret, "intake.oktaEventHook secret", env))
		if len(o.Events) == 0 {
			o.Events = DefaultOktaEvents
		}
	}
	return errors.Join(errs...)
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
	if in.HR == nil && in.OktaEventHook == nil {
		errs = append(errs, errors.New("intake has neither hr nor oktaEventHook: nothing to serve"))
	}
	return errors.Join(errs...)
}
