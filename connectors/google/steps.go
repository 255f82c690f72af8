package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/offboard/offboard/connectors"
)

// target is what one step acts on: one Workspace user, by ID.
type target struct {
	c  *Client
	id string
	// user is the user as Plan read it, read once for the kinds whose
	// description depends on it. Run and Verify always read afresh.
	user *directory.User
	// mu guards user: a plan's kinds plan concurrently.
	mu sync.Mutex
}

// planUser reads the user once per plan.
func (t *target) planUser(ctx context.Context) (*directory.User, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.user == nil {
		u, err := t.c.getUser(ctx, t.id)
		if err != nil {
			return nil, err
		}
		t.user = u
	}
	return t.user, nil
}

// verifyOp is the Op of a Verify error: "verify <step ID>".
func verifyOp(action string) string { return "verify " + connectors.StepID(System, action, "") }

// table is the connector's steps in plan order. Sign-out, backup codes,
// app passwords and OAuth tokens cut at once; the suspension waits for
// everything that needs the account active (Google refuses backup codes
// once the user is suspended), and groups are cleaned up after sign-out.
var table = connectors.Steps[*target]{System: System, Kinds: []connectors.StepKind[*target]{
	{Action: ActionSignOut, Plan: planSignOut, Run: signOut, Verify: verifySignOut, Cuts: true},
	{Action: ActionInvalidateBackupCodes, Plan: planCodes, Run: invalidateCodes, Verify: verifyCodes},
	{Action: ActionDeleteAppPasswords, Plan: planASPs, Run: deleteASPs, Verify: verifyASPs},
	{Action: ActionRevokeOAuthTokens, Plan: planTokens, Run: revokeTokens, Verify: verifyTokens},
	{Action: ActionSuspend, Plan: planSuspend, Run: suspend, Verify: verifySuspend, Cuts: true,
		After: []string{ActionSignOut, ActionInvalidateBackupCodes, ActionDeleteAppPasswords, ActionRevokeOAuthTokens}},
	{Action: ActionRemoveGroups, Plan: planGroups, Run: removeGroups, Verify: verifyGroups, After: []string{ActionSignOut}},
}}

// Plan lists the steps that close the Workspace account, in the order they
// must run, with what each would act on. It only reads. A step with
// nothing to do is still listed; Run reports it as already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	id, err := accountID("plan", a)
	if err != nil {
		return nil, err
	}
	return table.Plan(ctx, "", &target{c: c, id: id})
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing. When a step
// fails part-way, the returned Outcome still carries the records gathered
// before the failure (what was listed before anything was removed).
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	t, err := c.target("run "+st.ID, a, st)
	if err != nil {
		return connectors.Outcome{}, err
	}
	return table.Run(ctx, st, t)
}

// Verify re-reads Google and returns a Conflict error ("verify: ...") when
// the step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	t, err := c.target("verify "+st.ID, a, st)
	if err != nil {
		return err
	}
	return table.Verify(ctx, st, t)
}

// target checks a step has no scope (Google steps have none) and builds
// what it acts on. The table checks the step's system, ID and action.
func (c *Client) target(op string, a connectors.Account, st connectors.Step) (*target, error) {
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	if st.Scope != "" {
		return nil, connectors.InvalidInputf(System, op, "step %q has scope %q; google steps have none", st.ID, st.Scope)
	}
	return &target{c: c, id: id}, nil
}

// Invalidate backup verification codes.

const codesText = "valid backup verification code"

func planCodes(ctx context.Context, t *target) (connectors.Planned, error) {
	u, err := t.planUser(ctx)
	if err != nil {
		return connectors.Planned{}, err
	}
	codes, err := t.c.listCodes(ctx, t.id)
	if err != nil {
		return connectors.Planned{}, err
	}
	n := connectors.Plural(len(codes), codesText, codesText+"s")
	if u.Suspended && len(codes) > 0 {
		return connectors.Planned{Description: "Invalidate " + n +
			"; the user is already suspended and Google refuses to invalidate a suspended user's codes, so unsuspend first"}, nil
	}
	return connectors.Planned{Description: "Invalidate " + n + " (before suspending: Google refuses once the user is suspended)"}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/verificationCodes/invalidate
func invalidateCodes(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	codes, err := c.listCodes(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(codes) == 0 {
		return connectors.Already("no valid backup verification codes")
	}
	// The codes themselves are secrets: only their number is recorded.
	rec := "invalidated " + connectors.Plural(len(codes), "backup verification code", "backup verification codes")
	if err := c.dir.VerificationCodes.Invalidate(id).Context(ctx).Do(); err != nil {
		err = apiError("invalidate backup codes", err)
		if s := connectors.StatusOf(err); s == http.StatusBadRequest || s == http.StatusPreconditionFailed {
			// Google refuses a suspended user's codes.
			if u, uerr := c.getUser(ctx, id); uerr == nil && u.Suspended {
				if ce, ok := errors.AsType[*connectors.Error](err); ok {
					ce.Msg += fmt.Sprintf("; the user is suspended, and Google does not invalidate a suspended user's backup codes: %s remain valid. Unsuspend the user, run this step, then suspend again",
						connectors.Plural(len(codes), "code", "codes"))
				}
			}
		}
		return connectors.Outcome{}, err
	}
	return connectors.Done(rec)
}

func verifyCodes(ctx context.Context, t *target) error {
	codes, err := t.c.listCodes(ctx, t.id)
	if err != nil {
		return err
	}
	if len(codes) > 0 {
		return connectors.Conflictf(System, verifyOp(ActionInvalidateBackupCodes), "%s still valid", connectors.Plural(len(codes), "backup verification code is", "backup verification codes are"))
	}
	return nil
}

// Delete app-specific passwords.

func planASPs(ctx context.Context, t *target) (connectors.Planned, error) {
	asps, err := t.c.listASPs(ctx, t.id)
	if err != nil {
		return connectors.Planned{}, err
	}
	var ids []string
	for _, x := range asps {
		ids = append(ids, strconv.FormatInt(x.CodeId, 10))
	}
	return connectors.Planned{Description: "Delete " + connectors.Plural(len(asps), "app-specific password", "app-specific passwords"), Targets: ids}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/asps/delete
func deleteASPs(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	asps, err := c.listASPs(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(asps) == 0 {
		return connectors.Already("no app-specific passwords")
	}
	var recs []string
	for _, x := range asps {
		r := fmt.Sprintf("app password %d", x.CodeId)
		if x.CreationTime > 0 {
			r += " created " + time.UnixMilli(x.CreationTime).UTC().Format(time.RFC3339)
		}
		if x.LastTimeUsed > 0 {
			r += ", last used " + time.UnixMilli(x.LastTimeUsed).UTC().Format(time.RFC3339)
		}
		recs = append(recs, r)
	}
	return connectors.RemoveEach(recs, asps, func(x *directory.Asp) (string, bool, error) {
		gone, err := removal("delete app password", c.dir.Asps.Delete(id, x.CodeId).Context(ctx).Do())
		if gone {
			return fmt.Sprintf("app password %d was already deleted", x.CodeId), false, err
		}
		return fmt.Sprintf("deleted app password %d", x.CodeId), true, err
	})
}

func verifyASPs(ctx context.Context, t *target) error {
	asps, err := t.c.listASPs(ctx, t.id)
	if err != nil {
		return err
	}
	if len(asps) > 0 {
		var ids []string
		for _, x := range asps {
			ids = append(ids, strconv.FormatInt(x.CodeId, 10))
		}
		return connectors.Conflictf(System, verifyOp(ActionDeleteAppPasswords), "%s remain: %s", connectors.Plural(len(asps), "app password", "app passwords"), strings.Join(ids, ", "))
	}
	return nil
}

// Revoke OAuth tokens.

func planTokens(ctx context.Context, t *target) (connectors.Planned, error) {
	tokens, err := t.c.listTokens(ctx, t.id)
	if err != nil {
		return connectors.Planned{}, err
	}
	var clients []string
	for _, tk := range tokens {
		clients = append(clients, tk.ClientId)
	}
	return connectors.Planned{Description: "Revoke " + connectors.Plural(len(tokens), "OAuth token", "OAuth tokens") + " the user granted to apps", Targets: clients}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
func revokeTokens(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	tokens, err := c.listTokens(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(tokens) == 0 {
		return connectors.Already("no OAuth tokens")
	}
	// What each app could do is recorded before the grant disappears.
	var recs []string
	for _, tk := range tokens {
		r := "OAuth token of client " + tk.ClientId
		if tk.DisplayText != "" {
			r += fmt.Sprintf(" (%s)", connectors.Scrub(tk.DisplayText))
		}
		scopes := "none"
		if len(tk.Scopes) > 0 {
			scopes = strings.Join(tk.Scopes, " ")
		}
		recs = append(recs, r+" scopes: "+scopes)
	}
	return connectors.RemoveEach(recs, tokens, func(tk *directory.Token) (string, bool, error) {
		gone, err := removal("delete OAuth token", c.dir.Tokens.Delete(id, tk.ClientId).Context(ctx).Do())
		if gone {
			return "OAuth token of client " + tk.ClientId + " was already revoked", false, err
		}
		return "revoked OAuth token of client " + tk.ClientId, true, err
	})
}

func verifyTokens(ctx context.Context, t *target) error {
	tokens, err := t.c.listTokens(ctx, t.id)
	if err != nil {
		return err
	}
	if len(tokens) > 0 {
		var ids []string
		for _, tk := range tokens {
			ids = append(ids, tk.ClientId)
		}
		return connectors.Conflictf(System, verifyOp(ActionRevokeOAuthTokens), "%s remain, for clients %s", connectors.Plural(len(tokens), "OAuth token", "OAuth tokens"), strings.Join(ids, ", "))
	}
	return nil
}

// Sign out of every session.

func planSignOut(context.Context, *target) (connectors.Planned, error) {
	return connectors.Planned{Description: "Sign the user out of every web and device session (resets their sign-in cookies)"}, nil
}

// signOut signs the user out everywhere. Google has no API that lists a
// user's sessions, so "already" needs evidence from the Reports API: an
// admin sign-out of the user and no sign-in since. Without it (or when
// the Reports API cannot be read) the sign-out is sent; it is idempotent.
//
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
func signOut(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	if out, at, err := c.lastSignOut(ctx, id); err == nil && out {
		return connectors.Already("signed out at " + at.UTC().Format(time.RFC3339) + "; no sign-in since")
	}
	if err := c.dir.Users.SignOut(id).Context(ctx).Do(); err != nil {
		return connectors.Outcome{}, apiError("sign out", err)
	}
	return connectors.Done("signed out of every web and device session")
}

// verifySignOut reads what can be read: the Reports API. The step holds
// when it shows an admin sign-out of the user and no sign-in after it. It
// lags, so right after Run this may be a Conflict to retry.
func verifySignOut(ctx context.Context, t *target) error {
	out, _, err := t.c.lastSignOut(ctx, t.id)
	if err != nil {
		return err
	}
	if !out {
		return connectors.Conflictf(System, verifyOp(ActionSignOut), "the Reports API shows no sign-out of the user after their last sign-in (it can lag by minutes)")
	}
	return nil
}

// Reports API names of what sign-out evidence is made of.
const (
	eventSignOut = "RESET_SIGNIN_COOKIES" // admin: "Cookies reset for {USER_EMAIL} and forced re-login"
	eventLogin   = "login_success"        // login
)

// lastSignOut reads the Reports API for the newest admin sign-out of the
// user within the lookback window, and whether they signed in after it.
// It reports whether the user has stayed signed out, and since when.
//
// Admin events name their target only by email (USER_EMAIL), so the
// user's primary email is read first. Reports lag (minutes for admin
// events, longer for some logins), so a fresh sign-out may not show yet.
func (c *Client) lastSignOut(ctx context.Context, id string) (bool, time.Time, error) {
	const op = "read reports"
	u, err := c.getUser(ctx, id)
	if err != nil {
		return false, time.Time{}, err
	}
	now := c.now().UTC()
	outs, err := c.rep.Activities.List("all", "admin").EventName(eventSignOut).
		Filters("USER_EMAIL==" + u.PrimaryEmail).
		StartTime(now.Add(-c.lookback).Format(time.RFC3339)).MaxResults(1).Context(ctx).Do()
	if err != nil {
		return false, time.Time{}, apiError(op, err)
	}
	if len(outs.Items) == 0 || outs.Items[0].Id == nil {
		return false, time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, outs.Items[0].Id.Time)
	if err != nil {
		return false, time.Time{}, &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Msg: "activity time is not RFC 3339"}
	}
	// Sign-ins at the same instant as the sign-out count as after it.
	ins, err := c.rep.Activities.List(id, "login").EventName(eventLogin).
		StartTime(at.UTC().Format(time.RFC3339Nano)).MaxResults(1).Context(ctx).Do()
	if err != nil {
		return false, time.Time{}, apiError(op, err)
	}
	return len(ins.Items) == 0, at, nil
}

// Suspend the user.

func planSuspend(ctx context.Context, t *target) (connectors.Planned, error) {
	u, err := t.planUser(ctx)
	if err != nil {
		return connectors.Planned{}, err
	}
	desc := "Suspend the Workspace user: sign-in stops, data, groups and licences stay, so it can be undone"
	if u.Suspended {
		desc = "The Workspace user is already suspended"
	}
	if u.IsAdmin {
		desc += " (the user is a super admin)"
	}
	return connectors.Planned{Description: desc}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/patch
func suspend(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	u, err := c.getUser(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if u.Suspended {
		r := "already suspended"
		if u.SuspensionReason != "" {
			r += " (reason " + u.SuspensionReason + ")"
		}
		return connectors.Already(r)
	}
	var recs []string
	// Suspension ends any chance to invalidate backup codes; say so if some
	// are still valid (the plan runs that step first).
	if codes, err := c.listCodes(ctx, id); err == nil && len(codes) > 0 {
		recs = append(recs, fmt.Sprintf("warning: %s still valid at suspension; Google cannot invalidate them while the user is suspended",
			connectors.Plural(len(codes), "backup code was", "backup codes were")))
	}
	if _, err := c.dir.Users.Patch(id, &directory.User{Suspended: true}).Context(ctx).Do(); err != nil {
		return connectors.Outcome{}, apiError("suspend user", err)
	}
	return connectors.Done(append(recs, "suspended (was active)")...)
}

func verifySuspend(ctx context.Context, t *target) error {
	u, err := t.c.getUser(ctx, t.id)
	if err != nil {
		return err
	}
	if !u.Suspended {
		return connectors.Conflictf(System, verifyOp(ActionSuspend), "the user is not suspended")
	}
	return nil
}

// Remove group memberships.

func planGroups(ctx context.Context, t *target) (connectors.Planned, error) {
	groups, err := t.c.listGroups(ctx, t.id)
	if err != nil {
		return connectors.Planned{}, err
	}
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Id)
	}
	return connectors.Planned{Description: "Remove the user from " + connectors.Plural(len(groups), "group", "groups"), Targets: ids}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/members/delete
func removeGroups(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	groups, err := c.listGroups(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(groups) == 0 {
		return connectors.Already("in no groups")
	}
	return connectors.RemoveEach(nil, groups, func(g *directory.Group) (string, bool, error) {
		gone, err := removal("remove group membership", c.dir.Members.Delete(g.Id, id).Context(ctx).Do())
		if gone {
			return "group " + g.Id + " was already left", false, err
		}
		return "removed from group " + g.Id, true, err
	})
}

func verifyGroups(ctx context.Context, t *target) error {
	groups, err := t.c.listGroups(ctx, t.id)
	if err != nil {
		return err
	}
	if len(groups) > 0 {
		var ids []string
		for _, g := range groups {
			ids = append(ids, g.Id)
		}
		return connectors.Conflictf(System, verifyOp(ActionRemoveGroups), "still in %s: %s", connectors.Plural(len(groups), "group", "groups"), strings.Join(ids, ", "))
	}
	return nil
}

// Reads shared by the kinds.

// removal runs one removal call; a 404 means it was already gone.
func removal(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	err = apiError(op, err)
	if connectors.StatusOf(err) == http.StatusNotFound {
		return true, nil
	}
	return false, err
}

func (c *Client) listCodes(ctx context.Context, id string) ([]*directory.VerificationCode, error) {
	res, err := c.dir.VerificationCodes.List(id).Context(ctx).Do()
	if err != nil {
		return nil, apiError("list backup codes", err)
	}
	var valid []*directory.VerificationCode
	for _, v := range res.Items {
		if v != nil && v.VerificationCode != "" {
			valid = append(valid, v)
		}
	}
	return valid, nil
}

func (c *Client) listASPs(ctx context.Context, id string) ([]*directory.Asp, error) {
	res, err := c.dir.Asps.List(id).Context(ctx).Do()
	if err != nil {
		return nil, apiError("list app passwords", err)
	}
	return res.Items, nil
}

func (c *Client) listTokens(ctx context.Context, id string) ([]*directory.Token, error) {
	res, err := c.dir.Tokens.List(id).Context(ctx).Do()
	if err != nil {
		return nil, apiError("list OAuth tokens", err)
	}
	return res.Items, nil
}

// maxPages bounds a listing, in case a server keeps handing out pages.
const maxPages = 1000

var errEndless = errors.New("pagination did not end")

// listGroups lists every group the user is a direct member of, all pages.
func (c *Client) listGroups(ctx context.Context, id string) ([]*directory.Group, error) {
	var out []*directory.Group
	seen := map[string]bool{}
	pages := 0
	err := c.dir.Groups.List().UserKey(id).Pages(ctx, func(g *directory.Groups) error {
		out = append(out, g.Groups...)
		pages++
		if g.NextPageToken != "" && (seen[g.NextPageToken] || pages >= maxPages) {
			return errEndless
		}
		seen[g.NextPageToken] = true
		return nil
	})
	if errors.Is(err, errEndless) {
		return nil, &connectors.Error{Kind: connectors.Unavailable, System: System, Op: "list groups", Msg: errEndless.Error()}
	}
	if err != nil {
		return nil, apiError("list groups", err)
	}
	return out, nil
}
