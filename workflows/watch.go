package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// Names of the watch.
const (
	// WatchName is the watch workflow's type name.
	WatchName = "Watch"
	// WatchIDPrefix starts every watch's workflow ID.
	WatchIDPrefix = "watch/"
	// QueryWatch returns the watch as a WatchStatus.
	QueryWatch = "watch"
	// UpdateCloseWatch ends a watch, with a reason.
	UpdateCloseWatch = "close-watch"
)

// WatchID is the watch workflow ID for an employee.
func WatchID(employeeID string) string { return WatchIDPrefix + employeeID }

// Watch defaults.
const (
	DefaultWatchDays    = 90
	DefaultPollInterval = 15 * time.Minute
	// watchHistoryLimit is the history length past which a watch continues
	// as new, so its history stays bounded however long it runs.
	watchHistoryLimit = 2000
	// maxWatchAlerts bounds the alerts a watch carries (the newest kept);
	// every alert's events are in the evidence store.
	maxWatchAlerts = 200
	// maxSeen bounds the event keys kept to deduplicate attempts.
	maxSeen = 2000
	// watchRunPolls bounds the polls of one run: with the history limit,
	// what keeps each run's history to a few thousand events.
	watchRunPolls = 150
)

// DefaultRechecks are when, after the cut, every done step is verified
// again.
var DefaultRechecks = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// Watch states (also WatchStatus.State).
const (
	WatchOpen     = "open"
	WatchAlerting = "alerting"
	WatchClosed   = "closed"
)

// WatchInput starts a watch, and carries it across continue-as-new.
type WatchInput struct {
	CaseID     string    `json:"caseId"`
	EmployeeID string    `json:"employeeId"`
	CutAt      time.Time `json:"cutAt"`
	// Accounts are the person's accounts the case closed; Steps the done
	// steps, verified again on Rechecks.
	Accounts []connectors.Account `json:"accounts"`
	Steps    []connectors.Step    `json:"steps"`
	// Credentials are the IDs the cut recorded (keys, tokens, sessions).
	Credentials  []string        `json:"credentials,omitempty"`
	Days         int             `json:"days,omitempty"`
	Rechecks     []time.Duration `json:"rechecks,omitempty"`
	PollInterval time.Duration   `json:"pollInterval,omitempty"`
	Policy       Policy          `json:"policy,omitzero"`
	// Carried is the watch so far; zero at the start.
	Carried WatchStatus `json:"carried,omitzero"`
}

// WatchStatus is the watch as the watch query returns it.
type WatchStatus struct {
	WatchID string `json:"watchId"`
	CaseID  string `json:"caseId"`
	State   string `json:"state"`
	// Until is when the watch ends by itself.
	Until time.Time `json:"until"`
	// Rechecked counts the rechecks done (of Rechecks, in order).
	Rechecked   int       `json:"rechecked"`
	NextRecheck time.Time `json:"nextRecheck,omitzero"`
	LastPoll    time.Time `json:"lastPoll,omitzero"`
	Alerts      []Alert   `json:"alerts,omitempty"`
	// Runs counts the watch's continue-as-new runs before this one.
	Runs        int       `json:"runs"`
	ClosedBy    string    `json:"closedBy,omitempty"`
	CloseReason string    `json:"closeReason,omitempty"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`
	// Seen keys the attempts already alerted on.
	Seen []string `json:"seen,omitempty"`
}

// Alert kinds.
const (
	AlertCameBack = "came-back" // a revoked access holds no longer (re-provisioned)
	AlertAttempt  = "attempt"   // the person's accounts or credentials were used after the cut
)

// Alert is one thing the watch saw.
type Alert struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	System  string    `json:"system"`
	Step    string    `json:"step,omitempty"`
	Message string    `json:"message"`
	// Redone: the step was revoked and verified again.
	Redone bool `json:"redone,omitempty"`
}

// CloseWatchRequest ends a watch.
type CloseWatchRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// Watch keeps watch over a person after their cut, for Days: every done
// step is verified again at each of Rechecks after the cut, and one that no
// longer holds is revoked again and raises an alert; every PollInterval
// each system's activity since the last poll is read, and any event by the
// person's accounts raises an alert. It continues as new whenever its
// history grows past a few thousand events, carrying its state.
func Watch(ctx workflow.Context, in WatchInput) (WatchStatus, error) {
	w := &watch{in: in, st: in.Carried}
	if w.st.State == "" {
		w.st = WatchStatus{WatchID: workflow.GetInfo(ctx).WorkflowExecution.ID, CaseID: in.CaseID, State: WatchOpen,
			LastPoll: in.CutAt}
	}
	if w.in.Days <= 0 {
		w.in.Days = DefaultWatchDays
	}
	if len(w.in.Rechecks) == 0 {
		w.in.Rechecks = DefaultRechecks
	}
	if w.in.PollInterval <= 0 {
		w.in.PollInterval = DefaultPollInterval
	}
	w.st.Until = in.CutAt.Add(time.Duration(w.in.Days) * 24 * time.Hour).UTC()
	if err := w.register(ctx); err != nil {
		return w.st, err
	}
	err := w.run(ctx)
	if err == nil || temporal.IsCanceledError(err) {
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	return w.st, err
}

type watch struct {
	in      WatchInput
	st      WatchStatus
	closing bool
	polls   int // in this run
}

func (w *watch) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryWatch, func() (WatchStatus, error) {
		v := w.st
		v.Alerts, v.Seen = slices.Clone(w.st.Alerts), nil
		return v, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCloseWatch,
		func(ctx workflow.Context, req CloseWatchRequest) (DecisionResult, error) {
			w.closing = true
			w.st.ClosedBy, w.st.CloseReason, w.st.ClosedAt = req.By, strings.TrimSpace(req.Reason), workflow.Now(ctx).UTC()
			return DecisionResult{Action: UpdateCloseWatch, At: w.st.ClosedAt}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req CloseWatchRequest) error {
			var errs []error
			if w.closing || w.st.State == WatchClosed {
				errs = append(errs, errors.New("the watch is already closed"))
			}
			if blank(req.By) {
				errs = append(errs, errors.New("who closes it (by) is required"))
			}
			if blank(req.Reason) {
				errs = append(errs, errors.New("closing a watch needs a reason"))
			}
			return errors.Join(errs...)
		}},
	)
}

// run is the watch's loop: sleep until the next recheck, poll or the end,
// whichever is first, and do it.
func (w *watch) run(ctx workflow.Context) error {
	ctx = w.in.Policy.withDefaults().activityOptions(ctx)
	for {
		now := workflow.Now(ctx)
		if w.closing || !now.Before(w.st.Until) {
			// A last read, so the watch's end leaves no window unread.
			if w.st.LastPoll.Before(now) {
				w.poll(ctx, now)
			}
			w.st.State = WatchClosed
			if !w.closing {
				w.st.CloseReason, w.st.ClosedAt = fmt.Sprintf("the watch's %d days are over", w.in.Days), now.UTC()
			}
			return nil
		}
		next := w.st.Until
		w.st.NextRecheck = time.Time{}
		if w.st.Rechecked < len(w.in.Rechecks) {
			w.st.NextRecheck = w.in.CutAt.Add(w.in.Rechecks[w.st.Rechecked]).UTC()
			next = minTime(next, w.st.NextRecheck)
		}
		next = minTime(next, w.st.LastPoll.Add(w.in.PollInterval))
		if d := next.Sub(now); d > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return w.closing }); err != nil {
				return err
			}
			continue
		}
		if !w.st.NextRecheck.IsZero() && !now.Before(w.st.NextRecheck) {
			w.recheck(ctx)
			w.st.Rechecked++
		}
		if !now.Before(w.st.LastPoll.Add(w.in.PollInterval)) {
			w.poll(ctx, now)
		}
		if w.polls >= watchRunPolls || workflow.GetInfo(ctx).GetCurrentHistoryLength() > watchHistoryLimit {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			next := w.in
			next.Carried = w.st
			next.Carried.Runs++
			return workflow.NewContinueAsNewError(ctx, WatchName, next)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// recheck verifies every done step again; one that no longer holds is
// revoked again through the same step code, verified, and alerted on.
func (w *watch) recheck(ctx workflow.Context) {
	acc := map[string]connectors.Account{}
	for _, a := range w.in.Accounts {
		acc[a.System] = a
	}
	futures := make([]workflow.Future, len(w.in.Steps))
	for i, st := range w.in.Steps {
		futures[i] = workflow.ExecuteActivity(stepSummary(ctx, st, "watch: verify again"), a.VerifyStep, activities.StepInput{Account: acc[st.System], Step: st})
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err == nil || ctx.Err() != nil {
			continue
		}
		st := w.in.Steps[i]
		in := activities.StepInput{Account: acc[st.System], Step: st}
		al := Alert{At: workflow.Now(ctx).UTC(), Kind: AlertCameBack, System: st.System, Step: st.ID,
			Message: fmt.Sprintf("%s no longer held at the %s recheck", st.ID, w.in.Rechecks[w.st.Rechecked])}
		if err := workflow.ExecuteActivity(stepSummary(ctx, st, "watch: run again"), a.RunStep, in).Get(ctx, nil); err != nil {
			al.Message += "; running it again failed: " + failureMessage(err)
		} else if err := workflow.ExecuteActivity(stepSummary(ctx, st, "watch: verify"), a.VerifyStep, in).Get(ctx, nil); err != nil {
			al.Message += "; run again, but not verified: " + failureMessage(err)
		} else {
			al.Redone = true
			al.Message += "; revoked and verified again"
		}
		w.alert(al)
	}
}

// poll reads every account's activity since the last poll and alerts on
// each new event: after the cut, anything done with the person's accounts
// is an attempt to come back.
func (w *watch) poll(ctx workflow.Context, now time.Time) {
	var res activities.PollResult
	in := activities.PollInput{Accounts: w.in.Accounts, Since: w.st.LastPoll, Until: now.UTC()}
	if err := workflow.ExecuteActivity(withSummary(ctx, "watch: read activity since the last poll"), a.WatchPoll, in).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("watch poll failed", "error", failureMessage(err))
		return // the next poll reads from the same time
	}
	w.st.LastPoll = now.UTC()
	w.polls++
	for _, e := range res.Events {
		key := e.System + "|" + e.Time.UTC().Format(time.RFC3339Nano) + "|" + e.Action + "|" + e.Target
		if slices.Contains(w.st.Seen, key) {
			continue
		}
		w.st.Seen = append(w.st.Seen, key)
		w.alert(Alert{At: now.UTC(), Kind: AlertAttempt, System: e.System,
			Message: fmt.Sprintf("%s %s %s at %s from %s", e.System, e.Action, e.Target, e.Time.UTC().Format(time.RFC3339), e.SourceIP)})
	}
	if n := len(w.st.Seen); n > maxSeen {
		w.st.Seen = slices.Clone(w.st.Seen[n-maxSeen:])
	}
}

func (w *watch) alert(al Alert) {
	w.st.State = WatchAlerting
	w.st.Alerts = append(w.st.Alerts, al)
	if n := len(w.st.Alerts); n > maxWatchAlerts {
		w.st.Alerts = slices.Clone(w.st.Alerts[n-maxWatchAlerts:])
	}
}

// openWatch starts the person's watch once the case is done (skipped steps
// or not): a workflow of its own that outlives the case.
func (w *offboarding) openWatch(ctx workflow.Context) {
	pol := w.settings.Watch
	in := WatchInput{CaseID: w.c.CaseID, EmployeeID: w.c.EmployeeID, CutAt: w.c.CutStartedAt,
		Days: pol.Days, Rechecks: pol.Rechecks, PollInterval: pol.PollInterval, Policy: w.policy}
	for _, s := range w.c.Systems {
		if acc, ok := w.accounts[s.System]; ok {
			in.Accounts = append(in.Accounts, acc)
		}
	}
	for _, st := range w.c.Steps {
		if st.State == StepDone && st.Action != ActionPlan {
			in.Steps = append(in.Steps, st.Step)
		}
		in.Credentials = append(in.Credentials, st.Records...)
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            WatchID(w.c.EmployeeID),
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	f := workflow.ExecuteChildWorkflow(cctx, WatchName, in)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		w.c.WatchError = "the watch could not be opened: " + failureMessage(err)
		workflow.GetLogger(ctx).Error("open watch", "error", failureMessage(err))
		return
	}
	w.c.Watch = WatchID(w.c.EmployeeID)
}
