package dev

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emu"
	githubemu "github.com/offboard/offboard/emulators/github"
	googleemu "github.com/offboard/offboard/emulators/google"
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
	Okta   *oktaemu.Server
	GitHub *githubemu.Server
	Slack  *slackemu.Server
	AWS    *awsemu.Server
	Google *googleemu.Server
	org    *seed.Org
}

// NewEmulators seeds every emulator from org.
func NewEmulators(org *seed.Org) *Emulators {
	return &Emulators{
		Okta:   oktaemu.New(org, oktaemu.Options{Token: EmulatorToken}),
		GitHub: githubemu.New(org, githubemu.Options{Token: EmulatorToken}),
		Slack:  slackemu.New(org, slackemu.Options{AdminToken: SlackAdminToken, BotToken: SlackBotToken}),
		AWS:    awsemu.New(org, awsemu.Options{}),
		Google: googleemu.New(org, googleemu.Options{Token: EmulatorToken}),
		org:    org,
	}
}

// Named is an emulator with the system name used in ports, URLs and state
// files.
type Named struct {
	Name     string
	Emulator Emulator
}

// All lists the emulators in a fixed order.
func (e *Emulators) All() []Named {
	return []Named{{"okta", e.Okta}, {"github", e.GitHub}, {"slack", e.Slack}, {"aws", e.AWS}, {"google", e.Google}}
}

// configYAML is the offboard config that points every connector at its
// emulator.
func (e *Emulators) configYAML(urls map[string]string) string {
	team, customer, domain := slackTeamIDDefault, "", ""
	var orgs []string
	var aws seed.AWSOrg
	if e.org != nil {
		orgs, aws = e.org.GitHub.Orgs, e.org.AWS
		if e.org.Slack.TeamID != "" {
			team = e.org.Slack.TeamID
		}
		customer, domain = e.org.Google.Customer, e.org.Domain
	}
	return fmt.Sprintf(`# Written by offboard dev: points offboard at the local emulators.
okta:
  orgUrl: %s
  token: %s
github:
  baseUrl: %s/
  orgs: [%s]
  token: %s
slack:
  apiUrl: %s/api/
  scimUrl: %s/scim/v2/
  auditUrl: %s/audit/v1/
  teamId: %s
  adminToken: %s
  botToken: %s
aws:
  endpoint: %s
  accessKeyId: %s
  secretAccessKey: %s
  identityStoreId: %q
  instanceArn: %q
  accounts:
%sgoogle:
  baseUrl: %s/
  customer: %q
  domain: %q
  token: %s
`, urls["okta"], EmulatorToken,
		urls["github"], strings.Join(orgs, ", "), EmulatorToken,
		urls["slack"], urls["slack"], urls["slack"], team, SlackAdminToken, SlackBotToken,
		urls["aws"], awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, aws.IdentityStoreID, aws.InstanceARN, awsAccounts(aws),
		urls["google"], customer, domain, EmulatorToken)
}

// awsAccounts lists the demo's AWS accounts for the dev config: the first is
// reached with the emulator's keys, the others by assuming a role in them,
// as a real multi-account setup would.
func awsAccounts(o seed.AWSOrg) string {
	var b strings.Builder
	for i, a := range o.Accounts {
		fmt.Fprintf(&b, "    - id: %q\n", a.ID)
		if i > 0 {
			fmt.Fprintf(&b, "      roleArn: arn:aws:iam::%s:role/OffboardingRole\n", a.ID)
		}
	}
	return b.String()
}
