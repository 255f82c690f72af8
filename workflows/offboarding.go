package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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

// withDefaults fills the zero fields.
func (p Policy) withDefaults() Policy {
	if p.StepAttempts <= 0 {
		p.StepAttempts = defaultStepAttempts
	}
	if p.Reminder <= 0 {
		p.Reminder = defaultReminder
	}
	if p.RateLimitRounds <= 0 {
		p.RateLimitRounds = defaultRateLimitRounds
	}
	return p
}

// activityOptions are the options of every step activity, in cases and dry
// runs alike: bounded retries with backoff (and the vendor's Retry-After
// through NextRetryDelay).
func (p Policy) activityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    p.StepAttempts,
		},
	})
}

// a is used only for its method values; activities run on the worker.
var a *activities.Activities

// Offboarding closes every account of one person: resolve and plan each
// system (the identity system first, because others resolve from it), cut
// all systems in parallel with each system's steps in order, verify every
// step once more, and report. A step that keeps failing parks until an
// operator retries or skips it through the decide-step Update. A parked
// step never holds up other systems, except the identity system's plan step:
// the others find the person through what it reports, so they wait for it.
//
// With an effective time in the future the case first waits, durably, until
// then; the cut-now Update starts the cut at once and rescind ends the case
// with nothing cut.
//
// The workflow ID must be WorkflowID(in.EmployeeID): a case started under
// another ID (by any Temporal client) fails at once, with nothing cut.
func Offboarding(ctx workflow.Context, in Input) (Case, error) {
	w := &offboarding{
		policy:   in.Policy.withDefaults(),
		pending:  map[string]Decision{},
		accounts: map[string]connectors.Account{},
		resolved: map[string]connectors.Account{},
		order:    stepOrder{started: map[*Step]int{}, verified: map[*Step]int{}},
		c: Case{
			CaseID:      workflow.GetInfo(ctx).WorkflowExecution.ID,
			EmployeeID:  in.EmployeeID,
			Mode:        in.Mode,
			Reason:      in.Reason,
			RequestedBy: in.RequestedBy,
			Source:      in.Source,
			TimeZone:    in.TimeZone,
			State:       CaseRunning,
			StartedAt:   workflow.Now(ctx).UTC(),
		},
	}
	if err := w.registerHandlers(ctx); err != nil {
		return w.c, err
	}
	err := w.checkInput(in)
	if err == nil {
		err = w.schedule(ctx, in)
	}
	if err == nil {
		err = w.prepare(ctx, in)
	}
	if err == nil {
		err = w.wait(ctx)
	}
	if err == nil && !w.rescinded && !w.rejected() {
		w.c.State = CaseRunning
		w.c.CutStartedAt = workflow.Now(ctx).UTC()
		w.publish(ctx)
		err = w.run(ctx, in)
	}
	// Record the end even when cancelled, on a context that still works.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.c.FinishedAt = workflow.Now(dctx).UTC()
	switch {
	case ctx.Err() != nil:
		w.c.State = CaseCancelled
		err = temporal.NewCanceledError()
	case w.rescinded:
		w.c.State = CaseRescinded
	case w.rejected():
		w.c.State = CaseRejected
	case err != nil:
		w.c.State = CaseFailed
		w.c.Error = failureMessage(err)
	default:
		w.c.State = CaseDone
	}
	w.publish(dctx)
	summary := w.finishNotices(dctx)
	if w.c.State == CaseDone && w.settings.Watch != nil {
		// After the summary, so the watch's alerts can reply in its thread.
		w.openWatch(ctx, summary)
		w.publish(dctx)
	}
	if werr := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); werr != nil {
		return w.c, werr
	}
	return w.c, err
}

// checkInput refuses a case that cannot be run: invalid input, or a
// workflow ID that is not the employee's (another client could otherwise
// open a second case for the same person under another name).
func (w *offboarding) checkInput(in Input) error {
	if err := in.Validate(); err != nil {
		return temporal.NewNonRetryableApplicationError("invalid input: "+err.Error(), "InvalidInput", nil)
	}
	if want := WorkflowID(in.EmployeeID); w.c.CaseID != want {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("workflow ID %s does not name employee %s: a case must be started as %s", w.c.CaseID, in.EmployeeID, want), "InvalidInput", nil)
	}
	return nil
}

// failureMessage is the message of a workflow failure, for Case.Error.
func failureMessage(err error) string {
	if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return appErr.Message()
	}
	return err.Error()
}

type offboarding struct {
	policy    Policy
	cutNow    bool
	rescinded bool
	// rescheduled is set by the reschedule Update until the wait sees it.
	rescheduled bool
	// changes counts step changes (a step done, parked or skipped) and
	// operator decisions: a case is done only after a verification pass that
	// started after the last of them.
	changes int
	// byDependency runs a system's steps as their After allows, many at
	// once; cases begun before steps had After run them one by one.
	byDependency bool
	// prioritized gives step activities Temporal task priorities, so that
	// when workers are saturated (a layoff) the cut is dispatched first.
	prioritized bool
	// order is when, in the case's own sequence, each step last started
	// and was last verified, and the last decision on a step: the final
	// pass re-reads only what could have changed since.
	order    stepOrder
	c        Case
	accounts map[string]connectors.Account
	// resolved are the accounts found, before their plans (the identity
	// system's lets the others start).
	resolved map[string]connectors.Account
	pending  map[string]Decision // step ID → decision not yet acted on
	// wake counts the decisions that may end a wait (cut-now, rescind,
	// reschedule, approvals).
	wake int
	// settings are what the worker's config asks of the case.
	settings activities.Settings
	// brief is the case as its approval request shows it.
	brief activities.CaseBrief
	// subjectIDs are the person's identifiers, lower case: they may not
	// decide their own case.
	subjectIDs []string
	// approvalNonce is what the current approval buttons carry ("" once
	// decided); approvalRound counts decisions.
	approvalNonce string
	approvalRound int
	// noticing counts notice coroutines under way; ended is set once the
	// case has ended.
	noticing  int
	ended     bool
	published struct {
		state  CaseState
		parked []string
	}
}

func (w *offboarding) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Case, error) { return w.view(), nil }); err != nil {
		return err
	}
	for _, name := range []string{UpdateCutNow, UpdateRescind} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, req ScheduleRequest) (DecisionResult, error) {
				d := Decision{Action: name, By: req.By, Reason: req.Reason, RequestID: req.RequestID, At: workflow.Now(ctx).UTC()}
				w.c.Decisions = append(w.c.Decisions, d)
				w.changes++
				w.wake++
				if name == UpdateCutNow {
					w.cutNow = true
				} else {
					w.rescinded = true
				}
				return DecisionResult{Action: name, At: d.At}, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(req ScheduleRequest) error {
				if err := w.endedErr(); err != nil {
					return err
				}
				var errs []error
				switch {
				case w.rescinded:
					errs = append(errs, fmt.Errorf("the case was rescinded; %s no longer applies", name))
				case w.cutNow && name == UpdateCutNow:
					errs = append(errs, errors.New("a cut-now was already recorded"))
				case w.cutNow && !w.approvalPending():
					errs = append(errs, fmt.Errorf("a cut-now was already recorded and the cut has started; %s no longer applies", name))
				case !w.waiting():
					errs = append(errs, fmt.Errorf("the case is %s; %s applies only while it waits for its effective time", w.c.State, name))
				case name == UpdateCutNow && w.c.State == CaseAwaitingApproval && !w.c.EffectiveAt.After(workflow.Now(ctx)):
					errs = append(errs, errors.New("the case waits only for approval: a cut-now cannot stand in for approvers"))
				}
				if blank(req.By) {
					errs = append(errs, errors.New("who decided (by) is required"))
				}
				if name == UpdateRescind && blank(req.Reason) {
					errs = append(errs, errors.New("a rescind needs a reason"))
				}
				return errors.Join(errs...)
			}},
		)
		if err != nil {
			return err
		}
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReschedule,
		func(ctx workflow.Context, req RescheduleRequest) (DecisionResult, error) {
			d := Decision{Action: UpdateReschedule, By: req.By, Reason: req.Reason, RequestID: req.RequestID, At: workflow.Now(ctx).UTC(),
				From: w.c.EffectiveAt, To: req.EffectiveAt.UTC()}
			w.c.Decisions = append(w.c.Decisions, d)
			w.changes++
			w.wake++
			w.c.EffectiveAt = req.EffectiveAt.UTC()
			if req.TimeZone != "" {
				w.c.TimeZone = req.TimeZone
			}
			w.rescheduled = true
			if err := workflow.UpsertTypedSearchAttributes(ctx, SAEffectiveAt.ValueSet(req.EffectiveAt)); err != nil {
				workflow.GetLogger(ctx).Error("upsert search attributes", "error", err)
			}
			return DecisionResult{Action: UpdateReschedule, At: d.At}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req RescheduleRequest) error {
			if err := w.endedErr(); err != nil {
				return err
			}
			var errs []error
			switch {
			case w.rescinded:
				errs = append(errs, errors.New("the case was rescinded; reschedule no longer applies"))
			case w.cutNow && w.approvalPending():
				errs = append(errs, errors.New("a cut-now was already recorded: the case cuts as soon as it is approved; reschedule no longer applies"))
			case w.cutNow:
				errs = append(errs, errors.New("a cut-now was already recorded and the cut has started; reschedule no longer applies"))
			case !w.waiting():
				errs = append(errs, fmt.Errorf("the case is %s; reschedule applies only while it waits for its effective time", w.c.State))
			}
			if req.EffectiveAt.IsZero() {
				errs = append(errs, errors.New("the new effective time is missing"))
			}
			if req.TimeZone != "" {
				if _, err := time.LoadLocation(req.TimeZone); err != nil {
					errs = append(errs, fmt.Errorf("time zone %q is unknown", req.TimeZone))
				}
			}
			if blank(req.By) {
				errs = append(errs, errors.New("who decided (by) is required"))
			}
			return errors.Join(errs...)
		}},
	)
	if err != nil {
		return err
	}
	if err := w.registerApproval(ctx); err != nil {
		return err
	}
	// decide-step, and resolve-step, its name before, for cases started
	// before the rename.
	for _, name := range []string{UpdateDecideStep, UpdateResolveStep} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, req DecideStepRequest) (DecisionResult, error) {
				d := Decision{Step: req.Step, Action: req.Action, By: req.By, Reason: req.Reason, RequestID: req.RequestID, At: workflow.Now(ctx).UTC()}
				w.c.Decisions = append(w.c.Decisions, d)
				w.changes++
				w.order.decide()
				w.pending[req.Step] = d
				return DecisionResult{Step: d.Step, Action: d.Action, At: d.At}, nil
			},
			workflow.UpdateHandlerOptions{Validator: w.validateDecision},
		)
		if err != nil {
			return err
		}
	}
	return nil
}

// endedErr refuses any decision once the case has ended (while it posts
// its last messages), in the words the cases API uses for a closed case.
func (w *offboarding) endedErr() error {
	if !w.ended {
		return nil
	}
	return fmt.Errorf("case %s is %s: it has ended, so nothing can be decided in it", w.c.CaseID, w.c.State)
}

// validateDecision rejects a decision that cannot apply. A rejected Update
// leaves no trace in history, so a bad request changes nothing.
func (w *offboarding) validateDecision(_ workflow.Context, req DecideStepRequest) error {
	if err := w.endedErr(); err != nil {
		return err
	}
	var errs []error
	if req.Action != ActionRetry && req.Action != ActionSkip {
		errs = append(errs, fmt.Errorf("action %q: want %s or %s", req.Action, ActionRetry, ActionSkip))
	}
	if blank(req.By) {
		errs = append(errs, errors.New("who decided (by) is required"))
	}
	if req.Action == ActionSkip && blank(req.Reason) {
		errs = append(errs, errors.New("a skip needs a reason"))
	}
	st, ok := w.c.Step(req.Step)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("step %q is not in this case", req.Step))
	case st.State != StepParked:
		errs = append(errs, fmt.Errorf("step %q is %s, not parked", req.Step, st.State))
	case req.Nonce != "" && req.Nonce != st.nonce:
		errs = append(errs, fmt.Errorf("this button is from an earlier park of step %q: use the latest message", req.Step))
	default:
		if _, dup := w.pending[req.Step]; dup {
			errs = append(errs, fmt.Errorf("step %q already has a decision waiting to be applied", req.Step))
		}
	}
	return errors.Join(errs...)
}

func (w *offboarding) run(ctx workflow.Context, in Input) error {
	ctx = w.policy.activityOptions(ctx)
	systems, err := listSystems(ctx)
	if err != nil {
		return err
	}
	subject := subject(in)
	for _, sys := range systems.Systems {
		w.c.Systems = append(w.c.Systems, SystemState{System: sys})
		w.c.Steps = append(w.c.Steps, &Step{
			Step: connectors.Step{
				ID: connectors.StepID(sys, ActionPlan, ""), System: sys, Action: ActionPlan,
				Description: "Find the account and plan its steps",
			},
			State: StepPending,
		})
	}
	if w.settings.Evidence != nil {
		w.goNotice(ctx, func(ctx workflow.Context) { w.snapshot(ctx, in) })
	}
	if w.settings.Watch != nil && workflow.GetVersion(ctx, "watch-indicators", workflow.DefaultVersion, 1) == 1 {
		w.goNotice(ctx, w.matchIndicators)
	}
	if workflow.GetVersion(ctx, "start-after-identity-resolve", workflow.DefaultVersion, 1) == 1 {
		w.byDependency = workflow.GetVersion(ctx, versionStepsByDependency, workflow.DefaultVersion, 1) == 1
		w.prioritized = w.byDependency && workflow.GetVersion(ctx, versionTaskPriorities, workflow.DefaultVersion, 1) == 1
		err = w.runAll(ctx, systems, subject, in.EmployeeID)
	} else {
		err = identityFirst(ctx, systems, subject,
			func(ctx workflow.Context, sys string, s connectors.Subject) (*connectors.Account, error) {
				w.runStep(ctx, w.planStep(sys), s)
				acc, ok := w.accounts[sys]
				if !ok {
					return nil, nil
				}
				return &acc, checkCanonical(sys, in.EmployeeID, &acc)
			},
			w.runSystem)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(w.accounts) == 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("employee %s has no account in any configured system", in.EmployeeID), "NotFound", nil)
	}

	// Verify: re-read the done steps once more, after all systems are cut,
	// so nothing a later step (or a sync) undid goes unnoticed: those that
	// another step of their system started after, or that were read before
	// the last operator decision (cases begun before that re-read every
	// one; the watch's rechecks look again later). A step that no longer
	// holds runs again, in plan order within its system. The case is done
	// only after a pass that started after the last step change and the
	// last operator decision found every step it read holding.
	for round := 1; ; round++ {
		before := w.changes
		clean := w.verifySweep(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if clean && w.changes == before {
			return nil
		}
		// Cases recorded before passes were repeated ended after one.
		if workflow.GetVersion(ctx, versionRepeatSweep, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return nil
		}
		if round >= maxSweeps {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"steps still did not hold after %d verification passes: something keeps undoing them (see the steps' last errors)", round), "NotVerified", nil)
		}
	}
}

// Change IDs for workflow.GetVersion: behaviour added while cases were open.
const (
	// versionRepeatSweep repeats the final verification pass until one that
	// started after the last change finds every step holding.
	versionRepeatSweep = "repeat-verification-pass"
	// versionReverifyBefore re-verifies a system's earlier steps before a
	// step runs again.
	versionReverifyBefore = "reverify-earlier-steps"
	// versionStepsByDependency runs a system's steps at once where their
	// After allows, instead of one by one in plan order.
	versionStepsByDependency = "steps-by-dependency"
	// versionSweepWhatCouldChange makes the final pass re-read only the
	// steps that another step of their system started after, or that were
	// read before the last operator decision (stepOrder.changedSince).
	versionSweepWhatCouldChange = "sweep-what-could-change"
	// versionTaskPriorities gives step activities task priorities
	// (offboarding.priority).
	versionTaskPriorities = "task-priorities"
)

// Task priorities of a case's activities (Temporal's PriorityKey: 1 goes
// first, 3 is the default): when more activities are scheduled than the
// workers take at once, finding the person and the steps that end access
// (or that those wait for) go before cleanup, and verification last.
const (
	priorityCut     = 1
	priorityCleanup = 3
	priorityVerify  = 4
	prioritySweep   = 5
)

// priority sets the task priority of the next activities, for cases that
// have them (prioritized).
func (w *offboarding) priority(ctx workflow.Context, key int) workflow.Context {
	if !w.prioritized {
		return ctx
	}
	o := workflow.GetActivityOptions(ctx)
	o.Priority = temporal.Priority{PriorityKey: key}
	return workflow.WithActivityOptions(ctx, o)
}

// runPriority is a step's run's task priority.
func (w *offboarding) runPriority(st *Step) int {
	if st.Urgent {
		return priorityCut
	}
	return priorityCleanup
}

// maxSweeps bounds the final verification passes: a vendor that undoes a
// step every time it is redone fails the case rather than loop for ever.
const maxSweeps = 10

// blank reports whether a person-given value is empty or only white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// listSystems asks a worker which systems it is configured for.
func listSystems(ctx workflow.Context) (activities.SystemsResult, error) {
	var systems activities.SystemsResult
	ctx = withSummary(ctx, "list the configured systems")
	if err := workflow.ExecuteActivity(ctx, a.Systems).Get(ctx, &systems); err != nil {
		return systems, fmt.Errorf("list systems: %w", err)
	}
	if len(systems.Systems) == 0 {
		return systems, temporal.NewNonRetryableApplicationError("no systems are configured on the worker", "InvalidInput", nil)
	}
	return systems, nil
}

func (w *offboarding) planStep(sys string) *Step {
	st, _ := w.c.Step(connectors.StepID(sys, ActionPlan, ""))
	return st
}

// runAll runs every system: the identity system first, and the others as
// soon as it has found the person (not after its whole plan: what they
// resolve by is its account's attributes), each system's plan and steps in
// order. The identity system's account must name the employee in the
// case's form before anything is cut anywhere; a system that finds no one
// is done.
func (w *offboarding) runAll(ctx workflow.Context, systems activities.SystemsResult, subject connectors.Subject, employeeID string) error {
	wg := workflow.NewWaitGroup(ctx)
	start := func(sys string, s connectors.Subject, steps func(ctx workflow.Context) bool) {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if st := w.planStep(sys); st.State == StepPending {
				w.runStep(ctx, st, s)
			}
			if steps(ctx) {
				w.runSystem(ctx, sys, s)
			}
		})
	}
	always := func(workflow.Context) bool { return true }
	rest := systems.Systems
	if id := systems.Identity; id != "" {
		rest = slices.DeleteFunc(slices.Clone(rest), func(s string) bool { return s == id })
		// found: the identity's account is known (or it has none, or its
		// plan was skipped); ok: the case may go on.
		found, ok := false, false
		start(id, subject, func(ctx workflow.Context) bool {
			_ = workflow.Await(ctx, func() bool { return found })
			return ok
		})
		plan := w.planStep(id)
		if err := workflow.Await(ctx, func() bool {
			_, resolved := w.resolved[id]
			return resolved || plan.State == StepDone || plan.State == StepSkipped
		}); err != nil {
			return err
		}
		acc, resolved := w.resolved[id]
		var err error
		if resolved {
			err = checkCanonical(id, employeeID, &acc)
		}
		found, ok = true, err == nil
		if err != nil {
			wg.Wait(ctx)
			return err
		}
		if resolved {
			subject = subject.WithAccount(acc)
			if acc.EmployeeID != "" {
				subject.EmployeeID = acc.EmployeeID
			}
		}
	}
	for _, sys := range rest {
		start(sys, subject, always)
	}
	wg.Wait(ctx)
	return nil
}

// runSystem runs one system's plan step (unless already run) and then its
// steps: each as soon as the steps it comes after are done or skipped (a
// parked one holds back only what comes after it), or, for cases begun
// before that, one by one in plan order.
func (w *offboarding) runSystem(ctx workflow.Context, sys string, subject connectors.Subject) {
	if st := w.planStep(sys); st.State == StepPending {
		w.runStep(ctx, st, subject)
	}
	if !w.byDependency {
		for _, st := range w.systemSteps(sys) {
			if ctx.Err() != nil {
				return
			}
			w.runStep(ctx, st, subject)
		}
		return
	}
	wg := workflow.NewWaitGroup(ctx)
	for _, st := range w.systemSteps(sys) {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if workflow.Await(ctx, func() bool { return w.afterDone(st) }) != nil {
				return
			}
			w.runStep(ctx, st, subject)
		})
	}
	wg.Wait(ctx)
}

// afterDone reports whether every step st comes after is done or skipped.
// A step the plan does not hold is no constraint.
func (w *offboarding) afterDone(st *Step) bool {
	for _, id := range st.After {
		for _, s := range w.c.Steps {
			if s.ID == id && s.State != StepDone && s.State != StepSkipped {
				return false
			}
		}
	}
	return true
}

// before lists the done steps a step depends on: those it comes after
// or, for cases that ran steps one by one, every earlier step of its
// system.
func (w *offboarding) before(st *Step) []*Step {
	var out []*Step
	for _, s := range w.systemSteps(st.System) {
		if s == st && !w.byDependency {
			break
		}
		if s.State == StepDone && (!w.byDependency || slices.Contains(st.After, s.ID)) {
			out = append(out, s)
		}
	}
	return out
}

// systemSteps are a system's planned steps, in order.
func (w *offboarding) systemSteps(sys string) []*Step {
	var out []*Step
	for _, st := range w.c.Steps {
		if st.System == sys && st.Action != ActionPlan {
			out = append(out, st)
		}
	}
	return out
}

// runStep drives one step to done or skipped: run it, verify it, and on
// failure park it until an operator decides.
func (w *offboarding) runStep(ctx workflow.Context, st *Step, subject connectors.Subject) {
	throttled := 0
	again := st.State != StepPending // a re-run from the final pass
	for {
		if again {
			w.reverifyBefore(ctx, st, subject)
			again = false
		}
		st.State, st.Result = StepRunning, ""
		st.StartedAt = workflow.Now(ctx).UTC()
		w.order.start(st)
		st.ErrorKind, st.LastError = "", ""
		w.publish(ctx)

		attempts, err := w.attempt(ctx, st, subject)
		st.Attempts += attempts
		if err == nil {
			w.changes++
			w.publish(ctx)
			return
		}
		if d := details(err); d.Kind == connectors.RateLimited && throttled < w.policy.RateLimitRounds && ctx.Err() == nil {
			// Still running: wait as long as the vendor asked, then again.
			throttled++
			st.ErrorKind, st.LastError = describe(err)
			workflow.GetLogger(ctx).Info("step rate limited; waiting", "step", st.ID, "round", throttled)
			if workflow.Sleep(ctx, max(d.RetryAfter, time.Second)) == nil {
				continue
			}
		}
		st.State = StepParked
		st.ParkedAt = workflow.Now(ctx).UTC()
		st.Found = nil // an operator's retry comes later, and reads
		st.ErrorKind, st.LastError = describe(err)
		w.changes++
		if ctx.Err() != nil {
			st.ErrorKind, st.LastError = "Canceled", "the case was cancelled while this step ran"
			return
		}
		w.publish(ctx)
		workflow.GetLogger(ctx).Warn("step parked", "step", st.ID, "kind", st.ErrorKind)
		w.noticeParked(ctx, st)

		d, ok := w.awaitDecision(ctx, st)
		if !ok {
			return // cancelled: the step stays parked
		}
		w.noticeDecided(ctx, st, d)
		if d.Action == ActionSkip {
			st.State, st.Result = StepSkipped, ""
			st.SkippedBy, st.SkipReason = d.By, d.Reason
			w.changes++
			w.publish(ctx)
			return
		}
		again = true // an operator's retry
	}
}

// attempt runs a step's activities once (each with its own bounded
// retries) and records the outcome on success. It returns how many activity
// attempts were made.
func (w *offboarding) attempt(ctx workflow.Context, st *Step, subject connectors.Subject) (int, error) {
	if st.Action == ActionPlan {
		return w.plan(ctx, st, subject)
	}
	prior := 0 // a run's attempts before its plan was found stale
	for {
		// A run acts on what the plan found (Step.Found) until one has
		// succeeded; after that, runs read for themselves.
		in := activities.StepInput{Account: w.accounts[st.System], Step: st.Step}
		var run activities.RunResult
		if err := workflow.ExecuteActivity(stepSummary(w.priority(ctx, w.runPriority(st)), st.Step, "run"), a.RunStep, in).Get(ctx, &run); err != nil {
			st.record(details(err).Records)
			return prior + attemptsOf(err, w.policy.StepAttempts), err
		}
		planned := st.Found != nil
		st.Found, in.Step.Found = nil, nil
		if st.Cuts {
			w.cut(ctx, st, run.Outcome.Result != connectors.ResultAlready)
		}
		var v activities.VerifyResult
		read := w.order.next()
		if err := workflow.ExecuteActivity(stepSummary(w.priority(ctx, priorityVerify), st.Step, "verify"), a.VerifyStep, in).Get(ctx, &v); err != nil {
			if planned && details(err).Kind == connectors.Conflict {
				// Something appeared after the plan read: run again,
				// reading, before anyone is asked.
				st.record(run.Outcome.Records)
				prior += atLeastOne(run.Attempt)
				workflow.GetLogger(ctx).Info("the step's plan was stale; running it again", "step", st.ID)
				continue
			}
			return prior + attemptsOf(err, w.policy.StepAttempts), err
		}
		st.State = StepDone
		st.Result = ResultVerified
		if run.Outcome.Result == connectors.ResultAlready {
			st.Result = ResultAlready
		}
		st.record(run.Outcome.Records)
		st.VerifiedAt = v.VerifiedAt
		w.order.verified[st] = read
		return prior + atLeastOne(run.Attempt), nil
	}
}

// cut records that st, a step ending access, has run: its system is cut
// when the first such step that changed something has (the first
// access-ending call answered), or, when each found the access already
// ended, once the last of them has.
func (w *offboarding) cut(ctx workflow.Context, st *Step, changed bool) {
	if !changed && slices.ContainsFunc(w.c.Steps, func(o *Step) bool {
		return o != st && o.System == st.System && o.Cuts && o.State != StepDone
	}) {
		return
	}
	for i := range w.c.Systems {
		if s := &w.c.Systems[i]; s.System == st.System && s.CutAt.IsZero() {
			s.CutAt = workflow.Now(ctx).UTC()
		}
	}
	w.settleCutAt()
}

// settleCutAt sets the case's CutAt once every system is planned and each
// with an account and an access-ending step has been cut: the latest of
// their cuts.
func (w *offboarding) settleCutAt() {
	if !w.c.CutAt.IsZero() {
		return
	}
	var last time.Time
	for _, s := range w.c.Systems {
		if p := w.planStep(s.System); p == nil || p.State != StepDone {
			return
		}
		if !s.Found || !slices.ContainsFunc(w.c.Steps, func(st *Step) bool { return st.System == s.System && st.Cuts }) {
			continue
		}
		if s.CutAt.IsZero() {
			return
		}
		if s.CutAt.After(last) {
			last = s.CutAt
		}
	}
	w.c.CutAt = last
}

// plan is a plan step's attempt: resolve the account, plan its steps and
// put them right after the plan step, replacing any from an earlier attempt.
func (w *offboarding) plan(ctx workflow.Context, st *Step, subject connectors.Subject) (int, error) {
	sys := st.System
	ctx = w.priority(ctx, priorityCut)
	res, err := resolve(ctx, sys, subject)
	if err != nil {
		return attemptsOf(err, w.policy.StepAttempts), err
	}
	attempts := atLeastOne(res.Attempt)
	if !res.Found {
		st.State, st.Result = StepDone, ResultNoAccount
		w.settleCutAt()
		return attempts, nil
	}
	w.resolved[sys] = res.Account
	steps, err := planSteps(ctx, res.Account)
	if err != nil {
		return attemptsOf(err, w.policy.StepAttempts), err
	}
	w.accounts[sys] = res.Account
	acc := res.Account
	for i := range w.c.Systems {
		if w.c.Systems[i].System == sys {
			w.c.Systems[i].Found = true
			w.c.Systems[i].Account = &acc
		}
	}
	w.c.Steps = slices.DeleteFunc(w.c.Steps, func(s *Step) bool { return s.System == sys && s.Action != ActionPlan })
	at := slices.Index(w.c.Steps, st)
	add := make([]*Step, 0, len(steps))
	for _, s := range steps {
		add = append(add, &Step{Step: s, State: StepPending})
	}
	w.c.Steps = slices.Insert(w.c.Steps, at+1, add...)
	st.State, st.Result = StepDone, ResultPlanned
	w.settleCutAt()
	return attempts, nil
}

// resolve runs the Resolve activity for one system.
func resolve(ctx workflow.Context, sys string, subject connectors.Subject) (activities.ResolveResult, error) {
	var res activities.ResolveResult
	ctx = withSummary(ctx, connectors.StepID(sys, ActionPlan, "")+" — resolve: find the person's account")
	err := workflow.ExecuteActivity(ctx, a.Resolve, activities.ResolveInput{System: sys, Subject: subject}).Get(ctx, &res)
	return res, err
}

// planSteps runs the Plan activity for one account, keeping only the
// account's system's steps.
func planSteps(ctx workflow.Context, acc connectors.Account) ([]connectors.Step, error) {
	var steps []connectors.Step
	ctx = withSummary(ctx, connectors.StepID(acc.System, ActionPlan, "")+" — plan: list the steps that close the account")
	if err := workflow.ExecuteActivity(ctx, a.Plan, activities.PlanInput{Account: acc}).Get(ctx, &steps); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(steps, func(s connectors.Step) bool { return s.System != acc.System }), nil
}

// awaitDecision waits for an operator's decision on a parked step, reminding
// every Policy.Reminder. It returns false when the case is cancelled.
func (w *offboarding) awaitDecision(ctx workflow.Context, st *Step) (Decision, bool) {
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, w.policy.Reminder, func() bool {
			_, ok := w.pending[st.ID]
			return ok
		})
		if err != nil {
			return Decision{}, false
		}
		if ok {
			d := w.pending[st.ID]
			delete(w.pending, st.ID)
			return d, true
		}
		st.Reminders++
		workflow.GetLogger(ctx).Warn("step still parked, waiting for retry or skip", "step", st.ID, "reminders", st.Reminders)
		w.noticeParkedAgain(ctx, st)
	}
}

// verifySweep verifies every done step once more and runs again, in plan
// order within each system, those that no longer hold. It reports whether
// every step held.
func (w *offboarding) verifySweep(ctx workflow.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	var done []*Step
	for _, st := range w.c.Steps {
		if st.State == StepDone && st.Action != ActionPlan {
			done = append(done, st)
		}
	}
	if w.byDependency && workflow.GetVersion(ctx, versionSweepWhatCouldChange, workflow.DefaultVersion, 1) == 1 {
		// A step verified after every other step of its system started
		// has been read since anything of the case could undo it.
		done = slices.DeleteFunc(done, func(st *Step) bool { return !w.order.changedSince(st, w.systemSteps(st.System)) })
	}
	failing := w.verifyAll(w.priority(ctx, prioritySweep), done, "verify again")
	if len(failing) == 0 {
		return ctx.Err() == nil
	}
	var order []string
	bySystem := map[string][]*Step{}
	for _, st := range failing {
		if _, ok := bySystem[st.System]; !ok {
			order = append(order, st.System)
		}
		bySystem[st.System] = append(bySystem[st.System], st)
	}
	wg := workflow.NewWaitGroup(ctx)
	for _, sys := range order {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			for _, st := range bySystem[sys] {
				workflow.GetLogger(ctx).Warn("step no longer verified; running it again", "step", st.ID)
				w.runStep(ctx, st, connectors.Subject{})
			}
		})
	}
	wg.Wait(ctx)
	return false
}

// verifyAll verifies steps concurrently, records when each was proven, and
// returns, in order, those that no longer hold (none once cancelled).
func (w *offboarding) verifyAll(ctx workflow.Context, steps []*Step, verb string) []*Step {
	futures := make([]workflow.Future, len(steps))
	read := w.order.next()
	for i, st := range steps {
		in := activities.StepInput{Account: w.accounts[st.System], Step: st.Step}
		futures[i] = workflow.ExecuteActivity(stepSummary(ctx, st.Step, verb), a.VerifyStep, in)
	}
	var failing []*Step
	for i, f := range futures {
		var v activities.VerifyResult
		if err := f.Get(ctx, &v); err != nil {
			if ctx.Err() != nil || temporal.IsCanceledError(err) {
				return nil
			}
			failing = append(failing, steps[i])
			continue
		}
		steps[i].VerifiedAt = v.VerifiedAt
		w.order.verified[steps[i]] = read
	}
	return failing
}

// reverifyBefore, before a step runs again (an operator's retry, or a
// re-run from the final pass), verifies the steps before it in its system
// and runs again those that no longer hold: a step may depend on them (Okta
// clears sessions only of a suspended user), and someone may have undone
// them at the vendor.
func (w *offboarding) reverifyBefore(ctx workflow.Context, st *Step, subject connectors.Subject) {
	if st.Action == ActionPlan || ctx.Err() != nil {
		return
	}
	if workflow.GetVersion(ctx, versionReverifyBefore, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	earlier := w.before(st)
	if len(earlier) == 0 {
		return
	}
	for _, e := range w.verifyAll(ctx, earlier, "verify before "+st.ID+" runs again") {
		// Steps run at once: another retry may be running e again already;
		// then its outcome stands.
		if e.State == StepRunning {
			if workflow.Await(ctx, func() bool { return e.State != StepRunning }) != nil {
				return
			}
			if e.State == StepDone {
				continue
			}
		}
		workflow.GetLogger(ctx).Warn("an earlier step no longer holds; running it again first", "step", e.ID, "before", st.ID)
		w.runStep(ctx, e, subject)
	}
}

// view is the case as people see it: a running case with a parked step is
// "parked". Steps are copied, so the view does not change under a reader.
func (w *offboarding) view() Case {
	v := w.c
	v.Steps = make([]*Step, len(w.c.Steps))
	for i, st := range w.c.Steps {
		cp := *st
		v.Steps[i] = &cp
	}
	if ap := w.c.Approval; ap != nil {
		cp := *ap
		cp.Approvals = slices.Clone(ap.Approvals)
		v.Approval = &cp
	}
	if ev := w.c.Evidence; ev != nil {
		cp := *ev
		v.Evidence = &cp
	}
	v.Decisions = slices.Clone(w.c.Decisions)
	if v.State == CaseRunning && len(v.ParkedSteps()) > 0 {
		v.State = CaseParked
	}
	return v
}

// publish keeps the search attributes and the Web UI's current details in
// step with the case.
func (w *offboarding) publish(ctx workflow.Context) {
	state := w.c.State
	parked := w.c.ParkedSteps()
	if state == CaseRunning && len(parked) > 0 {
		state = CaseParked
	}
	workflow.SetCurrentDetails(ctx, currentDetails(&w.c, state))
	if state != CaseParked {
		parked = nil
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

// stepOrder numbers step starts, verifications and operator decisions on
// steps in the order the case saw them (not by clocks, which differ
// between worker and server).
type stepOrder struct {
	n                 int
	started, verified map[*Step]int
	decided           int // the last decision on a step
}

// next numbers a moment: a step start, a decision, or a verification
// when it is asked for (the read happens after that, and may answer after
// a decision made meanwhile: it still counts as before it).
func (o *stepOrder) next() int      { o.n++; return o.n }
func (o *stepOrder) start(st *Step) { o.started[st] = o.next() }
func (o *stepOrder) decide()        { o.decided = o.next() }

// changedSince reports whether st must be read again: it never was
// verified, or was before the last operator decision (a parked step waited
// for one, and meanwhile anything may have changed), or a step of steps
// other than st started after it was verified (unless no later step can
// undo it: Step.Settled).
func (o *stepOrder) changedSince(st *Step, steps []*Step) bool {
	v, ok := o.verified[st]
	if !ok || v < o.decided {
		return true
	}
	if st.Settled {
		return false
	}
	for _, s := range steps {
		if s != st && o.started[s] > v {
			return true
		}
	}
	return false
}
