package okta

import (
	"github.com/offboard/offboard/connectors"
	oktaconn "github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// DevToken is the API token the emulator accepts under `offboard dev`. It
// guards nothing real; it exists so the connector sends credentials as it
// would to Okta.
const DevToken = "offboard-dev-emulator-token"

// DevHRToken is the second API token the dev emulator accepts: the HR
// provisioning integration's (Options.HRToken), so that a user can be
// deactivated "as HR would", with HRActorID as the System Log actor.
const DevHRToken = "offboard-dev-emulator-hr-token"

var _ emu.Dev = (*Server)(nil)

// Dev returns the emulator as `offboard dev` runs it: seeded from org,
// accepting DevToken and, as the HR integration, DevHRToken.
func Dev(org *seed.Org) emu.Dev { return New(org, Options{Token: DevToken, HRToken: DevHRToken}) }

// DevSection is the okta config section that points offboard at this
// emulator served at baseURL: the org URL, and the token the emulator
// accepts written through secret to the section's tokenFile.
func (s *Server) DevSection(baseURL string, secret emu.SecretFile) (connectors.Section, error) {
	path, err := secret("okta-token", s.opts.Token)
	if err != nil {
		return nil, err
	}
	return &oktaconn.Section{OrgURL: baseURL, TokenFile: path}, nil
}
