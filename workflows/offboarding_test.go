package workflows

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// The person being offboarded in every test, and what the fake vendors know
// about them.
const (
	testEmployee = "E1234"
	oktaUserID   = "00u1a2b3c4"
	githubLogin  = "jdoe-gh"
	workEmail    = "jdoe@example.com"
)

// fakeVerifiedAt is what the fake VerifyStep reports as proof time.
var fakeVerifiedAt = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Step IDs the fake planner hands out, in plan order.
const (
	oktaSuspend       = "okta.suspend"
	oktaClearSessions = "okta.clear-sessions"
	oktaRemoveFactors = "okta.remove-factors"
	githubRemoveOrg   = "github.remove-member/acme"
	githubRevokeToken = "github.revoke-tokens"
)

var planOrder = map[string][]string{
	"okta":   {oktaSuspend, oktaClearSessions, oktaRemoveFactors},
	"github": {githubRemoveOrg, githubRevokeToken},
}

// fakePlan is a system's plan: each step after the one before it, unless
// after says otherwise.
func fakePlan(system string, after map[string][]string) []connectors.Step {
	var steps []connectors.Step
	switch system {
	case "okta":
		steps = []connectors.Step{
			{ID: oktaSuspend, System: "okta", Action: "suspend", Description: "Suspend the user"},
			{ID: oktaClearSessions, System: "okta", Action: "clear-sessions", Description: "End every session"},
			{ID: oktaRemoveFactors, System: "okta", Action: "remove-factors", Description: "Remove MFA factors", Targets: []string{"push", "totp"}},
		}
	case "github":
		steps = []connectors.Step{
			{ID: githubRemoveOrg, System: "github", Action: "remove-member", Scope: "acme", Description: "Remove from org acme"},
			{ID: githubRevokeToken, System: "github", Action: "revoke-tokens", Description: "Revoke PATs and SSH keys"},
		}
	}
	for i := range steps {
		// The suspension, the sessions' end and the org removal end access.
		steps[i].Cuts = steps[i].ID == oktaSuspend || steps[i].ID == oktaClearSessions || steps[i].ID == githubRemoveOrg
		steps[i].Urgent = steps[i].Cuts
		if a, ok := after[steps[i].ID]; ok {
			steps[i].After = a
		} else if i > 0 {
			steps[i].After = []string{steps[i-1].ID}
		}
	}
	return steps
}

// Connector errors, as the connectors would return them. The fake activities
// pass them through activities.ToTemporal, as the real activities do.
func errDenied(system, op string) error {
	return &connectors.Error{Kind: connectors.PermissionDenied, System: system, Op: op, Status: 403, Msg: "missing scope"}
}

func errUnavailable(system, op string) error {
	return &connectors.Error{Kind: connectors.Unavailable, System: system, Op: op, Status: 503}
}

func errNotVerified(system, op string) error {
	return &connectors.Error{Kind: connectors.Conflict, System: system, Op: op, Msg: "desired state does not hold"}
}

// fakeVendors stands in for the activities. Its knobs say how each call
// behaves; it records every call. Activities run on their own goroutines, so
// everything is behind mu.
type fakeVendors struct {
	// notFound lists systems where the person has no account.
	notFound map[string]bool
	// runResult is a step's result when RunStep succeeds (default ResultDone).
	runResult map[string]connectors.Result
	// runErr returns the connector error for the n-th (1-based) RunStep call
	// of a step, or nil.
	runErr func(step string, n int) error
	// verifyErr is the same for VerifyStep.
	verifyErr func(step string, n int) error

	mu          sync.Mutex
	resolves    []activities.ResolveInput
	plans       []string
	runOrder    map[string][]string // system → step IDs, in call order
	runCalls    map[string]int
	runAttempts map[string][]int32 // step → activity attempt numbers seen
	verifyCalls map[string]int
	upserts     []saSnapshot
	// oktaEmployeeID is the employee ID the fake Okta holds, if any.
	oktaEmployeeID string
	// oktaAttributes are further attributes the fake Okta reports (a Slack
	// user ID, say).
	oktaAttributes map[string]string
	// planErr is the connector error a system's Plan returns, if any.
	planErr map[string]error
	// after replaces the After of the steps it names (by default each
	// step comes after the one before it).
	after map[string][]string
	// runLog is every RunStep and VerifyStep call, in order ("run:<id>",
	// "verify:<id>").
	runLog []string
	// found and settled set the Found and Settled of the steps they name.
	found   map[string]*connectors.Found
	settled map[string]bool
	// runFound records, per step, whether each RunStep was sent a Found.
	runFound map[string][]bool
}

type saSnapshot struct {
	State  string
	Parked []string
}

func (f *fakeVendors) systems(context.Context) (activities.SystemsResult, error) {
	return activities.SystemsResult{Identity: "okta", Systems: []string{"okta", "github"}}, nil
}

func (f *fakeVendors) resolve(_ context.Context, in activities.ResolveInput) (activities.ResolveResult, error) {
	f.mu.Lock()
	f.resolves = append(f.resolves, in)
	f.mu.Unlock()
	if f.notFound[in.System] {
		return activities.ResolveResult{}, nil
	}
	switch in.System {
	case "okta":
		attrs := map[string]string{"email": workEmail, "githubUsername": githubLogin}
		maps.Copy(attrs, f.oktaAttributes)
		return activities.ResolveResult{Found: true, Account: connectors.Account{
			System: "okta", ID: oktaUserID, Status: "ACTIVE", EmployeeID: f.oktaEmployeeID,
			Attributes: attrs,
		}}, nil
	case "github":
		// Like the real connector: GitHub finds the person only through the
		// username the identity system reported.
		login := in.Subject.Attributes["githubUsername"]
		if login == "" {
			return activities.ResolveResult{}, nil
		}
		return activities.ResolveResult{Found: true, Account: connectors.Account{System: "github", ID: login, Status: "active"}}, nil
	}
	return activities.ResolveResult{}, nil
}

func (f *fakeVendors) plan(ctx context.Context, in activities.PlanInput) ([]connectors.Step, error) {
	f.mu.Lock()
	f.plans = append(f.plans, in.Account.System)
	f.mu.Unlock()
	if err := f.planErr[in.Account.System]; err != nil {
		return nil, activities.ToTemporal(ctx, err)
	}
	steps := fakePlan(in.Account.System, f.after)
	for i := range steps {
		steps[i].Found, steps[i].Settled = f.found[steps[i].ID], f.settled[steps[i].ID]
	}
	return steps, nil
}

func (f *fakeVendors) runStep(ctx context.Context, in activities.StepInput) (activities.RunResult, error) {
	f.mu.Lock()
	if f.runOrder == nil {
		f.runOrder, f.runCalls, f.runAttempts = map[string][]string{}, map[string]int{}, map[string][]int32{}
	}
	f.runOrder[in.Step.System] = append(f.runOrder[in.Step.System], in.Step.ID)
	f.runLog = append(f.runLog, "run:"+in.Step.ID)
	f.runCalls[in.Step.ID]++
	n := f.runCalls[in.Step.ID]
	f.runAttempts[in.Step.ID] = append(f.runAttempts[in.Step.ID], activityAttempt(ctx))
	if f.runFound == nil {
		f.runFound = map[string][]bool{}
	}
	f.runFound[in.Step.ID] = append(f.runFound[in.Step.ID], in.Step.Found != nil)
	f.mu.Unlock()

	if f.runErr != nil {
		if err := f.runErr(in.Step.ID, n); err != nil {
			// Like a connector that listed credentials before failing.
			return activities.RunResult{}, activities.ToTemporal(ctx, err, "listed:"+in.Step.ID)
		}
	}
	res := connectors.ResultDone
	if r, ok := f.runResult[in.Step.ID]; ok {
		res = r
	}
	return activities.RunResult{Outcome: connectors.Outcome{Result: res, Records: []string{"record:" + in.Step.ID}}, Attempt: activity.GetInfo(ctx).Attempt}, nil
}

func (f *fakeVendors) verifyStep(ctx context.Context, in activities.StepInput) (activities.VerifyResult, error) {
	f.mu.Lock()
	if f.verifyCalls == nil {
		f.verifyCalls = map[string]int{}
	}
	f.verifyCalls[in.Step.ID]++
	n := f.verifyCalls[in.Step.ID]
	f.runLog = append(f.runLog, "verify:"+in.Step.ID)
	f.mu.Unlock()
	if f.verifyErr != nil {
		if err := f.verifyErr(in.Step.ID, n); err != nil {
			return activities.VerifyResult{}, activities.ToTemporal(ctx, err)
		}
	}
	return activities.VerifyResult{VerifiedAt: fakeVerifiedAt}, nil
}

func (f *fakeVendors) recordUpsert(args mock.Arguments) {
	sa := args.Get(0).(temporal.SearchAttributes)
	state, _ := sa.GetKeyword(SAState)
	// Parked is nil when the upsert left ParkedSteps out, and non-nil (maybe
	// empty) when it set it.
	var parked []string
	if p, ok := sa.GetKeywordList(SAParkedSteps); ok {
		parked = append([]string{}, p...)
	}
	f.mu.Lock()
	f.upserts = append(f.upserts, saSnapshot{State: state, Parked: parked})
	f.mu.Unlock()
}

func (f *fakeVendors) lastUpsert() saSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.upserts) == 0 {
		return saSnapshot{}
	}
	return f.upserts[len(f.upserts)-1]
}

func (f *fakeVendors) runs(step string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runCalls[step]
}

func (f *fakeVendors) verifies(step string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.verifyCalls[step]
}

// harness is one workflow test environment with the fake vendors installed.
type harness struct {
	t   testing.TB
	env *testsuite.TestWorkflowEnvironment
	f   *fakeVendors
}

func newHarness(t testing.TB, f *fakeVendors) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(5 * time.Second)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(testEmployee), TaskQueue: TaskQueue})
	env.RegisterWorkflow(Offboarding)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.Systems, mock.Anything).Return(f.systems)
	env.OnActivity(a.Resolve, mock.Anything, mock.Anything).Return(f.resolve)
	env.OnActivity(a.Plan, mock.Anything, mock.Anything).Return(f.plan)
	env.OnActivity(a.RunStep, mock.Anything, mock.Anything).Return(f.runStep)
	env.OnActivity(a.VerifyStep, mock.Anything, mock.Anything).Return(f.verifyStep)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(f.recordUpsert).Return(nil)
	return &harness{t: t, env: env, f: f}
}

func testInput() Input {
	return Input{
		EmployeeID:  testEmployee,
		Mode:        ModeStandard,
		Reason:      "resignation",
		RequestedBy: "hr-bot",
		Policy:      Policy{StepAttempts: 3},
	}
}

// run executes the workflow to the end and returns its result.
func (h *harness) run(in Input) (Case, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(Offboarding, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	err := h.env.GetWorkflowError()
	if err != nil {
		return Case{}, err
	}
	var st Case
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st, nil
}

// snapshot is a status query made from a delayed callback. Callbacks do not
// run on the test goroutine, so they record and the test asserts afterwards.
type snapshot struct {
	taken  bool
	status Case
	sa     saSnapshot
	err    error
}

func (h *harness) queryAt(d time.Duration) *snapshot {
	s := &snapshot{}
	h.env.RegisterDelayedCallback(func() { h.take(s) }, d)
	return s
}

// take fills s with the case's status and last search attributes now.
func (h *harness) take(s *snapshot) {
	s.taken = true
	s.sa = h.f.lastUpsert()
	v, err := h.env.QueryWorkflow(QueryStatus)
	if err != nil {
		s.err = err
		return
	}
	s.err = v.Get(&s.status)
}

func (h *harness) requireSnapshot(s *snapshot) Case {
	h.t.Helper()
	require.True(h.t, s.taken, "delayed query never ran")
	require.NoError(h.t, s.err)
	return s.status
}

// update is the outcome of one resolve-step Update.
type update struct {
	sentAt    time.Time
	accepted  bool
	rejected  error
	completed bool
	result    any
	err       error
}

func (h *harness) resolveAt(d time.Duration, req DecideStepRequest) *update {
	return h.updateAt(d, UpdateDecideStep, req)
}

func (h *harness) updateAt(d time.Duration, name string, req any) *update {
	u := &update{}
	h.env.RegisterDelayedCallback(func() {
		u.sentAt = h.env.Now().UTC()
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { u.accepted = true },
			OnReject: func(err error) { u.rejected = err },
			OnComplete: func(v any, err error) {
				u.completed, u.result, u.err = true, v, err
			},
		}, req)
	}, d)
	return u
}

func (h *harness) requireAccepted(u *update) {
	h.t.Helper()
	require.NoError(h.t, u.rejected, "update rejected")
	require.True(h.t, u.accepted, "update not accepted")
	require.True(h.t, u.completed, "update not completed")
	require.NoError(h.t, u.err)
}

func step(t *testing.T, st Case, id string) Step {
	t.Helper()
	s, ok := st.Step(id)
	require.True(t, ok, "step %s missing; steps: %v", id, stepIDs(st))
	return *s
}

func stepIDs(st Case) []string {
	var ids []string
	for _, s := range st.Steps {
		ids = append(ids, s.ID)
	}
	return ids
}

// --- tests ---

func TestOffboarding_HappyPath(t *testing.T) {
	f := &fakeVendors{runResult: map[string]connectors.Result{oktaSuspend: connectors.ResultAlready}}
	h := newHarness(t, f)

	st, err := h.run(testInput())
	require.NoError(t, err)

	assert.Equal(t, WorkflowID(testEmployee), st.CaseID)
	assert.Equal(t, CaseDone, st.State)
	assert.False(t, st.FinishedAt.IsZero(), "FinishedAt not set")
	assert.Empty(t, st.Decisions)

	// Both systems planned, plan steps first, steps in plan order.
	assert.Equal(t, []string{
		"okta.plan", oktaSuspend, oktaClearSessions, oktaRemoveFactors,
		"github.plan", githubRemoveOrg, githubRevokeToken,
	}, stepIDs(st))
	assert.Equal(t, []string{"okta", "github"}, f.plans)
	require.Len(t, st.Systems, 2)
	for _, sys := range st.Systems {
		assert.True(t, sys.Found, "%s not found", sys.System)
		require.NotNil(t, sys.Account, sys.System)
		assert.Equal(t, sys.System, sys.Account.System)
	}

	for _, s := range st.Steps {
		assert.Equal(t, StepDone, s.State, s.ID)
		assert.Empty(t, s.ErrorKind, s.ID)
		if s.Action == ActionPlan {
			assert.Equal(t, ResultPlanned, s.Result, s.ID)
			continue
		}
		want := ResultVerified
		if s.ID == oktaSuspend {
			want = ResultAlready
		}
		assert.Equal(t, want, s.Result, s.ID)
		assert.Equal(t, 1, s.Attempts, s.ID)
		assert.Equal(t, fakeVerifiedAt, s.VerifiedAt, s.ID)
		assert.Equal(t, []string{"record:" + s.ID}, s.Records, s.ID)
		assert.Equal(t, 1, f.runs(s.ID), "RunStep calls for %s", s.ID)
		// Once when run, and once more in the final sweep when a later
		// step of its system started after that (each step here comes
		// after the one before it): all but each system's last step.
		verifies := 2
		if ids := planOrder[s.System]; s.ID == ids[len(ids)-1] {
			verifies = 1
		}
		assert.Equal(t, verifies, f.verifies(s.ID), "VerifyStep calls for %s", s.ID)
	}

	// The identity system resolved first, with nothing but the input; GitHub
	// resolved from what Okta reported.
	require.Len(t, f.resolves, 2)
	assert.Equal(t, "okta", f.resolves[0].System)
	assert.Empty(t, f.resolves[0].Subject.Attributes)
	assert.Equal(t, testEmployee, f.resolves[0].Subject.EmployeeID)
	assert.Equal(t, "github", f.resolves[1].System)
	assert.Equal(t, githubLogin, f.resolves[1].Subject.Attributes["githubUsername"])
	assert.Equal(t, workEmail, f.resolves[1].Subject.Email, "email taken from the identity system")

	assert.Equal(t, saSnapshot{State: string(CaseDone), Parked: []string{}}, f.lastUpsert())
}

// parkClearSessions runs a case whose okta.clear-sessions parks on its
// first run and is retried at 11 minutes, and returns the case at 10
// minutes (parked) and at the end, and the case's search attributes at 10.
func parkClearSessions(t *testing.T, f *fakeVendors) (during, end Case, mid saSnapshot) {
	t.Helper()
	return parkAndRetry(t, f, oktaClearSessions)
}

// parkAndRetry is parkClearSessions for any step.
func parkAndRetry(t *testing.T, f *fakeVendors, id string) (during, end Case, mid saSnapshot) {
	t.Helper()
	f.runErr = func(step string, n int) error {
		if step == id && n == 1 {
			sys, action, _ := strings.Cut(id, ".")
			return errDenied(sys, action)
		}
		return nil
	}
	h := newHarness(t, f)
	q := h.queryAt(10 * time.Minute)
	retry := h.resolveAt(11*time.Minute, DecideStepRequest{Step: id, Action: ActionRetry, By: "alice", Reason: "granted scope"})
	st, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(retry)
	return h.requireSnapshot(q), st, q.sa
}

func TestOffboarding_SystemsParallelStepsInOrder(t *testing.T) {
	f := &fakeVendors{}
	during, st, sa := parkClearSessions(t, f)

	// While okta.clear-sessions was parked, GitHub finished and Okta held its
	// next step back.
	assert.Equal(t, StepDone, step(t, during, oktaSuspend).State)
	assert.Equal(t, StepParked, step(t, during, oktaClearSessions).State)
	assert.Equal(t, StepPending, step(t, during, oktaRemoveFactors).State)
	for _, id := range planOrder["github"] {
		assert.Equal(t, StepDone, step(t, during, id).State, "%s while okta is parked", id)
		assert.Equal(t, fakeVerifiedAt, step(t, during, id).VerifiedAt, "%s verified before the sweep", id)
	}
	assert.Equal(t, CaseParked, during.State)
	assert.Equal(t, saSnapshot{State: string(CaseParked), Parked: []string{oktaClearSessions}}, sa)

	// Each system ran its steps in plan order (the parked one twice).
	f.mu.Lock()
	order := f.runOrder
	f.mu.Unlock()
	assert.Equal(t, []string{oktaSuspend, oktaClearSessions, oktaClearSessions, oktaRemoveFactors}, order["okta"])
	assert.Equal(t, planOrder["github"], order["github"])

	assert.Equal(t, CaseDone, st.State)
	for _, s := range st.Steps {
		assert.Equal(t, StepDone, s.State, s.ID)
	}
}

// Steps with no order between them run at once: with clear-sessions and
// remove-factors both only after suspend, a parked clear-sessions holds
// back nothing, and its retry re-checks only suspend, the step it comes
// after.
func TestOffboarding_StepsRunByDependency(t *testing.T) {
	f := &fakeVendors{after: map[string][]string{oktaRemoveFactors: {oktaSuspend}}}
	during, st, _ := parkClearSessions(t, f)
	assert.Equal(t, StepParked, step(t, during, oktaClearSessions).State)
	assert.Equal(t, StepDone, step(t, during, oktaRemoveFactors).State, "remove-factors does not wait for the parked clear-sessions")
	assert.Equal(t, CaseDone, st.State)

	// Before the retry: suspend verified again, remove-factors not.
	f.mu.Lock()
	log := slices.Clone(f.runLog)
	f.mu.Unlock()
	firstRun := slices.Index(log, "run:"+oktaClearSessions)
	retried := firstRun + 1 + slices.Index(log[firstRun+1:], "run:"+oktaClearSessions)
	require.Greater(t, retried, firstRun, "clear-sessions ran again: %v", log)
	between := log[slices.Index(log, "run:"+oktaRemoveFactors):retried]
	assert.Contains(t, between, "verify:"+oktaSuspend, "suspend re-checked before the retry: %v", log)
	assert.Equal(t, 1, f.runs(oktaRemoveFactors))
}

func TestOffboarding_ParksAfterRetries(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
		wantKind  string
	}{
		{name: "retryable error parks after StepAttempts", err: errUnavailable("okta", "clear sessions"), wantCalls: 3, wantKind: "Unavailable"},
		{name: "non-retryable error parks at once", err: errDenied("okta", "clear sessions"), wantCalls: 1, wantKind: "PermissionDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeVendors{runErr: func(step string, _ int) error {
				if step == oktaClearSessions {
					return tc.err
				}
				return nil
			}}
			h := newHarness(t, f)
			in := testInput()
			in.Policy.StepAttempts = 3
			parked := h.queryAt(10 * time.Minute)
			skip := h.resolveAt(11*time.Minute, DecideStepRequest{Step: oktaClearSessions, Action: ActionSkip, By: "alice", Reason: "vendor outage; done by hand"})

			st, err := h.run(in)
			require.NoError(t, err)
			h.requireAccepted(skip)

			during := h.requireSnapshot(parked)
			s := step(t, during, oktaClearSessions)
			assert.Equal(t, StepParked, s.State)
			assert.Equal(t, tc.wantCalls, s.Attempts)
			assert.Equal(t, tc.wantKind, s.ErrorKind)
			assert.Equal(t, tc.err.Error(), s.LastError)
			assert.False(t, s.ParkedAt.IsZero(), "ParkedAt not set")
			assert.Equal(t, []string{oktaClearSessions}, during.ParkedSteps())
			assert.Equal(t, saSnapshot{State: string(CaseParked), Parked: []string{oktaClearSessions}}, parked.sa)

			// Exactly the attempts the policy allows, no more.
			assert.Equal(t, tc.wantCalls, f.runs(oktaClearSessions))
			f.mu.Lock()
			seen := f.runAttempts[oktaClearSessions]
			f.mu.Unlock()
			wantSeen := make([]int32, tc.wantCalls)
			for i := range wantSeen {
				wantSeen[i] = int32(i + 1)
			}
			assert.Equal(t, wantSeen, seen, "activity attempt numbers")

			// Skipping it lets the case finish and clears the search attributes.
			assert.Equal(t, CaseDone, st.State)
			assert.Equal(t, StepSkipped, step(t, st, oktaClearSessions).State)
			assert.Equal(t, saSnapshot{State: string(CaseDone), Parked: []string{}}, f.lastUpsert())
		})
	}
}

func TestOffboarding_RetryViaUpdate(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, n int) error {
		if step == oktaSuspend && n == 1 {
			return errDenied("okta", "suspend")
		}
		return nil
	}}
	h := newHarness(t, f)
	retry := h.resolveAt(30*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionRetry, By: "alice", Reason: "fixed perms", RequestID: "req-1"})

	st, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(retry)
	res, ok := retry.result.(DecisionResult)
	require.True(t, ok, "update result is %T", retry.result)
	assert.Equal(t, DecisionResult{Step: oktaSuspend, Action: ActionRetry, At: retry.sentAt}, res)

	s := step(t, st, oktaSuspend)
	assert.Equal(t, StepDone, s.State)
	assert.Equal(t, ResultVerified, s.Result)
	assert.Equal(t, 2, s.Attempts)
	assert.Empty(t, s.ErrorKind)
	assert.Empty(t, s.LastError)
	assert.Equal(t, fakeVerifiedAt, s.VerifiedAt)
	assert.Equal(t, 2, f.runs(oktaSuspend))
	assert.Equal(t, CaseDone, st.State)

	require.Len(t, st.Decisions, 1)
	assert.Equal(t, Decision{Step: oktaSuspend, Action: ActionRetry, By: "alice", Reason: "fixed perms", RequestID: "req-1", At: retry.sentAt}, st.Decisions[0])
	assert.False(t, st.Decisions[0].At.IsZero())
}

func TestOffboarding_SkipViaUpdate(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, _ int) error {
		if step == oktaSuspend {
			return errDenied("okta", "suspend")
		}
		return nil
	}}
	h := newHarness(t, f)
	skip := h.resolveAt(30*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "bob", Reason: "suspended by hand in the admin console"})

	st, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(skip)

	s := step(t, st, oktaSuspend)
	assert.Equal(t, StepSkipped, s.State)
	assert.Equal(t, "bob", s.SkippedBy)
	assert.Equal(t, "suspended by hand in the admin console", s.SkipReason)
	assert.Equal(t, 1, f.runs(oktaSuspend), "a skipped step is not run again")
	assert.Zero(t, f.verifies(oktaSuspend), "a skipped step is not verified")

	// The rest of Okta still ran, after the skip.
	for _, id := range []string{oktaClearSessions, oktaRemoveFactors} {
		assert.Equal(t, StepDone, step(t, st, id).State, id)
		assert.Equal(t, 1, f.runs(id), id)
	}
	assert.Equal(t, CaseDone, st.State)
	require.Len(t, st.Decisions, 1)
	assert.Equal(t, ActionSkip, st.Decisions[0].Action)
	assert.Equal(t, "bob", st.Decisions[0].By)
	assert.Equal(t, skip.sentAt, st.Decisions[0].At)
}

func TestOffboarding_ResolveStepValidator(t *testing.T) {
	tests := []struct {
		name    string
		req     DecideStepRequest
		wantErr string
	}{
		{
			name:    "unknown step",
			req:     DecideStepRequest{Step: "okta.delete-everything", Action: ActionRetry, By: "alice"},
			wantErr: `step "okta.delete-everything" is not in this case`,
		},
		{
			name:    "step not parked",
			req:     DecideStepRequest{Step: githubRevokeToken, Action: ActionRetry, By: "alice"},
			wantErr: `step "github.revoke-tokens" is done, not parked`,
		},
		{
			name:    "bad action",
			req:     DecideStepRequest{Step: oktaSuspend, Action: "delete", By: "alice", Reason: "why not"},
			wantErr: `action "delete": want retry or skip`,
		},
		{
			name:    "skip without reason",
			req:     DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "alice"},
			wantErr: "a skip needs a reason",
		},
		{
			name:    "missing by",
			req:     DecideStepRequest{Step: oktaSuspend, Action: ActionRetry, Reason: "fixed"},
			wantErr: "who decided (by) is required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeVendors{runErr: func(step string, _ int) error {
				if step == oktaSuspend {
					return errDenied("okta", "suspend")
				}
				return nil
			}}
			h := newHarness(t, f)
			bad := h.resolveAt(10*time.Minute, tc.req)
			after := h.queryAt(11 * time.Minute)
			// A valid decision afterwards lets the case close.
			good := h.resolveAt(12*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "carol", Reason: "done by hand"})

			st, err := h.run(testInput())
			require.NoError(t, err)

			require.Error(t, bad.rejected, "update should be rejected")
			assert.Contains(t, bad.rejected.Error(), tc.wantErr)
			assert.False(t, bad.accepted, "rejected update was accepted")
			assert.False(t, bad.completed, "rejected update ran its handler")

			mid := h.requireSnapshot(after)
			assert.Empty(t, mid.Decisions, "a rejected update recorded a decision")
			assert.Equal(t, StepParked, step(t, mid, oktaSuspend).State)

			h.requireAccepted(good)
			require.Len(t, st.Decisions, 1)
			assert.Equal(t, "carol", st.Decisions[0].By)
			assert.Equal(t, CaseDone, st.State)
		})
	}
}

func TestOffboarding_SecondDecisionForSameStepRejected(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, n int) error {
		if step == oktaSuspend && n == 1 {
			return errDenied("okta", "suspend")
		}
		return nil
	}}
	h := newHarness(t, f)
	first := h.resolveAt(10*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionRetry, By: "alice"})
	second := h.resolveAt(10*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "bob", Reason: "racing alice"})

	st, err := h.run(testInput())
	require.NoError(t, err)

	h.requireAccepted(first)
	require.Error(t, second.rejected, "second decision should be rejected")
	// By the time the second arrives the workflow has usually taken the
	// first and is running the step again; either way it must say why.
	assert.Regexp(t, `step "okta.suspend" (is running, not parked|already has a decision waiting)`, second.rejected.Error())
	assert.False(t, second.accepted)
	assert.False(t, second.completed)
	require.Len(t, st.Decisions, 1)
	assert.Equal(t, "alice", st.Decisions[0].By)
	assert.Equal(t, StepDone, step(t, st, oktaSuspend).State)
}

func TestOffboarding_ReminderWhileParked(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, _ int) error {
		if step == githubRevokeToken {
			return errDenied("github", "revoke tokens")
		}
		return nil
	}}
	h := newHarness(t, f)
	in := testInput()
	in.Policy.Reminder = time.Hour
	early := h.queryAt(30 * time.Minute)
	late := h.queryAt(2*time.Hour + 30*time.Minute)
	skip := h.resolveAt(2*time.Hour+31*time.Minute, DecideStepRequest{Step: githubRevokeToken, Action: ActionSkip, By: "alice", Reason: "tokens revoked by org owner"})

	st, err := h.run(in)
	require.NoError(t, err)
	h.requireAccepted(skip)

	assert.Equal(t, 0, step(t, h.requireSnapshot(early), githubRevokeToken).Reminders, "before the first reminder")
	assert.Equal(t, 2, step(t, h.requireSnapshot(late), githubRevokeToken).Reminders, "after two reminder intervals")
	assert.Equal(t, 2, step(t, st, githubRevokeToken).Reminders)
	assert.Equal(t, StepSkipped, step(t, st, githubRevokeToken).State)
}

func TestOffboarding_NoAccountAnywhere(t *testing.T) {
	f := &fakeVendors{notFound: map[string]bool{"okta": true, "github": true}}
	h := newHarness(t, f)

	_, err := h.run(testInput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), testEmployee)
	assert.Contains(t, err.Error(), "no account")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T", err)
	assert.Equal(t, "NotFound", appErr.Type())
	assert.True(t, appErr.NonRetryable())

	assert.Len(t, f.resolves, 2)
	assert.Empty(t, f.plans, "nothing to plan")
	assert.Equal(t, string(CaseFailed), f.lastUpsert().State)
}

func TestOffboarding_InvalidInput(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Input)
		want   string
	}{
		{name: "email as employee ID", mutate: func(in *Input) { in.EmployeeID = "a@b.com" }, want: "an email address is not an employee ID"},
		{name: "empty employee ID", mutate: func(in *Input) { in.EmployeeID = "" }, want: "employee ID is empty"},
		{name: "bad mode", mutate: func(in *Input) { in.Mode = "fired" }, want: `mode "fired"`},
		{name: "no requester", mutate: func(in *Input) { in.RequestedBy = "" }, want: "requestedBy is empty"},
		{name: "unknown time zone", mutate: func(in *Input) { in.TimeZone = "Mars/Olympus" }, want: `time zone "Mars/Olympus" is unknown`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &fakeVendors{})
			started := 0
			h.env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { started++ })
			in := testInput()
			tc.mutate(&in)

			_, err := h.run(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid input")
			assert.Contains(t, err.Error(), tc.want)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr))
			assert.Equal(t, "InvalidInput", appErr.Type())
			assert.True(t, appErr.NonRetryable())
			assert.Zero(t, started, "no activity may run on invalid input")
		})
	}
}

func TestOffboarding_VerifySweepRerunsStep(t *testing.T) {
	// githubRemoveOrg verifies when it runs (call 1), no longer holds in
	// the sweep (calls 2-3: both attempts StepAttempts allows; githubRevoke-
	// Token started after it, so it is read again), and verifies again
	// after it is re-run (call 4). The pass that follows reads again what
	// the re-run could have changed: githubRevokeToken, not githubRemoveOrg
	// itself, read after its re-run started.
	f := &fakeVendors{verifyErr: func(step string, n int) error {
		if step == githubRemoveOrg && (n == 2 || n == 3) {
			return errNotVerified("github", "verify remove member")
		}
		return nil
	}}
	h := newHarness(t, f)
	in := testInput()
	in.Policy.StepAttempts = 2

	st, err := h.run(in)
	require.NoError(t, err)

	assert.Equal(t, CaseDone, st.State)
	s := step(t, st, githubRemoveOrg)
	assert.Equal(t, StepDone, s.State)
	assert.Equal(t, ResultVerified, s.Result)
	assert.Equal(t, 2, s.Attempts, "one run, then one re-run after the sweep")
	assert.Empty(t, s.ErrorKind)
	assert.Equal(t, 2, f.runs(githubRemoveOrg), "RunStep re-run after the sweep")
	assert.Equal(t, 4, f.verifies(githubRemoveOrg))
	// When run, then: githubRevokeToken in the pass after the re-run;
	// okta.suspend and okta.clear-sessions (read before a later Okta step
	// started) in the first pass; okta.remove-factors never again.
	for id, want := range map[string]int{githubRevokeToken: 2, oktaSuspend: 2, oktaClearSessions: 2, oktaRemoveFactors: 1} {
		assert.Equal(t, 1, f.runs(id), "%s is not re-run", id)
		assert.Equal(t, StepDone, step(t, st, id).State, id)
		assert.Equal(t, want, f.verifies(id), "VerifyStep calls for %s", id)
	}
}

// TestOffboarding_StalePlanRunsAgain: a step's first run is sent what its
// plan found; when the verification after it finds the plan stale, the step
// runs again at once, sent nothing, so it reads, and no operator is asked.
// A verification that fails after a run that read parks as before.
func TestOffboarding_StalePlanRunsAgain(t *testing.T) {
	// githubRemoveOrg fails its first verification, both attempts.
	stale := func(step string, n int) error {
		if step == githubRemoveOrg && n <= 2 {
			return errNotVerified("github", "verify remove member")
		}
		return nil
	}
	f := &fakeVendors{
		found:     map[string]*connectors.Found{githubRemoveOrg: {}, oktaRemoveFactors: {IDs: []string{"push"}}},
		verifyErr: stale,
	}
	h := newHarness(t, f)
	in := testInput()
	in.Policy.StepAttempts = 2
	st, err := h.run(in)
	require.NoError(t, err)
	assert.Equal(t, CaseDone, st.State)
	s := step(t, st, githubRemoveOrg)
	assert.Equal(t, StepDone, s.State)
	assert.Equal(t, ResultVerified, s.Result)
	assert.Equal(t, 2, s.Attempts, "two runs")
	assert.Nil(t, s.Found, "the plan's finding is spent once a run succeeded")
	assert.Equal(t, []bool{true, false}, f.runFound[githubRemoveOrg], "first run on the plan, the second reading")
	assert.Equal(t, []bool{true}, f.runFound[oktaRemoveFactors])
	assert.Equal(t, []bool{false}, f.runFound[oktaSuspend], "a plan that found nothing for it sends nothing")
	assert.Empty(t, f.lastUpsert().Parked)

	// The same verification failure after a run that read parks.
	f = &fakeVendors{verifyErr: stale}
	h = newHarness(t, f)
	skip := h.resolveAt(time.Hour, DecideStepRequest{Step: githubRemoveOrg, Action: ActionSkip, By: "alice", Reason: "removed by hand"})
	st, err = h.run(in)
	require.NoError(t, err)
	h.requireAccepted(skip)
	assert.Equal(t, StepSkipped, step(t, st, githubRemoveOrg).State, "parked until the operator's skip")
	assert.Equal(t, 1, f.runs(githubRemoveOrg), "no re-run without an operator")
}

// TestOffboarding_SettledNotReadAgain: the final pass does not read again a
// settled step, which no later step of its system can undo.
func TestOffboarding_SettledNotReadAgain(t *testing.T) {
	f := &fakeVendors{settled: map[string]bool{oktaSuspend: true}}
	st, err := newHarness(t, f).run(testInput())
	require.NoError(t, err)
	assert.Equal(t, CaseDone, st.State)
	assert.Equal(t, 1, f.verifies(oktaSuspend), "settled: verified once, after its run")
	assert.Equal(t, 2, f.verifies(oktaClearSessions), "not settled, and a later Okta step started after it was read")
}

// activityAttempt is the activity's attempt number, or 0 outside an activity.
func activityAttempt(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 0
	}
	return activity.GetInfo(ctx).Attempt
}

// Each system is cut when its first access-ending step has run, and the
// case when the last system is: a parked cut holds the case's cut time
// back until it runs.
func TestOffboarding_CutAt(t *testing.T) {
	during, st, _ := parkAndRetry(t, &fakeVendors{}, githubRemoveOrg)

	cutAt := func(c Case, sys string) time.Time {
		for _, s := range c.Systems {
			if s.System == sys {
				return s.CutAt
			}
		}
		t.Fatalf("no system %s", sys)
		return time.Time{}
	}
	assert.False(t, cutAt(during, "okta").IsZero(), "okta's suspension ran: okta is cut")
	assert.True(t, cutAt(during, "github").IsZero(), "github's removal is parked: github is not cut")
	assert.True(t, during.CutAt.IsZero(), "the case is not cut while a system is not")

	okta, github := cutAt(st, "okta"), cutAt(st, "github")
	assert.Equal(t, cutAt(during, "okta"), okta, "a system's cut time is its first")
	assert.Less(t, okta.Sub(st.CutStartedAt), time.Minute)
	assert.GreaterOrEqual(t, github.Sub(st.CutStartedAt), 11*time.Minute, "github was cut when the retried removal ran")
	assert.Equal(t, github, st.CutAt, "the case is cut when its last system is")
}

// A system whose access-ending steps found the access already ended is cut
// when the last of them has run, not at the first "already".
func TestOffboarding_CutAtWhenAlreadyCut(t *testing.T) {
	f := &fakeVendors{runResult: map[string]connectors.Result{oktaSuspend: connectors.ResultAlready, oktaClearSessions: connectors.ResultAlready}}
	_, st, _ := parkClearSessions(t, f)
	require.Equal(t, "okta", st.Systems[0].System)
	assert.GreaterOrEqual(t, st.Systems[0].CutAt.Sub(st.CutStartedAt), 11*time.Minute, "okta is cut once its last access-ending step ran")
	assert.Equal(t, st.Systems[0].CutAt, st.CutAt)
}
