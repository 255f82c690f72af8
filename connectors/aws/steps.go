package aws

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/offboard/offboard/connectors"
)

var (
	stepSystemRE = regexp.MustCompile(`^[a-z0-9]+$`)
	stepActionRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	// iamScopeRE is the scope of an IAM user's steps, "<account>:<userId>".
	iamScopeRE = regexp.MustCompile(`^\d{12}:AIDA[A-Z0-9]{12,124}$`)
)

// stepLabel names a step in error messages and Op strings, built from its
// fields: "<system>.<action>/<scope>" when the scope is opaque (an IAM or
// Identity Center user ID), else with the scope withheld, since a
// malformed or old step (from before IAM user IDs, "<account>:<userName>")
// may carry a user name.
func stepLabel(st connectors.Step) string {
	if !stepSystemRE.MatchString(st.System) || !stepActionRE.MatchString(st.Action) {
		return "(malformed step)"
	}
	scope := st.Scope
	if scope != "" && !iamScopeRE.MatchString(scope) && !ssoUserIDRE.MatchString(scope) {
		scope = "(scope withheld)"
	}
	return connectors.StepID(st.System, st.Action, scope)
}

// accountLabel is an Account ID fit for error messages: the ID when it is
// opaque (an Identity Center user ID or iam:<account>:<userId>), else a
// placeholder, since an Account resolved before IAM user IDs has
// iam:<account>:<userName>.
func accountLabel(id string) string {
	if ssoUserIDRE.MatchString(id) {
		return id
	}
	if rest, ok := strings.CutPrefix(id, "iam:"); ok && iamScopeRE.MatchString(rest) {
		return id
	}
	return "(ID withheld)"
}

// target is what a resolved Account points at.
type target struct {
	iam []iamRef
	sso string
}

func (c *Client) parseAccount(op string, a connectors.Account) (target, error) {
	if a.System != "" && a.System != System {
		return target{}, connectors.InvalidInputf(System, op, "account belongs to system %q, not aws", a.System)
	}
	refs, err := parseIAMUsers(a.Attributes[AttrIAMUsers])
	if err != nil {
		return target{}, connectors.InvalidInputf(System, op, "account %s: attribute %s: %v", accountLabel(a.ID), AttrIAMUsers, err)
	}
	t := target{iam: refs, sso: a.Attributes[AttrSSOUserID]}
	if t.sso != "" {
		if !ssoUserIDRE.MatchString(t.sso) {
			return target{}, connectors.InvalidInputf(System, op, "account %s: attribute %s is not an identity store user ID", accountLabel(a.ID), AttrSSOUserID)
		}
		if !c.ssoEnabled() {
			return target{}, connectors.InvalidInputf(System, op, "the account has an Identity Center user but Identity Center is not configured")
		}
	}
	if len(t.iam) == 0 && t.sso == "" {
		return target{}, connectors.InvalidInputf(System, op, "account %s names no IAM user and no Identity Center user", accountLabel(a.ID))
	}
	for _, r := range t.iam {
		if !slices.ContainsFunc(c.accounts, func(ac *accountClient) bool { return ac.id == r.Account }) {
			return target{}, connectors.InvalidInputf(System, op, "IAM user in account %s, which is not configured", r.Account)
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

// iamUserOf returns the IAM step target of ref: the user and its account's
// client, ready to use.
func (c *Client) iamUserOf(ctx context.Context, ref iamRef) (*iamUser, error) {
	ac, err := c.account(ctx, ref.Account)
	if err != nil {
		return nil, ref.hideErr(err)
	}
	return &iamUser{c: c, ref: ref, ac: ac}, nil
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
	// Every IAM user and the Identity Center user are planned at once; the
	// steps come back in that order, or the first error in it.
	refs := c.orderIAM(t.iam)
	planned := make([][]connectors.Step, len(refs)+1)
	err = connectors.Each(len(planned), func(i int) error {
		if i == len(refs) {
			if t.sso == "" {
				return nil
			}
			var err error
			planned[i], err = ssoSteps.Plan(ctx, t.sso, ssoUser{c: c, id: t.sso})
			return err
		}
		u, err := c.iamUserOf(ctx, refs[i])
		if err != nil {
			return err
		}
		// The kinds of one user share their reads while planning.
		u.plan = &iamReads{}
		planned[i], err = iamSteps.Plan(ctx, refs[i].Scope(), u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(planned...), nil
}

// stepTarget checks a step against the account it runs on and returns what
// it acts on: the IAM user whose scope is the step's (for IAMActions), or
// else the Identity Center user (for SSOActions).
func (c *Client) stepTarget(ctx context.Context, op string, a connectors.Account, st connectors.Step) (*iamUser, ssoUser, error) {
	t, err := c.parseAccount(op, a)
	if err != nil {
		return nil, ssoUser{}, err
	}
	label := stepLabel(st)
	if st.System != System {
		return nil, ssoUser{}, connectors.InvalidInputf(System, op, "step %s is not an aws step", label)
	}
	switch {
	case slices.Contains(IAMActions, st.Action):
		i := slices.IndexFunc(t.iam, func(r iamRef) bool { return r.Scope() == st.Scope })
		if i < 0 {
			return nil, ssoUser{}, connectors.InvalidInputf(System, op, "step %s: the account has no such IAM user", label)
		}
		u, err := c.iamUserOf(ctx, t.iam[i])
		if err != nil {
			return nil, ssoUser{}, err
		}
		u.found = st.Found
		return u, ssoUser{}, nil
	case slices.Contains(SSOActions, st.Action):
		if st.Scope == "" || st.Scope != t.sso {
			return nil, ssoUser{}, connectors.InvalidInputf(System, op, "step %s: the account's Identity Center user is not the step's", label)
		}
		return nil, ssoUser{c: c, id: st.Scope}, nil
	}
	return nil, ssoUser{}, connectors.InvalidInputf(System, op, "unknown step %s", label)
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing. Facts worth
// keeping (key IDs and their last use, serials, assignment and request IDs)
// are recorded before anything is removed.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	iu, su, err := c.stepTarget(ctx, "run "+stepLabel(st), a, st)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if iu != nil {
		return iamSteps.Run(ctx, st, iu)
	}
	return ssoSteps.Run(ctx, st, su)
}

// Verify re-reads AWS and returns a Conflict error ("verify: ...") when the
// step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	iu, su, err := c.stepTarget(ctx, "verify "+stepLabel(st), a, st)
	if err != nil {
		return err
	}
	if iu != nil {
		return iamSteps.Verify(ctx, st, iu)
	}
	return ssoSteps.Verify(ctx, st, su)
}
