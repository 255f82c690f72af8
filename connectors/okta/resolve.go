package okta

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/offboard/offboard/connectors"
)

// baseProfile lists Okta's base user profile attributes. Account.Attributes
// carries login, email and employeeNumber from these, and every string
// custom attribute (githubUsername, slackUserId, ...), which later systems
// use to find the person.
var baseProfile = map[string]bool{
	"secondEmail": true, "firstName": true, "lastName": true, "middleName": true,
	"honorificPrefix": true, "honorificSuffix": true, "title": true, "displayName": true,
	"nickName": true, "profileUrl": true, "primaryPhone": true, "mobilePhone": true,
	"streetAddress": true, "city": true, "state": true, "zipCode": true, "countryCode": true,
	"postalAddress": true, "preferredLanguage": true, "locale": true, "timezone": true,
	"userType": true, "costCenter": true, "organization": true, "division": true,
	"department": true, "managerId": true, "manager": true,
}

var quoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// Resolve finds the person's Okta user: by the "okta" override (a user ID
// or login) when set, else by profile.employeeNumber, else by login or
// email. Exactly one user must match. No match is NotFound (the person has
// no Okta account); several, or an override that matches nobody, is
// InvalidInput.
//
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
func (c *Client) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	const op = "resolve"
	emp := s.EmployeeID
	if key := strings.TrimSpace(s.Overrides[System]); key != "" {
		u, err := c.getUser(ctx, url.PathEscape(key))
		if connectors.IsNotFound(err) {
			// Not NotFound: that would read as "no Okta account" and leave
			// the real one open. A wrong override needs a person.
			return connectors.Account{}, &connectors.Error{Kind: connectors.InvalidInput, System: System, Op: op, Status: connectors.StatusOf(err),
				Msg: fmt.Sprintf("the okta override for employee %s matches no Okta user", emp)}
		}
		if err != nil {
			return connectors.Account{}, err
		}
		return account(u), nil
	}
	if emp == "" && s.Email == "" {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "the subject has no employee ID, email or okta override")
	}
	if emp != "" {
		users, err := c.searchUsers(ctx, fmt.Sprintf(`profile.employeeNumber eq "%s"`, quoter.Replace(emp)))
		if err != nil {
			return connectors.Account{}, err
		}
		switch len(users) {
		case 1:
			return account(users[0]), nil
		case 0:
		default:
			return connectors.Account{}, connectors.InvalidInputf(System, op, "several Okta users have employeeNumber %s (%d found); set an okta override", emp, len(users))
		}
	}
	if s.Email != "" {
		e := quoter.Replace(s.Email)
		users, err := c.searchUsers(ctx, fmt.Sprintf(`profile.login eq "%s" or profile.email eq "%s"`, e, e))
		if err != nil {
			return connectors.Account{}, err
		}
		switch len(users) {
		case 1:
			// Falling back to the email must not pick someone else: an
			// account that carries a different employee number is refused.
			if got := profileString(users[0], "employeeNumber"); got != "" && emp != "" && got != emp {
				return connectors.Account{}, connectors.InvalidInputf(System, op, "the Okta user %s found by the subject's email has employeeNumber %s, not %s; set an okta override if it is the same person", users[0].Id, got, emp)
			}
			return account(users[0]), nil
		case 0:
		default:
			return connectors.Account{}, connectors.InvalidInputf(System, op, "several Okta users have the subject's email as login or email (%d found, employee %s); set an okta override", len(users), emp)
		}
	}
	msg := fmt.Sprintf("no Okta user has employeeNumber %s", emp)
	switch {
	case emp == "":
		msg = "no Okta user has the subject's email as login or email"
	case s.Email != "":
		msg += " or the subject's email as login or email"
	}
	return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op, Msg: msg}
}

func profileString(u *sdk.User, k string) string {
	if u.Profile == nil {
		return ""
	}
	s, _ := (*u.Profile)[k].(string)
	return s
}

func account(u *sdk.User) connectors.Account {
	attrs := map[string]string{}
	if u.Profile != nil {
		for k, v := range *u.Profile {
			s, ok := v.(string)
			if !ok || s == "" || baseProfile[k] {
				continue
			}
			attrs[k] = s
		}
	}
	name := profileString(u, "displayName")
	if name == "" {
		name = strings.TrimSpace(profileString(u, "firstName") + " " + profileString(u, "lastName"))
	}
	return connectors.Account{System: System, ID: u.Id, Status: u.Status, EmployeeID: profileString(u, "employeeNumber"), DisplayName: name, Attributes: attrs}
}
