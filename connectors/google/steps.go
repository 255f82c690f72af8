package google

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
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
	// found is what the step's plan read, for its first run (Step.Found);
	// nil: the run reads.
	found *connectors.Found
}

// planned is what the step acts on (connectors.FoundOr).
func (t *target) planned(ctx context.Context, plan func(context.Context, *target) (connectors.Planned, error)) (*connectors.Found, error) {
	return connectors.FoundOr(ctx, t.found, t, plan)
}

// foundIDRE is what a found client, group or app password ID may be.
var foundIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// checkFound refuses what a plan does not write (a step built by hand, or
// tampered with): IDs that are not valid, or, where each ID has a record,
// a number of records that is not theirs.
func checkFound(action string, f *connectors.Found, records bool, valid func(string) bool) error {
	op := "run " + connectors.StepID(System, action, "")
	if records && len(f.Records) != len(f.IDs) {
		return connectors.InvalidInputf(System, op, "found %d IDs with %d records", len(f.IDs), len(f.Records))
	}
	for _, id := range f.IDs {
		if !valid(id) {
			return connectors.InvalidInputf(System, op, "found ID %q is not what a plan writes", id)
		}
	}
	return nil
}

// foundUser is what a sign-out or suspension acts on: the plan found the
// user to act on (IDs is the user's ID), or nothing to do (no IDs and the
// one record the run keeps). Anything else is refused.
func (t *target) foundUser(action string, f *connectors.Found) (act bool, _ error) {
	switch {
	case len(f.IDs) == 1 && f.IDs[0] == t.id && len(f.Records) == 0:
		return true, nil
	case len(f.IDs) == 0 && len(f.Records) == 1:
		return false, nil
	}
	return false, t.refuseFound(action, f)
}

func (t *target) refuseFound(action string, f *connectors.Found) error {
	return connectors.InvalidInputf(System, "run "+connectors.StepID(System, action, ""), "found %q is not the step's user as a plan writes it", f.IDs)
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
	return &target{c: c, id: id, found: st.Found}, nil
}

// Invalidate backup verification codes.

const codesText = "valid backup verification code"

func planCodes(ctx context.Context, t *target) (connectors.Planned, error) {
	// The user and the codes are read at once.
	var u *directory.User
	var uerr error
	var wg sync.WaitGroup
	wg.Go(func() { u, uerr = t.planUser(ctx) })
	codes, err := t.c.listCodes(ctx, t.id)
	wg.Wait()
	if err = cmp.Or(uerr, err); err != nil {
		return connectors.Planned{}, err
	}
	n := connectors.Plural(len(codes), codesText, codesText+"s")
	p := connectors.Planned{Description: "Invalidate " + n + " (before suspending: Google refuses once the user is suspended)", Found: t.codesFound(codes)}
	if u.Suspended && len(codes) > 0 {
		p.Description = "Invalidate " + n + "; the user is already suspended and Google refuses to invalidate a suspended user's codes, so unsuspend first"
	}
	return p, nil
}

// codesFound is what invalidating acts on: the user, with the number of
// valid codes as its record (the codes are secrets), or nothing.
func (t *target) codesFound(codes []*directory.VerificationCode) *connectors.Found {
	if len(codes) == 0 {
		return &connectors.Found{}
	}
	return &connectors.Found{IDs: []string{t.id}, Records: []string{strconv.Itoa(len(codes))}}
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/verificationCodes/invalidate
func invalidateCodes(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	f := t.found
	if f == nil {
		codes, err := c.listCodes(ctx, id)
		if err != nil {
			return connectors.Outcome{}, err
		}
		f = t.codesFound(codes)
	}
	if err := checkFound(ActionInvalidateBackupCodes, f, true, func(v string) bool { return v == id }); err != nil {
		return connectors.Outcome{}, err
	}
	if len(f.IDs) == 0 {
		return connectors.Already("no valid backup verification codes")
	}
	n, err := strconv.Atoi(f.Records[0])
	if err != nil || n <= 0 || len(f.IDs) != 1 {
		return connectors.Outcome{}, connectors.InvalidInputf(System, "run "+connectors.StepID(System, ActionInvalidateBackupCodes, ""), "found %q backup codes is not what a plan writes", f.Records)
	}
	// The codes themselves are secrets: only their number is recorded.
	rec := "invalidated " + connectors.Plural(n, "backup verification code", "backup verification codes")
	if err := c.dir.VerificationCodes.Invalidate(id).Context(ctx).Do(); err != nil {
		err = apiError("invalidate backup codes", err)
		if s := connectors.StatusOf(err); s == http.StatusBadRequest || s == http.StatusPreconditionFailed {
			// Google refuses a suspended user's codes. What is left is
			// read: none (a retry after the suspension) is already done.
			codes, cerr := c.listCodes(ctx, id)
			if cerr == nil && len(codes) == 0 {
				return connectors.Already("no valid backup verification codes")
			}
			if u, uerr := c.getUser(ctx, id); cerr == nil && uerr == nil && u.Suspended {
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
	found := &connectors.Found{}
	for _, x := range asps {
		found.IDs = append(found.IDs, strconv.FormatInt(x.CodeId, 10))
		r := fmt.Sprintf("app password %d", x.CodeId)
		if x.CreationTime > 0 {
			r += " created " + time.UnixMilli(x.CreationTime).UTC().Format(time.RFC3339)
		}
		if x.LastTimeUsed > 0 {
			r += ", last used " + time.UnixMilli(x.LastTimeUsed).UTC().Format(time.RFC3339)
		}
		found.Records = append(found.Records, r)
	}
	return connectors.Planned{Description: "Delete " + connectors.Plural(len(asps), "app-specific password", "app-specific passwords"), Targets: found.IDs, Found: found}, nil
}

// codeID is an app password's ID as a plan writes it, or 0.
func codeID(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/asps/delete
func deleteASPs(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	f, err := t.planned(ctx, planASPs)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if err := checkFound(ActionDeleteAppPasswords, f, true, func(v string) bool { return codeID(v) > 0 }); err != nil {
		return connectors.Outcome{}, err
	}
	if len(f.IDs) == 0 {
		return connectors.Already("no app-specific passwords")
	}
	codeIDs := make([]int64, len(f.IDs))
	for i, v := range f.IDs {
		codeIDs[i] = codeID(v)
	}
	return connectors.RemoveEach(slices.Clone(f.Records), codeIDs, func(code int64) (string, bool, error) {
		gone, err := removal("delete app password", c.dir.Asps.Delete(id, code).Context(ctx).Do())
		if gone {
			return fmt.Sprintf("app password %d was already deleted", code), false, err
		}
		return fmt.Sprintf("deleted app password %d", code), true, err
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
	// What each app could do is recorded before the grant disappears.
	found := &connectors.Found{}
	for _, tk := range tokens {
		found.IDs = append(found.IDs, tk.ClientId)
		r := "OAuth token of client " + tk.ClientId
		if tk.DisplayText != "" {
			r += fmt.Sprintf(" (%s)", connectors.Scrub(tk.DisplayText))
		}
		scopes := "none"
		if len(tk.Scopes) > 0 {
			scopes = strings.Join(tk.Scopes, " ")
		}
		found.Records = append(found.Records, r+" scopes: "+scopes)
	}
	return connectors.Planned{Description: "Revoke " + connectors.Plural(len(tokens), "OAuth token", "OAuth tokens") + " the user granted to apps", Targets: found.IDs, Found: found}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
func revokeTokens(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	f, err := t.planned(ctx, planTokens)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if err := checkFound(ActionRevokeOAuthTokens, f, true, foundIDRE.MatchString); err != nil {
		return connectors.Outcome{}, err
	}
	if len(f.IDs) == 0 {
		return connectors.Already("no OAuth tokens")
	}
	return connectors.RemoveEach(slices.Clone(f.Records), f.IDs, func(client string) (string, bool, error) {
		gone, err := removal("delete OAuth token", c.dir.Tokens.Delete(id, client).Context(ctx).Do())
		if gone {
			return "OAuth token of client " + client + " was already revoked", false, err
		}
		return "revoked OAuth token of client " + client, true, err
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

func planSignOut(_ context.Context, t *target) (connectors.Planned, error) {
	return connectors.Planned{Description: "Sign the user out of every web and device session (resets their sign-in cookies)",
		Found: &connectors.Found{IDs: []string{t.id}}}, nil
}

// signOut signs the user out everywhere. Google has no API that lists a
// user's sessions, so "already" needs evidence from the Reports API: an
// admin sign-out of the user and no sign-in since. A first run (sent with
// the plan's Found) does not wait for that evidence, two or three reads
// one after another: it signs out at once, which is idempotent. A later
// run reads it; without it (or when the Reports API cannot be read) the
// sign-out is sent.
//
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
func signOut(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	if t.found != nil {
		// A plan always signs out: it finds the user, never nothing to do.
		if act, err := t.foundUser(ActionSignOut, t.found); err != nil || !act {
			return connectors.Outcome{}, t.refuseFound(ActionSignOut, t.found)
		}
	} else if out, at, err := c.lastSignOut(ctx, id); err == nil && out {
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
	p := connectors.Planned{Description: "Suspend the Workspace user: sign-in stops, data, groups and licences stay, so it can be undone", Found: t.suspendFound(u)}
	if u.Suspended {
		p.Description = "The Workspace user is already suspended"
	}
	if u.IsAdmin {
		p.Description += " (the user is a super admin)"
	}
	return p, nil
}

// suspendFound is what suspending acts on: the user while active, or
// nothing, with the record of the suspension found.
func (t *target) suspendFound(u *directory.User) *connectors.Found {
	if !u.Suspended {
		return &connectors.Found{IDs: []string{t.id}}
	}
	r := "already suspended"
	if u.SuspensionReason != "" {
		r += " (reason " + u.SuspensionReason + ")"
	}
	return &connectors.Found{Records: []string{r}}
}

// suspend suspends the user. A first run acts on the plan's read of the
// user; it comes after the backup-code step is verified (After), so it
// does not read the codes again. A later run reads the user, and warns
// when codes are still valid.
//
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/patch
func suspend(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	f := t.found
	var recs []string
	if f == nil {
		u, err := c.getUser(ctx, id)
		if err != nil {
			return connectors.Outcome{}, err
		}
		f = t.suspendFound(u)
		// Suspension ends any chance to invalidate backup codes; say so if
		// some are still valid (the plan runs that step first).
		if !u.Suspended {
			if codes, err := c.listCodes(ctx, id); err == nil && len(codes) > 0 {
				recs = append(recs, fmt.Sprintf("warning: %s still valid at suspension; Google cannot invalidate them while the user is suspended",
					connectors.Plural(len(codes), "backup code was", "backup codes were")))
			}
		}
	}
	act, err := t.foundUser(ActionSuspend, f)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if !act {
		return connectors.Already(f.Records...)
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
	found := &connectors.Found{}
	for _, g := range groups {
		found.IDs = append(found.IDs, g.Id)
	}
	return connectors.Planned{Description: "Remove the user from " + connectors.Plural(len(groups), "group", "groups"), Targets: found.IDs, Found: found}, nil
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/members/delete
func removeGroups(ctx context.Context, t *target) (connectors.Outcome, error) {
	c, id := t.c, t.id
	f, err := t.planned(ctx, planGroups)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if err := checkFound(ActionRemoveGroups, f, false, foundIDRE.MatchString); err != nil {
		return connectors.Outcome{}, err
	}
	if len(f.IDs) == 0 {
		return connectors.Already("in no groups")
	}
	return connectors.RemoveEach(nil, f.IDs, func(group string) (string, bool, error) {
		gone, err := removal("remove group membership", c.dir.Members.Delete(group, id).Context(ctx).Do())
		if gone {
			return "group " + group + " was already left", false, err
		}
		return "removed from group " + group, true, err
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
