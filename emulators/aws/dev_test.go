package aws_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/offboard/offboard/connectors"
	awsconn "github.com/offboard/offboard/connectors/aws"
	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emutest"
)

// TestDevSection checks the section `offboard dev` writes for the emulator:
// what the dev config said before sections (the first account with the
// emulator's keys, the others through OffboardingRole, the seed's Identity
// Center), with the secret in a file, and that its connector plans a demo
// person against the emulator.
func TestDevSection(t *testing.T) {
	t.Parallel()
	org := demo(t)
	dev := awsemu.Dev(org)
	ds := emutest.DevSection(t, dev)
	ts, dir, written, sec := ds.Server, ds.Dir, ds.Secrets, ds.Section
	s, ok := sec.(*awsconn.Section)
	if !ok {
		t.Fatalf("section %T", sec)
	}
	if s.Endpoint != ts.URL || s.AccessKeyID != awsemu.DefaultAccessKeyID || s.SecretAccessKey != "" ||
		s.SecretAccessKeyFile != filepath.Join(dir, "aws-secret-access-key") || written["aws-secret-access-key"] != awsemu.DefaultSecretAccessKey {
		t.Errorf("section %+v, secrets %v", s, written)
	}
	if s.IdentityStoreID != org.AWS.IdentityStoreID || s.InstanceARN != org.AWS.InstanceARN || s.IdentityStoreID == "" {
		t.Errorf("Identity Center %s %s, want the seed's %s %s", s.IdentityStoreID, s.InstanceARN, org.AWS.IdentityStoreID, org.AWS.InstanceARN)
	}
	var want []awsconn.Account
	for i, a := range org.AWS.Accounts {
		acct := awsconn.Account{ID: a.ID}
		if i > 0 {
			acct.RoleARN = "arn:aws:iam::" + a.ID + ":role/OffboardingRole"
		}
		want = append(want, acct)
	}
	if len(want) < 2 || !slices.Equal(s.Accounts, want) {
		t.Errorf("accounts %+v, want %+v", s.Accounts, want)
	}

	if _, err := s.FromEnv(func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Connector(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*awsconn.Client)
	p, _ := org.Person("E1001")
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: p.Email})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := c.Plan(t.Context(), a)
	if err != nil || len(steps) != len(awsconn.IAMActions)+len(awsconn.SSOActions) {
		t.Fatalf("plan: %d steps, %v", len(steps), err)
	}
	// Resolving searched every account, the others through the role.
	var assumed bool
	for _, r := range dev.Emulator().Requests() {
		assumed = assumed || r.Path == "/sts/AssumeRole"
	}
	if !assumed {
		t.Error("no account was reached through AssumeRole")
	}
}
