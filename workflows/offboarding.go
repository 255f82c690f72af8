package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// Policy bounds retries and reminders. The zero value means the defaults.
type Policy struct {
	// StepAttempts is how many times a step's activity runs before it parks.
	StepAttempts int32 `json:"stepAttempts,omitempty"`
	// Reminder is how often a parked step is reported again.
	Reminder time.Duration `json:"reminder,omitempty"`
	// RateLimitRounds is how many times a step that used up its attempts on
	// vendor rate limits waits and starts again before it parks: during a
	// mass offboarding, being throttled is not a reason to need a person.
	RateLimitRounds int `json:"rateLimitRounds,omitempty"`
}

const (
	defaultStepAttempts    = 5
	defaultReminder        = 4 * time.Hour
	defaultRateLimitRounds = 10
)

// a is used only for its method values; activities run on the worker.
var a *activities.Activities

// Offboarding closes every account of one person: resolve and plan each
// system (the identity system first, because others resolve from it), cut
// all systems in parallel with each system's steps in order, verify every
// step once more, and report. A step that keeps failing parks until an
// operator retries or skips it through the resolve-step Update. A parked
// step never holds up other systems, except the identity system's plan step:
// the others find the person through what it reports, so they wait for it.
//
// With an effective time in the future the case first waits, durably, until
// then; the cut-now Update starts the cut at once and rescind ends the case
// with nothing cut.
func Offboarding(ctx workflow.Context, in Input) (Status, error) {
	p := in.Policy
	if err := in.Validate(); err != nil {
		return Status{}, temporal.NewNonRetryableApplicationError("invalid input: "+err.Error(), "InvalidInput", nil)
	}
	if p.StepAttempts <= 0 {
		p.StepAttempts = defaultStepAttempts
	}
	if p.Reminder <= 0 {
		p.Reminder = defaultReminder
	}
	if p.RateLimitRounds <= 0 {
		p.RateLimitRounds = defaultRateLimitRounds
	}
	w := &offboarding{
		policy:   p,
		pending:  map[string]Decision{},
		accounts: map[string]connectors.Account{},
		status: Status{
			CaseID:      workflow.GetInfo(ctx).WorkflowExecution.ID,
			EmployeeID:  in.EmployeeID,
			Mode:        in.Mode,
			Reason:      in.Reason,
			RequestedBy: in.RequestedBy,
			State:       CaseRunning,
			StartedAt:   workflow.Now(ctx).UTC(),
		},
	}
	if err := w.registerHandlers(ctx); err != nil {
		return Status{}, err
	}
	err := w.wait(ctx, in)
	if err == nil && !w.rescinded {
		w.status.State = CaseRunning
		w.publish(ctx)
		err = w.run(ctx, in)
	}
	// Record the end even when cancelled, on a context that still works.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.status.FinishedAt = workflow.Now(dctx).UTC()
	switch {
	case ctx.Err() != nil:
		w.status.State = CaseCancelled
		err = temporal.NewCanceledError()
	case w.rescinded:
		w.status.State = CaseRescinded
	case err != nil:
		w.status.State = CaseFailed
	default:
		w.status.State = CaseDone
	}
	w.publish(dctx)
	if werr := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); werr != nil {
		return w.status, werr
	}
	return w.status, err
}

// wait holds the case until its effective time, a cut-now or a rescind.
func (w *offboarding) wait(ctx workflow.Context, in Input) error {
	now := workflow.Now(ctx)
	if in.EffectiveAt.IsZero() || !in.EffectiveAt.After(now) {
		return nil
	}
	w.status.State = CaseScheduled
	w.status.EffectiveAt = in.EffectiveAt.UTC()
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAEffectiveAt.ValueSet(in.EffectiveAt)); err != nil {
		return err
	}
	w.publish(ctx)
	_, err := workflow.AwaitWithTimeout(ctx, in.EffectiveAt.Sub(now), func() bool { return w.cutNow || w.rescinded })
	return err
}

type offboarding struct {
	policy    Policy
	cutNow    bool
	rescinded bool
	status    Status
	accounts  map[string]connectors.Account
	pending   map[string]Decision // step ID → decision not yet acted on
	published struct {
		state  CaseState
		parked []string
	}
}

func (w *offboarding) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return w.view(), nil }); err != nil {
		return err
	}
	for _, name := range []string{UpdateCutNow, UpdateRescind} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, req ScheduleRequest) (ResolveStepResult, error) {
				d := Decision{Action: name, By: req.By, Reason: req.Reason, RequestID: req.RequestID, At: workflow.Now(ctx).UTC()}
				w.status.Decisions = append(w.status.Decisions, d)
				if name == UpdateCutNow {
					w.cutNow = true
				} else {
					w.rescinded = true
				}
				return ResolveStepResult{Action: name, At: d.At}, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(req ScheduleRequest) error {
				var errs []error
				if w.status.State != CaseScheduled || w.cutNow || w.rescinded {
					errs = append(errs, fmt.Errorf("the case is %s; %s applies only while it waits for its effective time", w.status.State, name))
				}
				if req.By == "" {
					errs = append(errs, errors.New("who decided (by) is required"))
				}
				if name == UpdateRescind && req.Reason == "" {
					errs = append(errs, errors.New("a rescind needs a reason"))
				}
				return errors.Join(errs...)
			}},
		)
		if err != nil {
			return err
		}
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResolveStep,
		func(ctx workflow.Context, req ResolveStepRequest) (ResolveStepResult, error) {
			d := Decision{Step: req.Step, Action: req.Action, By: req.By, Reason: req.Reason, RequestID: req.RequestID, At: workflow.Now(ctx).UTC()}
			w.status.Decisions = append(w.status.Decisions, d)
			w.pending[req.Step] = d
			return ResolveStepResult{Step: d.Step, Action: d.Action, At: d.At}, nil
		},
		workflow.UpdateHandlerOptions{Validator: w.validateResolve},
	)
}

// validateResolve rejects a decision that cannot apply. A rejected Update
// leaves no trace in history, so a bad request changes nothing.
func (w *offboarding) validateResolve(_ workflow.Context, req ResolveStepRequest) error {
	var errs []error
	if req.Action != ActionRetry && req.Action != ActionSkip {
		errs = append(errs, fmt.Errorf("action %q: want %s or %s", req.Action, ActionRetry, ActionSkip))
	}
	if req.By == "" {
		errs = append(errs, errors.New("who decided (by) is required"))
	}
	if req.Action == ActionSkip && req.Reason == "" {
		errs = append(errs, errors.New("a skip needs a reason"))
	}
	st, ok := w.status.Step(req.Step)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("step %q is not in this case", req.Step))
	case st.State != StepParked:
		errs = append(errs, fmt.Errorf("step %q is %s, not parked", req.Step, st.State))
	default:
		if _, dup := w.pending[req.Step]; dup {
			errs = append(errs, fmt.Errorf("step %q already has a decision waiting to be applied", req.Step))
		}
	}
	return errors.Join(errs...)
}

func (w *offboarding) run(ctx workflow.Context, in Input) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    w.policy.StepAttempts,
		},
	})
	var systems activities.SystemsResult
	if err := workflow.ExecuteActivity(ctx, a.Systems).Get(ctx, &systems); err != nil {
		return fmt.Errorf("list systems: %w", err)
	}
	if len(systems.Systems) == 0 {
		return temporal.NewNonRetryableApplicationError("no systems are configured on the worker", "InvalidInput", nil)
	}
	subject := connectors.Subject{EmployeeID: in.EmployeeID, Email: in.Email, Overrides: in.Overrides}
	for _, sys := range systems.Systems {
		w.status.Systems = append(w.status.Systems, SystemState{System: sys})
		w.status.Steps = append(w.status.Steps, StepState{
			ID: sys + "." + ActionPlan, System: sys, Action: ActionPlan,
			Description: "Find the account and plan its steps", State: StepPending,
		})
	}

	// The identity system resolves first: its attributes (work email,
	// GitHub username, ...) are how the other systems find the person.
	cutDone := workflow.NewWaitGroup(ctx)
	startSystem := func(sys string, subject connectors.Subject) {
		cutDone.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer cutDone.Done()
			w.runSystem(ctx, sys, subject)
		})
	}
	rest := systems.Systems
	if systems.Identity != "" {
		w.runStep(ctx, systems.Identity+"."+ActionPlan, subject)
		if acc, ok := w.accounts[systems.Identity]; ok {
			subject = subject.WithAccount(acc)
		}
		startSystem(systems.Identity, subject)
		rest = slices.DeleteFunc(slices.Clone(rest), func(s string) bool { return s == systems.Identity })
	}
	for _, sys := range rest {
		startSystem(sys, subject)
	}
	cutDone.Wait(ctx)

	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(w.accounts) == 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("employee %s has no account in any configured system", in.EmployeeID), "NotFound", nil)
	}

	// Verify: re-read every done step once more, after all systems are cut,
	// so nothing a later step (or a sync) undid goes unnoticed. A step that no
	// longer holds runs again, in plan order within its system.
	w.verifySweep(ctx)
	return nil
}

// runSystem runs one system's plan step (unless already run) and then its
// steps in order.
func (w *offboarding) runSystem(ctx workflow.Context, sys string, subject connectors.Subject) {
	planID := sys + "." + ActionPlan
	if st, _ := w.status.Step(planID); st.State == StepPending {
		w.runStep(ctx, planID, subject)
	}
	for _, id := range w.stepIDs(sys) {
		if ctx.Err() != nil {
			return
		}
		w.runStep(ctx, id, subject)
	}
}

func (w *offboarding) stepIDs(sys string) []string {
	var ids []string
	for _, st := range w.status.Steps {
		if st.System == sys && st.Action != ActionPlan {
			ids = append(ids, st.ID)
		}
	}
	return ids
}

// runStep drives one step to done or skipped: run it, verify it, and on
// failure park it until an operator decides.
func (w *offboarding) runStep(ctx workflow.Context, id string, subject connectors.Subject) {
	throttled := 0
	for {
		st, _ := w.status.Step(id)
		st.State = StepRunning
		st.StartedAt = workflow.Now(ctx).UTC()
		st.ErrorKind, st.LastError = "", ""
		w.publish(ctx)

		attempts, err := w.attempt(ctx, id, subject)
		st, _ = w.status.Step(id) // attempt may have grown Steps
		st.Attempts += attempts
		if err == nil {
			w.publish(ctx)
			return
		}
		if d := details(err); d.Kind == connectors.RateLimited && throttled < w.policy.RateLimitRounds && ctx.Err() == nil {
			// Still running: wait as long as the vendor asked, then again.
			throttled++
			st.ErrorKind, st.LastError = describe(err)
			workflow.GetLogger(ctx).Info("step rate limited; waiting", "step", id, "round", throttled)
			if workflow.Sleep(ctx, max(d.RetryAfter, time.Second)) == nil {
				continue
			}
		}
		st.State = StepParked
		st.ParkedAt = workflow.Now(ctx).UTC()
		st.ErrorKind, st.LastError = describe(err)
		if ctx.Err() != nil {
			st.ErrorKind, st.LastError = "Canceled", "the case was cancelled while this step ran"
			return
		}
		w.publish(ctx)
		workflow.GetLogger(ctx).Warn("step parked", "step", id, "kind", st.ErrorKind)

		d, ok := w.awaitDecision(ctx, id)
		if !ok {
			return // cancelled: the step stays parked
		}
		st, _ = w.status.Step(id)
		if d.Action == ActionSkip {
			st.State = StepSkipped
			st.SkippedBy, st.SkipReason = d.By, d.Reason
			w.publish(ctx)
			return
		}
	}
}

// attempt runs a step's activities once (each with its own bounded
// retries) and records the outcome on success. It returns how many activity
// attempts were made.
func (w *offboarding) attempt(ctx workflow.Context, id string, subject connectors.Subject) (int, error) {
	st, _ := w.status.Step(id)
	sys := st.System
	if st.Action == ActionPlan {
		return w.plan(ctx, sys, subject)
	}
	in := w.stepInput(st)
	var run activities.RunResult
	if err := workflow.ExecuteActivity(ctx, a.RunStep, in).Get(ctx, &run); err != nil {
		d := details(err)
		st, _ = w.status.Step(id)
		for _, r := range d.Records {
			if !slices.Contains(st.Records, r) {
				st.Records = append(st.Records, r)
			}
		}
		return attemptsOf(err, w.policy.StepAttempts), err
	}
	var v activities.VerifyResult
	if err := workflow.ExecuteActivity(ctx, a.VerifyStep, in).Get(ctx, &v); err != nil {
		return atLeastOne(run.Attempt), err
	}
	st, _ = w.status.Step(id)
	st.State = StepDone
	st.Result = ResultVerified
	if run.Outcome.Result == connectors.ResultAlready {
		st.Result = ResultAlready
	}
	for _, r := range run.Outcome.Records {
		if !slices.Contains(st.Records, r) {
			st.Records = append(st.Records, r)
		}
	}
	st.VerifiedAt = v.VerifiedAt
	return atLeastOne(run.Attempt), nil
}

// stepInput is what a step's activities are given.
func (w *offboarding) stepInput(st *StepState) activities.StepInput {
	return activities.StepInput{Account: w.accounts[st.System], Step: connectors.Step{
		ID: st.ID, System: st.System, Action: st.Action, Scope: st.Scope, Description: st.Description, Targets: st.Targets,
	}}
}

func (w *offboarding) plan(ctx workflow.Context, sys string, subject connectors.Subject) (int, error) {
	var res activities.ResolveResult
	if err := workflow.ExecuteActivity(ctx, a.Resolve, activities.ResolveInput{System: sys, Subject: subject}).Get(ctx, &res); err != nil {
		return attemptsOf(err, w.policy.StepAttempts), err
	}
	planID := sys + "." + ActionPlan
	attempts := atLeastOne(res.Attempt)
	if !res.Found {
		st, _ := w.status.Step(planID)
		st.State, st.Result = StepDone, ResultNoAccount
		return attempts, nil
	}
	var steps []connectors.Step
	if err := workflow.ExecuteActivity(ctx, a.Plan, activities.PlanInput{Account: res.Account}).Get(ctx, &steps); err != nil {
		return attempts, err
	}
	w.accounts[sys] = res.Account
	acc := res.Account
	for i := range w.status.Systems {
		if w.status.Systems[i].System == sys {
			w.status.Systems[i].Found = true
			w.status.Systems[i].Account = &acc
		}
	}
	// Insert the planned steps right after the plan step, replacing any from
	// an earlier attempt.
	steps = slices.DeleteFunc(steps, func(s connectors.Step) bool { return s.System != sys })
	w.status.Steps = slices.DeleteFunc(w.status.Steps, func(s StepState) bool { return s.System == sys && s.Action != ActionPlan })
	at := slices.IndexFunc(w.status.Steps, func(s StepState) bool { return s.ID == planID })
	var add []StepState
	for _, s := range steps {
		add = append(add, StepState{ID: s.ID, System: s.System, Action: s.Action, Scope: s.Scope, Description: s.Description, Targets: s.Targets, State: StepPending})
	}
	w.status.Steps = slices.Insert(w.status.Steps, at+1, add...)
	st, _ := w.status.Step(planID)
	st.State, st.Result = StepDone, ResultPlanned
	return attempts, nil
}

// awaitDecision waits for an operator's decision on a parked step, reminding
// every Policy.Reminder. It returns false when the case is cancelled.
func (w *offboarding) awaitDecision(ctx workflow.Context, id string) (Decision, bool) {
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, w.policy.Reminder, func() bool {
			_, ok := w.pending[id]
			return ok
		})
		if err != nil {
			return Decision{}, false
		}
		if ok {
			d := w.pending[id]
			delete(w.pending, id)
			return d, true
		}
		st, _ := w.status.Step(id)
		st.Reminders++
		workflow.GetLogger(ctx).Warn("step still parked, waiting for retry or skip", "step", id, "reminders", st.Reminders)
	}
}

func (w *offboarding) verifySweep(ctx workflow.Context) {
	if ctx.Err() != nil {
		return
	}
	type failed struct{ sys, id string }
	var failures []failed
	var futures []workflow.Future
	var ids []string
	for _, st := range w.status.Steps {
		if st.State != StepDone || st.Action == ActionPlan {
			continue
		}
		futures = append(futures, workflow.ExecuteActivity(ctx, a.VerifyStep, w.stepInput(&st)))
		ids = append(ids, st.ID)
	}
	for i, f := range futures {
		var v activities.VerifyResult
		st, _ := w.status.Step(ids[i])
		if err := f.Get(ctx, &v); err != nil {
			if ctx.Err() != nil || temporal.IsCanceledError(err) {
				return
			}
			failures = append(failures, failed{st.System, st.ID})
			continue
		}
		st.VerifiedAt = v.VerifiedAt
	}
	if len(failures) == 0 {
		return
	}
	wg := workflow.NewWaitGroup(ctx)
	bySystem := map[string][]string{}
	var order []string
	for _, f := range failures {
		if _, ok := bySystem[f.sys]; !ok {
			order = append(order, f.sys)
		}
		bySystem[f.sys] = append(bySystem[f.sys], f.id)
	}
	for _, sys := range order {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			for _, id := range bySystem[sys] {
				workflow.GetLogger(ctx).Warn("step no longer verified; running it again", "step", id)
				w.runStep(ctx, id, connectors.Subject{})
			}
		})
	}
	wg.Wait(ctx)
}

// view is the case as people see it: a running case with a parked step is
// "parked".
func (w *offboarding) view() Status {
	v := w.status
	if v.State == CaseRunning && len(v.ParkedSteps()) > 0 {
		v.State = CaseParked
	}
	return v
}

// publish keeps the search attributes in step with the case.
func (w *offboarding) publish(ctx workflow.Context) {
	state := w.view().State
	var parked []string
	if state == CaseParked {
		parked = w.status.ParkedSteps()
	}
	if state == w.published.state && slices.Equal(parked, w.published.parked) {
		return
	}
	w.published.state, w.published.parked = state, parked
	if parked == nil {
		parked = []string{}
	}
	err := workflow.UpsertTypedSearchAttributes(ctx, SAState.ValueSet(string(state)), SAParkedSteps.ValueSet(parked))
	if err != nil {
		workflow.GetLogger(ctx).Error("upsert search attributes", "error", err)
	}
}

// describe turns an activity failure into a kind and a message for the
// status table. Messages come from connector errors, which carry no PII.
func describe(err error) (string, string) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type(), appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "Timeout", "activity timed out"
	}
	return "Unknown", err.Error()
}

func atLeastOne(n int32) int { return int(max(n, 1)) }

// details reads what an activity attached to its failure.
func details(err error) activities.ErrorDetails {
	var d activities.ErrorDetails
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		_ = appErr.Details(&d)
	}
	return d
}

// attemptsOf reads how many attempts an activity made before failing.
func attemptsOf(err error, max int32) int {
	if d := details(err); d.Attempt > 0 {
		return int(d.Attempt)
	}
	return int(max)
}
