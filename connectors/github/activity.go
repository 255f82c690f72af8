package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var (
	_ connectors.ActivityReader = (*Client)(nil)
	_ connectors.ChangeReader   = (*Client)(nil)
	_ connectors.Searcher       = (*Client)(nil)
)

// Activity reads each configured organization's audit log for entries the
// person is the actor of between from and to (phrase actor:<login>
// created:<from>..<to>, include=all so Git events — clone, fetch, push —
// come too, oldest first, every page). GitHub keeps Git events 7 days and
// the rest 180 days.
func (c *Client) Activity(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read audit log"
	login, err := accountLogin(op, a)
	if err != nil {
		return nil, err
	}
	return c.audit(ctx, op, "actor:"+login, from, to)
}

// Changes reads each organization's audit log for entries about the
// person, by anyone (phrase user:<login>): who invited them back, re-added
// them, changed their role.
func (c *Client) Changes(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read audit log"
	login, err := accountLogin(op, a)
	if err != nil {
		return nil, err
	}
	return c.audit(ctx, op, "user:"+login, from, to)
}

// Search reads each organization's audit log for entries from one of q's
// IPs (actor_ip:) or by one of its logins (actor:), one query each (the
// audit log's qualifiers of one key are not ORed everywhere).
func (c *Client) Search(ctx context.Context, q connectors.Query, from, to time.Time) ([]evidence.Event, error) {
	const op = "search audit log"
	var terms []string
	for _, ip := range q.IPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			terms = append(terms, "actor_ip:"+a.String())
		}
	}
	for _, l := range q.Logins {
		if loginRE.MatchString(l) {
			terms = append(terms, "actor:"+l)
		}
	}
	var out []evidence.Event
	seen := map[string]bool{}
	for _, t := range terms {
		evs, err := c.audit(ctx, op, t, from, to)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if k := string(e.Raw); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// audit reads every page of each organization's audit log for entries
// matching term between from and to (include=all, so Git events come
// too), oldest first.
func (c *Client) audit(ctx context.Context, op, term string, from, to time.Time) ([]evidence.Event, error) {
	phrase := fmt.Sprintf("%s created:%s..%s", term, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	var out []evidence.Event
	for _, org := range c.orgs {
		opts := &gh.GetAuditLogOptions{Phrase: gh.String(phrase), Include: gh.String("all"), Order: gh.String("asc"),
			ListCursorOptions: gh.ListCursorOptions{PerPage: 100}}
		seen := map[string]bool{}
		for {
			entries, resp, err := c.api.Organizations.GetAuditLog(ctx, org, opts)
			if err != nil {
				return nil, c.apiError(op, resp, err)
			}
			for _, e := range entries {
				ev, err := auditEvent(e)
				if err != nil {
					return nil, connectors.Unavailablef(System, op, "an audit log entry could not be kept: %v", err)
				}
				if !ev.Time.Before(from) && ev.Time.Before(to) {
					out = append(out, ev)
				}
			}
			if resp.After == "" {
				break
			}
			if seen[resp.After] {
				return nil, connectors.Unavailablef(System, op, "pagination did not end")
			}
			seen[resp.After] = true
			opts.After = resp.After
		}
	}
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// auditEvent normalises one audit log entry; Raw is the entry with every
// field GitHub sent.
func auditEvent(e *gh.AuditEntry) (evidence.Event, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return evidence.Event{}, err
	}
	ev := evidence.Event{System: System, Action: e.GetAction(), Actor: e.GetActor(), Raw: raw}
	switch {
	case e.Timestamp != nil:
		ev.Time = e.Timestamp.UTC()
	case e.CreatedAt != nil:
		ev.Time = e.CreatedAt.UTC()
	}
	if loc := e.ActorLocation; loc != nil {
		ev.Country = loc.GetCountryCode()
	}
	field := func(k string) string {
		if v, ok := e.AdditionalFields[k].(string); ok {
			return v
		}
		if v, ok := e.Data[k].(string); ok {
			return v
		}
		return ""
	}
	ev.Target = field("repo")
	if ev.Target == "" {
		ev.Target = field("repository")
	}
	ev.SourceIP = field("actor_ip")
	ev.UserAgent = field("user_agent")
	switch {
	case e.TokenID != nil:
		ev.Credential = fmt.Sprintf("token:%d", e.GetTokenID())
	case field("hashed_token") != "":
		ev.Credential = "token:" + field("hashed_token")
	case strings.HasPrefix(field("fingerprint"), "SHA256:"):
		ev.Credential = field("fingerprint")
	}
	return ev, nil
}
