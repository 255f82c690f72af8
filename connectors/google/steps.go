package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/offboard/offboard/connectors"
)

func newStep(id, desc string, targets []string) connectors.Step {
	_, action, _ := strings.Cut(id, ".")
	return connectors.Step{ID: id, System: System, Action: action, Description: desc, Targets: targets}
}

// Plan lists the steps that close the Workspace account, in the order they
// must run, with what each would act on. It only reads. A step with
// nothing to do is still listed; Run reports it as already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	id, err := accountID("plan", a)
	if err != nil {
		return nil, err
	}
	u, err := c.getUser(ctx, id)
	if err != nil {
		return nil, err
	}
	codes, err := c.listCodes(ctx, id)
	if err != nil {
		return nil, err
	}
	asps, err := c.listASPs(ctx, id)
	if err != nil {
		return nil, err
	}
	tokens, err := c.listTokens(ctx, id)
	if err != nil {
		return nil, err
	}
	groups, err := c.listGroups(ctx, id)
	if err != nil {
		return nil, err
	}

	codesDesc := "Invalidate " + connectors.Plural(len(codes), "valid backup verification code", "valid backup verification codes") + " (before suspending: Google refuses once the user is suspended)"
	if u.Suspended && len(codes) > 0 {
		codesDesc = "Invalidate " + connectors.Plural(len(codes), "valid backup verification code", "valid backup verification codes") +
			"; the user is already suspended and Google refuses to invalidate a suspended user's codes, so unsuspend first"
	}
	var aspIDs []string
	for _, x := range asps {
		aspIDs = append(aspIDs, strconv.FormatInt(x.CodeId, 10))
	}
	var clients []string
	for _, t := range tokens {
		clients = append(clients, t.ClientId)
	}
	var groupIDs []string
	for _, g := range groups {
		groupIDs = append(groupIDs, g.Id)
	}
	suspend := newStep(StepSuspend, "Suspend the Workspace user: sign-in stops, data, groups and licences stay, so it can be undone", nil)
	if u.Suspended {
		suspend = newStep(StepSuspend, "The Workspace user is already suspended", nil)
	}
	if u.IsAdmin {
		suspend.Description += " (the user is a super admin)"
	}
	return []connectors.Step{
		newStep(StepInvalidateBackupCodes, codesDesc, nil),
		newStep(StepDeleteAppPasswords, "Delete "+connectors.Plural(len(asps), "app-specific password", "app-specific passwords"), aspIDs),
		newStep(StepRevokeOAuthTokens, "Revoke "+connectors.Plural(len(tokens), "OAuth token", "OAuth tokens")+" the user granted to apps", clients),
		newStep(StepSignOut, "Sign the user out of every web and device session (resets their sign-in cookies)", nil),
		suspend,
		newStep(StepRemoveGroups, "Remove the user from "+connectors.Plural(len(groups), "group", "groups"), groupIDs),
	}, nil
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing. When a step
// fails part-way, the returned Outcome still carries the records gathered
// before the failure (what was listed before anything was removed).
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	id, err := accountID("run "+st.ID, a)
	if err != nil {
		return connectors.Outcome{}, err
	}
	switch st.ID {
	case StepInvalidateBackupCodes:
		return c.invalidateCodes(ctx, id)
	case StepDeleteAppPasswords:
		return c.deleteASPs(ctx, id)
	case StepRevokeOAuthTokens:
		return c.revokeTokens(ctx, id)
	case StepSignOut:
		return c.signOut(ctx, id)
	case StepSuspend:
		return c.suspend(ctx, id)
	case StepRemoveGroups:
		return c.removeGroups(ctx, id)
	}
	return connectors.Outcome{}, invalid("run", "unknown step %q", st.ID)
}

// removal runs one removal call; a 404 means it was already gone.
func removal(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	err = apiError(op, err)
	if statusOf(err) == http.StatusNotFound {
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

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/verificationCodes/invalidate
func (c *Client) invalidateCodes(ctx context.Context, id string) (connectors.Outcome, error) {
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
		if s := statusOf(err); s == http.StatusBadRequest || s == http.StatusPreconditionFailed {
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

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/asps/delete
func (c *Client) deleteASPs(ctx context.Context, id string) (connectors.Outcome, error) {
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
	removed := 0
	for _, x := range asps {
		gone, err := removal("delete app password", c.dir.Asps.Delete(id, x.CodeId).Context(ctx).Do())
		if err != nil {
			return connectors.Outcome{Records: recs}, err
		}
		if gone {
			recs = append(recs, fmt.Sprintf("app password %d was already deleted", x.CodeId))
			continue
		}
		removed++
		recs = append(recs, fmt.Sprintf("deleted app password %d", x.CodeId))
	}
	if removed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
func (c *Client) revokeTokens(ctx context.Context, id string) (connectors.Outcome, error) {
	tokens, err := c.listTokens(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(tokens) == 0 {
		return connectors.Already("no OAuth tokens")
	}
	// What each app could do is recorded before the grant disappears.
	var recs []string
	for _, t := range tokens {
		r := "OAuth token of client " + t.ClientId
		if t.DisplayText != "" {
			r += fmt.Sprintf(" (%s)", connectors.Scrub(t.DisplayText))
		}
		scopes := "none"
		if len(t.Scopes) > 0 {
			scopes = strings.Join(t.Scopes, " ")
		}
		recs = append(recs, r+" scopes: "+scopes)
	}
	removed := 0
	for _, t := range tokens {
		gone, err := removal("delete OAuth token", c.dir.Tokens.Delete(id, t.ClientId).Context(ctx).Do())
		if err != nil {
			return connectors.Outcome{Records: recs}, err
		}
		if gone {
			recs = append(recs, "OAuth token of client "+t.ClientId+" was already revoked")
			continue
		}
		removed++
		recs = append(recs, "revoked OAuth token of client "+t.ClientId)
	}
	if removed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
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

// signOut signs the user out everywhere. Google has no API that lists a
// user's sessions, so "already" needs evidence from the Reports API: an
// admin sign-out of the user and no sign-in since. Without it (or when
// the Reports API cannot be read) the sign-out is sent; it is idempotent.
//
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
func (c *Client) signOut(ctx context.Context, id string) (connectors.Outcome, error) {
	if out, at, err := c.lastSignOut(ctx, id); err == nil && out {
		return connectors.Already("signed out at " + at.UTC().Format(time.RFC3339) + "; no sign-in since")
	}
	if err := c.dir.Users.SignOut(id).Context(ctx).Do(); err != nil {
		return connectors.Outcome{}, apiError("sign out", err)
	}
	return connectors.Done("signed out of every web and device session")
}

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/patch
func (c *Client) suspend(ctx context.Context, id string) (connectors.Outcome, error) {
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

// https://developers.google.com/workspace/admin/directory/reference/rest/v1/members/delete
func (c *Client) removeGroups(ctx context.Context, id string) (connectors.Outcome, error) {
	groups, err := c.listGroups(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(groups) == 0 {
		return connectors.Already("in no groups")
	}
	var recs []string
	removed := 0
	for _, g := range groups {
		gone, err := removal("remove group membership", c.dir.Members.Delete(g.Id, id).Context(ctx).Do())
		if err != nil {
			return connectors.Outcome{Records: recs}, err
		}
		if gone {
			recs = append(recs, "group "+g.Id+" was already left")
			continue
		}
		removed++
		recs = append(recs, "removed from group "+g.Id)
	}
	if removed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// Verify re-reads Google and returns a Conflict error ("verify: ...") when
// the step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	op := "verify " + st.ID
	id, err := accountID(op, a)
	if err != nil {
		return err
	}
	switch st.ID {
	case StepInvalidateBackupCodes:
		codes, err := c.listCodes(ctx, id)
		if err != nil {
			return err
		}
		if len(codes) > 0 {
			return conflict(op, "%s still valid", connectors.Plural(len(codes), "backup verification code is", "backup verification codes are"))
		}
	case StepDeleteAppPasswords:
		asps, err := c.listASPs(ctx, id)
		if err != nil {
			return err
		}
		if len(asps) > 0 {
			var ids []string
			for _, x := range asps {
				ids = append(ids, strconv.FormatInt(x.CodeId, 10))
			}
			return conflict(op, "%s remain: %s", connectors.Plural(len(asps), "app password", "app passwords"), strings.Join(ids, ", "))
		}
	case StepRevokeOAuthTokens:
		tokens, err := c.listTokens(ctx, id)
		if err != nil {
			return err
		}
		if len(tokens) > 0 {
			var ids []string
			for _, t := range tokens {
				ids = append(ids, t.ClientId)
			}
			return conflict(op, "%s remain, for clients %s", connectors.Plural(len(tokens), "OAuth token", "OAuth tokens"), strings.Join(ids, ", "))
		}
	case StepSignOut:
		// What can be read: the Reports API. The step holds when it shows
		// an admin sign-out of the user and no sign-in after it. It lags,
		// so right after Run this may be a Conflict to retry.
		out, _, err := c.lastSignOut(ctx, id)
		if err != nil {
			return err
		}
		if !out {
			return conflict(op, "the Reports API shows no sign-out of the user after their last sign-in (it can lag by minutes)")
		}
	case StepSuspend:
		u, err := c.getUser(ctx, id)
		if err != nil {
			return err
		}
		if !u.Suspended {
			return conflict(op, "the user is not suspended")
		}
	case StepRemoveGroups:
		groups, err := c.listGroups(ctx, id)
		if err != nil {
			return err
		}
		if len(groups) > 0 {
			var ids []string
			for _, g := range groups {
				ids = append(ids, g.Id)
			}
			return conflict(op, "still in %s: %s", connectors.Plural(len(groups), "group", "groups"), strings.Join(ids, ", "))
		}
	default:
		return invalid(op, "unknown step %q", st.ID)
	}
	return nil
}
