package aws_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/connectors/connectorstest"
	awsemu "github.com/offboard/offboard/emulators/aws"
)

func TestVendor(t *testing.T) {
	t.Parallel()
	if aws.Vendor.Name != "aws" || aws.Vendor.Identity {
		t.Errorf("vendor %+v", aws.Vendor)
	}
	if _, ok := aws.Vendor.NewSection().(*aws.Section); !ok {
		t.Errorf("NewSection returns %T", aws.Vendor.NewSection())
	}
}

// TestSectionYAML checks the section's keys: those of the aws section of
// offboard.yaml.
func TestSectionYAML(t *testing.T) {
	t.Parallel()
	const doc = `
region: eu-west-1
endpoint: http://127.0.0.1:9000
accounts:
  - id: "111111111111"
  - id: "222222222222"
    roleArn: arn:aws:iam::222222222222:role/OffboardingRole
accessKeyId: AKIAOFFBOARDEMULATOR
secretAccessKey: s3cret
secretAccessKeyFile: /run/secrets/aws
identityStoreId: d-9067000001
instanceArn: arn:aws:sso:::instance/ssoins-7223000000000001
identityCenterRegion: eu-central-1
killSwitchPermissionSets: [AdministratorAccess]
`
	var s aws.Section
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	want := aws.Section{
		Region: "eu-west-1", Endpoint: "http://127.0.0.1:9000",
		Accounts:    []aws.Account{{ID: prod}, {ID: staging, RoleARN: roleB}},
		AccessKeyID: "AKIAOFFBOARDEMULATOR", SecretAccessKey: "s3cret", SecretAccessKeyFile: "/run/secrets/aws",
		IdentityStoreID: storeID, InstanceARN: inst, IdentityCenterRegion: "eu-central-1",
		KillSwitchPermissionSets: []string{"AdministratorAccess"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("decoded\n %+v\nwant\n %+v", s, want)
	}
	dec = yaml.NewDecoder(strings.NewReader("accounts: []\nsecretKey: x\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&aws.Section{}); err == nil {
		t.Error("an unknown key decoded")
	}
}

func TestSectionFromEnv(t *testing.T) {
	t.Parallel()
	connectorstest.CheckSecretFromEnv(t, connectorstest.SecretFromEnv[aws.Section]{
		Env: aws.EnvSecretAccessKey, What: "aws secret access key",
		Set: func(s *aws.Section, inline config.Secret, file string) {
			s.SecretAccessKey, s.SecretAccessKeyFile = inline, file
		},
		Get: func(s *aws.Section) config.Secret { return s.SecretAccessKey },
	})
}

func TestSectionValidate(t *testing.T) {
	t.Parallel()
	ok := aws.Section{Accounts: []aws.Account{{ID: prod}}}
	with := func(f func(*aws.Section)) aws.Section {
		s := ok
		f(&s)
		return s
	}
	cases := map[string]connectorstest.ValidateCase[aws.Section]{
		"one account":         {S: ok},
		"static credentials":  {S: with(func(s *aws.Section) { s.AccessKeyID, s.SecretAccessKey = "AKIAOFFBOARDEMULATOR", "x" })},
		"identity center":     {S: with(func(s *aws.Section) { s.IdentityStoreID, s.InstanceARN = storeID, inst })},
		"endpoint":            {S: with(func(s *aws.Section) { s.Endpoint = "http://127.0.0.1:9000" })},
		"no account":          {S: aws.Section{}, Want: []string{"aws.accounts lists no account"}},
		"relative endpoint":   {S: with(func(s *aws.Section) { s.Endpoint = "localhost:9000/x" }), Want: []string{"aws.endpoint must be an absolute URL"}},
		"key without secret":  {S: with(func(s *aws.Section) { s.AccessKeyID = "AKIAOFFBOARDEMULATOR" }), Want: []string{"aws static credentials need both accessKeyId and the secret (OFFBOARD_AWS_SECRET_ACCESS_KEY or aws.secretAccessKeyFile), or neither"}},
		"secret without key":  {S: with(func(s *aws.Section) { s.SecretAccessKey = "x" }), Want: []string{"aws static credentials need both"}},
		"store without arn":   {S: with(func(s *aws.Section) { s.IdentityStoreID = storeID }), Want: []string{"aws Identity Center needs both identityStoreId and instanceArn, or neither"}},
		"arn without store":   {S: with(func(s *aws.Section) { s.InstanceARN = inst }), Want: []string{"aws Identity Center needs both identityStoreId and instanceArn, or neither"}},
		"every error at once": {S: aws.Section{Endpoint: "x", AccessKeyID: "A", InstanceARN: inst}, Want: []string{"aws.accounts", "aws.endpoint", "aws static credentials", "aws Identity Center"}},
	}
	connectorstest.CheckValidate(t, cases)
}

func TestSectionConnector(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	s := aws.Section{
		Endpoint: f.ts.URL, Accounts: f.cfg.Accounts,
		AccessKeyID: awsemu.DefaultAccessKeyID, SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey),
		IdentityStoreID: storeID, InstanceARN: inst,
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c, ok := conn.(*aws.Client)
	if !ok || c.Name() != "aws" {
		t.Fatalf("connector %T", conn)
	}
	a, err := c.Resolve(t.Context(), person(t, "E1001"))
	if err != nil {
		t.Fatal(err)
	}
	if steps, err := c.Plan(t.Context(), a); err != nil || len(steps) != 13 {
		t.Errorf("plan: %d steps, %v", len(steps), err)
	}
	// What New refuses, Connector refuses, as an InvalidInput error.
	bad := s
	bad.Region = "mars"
	_, err = bad.Connector(t.Context())
	connErr(t, err, connectors.InvalidInput)
	// The secret never shows in the section's printed form.
	if strings.Contains(sprint(s), awsemu.DefaultSecretAccessKey) {
		t.Error("the section prints its secret")
	}
}

func sprint(v any) string {
	var b bytes.Buffer
	_ = yaml.NewEncoder(&b).Encode(v)
	return b.String()
}
