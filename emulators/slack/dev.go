package slack

import (
	"github.com/offboard/offboard/connectors"
	slackconn "github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// Tokens the emulator accepts under `offboard dev`. They guard nothing
// real; they exist so the connector sends credentials as it would to Slack.
const (
	DevAdminToken = "xoxp-offboard-dev-admin"
	DevBotToken   = "xoxb-offboard-dev-bot"
)

// DevTeamID is the workspace the dev config names when the seed has no
// Slack team ID.
const DevTeamID = "T0ACME0001"

var _ emu.Dev = (*Server)(nil)

// Dev returns the emulator as `offboard dev` runs it: seeded from org,
// accepting DevAdminToken and DevBotToken, signing interaction payloads
// with DevSigningSecret (the interactivity URL is set with
// SetInteractivity or POST /_emulator/interactivity).
func Dev(org *seed.Org) emu.Dev {
	return New(org, Options{AdminToken: DevAdminToken, BotToken: DevBotToken, SigningSecret: DevSigningSecret})
}

// DevSection is the slack config section that points offboard at this
// emulator served at baseURL: the Web API, SCIM and Audit Logs URLs under
// it, the seed's team ID (DevTeamID when it has none), and the tokens the
// emulator accepts written through secret to the section's token files.
func (s *Server) DevSection(baseURL string, secret emu.SecretFile) (connectors.Section, error) {
	admin, err := secret("slack-admin-token", s.opts.AdminToken)
	if err != nil {
		return nil, err
	}
	bot, err := secret("slack-bot-token", s.opts.BotToken)
	if err != nil {
		return nil, err
	}
	return &slackconn.Section{
		APIURL:         baseURL + "/api/",
		SCIMURL:        baseURL + "/scim/v2/",
		AuditURL:       baseURL + "/audit/v1/",
		TeamID:         s.devTeam,
		AdminTokenFile: admin,
		BotTokenFile:   bot,
	}, nil
}
