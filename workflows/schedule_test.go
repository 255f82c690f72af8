package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
)

func TestOffboarding_WaitsForEffectiveTime(t *testing.T) {
	h := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(3 * time.Hour)
	before := h.queryAt(2 * time.Hour)
	st, err := h.run(in)
	require.NoError(t, err)

	early := h.requireSnapshot(before)
	assert.Equal(t, CaseScheduled, early.State)
	assert.True(t, early.EffectiveAt.Equal(in.EffectiveAt), "effectiveAt %v", early.EffectiveAt)
	assert.Empty(t, early.Steps, "work started before the effective time")
	assert.Equal(t, string(CaseScheduled), before.sa.State)
	assert.Equal(t, CaseDone, st.State)
	assert.False(t, st.Steps[1].StartedAt.Before(in.EffectiveAt), "first step started %v, before %v", st.Steps[1].StartedAt, in.EffectiveAt)
}

func TestOffboarding_CutNow(t *testing.T) {
	h := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(48 * time.Hour)
	u := h.updateAt(time.Hour, UpdateCutNow, ScheduleRequest{By: "sec-lead", Reason: "access abuse seen"})
	st, err := h.run(in)
	require.NoError(t, err)
	h.requireAccepted(u)
	assert.Equal(t, CaseDone, st.State)
	require.Len(t, st.Decisions, 1)
	assert.Equal(t, UpdateCutNow, st.Decisions[0].Action)
	assert.Equal(t, "sec-lead", st.Decisions[0].By)
	s := step(t, st, "okta.suspend")
	assert.True(t, s.StartedAt.Before(in.EffectiveAt), "cut-now did not start the cut early")
}

func TestOffboarding_Rescind(t *testing.T) {
	h := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(48 * time.Hour)
	bad := h.updateAt(time.Minute, UpdateRescind, ScheduleRequest{By: "hr"}) // no reason
	u := h.updateAt(time.Hour, UpdateRescind, ScheduleRequest{By: "hr", Reason: "offer accepted back"})
	late := h.updateAt(2*time.Hour, UpdateCutNow, ScheduleRequest{By: "hr"})
	st, err := h.run(in)
	require.NoError(t, err)
	require.ErrorContains(t, bad.rejected, "a rescind needs a reason")
	h.requireAccepted(u)
	assert.Equal(t, CaseRescinded, st.State)
	assert.Zero(t, h.f.runs("okta.suspend"), "a rescinded case cut something")
	assert.Empty(t, h.f.resolves, "a rescinded case resolved accounts")
	require.Len(t, st.Decisions, 1, "the rejected rescind was recorded")
	assert.Equal(t, "offer accepted back", st.Decisions[0].Reason)
	// The workflow has ended by then, so the late Update never applies.
	assert.False(t, late.completed)
}

func TestOffboarding_CutNowRejectedWhenNotScheduled(t *testing.T) {
	f := &fakeVendors{}
	h := newHarness(t, f)
	f.runErr = func(step string, n int) error {
		if step == "okta.suspend" {
			return &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "suspend"}
		}
		return nil
	}
	u := h.updateAt(time.Minute, UpdateCutNow, ScheduleRequest{By: "hr"})
	h.resolveAt(time.Hour, DecideStepRequest{Step: "okta.suspend", Action: ActionSkip, By: "ops", Reason: "done by hand"})
	st, err := h.run(testInput())
	require.NoError(t, err)
	require.ErrorContains(t, u.rejected, "applies only while it waits for its effective time")
	for _, d := range st.Decisions {
		assert.NotEqual(t, UpdateCutNow, d.Action, "a rejected cut-now was recorded")
	}
}

func TestOffboarding_CancelledCaseIsNotDone(t *testing.T) {
	f := &fakeVendors{}
	h := newHarness(t, f)
	f.runErr = func(step string, n int) error {
		if step == "okta.clear-sessions" {
			return &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "clear sessions"}
		}
		return nil
	}
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour)
	h.env.ExecuteWorkflow(Offboarding, testInput())
	require.True(t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "error %v is not a cancellation", err)
	assert.Equal(t, string(CaseCancelled), h.f.lastUpsert().State)
	// Steps already verified stay done; nothing is marked skipped by "system".
	v, qerr := h.env.QueryWorkflow(QueryStatus)
	if qerr == nil {
		var st Case
		require.NoError(t, v.Get(&st))
		for _, s := range st.Steps {
			assert.NotEqual(t, StepSkipped, s.State, "step %s skipped by cancellation", s.ID)
		}
		assert.Equal(t, StepDone, step(t, st, "github.revoke-tokens").State)
	}
}

func TestOffboarding_RecordsSurviveAFailedRun(t *testing.T) {
	f := &fakeVendors{}
	h := newHarness(t, f)
	f.runErr = func(step string, n int) error {
		if step == "okta.suspend" && n == 1 {
			return &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "suspend"}
		}
		return nil
	}
	parked := h.queryAt(time.Minute)
	h.resolveAt(time.Hour, DecideStepRequest{Step: "okta.suspend", Action: ActionRetry, By: "ops"})
	st, err := h.run(testInput())
	require.NoError(t, err)
	during := h.requireSnapshot(parked)
	assert.Equal(t, []string{"listed:okta.suspend"}, step(t, during, "okta.suspend").Records, "records of the failed run were lost")
	assert.Equal(t, []string{"listed:okta.suspend", "record:okta.suspend"}, step(t, st, "okta.suspend").Records)
}

func TestOffboarding_RateLimitsWaitInsteadOfParking(t *testing.T) {
	limited := &connectors.Error{Kind: connectors.RateLimited, System: "okta", Op: "suspend", Status: 429, RetryAfter: 10 * time.Minute}
	t.Run("throttled, then through", func(t *testing.T) {
		f := &fakeVendors{}
		h := newHarness(t, f)
		f.runErr = func(step string, n int) error {
			if step == "okta.suspend" && n <= 4 {
				return limited
			}
			return nil
		}
		in := testInput()
		in.Policy = Policy{StepAttempts: 2, RateLimitRounds: 3}
		mid := h.queryAt(15 * time.Minute)
		st, err := h.run(in)
		require.NoError(t, err)
		during := step(t, h.requireSnapshot(mid), "okta.suspend")
		assert.Equal(t, StepRunning, during.State, "a throttled step must not park")
		assert.Equal(t, "RateLimited", during.ErrorKind)
		s := step(t, st, "okta.suspend")
		assert.Equal(t, StepDone, s.State)
		assert.Equal(t, 5, s.Attempts)
		assert.Equal(t, 5, f.runs("okta.suspend"))
		assert.Empty(t, st.Decisions)
	})
	t.Run("throttled for good parks", func(t *testing.T) {
		f := &fakeVendors{}
		h := newHarness(t, f)
		f.runErr = func(step string, _ int) error {
			if step == "okta.suspend" {
				return limited
			}
			return nil
		}
		in := testInput()
		in.Policy = Policy{StepAttempts: 2, RateLimitRounds: 2}
		parked := h.queryAt(3 * time.Hour)
		h.resolveAt(4*time.Hour, DecideStepRequest{Step: "okta.suspend", Action: ActionSkip, By: "ops", Reason: "vendor outage"})
		_, err := h.run(in)
		require.NoError(t, err)
		s := step(t, h.requireSnapshot(parked), "okta.suspend")
		assert.Equal(t, StepParked, s.State)
		assert.Equal(t, 6, s.Attempts, "two attempts in each of three rounds")
		assert.Equal(t, "RateLimited", s.ErrorKind)
	})
}

func TestOffboarding_RescheduleMovesTheCut(t *testing.T) {
	for _, c := range []struct {
		name  string
		newAt time.Duration // from the start
	}{
		{"earlier", 3 * time.Hour},
		{"later", 72 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, &fakeVendors{})
			in := testInput()
			start := h.env.Now()
			in.EffectiveAt = start.Add(48 * time.Hour)
			newAt := start.Add(c.newAt)
			u := h.updateAt(time.Hour, UpdateReschedule, RescheduleRequest{EffectiveAt: newAt, TimeZone: "Europe/Berlin", By: "hr-system", Reason: "notice period changed"})
			st, err := h.run(in)
			require.NoError(t, err)
			h.requireAccepted(u)
			assert.Equal(t, CaseDone, st.State)
			assert.True(t, st.EffectiveAt.Equal(newAt), "effectiveAt %v", st.EffectiveAt)
			assert.Equal(t, "Europe/Berlin", st.TimeZone)
			s := step(t, st, "okta.suspend")
			assert.False(t, s.StartedAt.Before(newAt), "cut at %v, before the new time %v", s.StartedAt, newAt)
			assert.True(t, s.StartedAt.Before(newAt.Add(time.Minute)), "cut at %v, long after the new time %v", s.StartedAt, newAt)
			require.Len(t, st.Decisions, 1)
			d := st.Decisions[0]
			assert.Equal(t, UpdateReschedule, d.Action)
			assert.True(t, d.From.Equal(in.EffectiveAt) && d.To.Equal(newAt), "from %v to %v", d.From, d.To)
			assert.Equal(t, "hr-system", d.By)
		})
	}
}

func TestOffboarding_RescheduleOnlyWhileWaiting(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, n int) error {
		if step == "okta.suspend" && n == 1 {
			return &connectors.Error{Kind: connectors.PermissionDenied, System: "okta", Op: "suspend"}
		}
		return nil
	}}
	h := newHarness(t, f)
	bad := h.updateAt(time.Minute, UpdateReschedule, RescheduleRequest{EffectiveAt: h.env.Now().Add(time.Hour), By: "hr"})
	h.resolveAt(time.Hour, DecideStepRequest{Step: "okta.suspend", Action: ActionRetry, By: "ops"})
	st, err := h.run(testInput())
	require.NoError(t, err)
	require.ErrorContains(t, bad.rejected, "reschedule applies only while it waits")
	assert.Len(t, st.Decisions, 1, "the refused reschedule was recorded")

	h = newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(48 * time.Hour)
	missing := h.updateAt(time.Minute, UpdateReschedule, RescheduleRequest{By: "hr"})
	zone := h.updateAt(2*time.Minute, UpdateReschedule, RescheduleRequest{EffectiveAt: in.EffectiveAt, TimeZone: "Mars/Olympus", By: "hr"})
	h.updateAt(3*time.Minute, UpdateCutNow, ScheduleRequest{By: "hr"})
	_, err = h.run(in)
	require.NoError(t, err)
	require.ErrorContains(t, missing.rejected, "the new effective time is missing")
	require.ErrorContains(t, zone.rejected, `time zone "Mars/Olympus" is unknown`)
}
