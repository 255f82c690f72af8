package slack

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboard/offboard/connectors"
)

// stepKinds lists the kinds of Slack step in plan order: deactivate first
// (it blocks sign-in and ends sessions), then reset sessions as insurance.
func (c *Client) stepKinds() []connectors.StepKind[string] {
	return []connectors.StepKind[string]{c.deactivateKind(), c.resetSessionsKind()}
}

// Plan lists the steps that close the Slack account, in the order they must
// run. It only reads. A step with nothing to do is still listed; Run
// reports it as already done.
func (c *Client) Plan(ctx context.Context, a connectors.Account) ([]connectors.Step, error) {
	id, err := accountID("plan", a)
	if err != nil {
		return nil, err
	}
	return c.steps.Plan(ctx, "", id)
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

// Verify re-reads Slack and returns a Conflict error ("verify: ...") when
// the step's desired state does not hold.
func (c *Client) Verify(ctx context.Context, a connectors.Account, st connectors.Step) error {
	id, err := accountID("verify "+st.ID, a)
	if err != nil {
		return err
	}
	return c.steps.Verify(ctx, st, id)
}

// verifyOp is the Op of a kind's Verify errors: "verify <step ID>".
func verifyOp(action string) string { return "verify " + connectors.StepID(System, action, "") }

func sessionIDs(ss []activeSession) []string {
	ids := make([]string, 0, len(ss))
	for _, s := range ss {
		ids = append(ids, strconv.FormatInt(s.SessionID, 10))
	}
	return ids
}

// slack.deactivate sets SCIM active=false with DELETE /Users/{id}. A user
// SCIM already reports inactive is left alone; a 404 from the DELETE means
// there is no active user to deactivate. It holds when SCIM reports active
// false and users.info reports deleted true.
//
// https://docs.slack.dev/reference/scim-api
func (c *Client) deactivateKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionDeactivate,
		Cuts:   true,
		Plan: func(ctx context.Context, id string) (connectors.Planned, error) {
			u, err := c.getSCIMUser(ctx, "plan", id)
			if err != nil {
				return connectors.Planned{}, err
			}
			return connectors.Planned{Description: fmt.Sprintf("Deactivate the Slack user through SCIM (now %s): sign-in stops and every session ends; the account is kept and can be reactivated", u.status())}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
			const op = "deactivate user"
			u, err := c.getSCIMUser(ctx, op, id)
			switch {
			case err == nil && !u.active():
				return connectors.Already("user " + id + " was already deactivated")
			case err != nil && !connectors.IsNotFound(err):
				return connectors.Outcome{}, err
			}
			err = c.scim(ctx, op, http.MethodDelete, "Users/"+id, nil, nil)
			if connectors.StatusOf(err) == http.StatusNotFound && connectors.IsNotFound(err) {
				return connectors.Already("SCIM answered 404 to the deactivation of user " + id)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return connectors.Done("user " + id + " SCIM active true -> false")
		},
		Verify: func(ctx context.Context, id string) error {
			op := verifyOp(ActionDeactivate)
			su, err := c.getSCIMUser(ctx, op, id)
			if err != nil {
				return err
			}
			if su.active() {
				return connectors.Conflictf(System, op, "SCIM reports user %s active", id)
			}
			u, err := c.userInfo(ctx, op, id)
			if err != nil {
				return err
			}
			if !u.Deleted {
				return connectors.Conflictf(System, op, "users.info reports user %s not deleted", id)
			}
			return nil
		},
	}
}

// slack.reset-sessions ends every session of the user. Deactivation
// already signs the user out of every session (Slack's SCIM docs), and
// admin.users.session.list is Tier 2 (20 a minute for the whole
// workspace): so the step first reads the user over SCIM, and a
// deactivated user's sessions are neither listed nor reset. An active user
// (deactivation skipped, say) has their sessions listed, so their IDs are
// recorded, and reset. It holds when the user is deactivated, or when
// admin.users.session.list shows no active session for the user in the
// configured workspace; that is what Slack lets an admin read (it does not
// show tokens an app holds for the user, which deactivation revokes).
//
// https://docs.slack.dev/reference/methods/admin.users.session.reset
func (c *Client) resetSessionsKind() connectors.StepKind[string] {
	return connectors.StepKind[string]{
		Action: ActionResetSessions,
		After:  []string{ActionDeactivate},
		Plan: func(context.Context, string) (connectors.Planned, error) {
			return connectors.Planned{Description: "Wipe the user's sessions on every device: ended by the deactivation, else admin.users.session.reset"}, nil
		},
		Run: func(ctx context.Context, id string) (connectors.Outcome, error) {
			const op = "reset sessions"
			gone, err := c.deactivated(ctx, op, id)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if gone {
				return connectors.Already("user " + id + " is deactivated, which ended every session")
			}
			sessions, err := c.listSessions(ctx, op, id)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if len(sessions) == 0 {
				return connectors.Already("no active sessions listed for user " + id + " in " + c.teamID)
			}
			var recs []string
			for _, s := range sessions {
				recs = append(recs, fmt.Sprintf("session %d (%s, %s) in %s", s.SessionID, s.Created.DeviceHardware, s.Created.OS, s.TeamID))
			}
			if err := c.resetSessions(ctx, op, id); err != nil {
				return connectors.Outcome{}, err
			}
			return connectors.Done(append(recs, "reset every session of user "+id)...)
		},
		Verify: func(ctx context.Context, id string) error {
			if gone, err := c.deactivated(ctx, verifyOp(ActionResetSessions), id); err != nil || gone {
				return err
			}
			sessions, err := c.listSessions(ctx, verifyOp(ActionResetSessions), id)
			if err != nil {
				return err
			}
			if len(sessions) > 0 {
				return connectors.Conflictf(System, verifyOp(ActionResetSessions), "%s remain for user %s: %s", connectors.Plural(len(sessions), "active session", "active sessions"), id, strings.Join(sessionIDs(sessions), ", "))
			}
			return nil
		},
	}
}

// deactivated reports whether SCIM shows the user deactivated. A user SCIM
// does not find is not known to be signed out: the sessions are listed.
func (c *Client) deactivated(ctx context.Context, op, id string) (bool, error) {
	su, err := c.getSCIMUser(ctx, op, id)
	if connectors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !su.active(), nil
}
