package google

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	reports "google.golang.org/api/admin/reports/v1"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var _ connectors.ActivityReader = (*Client)(nil)

// activityApps are the Reports API applications read for evidence: sign-ins,
// Drive (downloads, views, copies, exports), OAuth token grants, and admin
// actions the person took.
var activityApps = []string{"login", "drive", "token", "admin"}

// Activity reads the Reports API activities the user is the actor of,
// between from and to, for each of activityApps (every page; Google keeps
// them 180 days). Each activity becomes one event per event name it holds.
func (c *Client) Activity(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read reports"
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	var out []evidence.Event
	for _, app := range activityApps {
		evs, err := c.listReports(ctx, op, app, c.rep.Activities.List(id, app), from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// reportEvents normalises one activity: one event per event it records,
// each keeping the whole activity as Raw.
func reportEvents(app string, act *reports.Activity) ([]evidence.Event, error) {
	raw, err := json.Marshal(act)
	if err != nil {
		return nil, err
	}
	base := evidence.Event{System: System, SourceIP: act.IpAddress, Raw: raw}
	if act.Id != nil {
		if t, err := time.Parse(time.RFC3339Nano, act.Id.Time); err == nil {
			base.Time = t.UTC()
		}
	}
	if act.Actor != nil {
		base.Actor = act.Actor.ProfileId
	}
	var out []evidence.Event
	for _, e := range act.Events {
		ev := base
		ev.Action = app + ":" + e.Name
		params := map[string]string{}
		for _, p := range e.Parameters {
			if p.Value != "" {
				params[p.Name] = p.Value
			}
		}
		ev.Target = first(params["doc_title"], params["doc_id"], params["app_name"], params["USER_EMAIL"])
		ev.Credential = params["client_id"]
		switch e.Name {
		case "login_failure":
			ev.Outcome = "failure"
		case "login_success":
			ev.Outcome = "success"
		}
		out = append(out, ev)
	}
	return out, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
