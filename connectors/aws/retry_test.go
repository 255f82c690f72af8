package aws

import "testing"

// TestReadsRetryOnlyReads: the operations the connector calls, sorted into
// reads (retried inside the call) and writes (tried once).
func TestReadsRetryOnlyReads(t *testing.T) {
	reads := []string{
		"ListUsers", "ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed", "GetLoginProfile", "GetUserPolicy",
		"ListMFADevices", "ListSSHPublicKeys", "ListServiceSpecificCredentials", "ListSigningCertificates",
		"ListGroupsForUser", "ListAttachedUserPolicies", "ListUserPolicies", "GetUser",
		"GetUserId", "DescribeUser", "ListGroupMemberships", "ListGroupMembershipsForMember",
		"ListAccountAssignmentsForPrincipal", "DescribeAccountAssignmentDeletionStatus", "ListPermissionSets",
		"DescribePermissionSet", "GetInlinePolicyForPermissionSet", "ListAccountsForProvisionedPermissionSet",
		"DescribePermissionSetProvisioningStatus", "LookupEvents", "GetCallerIdentity", "AssumeRole",
	}
	writes := []string{
		"UpdateAccessKey", "PutUserPolicy", "DeleteLoginProfile", "DeactivateMFADevice", "DeleteVirtualMFADevice",
		"DeleteSSHPublicKey", "DeleteServiceSpecificCredential", "DeleteSigningCertificate", "DeleteAccessKey",
		"RemoveUserFromGroup", "DetachUserPolicy", "DeleteUserPolicy", "DeleteGroupMembership",
		"DeleteAccountAssignment", "PutInlinePolicyToPermissionSet", "ProvisionPermissionSet", "CreateUser",
		"Lister", "Getaway", "Get", "List", "",
	}
	for _, op := range reads {
		if !isRead(op) {
			t.Errorf("%s is a read", op)
		}
	}
	for _, op := range writes {
		if isRead(op) {
			t.Errorf("%q is not a read", op)
		}
	}
}
