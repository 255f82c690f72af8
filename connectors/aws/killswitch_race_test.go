package aws_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/emulators/seed"
)

// leavers is the demo with n more Identity Center users, each assigned
// both permission sets, and their user IDs.
func leavers(t *testing.T, n int) (*seed.Org, []string) {
	t.Helper()
	org := demo(t)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("90672000-aaaa-4bbb-8ccc-%012d", i)
		ids = append(ids, id)
		org.People = append(org.People, seed.Person{EmployeeID: fmt.Sprintf("E7%03d", i), FirstName: "L", LastName: fmt.Sprint(i),
			Email: fmt.Sprintf("leaver%d@example.com", i),
			AWS: &seed.AWSUser{IdentityCenter: &seed.IdentityCenterUser{UserID: id, UserName: fmt.Sprintf("leaver%d@example.com", i),
				Assignments: []seed.Assignment{{Account: prod, PermissionSet: "AdministratorAccess"}, {Account: staging, PermissionSet: "ReadOnlyAccess"}}}}})
	}
	return org, ids
}

func (f *fixture) count(path string) int {
	n := 0
	for _, p := range f.paths() {
		if p == path {
			n++
		}
	}
	return n
}

// ApplyShared denies 50 users in one permission set with one policy write
// and one provisioning; a later batch prunes the users who have no
// assignment left, and keeps the others.
func TestApplySharedBatch(t *testing.T) {
	org, ids := leavers(t, 50)
	f := setup(t, options{org: org})
	ps, ok := f.emu.PermissionSet("AdministratorAccess")
	if !ok {
		t.Fatal("no AdministratorAccess")
	}
	res, err := f.c.ApplyShared(t.Context(), ps.ARN, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("/sso/PutInlinePolicyToPermissionSet"); n != 1 {
		t.Errorf("%d policy writes for one batch, want 1", n)
	}
	if n := f.count("/sso/ProvisionPermissionSet"); n != 1 {
		t.Errorf("%d provisionings for one batch, want 1", n)
	}
	after, _ := f.emu.PermissionSet("AdministratorAccess")
	for _, id := range ids {
		if !strings.Contains(after.InlinePolicy, id) {
			t.Fatalf("%s is not in the policy", id)
		}
	}
	if len(after.NotProvisioned) != 0 || len(res.Records) == 0 {
		t.Errorf("not provisioned in %v; records %q", after.NotProvisioned, res.Records)
	}

	// Ten leave their assignments behind (their cases removed them).
	for _, id := range ids[:10] {
		a := connectors.Account{System: "aws", ID: id, Attributes: map[string]string{aws.AttrSSOUserID: id}}
		if _, err := f.c.Run(t.Context(), a, connectors.Step{ID: "aws.sso-remove-assignments/" + id, System: "aws", Action: aws.ActionSSORemoveAssignments, Scope: id}); err != nil {
			t.Fatal(err)
		}
	}
	prune := slices.Clone(ids[:15])
	res, err = f.c.ApplyShared(t.Context(), ps.ARN, []string{ids[49]}, prune)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Pruned, ids[:10]) {
		t.Errorf("pruned %q, want the 10 without assignments", res.Pruned)
	}
	after, _ = f.emu.PermissionSet("AdministratorAccess")
	for i, id := range ids {
		if in := strings.Contains(after.InlinePolicy, id); in != (i >= 10) {
			t.Errorf("user %d in the policy: %v", i, in)
		}
	}
	if _, err := f.c.ApplyShared(t.Context(), "not-an-arn", ids, nil); err == nil {
		t.Error("a bad ARN was applied")
	}
}
