package dev

import (
	"fmt"
	"io"
	"net/http"

	"github.com/offboard/offboard/emulators/emu"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

// Tokens the dev emulators accept. They guard nothing real; they exist so
// the connectors send credentials as they would to the vendor.
const (
	EmulatorToken      = "offboard-dev-emulator-token"
	SlackAdminToken    = "xoxp-offboard-dev-admin"
	SlackBotToken      = "xoxb-offboard-dev-bot"
	slackTeamIDDefault = "T0ACME0001"
)

// Emulator is what the stack needs of a vendor emulator.
type Emulator interface {
	http.Handler
	Emulator() *emu.Emulator
	SaveState(io.Writer) error
	LoadState(io.Reader) error
}

// Emulators are the vendor emulators of one stack, seeded from one org.
type Emulators struct {
	Okta  *oktaemu.Server
	Slack *slackemu.Server
	org   *seed.Org
}

// NewEmulators seeds every emulator from org.
func NewEmulators(org *seed.Org) *Emulators {
	return &Emulators{
		Okta:  oktaemu.New(org, oktaemu.Options{Token: EmulatorToken}),
		Slack: slackemu.New(org, slackemu.Options{AdminToken: SlackAdminToken, BotToken: SlackBotToken}),
		org:   org,
	}
}

type named struct {
	name string
	emu  Emulator
}

// all lists the emulators in a fixed order, by the system names used in
// ports, URLs and state files.
func (e *Emulators) all() []named {
	return []named{{"okta", e.Okta}, {"slack", e.Slack}}
}

// configYAML is the offboard config that points every connector at its
// emulator.
func (e *Emulators) configYAML(urls map[string]string) string {
	team := slackTeamIDDefault
	if e.org != nil && e.org.Slack.TeamID != "" {
		team = e.org.Slack.TeamID
	}
	return fmt.Sprintf(`# Written by offboard dev: points offboard at the local emulators.
okta:
  orgUrl: %s
  token: %s
slack:
  apiUrl: %s/api/
  scimUrl: %s/scim/v2/
  auditUrl: %s/audit/v1/
  teamId: %s
  adminToken: %s
  botToken: %s
`, urls["okta"], EmulatorToken,
		urls["slack"], urls["slack"], urls["slack"], team, SlackAdminToken, SlackBotToken)
}
