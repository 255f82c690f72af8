package google

import (
	"context"
	"fmt"
	"strings"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/offboard/offboard/connectors"
)

// Resolve finds the person's Workspace user: by the "google" override (a
// user ID or email) when set, else by the subject's email. A subject whose
// email Google does not know, or (with Config.Domain) whose email is in
// another domain, has no account: NotFound. An override that matches
// nobody is InvalidInput, since it would otherwise read as "no account"
// and leave the real one open.
//
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/get
func (c *Client) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	const op = "resolve"
	emp := s.EmployeeID
	if key := strings.TrimSpace(s.Overrides[System]); key != "" {
		if c.isSubject(key) {
			return connectors.Account{}, refuseSubject(op, emp)
		}
		u, err := c.getUser(ctx, key)
		if connectors.IsNotFound(err) {
			return connectors.Account{}, &connectors.Error{Kind: connectors.InvalidInput, System: System, Op: op, Status: connectors.StatusOf(err),
				Msg: fmt.Sprintf("the google override for employee %s matches no Workspace user", emp)}
		}
		if err != nil {
			return connectors.Account{}, err
		}
		// An override is a person's decision: the employee ID is not
		// compared.
		return c.account(op, "", u)
	}
	email := strings.TrimSpace(s.Email)
	if email == "" {
		// Nothing identifies a Google user: no other system knew the
		// person either, so there is no account here to close.
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("the subject (employee %s) has no email or google override", emp)}
	}
	if !emailRE.MatchString(email) {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "the subject's email (employee %s) is not an email address", emp)
	}
	if c.domain != "" && !inDomain(email, c.domain) {
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("the subject's email (employee %s) is not in the Workspace domain %s; set a google override if they have an account", emp, c.domain)}
	}
	if c.isSubject(email) {
		return connectors.Account{}, refuseSubject(op, emp)
	}
	u, err := c.getUser(ctx, email)
	if connectors.IsNotFound(err) {
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op, Status: connectors.StatusOf(err),
			Msg: fmt.Sprintf("no Workspace user has the subject's email (employee %s)", emp)}
	}
	if err != nil {
		return connectors.Account{}, err
	}
	return c.account(op, emp, u)
}

// inDomain reports whether email is in domain or one of its subdomains.
func inDomain(email, domain string) bool {
	_, d, ok := strings.Cut(email, "@")
	if !ok {
		return false
	}
	d = strings.ToLower(d)
	return d == domain || strings.HasSuffix(d, "."+domain)
}

func (c *Client) isSubject(key string) bool {
	return c.subject != "" && strings.EqualFold(strings.TrimSpace(key), c.subject)
}

func refuseSubject(op, emp string) error {
	return connectors.InvalidInputf(System, op, "employee %s is the admin this connector impersonates; offboard them with another admin", emp)
}

// account checks the user belongs to the configured customer, is not the
// impersonated admin and (when emp is given) carries no other employee ID,
// and describes it.
func (c *Client) account(op, emp string, u *directory.User) (connectors.Account, error) {
	if c.customer != "my_customer" && u.CustomerId != "" && u.CustomerId != c.customer {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "Workspace user %s belongs to customer %s, not %s", u.Id, u.CustomerId, c.customer)
	}
	if c.isSubject(u.PrimaryEmail) {
		return connectors.Account{}, refuseSubject(op, emp)
	}
	if got := employeeID(u); got != "" && emp != "" && got != emp {
		return connectors.Account{}, connectors.InvalidInputf(System, op, "Workspace user %s carries employee ID %s, not %s; set a google override if it is the same person", u.Id, got, emp)
	}
	status := StatusActive
	if u.Suspended {
		status = StatusSuspended
	}
	return connectors.Account{System: System, ID: u.Id, Status: status}, nil
}

// employeeID is the user's "organization" external ID, if any.
func employeeID(u *directory.User) string {
	ids, ok := u.ExternalIds.([]any)
	if !ok {
		return ""
	}
	for _, x := range ids {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if t, _ := m["type"].(string); t != "organization" {
			continue
		}
		if v, _ := m["value"].(string); v != "" {
			return v
		}
	}
	return ""
}

func (c *Client) getUser(ctx context.Context, key string) (*directory.User, error) {
	u, err := c.dir.Users.Get(key).Context(ctx).Do()
	if err != nil {
		return nil, apiError("get user", err)
	}
	return u, nil
}
