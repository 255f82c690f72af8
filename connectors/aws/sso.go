package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/offboard/offboard/connectors"
)

func (c *Client) listMemberships(ctx context.Context, userID string) ([]istypes.GroupMembership, error) {
	p := identitystore.NewListGroupMembershipsForMemberPaginator(c.ids, &identitystore.ListGroupMembershipsForMemberInput{
		IdentityStoreId: sdkaws.String(c.cfg.IdentityStoreID),
		MemberId:        &istypes.MemberIdMemberUserId{Value: userID},
	})
	return all(ctx, "list Identity Center group memberships", p.HasMorePages, func(ctx context.Context) ([]istypes.GroupMembership, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.GroupMemberships, nil
	})
}

func (c *Client) listAssignments(ctx context.Context, userID string) ([]ssotypes.AccountAssignmentForPrincipal, error) {
	p := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(c.sso, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn:   sdkaws.String(c.cfg.InstanceARN),
		PrincipalId:   sdkaws.String(userID),
		PrincipalType: ssotypes.PrincipalTypeUser,
	})
	return all(ctx, "list account assignments", p.HasMorePages, func(ctx context.Context) ([]ssotypes.AccountAssignmentForPrincipal, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AccountAssignments, nil
	})
}

func (c *Client) listPermissionSets(ctx context.Context) ([]string, error) {
	p := ssoadmin.NewListPermissionSetsPaginator(c.sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: sdkaws.String(c.cfg.InstanceARN)})
	return all(ctx, "list permission sets", p.HasMorePages, func(ctx context.Context) ([]string, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.PermissionSets, nil
	})
}

func (c *Client) accountsNotProvisioned(ctx context.Context, psARN string) ([]string, error) {
	p := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(c.sso, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
		InstanceArn:        sdkaws.String(c.cfg.InstanceARN),
		PermissionSetArn:   sdkaws.String(psARN),
		ProvisioningStatus: ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned,
	})
	return all(ctx, "list accounts for provisioned permission set", p.HasMorePages, func(ctx context.Context) ([]string, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AccountIds, nil
	})
}

// provisioningDone waits for the permission set's provisioning under way,
// if any, and reports whether one was and succeeded.
func (c *Client) provisioningDone(ctx context.Context, psARN string) (bool, error) {
	const op = "wait for permission set provisioning"
	inst := sdkaws.String(c.cfg.InstanceARN)
	p := ssoadmin.NewListPermissionSetProvisioningStatusPaginator(c.sso, &ssoadmin.ListPermissionSetProvisioningStatusInput{
		InstanceArn: inst, Filter: &ssotypes.OperationStatusFilter{Status: ssotypes.StatusValuesInProgress},
	})
	ids, err := all(ctx, "list permission set provisioning", p.HasMorePages, func(ctx context.Context) ([]string, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, m := range o.PermissionSetsProvisioningStatus {
			ids = append(ids, sdkaws.ToString(m.RequestId))
		}
		return ids, nil
	})
	if err != nil {
		return false, err
	}
	found := false
	for _, id := range ids {
		mine := false
		err := c.wait(ctx, op, func(ctx context.Context) (ssotypes.StatusValues, string, error) {
			out, err := c.sso.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
				InstanceArn: inst, ProvisionPermissionSetRequestId: sdkaws.String(id),
			})
			if err != nil {
				return "", "", apiError("describe permission set provisioning", err)
			}
			st := out.PermissionSetProvisioningStatus
			if sdkaws.ToString(st.PermissionSetArn) != psARN {
				return ssotypes.StatusValuesSucceeded, "", nil // another set's: not waited for
			}
			mine = true
			return st.Status, sdkaws.ToString(st.FailureReason), nil
		})
		if err != nil {
			return false, err
		}
		found = found || mine
	}
	return found, nil
}

// permissionSet is a kill-switch permission set.
type permissionSet struct {
	ARN  string
	Name string
}

func (p permissionSet) String() string {
	if p.Name == "" {
		return p.ARN
	}
	return p.Name + " (" + p.ARN + ")"
}

// killSets resolves the configured kill-switch permission sets (every
// permission set of the instance when none are configured). Names are
// looked up once and cached: a permission set's ARN never changes.
func (c *Client) killSets(ctx context.Context) ([]permissionSet, error) {
	const op = "find kill-switch permission sets"
	wanted := c.cfg.KillSwitchPermissionSets
	needNames := len(wanted) == 0
	for _, w := range wanted {
		if !strings.HasPrefix(w, "arn:") {
			needNames = true
		}
	}
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		names := c.psARNs
		c.mu.Unlock()
		if needNames && (len(names) == 0 || attempt > 0) {
			var err error
			if names, err = c.permissionSetNames(ctx); err != nil {
				return nil, err
			}
			c.mu.Lock()
			c.psARNs = names
			c.mu.Unlock()
		}
		byARN := map[string]string{}
		for n, a := range names {
			byARN[a] = n
		}
		var out []permissionSet
		if len(wanted) == 0 {
			for n, a := range names {
				out = append(out, permissionSet{ARN: a, Name: n})
			}
			sortSets(out)
			return out, nil
		}
		missing := ""
		for _, w := range wanted {
			if strings.HasPrefix(w, "arn:") {
				out = append(out, permissionSet{ARN: w, Name: byARN[w]})
				continue
			}
			arn, ok := names[w]
			if !ok {
				missing = w
				break
			}
			out = append(out, permissionSet{ARN: arn, Name: w})
		}
		if missing == "" {
			return out, nil
		}
		if attempt > 0 {
			return nil, connectors.InvalidInputf(System, op, "the kill-switch permission set %q does not exist in the instance", missing)
		}
		// The cached names may predate the permission set: look again.
	}
}

// permissionSetNames maps every permission set's name to its ARN.
func (c *Client) permissionSetNames(ctx context.Context) (map[string]string, error) {
	arns, err := c.listPermissionSets(ctx)
	if err != nil {
		return nil, err
	}
	got := make([]string, len(arns))
	err = connectors.Each(len(arns), func(i int) error {
		out, err := c.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: sdkaws.String(c.cfg.InstanceARN), PermissionSetArn: sdkaws.String(arns[i])})
		if err != nil {
			return apiError("describe permission set", err)
		}
		got[i] = sdkaws.ToString(out.PermissionSet.Name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for i, arn := range arns {
		names[got[i]] = arn
	}
	return names, nil
}

func sortSets(s []permissionSet) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Name < s[j-1].Name; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// wait polls an asynchronous Identity Center operation until it leaves
// IN_PROGRESS, within the poll timeout.
func (c *Client) wait(ctx context.Context, op string, status func(context.Context) (ssotypes.StatusValues, string, error)) error {
	deadline := time.Now().Add(c.opts.pollTimeout)
	for {
		st, reason, err := status(ctx)
		if err != nil {
			return err
		}
		switch st {
		case ssotypes.StatusValuesSucceeded:
			return nil
		case ssotypes.StatusValuesFailed:
			return connectors.Unavailablef(System, op, "AWS reports the request FAILED: %s", connectors.Scrub(reason))
		}
		if !time.Now().Before(deadline) {
			return connectors.Unavailablef(System, op, "still IN_PROGRESS after %s; run the step again to keep waiting", c.opts.pollTimeout)
		}
		t := time.NewTimer(c.opts.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return connectors.Unavailablef(System, op, "stopped waiting: %v", ctx.Err())
		case <-t.C:
		}
	}
}

// ssoUser is what an Identity Center step acts on: one identity store user.
type ssoUser struct {
	c  *Client
	id string
}

// verifyOp is the Op of a verify error: the step's ID.
func (u ssoUser) verifyOp(action string) string {
	return "verify " + connectors.StepID(System, action, u.id)
}

// ssoSteps are the Identity Center steps, in plan order. All three cut, at
// once: the session deny ends the sessions the user holds, removing groups
// and account assignments ends their way to new ones.
var ssoSteps = connectors.Steps[ssoUser]{System: System, ScopeKind: "Identity Center user", Kinds: []connectors.StepKind[ssoUser]{
	{
		Action: ActionSSOKillSessions,
		Cuts:   true,
		Plan: func(ctx context.Context, u ssoUser) (connectors.Planned, error) {
			sets, err := u.c.killSets(ctx)
			if err != nil {
				return connectors.Planned{}, err
			}
			var arns []string
			for _, s := range sets {
				arns = append(arns, s.ARN)
			}
			return connectors.Planned{
				Description: "Deny the Identity Center user everything in " + connectors.Plural(len(sets), "permission set", "permission sets") +
					" (inline policy on " + userIDKey + ") and re-provision them, which ends the role sessions already handed out",
				Targets: arns,
			}, nil
		},
		Run: func(ctx context.Context, u ssoUser) (connectors.Outcome, error) {
			sets, err := u.c.killSets(ctx)
			if err != nil {
				return connectors.Outcome{}, err
			}
			// One permission set failing must not leave the others open:
			// every set is written at once, and the failures are reported
			// together.
			setRecs := make([][]string, len(sets))
			errs := make([]error, len(sets))
			changedSet := make([]bool, len(sets))
			_ = connectors.Each(len(sets), func(i int) error {
				ps := sets[i]
				if r := u.c.shared(); r != nil {
					// Through the one place that writes this set's policy:
					// concurrent cases would otherwise lose each other's
					// entries.
					if errs[i] = r(ctx, ps.ARN, u.id); errs[i] == nil {
						setRecs[i] = []string{"permission set " + ps.String() + ": the user's deny is in the policy, provisioned"}
						changedSet[i] = true
					}
					return nil
				}
				r, ch, err := u.c.killSwitch(ctx, ps, []string{u.id}, nil)
				setRecs[i], changedSet[i], errs[i] = r.Records, ch, err
				return nil
			})
			var failed []setFailure
			for i, err := range errs {
				if err != nil {
					failed = append(failed, setFailure{sets[i], err})
				}
			}
			recs, changed := slices.Concat(setRecs...), slices.Contains(changedSet, true)
			out, _ := outcome(changed, recs)
			if len(failed) > 0 {
				return out, killSwitchError(failed, len(sets))
			}
			return out, nil
		},
		Verify: func(ctx context.Context, u ssoUser) error {
			c, op := u.c, u.verifyOp(ActionSSOKillSessions)
			sets, err := c.killSets(ctx)
			if err != nil {
				return err
			}
			// Every set lacking the deny is named, not just the first; the
			// sets are read at once.
			lack := make([]string, len(sets))
			err = connectors.Each(len(sets), func(i int) error {
				ps := sets[i]
				got, err := c.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: sdkaws.String(c.cfg.InstanceARN), PermissionSetArn: sdkaws.String(ps.ARN)})
				if err != nil {
					return apiError("get permission set inline policy", err)
				}
				ok, err := policyDenies(sdkaws.ToString(got.InlinePolicy), u.id)
				if err != nil {
					lack[i] = fmt.Sprintf("permission set %s: %v", ps, err)
					return nil
				}
				if !ok {
					lack[i] = fmt.Sprintf("permission set %s does not deny the user", ps)
					return nil
				}
				stale, err := c.accountsNotProvisioned(ctx, ps.ARN)
				if err != nil {
					return err
				}
				if len(stale) > 0 {
					// A provisioning under way provisions the policy just
					// read, which denies the user: one batch at a time
					// writes and then provisions (the kill-switch workflow).
					// Wait for it, rather than call the deny missing.
					if done, err := c.provisioningDone(ctx, ps.ARN); err != nil || done {
						return err
					}
					lack[i] = fmt.Sprintf("permission set %s is not provisioned with the deny in accounts %s", ps, strings.Join(stale, ", "))
				}
				return nil
			})
			if err != nil {
				return err
			}
			if lacking := slices.DeleteFunc(lack, func(s string) bool { return s == "" }); len(lacking) > 0 {
				return connectors.Conflictf(System, op, "%s", strings.Join(lacking, "; "))
			}
			return nil
		},
	},
	{
		Action: ActionSSORemoveGroups,
		Plan: func(ctx context.Context, u ssoUser) (connectors.Planned, error) {
			ms, err := u.c.listMemberships(ctx, u.id)
			if err != nil && !connectors.IsNotFound(err) {
				return connectors.Planned{}, err
			}
			var groups []string
			for _, m := range ms {
				groups = append(groups, sdkaws.ToString(m.GroupId))
			}
			return connectors.Planned{Description: "Remove the Identity Center user from " + connectors.Plural(len(groups), "group", "groups"), Targets: groups}, nil
		},
		Run: func(ctx context.Context, u ssoUser) (connectors.Outcome, error) {
			c := u.c
			ms, err := c.listMemberships(ctx, u.id)
			if connectors.IsNotFound(err) {
				return connectors.Already("the Identity Center user does not exist")
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(ms, func(m istypes.GroupMembership) string {
				return sdkaws.ToString(m.MembershipId) + " in group " + sdkaws.ToString(m.GroupId)
			}, "group membership", func(m istypes.GroupMembership) error {
				_, err := c.ids.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sdkaws.String(c.cfg.IdentityStoreID), MembershipId: m.MembershipId})
				return err
			}, "delete group membership")
		},
		Verify: func(ctx context.Context, u ssoUser) error {
			ms, err := u.c.listMemberships(ctx, u.id)
			if connectors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if len(ms) > 0 {
				return connectors.Conflictf(System, u.verifyOp(ActionSSORemoveGroups), "the Identity Center user is still in %s", connectors.Plural(len(ms), "group", "groups"))
			}
			return nil
		},
	},
	{
		Action: ActionSSORemoveAssignments,
		Plan: func(ctx context.Context, u ssoUser) (connectors.Planned, error) {
			as, err := u.c.listAssignments(ctx, u.id)
			if err != nil {
				return connectors.Planned{}, err
			}
			var assignments []string
			for _, a := range as {
				assignments = append(assignments, sdkaws.ToString(a.AccountId)+":"+sdkaws.ToString(a.PermissionSetArn))
			}
			return connectors.Planned{
				Description: "Delete " + connectors.Plural(len(assignments), "account assignment", "account assignments") + " of the Identity Center user and wait for AWS to finish",
				Targets:     assignments,
			}, nil
		},
		Run: func(ctx context.Context, u ssoUser) (connectors.Outcome, error) {
			c := u.c
			inst := sdkaws.String(c.cfg.InstanceARN)
			as, err := c.listAssignments(ctx, u.id)
			if err != nil {
				return connectors.Outcome{}, err
			}
			// Record every assignment before any is deleted.
			var recs []string
			for _, a := range as {
				recs = append(recs, fmt.Sprintf("assignment of permission set %s in account %s", sdkaws.ToString(a.PermissionSetArn), sdkaws.ToString(a.AccountId)))
			}
			// Each assignment is deleted and waited for, at once with the
			// others. Deletion is asynchronous: wait for each request within
			// the poll timeout; a later run picks up what is still going.
			done := make([]string, len(as))
			changed := make([]bool, len(as))
			err = connectors.Each(len(as), func(i int) error {
				a := as[i]
				what := sdkaws.ToString(a.AccountId) + ":" + sdkaws.ToString(a.PermissionSetArn)
				out, err := c.sso.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{
					InstanceArn: inst, TargetId: a.AccountId, TargetType: ssotypes.TargetTypeAwsAccount,
					PermissionSetArn: a.PermissionSetArn, PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: sdkaws.String(u.id),
				})
				gone, err := removed("delete account assignment", err)
				if err != nil {
					return err
				}
				if gone {
					done[i] = "assignment " + what + " was already gone"
					return nil
				}
				changed[i] = true
				st := out.AccountAssignmentDeletionStatus
				if st == nil || sdkaws.ToString(st.RequestId) == "" {
					return connectors.Unavailablef(System, "delete account assignment", "AWS returned no deletion request for %s", what)
				}
				if st.Status == ssotypes.StatusValuesFailed {
					return connectors.Unavailablef(System, "delete account assignment", "deletion of %s FAILED: %s", what, connectors.Scrub(sdkaws.ToString(st.FailureReason)))
				}
				id := sdkaws.ToString(st.RequestId)
				err = c.wait(ctx, "wait for account assignment deletion", func(ctx context.Context) (ssotypes.StatusValues, string, error) {
					out, err := c.sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
						InstanceArn: inst, AccountAssignmentDeletionRequestId: sdkaws.String(id),
					})
					if err != nil {
						return "", "", apiError("describe account assignment deletion", err)
					}
					st := out.AccountAssignmentDeletionStatus
					return st.Status, sdkaws.ToString(st.FailureReason), nil
				})
				if err != nil {
					return err
				}
				done[i] = "deleted assignment " + what + " (request " + id + ")"
				return nil
			})
			if err != nil {
				return connectors.Outcome{}, err
			}
			return outcome(slices.Contains(changed, true), append(recs, done...))
		},
		Verify: func(ctx context.Context, u ssoUser) error {
			as, err := u.c.listAssignments(ctx, u.id)
			if err != nil {
				return err
			}
			if len(as) > 0 {
				return connectors.Conflictf(System, u.verifyOp(ActionSSORemoveAssignments), "%s remain (a deletion may still be in progress)", connectors.Plural(len(as), "account assignment", "account assignments"))
			}
			return nil
		},
	},
}}

var _ connectors.Shared = (*Client)(nil)

// RouteShared has the kill switch send each user's deny to r, which
// applies them with ApplyShared one batch per permission set at a time.
func (c *Client) RouteShared(r connectors.SharedRouter) {
	c.mu.Lock()
	c.router = r
	c.mu.Unlock()
}

func (c *Client) shared() connectors.SharedRouter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.router
}

// ApplyShared denies every user of add in the permission set psARN with
// one inline-policy write and one provisioning, removing the users of
// prune that no longer have an account assignment (their sessions have
// expired: a deny of theirs only grows the policy towards its 32 KB
// limit), and checks the policy it leaves denies every user of add.
func (c *Client) ApplyShared(ctx context.Context, psARN string, add, prune []string) (connectors.SharedResult, error) {
	if !psARNRE.MatchString(psARN) {
		return connectors.SharedResult{}, connectors.InvalidInputf(System, "apply kill switch", "%q is not a permission set ARN", psARN)
	}
	for _, id := range add {
		if !ssoUserIDRE.MatchString(id) {
			return connectors.SharedResult{}, connectors.InvalidInputf(System, "apply kill switch", "%q is not an Identity Center user ID", id)
		}
	}
	var gone []string
	for _, id := range prune {
		if !ssoUserIDRE.MatchString(id) || slices.Contains(add, id) {
			continue
		}
		as, err := c.listAssignments(ctx, id)
		if err != nil {
			return connectors.SharedResult{}, err
		}
		if len(as) == 0 {
			gone = append(gone, id)
		}
	}
	res, _, err := c.killSwitch(ctx, permissionSet{ARN: psARN}, add, gone)
	if err != nil {
		return res, err
	}
	got, err := c.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: sdkaws.String(c.cfg.InstanceARN), PermissionSetArn: sdkaws.String(psARN)})
	if err != nil {
		return res, apiError("get permission set inline policy", err)
	}
	for _, id := range add {
		if ok, err := policyDenies(sdkaws.ToString(got.InlinePolicy), id); err != nil || !ok {
			return res, connectors.Conflictf(System, "apply kill switch", "the inline policy of %s does not deny %s after the write", psARN, id)
		}
	}
	return res, nil
}

// killSwitch adds the users of add to the deny of one permission set's
// inline policy and removes those of remove, in one write, then
// re-provisions the set where it is stale, waiting for AWS to finish. It
// returns the records of what it did, even when it fails part way (the
// deny put but provisioning failed, say).
func (c *Client) killSwitch(ctx context.Context, ps permissionSet, add, remove []string) (res connectors.SharedResult, changed bool, _ error) {
	inst := sdkaws.String(c.cfg.InstanceARN)
	arn := sdkaws.String(ps.ARN)
	got, err := c.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn})
	if err != nil {
		return res, changed, apiError("get permission set inline policy", err)
	}
	doc := sdkaws.ToString(got.InlinePolicy)
	var added []string
	for _, id := range add {
		next, ok, err := addKillSwitch(doc, id)
		if err != nil {
			return res, changed, connectors.InvalidInputf(System, "edit permission set inline policy", "permission set %s: %v", ps, err)
		}
		if ok {
			doc = next
			added = append(added, id)
		}
	}
	doc, removed, err := removeKillSwitch(doc, remove)
	if err != nil {
		return res, changed, connectors.InvalidInputf(System, "edit permission set inline policy", "permission set %s: %v", ps, err)
	}
	if removed {
		res.Pruned = remove
	}
	if len(added) > 0 || removed {
		if _, err := c.sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, InlinePolicy: sdkaws.String(doc)}); err != nil {
			return res, changed, apiError("put permission set inline policy", err)
		}
		changed = true
	}
	switch {
	case len(add) == 1 && len(added) == 1:
		res.Records = append(res.Records, "permission set "+ps.String()+": denied the user")
	case len(add) == 1:
		res.Records = append(res.Records, "permission set "+ps.String()+": the user was already denied")
	case len(add) > 1:
		res.Records = append(res.Records, fmt.Sprintf("permission set %s: denied %d users in one write (%d already were)", ps, len(added), len(add)-len(added)))
	}
	if removed {
		res.Records = append(res.Records, fmt.Sprintf("permission set %s: pruned %s without an assignment", ps, connectors.Plural(len(remove), "user", "users")))
	}
	// Re-provisioning is what reaches the accounts (and ends the
	// sessions); it is asynchronous.
	stale, err := c.accountsNotProvisioned(ctx, ps.ARN)
	if err != nil {
		return res, changed, err
	}
	if len(stale) == 0 {
		return res, changed, nil
	}
	out, err := c.sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: arn, TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil {
		return res, changed, apiError("provision permission set", err)
	}
	changed = true
	st := out.PermissionSetProvisioningStatus
	if st == nil || sdkaws.ToString(st.RequestId) == "" {
		return res, changed, connectors.Unavailablef(System, "provision permission set", "AWS returned no provisioning request for %s", ps.ARN)
	}
	id := sdkaws.ToString(st.RequestId)
	err = c.wait(ctx, "wait for permission set provisioning", func(ctx context.Context) (ssotypes.StatusValues, string, error) {
		out, err := c.sso.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: inst, ProvisionPermissionSetRequestId: sdkaws.String(id)})
		if err != nil {
			return "", "", apiError("describe permission set provisioning", err)
		}
		s := out.PermissionSetProvisioningStatus
		return s.Status, sdkaws.ToString(s.FailureReason), nil
	})
	if err != nil {
		return res, changed, err
	}
	res.Records = append(res.Records, fmt.Sprintf("provisioned %s to accounts %s (request %s)", ps.ARN, strings.Join(stale, ", "), id))
	return res, changed, nil
}

// setFailure is a kill-switch permission set whose deny is not yet in
// place everywhere, and why.
type setFailure struct {
	ps  permissionSet
	err error
}

// killSwitchError is the error of a kill-switch run that left some of its
// total permission sets without the deny (in the policy or in the
// accounts). Its message leads with the first failure's message (so it
// starts with the AWS error code, like every other error) and then names
// every set still lacking the deny, by name and ARN, with its cause.
//
// Its kind is the failures' kind when they all share one, so a run that
// failed alike everywhere (PermissionDenied, say) is treated as that one
// failure would be. Mixed kinds give Unavailable: part of what failed may
// go through on a retry, which the workflow's retry policy bounds before
// the step parks. RetryAfter is the longest any failure asked for; Status
// is kept only when every failure had the same. It wraps every failure.
func killSwitchError(failed []setFailure, total int) error {
	first := failed[0].err
	out := &connectors.Error{System: System, Op: "deny the user in the kill-switch permission sets", Kind: connectors.KindOf(first), Status: connectors.StatusOf(first)}
	if out.Kind == "" {
		out.Kind = connectors.Unavailable
	}
	lead := first.Error()
	var parts []string
	var errs []error
	for i, f := range failed {
		cause := f.err.Error()
		if ce, ok := errors.AsType[*connectors.Error](f.err); ok {
			out.RetryAfter = max(out.RetryAfter, ce.RetryAfter)
			cause = ce.Op + ": " + string(ce.Kind)
			if ce.Status != 0 {
				cause += fmt.Sprintf(" (HTTP %d)", ce.Status)
			}
			if ce.Msg != "" {
				cause += ": " + ce.Msg
			}
			if i == 0 {
				lead = ce.Msg
			}
		}
		if connectors.KindOf(f.err) != out.Kind {
			out.Kind = connectors.Unavailable
		}
		if connectors.StatusOf(f.err) != out.Status {
			out.Status = 0
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", f.ps, cause))
		errs = append(errs, f.err)
	}
	out.Msg = fmt.Sprintf("%s; %d of %d permission sets still lack the deny: %s", lead, len(failed), total, strings.Join(parts, ", "))
	out.Err = errors.Join(errs...)
	return out
}
