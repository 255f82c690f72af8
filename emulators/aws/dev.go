package aws

import (
	"github.com/offboard/offboard/connectors"
	awsconn "github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// DevRoleName is the role `offboard dev` assumes in every account but the
// first, as a real multi-account setup would (the emulator accepts any
// role name).
const DevRoleName = "OffboardingRole"

var _ emu.Dev = (*Server)(nil)

// Dev is the emulator as `offboard dev` runs it: seeded from org, accepting
// the management account's DefaultAccessKeyID and DefaultSecretAccessKey.
func Dev(org *seed.Org) emu.Dev {
	return New(org, Options{})
}

// DevSection is the aws config section that points offboard at this
// emulator served at baseURL: every service at baseURL, the emulator's key
// pair (the secret written through secret to secretAccessKeyFile), the
// seed's Identity Center instance, and the seed's accounts, the first
// reached with the key pair and the others by assuming DevRoleName in
// them.
func (s *Server) DevSection(baseURL string, secret emu.SecretFile) (connectors.Section, error) {
	path, err := secret("aws-secret-access-key", s.opts.SecretAccessKey)
	if err != nil {
		return nil, err
	}
	sec := &awsconn.Section{
		Endpoint:            baseURL,
		AccessKeyID:         s.opts.AccessKeyID,
		SecretAccessKeyFile: path,
		IdentityStoreID:     s.seed.IdentityStoreID,
		InstanceARN:         s.seed.InstanceARN,
	}
	for i, a := range s.seed.Accounts {
		acct := awsconn.Account{ID: a.ID}
		if i > 0 {
			acct.RoleARN = "arn:aws:iam::" + a.ID + ":role/" + DevRoleName
		}
		sec.Accounts = append(sec.Accounts, acct)
	}
	return sec, nil
}
