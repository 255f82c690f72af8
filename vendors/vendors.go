// Package vendors is the one list of the vendors offboard closes. Config,
// the worker, the CLI and `offboard dev` know vendors only through it: a new
// vendor is its connector package, its emulator, and one line here.
package vendors

import (
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/connectors/github"
	"github.com/offboard/offboard/connectors/google"
	"github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/connectors/slack"
	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emu"
	githubemu "github.com/offboard/offboard/emulators/github"
	googleemu "github.com/offboard/offboard/emulators/google"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

// Vendor is one vendor: its connector's descriptor, and its emulator for
// `offboard dev`.
type Vendor struct {
	connectors.Vendor
	// Emulator builds the vendor's emulator, seeded from the demo org.
	Emulator func(org *seed.Org) emu.Dev
	// DevPort is the emulator's default port in `offboard dev`.
	DevPort int
}

// All lists the vendors in the order config, `offboard dev` and status show
// them.
var All = []Vendor{
	{okta.Vendor, oktaemu.Dev, 8801},
	{github.Vendor, githubemu.Dev, 8802},
	{slack.Vendor, slackemu.Dev, 8803},
	{aws.Vendor, awsemu.Dev, 8804},
	{google.Vendor, googleemu.Dev, 8805},
}

// Connectors lists the connectors' descriptors, for config.
func Connectors() []connectors.Vendor {
	out := make([]connectors.Vendor, len(All))
	for i, v := range All {
		out[i] = v.Vendor
	}
	return out
}
