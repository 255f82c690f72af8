package slack

import (
	"context"
	"fmt"
	"strings"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/connectors"
)

// Resolve finds the person's Slack user: by the "slack" override (a user
// ID) when set, else by the subject attribute Config.UserIDAttribute names
// (default slackUserId), else by email.
//
// users.lookupByEmail does not find deactivated users, so when it finds
// nobody, SCIM is asked (filter email eq), which lists deactivated users
// too. No match is NotFound (the person has no Slack account); an override
// that matches nobody, or several users with the email, is InvalidInput.
func (c *Client) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	const op = "resolve"
	emp := s.EmployeeID
	if key := strings.TrimSpace(s.Overrides[System]); key != "" {
		if !userIDRE.MatchString(key) {
			return connectors.Account{}, connectors.InvalidInputf(System, op, "the slack override for employee %s is not a Slack user ID (like U0123ABCD)", emp)
		}
		u, err := c.userInfo(ctx, op, key)
		if connectors.IsNotFound(err) {
			// Not NotFound: that would read as "no Slack account" and
			// leave the real one open. A wrong override needs a person.
			return connectors.Account{}, &connectors.Error{Kind: connectors.InvalidInput, System: System, Op: op, Status: connectors.StatusOf(err),
				Msg: fmt.Sprintf("the slack override %s for employee %s matches no Slack user", key, emp)}
		}
		if err != nil {
			return connectors.Account{}, err
		}
		return c.account(op, u)
	}
	attr := strings.TrimSpace(s.Attributes[c.userIDAttr])
	if attr != "" && userIDRE.MatchString(attr) {
		u, err := c.userInfo(ctx, op, attr)
		if err == nil {
			return c.account(op, u)
		}
		if !connectors.IsNotFound(err) {
			return connectors.Account{}, err
		}
		// A stale attribute: fall back to the email.
	}
	if s.Email == "" {
		if attr != "" {
			return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
				Msg: fmt.Sprintf("no Slack user has ID %q (the %s of employee %s), and the subject has no email", attr, c.userIDAttr, emp)}
		}
		// Nothing identifies a Slack user: no other system knew the person
		// either, so there is no Slack account to close.
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("employee %s has no email, %s or slack override to find a Slack user by", emp, c.userIDAttr)}
	}
	u, err := c.lookupByEmail(ctx, op, s.Email)
	if err == nil {
		return c.account(op, u)
	}
	if !connectors.IsNotFound(err) {
		return connectors.Account{}, err
	}
	users, err := c.findSCIMByEmail(ctx, op, s.Email)
	if err != nil {
		return connectors.Account{}, err
	}
	switch len(users) {
	case 0:
	case 1:
		if !userIDRE.MatchString(users[0].ID) {
			return connectors.Account{}, connectors.InvalidInputf(System, op, "SCIM answered user ID %q, which is not a Slack user ID", users[0].ID)
		}
		return connectors.Account{System: System, ID: users[0].ID, Status: users[0].status(),
			Attributes: map[string]string{c.userIDAttr: users[0].ID}}, nil
	default:
		return connectors.Account{}, connectors.InvalidInputf(System, op, "%d Slack users have the email of employee %s; set a slack override", len(users), emp)
	}
	msg := fmt.Sprintf("no Slack user has the email of employee %s", emp)
	if attr != "" {
		msg = fmt.Sprintf("no Slack user has ID %q (the %s of employee %s) or their email", attr, c.userIDAttr, emp)
	}
	return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op, Msg: msg}
}

func (c *Client) account(op string, u *sdk.User) (connectors.Account, error) {
	if u.IsBot || u.IsAppUser {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "Slack user %s is a bot, not a person", u.ID)
	}
	if !userIDRE.MatchString(u.ID) {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "Slack answered user ID %q, which is not a Slack user ID", u.ID)
	}
	status := StatusActive
	if u.Deleted {
		status = StatusDeactivated
	}
	return connectors.Account{System: System, ID: u.ID, Status: status, Attributes: map[string]string{c.userIDAttr: u.ID}}, nil
}
