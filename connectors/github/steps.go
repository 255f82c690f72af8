package github

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// target is what one step acts on: one login in one configured org.
type target struct {
	c      *Client
	org    string
	login  string
	hashes map[string]bool // the person's email hashes, for invitations by email
	// role is the person's active membership role in org as Resolve read
	// it ("admin", "member"), or "": then the plan reads the membership.
	role string
	// found is what the plan read, for the step's first run (Step.Found).
	found *connectors.Found
}

// planned is what the step acts on (connectors.FoundOr).
func (t target) planned(ctx context.Context, plan func(context.Context, target) (connectors.Planned, error)) (*connectors.Found, error) {
	return connectors.FoundOr(ctx, t.found, t, plan)
}

// ids are the found IDs of one kind ("credential:42" for kind
// "credential"), as numbers; a malformed one is refused, as a step built
// by hand or tampered with.
func foundIDs(op string, f *connectors.Found, kind string) ([]int64, error) {
	var out []int64
	for _, v := range f.IDs {
		k, n, _ := strings.Cut(v, ":")
		if k != kind {
			continue
		}
		id, err := strconv.ParseInt(n, 10, 64)
		if err != nil || id <= 0 {
			return nil, connectors.InvalidInputf(System, op, "found %s ID %q is not a positive number", kind, n)
		}
		out = append(out, id)
	}
	return out, nil
}

// foundID is how a found ID is written: kind:id.
func foundID(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// activeRole is the role Resolve found login to hold as an active member of
// org, from the account's AttrRoles ("org:role,..."), or "".
func activeRole(a connectors.Account, org string) string {
	for r := range strings.SplitSeq(a.Attributes[AttrRoles], ",") {
		i := strings.LastIndex(r, ":")
		if i > 0 && strings.EqualFold(r[:i], org) && (r[i+1:] == "admin" || r[i+1:] == "member") {
			return r[i+1:]
		}
	}
	return ""
}

// verifyOp is the Op of a Verify error: "verify <step ID>".
func (t target) verifyOp(action string) string {
	return "verify " + connectors.StepID(System, action, t.org)
}

// table is the connector's steps within an org, in plan order.
// Credential authorizations, fine-grained tokens and invitations go at
// once; membership and outside collaboration go after the credentials
// (GitHub stops listing them once the membership is gone). Orgs are
// independent of each other.
//
// Every kind is settled: no removal undoes another (removing the
// membership hides the credentials, tokens and invitations from their
// lists, so reading them again after it would prove nothing), and each
// plan says what its run acts on, so a first run does not read again.
var table = connectors.Steps[target]{System: System, ScopeKind: "org", Kinds: []connectors.StepKind[target]{
	{Action: ActionRevokeCredentialAuthorizations, Plan: planCredentials, Run: revokeCredentials, Verify: verifyCredentials, Settled: true},
	{Action: ActionRevokeFineGrainedPATs, Plan: planTokens, Run: revokeTokens, Verify: verifyTokens, Settled: true},
	{Action: ActionRemoveMembership, Plan: planMembership, Run: removeMembership, Verify: verifyMembership, After: credentialsFirst, Cuts: true, Settled: true},
	{Action: ActionCancelInvitations, Plan: planInvitations, Run: cancelInvitations, Verify: verifyInvitations, Settled: true},
	{Action: ActionRemoveOutsideCollaborator, Plan: planOutside, Run: removeOutside, Verify: verifyOutside, After: credentialsFirst, Cuts: true, Settled: true},
}}

var credentialsFirst = []string{ActionRevokeCredentialAuthorizations, ActionRevokeFineGrainedPATs}

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
	// The orgs at once, their steps in the configured order.
	planned := make([][]connectors.Step, len(c.orgs))
	err = connectors.Each(len(c.orgs), func(i int) error {
		var err error
		planned[i], err = table.Plan(ctx, c.orgs[i], target{c: c, org: c.orgs[i], login: login, hashes: hashes, role: activeRole(a, c.orgs[i])})
		return err
	})
	if err != nil {
		return nil, err
	}
	return slices.Concat(planned...), nil
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing; a 404 on a
// removal counts as already removed. Records name what was found (IDs,
// types, dates; no names or emails) and are gathered before anything is
// removed; when a removal fails part-way the Outcome returned with the
// error still carries them.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	t, err := c.target("run "+st.ID, a, st)
	if err != nil {
		return connectors.Outcome{}, err
	}
	return table.Run(ctx, st, t)
}

// Verify re-reads GitHub and returns a Conflict error ("verify: ...") when
// the step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	t, err := c.target("verify "+st.ID, a, st)
	if err != nil {
		return err
	}
	return table.Verify(ctx, st, t)
}

// target checks a step is for a configured org (its Scope) and builds what
// it acts on. The table checks the step's system, ID and action.
func (c *Client) target(op string, a connectors.Account, st connectors.Step) (target, error) {
	login, err := accountLogin(op, a)
	if err != nil {
		return target{}, err
	}
	if st.Scope == "" {
		return target{}, connectors.InvalidInputf(System, op, "step %q names no org", st.ID)
	}
	org, ok := c.org(st.Scope)
	if !ok {
		return target{}, connectors.InvalidInputf(System, op, "step %q names org %q, which is not configured", st.ID, st.Scope)
	}
	return target{c: c, org: org, login: login, hashes: emailHashes(a), found: st.Found}, nil
}

// Revoke credential authorizations.

func planCredentials(ctx context.Context, t target) (connectors.Planned, error) {
	creds, err := t.c.listCredentials(ctx, t.org, t.login)
	if err != nil {
		return connectors.Planned{}, err
	}
	var targets []string
	found := &connectors.Found{}
	for _, cr := range creds {
		targets = append(targets, fmt.Sprintf("credential:%d:%s", cr.GetCredentialID(), credKind(cr)))
		found.IDs = append(found.IDs, foundID("credential", cr.GetCredentialID()))
		found.Records = append(found.Records, credRecord(t.org, cr))
	}
	return connectors.Planned{
		Description: fmt.Sprintf("Record and revoke %s in %s (first: GitHub stops listing them once the membership is gone)",
			connectors.Plural(len(creds), "SAML SSO credential authorization", "SAML SSO credential authorizations"), t.org),
		Targets: targets,
		Found:   found,
	}, nil
}

// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
func revokeCredentials(ctx context.Context, t target) (connectors.Outcome, error) {
	c, org := t.c, t.org
	f, err := t.planned(ctx, planCredentials)
	if err != nil {
		return connectors.Outcome{}, err
	}
	creds, err := foundIDs("run "+connectors.StepID(System, ActionRevokeCredentialAuthorizations, org), f, "credential")
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(creds) == 0 {
		return connectors.Already()
	}
	recs := slices.Clone(f.Records)
	// Revoked at once; an authorization already gone is noted.
	notes := make([]string, len(creds))
	revoked := make([]bool, len(creds))
	err = connectors.Each(len(creds), func(i int) error {
		resp, err := c.api.Organizations.RemoveCredentialAuthorization(ctx, org, creds[i])
		if err != nil {
			err = c.apiError("revoke credential authorization in "+org, resp, err)
			if connectors.StatusOf(err) == http.StatusNotFound {
				notes[i] = fmt.Sprintf("org=%s credential_id=%d was already revoked", org, creds[i])
				return nil
			}
			return err
		}
		revoked[i] = true
		return nil
	})
	recs = append(recs, slices.DeleteFunc(notes, func(n string) bool { return n == "" })...)
	if err != nil {
		return connectors.Outcome{Records: recs}, err
	}
	if !slices.Contains(revoked, true) {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

func verifyCredentials(ctx context.Context, t target) error {
	creds, err := t.c.listCredentials(ctx, t.org, t.login)
	if err != nil {
		return err
	}
	if len(creds) > 0 {
		var ids []string
		for _, cr := range creds {
			ids = append(ids, fmt.Sprint(cr.GetCredentialID()))
		}
		return connectors.Conflictf(System, t.verifyOp(ActionRevokeCredentialAuthorizations), "%s still listed in %s: %s",
			connectors.Plural(len(creds), "credential authorization", "credential authorizations"), t.org, strings.Join(ids, ", "))
	}
	return nil
}

// Revoke fine-grained personal access tokens and deny their requests.

// listGrants lists the login's fine-grained PATs in the org and its pending
// requests, the two at once.
func (t target) listGrants(ctx context.Context) (pats, reqs []patGrant, _ error) {
	var patsErr, reqsErr error
	var wg sync.WaitGroup
	wg.Go(func() { pats, patsErr = t.c.listTokens(ctx, t.org, kindPATs, t.login) })
	reqs, reqsErr = t.c.listTokens(ctx, t.org, kindRequests, t.login)
	wg.Wait()
	if err := cmp.Or(patsErr, reqsErr); err != nil {
		return nil, nil, err
	}
	return pats, reqs, nil
}

func planTokens(ctx context.Context, t target) (connectors.Planned, error) {
	pats, reqs, err := t.listGrants(ctx)
	if err != nil {
		return connectors.Planned{}, err
	}
	var targets []string
	found := &connectors.Found{}
	for _, p := range pats {
		targets = append(targets, fmt.Sprintf("pat:%d", p.ID))
		found.IDs = append(found.IDs, foundID("pat", p.ID))
		found.Records = append(found.Records, patRecord(t.org, p))
	}
	for _, p := range reqs {
		targets = append(targets, fmt.Sprintf("pat-request:%d", p.ID))
		found.IDs = append(found.IDs, foundID("request", p.ID))
		found.Records = append(found.Records, requestRecord(t.org, p))
	}
	return connectors.Planned{
		Description: fmt.Sprintf("Revoke the access of %s to %s and deny %s",
			connectors.Plural(len(pats), "fine-grained personal access token", "fine-grained personal access tokens"), t.org,
			connectors.Plural(len(reqs), "pending access request", "pending access requests")),
		Targets: targets,
		Found:   found,
	}, nil
}

// revokeTokens revokes the fine-grained PATs' access to the org (in bulk,
// 100 at a time) and denies the pending requests.
//
// https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens
// https://docs.github.com/rest/orgs/personal-access-tokens#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token
func revokeTokens(ctx context.Context, t target) (connectors.Outcome, error) {
	c, org, login := t.c, t.org, t.login
	f, err := t.planned(ctx, planTokens)
	if err != nil {
		return connectors.Outcome{}, err
	}
	op := "run " + connectors.StepID(System, ActionRevokeFineGrainedPATs, org)
	pats, err := foundIDs(op, f, "pat")
	if err != nil {
		return connectors.Outcome{}, err
	}
	reqs, err := foundIDs(op, f, "request")
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(pats) == 0 && len(reqs) == 0 {
		return connectors.Already()
	}
	// The batches of tokens (100 a call) and the requests go at once: a
	// token's revocation and a request's denial do not depend on each
	// other.
	batches := slices.Collect(slices.Chunk(pats, 100))
	notes := make([]string, len(batches)+len(reqs))
	changed := make([]bool, len(notes))
	err = connectors.Each(len(notes), func(i int) error {
		if i < len(batches) {
			ids := batches[i]
			n, err := c.revokePATs(ctx, org, login, ids)
			if err != nil {
				return err
			}
			if n < len(ids) {
				notes[i] = fmt.Sprintf("org=%s %s already revoked", org, connectors.Plural(len(ids)-n, "token was", "tokens were"))
			}
			changed[i] = n > 0
			return nil
		}
		id := reqs[i-len(batches)]
		resp, err := c.api.Organizations.ReviewPersonalAccessTokenRequest(ctx, org, id,
			gh.ReviewPersonalAccessTokenRequestOptions{Action: "deny", Reason: gh.String(denyReason)})
		if err != nil {
			err = c.apiError("deny fine-grained PAT request in "+org, resp, err)
			if connectors.StatusOf(err) == http.StatusNotFound {
				notes[i] = fmt.Sprintf("org=%s pat_request_id=%d was already reviewed", org, id)
				return nil
			}
			return err
		}
		changed[i] = true
		return nil
	})
	recs := append(slices.Clone(f.Records), slices.DeleteFunc(notes, func(n string) bool { return n == "" })...)
	if err != nil {
		return connectors.Outcome{Records: recs}, err
	}
	if !slices.Contains(changed, true) {
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
		return 0, connectors.InvalidInputf(System, op, "%s", connectors.Scrub(err.Error()))
	}
	resp, err := c.api.Do(ctx, req, nil)
	var accepted *gh.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return len(ids), nil
	}
	err = c.apiError(op, resp, err)
	if s := connectors.StatusOf(err); s != http.StatusNotFound && s != http.StatusUnprocessableEntity {
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

func verifyTokens(ctx context.Context, t target) error {
	pats, reqs, err := t.listGrants(ctx)
	if err != nil {
		return err
	}
	if len(pats) > 0 || len(reqs) > 0 {
		return connectors.Conflictf(System, t.verifyOp(ActionRevokeFineGrainedPATs), "%s still have access to %s and %s pending",
			connectors.Plural(len(pats), "fine-grained token", "fine-grained tokens"), t.org, connectors.Plural(len(reqs), "request is", "requests are"))
	}
	return nil
}

// Remove the membership (which also cancels an invitation to the login).

// An active member's membership is as Resolve just read it; any other is
// read.
func planMembership(ctx context.Context, t target) (connectors.Planned, error) {
	state, role := "active", t.role
	if role == "" {
		m, err := t.c.getMembership(ctx, t.org, t.login)
		if err != nil {
			return connectors.Planned{}, err
		}
		if m == nil {
			return connectors.Planned{Description: fmt.Sprintf("Not a member of %s and no invitation to the login", t.org), Found: &connectors.Found{}}, nil
		}
		state, role = m.GetState(), m.GetRole()
	}
	found := &connectors.Found{IDs: []string{"membership"}, Records: []string{fmt.Sprintf("org=%s membership state=%s role=%s", t.org, state, role)}}
	if state == "pending" {
		return connectors.Planned{
			Description: fmt.Sprintf("Cancel the pending invitation to the login in %s by removing the membership", t.org),
			Targets:     []string{"membership:pending:" + role},
			Found:       found,
		}, nil
	}
	return connectors.Planned{
		Description: fmt.Sprintf("Remove the %s from %s, and so from all its teams and repositories", role, t.org),
		Targets:     []string{"membership:" + state + ":" + role},
		Found:       found,
	}, nil
}

// https://docs.github.com/rest/orgs/members#remove-organization-membership-for-a-user
func removeMembership(ctx context.Context, t target) (connectors.Outcome, error) {
	c, org, login := t.c, t.org, t.login
	f, err := t.planned(ctx, planMembership)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if !slices.Contains(f.IDs, "membership") {
		return connectors.Already()
	}
	rec := strings.Join(f.Records, "; ")
	// user first, org second: go-github's argument order.
	resp, err := c.api.Organizations.RemoveOrgMembership(ctx, login, org)
	if err != nil {
		err = c.apiError("remove membership in "+org, resp, err)
		if connectors.StatusOf(err) == http.StatusNotFound {
			return connectors.Already(rec + " was already gone")
		}
		return connectors.Outcome{Records: []string{rec}}, err
	}
	return connectors.Done(rec + " removed")
}

func verifyMembership(ctx context.Context, t target) error {
	m, err := t.c.getMembership(ctx, t.org, t.login)
	if err != nil {
		return err
	}
	if m != nil {
		return connectors.Conflictf(System, t.verifyOp(ActionRemoveMembership), "membership in %s is %s (role %s)", t.org, m.GetState(), m.GetRole())
	}
	return nil
}

// Cancel invitations addressed to the login or to the person's emails.

func planInvitations(ctx context.Context, t target) (connectors.Planned, error) {
	invs, err := t.c.listInvitations(ctx, t.org, t.login, t.hashes)
	if err != nil {
		return connectors.Planned{}, err
	}
	var targets []string
	found := &connectors.Found{}
	for _, inv := range invs {
		targets = append(targets, fmt.Sprintf("invitation:%d:%s", inv.GetID(), addressee(inv)))
		found.IDs = append(found.IDs, foundID("invitation", inv.GetID()))
		found.Records = append(found.Records, invitationRecord(t.org, inv))
	}
	return connectors.Planned{
		Description: fmt.Sprintf("Cancel %s to %s addressed to the person's login or email",
			connectors.Plural(len(invs), "pending invitation", "pending invitations"), t.org),
		Targets: targets,
		Found:   found,
	}, nil
}

// https://docs.github.com/rest/orgs/members#cancel-an-organization-invitation
func cancelInvitations(ctx context.Context, t target) (connectors.Outcome, error) {
	c, org := t.c, t.org
	f, err := t.planned(ctx, planInvitations)
	if err != nil {
		return connectors.Outcome{}, err
	}
	invs, err := foundIDs("run "+connectors.StepID(System, ActionCancelInvitations, org), f, "invitation")
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(invs) == 0 {
		return connectors.Already()
	}
	recs := slices.Clone(f.Records)
	cancelled := 0
	for _, id := range invs {
		op := "cancel invitation in " + org
		// go-github v60 has no CancelInvite (v66+).
		req, err := c.api.NewRequest(http.MethodDelete, fmt.Sprintf("orgs/%s/invitations/%d", org, id), nil)
		if err != nil {
			return connectors.Outcome{Records: recs}, connectors.InvalidInputf(System, op, "%s", connectors.Scrub(err.Error()))
		}
		resp, err := c.api.Do(ctx, req, nil)
		if err != nil {
			err = c.apiError(op, resp, err)
			if connectors.StatusOf(err) == http.StatusNotFound {
				recs = append(recs, fmt.Sprintf("org=%s invitation_id=%d was already gone", org, id))
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

func verifyInvitations(ctx context.Context, t target) error {
	invs, err := t.c.listInvitations(ctx, t.org, t.login, t.hashes)
	if err != nil {
		return err
	}
	if len(invs) > 0 {
		var ids []string
		for _, inv := range invs {
			ids = append(ids, fmt.Sprint(inv.GetID()))
		}
		return connectors.Conflictf(System, t.verifyOp(ActionCancelInvitations), "%s to %s still pending: %s",
			connectors.Plural(len(invs), "invitation", "invitations"), t.org, strings.Join(ids, ", "))
	}
	return nil
}

// Remove the outside collaborator.

// An active member is not an outside collaborator (GitHub's outside
// collaborators are the non-members with access to a repository), so only
// a non-member's list is read.
func planOutside(ctx context.Context, t target) (connectors.Planned, error) {
	outside := false
	if t.role == "" {
		var err error
		if outside, err = t.c.isOutsideCollaborator(ctx, t.org, t.login); err != nil {
			return connectors.Planned{}, err
		}
	}
	if !outside {
		return connectors.Planned{Description: fmt.Sprintf("Not an outside collaborator of %s", t.org), Found: &connectors.Found{}}, nil
	}
	return connectors.Planned{
		Description: fmt.Sprintf("Remove the outside collaborator from every repository of %s", t.org),
		Targets:     []string{"outside-collaborator"},
		Found:       &connectors.Found{IDs: []string{"outside-collaborator"}},
	}, nil
}

// https://docs.github.com/rest/orgs/outside-collaborators#remove-outside-collaborator-from-an-organization
func removeOutside(ctx context.Context, t target) (connectors.Outcome, error) {
	c, org, login := t.c, t.org, t.login
	f, err := t.planned(ctx, planOutside)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if !slices.Contains(f.IDs, "outside-collaborator") {
		return connectors.Already()
	}
	rec := fmt.Sprintf("org=%s outside_collaborator", org)
	resp, err := c.api.Organizations.RemoveOutsideCollaborator(ctx, org, login)
	if err != nil {
		err = c.apiError("remove outside collaborator from "+org, resp, err)
		switch connectors.StatusOf(err) {
		case http.StatusNotFound:
			return connectors.Already(rec + " was already removed")
		case http.StatusUnprocessableEntity:
			// GitHub refuses while the user is a member.
			var ce *connectors.Error
			if errors.As(err, &ce) {
				ce.Kind = connectors.Conflict
				ce.Msg += " (the user is an org member; run " + connectors.StepID(System, ActionRemoveMembership, org) + " first)"
			}
		}
		return connectors.Outcome{Records: []string{rec}}, err
	}
	return connectors.Done(rec + " removed")
}

func verifyOutside(ctx context.Context, t target) error {
	outside, err := t.c.isOutsideCollaborator(ctx, t.org, t.login)
	if err != nil {
		return err
	}
	if outside {
		return connectors.Conflictf(System, t.verifyOp(ActionRemoveOutsideCollaborator), "still an outside collaborator of %s", t.org)
	}
	return nil
}

// Records and targets.

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
