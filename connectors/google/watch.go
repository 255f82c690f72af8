package google

import (
	"context"
	"errors"
	"slices"
	"time"

	reports "google.golang.org/api/admin/reports/v1"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var (
	_ connectors.ChangeReader = (*Client)(nil)
	_ connectors.Searcher     = (*Client)(nil)
)

// Changes reads the admin activities done to the user between from and to
// (the Reports API's admin application, filter USER_EMAIL==<primary email>:
// Admin events name their target only by email), by any administrator:
// who unsuspended them, restored a role, re-added a group.
func (c *Client) Changes(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read reports"
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	u, err := c.getUser(ctx, id)
	if err != nil {
		return nil, err
	}
	call := c.rep.Activities.List("all", "admin").Filters("USER_EMAIL==" + u.PrimaryEmail)
	return c.listReports(ctx, op, "admin", call, from, to)
}

// Search reads the sign-in activities (the login application) of any
// user from one of q's IPs (actorIpAddress), and those of the users named
// by q's emails (a user not in the domain has none), between from and to.
func (c *Client) Search(ctx context.Context, q connectors.Query, from, to time.Time) ([]evidence.Event, error) {
	const op = "search reports"
	var out []evidence.Event
	for _, ip := range q.IPs {
		evs, err := c.listReports(ctx, op, "login", c.rep.Activities.List("all", "login").ActorIpAddress(ip), from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	for _, email := range q.Emails {
		// Only a user of the Workspace has sign-ins to read: Google answers
		// 403 for an address of another domain and 404 for an unknown one.
		if c.domain != "" && !inDomain(email, c.domain) {
			continue
		}
		if _, err := c.getUser(ctx, email); err != nil {
			if ce, ok := errors.AsType[*connectors.Error](err); ok && (ce.Kind == connectors.NotFound || ce.Kind == connectors.PermissionDenied) {
				continue
			}
			return nil, err
		}
		evs, err := c.listReports(ctx, op, "login", c.rep.Activities.List(email, "login"), from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// listReports reads every page of a Reports API list between from and to.
func (c *Client) listReports(ctx context.Context, op, app string, call *reports.ActivitiesListCall, from, to time.Time) ([]evidence.Event, error) {
	call = call.MaxResults(1000).Context(ctx)
	if !from.IsZero() {
		call = call.StartTime(from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		call = call.EndTime(to.UTC().Format(time.RFC3339))
	}
	var out []evidence.Event
	err := call.Pages(ctx, func(page *reports.Activities) error {
		for _, act := range page.Items {
			evs, err := reportEvents(app, act)
			if err != nil {
				return err
			}
			out = append(out, evs...)
		}
		return nil
	})
	if err != nil {
		return nil, apiError(op, err)
	}
	return out, nil
}
