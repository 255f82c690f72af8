package google

import (
	"github.com/offboard/offboard/connectors"
	googleconn "github.com/offboard/offboard/connectors/google"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// DevToken is the token the emulator accepts under `offboard dev`. It
// guards nothing real; it exists so the connector sends credentials as it
// would to Google.
const DevToken = "offboard-dev-emulator-token"

var _ emu.Dev = (*Server)(nil)

// Dev is the emulator as `offboard dev` runs it: seeded from org,
// accepting DevToken.
func Dev(org *seed.Org) emu.Dev {
	return New(org, Options{Token: DevToken})
}

// DevSection is the google config section that points offboard at this
// emulator served at baseURL: the Admin SDK at baseURL + "/", the seed's
// customer and domain, and the token the emulator accepts (written
// through secret to the section's tokenFile).
func (s *Server) DevSection(baseURL string, secret emu.SecretFile) (connectors.Section, error) {
	path, err := secret("google-token", s.opts.Token)
	if err != nil {
		return nil, err
	}
	return &googleconn.Section{BaseURL: baseURL + "/", Customer: s.customer, Domain: s.domain, TokenFile: path}, nil
}
