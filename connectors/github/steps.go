package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/connectors"
)

const (
	kindPATs     = "personal-access-tokens"
	kindRequests = "personal-access-token-requests"
)

// denyReason is the reason given when denying a pending PAT request.
const denyReason = "Denied by offboard: the requester is being offboarded."

func newStep(action, org, desc string, targets []string) connectors.Step {
	return connectors.Step{ID: StepID(action, org), System: System, Action: action, Scope: org, Description: desc, Targets: targets}
}

func credKind(cr *gh.CredentialAuthorization) string {
	if strings.Contains(strings.ToLower(cr.GetCredentialType()), "ssh") {
		return "ssh"
	}
	return "pat"
}

func stamp(t *gh.Timestamp) string {
	if t == nil || t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// credRecord is what is kept of a credential authorization: IDs, type and
// the last eight characters or fingerprint GitHub shows, never the note or
// title the user typed.
func credRecord(org string, cr *gh.CredentialAuthorization) string {
	s := fmt.Sprintf("org=%s credential_id=%d credential_type=%q", org, cr.GetCredentialID(), cr.GetCredentialType())
	if v := cr.GetTokenLastEight(); v != "" {
		s += " token_last_eight=" + v
	}
	if v := cr.GetFingerprint(); v != "" {
		s += " fingerprint=" + v
	}
	if v := cr.GetAuthorizedCredentialID(); v != 0 {
		s += fmt.Sprintf(" authorized_credential_id=%d", v)
	}
	if len(cr.Scopes) > 0 {
		s += " scopes=" + strings.Join(cr.Scopes, ",")
	}
	return s + " authorized_at=" + stamp(cr.CredentialAuthorizedAt) + " accessed_at=" + stamp(cr.CredentialAccessedAt)
}

func patRecord(org string, p patGrant) string {
	return fmt.Sprintf("org=%s pat_id=%d token_id=%d access_granted_at=%s expires_at=%s last_used_at=%s",
		org, p.ID, p.TokenID, stamp(p.AccessGrantedAt), stamp(p.TokenExpiresAt), stamp(p.TokenLastUsedAt))
}

func requestRecord(org string, p patGrant) string {
	return fmt.Sprintf("org=%s pat_request_id=%d token_id=%d requested_at=%s expires_at=%s",
		org, p.ID, p.TokenID, stamp(p.CreatedAt), stamp(p.TokenExpiresAt))
}

// addressee says how an invitation is addressed, without the address.
func addressee(inv *gh.Invitation) string {
	if inv.GetLogin() != "" {
		return "login"
	}
	return "email"
}

func invitationRecord(org string, inv *gh.Invitation) string {
	return fmt.Sprintf("org=%s invitation_id=%d role=%s addressed_to=%s created_at=%s", org, inv.GetID(), inv.GetRole(), addressee(inv), stamp(inv.CreatedAt))
}

// orgView is what Plan reads of one org.
type orgView struct {
	creds   []*gh.CredentialAuthorization
	pats    []patGrant
	reqs    []patGrant
	member  *gh.Membership
	invs    []*gh.Invitation
	outside bool
}

func (c *Client) view(ctx context.Context, org, login string, hashes map[string]bool) (v orgView, err error) {
	if v.creds, err = c.listCredentials(ctx, org, login); err != nil {
		return v, err
	}
	if v.pats, err = c.listTokens(ctx, org, kindPATs, login); err != nil {
		return v, err
	}
	if v.reqs, err = c.listTokens(ctx, org, kindRequests, login); err != nil {
		return v, err
	}
	if v.member, err = c.getMembership(ctx, org, login); err != nil {
		return v, err
	}
	if v.invs, err = c.listInvitations(ctx, org, login, hashes); err != nil {
		return v, err
	}
	v.outside, err = c.isOutsideCollaborator(ctx, org, login)
	return v, err
}

// Plan lists, for every configured org in order, the five steps that cut
// the person off, with what each would act on. It only reads. A step with
// nothing to do is still listed; Run reports it as already done. Every org
// is planned, not only those Resolve found the person in, so an invitation
// or request that appeared since is not missed.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	login, err := accountLogin("plan", a)
	if err != nil {
		return nil, err
	}
	hashes := emailHashes(a)
	var steps []connectors.Step
	for _, org := range c.orgs {
		v, err := c.view(ctx, org, login, hashes)
		if err != nil {
			return nil, err
		}
		var credTargets []string
		for _, cr := range v.creds {
			credTargets = append(credTargets, fmt.Sprintf("credential:%d:%s", cr.GetCredentialID(), credKind(cr)))
		}
		steps = append(steps, newStep(ActionRevokeCredentialAuthorizations, org,
			fmt.Sprintf("Record and revoke %s in %s (first: GitHub stops listing them once the membership is gone)",
				connectors.Plural(len(v.creds), "SAML SSO credential authorization", "SAML SSO credential authorizations"), org), credTargets))

		var patTargets []string
		for _, p := range v.pats {
			patTargets = append(patTargets, fmt.Sprintf("pat:%d", p.ID))
		}
		for _, p := range v.reqs {
			patTargets = append(patTargets, fmt.Sprintf("pat-request:%d", p.ID))
		}
		steps = append(steps, newStep(ActionRevokeFineGrainedPATs, org,
			fmt.Sprintf("Revoke the access of %s to %s and deny %s",
				connectors.Plural(len(v.pats), "fine-grained personal access token", "fine-grained personal access tokens"), org,
				connectors.Plural(len(v.reqs), "pending access request", "pending access requests")), patTargets))

		var mDesc string
		var mTargets []string
		switch {
		case v.member == nil:
			mDesc = fmt.Sprintf("Not a member of %s and no invitation to the login", org)
		case v.member.GetState() == "pending":
			mDesc = fmt.Sprintf("Cancel the pending invitation to the login in %s by removing the membership", org)
			mTargets = []string{"membership:pending:" + v.member.GetRole()}
		default:
			mDesc = fmt.Sprintf("Remove the %s from %s, and so from all its teams and repositories", v.member.GetRole(), org)
			mTargets = []string{"membership:" + v.member.GetState() + ":" + v.member.GetRole()}
		}
		steps = append(steps, newStep(ActionRemoveMembership, org, mDesc, mTargets))

		var invTargets []string
		for _, inv := range v.invs {
			invTargets = append(invTargets, fmt.Sprintf("invitation:%d:%s", inv.GetID(), addressee(inv)))
		}
		steps = append(steps, newStep(ActionCancelInvitations, org,
			fmt.Sprintf("Cancel %s to %s addressed to the person's login or email",
				connectors.Plural(len(v.invs), "pending invitation", "pending invitations"), org), invTargets))

		oDesc := fmt.Sprintf("Not an outside collaborator of %s", org)
		var oTargets []string
		if v.outside {
			oDesc = fmt.Sprintf("Remove the outside collaborator from every repository of %s", org)
			oTargets = []string{"outside-collaborator"}
		}
		steps = append(steps, newStep(ActionRemoveOutsideCollaborator, org, oDesc, oTargets))
	}
	return steps, nil
}

// parseStep reads "github.<action>/<org>" and checks the org is
// configured.
func (c *Client) parseStep(op string, st connectors.Step) (action, org string, err error) {
	rest, ok := strings.CutPrefix(st.ID, System+".")
	action, scope, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !slices.Contains(Actions, action) {
		return "", "", invalid(op, "unknown step %q", st.ID)
	}
	org, ok = c.org(scope)
	if !ok {
		return "", "", invalid(op, "step %q names org %q, which is not configured", st.ID, scope)
	}
	if st.Scope != "" && !strings.EqualFold(st.Scope, scope) {
		return "", "", invalid(op, "step %q has scope %q", st.ID, st.Scope)
	}
	return action, org, nil
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing; a 404 on a
// removal counts as already removed. Records name what was found (IDs,
// types, dates; no names or emails) and are gathered before anything is
// removed; when a removal fails part-way the Outcome returned with the
// error still carries them.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	op := "run " + st.ID
	login, err := accountLogin(op, a)
	if err != nil {
		return connectors.Outcome{}, err
	}
	action, org, err := c.parseStep(op, st)
	if err != nil {
		return connectors.Outcome{}, err
	}
	switch action {
	case ActionRevokeCredentialAuthorizations:
		return c.revokeCredentials(ctx, org, login)
	case ActionRevokeFineGrainedPATs:
		return c.revokeTokens(ctx, org, login)
	case ActionRemoveMembership:
		return c.removeMembership(ctx, org, login)
	case ActionCancelInvitations:
		return c.cancelInvitations(ctx, org, login, emailHashes(a))
	}
	return c.removeOutside(ctx, org, login)
}

// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
func (c *Client) revokeCredentials(ctx context.Context, org, login string) (connectors.Outcome, error) {
	creds, err := c.listCredentials(ctx, org, login)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(creds) == 0 {
		return connectors.Already()
	}
	var recs []string
	for _, cr := range creds {
		recs = append(recs, credRecord(org, cr))
	}
	revoked := 0
	for _, cr := range creds {
		resp, err := c.api.Organizations.RemoveCredentialAuthorization(ctx, org, cr.GetCredentialID())
		if err != nil {
			err = c.apiError("revoke credential authorization in "+org, resp, err)
			if statusOf(err) == http.StatusNotFound {
				recs = append(recs, fmt.Sprintf("org=%s credential_id=%d was already revoked", org, cr.GetCredentialID()))
				continue
			}
			return connectors.Outcome{Records: recs}, err
		}
		revoked++
	}
	if revoked == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// revokeTokens revokes the fine-grained PATs' access to the org (in bulk,
// 100 at a time) and denies the pending requests.
//
// https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens
// https://docs.github.com/rest/orgs/personal-access-tokens#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token
func (c *Client) revokeTokens(ctx context.Context, org, login string) (connectors.Outcome, error) {
	pats, err := c.listTokens(ctx, org, kindPATs, login)
	if err != nil {
		return connectors.Outcome{}, err
	}
	reqs, err := c.listTokens(ctx, org, kindRequests, login)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(pats) == 0 && len(reqs) == 0 {
		return connectors.Already()
	}
	var recs []string
	for _, p := range pats {
		recs = append(recs, patRecord(org, p))
	}
	for _, p := range reqs {
		recs = append(recs, requestRecord(org, p))
	}
	changed := 0
	for chunk := range slices.Chunk(pats, 100) {
		ids := make([]int64, 0, len(chunk))
		for _, p := range chunk {
			ids = append(ids, p.ID)
		}
		n, err := c.revokePATs(ctx, org, login, ids)
		if err != nil {
			return connectors.Outcome{Records: recs}, err
		}
		if n < len(ids) {
			recs = append(recs, fmt.Sprintf("org=%s %s already revoked", org, connectors.Plural(len(ids)-n, "token was", "tokens were")))
		}
		changed += n
	}
	for _, p := range reqs {
		resp, err := c.api.Organizations.ReviewPersonalAccessTokenRequest(ctx, org, p.ID,
			gh.ReviewPersonalAccessTokenRequestOptions{Action: "deny", Reason: gh.String(denyReason)})
		if err != nil {
			err = c.apiError("deny fine-grained PAT request in "+org, resp, err)
			if statusOf(err) == http.StatusNotFound {
				recs = append(recs, fmt.Sprintf("org=%s pat_request_id=%d was already reviewed", org, p.ID))
				continue
			}
			return connectors.Outcome{Records: recs}, err
		}
		changed++
	}
	if changed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// revokePATs revokes a batch and returns how many it revoked. GitHub
// answers 202; a 404 or 422 (a token revoked meanwhile) leads to a re-read,
// and the batch counts as done when none of its tokens is listed anymore.
func (c *Client) revokePATs(ctx context.Context, org, login string, ids []int64) (int, error) {
	op := "revoke fine-grained PATs in " + org
	req, err := c.api.NewRequest(http.MethodPost, fmt.Sprintf("orgs/%s/personal-access-tokens", org),
		map[string]any{"action": "revoke", "pat_ids": ids})
	if err != nil {
		return 0, invalid(op, "%s", connectors.Scrub(err.Error()))
	}
	resp, err := c.api.Do(ctx, req, nil)
	var accepted *gh.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return len(ids), nil
	}
	err = c.apiError(op, resp, err)
	if s := statusOf(err); s != http.StatusNotFound && s != http.StatusUnprocessableEntity {
		return 0, err
	}
	left, lerr := c.listTokens(ctx, org, kindPATs, login)
	if lerr != nil {
		return 0, err
	}
	for _, p := range left {
		if slices.Contains(ids, p.ID) {
			return 0, err
		}
	}
	return 0, nil
}

// https://docs.github.com/rest/orgs/members#remove-organization-membership-for-a-user
func (c *Client) removeMembership(ctx context.Context, org, login string) (connectors.Outcome, error) {
	m, err := c.getMembership(ctx, org, login)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if m == nil {
		return connectors.Already()
	}
	rec := fmt.Sprintf("org=%s membership state=%s role=%s", org, m.GetState(), m.GetRole())
	// user first, org second: go-github's argument order.
	resp, err := c.api.Organizations.RemoveOrgMembership(ctx, login, org)
	if err != nil {
		err = c.apiError("remove membership in "+org, resp, err)
		if statusOf(err) == http.StatusNotFound {
			return connectors.Already(rec + " was already gone")
		}
		return connectors.Outcome{Records: []string{rec}}, err
	}
	return connectors.Done(rec + " removed")
}

// https://docs.github.com/rest/orgs/members#cancel-an-organization-invitation
func (c *Client) cancelInvitations(ctx context.Context, org, login string, hashes map[string]bool) (connectors.Outcome, error) {
	invs, err := c.listInvitations(ctx, org, login, hashes)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(invs) == 0 {
		return connectors.Already()
	}
	var recs []string
	for _, inv := range invs {
		recs = append(recs, invitationRecord(org, inv))
	}
	cancelled := 0
	for _, inv := range invs {
		op := "cancel invitation in " + org
		// go-github v60 has no CancelInvite (v66+).
		req, err := c.api.NewRequest(http.MethodDelete, fmt.Sprintf("orgs/%s/invitations/%d", org, inv.GetID()), nil)
		if err != nil {
			return connectors.Outcome{Records: recs}, invalid(op, "%s", connectors.Scrub(err.Error()))
		}
		resp, err := c.api.Do(ctx, req, nil)
		if err != nil {
			err = c.apiError(op, resp, err)
			if statusOf(err) == http.StatusNotFound {
				recs = append(recs, fmt.Sprintf("org=%s invitation_id=%d was already gone", org, inv.GetID()))
				continue
			}
			return connectors.Outcome{Records: recs}, err
		}
		cancelled++
	}
	if cancelled == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// https://docs.github.com/rest/orgs/outside-collaborators#remove-outside-collaborator-from-an-organization
func (c *Client) removeOutside(ctx context.Context, org, login string) (connectors.Outcome, error) {
	outside, err := c.isOutsideCollaborator(ctx, org, login)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if !outside {
		return connectors.Already()
	}
	rec := fmt.Sprintf("org=%s outside_collaborator", org)
	resp, err := c.api.Organizations.RemoveOutsideCollaborator(ctx, org, login)
	if err != nil {
		err = c.apiError("remove outside collaborator from "+org, resp, err)
		switch statusOf(err) {
		case http.StatusNotFound:
			return connectors.Already(rec + " was already removed")
		case http.StatusUnprocessableEntity:
			// GitHub refuses while the user is a member.
			var ce *connectors.Error
			if errors.As(err, &ce) {
				ce.Kind = connectors.Conflict
				ce.Msg += " (the user is an org member; run " + StepID(ActionRemoveMembership, org) + " first)"
			}
		}
		return connectors.Outcome{Records: []string{rec}}, err
	}
	return connectors.Done(rec + " removed")
}

// Verify re-reads GitHub and returns a Conflict error ("verify: ...") when
// the step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	op := "verify " + st.ID
	login, err := accountLogin(op, a)
	if err != nil {
		return err
	}
	action, org, err := c.parseStep(op, st)
	if err != nil {
		return err
	}
	switch action {
	case ActionRevokeCredentialAuthorizations:
		creds, err := c.listCredentials(ctx, org, login)
		if err != nil {
			return err
		}
		if len(creds) > 0 {
			var ids []string
			for _, cr := range creds {
				ids = append(ids, fmt.Sprint(cr.GetCredentialID()))
			}
			return conflict(op, "%s still listed in %s: %s", connectors.Plural(len(creds), "credential authorization", "credential authorizations"), org, strings.Join(ids, ", "))
		}
	case ActionRevokeFineGrainedPATs:
		pats, err := c.listTokens(ctx, org, kindPATs, login)
		if err != nil {
			return err
		}
		reqs, err := c.listTokens(ctx, org, kindRequests, login)
		if err != nil {
			return err
		}
		if len(pats) > 0 || len(reqs) > 0 {
			return conflict(op, "%s still have access to %s and %s pending",
				connectors.Plural(len(pats), "fine-grained token", "fine-grained tokens"), org, connectors.Plural(len(reqs), "request is", "requests are"))
		}
	case ActionRemoveMembership:
		m, err := c.getMembership(ctx, org, login)
		if err != nil {
			return err
		}
		if m != nil {
			return conflict(op, "membership in %s is %s (role %s)", org, m.GetState(), m.GetRole())
		}
	case ActionCancelInvitations:
		invs, err := c.listInvitations(ctx, org, login, emailHashes(a))
		if err != nil {
			return err
		}
		if len(invs) > 0 {
			var ids []string
			for _, inv := range invs {
				ids = append(ids, fmt.Sprint(inv.GetID()))
			}
			return conflict(op, "%s to %s still pending: %s", connectors.Plural(len(invs), "invitation", "invitations"), org, strings.Join(ids, ", "))
		}
	case ActionRemoveOutsideCollaborator:
		outside, err := c.isOutsideCollaborator(ctx, org, login)
		if err != nil {
			return err
		}
		if outside {
			return conflict(op, "still an outside collaborator of %s", org)
		}
	}
	return nil
}
