package connectors

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// StepID is the one place a step ID is made: "<system>.<action>", with
// "/<scope>" where a system acts on several scopes (GitHub orgs, AWS
// users). Step IDs are never parsed: a step carries its system, action and
// scope as fields.
func StepID(system, action, scope string) string {
	id := system + "." + action
	if scope != "" {
		id += "/" + scope
	}
	return id
}

// NewStep returns a step with its ID made by StepID.
func NewStep(system, action, scope, description string, targets []string) Step {
	return Step{ID: StepID(system, action, scope), System: system, Action: action, Scope: scope, Description: description, Targets: targets}
}

// Planned is what planning one step found: what it would do, and to what.
type Planned struct {
	Description string
	Targets     []string
	// Found is what the run would act on, read by the plan (Step.Found);
	// nil when the kind's run reads for itself.
	Found *Found
}

// FoundOr is what a step's run acts on: found, the plan's reads it was
// given (Step.Found), or else what plan reads now, for a run sent without
// them.
func FoundOr[T any](ctx context.Context, found *Found, t T, plan func(context.Context, T) (Planned, error)) (*Found, error) {
	if found != nil {
		return found, nil
	}
	p, err := plan(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.Found, nil
}

// StepKind is one kind of step a connector runs, with its plan, run and
// verify code together. T is what one step of the kind acts on (an Okta
// user ID, a GitHub org and login, an IAM user): the connector builds it
// from the account and the step's scope.
type StepKind[T any] struct {
	Action string
	// Plan says what the step would do for t. It only reads.
	Plan func(ctx context.Context, t T) (Planned, error)
	// Run brings t to the step's desired state; ResultAlready when it held.
	Run func(ctx context.Context, t T) (Outcome, error)
	// Verify re-reads vendor state: nil when the desired state holds, else
	// a Conflict error.
	Verify func(ctx context.Context, t T) error
	// After lists the actions of the same table that must be done before
	// this one, on the same scope (Google's backup codes before the
	// suspension); an action the plan leaves out is no constraint. Steps
	// with no order between them run at once, so access-ending kinds come
	// with no After and cleanup comes after them.
	After []string
	// Cuts says a step of the kind ends the person's access (Step.Cuts).
	Cuts bool
	// Settled says no later step of the table can undo it (Step.Settled).
	Settled bool
}

// Steps is a connector's table of step kinds, in plan order.
type Steps[T any] struct {
	System string
	// ScopeKind says what the table's scopes name ("org", "IAM user"); ""
	// for a table whose steps have no scope.
	ScopeKind string
	Kinds     []StepKind[T]
}

// Actions lists the table's actions in plan order.
func (s Steps[T]) Actions() []string {
	out := make([]string, len(s.Kinds))
	for i, k := range s.Kinds {
		out[i] = k.Action
	}
	return out
}

// Kind finds the kind of an action, or an InvalidInput error naming op.
func (s Steps[T]) Kind(op, action string) (StepKind[T], error) {
	for _, k := range s.Kinds {
		if k.Action == action {
			return k, nil
		}
	}
	return StepKind[T]{}, InvalidInputf(s.System, op, "unknown step action %q", action)
}

// Plan plans every kind for one scope's target, the kinds' reads at once
// (they only read; a target's shared reads are guarded by the target), and
// returns the steps in the kinds' order, or the first kind's error in that
// order.
func (s Steps[T]) Plan(ctx context.Context, scope string, t T) ([]Step, error) {
	plans := make([]Planned, len(s.Kinds))
	errs := make([]error, len(s.Kinds))
	var wg sync.WaitGroup
	for i, k := range s.Kinds {
		wg.Go(func() { plans[i], errs[i] = k.Plan(ctx, t) })
	}
	wg.Wait()
	steps := make([]Step, 0, len(s.Kinds))
	for i, k := range s.Kinds {
		if errs[i] != nil {
			return nil, errs[i]
		}
		st := NewStep(s.System, k.Action, scope, plans[i].Description, plans[i].Targets)
		if scope != "" {
			st.ScopeKind = s.ScopeKind
		}
		for _, a := range k.After {
			if slices.ContainsFunc(s.Kinds, func(o StepKind[T]) bool { return o.Action == a }) {
				st.After = append(st.After, StepID(s.System, a, scope))
			}
		}
		st.Cuts, st.Urgent, st.Settled, st.Found = k.Cuts, k.Cuts, k.Settled, plans[i].Found
		steps = append(steps, st)
	}
	// What a cut waits for is as urgent as the cut.
	for i := len(steps) - 1; i >= 0; i-- {
		if !steps[i].Urgent {
			continue
		}
		for _, id := range steps[i].After {
			if j := slices.IndexFunc(steps, func(o Step) bool { return o.ID == id }); j >= 0 {
				steps[j].Urgent = true
			}
		}
	}
	return steps, nil
}

// Run runs step st on t.
func (s Steps[T]) Run(ctx context.Context, st Step, t T) (Outcome, error) {
	k, err := s.step("run "+st.ID, st)
	if err != nil {
		return Outcome{}, err
	}
	return k.Run(ctx, t)
}

// Verify verifies step st on t.
func (s Steps[T]) Verify(ctx context.Context, st Step, t T) error {
	k, err := s.step("verify "+st.ID, st)
	if err != nil {
		return err
	}
	return k.Verify(ctx, t)
}

// step finds st's kind, refusing a step of another system or one whose ID
// is not the one its fields make (a step built by hand, or tampered with).
func (s Steps[T]) step(op string, st Step) (StepKind[T], error) {
	if st.System != "" && st.System != s.System {
		return StepKind[T]{}, InvalidInputf(s.System, op, "step %q belongs to system %q, not %s", st.ID, st.System, s.System)
	}
	if st.ID != StepID(s.System, st.Action, st.Scope) {
		return StepKind[T]{}, InvalidInputf(s.System, op, "step %q does not match its action %q and scope %q", st.ID, st.Action, st.Scope)
	}
	return s.Kind(op, st.Action)
}

// InvalidInputf is an InvalidInput error of system.
func InvalidInputf(system, op, format string, args ...any) error {
	return &Error{Kind: InvalidInput, System: system, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// Conflictf is the error Verify returns when a step's desired state does
// not hold; its message starts "verify: ".
func Conflictf(system, op, format string, args ...any) error {
	return &Error{Kind: Conflict, System: system, Op: op, Msg: "verify: " + fmt.Sprintf(format, args...)}
}

// Unavailablef is an Unavailable error of system.
func Unavailablef(system, op, format string, args ...any) error {
	return &Error{Kind: Unavailable, System: system, Op: op, Msg: fmt.Sprintf(format, args...)}
}
