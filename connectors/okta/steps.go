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

// stepKinds lists every kind of Okta step in plan order. Both lifecycle
// kinds (suspend and deactivate) are here, so that Run and Verify accept
// either; Plan lists only the configured one. The lifecycle call cuts
// first: a suspended or deactivated user cannot sign in. Deactivation
// revokes the API tokens the user made; Okta's support articles differ on
// whether suspension does, so admin roles go right after it, at once with
// everything else (sessions are cleared only once the user cannot start a
// new one).
func (c *Client) stepKinds() []connectors.StepKind[string] {
	return []connectors.StepKind[string]{
		c.suspendKind(),
		c.deactivateKind(),
		c.clearSessionsKind(),
		c.revokeGrantsKind(),
		c.removeAdminRolesKind(),
		c.removeGroupsKind(),
		c.resetFactorsKind(),
	}
}

// tables builds the table Run and Verify dispatch through (every kind) and
// the one Plan plans (the configured lifecycle kind only).
func (c *Client) tables() {
	all := c.stepKinds()
	skip := ActionDeactivate
	if c.lifecycle == LifecycleDeactivate {
		skip = ActionSuspend
	}
	c.steps = connectors.Steps[string]{System: System, Kinds: all}
	c.planned = connectors.Steps[string]{System: System, Kinds: slices.DeleteFunc(slices.Clone(all), func(k connectors.StepKind[string]) bool { return k.Action == skip })}
}

// Plan lists the steps that close the Okta account, in the order they must
// run, with what each would act on. It only reads. A step with nothing to
// do is still listed; Run reports it as already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	id, err := accountID("plan", a)
	if err != nil {
		return nil, err
	}
	return c.planned.Plan(ctx, "", id)
}

// Run runs one step. Every step is idempotent: when the desired state
// already holds it returns ResultAlready and changes nothing.
func (c *Client) Run(ctx context.Context, a connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	id, err := accountID("run "+st.ID, a)
	if err != nil {
		return connectors.Outcome{}, err
	}
	return c.steps.Run(ctx, st, id)
}

// Verify re-reads Okta and returns a Conflict error ("verify: ...") when the
// step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	id, err := accountID("verify "+st.ID, a)
	if err != nil {
		return err
	}
	return c.steps.Verify(ctx, st, id)
}

// verifyOp is the Op of a kind's Verify errors: "verify <step ID>".
func verifyOp(action string) string { return "verify " + connectors.StepID(System, action, "") }

// removal runs one removal call; a 404 means it was already gone.
func removal(ctx context.Context, op string, call func(ctx context.Context) (*sdk.Response, error)) (gone bool, err error) {
	ctx, cp := withCapture(ctx)
	resp, err := call(ctx)
	if err == nil {
		return false, nil
	}
	err = apiError(op, cp, resp, err)
	if connectors.StatusOf(err) == http.StatusNotFound {
		return true, nil
	}
	return false, err
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

// okta.remove-admin-roles: unassign every admin role.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/
func (c *Client) removeAdminRolesKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionRemoveAdminRoles,
		After:  []string{ActionSuspend, ActionDeactivate},
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			roles, err := c.listRoles(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
			}
			var roleTypes []string
			for _, r := range roles {
				roleTypes = append(roleTypes, r.Type)
			}
			return connectors.Planned{Description: "Remove " + connectors.Plural(len(roleTypes), "admin role", "admin roles") + " from the Okta user", Targets: roleTypes}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
			roles, err := c.listRoles(ctx, id)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if len(roles) == 0 {
				return connectors.Already()
			}
			out, err := connectors.RemoveEach(nil, roles, func(r *sdk.Role) (string, bool, error) {
				gone, err := removal(ctx, "remove admin role", func(ctx context.Context) (*sdk.Response, error) {
					return c.api.User.RemoveRoleFromUser(ctx, id, r.Id)
				})
				if gone {
					return "role " + r.Type + " was already removed", false, err
				}
				return "removed role " + r.Type, true, err
			})
			if err != nil {
				return connectors.Outcome{}, err
			}
			return out, nil
		},
		Verify: func(ctx context.Context, id string) error {
			roles, err := c.listRoles(ctx, id)
			if err != nil {
				return err
			}
			if len(roles) > 0 {
				var types []string
				for _, r := range roles {
					types = append(types, r.Type)
				}
				return connectors.Conflictf(System, verifyOp(ActionRemoveAdminRoles), "%s still assigned: %s", connectors.Plural(len(roles), "admin role", "admin roles"), strings.Join(types, ", "))
			}
			return nil
		},
	}
}

// okta.suspend: the default lifecycle. Sign-in stops; group and app
// assignments stay, so it can be undone.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/suspendUser
func (c *Client) suspendKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionSuspend,
		Cuts:   true,
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			u, err := c.getUser(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
			}
			if u.Status == statusSuspended || u.Status == statusDeprovisioned {
				return connectors.Planned{Description: fmt.Sprintf("The Okta user is already %s", u.Status)}, nil
			}
			return connectors.Planned{Description: fmt.Sprintf("Suspend the Okta user (now %s); group and app assignments stay, so it can be undone", u.Status)}, nil
		},
		Run: c.suspend,
		Verify: func(ctx context.Context, id string) error {
			u, err := c.getUser(ctx, id)
			if err != nil {
				return err
			}
			if u.Status != statusSuspended && u.Status != statusDeprovisioned {
				return connectors.Conflictf(System, verifyOp(ActionSuspend), "user status is %s", u.Status)
			}
			return nil
		},
	}
}

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
		if connectors.StatusOf(err) != http.StatusBadRequest {
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

// okta.deactivate: the deactivate lifecycle (DEPROVISIONED). App
// assignments are removed; the user is not emailed. Never
// DeactivateOrDeleteUser.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/deactivateUser
func (c *Client) deactivateKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionDeactivate,
		Cuts:   true,
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			u, err := c.getUser(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
			}
			if u.Status == statusDeprovisioned {
				return connectors.Planned{Description: "The Okta user is already DEPROVISIONED"}, nil
			}
			return connectors.Planned{Description: fmt.Sprintf("Deactivate the Okta user (now %s) without emailing them; app assignments are removed", u.Status)}, nil
		},
		Run: c.deactivate,
		Verify: func(ctx context.Context, id string) error {
			u, err := c.getUser(ctx, id)
			if err != nil {
				return err
			}
			if u.Status != statusDeprovisioned {
				return connectors.Conflictf(System, verifyOp(ActionDeactivate), "user status is %s", u.Status)
			}
			return nil
		},
	}
}

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
		if s := connectors.StatusOf(err); s == http.StatusNotFound || s == http.StatusBadRequest {
			if now, rerr := c.getUser(ctx, id); rerr == nil && now.Status == statusDeprovisioned {
				return connectors.Already("status " + now.Status)
			}
		}
		return connectors.Outcome{}, err
	}
	return connectors.Done(fmt.Sprintf("status %s -> %s", u.Status, statusDeprovisioned))
}

// okta.clear-sessions: end every session and revoke the OAuth tokens
// issued to the user.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/
func (c *Client) clearSessionsKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionClearSessions,
		Cuts:   true,
		After:  []string{ActionSuspend, ActionDeactivate},
		Plan: func(context.Context, string) (connectors.Planned, error) {
			return connectors.Planned{Description: "End every Okta session of the user and revoke the OAuth access and refresh tokens issued to them"}, nil
		},
		Run: c.clearSessions,
		Verify: func(ctx context.Context, id string) error {
			op := verifyOp(ActionClearSessions)
			// What can be read: the System Log. The step holds when the
			// user's newest session-relevant event is a clear (nothing
			// signed in after it) and the user cannot sign in again
			// (SUSPENDED or DEPROVISIONED), so no new session can have
			// started since. The System Log is eventually consistent: right
			// after Run the clear may not be visible yet, which shows as a
			// Conflict to retry.
			cleared, _, err := c.lastSessionEvent(ctx, id)
			if err != nil {
				return err
			}
			if !cleared {
				return connectors.Conflictf(System, op, "the System Log shows no session clear for the user after their last sign-in")
			}
			u, err := c.getUser(ctx, id)
			if err != nil {
				return err
			}
			if u.Status != statusSuspended && u.Status != statusDeprovisioned {
				return connectors.Conflictf(System, op, "user status is %s, so new sessions can start; suspend or deactivate first", u.Status)
			}
			return nil
		},
	}
}

// clearSessions ends the user's sessions and revokes their OAuth tokens.
//
// Okta has no API that lists a user's sessions or access tokens, so
// "already" needs evidence: the newest relevant System Log event is a
// session clear for the user (no sign-in since), and no OAuth client holds
// grants or tokens for them. Without both, the clear is issued; it is
// idempotent and cheap.
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

// okta.revoke-grants: revoke the OAuth consent grants the user gave.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserGrant/
func (c *Client) revokeGrantsKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionRevokeGrants,
		After:  []string{ActionSuspend, ActionDeactivate},
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			grants, err := c.listGrants(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
			}
			clients := grantClients(grants)
			return connectors.Planned{
				Description: "Revoke " + connectors.Plural(len(grants), "OAuth consent grant", "OAuth consent grants") + " the user gave to " + connectors.Plural(len(clients), "app", "apps"),
				Targets:     clients,
			}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
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
		},
		Verify: func(ctx context.Context, id string) error {
			grants, err := c.listGrants(ctx, id)
			if err != nil {
				return err
			}
			if len(grants) > 0 {
				return connectors.Conflictf(System, verifyOp(ActionRevokeGrants), "%s remain, for clients %s", connectors.Plural(len(grants), "consent grant", "consent grants"), strings.Join(grantClients(grants), ", "))
			}
			return nil
		},
	}
}

// okta.remove-groups: leave every group the API may change (OKTA_GROUP).
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/unassignUserFromGroup
func (c *Client) removeGroupsKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionRemoveGroups,
		After:  []string{ActionSuspend, ActionDeactivate},
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			groups, err := c.listGroups(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
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
			desc := "Remove the user from " + connectors.Plural(len(groupIDs), "Okta group", "Okta groups")
			if skipped > 0 {
				desc += fmt.Sprintf(" (%s that Okta does not let the API change: app-managed or Everyone)", connectors.Plural(skipped, "other is skipped", "others are skipped"))
			}
			return connectors.Planned{Description: desc, Targets: groupIDs}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
			groups, err := c.listGroups(ctx, id)
			if err != nil {
				return connectors.Outcome{}, err
			}
			out, err := connectors.RemoveEach(nil, groups, func(g *sdk.Group) (string, bool, error) {
				if !editable(g) {
					return fmt.Sprintf("skipped group %s (%s)", g.Id, g.Type), false, nil
				}
				gone, err := removal(ctx, "remove group membership", func(ctx context.Context) (*sdk.Response, error) {
					return c.api.Group.RemoveUserFromGroup(ctx, g.Id, id)
				})
				if gone {
					return "group " + g.Id + " was already left", false, err
				}
				return "removed group " + g.Id, true, err
			})
			if err != nil {
				return connectors.Outcome{}, err
			}
			return out, nil
		},
		Verify: func(ctx context.Context, id string) error {
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
				return connectors.Conflictf(System, verifyOp(ActionRemoveGroups), "still in %s: %s (a group rule may have added the user back)", connectors.Plural(len(left), "Okta group", "Okta groups"), strings.Join(left, ", "))
			}
			return nil
		},
	}
}

// okta.reset-factors: reset every enrolled MFA factor.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/resetFactors
func (c *Client) resetFactorsKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionResetFactors,
		After:  []string{ActionSuspend, ActionDeactivate},
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			factors, err := c.listFactors(ctx, id)
			if err != nil {
				return connectors.Planned{}, err
			}
			var factorTypes []string
			for _, f := range factors {
				factorTypes = append(factorTypes, f.FactorType)
			}
			return connectors.Planned{Description: "Reset " + connectors.Plural(len(factorTypes), "enrolled MFA factor", "enrolled MFA factors"), Targets: factorTypes}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
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
		},
		Verify: func(ctx context.Context, id string) error {
			factors, err := c.listFactors(ctx, id)
			if err != nil {
				return err
			}
			if len(factors) > 0 {
				var types []string
				for _, f := range factors {
					types = append(types, f.FactorType)
				}
				return connectors.Conflictf(System, verifyOp(ActionResetFactors), "%s still enrolled: %s", connectors.Plural(len(factors), "factor", "factors"), strings.Join(types, ", "))
			}
			return nil
		},
	}
}
