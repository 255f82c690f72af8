package slack

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// Environment variables the Slack section reads. They override the file's
// tokens; they do not configure Slack on their own.
const (
	EnvAdminToken = "OFFBOARD_SLACK_ADMIN_TOKEN"
	EnvBotToken   = "OFFBOARD_SLACK_BOT_TOKEN"
	// EnvSigningSecret is the Slack app's signing secret, which verifies
	// its interactivity requests (button clicks).
	EnvSigningSecret = "OFFBOARD_SLACK_SIGNING_SECRET"
)

// Vendor describes Slack to the rest of offboard.
var Vendor = connectors.Vendor{
	Name:       System,
	NewSection: func() connectors.Section { return &Section{} },
	Buckets:    Buckets,
}

// Section is the slack part of the config file: one Slack Enterprise Grid
// org.
type Section struct {
	APIURL   string `yaml:"apiUrl,omitempty"`
	SCIMURL  string `yaml:"scimUrl,omitempty"`
	AuditURL string `yaml:"auditUrl,omitempty"`
	TeamID   string `yaml:"teamId"`
	// AdminToken is an org admin's user token (xoxp-) for SCIM and admin.*.
	// Prefer OFFBOARD_SLACK_ADMIN_TOKEN or AdminTokenFile.
	AdminToken     config.Secret `yaml:"adminToken,omitempty"`
	AdminTokenFile string        `yaml:"adminTokenFile,omitempty"`
	// BotToken (xoxb-) reads users; empty means the admin token does.
	BotToken     config.Secret `yaml:"botToken,omitempty"`
	BotTokenFile string        `yaml:"botTokenFile,omitempty"`
	// UserIDAttribute is the identity system's attribute that holds the
	// person's Slack user ID. Default "slackUserId".
	UserIDAttribute string `yaml:"userIdAttribute,omitempty"`

	// The Slack app offboard asks and reports through (approvals, parked
	// steps, case summaries): its signing secret, read from
	// SigningSecretFile or $OFFBOARD_SLACK_SIGNING_SECRET, verifies button
	// clicks.
	SigningSecret     config.Secret `yaml:"-"`
	SigningSecretFile string        `yaml:"signingSecretFile,omitempty"`
	// OpsChannel gets parked steps (with Retry and Skip) and case
	// summaries; empty posts neither.
	OpsChannel string `yaml:"opsChannel,omitempty"`
	// SecurityChannel (private) gets the watch's alerts, whole: what was
	// seen, its evidence, who is paged. Without one, alerts go to the ops
	// channel without their details.
	SecurityChannel string `yaml:"securityChannel,omitempty"`
	// Operators (Slack user IDs) and the members of OperatorGroup may click
	// Retry and Skip.
	Operators     []string `yaml:"operators,omitempty"`
	OperatorGroup string   `yaml:"operatorGroup,omitempty"`
	// WebUIURL is the Temporal Web UI, for links in messages.
	WebUIURL string `yaml:"webUiUrl,omitempty"`
}

var _ connectors.Section = (*Section)(nil)

// FromEnv applies OFFBOARD_SLACK_ADMIN_TOKEN and OFFBOARD_SLACK_BOT_TOKEN
// over the file's tokens, and reads the token files (trimmed) for tokens
// still unset. It never reports true: the environment alone does not
// configure Slack.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	return false, errors.Join(
		config.ReadSecret(&s.AdminToken, s.AdminTokenFile, EnvAdminToken, "slack admin token", env),
		config.ReadSecret(&s.BotToken, s.BotTokenFile, EnvBotToken, "slack bot token", env),
		config.ReadSecret(&s.SigningSecret, s.SigningSecretFile, EnvSigningSecret, "slack signing secret", env))
}

// Validate checks the URLs, that a team and an admin token are set.
func (s *Section) Validate() error {
	var errs []error
	for _, u := range []struct{ name, url string }{{"apiUrl", s.APIURL}, {"scimUrl", s.SCIMURL}, {"auditUrl", s.AuditURL}, {"webUiUrl", s.WebUIURL}} {
		if u.url != "" && !config.AbsoluteURL(u.url) {
			errs = append(errs, fmt.Errorf("slack.%s must be an absolute URL", u.name))
		}
	}
	if s.TeamID == "" {
		errs = append(errs, errors.New("slack.teamId is missing"))
	}
	if s.AdminToken == "" {
		errs = append(errs, fmt.Errorf("slack admin token is missing: set %s or slack.adminTokenFile", EnvAdminToken))
	}
	if s.OpsChannel != "" && !config.SlackChannelRE.MatchString(s.OpsChannel) {
		errs = append(errs, fmt.Errorf("slack.opsChannel %q: want a Slack channel ID (like C0123ABCD)", s.OpsChannel))
	}
	if s.SecurityChannel != "" && !config.SlackChannelRE.MatchString(s.SecurityChannel) {
		errs = append(errs, fmt.Errorf("slack.securityChannel %q: want a Slack channel ID (like C0123ABCD)", s.SecurityChannel))
	}
	for _, u := range s.Operators {
		if !config.SlackUserRE.MatchString(u) {
			errs = append(errs, fmt.Errorf("slack.operators: %q is not a Slack user ID (like U0123ABCD)", u))
		}
	}
	if s.OperatorGroup != "" && !config.SlackGroupRE.MatchString(s.OperatorGroup) {
		errs = append(errs, fmt.Errorf("slack.operatorGroup %q: want a Slack user group ID (like S0123ABCD)", s.OperatorGroup))
	}
	if s.OpsChannel != "" && len(s.Operators) == 0 && s.OperatorGroup == "" {
		errs = append(errs, errors.New("slack.opsChannel is set but no one may click Retry or Skip: set slack.operators or slack.operatorGroup"))
	}
	if s.OpsChannel != "" && s.SigningSecret == "" {
		errs = append(errs, fmt.Errorf("slack.opsChannel needs the app's signing secret to verify clicks: set slack.signingSecretFile or %s", EnvSigningSecret))
	}
	return errors.Join(errs...)
}

// Connector builds the Slack client. It makes no request.
func (s *Section) Connector(ctx context.Context) (connectors.Connector, error) {
	c, err := New(ctx, Config{
		APIURL: s.APIURL, SCIMURL: s.SCIMURL, AuditURL: s.AuditURL,
		AdminToken: s.AdminToken, BotToken: s.BotToken, TeamID: s.TeamID,
		UserIDAttribute: s.UserIDAttribute,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
