package slack

import (
	"fmt"
	"slices"

	"github.com/offboard/offboard/config"
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
	signing, err := secret("slack-signing-secret", s.hookSecret())
	if err != nil {
		return nil, err
	}
	return &slackconn.Section{
		APIURL:            baseURL + "/api/",
		SCIMURL:           baseURL + "/scim/v2/",
		AuditURL:          baseURL + "/audit/v1/",
		TeamID:            s.devTeam,
		AdminTokenFile:    admin,
		BotTokenFile:      bot,
		SigningSecretFile: signing,
		OpsChannel:        OffboardOpsChannelID,
		SecurityChannel:   SecurityLeadsChannelID,
		Operators:         s.securityTeam(),
		WebUIURL:          s.webUI,
	}, nil
}

var _ emu.Chat = (*Server)(nil)

// DevChat delivers clicks to interactivityURL (signed with the emulator's
// signing secret), links messages to webUI, and returns the demo policy:
// hostile cases need one approval from the @security-team people, in
// #offboard-approvals, reminded every 30 minutes and escalated to
// #security-leads after two hours.
func (s *Server) DevChat(interactivityURL, webUI string) *config.Approvals {
	s.Lock()
	s.hook.URL = interactivityURL
	s.webUI = webUI
	s.Unlock()
	return &config.Approvals{
		Channel:       ApprovalsChannelID,
		Approvers:     s.securityTeam(),
		Quorum:        1,
		When:          []string{"mode:hostile"},
		RemindAfter:   config.DefaultRemindAfter,
		EscalateTo:    SecurityLeadsChannelID,
		EscalateAfter: config.DefaultEscalateAfter,
	}
}

// securityTeam is the @security-team group's members: the demo's approvers
// and operators.
func (s *Server) securityTeam() []string {
	s.Lock()
	defer s.Unlock()
	if g := s.St.usergroup(SecurityGroupID); g != nil {
		return slices.Clone(g.Users)
	}
	return nil
}

func (s *Server) hookSecret() string {
	s.Lock()
	defer s.Unlock()
	return s.hook.SigningSecret
}

// Join adds a user to a channel, as someone who joins (or is invited to) a
// private channel after a message was posted there.
func (s *Server) Join(channel, user string) error {
	s.Lock()
	defer s.Unlock()
	c := s.St.channel(channel)
	if c == nil {
		return fmt.Errorf("no channel %s", channel)
	}
	if s.St.user(user) == nil {
		return fmt.Errorf("no user %s", user)
	}
	if !c.has(user) {
		c.Members = append(c.Members, user)
	}
	return nil
}
