package activities

import (
	"context"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

// WatchPolicy is the watch a done case opens.
type WatchPolicy struct {
	Days         int             `json:"days"`
	PollInterval time.Duration   `json:"pollInterval"`
	Rechecks     []time.Duration `json:"rechecks,omitempty"`
}

// WithWatch has a's done cases open a watch under p. (A function, not a
// method: every exported method is an activity.)
func WithWatch(a *Activities, p *WatchPolicy) *Activities {
	a.watch = p
	return a
}

// PollInput asks for the person's activity between two polls.
type PollInput struct {
	Accounts []connectors.Account `json:"accounts"`
	Since    time.Time            `json:"since"`
	Until    time.Time            `json:"until"`
}

// PollResult is what a watch's poll found: the events by the person's
// accounts (without their raw form, so the watch's history stays small),
// and the systems that could not be read.
type PollResult struct {
	Events     []evidence.Event `json:"events,omitempty"`
	Incomplete []string         `json:"incomplete,omitempty"`
}

// maxPollEvents bounds what one poll returns.
const maxPollEvents = 100

// WatchPoll reads every account's activity in (Since, Until]: after the
// cut, any of it is the person trying to come back.
func (a *Activities) WatchPoll(ctx context.Context, in PollInput) (PollResult, error) {
	var res PollResult
	for _, acc := range in.Accounts {
		r, err := Capability[connectors.ActivityReader](a, acc.System)
		if err != nil {
			continue
		}
		evs, err := r.Activity(ctx, acc, in.Since, in.Until)
		if err != nil {
			if ctx.Err() != nil {
				return res, ToTemporal(ctx, err)
			}
			res.Incomplete = append(res.Incomplete, acc.System+": "+err.Error())
			continue
		}
		for _, e := range evs {
			if len(res.Events) >= maxPollEvents {
				break
			}
			e.Raw = nil
			res.Events = append(res.Events, e)
		}
	}
	return res, nil
}
