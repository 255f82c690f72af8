package aws

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/offboard/offboard/connectors"
)

func newStep(action, scope, desc string, targets []string) connectors.Step {
	return connectors.Step{ID: System + "." + action + "/" + scope, System: System, Action: action, Scope: scope, Description: desc, Targets: targets}
}

// stepLabel is a step ID fit for error messages and Op strings: the ID
// itself when its scope is opaque (an IAM or Identity Center user ID), else
// the ID with its scope withheld, since a malformed or old step ID (from
// before IAM user IDs, "<account>:<userName>") may carry a user name.
func stepLabel(id string) string {
	head, scope, ok := strings.Cut(id, "/")
	if !ok {
		if stepHeadRE.MatchString(head) {
			return id
		}
		return "(malformed step ID)"
	}
	if !stepHeadRE.MatchString(head) {
		return "(malformed step ID)"
	}
	if acct, uid, ok := strings.Cut(scope, ":"); ok && accountIDRE.MatchString(acct) && iamUserIDRE.MatchString(uid) {
		return id
	}
	if ssoUserIDRE.MatchString(scope) {
		return id
	}
	return head + "/(scope withheld)"
}

// accountLabel is an Account ID fit for error messages: the ID when it is
// opaque (an Identity Center user ID or iam:<account>:<userId>), else a
// placeholder, since an Account resolved before IAM user IDs has
// iam:<account>:<userName>.
func accountLabel(id string) string {
	if ssoUserIDRE.MatchString(id) {
		return id
	}
	if rest, ok := strings.CutPrefix(id, "iam:"); ok {
		if acct, uid, ok := strings.Cut(rest, ":"); ok && accountIDRE.MatchString(acct) && iamUserIDRE.MatchString(uid) {
			return id
		}
	}
	return "(ID withheld)"
}

var stepHeadRE = regexp.MustCompile(`^[a-z0-9]+\.[a-z0-9-]{1,64}$`)

// target is what a resolved Account points at.
type target struct {
	iam []iamRef
	sso string
}

func (c *Client) parseAccount(op string, a connectors.Account) (target, error) {
	if a.System != "" && a.System != System {
		return target{}, invalid(op, "account belongs to system %q, not aws", a.System)
	}
	refs, err := parseIAMUsers(a.Attributes[AttrIAMUsers])
	if err != nil {
		return target{}, invalid(op, "account %s: attribute %s: %v", accountLabel(a.ID), AttrIAMUsers, err)
	}
	t := target{iam: refs, sso: a.Attributes[AttrSSOUserID]}
	if t.sso != "" {
		if !ssoUserIDRE.MatchString(t.sso) {
			return target{}, invalid(op, "account %s: attribute %s is not an identity store user ID", accountLabel(a.ID), AttrSSOUserID)
		}
		if !c.ssoEnabled() {
			return target{}, invalid(op, "the account has an Identity Center user but Identity Center is not configured")
		}
	}
	if len(t.iam) == 0 && t.sso == "" {
		return target{}, invalid(op, "account %s names no IAM user and no Identity Center user", accountLabel(a.ID))
	}
	for _, r := range t.iam {
		if !slices.ContainsFunc(c.accounts, func(ac *accountClient) bool { return ac.id == r.Account }) {
			return target{}, invalid(op, "IAM user in account %s, which is not configured", r.Account)
		}
	}
	return t, nil
}

// orderIAM sorts IAM users by configured account order, keeping their
// order within an account.
func (c *Client) orderIAM(refs []iamRef) []iamRef {
	out := make([]iamRef, 0, len(refs))
	for _, ac := range c.accounts {
		for _, r := range refs {
			if r.Account == ac.id {
				out = append(out, r)
			}
		}
	}
	return out
}

// Plan lists the steps that close the person's AWS access, in the order
// they must run: for each IAM user (accounts in configured order) the
// credential and permission steps, then the Identity Center steps. It only
// reads. A step with nothing to do is still listed; Run reports it as
// already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	t, err := c.parseAccount("plan", a)
	if err != nil {
		return nil, err
	}
	var steps []connectors.Step
	for _, ref := range c.orderIAM(t.iam) {
		s, err := c.planIAM(ctx, ref)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s...)
	}
	if t.sso != "" {
		s, err := c.planSSO(ctx, t.sso)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s...)
	}
	return steps, nil
}

// stepTarget checks a step against the account it runs on and returns its
// action, and the IAM user or Identity Center user it acts on.
func (c *Client) stepTarget(op string, a connectors.Account, st connectors.Step) (string, iamRef, string, error) {
	t, err := c.parseAccount(op, a)
	if err != nil {
		return "", iamRef{}, "", err
	}
	id := stepLabel(st.ID)
	rest, ok := strings.CutPrefix(st.ID, System+".")
	action, scope, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || (st.Scope != "" && st.Scope != scope) {
		return "", iamRef{}, "", invalid(op, "step %q is not an aws step ID (aws.<action>/<scope>)", id)
	}
	switch {
	case slices.Contains(IAMActions, action):
		i := slices.IndexFunc(t.iam, func(r iamRef) bool { return r.Scope() == scope })
		if i < 0 {
			return "", iamRef{}, "", invalid(op, "step %s: the account has no such IAM user", id)
		}
		return action, t.iam[i], "", nil
	case slices.Contains(SSOActions, action):
		if scope != t.sso {
			return "", iamRef{}, "", invalid(op, "step %s: the account's Identity Center user is not the step's", id)
		}
		return action, iamRef{}, scope, nil
	}
	return "", iamRef{}, "", invalid(op, "unknown step %q", id)
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing. Facts worth
// keeping (key IDs and their last use, serials, assignment and request IDs)
// are recorded before anything is removed.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	action, ref, ssoID, err := c.stepTarget("run "+stepLabel(st.ID), a, st)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if ssoID != "" {
		return c.runSSO(ctx, action, ssoID)
	}
	return c.runIAM(ctx, action, ref)
}

// Verify re-reads AWS and returns a Conflict error ("verify: ...") when the
// step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	op := "verify " + stepLabel(st.ID)
	action, ref, ssoID, err := c.stepTarget(op, a, st)
	if err != nil {
		return err
	}
	if ssoID != "" {
		return c.verifySSO(ctx, op, action, ssoID)
	}
	return c.verifyIAM(ctx, op, action, ref)
}
