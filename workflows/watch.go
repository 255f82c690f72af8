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
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/indicators"
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
	// UpdateAddIndicator adds indicators (emails, IPs, wallets, logins) the
	// watch looks for in every system.
	UpdateAddIndicator = "add-indicator"
	// UpdateReport reports a message (an extortion demand, a contact, a
	// leak): sealed as evidence, its indicators extracted and matched
	// against the snapshot.
	UpdateReport = "report"
	// UpdateIndicatorSeen tells the watch one of its indicators is an
	// account of another case's person.
	UpdateIndicatorSeen = "indicator-seen"
)

// SAWatchState is a watch's state as a search attribute (plaintext: a
// state only).
var SAWatchState = temporal.NewSearchAttributeKeyKeyword("WatchState")

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
	WatchOpen      = "open"
	WatchAlerting  = "alerting"
	WatchExtortion = "extortion"
	WatchClosed    = "closed"
)

// WatchStates are the watch states, in order of gravity (closed apart).
var WatchStates = []string{WatchOpen, WatchAlerting, WatchExtortion, WatchClosed}

// WatchInput starts a watch, and carries it across continue-as-new.
type WatchInput struct {
	CaseID     string    `json:"caseId"`
	EmployeeID string    `json:"employeeId"`
	CutAt      time.Time `json:"cutAt"`
	// From is when the case ended (every step settled): polls read from
	// then, since the events between the cut and the case's end are the
	// cut's own (revocations that vendors attribute to the person); they
	// are the snapshot's. Zero means CutAt.
	From time.Time `json:"from,omitzero"`
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
	// Mode is the case's; Snapshot its evidence bundle, which reports are
	// matched against.
	Mode     string `json:"mode,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
	// Notices: alerts are posted to Slack (the security channel, and a
	// reply in Thread, the case's summary in the ops channel), paging who
	// Escalate names for the alert's kind ("*": every kind).
	Notices  bool                 `json:"notices,omitempty"`
	Thread   activities.NoticeRef `json:"thread,omitzero"`
	Escalate map[string][]string  `json:"escalate,omitempty"`
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
	// Incomplete names the systems the last poll could not read.
	Incomplete []string `json:"incomplete,omitempty"`
	// Unverified names the steps the last recheck could not verify either
	// way (the vendor failed), with why.
	Unverified []string `json:"unverified,omitempty"`
	Alerts     []Alert  `json:"alerts,omitempty"`
	// Alerted counts every alert raised (Alerts keeps the newest).
	Alerted    int                   `json:"alerted"`
	Indicators indicators.Indicators `json:"indicators,omitzero"`
	Reports    []WatchReport         `json:"reports,omitempty"`
	// Reported counts the reports taken (one whose message could not be
	// kept too).
	Reported int `json:"reported,omitempty"`
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
	AlertCameBack  = "came-back" // a revoked access holds no longer (re-provisioned)
	AlertAttempt   = "attempt"   // the person's accounts or credentials were used after the cut
	AlertIndicator = "indicator" // an indicator of theirs turned up in a system's activity
	AlertReport    = "report"    // a message was reported: extortion, contact, leak
)

// AlertKinds are the alert kinds, which the escalation policy names.
var AlertKinds = []string{AlertCameBack, AlertAttempt, AlertIndicator, AlertReport}

// Alert is one thing the watch saw.
type Alert struct {
	// ID numbers the watch's alerts from 1.
	ID      int       `json:"id"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	System  string    `json:"system,omitempty"`
	Step    string    `json:"step,omitempty"`
	Message string    `json:"message"`
	// Redone: the step was revoked and verified again.
	Redone bool `json:"redone,omitempty"`
	// Events are the alert's events (the first few, without their raw
	// form); Bundle and Digest the sealed evidence bundle that holds them
	// all.
	Events []evidence.Event `json:"events,omitempty"`
	Bundle string           `json:"bundle,omitempty"`
	Digest string           `json:"digest,omitempty"`
	// Paged are who the escalation policy paged; Posted is where the
	// alert was posted, PostError why it could not be.
	Paged     []string `json:"paged,omitempty"`
	Posted    string   `json:"posted,omitempty"`
	PostError string   `json:"postError,omitempty"`
}

// maxAlertEvents bounds the events an alert carries.
const maxAlertEvents = 5

// WatchReport is a message reported on the watch.
type WatchReport struct {
	ID   int       `json:"id"`
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
	activities.ReportResult
}

// AddIndicatorRequest adds indicators to a watch.
type AddIndicatorRequest struct {
	By         string                `json:"by"`
	Indicators indicators.Indicators `json:"indicators"`
}

// ReportRequest reports a message on a watch.
type ReportRequest struct {
	By      string `json:"by"`
	Kind    string `json:"kind"`
	Note    string `json:"note,omitempty"`
	Message []byte `json:"message"`
}

// CloseWatchRequest ends a watch.
type CloseWatchRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// Watch keeps watch over a person after their cut, for Days: every done
// step is verified again at each of Rechecks after the cut, and one that no
// longer holds is revoked again and raises an alert naming who brought it
// back; every PollInterval each system's activity since the last poll is
// read, and any event by the person's accounts or with the credentials the
// cut recorded, or carrying one of the watch's indicators in any system,
// raises an alert, its events sealed as evidence. Reported messages are
// sealed, their indicators extracted and matched against the snapshot; an
// extortion report puts the watch in state extortion. Alerts are posted to
// Slack, paging whom the escalation policy names. The watch continues as new
// whenever its history grows past a few thousand events, carrying its
// state.
func Watch(ctx workflow.Context, in WatchInput) (WatchStatus, error) {
	w := &watch{in: in, st: in.Carried}
	if w.st.State == "" {
		w.st = WatchStatus{WatchID: workflow.GetInfo(ctx).WorkflowExecution.ID, CaseID: in.CaseID, State: WatchOpen,
			LastPoll: in.readFrom()}
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
	w.publish(ctx)
	err := w.run(ctx)
	if err == nil || temporal.IsCanceledError(err) {
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	w.publish(ctx)
	return w.st, err
}

type watch struct {
	in      WatchInput
	st      WatchStatus
	closing bool
	polls   int // in this run
	// pending are alerts (by ID) still to post.
	pending []int
	// reporting counts report Updates in flight.
	reporting int
	// published is the state last set as the search attribute (in this
	// run).
	published string
}

func (w *watch) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryWatch, func() (WatchStatus, error) {
		v := w.st
		v.Alerts, v.Reports, v.Seen = slices.Clone(w.st.Alerts), slices.Clone(w.st.Reports), nil
		return v, nil
	}); err != nil {
		return err
	}
	open := func() error {
		if w.closing || w.st.State == WatchClosed {
			return errors.New("the watch is closed")
		}
		return nil
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCloseWatch,
		func(ctx workflow.Context, req CloseWatchRequest) (DecisionResult, error) {
			w.closing = true
			w.st.ClosedBy, w.st.CloseReason, w.st.ClosedAt = req.By, strings.TrimSpace(req.Reason), workflow.Now(ctx).UTC()
			return DecisionResult{Action: UpdateCloseWatch, At: w.st.ClosedAt}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req CloseWatchRequest) error {
			var errs []error
			if err := open(); err != nil {
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
	); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAddIndicator,
		func(ctx workflow.Context, req AddIndicatorRequest) (indicators.Indicators, error) {
			w.st.Indicators.Merge(req.Indicators)
			w.publish(ctx)
			return w.st.Indicators, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req AddIndicatorRequest) error {
			var errs []error
			if err := open(); err != nil {
				errs = append(errs, err)
			}
			if blank(req.By) {
				errs = append(errs, errors.New("who adds them (by) is required"))
			}
			if err := req.Indicators.Validate(); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}},
	); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateIndicatorSeen,
		func(ctx workflow.Context, s activities.IndicatorSeen) (DecisionResult, error) {
			now := workflow.Now(ctx).UTC()
			w.alert(ctx, Alert{At: now, Kind: AlertIndicator,
				Message: fmt.Sprintf("indicator %s (%s) is an account of the person of a new case, %s: the same people come back under new identities", s.Indicator, s.Kind, s.CaseID)})
			w.publish(ctx)
			return DecisionResult{Action: UpdateIndicatorSeen, At: now}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(s activities.IndicatorSeen) error {
			if err := open(); err != nil {
				return err
			}
			if blank(s.CaseID) || blank(s.Indicator) {
				return errors.New("a case and an indicator are required")
			}
			return nil
		}},
	); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReport, w.report,
		workflow.UpdateHandlerOptions{Validator: func(req ReportRequest) error {
			var errs []error
			if err := open(); err != nil {
				errs = append(errs, err)
			}
			if !slices.Contains(activities.ReportKinds, req.Kind) {
				errs = append(errs, fmt.Errorf("kind %q: want one of %s", req.Kind, strings.Join(activities.ReportKinds, ", ")))
			}
			if blank(req.By) {
				errs = append(errs, errors.New("who reports it (by) is required"))
			}
			if len(req.Message) == 0 {
				errs = append(errs, errors.New("the message is empty"))
			} else if len(req.Message) > activities.MaxReportSize {
				errs = append(errs, fmt.Errorf("the message is %d bytes, over the %d a report takes", len(req.Message), activities.MaxReportSize))
			}
			return errors.Join(errs...)
		}},
	)
}

// report seals a reported message, extracts its indicators (added to the
// watch's), matches them against the snapshot and alerts; an extortion
// report puts the watch in state extortion.
func (w *watch) report(ctx workflow.Context, req ReportRequest) (WatchReport, error) {
	w.reporting++
	defer func() { w.reporting-- }()
	now := workflow.Now(ctx).UTC()
	w.st.Reported++
	id := w.st.Reported
	in := activities.ReportInput{CaseID: w.in.CaseID, EmployeeID: w.in.EmployeeID, Kind: req.Kind, By: req.By,
		Note: strings.TrimSpace(req.Note), At: now, Message: req.Message, Snapshot: w.in.Snapshot,
		Name: fmt.Sprintf("%s-report-%s-%d", w.in.EmployeeID, workflow.GetInfo(ctx).FirstRunID, id)}
	var res activities.ReportResult
	actx := withSummary(w.in.Policy.withDefaults().activityOptions(ctx), "watch: seal the reported "+req.Kind+" message and match it against the snapshot")
	if err := workflow.ExecuteActivity(actx, a.SealReport, in).Get(ctx, &res); err != nil {
		return WatchReport{}, fmt.Errorf("the report could not be kept: %s", failureMessage(err))
	}
	rep := WatchReport{ID: id, At: now, Kind: req.Kind, By: req.By, Note: in.Note, ReportResult: res}
	w.st.Reports = append(w.st.Reports, rep)
	w.st.Indicators.Merge(indicators.Indicators{Emails: res.Indicators.Emails, IPs: res.Indicators.IPs,
		Wallets: res.Indicators.Wallets, GitHubLogins: res.Indicators.GitHubLogins})
	msg := fmt.Sprintf("%s message reported by %s (SHA-256 %s, %d bytes)", req.Kind, req.By, res.SHA256, res.Size)
	if n := len(res.Matches); n > 0 {
		msg += "; " + res.Matches[0].Summary
		if n > 1 {
			msg += fmt.Sprintf(" (and %d more matches)", n-1)
		}
	}
	w.alert(ctx, Alert{At: now, Kind: AlertReport, Message: msg, Bundle: res.Bundle, Digest: res.Digest})
	if req.Kind == activities.ReportExtortion {
		w.st.State = WatchExtortion
	}
	w.publish(ctx)
	return rep, nil
}

// run is the watch's loop: sleep until the next recheck, poll or the end,
// whichever is first, and do it; post alerts as they come.
func (w *watch) run(ctx workflow.Context) error {
	ctx = w.in.Policy.withDefaults().activityOptions(ctx)
	for {
		w.post(ctx)
		now := workflow.Now(ctx)
		if w.closing || !now.Before(w.st.Until) {
			// A last read, so the watch's end leaves no window unread.
			if w.st.LastPoll.Before(now) {
				w.poll(ctx, now)
				w.post(ctx)
			}
			if err := workflow.Await(ctx, func() bool { return w.reporting == 0 }); err != nil {
				return err
			}
			w.post(ctx)
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
			if _, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return w.closing || len(w.pending) > 0 }); err != nil {
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
		w.publish(ctx)
		if w.polls >= watchRunPolls || workflow.GetInfo(ctx).GetCurrentHistoryLength() > watchHistoryLimit {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			w.post(ctx)
			next := w.in
			next.Carried = w.st
			next.Carried.Runs++
			return workflow.NewContinueAsNewError(ctx, WatchName, next)
		}
	}
}

// readFrom is when the watch's polls start: the case's end, to the
// second (vendors' logs keep some events to the second).
func (in WatchInput) readFrom() time.Time {
	if in.From.After(in.CutAt) {
		return in.From.Truncate(time.Second)
	}
	return in.CutAt
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// recheck verifies every done step again; one that no longer holds is
// revoked again through the same step code, verified, and alerted on, with
// who or what brought it back where the vendor's log says.
func (w *watch) recheck(ctx workflow.Context) {
	acc := map[string]connectors.Account{}
	for _, a := range w.in.Accounts {
		acc[a.System] = a
	}
	since := w.in.CutAt
	if w.st.Rechecked > 0 {
		since = w.in.CutAt.Add(w.in.Rechecks[w.st.Rechecked-1])
	}
	// A step that does not hold answers Conflict: at once, not after the
	// retries a vendor's outage gets.
	vctx := workflow.WithRetryPolicy(ctx, temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: time.Minute, MaximumAttempts: w.in.Policy.withDefaults().StepAttempts,
		NonRetryableErrorTypes: []string{string(connectors.Conflict)}})
	futures := make([]workflow.Future, len(w.in.Steps))
	for i, st := range w.in.Steps {
		futures[i] = workflow.ExecuteActivity(stepSummary(vctx, st, "watch: verify again"), a.VerifyStep, activities.StepInput{Account: acc[st.System], Step: st})
	}
	w.st.Unverified = nil
	// What came back, by system: one alert each, naming every step.
	type back struct {
		system string
		steps  []string
		notes  []string
		redone bool
		who    []evidence.Event
	}
	var order []*back
	bySystem := map[string]*back{}
	for i, f := range futures {
		err := f.Get(ctx, nil)
		if err == nil || ctx.Err() != nil {
			continue
		}
		st := w.in.Steps[i]
		if ae, ok := errors.AsType[*temporal.ApplicationError](err); !ok || ae.Type() != string(connectors.Conflict) {
			w.st.Unverified = append(w.st.Unverified, st.ID+": "+failureMessage(err))
			continue
		}
		b := bySystem[st.System]
		if b == nil {
			b = &back{system: st.System, redone: true}
			bySystem[st.System] = b
			order = append(order, b)
			now := workflow.Now(ctx).UTC()
			// Who brought it back, where the vendor's log says.
			_ = workflow.ExecuteActivity(withSummary(ctx, "watch: who changed the "+st.System+" account"), a.WhoChanged,
				activities.ChangesInput{Account: acc[st.System], Since: since, Until: now}).Get(ctx, &b.who)
		}
		b.steps = append(b.steps, st.ID)
		// Run again in plan order, through the same step code, and verify.
		in := activities.StepInput{Account: acc[st.System], Step: st}
		note := st.ID + " (" + failureMessage(err) + ")"
		if err := workflow.ExecuteActivity(stepSummary(ctx, st, "watch: run again"), a.RunStep, in).Get(ctx, nil); err != nil {
			note += ": running it again failed: " + failureMessage(err)
			b.redone = false
		} else if err := workflow.ExecuteActivity(stepSummary(ctx, st, "watch: verify"), a.VerifyStep, in).Get(ctx, nil); err != nil {
			note += ": run again, but not verified: " + failureMessage(err)
			b.redone = false
		} else {
			note += ": revoked and verified again"
		}
		b.notes = append(b.notes, note)
	}
	for _, b := range order {
		al := Alert{At: workflow.Now(ctx).UTC(), Kind: AlertCameBack, System: b.system, Step: b.steps[0], Redone: b.redone,
			Message: fmt.Sprintf("%s: %s no longer held at the %s recheck", b.system, connectors.Plural(len(b.steps), "step", "steps"), w.in.Rechecks[w.st.Rechecked])}
		if n := len(b.who); n > 0 {
			last := b.who[n-1]
			al.Events = b.who
			al.Message += fmt.Sprintf("; brought back by %s (%s at %s", last.Actor, last.Action, last.Time.UTC().Format(time.RFC3339))
			if last.SourceIP != "" {
				al.Message += " from " + last.SourceIP
			}
			al.Message += ")"
		}
		al.Message += "; " + strings.Join(b.notes, "; ")
		w.alert(ctx, al)
	}
}

// pollOverlap is how far back each poll reads before the last one: vendors'
// logs take a while to show an event (CloudTrail, Google's Reports) and
// some keep whole seconds only; what is read twice is deduplicated.
const pollOverlap = 15 * time.Minute

// poll reads activity since the last poll and alerts on each new event,
// one alert for each system and reason.
func (w *watch) poll(ctx workflow.Context, now time.Time) {
	since := w.st.LastPoll.Add(-pollOverlap)
	if from := w.in.readFrom(); since.Before(from) {
		since = from
	}
	var seen []string
	for _, k := range w.st.Seen {
		if activities.KeyTime(k).After(since) {
			seen = append(seen, k)
		}
	}
	in := activities.PollInput{CaseID: w.in.CaseID, EmployeeID: w.in.EmployeeID, Accounts: w.in.Accounts,
		Credentials: w.in.Credentials, Indicators: w.st.Indicators, Since: since, Until: now.UTC(), Seen: seen,
		Name: fmt.Sprintf("%s-watch-%s-%d", w.in.EmployeeID, workflow.GetInfo(ctx).FirstRunID, w.st.Runs*watchRunPolls+w.polls+1)}
	var res activities.PollResult
	if err := workflow.ExecuteActivity(withSummary(ctx, "watch: read activity since the last poll"), a.WatchPoll, in).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("watch poll failed", "error", failureMessage(err))
		w.st.Incomplete = []string{"the poll failed: " + failureMessage(err)}
		return // the next poll reads from the same time
	}
	w.st.LastPoll = now.UTC()
	w.st.Incomplete = res.Incomplete
	w.polls++
	type group struct{ why, system string }
	var order []group
	events := map[group][]activities.Found{}
	for _, f := range res.Found {
		w.st.Seen = append(w.st.Seen, f.Key)
		g := group{f.Why, f.Event.System}
		if _, ok := events[g]; !ok {
			order = append(order, g)
		}
		events[g] = append(events[g], f)
	}
	for _, g := range order {
		fs := events[g]
		al := Alert{At: now.UTC(), Kind: AlertAttempt, System: g.system, Bundle: res.Bundle, Digest: res.Digest}
		if g.why == "indicator" {
			al.Kind = AlertIndicator
		}
		for _, f := range fs[:min(len(fs), maxAlertEvents)] {
			al.Events = append(al.Events, f.Event)
		}
		al.Message = attemptMessage(g.why, fs)
		w.alert(ctx, al)
	}
	if res.More > 0 {
		w.st.Incomplete = append(w.st.Incomplete, fmt.Sprintf("%d more events are in bundle %s", res.More, res.Bundle))
	}
	if n := len(w.st.Seen); n > maxSeen {
		w.st.Seen = slices.Clone(w.st.Seen[n-maxSeen:])
	}
}

// attemptMessage says what a poll found of one system, for one reason.
func attemptMessage(why string, fs []activities.Found) string {
	e := fs[0].Event
	var what string
	switch why {
	case "credential":
		what = fmt.Sprintf("recorded credential %s used after the cut", fs[0].Indicator)
	case "indicator":
		what = "indicator " + fs[0].Indicator + " seen"
		if fs[0].Indicator == "" {
			what = "an indicator seen"
		}
		what += " (account " + e.Actor + ")"
	default:
		what = "the person's account used after the cut"
	}
	msg := fmt.Sprintf("%s: %s: %s", e.System, what, eventLine(e))
	if len(fs) > 1 {
		msg += fmt.Sprintf(" (and %d more events)", len(fs)-1)
	}
	return msg
}

// eventLine is one event in an alert's message.
func eventLine(e evidence.Event) string {
	s := e.Action
	if e.Target != "" {
		s += " " + e.Target
	}
	if e.Outcome != "" {
		s += " (" + e.Outcome + ")"
	}
	s += " at " + e.Time.UTC().Format(time.RFC3339)
	if e.SourceIP != "" {
		s += " from " + e.SourceIP
	}
	if e.Credential != "" {
		s += " with " + e.Credential
	}
	return s
}

// alert records an alert, pages whom the escalation policy names for its
// kind, counts it, and queues it to post.
func (w *watch) alert(ctx workflow.Context, al Alert) {
	if w.st.State == WatchOpen {
		w.st.State = WatchAlerting
	}
	w.st.Alerted++
	al.ID = w.st.Alerted
	al.Paged = pages(w.in.Escalate, al.Kind)
	w.st.Alerts = append(w.st.Alerts, al)
	if n := len(w.st.Alerts); n > maxWatchAlerts {
		w.st.Alerts = slices.Clone(w.st.Alerts[n-maxWatchAlerts:])
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": al.Kind, "system": al.System}).Counter("offboard_watch_alerts").Inc(1)
	if w.in.Notices {
		w.pending = append(w.pending, al.ID)
	}
}

// pages is who policy pages for kind.
func pages(policy map[string][]string, kind string) []string {
	var out []string
	for _, p := range append(slices.Clone(policy[kind]), policy["*"]...) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// post posts the pending alerts to Slack, each once.
func (w *watch) post(ctx workflow.Context) {
	for len(w.pending) > 0 {
		id := w.pending[0]
		w.pending = w.pending[1:]
		i := slices.IndexFunc(w.st.Alerts, func(al Alert) bool { return al.ID == id })
		if i < 0 {
			continue
		}
		al := &w.st.Alerts[i]
		n := activities.Notice{Kind: activities.NoticeWatchAlert,
			Case: activities.CaseBrief{CaseID: w.in.CaseID, EmployeeID: w.in.EmployeeID, Mode: w.in.Mode},
			Watch: &activities.WatchBrief{WatchID: w.st.WatchID, State: w.st.State, AlertID: al.ID, Kind: al.Kind,
				System: al.System, Message: al.Message, Bundle: al.Bundle, Digest: al.Digest, Paged: al.Paged},
			Ref: w.in.Thread}
		nctx := withSummary(workflow.WithActivityOptions(ctx, noticeOptions), "slack: watch alert")
		var ref activities.NoticeRef
		if err := workflow.ExecuteActivity(nctx, a.Notify, n).Get(ctx, &ref); err != nil {
			al.PostError = failureMessage(err)
			continue
		}
		al.Posted = ref.Channel
	}
}

// publish shows the watch's state in its search attribute and current
// details.
func (w *watch) publish(ctx workflow.Context) {
	// An upsert is a history event: only when the state changed.
	if w.st.State != w.published {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAWatchState.ValueSet(w.st.State))
		w.published = w.st.State
	}
	workflow.SetCurrentDetails(ctx, watchDetails(&w.st))
}

// watchDetails is the watch as the Web UI shows it on the workflow page.
func watchDetails(st *WatchStatus) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** is **%s** until %s\n\n", st.WatchID, st.State, st.Until.Format(time.RFC3339)))
	b.WriteString(fmt.Sprintf("Rechecks done: %d; last poll %s; alerts %d; reports %d\n\n", st.Rechecked, st.LastPoll.Format(time.RFC3339), st.Alerted, len(st.Reports)))
	if len(st.Alerts) > 0 {
		b.WriteString("| # | at | kind | system | alert |\n|---|---|---|---|---|\n")
		for _, al := range st.Alerts[max(0, len(st.Alerts)-20):] {
			b.WriteString(fmt.Sprintf("| %d | %s | %s | %s | %s |\n", al.ID, al.At.Format(time.RFC3339), al.Kind, al.System, cell(al.Message)))
		}
	}
	return b.String()
}

// openWatch starts the person's watch once the case is done (skipped steps
// or not): a workflow of its own that outlives the case.
func (w *offboarding) openWatch(ctx workflow.Context, thread activities.NoticeRef) {
	pol := w.settings.Watch
	in := WatchInput{CaseID: w.c.CaseID, EmployeeID: w.c.EmployeeID, CutAt: w.c.CutStartedAt, From: w.c.FinishedAt,
		Days: pol.Days, Rechecks: pol.Rechecks, PollInterval: pol.PollInterval, Policy: w.policy,
		Mode: string(w.c.Mode), Notices: w.settings.WatchAlerts, Thread: thread, Escalate: pol.Escalate}
	if ev := w.c.Evidence; ev != nil {
		in.Snapshot = ev.Bundle
	}
	for _, s := range w.c.Systems {
		if acc, ok := w.accounts[s.System]; ok {
			in.Accounts = append(in.Accounts, acc)
		}
	}
	var records []string
	for _, st := range w.c.Steps {
		if st.State == StepDone && st.Action != ActionPlan {
			in.Steps = append(in.Steps, st.Step)
		}
		records = append(records, st.Records...)
	}
	in.Credentials = connectors.CredentialIDs(records)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            WatchID(w.c.EmployeeID),
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(SAWatchState.ValueSet(WatchOpen)),
	})
	f := workflow.ExecuteChildWorkflow(cctx, WatchName, in)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		w.c.WatchError = "the watch could not be opened: " + failureMessage(err)
		workflow.GetLogger(ctx).Error("open watch", "error", failureMessage(err))
		return
	}
	w.c.Watch = WatchID(w.c.EmployeeID)
}

// matchIndicators checks the person's accounts, once every one is known,
// against every open watch's indicators; each watch whose indicator
// matched is told (and alerts), and the case keeps the matches.
func (w *offboarding) matchIndicators(ctx workflow.Context) {
	if err := workflow.Await(ctx, func() bool { return w.settled() || w.ended }); err != nil {
		return
	}
	in := activities.MatchInput{CaseID: w.c.CaseID, OwnWatch: WatchID(w.c.EmployeeID)}
	for _, s := range w.c.Systems {
		if acc, ok := w.accounts[s.System]; ok {
			in.Accounts = append(in.Accounts, acc)
		}
	}
	if len(in.Accounts) == 0 {
		return
	}
	actx := withSummary(workflow.WithActivityOptions(ctx, noticeOptions), "watch: check the accounts against the open watches' indicators")
	var res []activities.IndicatorMatch
	if err := workflow.ExecuteActivity(actx, a.MatchIndicators, in).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("indicator check failed", "error", failureMessage(err))
		return
	}
	w.c.IndicatorMatches = res
}
