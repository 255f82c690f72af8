package aws

import (
	"context"
	"slices"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/offboard/offboard/connectors"
)

// Event is one CloudTrail management event from Event history.
type Event struct {
	ID          string
	Name        string
	Source      string
	Time        time.Time
	Username    string
	AccessKeyID string
	ReadOnly    bool
	// Resources are "<type>:<name>" pairs (AWS::IAM::User:alovelace).
	Resources []string
	// Record is the full CloudTrail record as JSON.
	Record string
}

// Lookup keys for LookupEvents (CloudTrail's LookupAttributeKey values).
const (
	LookupUsername     = string(cttypes.LookupAttributeKeyUsername)
	LookupAccessKeyID  = string(cttypes.LookupAttributeKeyAccessKeyId)
	LookupResourceName = string(cttypes.LookupAttributeKeyResourceName)
	LookupEventName    = string(cttypes.LookupAttributeKeyEventName)
)

// lookupPace keeps page requests within CloudTrail's LookupEvents rate of
// 2 per second per account.
const lookupPace = 500 * time.Millisecond

// LookupEvents returns the management events of one configured account
// whose attribute key (LookupUsername, LookupAccessKeyID, ...) equals
// value, newest first, between since and until (zero means unbounded), at
// most limit of them (0 means all). CloudTrail allows one attribute per
// call. Pages are requested no faster than CloudTrail's 2 per second; a
// throttled page is returned as RateLimited, not retried.
func (c *Client) LookupEvents(ctx context.Context, account, key, value string, since, until time.Time, limit int) ([]Event, error) {
	const op = "lookup CloudTrail events"
	if !slices.Contains(cttypes.LookupAttributeKey("").Values(), cttypes.LookupAttributeKey(key)) {
		return nil, connectors.InvalidInputf(System, op, "lookup key %q is not a CloudTrail lookup attribute", key)
	}
	if value == "" {
		return nil, connectors.InvalidInputf(System, op, "the lookup value is empty")
	}
	ac, err := c.account(ctx, account)
	if err != nil {
		return nil, err
	}
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKey(key), AttributeValue: sdkaws.String(value)}},
		MaxResults:       sdkaws.Int32(50),
	}
	if !since.IsZero() {
		in.StartTime = sdkaws.Time(since)
	}
	if !until.IsZero() {
		in.EndTime = sdkaws.Time(until)
	}
	pace := c.opts.lookupPace
	p := cloudtrail.NewLookupEventsPaginator(ac.trail, in)
	var out []Event
	for n := 0; p.HasMorePages() && (limit <= 0 || len(out) < limit); n++ {
		if n >= maxPages {
			return nil, connectors.Unavailablef(System, op, "pagination did not end after %d pages", maxPages)
		}
		if n > 0 && pace > 0 {
			t := time.NewTimer(pace)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, connectors.Unavailablef(System, op, "stopped: %v", ctx.Err())
			case <-t.C:
			}
		}
		pg, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(op, err)
		}
		for _, e := range pg.Events {
			ev := Event{
				ID: sdkaws.ToString(e.EventId), Name: sdkaws.ToString(e.EventName), Source: sdkaws.ToString(e.EventSource),
				Time: sdkaws.ToTime(e.EventTime).UTC(), Username: sdkaws.ToString(e.Username), AccessKeyID: sdkaws.ToString(e.AccessKeyId),
				ReadOnly: sdkaws.ToString(e.ReadOnly) == "true", Record: sdkaws.ToString(e.CloudTrailEvent),
			}
			for _, r := range e.Resources {
				ev.Resources = append(ev.Resources, sdkaws.ToString(r.ResourceType)+":"+sdkaws.ToString(r.ResourceName))
			}
			out = append(out, ev)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
