package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
)

func TestToTemporal(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantType  string
		retryable bool
		delay     time.Duration
	}{
		{"rate limited carries the wait", &connectors.Error{Kind: connectors.RateLimited, System: "okta", Op: "suspend", RetryAfter: 7 * time.Second}, "RateLimited", true, 7 * time.Second},
		{"unavailable retries", &connectors.Error{Kind: connectors.Unavailable, System: "okta", Op: "suspend", Status: 503}, "Unavailable", true, 0},
		{"failed verification retries", &connectors.Error{Kind: connectors.Conflict, System: "okta", Op: "verify"}, "Conflict", true, 0},
		{"unauthenticated parks", &connectors.Error{Kind: connectors.Unauthenticated, System: "okta", Op: "suspend", Status: 401}, "Unauthenticated", false, 0},
		{"permission denied parks", &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "suspend", Status: 403}, "PermissionDenied", false, 0},
		{"invalid input parks", &connectors.Error{Kind: connectors.InvalidInput, System: "okta", Op: "resolve"}, "InvalidInput", false, 0},
		{"not found parks", &connectors.Error{Kind: connectors.NotFound, System: "okta", Op: "get user"}, "NotFound", false, 0},
		{"wrapped connector error", fmt.Errorf("step: %w", &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "x"}), "PermissionDenied", false, 0},
		{"other errors retry as unavailable", errors.New("connection reset"), "Unavailable", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ToTemporal(context.Background(), c.err)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("%T is not an ApplicationError", err)
			}
			if appErr.Type() != c.wantType || appErr.NonRetryable() == c.retryable || appErr.NextRetryDelay() != c.delay {
				t.Fatalf("type %s nonRetryable %v delay %v; want %s retryable %v delay %v", appErr.Type(), appErr.NonRetryable(), appErr.NextRetryDelay(), c.wantType, c.retryable, c.delay)
			}
			var d ErrorDetails
			if err := appErr.Details(&d); err != nil || string(d.Kind) != c.wantType || d.Attempt != 1 {
				t.Fatalf("details %+v (%v)", d, err)
			}
			if appErr.Message() != c.err.Error() {
				t.Fatalf("message %q, want %q", appErr.Message(), c.err.Error())
			}
		})
	}
	if ToTemporal(context.Background(), nil) != nil {
		t.Fatal("nil error became non-nil")
	}
}

func TestEveryKindIsMapped(t *testing.T) {
	retryable := map[connectors.Kind]bool{connectors.RateLimited: true, connectors.Unavailable: true, connectors.Conflict: true}
	for _, k := range connectors.Kinds {
		if Retryable(k) != retryable[k] {
			t.Errorf("Retryable(%s) = %v", k, Retryable(k))
		}
	}
}

// fake is a hand-written connector with only some capabilities.
type fake struct {
	name       string
	resolveErr error
}

// runner fails part-way, after recording what it listed.
type runner struct{ fake }

func (runner) Run(context.Context, connectors.Account, connectors.Step) (connectors.Outcome, error) {
	return connectors.Outcome{Records: []string{"key AKIA1"}}, &connectors.Error{Kind: connectors.Unavailable, System: "aws", Op: "delete key"}
}

func (f fake) Name() string { return f.name }
func (f fake) Resolve(context.Context, connectors.Subject) (connectors.Account, error) {
	if f.resolveErr != nil {
		return connectors.Account{}, f.resolveErr
	}
	return connectors.Account{System: f.name, ID: "u1"}, nil
}

func TestActivities(t *testing.T) {
	if _, err := New("okta", fake{name: "github"}); err == nil {
		t.Fatal("an unconfigured identity system was accepted")
	}
	if _, err := New("", fake{name: "a"}, fake{name: "a"}); err == nil {
		t.Fatal("a duplicate connector was accepted")
	}
	acts, err := New("okta", fake{name: "slack"}, fake{name: "okta"}, fake{name: "gone", resolveErr: &connectors.Error{Kind: connectors.NotFound, System: "gone", Op: "resolve"}})
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := acts.Systems(t.Context())
	if fmt.Sprint(sys.Systems) != "[okta slack gone]" || sys.Identity != "okta" {
		t.Fatalf("systems %+v: identity must come first, then config order", sys)
	}
	res, err := acts.Resolve(t.Context(), ResolveInput{System: "gone"})
	if err != nil || res.Found {
		t.Fatalf("NotFound should be 'no account': %+v %v", res, err)
	}
	res, err = acts.Resolve(t.Context(), ResolveInput{System: "okta"})
	if err != nil || !res.Found || res.Account.ID != "u1" {
		t.Fatalf("resolve: %+v %v", res, err)
	}
	part, err := New("", runner{fake{name: "aws"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = part.RunStep(t.Context(), StepInput{Step: connectors.Step{System: "aws"}})
	var appErr *temporal.ApplicationError
	var d ErrorDetails
	if !errors.As(err, &appErr) || appErr.Details(&d) != nil || fmt.Sprint(d.Records) != "[key AKIA1]" {
		t.Fatalf("records of a failed run were lost: %v %+v", err, d)
	}
	// A missing capability or system is a configuration error: park, don't retry.
	for _, err := range []error{
		func() error {
			_, err := acts.Plan(t.Context(), PlanInput{Account: connectors.Account{System: "okta"}})
			return err
		}(),
		func() error {
			_, err := acts.RunStep(t.Context(), StepInput{Step: connectors.Step{System: "nope"}})
			return err
		}(),
	} {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != "InvalidInput" || !appErr.NonRetryable() {
			t.Errorf("err = %v, want non-retryable InvalidInput", err)
		}
	}
}

// Issue 8, item 3: where a vendor gives Retry-After, the next attempt waits
// the longer of it and the exponential backoff.
func TestIssue8_NextRetryDelayIsTheLongerOfRetryAfterAndBackoff(t *testing.T) {
	p := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}
	for _, c := range []struct {
		attempt    int32
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, time.Second, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, time.Second, 4 * time.Second},
		{4, time.Second, 8 * time.Second},
		{3, 30 * time.Second, 30 * time.Second},
		{10, time.Second, time.Minute},
		{10, 5 * time.Minute, 5 * time.Minute},
	} {
		if got := NextRetryDelay(p, c.attempt, c.retryAfter); got != c.want {
			t.Errorf("attempt %d, Retry-After %s: %s, want %s", c.attempt, c.retryAfter, got, c.want)
		}
	}
	if got := NextRetryDelay(nil, 3, 2*time.Second); got != 2*time.Second {
		t.Errorf("no policy: %s", got)
	}
	// A burst of five 503s with Retry-After: 1 now spans 1+2+4+8 s.
	var total time.Duration
	for a := int32(1); a <= 4; a++ {
		total += NextRetryDelay(p, a, time.Second)
	}
	if total != 15*time.Second {
		t.Errorf("five attempts span %s, want 15s", total)
	}
}

// paceProbe is a connector that records the budget its calls would wait
// for, and at which priority.
type paceProbe struct {
	fake
	seen map[string]connectors.Priority
}

func (p paceProbe) note(ctx context.Context, what string) {
	if _, prio, ok := connectors.BudgetOf(ctx); ok {
		p.seen[what] = prio
	}
}

func (p paceProbe) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	p.note(ctx, "resolve")
	return p.fake.Resolve(ctx, s)
}

func (p paceProbe) Run(ctx context.Context, _ connectors.Account, st connectors.Step) (connectors.Outcome, error) {
	p.note(ctx, "run "+st.ID)
	return connectors.Outcome{Result: connectors.ResultDone}, nil
}

func (p paceProbe) Verify(ctx context.Context, _ connectors.Account, st connectors.Step) error {
	p.note(ctx, "verify "+st.ID)
	return nil
}

// Each system's calls wait for its own budget: finding the person and the
// steps that end access (or come before one that does) first, cleanup
// next, re-reads last. A system with no budget is not paced.
func TestActivitiesPaceBySystemAndStep(t *testing.T) {
	probe := paceProbe{fake: fake{name: "okta"}, seen: map[string]connectors.Priority{}}
	other := paceProbe{fake: fake{name: "slack"}, seen: map[string]connectors.Priority{}}
	acts, err := New("okta", probe, other)
	if err != nil {
		t.Fatal(err)
	}
	b, err := connectors.NewBudget([]connectors.Bucket{{Name: "all", Limit: 10, Window: time.Minute}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	WithBudgets(acts, map[string]*connectors.Budget{"okta": b})
	if _, err := acts.Resolve(t.Context(), ResolveInput{System: "okta"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []connectors.Step{{ID: "okta.suspend", System: "okta", Cuts: true, Urgent: true}, {ID: "okta.codes", System: "okta", Urgent: true}, {ID: "okta.groups", System: "okta"}} {
		if _, err := acts.RunStep(t.Context(), StepInput{Step: st}); err != nil {
			t.Fatal(err)
		}
		if _, err := acts.VerifyStep(t.Context(), StepInput{Step: st}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := acts.RunStep(t.Context(), StepInput{Step: connectors.Step{ID: "slack.deactivate", System: "slack", Urgent: true}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]connectors.Priority{
		"resolve":          connectors.PriorityCut,
		"run okta.suspend": connectors.PriorityCut, "verify okta.suspend": connectors.PriorityVerify,
		"run okta.codes": connectors.PriorityCut, "verify okta.codes": connectors.PriorityVerify,
		"run okta.groups": connectors.PriorityCleanup, "verify okta.groups": connectors.PriorityVerify,
	}
	if fmt.Sprint(probe.seen) != fmt.Sprint(want) {
		t.Errorf("okta's calls were paced %v, want %v", probe.seen, want)
	}
	if len(other.seen) != 0 {
		t.Errorf("slack has no budget, yet its calls carried one: %v", other.seen)
	}
}
