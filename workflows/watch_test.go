package workflows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

// fakeWatchPoll answers the watch's polls: one sign-in attempt at attemptAt.
type fakeWatchPoll struct {
	attemptAt time.Time
	mu        sync.Mutex
	polls     []activities.PollInput
}

func (p *fakeWatchPoll) poll(_ context.Context, in activities.PollInput) (activities.PollResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls = append(p.polls, in)
	var res activities.PollResult
	if in.Since.Before(p.attemptAt) && !in.Until.Before(p.attemptAt) {
		// Like the activity: an event already alerted on (Seen) is not
		// found again, though the polls' windows overlap.
		e := evidence.Event{Time: p.attemptAt, System: "okta", Action: "user.session.start", Actor: oktaUserID, SourceIP: "45.14.71.9", Outcome: "failure"}
		if k := activities.EventKey(e); !slices.Contains(in.Seen, k) {
			res.Found = append(res.Found, activities.Found{Key: k, Event: e, Why: "account"})
			res.Bundle, res.Digest = "E1001-watch-x-1", "abc123"
		}
	}
	return res, nil
}

// newWatchHarness is a test environment for the watch, starting at start
// (zero: now), with the fake vendors' step activities and p's polls.
func newWatchHarness(t *testing.T, f *fakeVendors, p *fakeWatchPoll, start time.Time) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	if !start.IsZero() {
		env.SetStartTime(start)
	}
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WatchID(testEmployee), TaskQueue: TaskQueue})
	env.RegisterWorkflowWithOptions(Watch, workflow.RegisterOptions{Name: WatchName})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.RunStep, mock.Anything, mock.Anything).Return(f.runStep)
	env.OnActivity(a.VerifyStep, mock.Anything, mock.Anything).Return(f.verifyStep)
	env.OnActivity(a.WatchPoll, mock.Anything, mock.Anything).Return(p.poll)
	env.OnActivity(a.WhoChanged, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ChangesInput) ([]evidence.Event, error) {
			return []evidence.Event{{Time: in.Since.Add(time.Minute), System: in.Account.System, Actor: "00uADMIN", Action: "user.lifecycle.unsuspend", SourceIP: "10.0.0.5"}}, nil
		})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
	return &harness{t: t, env: env, f: f}
}

// A 90-day watch runs through continue-as-new with each run's history
// bounded, misses no recheck, revokes again what came back, alerts once on
// an attempt, and closes at its end.
func TestWatch_NinetyDaysThroughContinueAsNew(t *testing.T) {
	cut := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f := &fakeVendors{verifyErr: func(step string, n int) error {
		// Okta's suspension is undone before the 7-day recheck (its third
		// verification): someone reactivated the user.
		if step == oktaSuspend && n == 3 {
			return errNotVerified("okta", "verify")
		}
		return nil
	}}
	p := &fakeWatchPoll{attemptAt: cut.Add(10*24*time.Hour + 7*time.Minute)}
	in := WatchInput{
		CaseID: WorkflowID(testEmployee), EmployeeID: testEmployee, CutAt: cut,
		Accounts: []connectors.Account{{System: "okta", ID: oktaUserID}},
		Steps:    fakePlan("okta", nil)[:2],
		Policy:   Policy{StepAttempts: 1},
	}
	var st WatchStatus
	start := cut
	runs := 0
	for {
		h := newWatchHarness(t, f, p, start)
		p.mu.Lock()
		before := len(p.polls)
		p.mu.Unlock()
		h.env.ExecuteWorkflow(WatchName, in)
		require.True(t, h.env.IsWorkflowCompleted())
		runs++
		// A run's history is its polls and rechecks (a timer, an activity
		// and a workflow task each: under ten events), so bounding a run's
		// polls bounds its history to a few thousand events.
		p.mu.Lock()
		assert.LessOrEqual(t, len(p.polls)-before, watchRunPolls+1, "run %d polled %d times", runs, len(p.polls)-before)
		p.mu.Unlock()
		require.Less(t, runs, 100, "the watch never ended")
		err := h.env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			assert.Equal(t, runs, in.Carried.Runs, "each run counts itself")
			start = h.env.Now()
			continue
		}
		require.NoError(t, err)
		require.NoError(t, h.env.GetWorkflowResult(&st))
		break
	}
	assert.Greater(t, runs, 10, "a 90-day watch of 15-minute polls continues as new")
	assert.Equal(t, WatchClosed, st.State)
	assert.Equal(t, len(DefaultRechecks), st.Rechecked, "no recheck missed")
	// 90 days of 15-minute polls, none missed.
	p.mu.Lock()
	polls := len(p.polls)
	require.True(t, p.polls[0].Since.Equal(cut), "the first poll reads from the cut")
	for i := 1; i < len(p.polls); i++ {
		// Each poll reads again the last pollOverlap of the one before
		// (vendors' logs lag); nothing between them goes unread.
		if want := p.polls[i-1].Until.Add(-pollOverlap); !p.polls[i].Since.Equal(want) {
			t.Fatalf("poll %d reads from %s, want %s (the previous one ended at %s)", i, p.polls[i].Since, want, p.polls[i-1].Until)
		}
	}
	p.mu.Unlock()
	assert.Equal(t, 90*24*4, polls)
	// The undone suspension was revoked again, and the attempt alerted on once.
	var kinds []string
	for _, al := range st.Alerts {
		kinds = append(kinds, al.Kind)
	}
	assert.ElementsMatch(t, []string{AlertCameBack, AlertAttempt}, kinds, "alerts: %+v", st.Alerts)
	for _, al := range st.Alerts {
		if al.Kind == AlertCameBack {
			assert.Equal(t, oktaSuspend, al.Step)
			assert.True(t, al.Redone, al.Message)
			assert.Contains(t, al.Message, "brought back by 00uADMIN (user.lifecycle.unsuspend", "who brought it back")
		} else {
			assert.Equal(t, "E1001-watch-x-1", al.Bundle, "an attempt names the bundle its events are sealed in")
			require.Len(t, al.Events, 1)
			assert.Equal(t, "45.14.71.9", al.Events[0].SourceIP)
		}
	}
	assert.Equal(t, 1, f.runs(oktaSuspend), "revoked again once")
}

// A close with a reason ends the watch; without one it is refused.
func TestWatch_Close(t *testing.T) {
	f := &fakeVendors{}
	h := newWatchHarness(t, f, &fakeWatchPoll{}, time.Time{})
	bad := h.updateAt(2*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "sec-lead"})
	good := h.updateAt(3*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "sec-lead", Reason: "settled with counsel"})
	h.env.ExecuteWorkflow(WatchName, WatchInput{CaseID: WorkflowID(testEmployee), EmployeeID: testEmployee, CutAt: h.env.Now(),
		Accounts: []connectors.Account{{System: "okta", ID: oktaUserID}}, Steps: fakePlan("okta", nil)[:1]})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var st WatchStatus
	require.NoError(t, h.env.GetWorkflowResult(&st))
	requireRefused(t, bad, "needs a reason")
	h.requireAccepted(good)
	assert.Equal(t, WatchClosed, st.State)
	assert.Equal(t, "settled with counsel", st.CloseReason)
	assert.Equal(t, 1, st.Rechecked, "only the 1-hour recheck came before the close")
}

// A done case opens the person's watch, with its accounts, done steps and
// the cut's time; without a watch policy it opens none.
func TestWatch_OpenedByADoneCase(t *testing.T) {
	for _, on := range []bool{true, false} {
		f := &fakeVendors{}
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetTestTimeout(10 * time.Second)
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(testEmployee), TaskQueue: TaskQueue})
		env.RegisterWorkflow(Offboarding)
		env.RegisterWorkflowWithOptions(Watch, workflow.RegisterOptions{Name: WatchName})
		env.RegisterActivity(&activities.Activities{})
		env.OnActivity(a.Systems, mock.Anything).Return(f.systems)
		env.OnActivity(a.Resolve, mock.Anything, mock.Anything).Return(f.resolve)
		env.OnActivity(a.Plan, mock.Anything, mock.Anything).Return(f.plan)
		env.OnActivity(a.RunStep, mock.Anything, mock.Anything).Return(f.runStep)
		env.OnActivity(a.VerifyStep, mock.Anything, mock.Anything).Return(f.verifyStep)
		env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
		settings := activities.Settings{}
		if on {
			settings.Watch = &activities.WatchPolicy{Days: 90, PollInterval: time.Minute}
		}
		env.OnActivity(a.CaseSettings, mock.Anything, mock.Anything).Return(settings, nil)
		var got []WatchInput
		env.OnWorkflow(WatchName, mock.Anything, mock.Anything).Return(
			func(_ workflow.Context, in WatchInput) (WatchStatus, error) {
				got = append(got, in)
				return WatchStatus{State: WatchClosed}, nil
			})
		env.ExecuteWorkflow(Offboarding, testInput())
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		var st Case
		require.NoError(t, env.GetWorkflowResult(&st))
		assert.Equal(t, CaseDone, st.State)
		if !on {
			assert.Empty(t, got)
			assert.Empty(t, st.Watch)
			continue
		}
		require.Len(t, got, 1)
		assert.Equal(t, WatchID(testEmployee), st.Watch)
		assert.True(t, got[0].CutAt.Equal(st.CutStartedAt))
		assert.Len(t, got[0].Accounts, 2)
		assert.Len(t, got[0].Steps, len(fakePlan("okta", nil))+len(fakePlan("github", nil)))
		assert.Equal(t, time.Minute, got[0].PollInterval)
	}
}
