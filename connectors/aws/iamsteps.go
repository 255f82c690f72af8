package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/offboard/offboard/connectors"
)

// maxPages bounds every pagination loop.
const maxPages = 1000

// all collects every page of a list.
func all[T any](ctx context.Context, op string, more func() bool, next func(context.Context) ([]T, error)) ([]T, error) {
	var out []T
	for n := 0; more(); n++ {
		if n >= maxPages {
			return nil, unavailable(op, "pagination did not end after %d pages", maxPages)
		}
		items, err := next(ctx)
		if err != nil {
			return nil, apiError(op, err)
		}
		out = append(out, items...)
	}
	return out, nil
}

func listAccessKeys(ctx context.Context, api *iam.Client, user string) ([]types.AccessKeyMetadata, error) {
	p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: sdkaws.String(user)})
	return all(ctx, "list access keys", p.HasMorePages, func(ctx context.Context) ([]types.AccessKeyMetadata, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AccessKeyMetadata, nil
	})
}

func listMFADevices(ctx context.Context, api *iam.Client, user string) ([]types.MFADevice, error) {
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list MFA devices", p.HasMorePages, func(ctx context.Context) ([]types.MFADevice, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.MFADevices, nil
	})
}

func listSSHKeys(ctx context.Context, api *iam.Client, user string) ([]types.SSHPublicKeyMetadata, error) {
	p := iam.NewListSSHPublicKeysPaginator(api, &iam.ListSSHPublicKeysInput{UserName: sdkaws.String(user)})
	return all(ctx, "list SSH public keys", p.HasMorePages, func(ctx context.Context) ([]types.SSHPublicKeyMetadata, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.SSHPublicKeys, nil
	})
}

// listServiceCreds has no SDK paginator; it follows Marker itself.
func listServiceCreds(ctx context.Context, api *iam.Client, user string) ([]types.ServiceSpecificCredentialMetadata, error) {
	var marker *string
	done := false
	return all(ctx, "list service-specific credentials", func() bool { return !done }, func(ctx context.Context) ([]types.ServiceSpecificCredentialMetadata, error) {
		o, err := api.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: sdkaws.String(user), Marker: marker})
		if err != nil {
			return nil, err
		}
		if o.IsTruncated && sdkaws.ToString(o.Marker) != "" && sdkaws.ToString(o.Marker) != sdkaws.ToString(marker) {
			marker = o.Marker
		} else {
			done = true
		}
		return o.ServiceSpecificCredentials, nil
	})
}

func listSigningCerts(ctx context.Context, api *iam.Client, user string) ([]types.SigningCertificate, error) {
	p := iam.NewListSigningCertificatesPaginator(api, &iam.ListSigningCertificatesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list signing certificates", p.HasMorePages, func(ctx context.Context) ([]types.SigningCertificate, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.Certificates, nil
	})
}

func listGroups(ctx context.Context, api *iam.Client, user string) ([]types.Group, error) {
	p := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: sdkaws.String(user)})
	return all(ctx, "list groups", p.HasMorePages, func(ctx context.Context) ([]types.Group, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.Groups, nil
	})
}

func listAttached(ctx context.Context, api *iam.Client, user string) ([]types.AttachedPolicy, error) {
	p := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list attached policies", p.HasMorePages, func(ctx context.Context) ([]types.AttachedPolicy, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AttachedPolicies, nil
	})
}

func listInline(ctx context.Context, api *iam.Client, user string) ([]string, error) {
	p := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list inline policies", p.HasMorePages, func(ctx context.Context) ([]string, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.PolicyNames, nil
	})
}

// hasLoginProfile reports whether the user has a console password.
func hasLoginProfile(ctx context.Context, api *iam.Client, user string) (bool, time.Time, error) {
	out, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: sdkaws.String(user)})
	if err != nil {
		err = apiError("get login profile", err)
		if connectors.IsNotFound(err) {
			return false, time.Time{}, nil
		}
		return false, time.Time{}, err
	}
	var created time.Time
	if out.LoginProfile != nil && out.LoginProfile.CreateDate != nil {
		created = *out.LoginProfile.CreateDate
	}
	return true, created, nil
}

// revokePolicy is the deny the revoke-sessions step puts, as AWS's console
// writes its AWSRevokeOlderSessions policy.
type revokePolicy struct {
	Version   string
	Statement []revokeStatement
}

type revokeStatement struct {
	Sid       string `json:",omitempty"`
	Effect    string
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func revokeDocument(cutoff time.Time) string {
	doc := revokePolicy{Version: "2012-10-17", Statement: []revokeStatement{{
		Sid:       RevokePolicyName,
		Effect:    "Deny",
		Action:    []string{"*"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{"DateLessThan": {"aws:TokenIssueTime": cutoff.UTC().Format("2006-01-02T15:04:05Z")}},
	}}}
	b, _ := json.Marshal(doc)
	return string(b)
}

// revokeCutoff returns the TokenIssueTime cut-off of a revoke policy
// document, and whether the document is a deny of everything issued before
// it.
func revokeCutoff(doc string) (time.Time, bool) {
	var raw struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &raw) != nil {
		return time.Time{}, false
	}
	for _, st := range statements(raw.Statement) {
		var s struct {
			Effect    string
			Action    json.RawMessage
			Resource  json.RawMessage
			Condition map[string]map[string]json.RawMessage
		}
		if json.Unmarshal(st, &s) != nil || s.Effect != "Deny" || !isStar(s.Action) || !isStar(s.Resource) {
			continue
		}
		for op, kv := range s.Condition {
			if op != "DateLessThan" {
				continue
			}
			for k, v := range kv {
				if !strings.EqualFold(k, "aws:TokenIssueTime") {
					continue
				}
				var ts string
				if json.Unmarshal(v, &ts) != nil {
					var list []string
					if json.Unmarshal(v, &list) != nil || len(list) != 1 {
						continue
					}
					ts = list[0]
				}
				if t, err := time.Parse(time.RFC3339, ts); err == nil {
					return t, true
				}
			}
		}
	}
	return time.Time{}, false
}

// getRevokePolicy reads the user's revoke policy: its cut-off, and whether
// it is present and well-formed.
func getRevokePolicy(ctx context.Context, api *iam.Client, user string) (time.Time, bool, error) {
	out, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: sdkaws.String(user), PolicyName: sdkaws.String(RevokePolicyName)})
	if err != nil {
		err = apiError("get inline policy", err)
		if connectors.IsNotFound(err) {
			return time.Time{}, false, nil
		}
		return time.Time{}, false, err
	}
	// IAM returns policy documents URL-encoded.
	doc, uerr := url.PathUnescape(sdkaws.ToString(out.PolicyDocument))
	if uerr != nil {
		doc = sdkaws.ToString(out.PolicyDocument)
	}
	t, ok := revokeCutoff(doc)
	return t, ok, nil
}

// userGone reports whether err says the IAM user does not exist.
func userGone(err error) bool { return connectors.IsNotFound(err) }

func isVirtualMFA(serial string) bool {
	return strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/")
}

func ts(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// planIAM lists the steps for one IAM user, with what each would act on.
// The user's name is hidden in the targets and errors (see iamRef.hide).
func (c *Client) planIAM(ctx context.Context, ref iamRef) ([]connectors.Step, error) {
	steps, err := c.planIAMUser(ctx, ref)
	if err != nil {
		return nil, ref.hideErr(err)
	}
	for i := range steps {
		steps[i].Targets = ref.hideAll(steps[i].Targets)
	}
	return steps, nil
}

func (c *Client) planIAMUser(ctx context.Context, ref iamRef) ([]connectors.Step, error) {
	scope := ref.Scope()
	ac, err := c.account(ctx, ref.Account)
	if err != nil {
		return nil, err
	}
	api, user := ac.iam, ref.Name
	keys, err := listAccessKeys(ctx, api, user)
	if userGone(err) {
		steps := make([]connectors.Step, 0, len(IAMActions))
		for _, a := range IAMActions {
			steps = append(steps, newStep(a, scope, "The IAM user no longer exists; nothing to do", nil))
		}
		return steps, nil
	}
	if err != nil {
		return nil, err
	}
	login, _, err := hasLoginProfile(ctx, api, user)
	if err != nil {
		return nil, err
	}
	mfa, err := listMFADevices(ctx, api, user)
	if err != nil {
		return nil, err
	}
	ssh, err := listSSHKeys(ctx, api, user)
	if err != nil {
		return nil, err
	}
	svc, err := listServiceCreds(ctx, api, user)
	if err != nil {
		return nil, err
	}
	certs, err := listSigningCerts(ctx, api, user)
	if err != nil {
		return nil, err
	}
	groups, err := listGroups(ctx, api, user)
	if err != nil {
		return nil, err
	}
	attached, err := listAttached(ctx, api, user)
	if err != nil {
		return nil, err
	}
	inline, err := listInline(ctx, api, user)
	if err != nil {
		return nil, err
	}

	var keyIDs, active []string
	for _, k := range keys {
		keyIDs = append(keyIDs, sdkaws.ToString(k.AccessKeyId))
		if k.Status == types.StatusTypeActive {
			active = append(active, sdkaws.ToString(k.AccessKeyId))
		}
	}
	var serials, sshIDs, svcIDs, certIDs, groupNames, policies []string
	for _, d := range mfa {
		serials = append(serials, sdkaws.ToString(d.SerialNumber))
	}
	for _, k := range ssh {
		sshIDs = append(sshIDs, sdkaws.ToString(k.SSHPublicKeyId))
	}
	for _, k := range svc {
		svcIDs = append(svcIDs, sdkaws.ToString(k.ServiceSpecificCredentialId))
	}
	for _, k := range certs {
		certIDs = append(certIDs, sdkaws.ToString(k.CertificateId))
	}
	for _, g := range groups {
		groupNames = append(groupNames, sdkaws.ToString(g.GroupName))
	}
	for _, p := range attached {
		policies = append(policies, sdkaws.ToString(p.PolicyArn))
	}
	for _, n := range inline {
		if n != RevokePolicyName {
			policies = append(policies, "inline:"+n)
		}
	}
	revokeDesc := "Deny every request made with temporary credentials issued before now (inline policy " + RevokePolicyName + " on aws:TokenIssueTime)"
	if slices.Contains(inline, RevokePolicyName) {
		revokeDesc = "The inline policy " + RevokePolicyName + " is already in place"
	}
	loginDesc := "Delete the console password"
	if !login {
		loginDesc = "The IAM user has no console password"
	}
	return []connectors.Step{
		newStep(ActionDeactivateAccessKeys, scope, fmt.Sprintf("Record %s with their last use, then deactivate %d active", connectors.Plural(len(keys), "access key", "access keys"), len(active)), keyIDs),
		newStep(ActionRevokeSessions, scope, revokeDesc, nil),
		newStep(ActionDeleteLoginProfile, scope, loginDesc, nil),
		newStep(ActionRemoveMFA, scope, "Deactivate (and delete, when virtual) "+connectors.Plural(len(serials), "MFA device", "MFA devices"), serials),
		newStep(ActionDeleteSSHKeys, scope, "Delete "+connectors.Plural(len(sshIDs), "SSH public key", "SSH public keys"), sshIDs),
		newStep(ActionDeleteServiceCreds, scope, "Delete "+connectors.Plural(len(svcIDs), "service-specific credential", "service-specific credentials"), svcIDs),
		newStep(ActionDeleteSigningCerts, scope, "Delete "+connectors.Plural(len(certIDs), "signing certificate", "signing certificates"), certIDs),
		newStep(ActionDeleteAccessKeys, scope, "Delete "+connectors.Plural(len(keyIDs), "access key", "access keys")+" (their IDs are recorded first)", keyIDs),
		newStep(ActionRemoveGroups, scope, "Remove the user from "+connectors.Plural(len(groupNames), "IAM group", "IAM groups"), groupNames),
		newStep(ActionDetachPolicies, scope, "Detach "+connectors.Plural(len(policies), "policy", "policies")+" (managed and inline), keeping "+RevokePolicyName, policies),
	}, nil
}

// outcome is done when something changed, else already.
func outcome(changed bool, records []string) (connectors.Outcome, error) {
	if changed {
		return connectors.Done(records...)
	}
	return connectors.Already(records...)
}

// removed runs one removal: a NotFound answer means it was already gone.
func removed(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	err = apiError(op, err)
	if connectors.IsNotFound(err) {
		return true, nil
	}
	return false, err
}

var userMissing = []string{"the IAM user does not exist"}

// runIAM runs one IAM user step. The user's name is hidden in the records
// and errors (see iamRef.hide).
func (c *Client) runIAM(ctx context.Context, action string, ref iamRef) (connectors.Outcome, error) {
	out, err := c.runIAMUser(ctx, action, ref)
	if err != nil {
		return connectors.Outcome{}, ref.hideErr(err)
	}
	out.Records = ref.hideAll(out.Records)
	return out, nil
}

func (c *Client) runIAMUser(ctx context.Context, action string, ref iamRef) (connectors.Outcome, error) {
	ac, err := c.account(ctx, ref.Account)
	if err != nil {
		return connectors.Outcome{}, err
	}
	api, user := ac.iam, ref.Name
	u := sdkaws.String(user)
	switch action {
	case ActionDeactivateAccessKeys:
		keys, err := listAccessKeys(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		// Record every key and its last use before anything changes: the
		// IDs are what CloudTrail and the watch look for later.
		var recs []string
		for _, k := range keys {
			id := sdkaws.ToString(k.AccessKeyId)
			lu, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
			last := "last used: unknown"
			switch {
			case err == nil && lu.AccessKeyLastUsed != nil:
				l := lu.AccessKeyLastUsed
				last = fmt.Sprintf("last used %s (service %s, region %s)", ts(l.LastUsedDate), sdkaws.ToString(l.ServiceName), sdkaws.ToString(l.Region))
			case err != nil:
				if err = apiError("get access key last used", err); !connectors.IsNotFound(err) {
					return connectors.Outcome{}, err
				}
			}
			recs = append(recs, fmt.Sprintf("key %s %s, created %s, %s", id, k.Status, ts(k.CreateDate), last))
		}
		changed := false
		for _, k := range keys {
			if k.Status != types.StatusTypeActive {
				continue
			}
			_, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: u, AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive})
			gone, err := removed("deactivate access key", err)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if gone {
				recs = append(recs, "key "+sdkaws.ToString(k.AccessKeyId)+" was deleted meanwhile")
				continue
			}
			changed = true
			recs = append(recs, "deactivated key "+sdkaws.ToString(k.AccessKeyId))
		}
		return outcome(changed, recs)

	case ActionRevokeSessions:
		cutoff, ok, err := getRevokePolicy(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		if ok {
			return connectors.Already("sessions issued before " + cutoff.UTC().Format(time.RFC3339) + " are denied")
		}
		// The cut-off is the next whole second, so a token issued in the
		// same second as the revocation is denied too (aws:TokenIssueTime
		// has second precision and DateLessThan is strict).
		now := c.opts.now().UTC().Truncate(time.Second).Add(time.Second)
		_, err = api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u, PolicyName: sdkaws.String(RevokePolicyName), PolicyDocument: sdkaws.String(revokeDocument(now))})
		if err != nil {
			err = apiError("put inline policy", err)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			return connectors.Outcome{}, err
		}
		return connectors.Done("denied sessions issued before " + now.Format(time.RFC3339) + " (policy " + RevokePolicyName + ")")

	case ActionDeleteLoginProfile:
		has, created, err := hasLoginProfile(ctx, api, user)
		if err != nil {
			return connectors.Outcome{}, err
		}
		if !has {
			return connectors.Already()
		}
		_, err = api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u})
		gone, err := removed("delete login profile", err)
		if err != nil {
			return connectors.Outcome{}, err
		}
		if gone {
			return connectors.Already("the console password was deleted meanwhile")
		}
		return connectors.Done("deleted the console password (created " + created.UTC().Format(time.RFC3339) + ")")

	case ActionRemoveMFA:
		devs, err := listMFADevices(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		var recs []string
		changed := false
		for _, d := range devs {
			serial := sdkaws.ToString(d.SerialNumber)
			recs = append(recs, fmt.Sprintf("MFA device %s enabled %s", serial, ts(d.EnableDate)))
			_, err := api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: d.SerialNumber})
			gone, err := removed("deactivate MFA device", err)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if !gone {
				changed = true
				recs = append(recs, "deactivated MFA device "+serial)
			}
			if !isVirtualMFA(serial) {
				continue
			}
			_, err = api.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: d.SerialNumber})
			gone, err = removed("delete virtual MFA device", err)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if !gone {
				changed = true
				recs = append(recs, "deleted virtual MFA device "+serial)
			}
		}
		return outcome(changed, recs)

	case ActionDeleteSSHKeys:
		keys, err := listSSHKeys(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		return deleteEach(keys, func(k types.SSHPublicKeyMetadata) string { return sdkaws.ToString(k.SSHPublicKeyId) }, "SSH key",
			func(k types.SSHPublicKeyMetadata) error {
				_, err := api.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: k.SSHPublicKeyId})
				return err
			}, "delete SSH public key")

	case ActionDeleteServiceCreds:
		creds, err := listServiceCreds(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		return deleteEach(creds, func(k types.ServiceSpecificCredentialMetadata) string {
			return sdkaws.ToString(k.ServiceSpecificCredentialId) + " (" + sdkaws.ToString(k.ServiceName) + ")"
		}, "service-specific credential", func(k types.ServiceSpecificCredentialMetadata) error {
			_, err := api.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: k.ServiceSpecificCredentialId})
			return err
		}, "delete service-specific credential")

	case ActionDeleteSigningCerts:
		certs, err := listSigningCerts(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		return deleteEach(certs, func(k types.SigningCertificate) string { return sdkaws.ToString(k.CertificateId) }, "signing certificate",
			func(k types.SigningCertificate) error {
				_, err := api.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: k.CertificateId})
				return err
			}, "delete signing certificate")

	case ActionDeleteAccessKeys:
		keys, err := listAccessKeys(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		return deleteEach(keys, func(k types.AccessKeyMetadata) string {
			return sdkaws.ToString(k.AccessKeyId) + " (" + string(k.Status) + ", created " + ts(k.CreateDate) + ")"
		}, "access key", func(k types.AccessKeyMetadata) error {
			_, err := api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: k.AccessKeyId})
			return err
		}, "delete access key")

	case ActionRemoveGroups:
		groups, err := listGroups(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		return deleteEach(groups, func(g types.Group) string { return sdkaws.ToString(g.GroupName) }, "group membership",
			func(g types.Group) error {
				_, err := api.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: g.GroupName})
				return err
			}, "remove from group")

	case ActionDetachPolicies:
		attached, err := listAttached(ctx, api, user)
		if userGone(err) {
			return connectors.Already(userMissing...)
		}
		if err != nil {
			return connectors.Outcome{}, err
		}
		inline, err := listInline(ctx, api, user)
		if err != nil {
			return connectors.Outcome{}, err
		}
		out1, err := deleteEach(attached, func(p types.AttachedPolicy) string { return sdkaws.ToString(p.PolicyArn) }, "managed policy",
			func(p types.AttachedPolicy) error {
				_, err := api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u, PolicyArn: p.PolicyArn})
				return err
			}, "detach policy")
		if err != nil {
			return connectors.Outcome{}, err
		}
		inline = slices.DeleteFunc(inline, func(n string) bool { return n == RevokePolicyName })
		out2, err := deleteEach(inline, func(n string) string { return n }, "inline policy",
			func(n string) error {
				_, err := api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u, PolicyName: sdkaws.String(n)})
				return err
			}, "delete inline policy")
		if err != nil {
			return connectors.Outcome{}, err
		}
		recs := append(out1.Records, out2.Records...)
		return outcome(out1.Result == connectors.ResultDone || out2.Result == connectors.ResultDone, recs)
	}
	return connectors.Outcome{}, invalid("run", "unknown action %q", action)
}

// deleteEach records every item, then removes each; NotFound counts as
// already removed.
func deleteEach[T any](items []T, name func(T) string, what string, remove func(T) error, op string) (connectors.Outcome, error) {
	recs := make([]string, 0, 2*len(items))
	for _, it := range items {
		recs = append(recs, what+" "+name(it))
	}
	changed := false
	for _, it := range items {
		gone, err := removed(op, remove(it))
		if err != nil {
			return connectors.Outcome{}, err
		}
		if gone {
			recs = append(recs, what+" "+name(it)+" was already gone")
			continue
		}
		changed = true
		recs = append(recs, "removed "+what+" "+name(it))
	}
	return outcome(changed, recs)
}

// verifyIAM re-reads one IAM user and reports what of the step's desired
// state does not hold. A user that no longer exists holds nothing. The
// user's name is hidden in the errors (see iamRef.hide).
func (c *Client) verifyIAM(ctx context.Context, op, action string, ref iamRef) error {
	return ref.hideErr(c.verifyIAMUser(ctx, op, action, ref))
}

func (c *Client) verifyIAMUser(ctx context.Context, op, action string, ref iamRef) error {
	ac, err := c.account(ctx, ref.Account)
	if err != nil {
		return err
	}
	api, user := ac.iam, ref.Name
	gone := func(err error) bool { return userGone(err) }
	switch action {
	case ActionDeactivateAccessKeys:
		keys, err := listAccessKeys(ctx, api, user)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		var active []string
		for _, k := range keys {
			if k.Status == types.StatusTypeActive {
				active = append(active, sdkaws.ToString(k.AccessKeyId))
			}
		}
		if len(active) > 0 {
			return conflict(op, "%s still active: %s", connectors.Plural(len(active), "access key", "access keys"), strings.Join(active, ", "))
		}
	case ActionRevokeSessions:
		_, ok, err := getRevokePolicy(ctx, api, user)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !ok {
			return conflict(op, "the inline policy %s is missing or does not deny sessions by aws:TokenIssueTime", RevokePolicyName)
		}
	case ActionDeleteLoginProfile:
		has, _, err := hasLoginProfile(ctx, api, user)
		if err != nil {
			return err
		}
		if has {
			return conflict(op, "the user still has a console password")
		}
	case ActionRemoveMFA:
		devs, err := listMFADevices(ctx, api, user)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(devs) > 0 {
			return conflict(op, "%s still assigned", connectors.Plural(len(devs), "MFA device", "MFA devices"))
		}
	case ActionDeleteSSHKeys:
		keys, err := listSSHKeys(ctx, api, user)
		return remains(op, keys, err, "SSH public key", "SSH public keys")
	case ActionDeleteServiceCreds:
		creds, err := listServiceCreds(ctx, api, user)
		return remains(op, creds, err, "service-specific credential", "service-specific credentials")
	case ActionDeleteSigningCerts:
		certs, err := listSigningCerts(ctx, api, user)
		return remains(op, certs, err, "signing certificate", "signing certificates")
	case ActionDeleteAccessKeys:
		keys, err := listAccessKeys(ctx, api, user)
		return remains(op, keys, err, "access key", "access keys")
	case ActionRemoveGroups:
		groups, err := listGroups(ctx, api, user)
		return remains(op, groups, err, "group membership", "group memberships")
	case ActionDetachPolicies:
		attached, err := listAttached(ctx, api, user)
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		inline, err := listInline(ctx, api, user)
		if err != nil {
			return err
		}
		inline = slices.DeleteFunc(inline, func(n string) bool { return n == RevokePolicyName })
		if n := len(attached) + len(inline); n > 0 {
			return conflict(op, "%s still on the user", connectors.Plural(n, "policy", "policies"))
		}
	default:
		return invalid(op, "unknown action %q", action)
	}
	return nil
}

func remains[T any](op string, items []T, err error, one, many string) error {
	if userGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(items) > 0 {
		return conflict(op, "%s remain", connectors.Plural(len(items), one, many))
	}
	return nil
}
