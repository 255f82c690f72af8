package aws

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var _ connectors.ActivityReader = (*Client)(nil)

// accessKeyID is the shape of an IAM access key ID.
var accessKeyID = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)

// Activity reads CloudTrail event history (LookupEvents, 90 days) for each
// of the person's IAM users between from and to: the events by the user's
// name, and the events made with each of its access keys (CloudTrail takes
// one attribute per call, so a call each, paced to its 2 calls a second).
// An event found both ways is kept once. Raw is CloudTrail's whole record.
func (c *Client) Activity(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read CloudTrail"
	if a.System != "" && a.System != System {
		return nil, connectors.InvalidInputf(System, op, "account belongs to system %q, not aws", a.System)
	}
	refs, err := parseIAMUsers(a.Attributes[AttrIAMUsers])
	if err != nil {
		return nil, err
	}
	var out []evidence.Event
	seen := map[string]bool{}
	calls := 0
	lookup := func(acct, key, value string) error {
		if calls > 0 && c.opts.lookupPace > 0 {
			t := time.NewTimer(c.opts.lookupPace)
			select {
			case <-ctx.Done():
				t.Stop()
				return connectors.Unavailablef(System, op, "stopped: %v", ctx.Err())
			case <-t.C:
			}
		}
		calls++
		evs, err := c.LookupEvents(ctx, acct, key, value, from, to, 0)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			out = append(out, trailEvent(acct, e))
		}
		return nil
	}
	for _, r := range refs {
		if err := lookup(r.Account, LookupUsername, r.Name); err != nil {
			return nil, r.hideErr(err)
		}
		ac, err := c.account(ctx, r.Account)
		if err != nil {
			return nil, err
		}
		keys, err := listAccessKeys(ctx, ac.iam, r.Name)
		if err != nil && !userGone(err) {
			return nil, r.hideErr(err)
		}
		ids := make([]string, 0, len(keys))
		for _, k := range keys {
			ids = append(ids, sdkaws.ToString(k.AccessKeyId))
		}
		// Keys the cut recorded and has since deleted are looked up too:
		// their use after the cut is what the watch is for.
		for _, id := range strings.Split(a.Attributes[connectors.AttrCredentials], ",") {
			if accessKeyID.MatchString(id) && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			if err := lookup(r.Account, LookupAccessKeyID, id); err != nil {
				return nil, r.hideErr(err)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// trailEvent normalises one CloudTrail event from event history.
func trailEvent(acct string, e Event) evidence.Event {
	ev := evidence.Event{Time: e.Time, System: System, Actor: acct + ":" + e.Username, Action: e.Source + ":" + e.Name,
		Credential: e.AccessKeyID, Raw: json.RawMessage(e.Record)}
	if len(e.Resources) > 0 {
		ev.Target = e.Resources[0]
	}
	var rec struct {
		SourceIPAddress string `json:"sourceIPAddress"`
		UserAgent       string `json:"userAgent"`
		ErrorCode       string `json:"errorCode"`
		ErrorMessage    string `json:"errorMessage"`
		// A failed console sign-in has no errorCode: it says so here.
		ResponseElements struct {
			ConsoleLogin string `json:"ConsoleLogin"`
		} `json:"responseElements"`
		UserIdentity struct {
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
	}
	if json.Unmarshal([]byte(e.Record), &rec) == nil {
		ev.SourceIP, ev.UserAgent = rec.SourceIPAddress, rec.UserAgent
		ev.Outcome = "success"
		if rec.ErrorCode != "" || rec.ResponseElements.ConsoleLogin == "Failure" {
			ev.Outcome = "failure"
		}
	} else {
		// Not JSON: keep it whole as a string.
		raw, _ := json.Marshal(e.Record)
		ev.Raw = raw
	}
	return ev
}
