package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/offboard/offboard/connectors"
)

func newStep(id, desc string, targets []string) connectors.Step {
	_, action, _ := strings.Cut(id, ".")
	return connectors.Step{ID: id, System: System, Action: action, Description: desc, Targets: targets}
}

// editable reports whether offboard may remove members from a group. Only
// OKTA_GROUP memberships can be changed through the API; APP_GROUP
// (mastered by a directory or app) and BUILT_IN (Everyone) cannot.
func editable(g *sdk.Group) bool { return g.Type == "OKTA_GROUP" }

func grantClients(grants []*sdk.OAuth2ScopeConsentGrant) []string {
	var ids []string
	for _, g := range grants {
		if !slices.Contains(ids, g.ClientId) {
			ids = append(ids, g.ClientId)
		}
	}
	slices.Sort(ids)
	return ids
}

// Plan lists the steps that close the Okta account, in the order they must
// run, with what each would act on. It only reads. A step with nothing to
// do is still listed; Run reports it as already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	id, err := accountID("plan", a)
	if err != nil {
		return nil, err
	}
	roles, err := c.listRoles(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := c.getUser(ctx, id)
	if err != nil {
		return nil, err
	}
	grants, err := c.listGrants(ctx, id)
	if err != nil {
		return nil, err
	}
	groups, err := c.listGroups(ctx, id)
	if err != nil {
		return nil, err
	}
	factors, err := c.listFactors(ctx, id)
	if err != nil {
		return nil, err
	}

	var roleTypes []string
	for _, r := range roles {
		roleTypes = append(roleTypes, r.Type)
	}
	var groupIDs []string
	skipped := 0
	for _, g := range groups {
		if editable(g) {
			groupIDs = append(groupIDs, g.Id)
		} else {
			skipped++
		}
	}
	var factorTypes []string
	for _, f := range factors {
		factorTypes = append(factorTypes, f.FactorType)
	}
	clients := grantClients(grants)

	var lifecycle connectors.Step
	switch {
	case c.lifecycle == LifecycleDeactivate && u.Status == statusDeprovisioned:
		lifecycle = newStep(StepDeactivate, "The Okta user is already DEPROVISIONED", nil)
	case c.lifecycle == LifecycleDeactivate:
		lifecycle = newStep(StepDeactivate, fmt.Sprintf("Deactivate the Okta user (now %s) without emailing them; app assignments are removed", u.Status), nil)
	case u.Status == statusSuspended || u.Status == statusDeprovisioned:
		lifecycle = newStep(StepSuspend, fmt.Sprintf("The Okta user is already %s", u.Status), nil)
	default:
		lifecycle = newStep(StepSuspend, fmt.Sprintf("Suspend the Okta user (now %s); group and app assignments stay, so it can be undone", u.Status), nil)
	}
	groupDesc := "Remove the user from " + connectors.Plural(len(groupIDs), "Okta group", "Okta groups")
	if skipped > 0 {
		groupDesc += fmt.Sprintf(" (%s that Okta does not let the API change: app-managed or Everyone)", connectors.Plural(skipped, "other is skipped", "others are skipped"))
	}
	return []connectors.Step{
		newStep(StepRemoveAdminRoles, "Remove "+connectors.Plural(len(roleTypes), "admin role", "admin roles")+" from the Okta user", roleTypes),
		lifecycle,
		newStep(StepClearSessions, "End every Okta session of the user and revoke the OAuth access and refresh tokens issued to them", nil),
		newStep(StepRevokeGrants, "Revoke "+connectors.Plural(len(grants), "OAuth consent grant", "OAuth consent grants")+" the user gave to "+connectors.Plural(len(clients), "app", "apps"), clients),
		newStep(StepRemoveGroups, groupDesc, groupIDs),
		newStep(StepResetFactors, "Reset "+connectors.Plural(len(factorTypes), "enrolled MFA factor", "enrolled MFA factors"), factorTypes),
	}, nil
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	id, err := accountID("run "+st.ID, a)
	if err != nil {
		return connectors.Outcome{}, err
	}
	switch st.ID {
	case StepRemoveAdminRoles:
		return c.removeRoles(ctx, id)
	case StepSuspend:
		return c.suspend(ctx, id)
	case StepDeactivate:
		return c.deactivate(ctx, id)
	case StepClearSessions:
		return c.clearSessions(ctx, id)
	case StepRevokeGrants:
		return c.revokeGrants(ctx, id)
	case StepRemoveGroups:
		return c.removeGroups(ctx, id)
	case StepResetFactors:
		return c.resetFactors(ctx, id)
	}
	return connectors.Outcome{}, invalid("run", "unknown step %q", st.ID)
}

// removal runs one removal call; a 404 means it was already gone.
func removal(ctx context.Context, op string, call func(ctx context.Context) (*sdk.Response, error)) (gone bool, err error) {
	ctx, cp := withCapture(ctx)
	resp, err := call(ctx)
	if err == nil {
		return false, nil
	}
	err = apiError(op, cp, resp, err)
	if statusOf(err) == http.StatusNotFound {
		return true, nil
	}
	return false, err
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/
func (c *Client) removeRoles(ctx context.Context, id string) (connectors.Outcome, error) {
	roles, err := c.listRoles(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(roles) == 0 {
		return connectors.Already()
	}
	var recs []string
	removed := 0
	for _, r := range roles {
		gone, err := removal(ctx, "remove admin role", func(ctx context.Context) (*sdk.Response, error) {
			return c.api.User.RemoveRoleFromUser(ctx, id, r.Id)
		})
		if err != nil {
			return connectors.Outcome{}, err
		}
		if gone {
			recs = append(recs, "role "+r.Type+" was already removed")
			continue
		}
		removed++
		recs = append(recs, "removed role "+r.Type)
	}
	if removed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/suspendUser
func (c *Client) suspend(ctx context.Context, id string) (connectors.Outcome, error) {
	u, err := c.getUser(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if u.Status == statusSuspended || u.Status == statusDeprovisioned {
		return connectors.Already("status " + u.Status)
	}
	cctx, cp := withCapture(ctx)
	resp, err := c.api.User.SuspendUser(cctx, id)
	if err != nil {
		err = apiError("suspend user", cp, resp, err)
		if statusOf(err) != http.StatusBadRequest {
			return connectors.Outcome{}, err
		}
		// Okta answers 400 E0000001 "Cannot suspend a user that is not
		// active". The status may have changed since it was read.
		now, rerr := c.getUser(ctx, id)
		if rerr != nil {
			return connectors.Outcome{}, err
		}
		if now.Status == statusSuspended || now.Status == statusDeprovisioned {
			return connectors.Already("status " + now.Status)
		}
		var ce *connectors.Error
		if errors.As(err, &ce) {
			ce.Msg += fmt.Sprintf(" (user is %s; Okta suspends only ACTIVE users, the deactivate lifecycle works from any status)", now.Status)
		}
		return connectors.Outcome{}, err
	}
	return connectors.Done(fmt.Sprintf("status %s -> %s", u.Status, statusSuspended))
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/deactivateUser
func (c *Client) deactivate(ctx context.Context, id string) (connectors.Outcome, error) {
	u, err := c.getUser(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if u.Status == statusDeprovisioned {
		return connectors.Already("status " + u.Status)
	}
	cctx, cp := withCapture(ctx)
	resp, err := c.api.User.DeactivateUser(cctx, id, query.NewQueryParams(query.WithSendEmail(false)))
	if err != nil {
		err = apiError("deactivate user", cp, resp, err)
		// Okta answers a deactivate of a DEPROVISIONED user with 404
		// E0000007; re-read before calling it an error.
		if s := statusOf(err); s == http.StatusNotFound || s == http.StatusBadRequest {
			if now, rerr := c.getUser(ctx, id); rerr == nil && now.Status == statusDeprovisioned {
				return connectors.Already("status " + now.Status)
			}
		}
		return connectors.Outcome{}, err
	}
	return connectors.Done(fmt.Sprintf("status %s -> %s", u.Status, statusDeprovisioned))
}

// logWindow is how far back the System Log is searched for sign-ins and
// session clears. Any window is sound (a clear is only trusted when it is
// newer than every sign-in seen); a short one keeps the query cheap.
const logWindow = 7 * 24 * time.Hour

// lastSessionEvent finds, in the System Log, the newest of the user's
// successful sign-ins (sessions, SSO, OAuth token grants) and the session
// clears that targeted them. It reports whether that newest event is a
// clear, and when it was published. Sorted newest first with limit 1, the
// first page is all it needs, so it does not page.
func (c *Client) lastSessionEvent(ctx context.Context, id string) (bool, time.Time, error) {
	now := c.now().UTC()
	filter := fmt.Sprintf(`(eventType eq "user.session.clear" and target.id eq "%[1]s") or `+
		`(actor.id eq "%[1]s" and outcome.result eq "SUCCESS" and (eventType eq "user.session.start" or eventType sw "user.authentication" or eventType sw "app.oauth2"))`, id)
	qp := query.NewQueryParams(
		query.WithSince(now.Add(-logWindow).Format(logTime)),
		query.WithUntil(now.Add(time.Minute).Format(logTime)),
		query.WithFilter(filter),
		query.WithSortOrder("DESCENDING"),
		query.WithLimit(1),
	)
	ctx, cp := withCapture(ctx)
	evs, resp, err := c.api.LogEvent.GetLogs(ctx, qp)
	if err != nil {
		return false, time.Time{}, apiError("read system log", cp, resp, err)
	}
	if len(evs) == 0 {
		return false, time.Time{}, nil
	}
	var at time.Time
	if evs[0].Published != nil {
		at = *evs[0].Published
	}
	return evs[0].EventType == "user.session.clear", at, nil
}

const logTime = "2006-01-02T15:04:05.000Z"

// clearSessions ends the user's sessions and revokes their OAuth tokens.
//
// Okta has no API that lists a user's sessions or access tokens, so
// "already" needs evidence: the newest relevant System Log event is a
// session clear for the user (no sign-in since), and no OAuth client holds
// grants or tokens for them. Without both, the clear is issued; it is
// idempotent and cheap.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/
func (c *Client) clearSessions(ctx context.Context, id string) (connectors.Outcome, error) {
	clients, err := c.listClients(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(clients) == 0 {
		cleared, at, err := c.lastSessionEvent(ctx, id)
		if err != nil {
			return connectors.Outcome{}, err
		}
		if cleared {
			return connectors.Already("no sign-in since sessions were cleared at " + at.UTC().Format(time.RFC3339))
		}
	}
	var recs []string
	for _, cl := range clients {
		recs = append(recs, "client "+cl.ClientId+" held grants or tokens")
	}
	cctx, cp := withCapture(ctx)
	resp, err := c.api.User.ClearUserSessions(cctx, id, query.NewQueryParams(query.WithOauthTokens(true)))
	if err != nil {
		return connectors.Outcome{}, apiError("clear sessions", cp, resp, err)
	}
	return connectors.Done(append(recs, "cleared sessions and revoked OAuth tokens")...)
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserGrant/
func (c *Client) revokeGrants(ctx context.Context, id string) (connectors.Outcome, error) {
	grants, err := c.listGrants(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(grants) == 0 {
		return connectors.Already()
	}
	var recs []string
	for _, g := range grants {
		recs = append(recs, fmt.Sprintf("revoked grant of %s to client %s", g.ScopeId, g.ClientId))
	}
	gone, err := removal(ctx, "revoke grants", func(ctx context.Context) (*sdk.Response, error) {
		return c.api.User.RevokeUserGrants(ctx, id)
	})
	if err != nil {
		return connectors.Outcome{}, err
	}
	if gone {
		return connectors.Already("grants were already revoked")
	}
	return connectors.Done(recs...)
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/unassignUserFromGroup
func (c *Client) removeGroups(ctx context.Context, id string) (connectors.Outcome, error) {
	groups, err := c.listGroups(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	var recs []string
	removed := 0
	for _, g := range groups {
		if !editable(g) {
			recs = append(recs, fmt.Sprintf("skipped group %s (%s)", g.Id, g.Type))
			continue
		}
		gone, err := removal(ctx, "remove group membership", func(ctx context.Context) (*sdk.Response, error) {
			return c.api.Group.RemoveUserFromGroup(ctx, g.Id, id)
		})
		if err != nil {
			return connectors.Outcome{}, err
		}
		if gone {
			recs = append(recs, "group "+g.Id+" was already left")
			continue
		}
		removed++
		recs = append(recs, "removed group "+g.Id)
	}
	if removed == 0 {
		return connectors.Already(recs...)
	}
	return connectors.Done(recs...)
}

// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/resetFactors
func (c *Client) resetFactors(ctx context.Context, id string) (connectors.Outcome, error) {
	factors, err := c.listFactors(ctx, id)
	if err != nil {
		return connectors.Outcome{}, err
	}
	if len(factors) == 0 {
		return connectors.Already()
	}
	var recs []string
	for _, f := range factors {
		recs = append(recs, "reset factor "+f.FactorType)
	}
	gone, err := removal(ctx, "reset factors", func(ctx context.Context) (*sdk.Response, error) {
		return c.api.User.ResetFactors(ctx, id)
	})
	if err != nil {
		return connectors.Outcome{}, err
	}
	if gone {
		return connectors.Already("factors were already reset")
	}
	return connectors.Done(recs...)
}

// Verify re-reads Okta and returns a Conflict error ("verify: ...") when the
// step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	op := "verify " + st.ID
	id, err := accountID(op, a)
	if err != nil {
		return err
	}
	switch st.ID {
	case StepRemoveAdminRoles:
		roles, err := c.listRoles(ctx, id)
		if err != nil {
			return err
		}
		if len(roles) > 0 {
			var types []string
			for _, r := range roles {
				types = append(types, r.Type)
			}
			return conflict(op, "%s still assigned: %s", connectors.Plural(len(roles), "admin role", "admin roles"), strings.Join(types, ", "))
		}
	case StepSuspend, StepDeactivate:
		u, err := c.getUser(ctx, id)
		if err != nil {
			return err
		}
		ok := u.Status == statusDeprovisioned || (st.ID == StepSuspend && u.Status == statusSuspended)
		if !ok {
			return conflict(op, "user status is %s", u.Status)
		}
	case StepClearSessions:
		// What can be read: the System Log. The step holds when the user's
		// newest session-relevant event is a clear (nothing signed in after
		// it) and the user cannot sign in again (SUSPENDED or
		// DEPROVISIONED), so no new session can have started since. The
		// System Log is eventually consistent: right after Run the clear
		// may not be visible yet, which shows as a Conflict to retry.
		cleared, _, err := c.lastSessionEvent(ctx, id)
		if err != nil {
			return err
		}
		if !cleared {
			return conflict(op, "the System Log shows no session clear for the user after their last sign-in")
		}
		u, err := c.getUser(ctx, id)
		if err != nil {
			return err
		}
		if u.Status != statusSuspended && u.Status != statusDeprovisioned {
			return conflict(op, "user status is %s, so new sessions can start; suspend or deactivate first", u.Status)
		}
	case StepRevokeGrants:
		grants, err := c.listGrants(ctx, id)
		if err != nil {
			return err
		}
		if len(grants) > 0 {
			return conflict(op, "%s remain, for clients %s", connectors.Plural(len(grants), "consent grant", "consent grants"), strings.Join(grantClients(grants), ", "))
		}
	case StepRemoveGroups:
		groups, err := c.listGroups(ctx, id)
		if err != nil {
			return err
		}
		var left []string
		for _, g := range groups {
			if editable(g) {
				left = append(left, g.Id)
			}
		}
		if len(left) > 0 {
			return conflict(op, "still in %s: %s (a group rule may have added the user back)", connectors.Plural(len(left), "Okta group", "Okta groups"), strings.Join(left, ", "))
		}
	case StepResetFactors:
		factors, err := c.listFactors(ctx, id)
		if err != nil {
			return err
		}
		if len(factors) > 0 {
			var types []string
			for _, f := range factors {
				types = append(types, f.FactorType)
			}
			return conflict(op, "%s still enrolled: %s", connectors.Plural(len(factors), "factor", "factors"), strings.Join(types, ", "))
		}
	default:
		return invalid(op, "unknown step %q", st.ID)
	}
	return nil
}
