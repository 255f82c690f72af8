package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// EnvSecretAccessKey is the environment variable that sets the secret
// access key, over the config file's secretAccessKey and
// secretAccessKeyFile.
const EnvSecretAccessKey = "OFFBOARD_AWS_SECRET_ACCESS_KEY"

// Vendor describes the AWS connector to the rest of offboard.
var Vendor = connectors.Vendor{Name: System, Identity: false, NewSection: func() connectors.Section { return &Section{} }, Buckets: Buckets}

// Section is the config file's aws section: the AWS accounts (IAM users)
// and IAM Identity Center offboard acts in.
type Section struct {
	// Region signs requests; default us-east-1.
	Region string `yaml:"region,omitempty"`
	// Endpoint is one base URL for every AWS service (the emulator).
	Endpoint string    `yaml:"endpoint,omitempty"`
	Accounts []Account `yaml:"accounts"`
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the SDK's default chain (AWS_* environment, profiles, instance
	// roles). Prefer OFFBOARD_AWS_SECRET_ACCESS_KEY or SecretAccessKeyFile
	// to writing the secret here.
	AccessKeyID         string        `yaml:"accessKeyId,omitempty"`
	SecretAccessKey     config.Secret `yaml:"secretAccessKey,omitempty"`
	SecretAccessKeyFile string        `yaml:"secretAccessKeyFile,omitempty"`
	// IdentityStoreID and InstanceARN enable IAM Identity Center.
	IdentityStoreID      string `yaml:"identityStoreId,omitempty"`
	InstanceARN          string `yaml:"instanceArn,omitempty"`
	IdentityCenterRegion string `yaml:"identityCenterRegion,omitempty"`
	// KillSwitchPermissionSets carry the deny on departed users' identity
	// store IDs; empty means every permission set.
	KillSwitchPermissionSets []string `yaml:"killSwitchPermissionSets,omitempty"`
}

var _ connectors.Section = (*Section)(nil)

// FromEnv sets the secret access key from OFFBOARD_AWS_SECRET_ACCESS_KEY
// when set, else from secretAccessKeyFile (whitespace trimmed) when the
// file gave no secretAccessKey. The environment alone never configures AWS,
// so it reports false.
func (s *Section) FromEnv(env connectors.Lookup) (bool, error) {
	return false, config.ReadSecret(&s.SecretAccessKey, s.SecretAccessKeyFile, EnvSecretAccessKey, "aws secret access key", env)
}

// Validate checks the section without calling AWS. New checks the rest
// (account IDs, role ARNs, regions, ...) when the connector is built.
func (s *Section) Validate() error {
	var errs []error
	if len(s.Accounts) == 0 {
		errs = append(errs, errors.New("aws.accounts lists no account"))
	}
	if s.Endpoint != "" && !config.AbsoluteURL(s.Endpoint) {
		errs = append(errs, errors.New("aws.endpoint must be an absolute URL"))
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		errs = append(errs, fmt.Errorf("aws static credentials need both accessKeyId and the secret (%s or aws.secretAccessKeyFile), or neither", EnvSecretAccessKey))
	}
	if (s.IdentityStoreID == "") != (s.InstanceARN == "") {
		errs = append(errs, errors.New("aws Identity Center needs both identityStoreId and instanceArn, or neither"))
	}
	return errors.Join(errs...)
}

// Connector builds the AWS client (New). It makes no request.
func (s *Section) Connector(ctx context.Context) (connectors.Connector, error) {
	c, err := New(ctx, Config{
		Accounts: append([]Account(nil), s.Accounts...), Region: s.Region, Endpoint: s.Endpoint,
		AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey,
		IdentityStoreID: s.IdentityStoreID, InstanceARN: s.InstanceARN, IdentityCenterRegion: s.IdentityCenterRegion,
		KillSwitchPermissionSets: s.KillSwitchPermissionSets,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
