package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStepID(t *testing.T) {
	for _, c := range []struct{ system, action, scope, want string }{
		{"okta", "suspend", "", "okta.suspend"},
		{"github", "remove-membership", "acme", "github.remove-membership/acme"},
		{"aws", "revoke-sessions", "111111111111:AIDAEXAMPLE", "aws.revoke-sessions/111111111111:AIDAEXAMPLE"},
	} {
		if got := StepID(c.system, c.action, c.scope); got != c.want {
			t.Errorf("StepID(%q, %q, %q) = %q, want %q", c.system, c.action, c.scope, got, c.want)
		}
		st := NewStep(c.system, c.action, c.scope, "d", nil)
		if st.ID != c.want || st.System != c.system || st.Action != c.action || st.Scope != c.scope {
			t.Errorf("NewStep: %+v", st)
		}
	}
}

func TestStepsDispatchByFields(t *testing.T) {
	var ran, verified []string
	table := Steps[string]{System: "demo", Kinds: []StepKind[string]{
		{
			Action: "first",
			Plan:   func(_ context.Context, t string) (Planned, error) { return Planned{Description: "first for " + t}, nil },
			Run:    func(_ context.Context, t string) (Outcome, error) { ran = append(ran, "first:"+t); return Done() },
			Verify: func(_ context.Context, t string) error { verified = append(verified, "first:"+t); return nil },
		},
		{
			Action: "second",
			Plan:   func(_ context.Context, t string) (Planned, error) { return Planned{Targets: []string{t}}, nil },
			Run:    func(_ context.Context, t string) (Outcome, error) { ran = append(ran, "second:"+t); return Already() },
			Verify: func(_ context.Context, t string) error { return Conflictf("demo", "verify", "not yet") },
		},
	}}
	ctx := context.Background()
	steps, err := table.Plan(ctx, "org", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].ID != "demo.first/org" || steps[0].Description != "first for u1" || steps[1].Targets[0] != "u1" {
		t.Fatalf("plan: %+v", steps)
	}
	if got := strings.Join(table.Actions(), ","); got != "first,second" {
		t.Errorf("actions %s", got)
	}
	if out, err := table.Run(ctx, steps[1], "u1"); err != nil || out.Result != ResultAlready {
		t.Errorf("run second: %+v %v", out, err)
	}
	if err := table.Verify(ctx, steps[0], "u1"); err != nil {
		t.Errorf("verify first: %v", err)
	}
	if err := table.Verify(ctx, steps[1], "u1"); KindOf(err) != Conflict || !strings.Contains(err.Error(), "verify: not yet") {
		t.Errorf("verify second: %v", err)
	}

	bad := []struct {
		name string
		st   Step
		want string
	}{
		{"unknown action", NewStep("demo", "third", "", "", nil), `unknown step action "third"`},
		{"another system", NewStep("other", "first", "", "", nil), `belongs to system "other"`},
		{"ID not its fields", Step{ID: "demo.second", System: "demo", Action: "first"}, `does not match its action "first"`},
		{"only an ID", Step{ID: "demo.first"}, `does not match its action ""`},
	}
	for _, c := range bad {
		_, err := table.Run(ctx, c.st, "u1")
		if KindOf(err) != InvalidInput || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: run error %v, want InvalidInput %q", c.name, err, c.want)
		}
		if err := table.Verify(ctx, c.st, "u1"); KindOf(err) != InvalidInput {
			t.Errorf("%s: verify error %v", c.name, err)
		}
	}
	if strings.Join(ran, ",") != "second:u1" || strings.Join(verified, ",") != "first:u1" {
		t.Errorf("a refused step ran: ran %v verified %v", ran, verified)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, c := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"absent", h(), 0},
		{"seconds", h("Retry-After", "7"), 7 * time.Second},
		{"spaces", h("Retry-After", " 3 "), 3 * time.Second},
		{"negative", h("Retry-After", "-4"), 0},
		{"garbage", h("Retry-After", "soon"), 0},
		{"date from now", h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"date from the response's Date", h("Retry-After", now.Add(time.Hour+30*time.Second).Format(http.TimeFormat), "Date", now.Add(time.Hour).Format(http.TimeFormat)), 30 * time.Second},
		{"date past", h("Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)), 0},
	} {
		if got := RetryAfter(c.h, now); got != c.want {
			t.Errorf("%s: RetryAfter = %s, want %s", c.name, got, c.want)
		}
	}
	if got := CeilSecond(1500 * time.Millisecond); got != 2*time.Second {
		t.Errorf("CeilSecond(1.5s) = %s", got)
	}
}

func TestTransportMessageAndStatus(t *testing.T) {
	if got := TransportMessage(context.DeadlineExceeded); got != "request timed out" {
		t.Errorf("deadline: %q", got)
	}
	err := &wrapped{errors.New("dial tcp: lookup ada@example.com: no such host")}
	if got := TransportMessage(err); strings.Contains(got, "ada@example.com") || !strings.Contains(got, "no such host") {
		t.Errorf("transport message %q", got)
	}
	if StatusOf(&Error{Kind: NotFound, Status: 404}) != 404 || StatusOf(errors.New("x")) != 0 {
		t.Error("StatusOf")
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "outer: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestRemoveEach(t *testing.T) {
	each := func(item string) (string, bool, error) {
		switch item {
		case "gone":
			return "gone was already removed", false, nil
		case "skip":
			return "skipped skip", false, nil
		case "fail":
			return "", false, errors.New("vendor said no")
		}
		return "removed " + item, true, nil
	}
	out, err := RemoveEach([]string{"listed"}, []string{"a", "gone", "skip", "b"}, each)
	if err != nil || out.Result != ResultDone || strings.Join(out.Records, "|") != "listed|removed a|gone was already removed|skipped skip|removed b" {
		t.Errorf("mixed: %+v %v", out, err)
	}
	if out, err := RemoveEach(nil, []string{"gone", "skip"}, each); err != nil || out.Result != ResultAlready || len(out.Records) != 2 {
		t.Errorf("nothing removed: %+v %v", out, err)
	}
	if out, err := RemoveEach[string](nil, nil, each); err != nil || out.Result != ResultAlready {
		t.Errorf("no items: %+v %v", out, err)
	}
	// Items run at once: b may be removed before fail answers, and then its
	// record is kept with the error's.
	out, err = RemoveEach([]string{"listed"}, []string{"a", "fail", "b"}, each)
	if err == nil || err.Error() != "vendor said no" || !strings.HasPrefix(strings.Join(out.Records, "|"), "listed|removed a") || slices.Contains(out.Records, "") {
		t.Errorf("failure part-way: %+v %v (the records of the removed items are kept)", out, err)
	}
}

func TestEach(t *testing.T) {
	var mu sync.Mutex
	running, most := 0, 0
	var done []int
	err := Each(20, func(i int) error {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		running--
		done = append(done, i)
		mu.Unlock()
		return nil
	})
	if err != nil || len(done) != 20 || most > EachAtOnce || most < 2 {
		t.Errorf("Each(20): err %v, %d done, at most %d at once (limit %d)", err, len(done), most, EachAtOnce)
	}
	// The lowest failing index's error wins, and no item starts after a
	// failure is seen.
	var started atomic.Int32
	err = Each(100, func(i int) error {
		started.Add(1)
		time.Sleep(time.Millisecond)
		if i == 1 || i == 3 {
			return fmt.Errorf("item %d failed", i)
		}
		return nil
	})
	if err == nil || err.Error() != "item 1 failed" {
		t.Errorf("Each with failures: %v", err)
	}
	if n := started.Load(); n >= 100 {
		t.Errorf("Each went on after a failure: %d of 100 started", n)
	}
	if err := Each(0, func(int) error { return errors.New("called") }); err != nil {
		t.Errorf("Each(0): %v", err)
	}
}

func TestPlanAfter(t *testing.T) {
	noop := func(context.Context, string) (Planned, error) { return Planned{Description: "d"}, nil }
	table := Steps[string]{System: "sys", ScopeKind: "org", Kinds: []StepKind[string]{
		{Action: "cut", Plan: noop},
		{Action: "clean", Plan: noop, After: []string{"cut", "left-out"}},
	}}
	steps, err := table.Plan(t.Context(), "o1", "x")
	if err != nil || len(steps) != 2 {
		t.Fatalf("plan: %v %v", steps, err)
	}
	if steps[0].After != nil || !slices.Equal(steps[1].After, []string{"sys.cut/o1"}) {
		t.Errorf("After: cut %v, clean %v (want the same scope's cut, and no left-out action)", steps[0].After, steps[1].After)
	}
}

// A kind that cuts makes its steps Cuts and Urgent, and what they wait
// for, however far back, Urgent too; cleanup after a cut is neither.
func TestPlanUrgent(t *testing.T) {
	noop := func(context.Context, string) (Planned, error) { return Planned{Description: "d"}, nil }
	table := Steps[string]{System: "sys", Kinds: []StepKind[string]{
		{Action: "codes", Plan: noop},
		{Action: "tokens", Plan: noop, After: []string{"codes"}},
		{Action: "other", Plan: noop},
		{Action: "suspend", Plan: noop, After: []string{"tokens"}, Cuts: true},
		{Action: "groups", Plan: noop, After: []string{"suspend"}},
	}}
	steps, err := table.Plan(t.Context(), "", "x")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]bool{"codes": {false, true}, "tokens": {false, true}, "other": {false, false}, "suspend": {true, true}, "groups": {false, false}}
	for _, st := range steps {
		if got := [2]bool{st.Cuts, st.Urgent}; got != want[st.Action] {
			t.Errorf("%s: cuts, urgent %v, want %v", st.Action, got, want[st.Action])
		}
	}
}
