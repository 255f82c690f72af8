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
)

// Vendor describes Slack to the rest of offboard.
var Vendor = connectors.Vendor{
	Name:       System,
	NewSection: func() connectors.Section { return &Section{} },
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
}

var _ connectors.Section = (*Section)(nil)

// FromEnv applies OFFBOARD_SLACK_ADMIN_TOKEN and OFFBOARD_SLACK_BOT_TOKEN
// over the file's tokens, and reads the token files (trimmed) for tokens
// still unset. It never reports true: the environment alone does not
// configure Slack.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	return false, errors.Join(
		config.ReadSecret(&s.AdminToken, s.AdminTokenFile, EnvAdminToken, "slack admin token", env),
		config.ReadSecret(&s.BotToken, s.BotTokenFile, EnvBotToken, "slack bot token", env))
}

// Validate checks the URLs, that a team and an admin token are set.
func (s *Section) Validate() error {
	var errs []error
	for _, u := range []struct{ name, url string }{{"apiUrl", s.APIURL}, {"scimUrl", s.SCIMURL}, {"auditUrl", s.AuditURL}} {
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
