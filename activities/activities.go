// Package activities adapts connectors to Temporal: each activity calls one
// connector capability, and ToTemporal sorts connector errors into retryable
// and non-retryable Temporal errors. Nothing else in offboard makes that call.
package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
)

// Activities holds the configured connectors. Register it with a worker.
type Activities struct {
	identity  string
	order     []string
	conns     map[string]connectors.Connector
	notifier  Notifier
	collector *Collector
	watch     *WatchPolicy
	watches   Watches
	budgets   map[string]*connectors.Budget
}

// WithBudgets paces each system's calls to its budget (by system name),
// shared by every case the process runs.
func WithBudgets(a *Activities, budgets map[string]*connectors.Budget) *Activities {
	a.budgets = budgets
	return a
}

// paced is ctx with system's budget, at priority p: a step's calls wait
// there when the vendor's limits are short, cuts before cleanup before
// re-reads.
func (a *Activities) paced(ctx context.Context, system string, p connectors.Priority) context.Context {
	if b := a.budgets[system]; b != nil {
		return connectors.WithBudget(ctx, b, p)
	}
	return ctx
}

// stepPriority is a step's place in its vendor's budget: the steps that
// end access, and those they wait for, go first.
func stepPriority(st connectors.Step) connectors.Priority {
	if st.Urgent {
		return connectors.PriorityCut
	}
	return connectors.PriorityCleanup
}

// New returns activities over conns. identity names the system that is
// resolved first because others resolve from what it reports (Okta).
func New(identity string, conns ...connectors.Connector) (*Activities, error) {
	a := &Activities{identity: identity, conns: map[string]connectors.Connector{}}
	for _, c := range conns {
		if _, dup := a.conns[c.Name()]; dup {
			return nil, fmt.Errorf("connector %q configured twice", c.Name())
		}
		a.conns[c.Name()] = c
		a.order = append(a.order, c.Name())
	}
	if identity != "" && a.conns[identity] == nil {
		return nil, fmt.Errorf("identity system %q is not configured", identity)
	}
	return a, nil
}

// Warm has each connector that can (connectors.Warmer) make the reads
// every case begins with, at once, paced as cleanup is; the errors name
// their systems. Nothing waits for it: a case makes any read it missed.
func (a *Activities) Warm(ctx context.Context) error {
	errs := make([]error, len(a.order))
	var wg sync.WaitGroup
	for i, name := range a.order {
		w, ok := a.conns[name].(connectors.Warmer)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := w.Warm(a.paced(ctx, name, connectors.PriorityCleanup)); err != nil {
				errs[i] = fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// SystemsResult lists the configured systems, the identity system first.
type SystemsResult struct {
	Identity string   `json:"identity"`
	Systems  []string `json:"systems"`
}

// ResolveInput asks one system for the person's account.
type ResolveInput struct {
	System  string             `json:"system"`
	Subject connectors.Subject `json:"subject"`
}

// ResolveResult is a system's answer; Found is false when the person has no
// account there. Attempt is the activity attempt that answered.
type ResolveResult struct {
	Found   bool               `json:"found"`
	Account connectors.Account `json:"account"`
	Attempt int32              `json:"attempt"`
}

// RunResult is what running a step did, and on which activity attempt.
type RunResult struct {
	Outcome connectors.Outcome `json:"outcome"`
	Attempt int32              `json:"attempt"`
}

// PlanInput asks for the steps that would close an account.
type PlanInput struct {
	Account connectors.Account `json:"account"`
}

// StepInput names one step on one account.
type StepInput struct {
	Account connectors.Account `json:"account"`
	Step    connectors.Step    `json:"step"`
}

// VerifyResult records when a step's desired state was last proven.
type VerifyResult struct {
	VerifiedAt time.Time `json:"verifiedAt"`
}

// ErrorDetails rides on every ApplicationError an activity returns.
type ErrorDetails struct {
	Kind    connectors.Kind `json:"kind"`
	Attempt int32           `json:"attempt"`
	// RetryAfter is the wait the vendor asked for (RateLimited).
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Records are what a step recorded before it failed part-way (the
	// credentials it listed before removing any), so they are not lost.
	Records []string `json:"records,omitempty"`
}

// Systems lists the configured systems.
func (a *Activities) Systems(_ context.Context) (SystemsResult, error) {
	out := SystemsResult{Identity: a.identity}
	if a.identity != "" {
		out.Systems = append(out.Systems, a.identity)
	}
	for _, n := range a.order {
		if n != a.identity {
			out.Systems = append(out.Systems, n)
		}
	}
	return out, nil
}

// Resolve finds the person's account in one system.
func (a *Activities) Resolve(ctx context.Context, in ResolveInput) (ResolveResult, error) {
	r, err := Capability[connectors.Resolver](a, in.System)
	if err != nil {
		return ResolveResult{}, ToTemporal(ctx, err)
	}
	// Finding the person comes before any cut.
	acc, err := r.Resolve(a.paced(ctx, in.System, connectors.PriorityCut), in.Subject)
	if connectors.IsNotFound(err) {
		return ResolveResult{Attempt: attempt(ctx)}, nil
	}
	if err != nil {
		return ResolveResult{}, ToTemporal(ctx, err)
	}
	return ResolveResult{Found: true, Account: acc, Attempt: attempt(ctx)}, nil
}

// Plan lists the steps for one account.
func (a *Activities) Plan(ctx context.Context, in PlanInput) ([]connectors.Step, error) {
	p, err := Capability[connectors.Planner](a, in.Account.System)
	if err != nil {
		return nil, ToTemporal(ctx, err)
	}
	steps, err := p.Plan(a.paced(ctx, in.Account.System, connectors.PriorityCut), in.Account)
	return steps, ToTemporal(ctx, err)
}

// RunStep runs one step.
func (a *Activities) RunStep(ctx context.Context, in StepInput) (RunResult, error) {
	r, err := Capability[connectors.Runner](a, in.Step.System)
	if err != nil {
		return RunResult{}, ToTemporal(ctx, err)
	}
	out, err := r.Run(a.paced(ctx, in.Step.System, stepPriority(in.Step)), in.Account, in.Step)
	if err != nil {
		return RunResult{}, ToTemporal(ctx, err, out.Records...)
	}
	return RunResult{Outcome: out, Attempt: attempt(ctx)}, nil
}

// VerifyStep re-reads vendor state to prove a step's desired state holds.
func (a *Activities) VerifyStep(ctx context.Context, in StepInput) (VerifyResult, error) {
	v, err := Capability[connectors.Verifier](a, in.Step.System)
	if err != nil {
		return VerifyResult{}, ToTemporal(ctx, err)
	}
	if err := v.Verify(a.paced(ctx, in.Step.System, connectors.PriorityVerify), in.Account, in.Step); err != nil {
		return VerifyResult{}, ToTemporal(ctx, err)
	}
	return VerifyResult{VerifiedAt: time.Now().UTC()}, nil
}

// Capability finds system's connector and the capability T on it.
func Capability[T any](a *Activities, system string) (T, error) {
	var zero T
	c, ok := a.conns[system]
	if !ok {
		return zero, &connectors.Error{Kind: connectors.InvalidInput, System: system, Op: "find connector", Msg: "system is not configured on this worker"}
	}
	t, ok := c.(T)
	if !ok {
		return zero, &connectors.Error{Kind: connectors.InvalidInput, System: system, Op: "find connector", Msg: fmt.Sprintf("connector cannot %T", zero)}
	}
	return t, nil
}

// Retryable reports whether an error of kind k may succeed if tried again.
func Retryable(k connectors.Kind) bool {
	switch k {
	case connectors.RateLimited, connectors.Unavailable, connectors.Conflict:
		return true
	}
	return false
}

// ToTemporal is the one place that maps connector error kinds to Temporal
// errors: RateLimited, Unavailable and Conflict (including failed
// verification) retry, RateLimited after the wait the vendor asked for;
// Unauthenticated, PermissionDenied, InvalidInput and NotFound need a person
// and fail at once. Errors that are not connector errors (a bug, a cancelled
// context) retry as Unavailable. The message carries no PII because
// connector errors carry none. records are kept in the error's details.
func ToTemporal(ctx context.Context, err error, records ...string) error {
	if err == nil {
		return nil
	}
	kind := connectors.Unavailable
	var retryAfter time.Duration
	if ce, ok := errors.AsType[*connectors.Error](err); ok {
		kind, retryAfter = ce.Kind, ce.RetryAfter
	}
	next := retryAfter
	if retryAfter > 0 && activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		next = NextRetryDelay(info.RetryPolicy, info.Attempt, retryAfter)
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), string(kind), temporal.ApplicationErrorOptions{
		NonRetryable:   !Retryable(kind),
		NextRetryDelay: next,
		Details:        []any{ErrorDetails{Kind: kind, Attempt: attempt(ctx), RetryAfter: retryAfter, Records: records}},
	})
}

// NextRetryDelay is the wait before the next attempt of an activity whose
// vendor asked to wait retryAfter: the longer of that and the retry
// policy's own backoff for this attempt, so a vendor that answers
// "Retry-After: 1" to a burst does not use up every attempt in seconds.
func NextRetryDelay(p *temporal.RetryPolicy, attempt int32, retryAfter time.Duration) time.Duration {
	if p == nil || p.InitialInterval <= 0 || attempt < 1 {
		return retryAfter
	}
	coef := p.BackoffCoefficient
	if coef < 1 {
		coef = 2
	}
	backoff := float64(p.InitialInterval)
	for range attempt - 1 {
		backoff *= coef
		if p.MaximumInterval > 0 && backoff >= float64(p.MaximumInterval) {
			backoff = float64(p.MaximumInterval)
			break
		}
	}
	return max(retryAfter, time.Duration(backoff))
}

// attempt is the current activity attempt (1 outside an activity).
func attempt(ctx context.Context) int32 {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).Attempt
	}
	return 1
}

// SharedInput is one batch for a shared resource.
type SharedInput struct {
	System   string   `json:"system"`
	Resource string   `json:"resource"`
	Add      []string `json:"add"`
	Prune    []string `json:"prune,omitempty"`
}

// ApplyShared applies one batch to a shared resource (connectors.Shared):
// the one write of it at a time, from the resource's workflow.
func (a *Activities) ApplyShared(ctx context.Context, in SharedInput) (connectors.SharedResult, error) {
	s, err := Capability[connectors.Shared](a, in.System)
	if err != nil {
		return connectors.SharedResult{}, ToTemporal(ctx, err)
	}
	// A shared write is a cut (the kill switch's deny).
	res, err := s.ApplyShared(a.paced(ctx, in.System, connectors.PriorityCut), in.Resource, in.Add, in.Prune)
	return res, ToTemporal(ctx, err, res.Records...)
}

// RouteShared has every connector with shared resources send their writes
// through route (a function, not a method: every exported method is an
// activity).
func RouteShared(a *Activities, route func(system string) connectors.SharedRouter) {
	for _, name := range a.order {
		if s, ok := a.conns[name].(connectors.Shared); ok {
			s.RouteShared(route(name))
		}
	}
}
