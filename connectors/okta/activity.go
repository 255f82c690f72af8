package okta

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var (
	_ connectors.ActivityReader = (*Client)(nil)
	_ connectors.ChangeReader   = (*Client)(nil)
	_ connectors.Searcher       = (*Client)(nil)
)

// logPage is how many System Log events one page asks for (Okta's most).
const logPage = 1000

// Activity reads the System Log events the user is the actor of between
// from and to (filter actor.id eq "<id>", oldest first, every page):
// sign-ins, app access, MFA and credential changes, with the client's IP,
// geography and network. Okta keeps the System Log 90 days.
func (c *Client) Activity(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read system log"
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	return c.readLog(ctx, op, `actor.id eq "`+id+`"`, from, to)
}

// Changes reads the System Log events with the user as target between
// from and to (filter target.id eq "<id>"): who suspended, unsuspended,
// activated or re-assigned them, with the actor who did it.
func (c *Client) Changes(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read system log"
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	return c.readLog(ctx, op, `target.id eq "`+id+`"`, from, to)
}

// Search reads the System Log events, by any user, from one of q's IPs
// (client.ipAddress) or by one of its emails or logins
// (actor.alternateId, Okta's login), between from and to.
func (c *Client) Search(ctx context.Context, q connectors.Query, from, to time.Time) ([]evidence.Event, error) {
	const op = "search system log"
	var terms []string
	for _, ip := range q.IPs {
		terms = append(terms, `client.ipAddress eq "`+quoter.Replace(ip)+`"`)
	}
	for _, id := range append(slices.Clone(q.Emails), q.Logins...) {
		terms = append(terms, `actor.alternateId eq "`+quoter.Replace(id)+`"`)
	}
	if len(terms) == 0 {
		return nil, nil
	}
	return c.readLog(ctx, op, strings.Join(terms, " or "), from, to)
}

// readLog reads every page of the System Log events matching filter
// between from and to, oldest first.
func (c *Client) readLog(ctx context.Context, op, filter string, from, to time.Time) ([]evidence.Event, error) {
	qp := query.NewQueryParams(
		query.WithFilter(filter),
		query.WithSince(from.UTC().Format(time.RFC3339)),
		query.WithUntil(to.UTC().Format(time.RFC3339)),
		query.WithSortOrder("ASCENDING"),
		query.WithLimit(logPage),
	)
	ctx, cp := withCapture(ctx)
	re := c.api.CloneRequestExecutor()
	req, err := re.WithAccept("application/json").NewRequest("GET", "/api/v1/logs"+qp.String(), nil)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "build request: %v", err)
	}
	var first []json.RawMessage
	resp, err := re.Do(ctx, req, &first)
	raws, err := collect(ctx, op, cp, first, resp, err)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.Event, 0, len(raws))
	for _, raw := range raws {
		e, err := logEventOf(raw)
		if err != nil {
			return nil, connectors.Unavailablef(System, op, "a System Log event could not be read: %v", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// logEventOf normalises one System Log LogEvent.
func logEventOf(raw json.RawMessage) (evidence.Event, error) {
	var le sdk.LogEvent
	if err := json.Unmarshal(raw, &le); err != nil {
		return evidence.Event{}, err
	}
	e := evidence.Event{System: System, Action: le.EventType, Raw: raw}
	if le.Published != nil {
		e.Time = le.Published.UTC()
	}
	if le.Actor != nil {
		e.Actor = le.Actor.Id
	}
	for _, t := range le.Target {
		if t != nil && t.Type != "User" {
			e.Target = t.DisplayName
			if e.Target == "" {
				e.Target = t.Id
			}
			break
		}
	}
	if cl := le.Client; cl != nil {
		e.SourceIP = cl.IpAddress
		if cl.UserAgent != nil {
			e.UserAgent = cl.UserAgent.RawUserAgent
		}
		if g := cl.GeographicalContext; g != nil {
			e.Country = g.Country
		}
	}
	if sc := le.SecurityContext; sc != nil && sc.AsNumberPtr != nil {
		e.ASN = "AS" + strconv.FormatInt(*sc.AsNumberPtr, 10)
	}
	if o := le.Outcome; o != nil {
		switch o.Result {
		case "SUCCESS", "ALLOW":
			e.Outcome = "success"
		case "FAILURE", "DENY":
			e.Outcome = "failure"
		}
	}
	return e, nil
}
