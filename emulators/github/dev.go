package github

import (
	"github.com/offboard/offboard/connectors"
	ghconn "github.com/offboard/offboard/connectors/github"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// DevToken is the token the emulator accepts under `offboard dev`. It
// guards nothing real; it exists so the connector sends credentials as it
// would to GitHub.
const DevToken = "offboard-dev-emulator-token"

var _ emu.Dev = (*Server)(nil)

// Dev is the emulator as `offboard dev` runs it: seeded from org,
// accepting DevToken.
func Dev(org *seed.Org) emu.Dev {
	return New(org, Options{Token: DevToken})
}

// DevSection is the github config section that points offboard at this
// emulator served at baseURL: the API at baseURL + "/", the seed's
// organizations, and the token the emulator accepts (written through
// secret to the section's tokenFile).
func (s *Server) DevSection(baseURL string, secret emu.SecretFile) (connectors.Section, error) {
	path, err := secret("github-token", s.opts.Token)
	if err != nil {
		return nil, err
	}
	return &ghconn.Section{BaseURL: baseURL + "/", Orgs: append([]string(nil), s.orgs...), TokenFile: path}, nil
}
