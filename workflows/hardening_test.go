package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 8, item 1: a case ends done only after a full verification pass
// that started after its last step change and operator decision, and a
// skipped step shows as skipped, not "skipped (verified)".
func TestIssue8_DoneOnlyAfterAFullPassAfterTheLastChange(t *testing.T) {
	f := &fakeVendors{
		// okta.suspend holds when run, is undone before the final pass
		// (verify calls 2 and 3, both attempts), and cannot be redone.
		verifyErr: func(step string, n int) error {
			if step == oktaSuspend && n >= 2 {
				return errNotVerified("okta", "verify suspend")
			}
			return nil
		},
		runErr: func(step string, n int) error {
			if step == oktaSuspend && n >= 2 {
				return errDenied("okta", "suspend")
			}
			return nil
		},
	}
	h := newHarness(t, f)
	in := testInput()
	in.Policy.StepAttempts = 2
	skip := h.resolveAt(time.Hour, DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "alice", Reason: "suspended by hand"})
	st, err := h.run(in)
	require.NoError(t, err)
	h.requireAccepted(skip)

	assert.Equal(t, CaseDone, st.State)
	s := step(t, st, oktaSuspend)
	assert.Equal(t, StepSkipped, s.State)
	assert.Empty(t, s.Result, "a skipped step carries no result")
	// After the last attempt to redo the step (then skipped), every done
	// step was verified again.
	lastRerun := -1
	for i, e := range f.runLog {
		if e == "run:"+oktaSuspend {
			lastRerun = i
		}
	}
	require.Greater(t, lastRerun, slices.Index(f.runLog, "run:"+oktaSuspend), "okta.suspend was not re-run")
	after := f.runLog[lastRerun+1:]
	for _, id := range []string{oktaClearSessions, oktaRemoveFactors, githubRemoveOrg, githubRevokeToken} {
		assert.Contains(t, after, "verify:"+id, "%s was not verified after the last change", id)
	}
}

// Issue 8, item 2: before a step runs again, the steps before it in its
// system are verified, and those that no longer hold run again first.
func TestIssue8_EarlierStepsReverifiedBeforeARetry(t *testing.T) {
	f := &fakeVendors{
		// okta.clear-sessions parks on its first run; meanwhile someone
		// undoes okta.suspend (its re-check before the retry fails).
		runErr: func(step string, n int) error {
			if step == oktaClearSessions && n == 1 {
				return errDenied("okta", "clear sessions")
			}
			return nil
		},
	}
	f.verifyErr = func(step string, n int) error {
		if step == oktaSuspend && n >= 2 && f.runs(oktaSuspend) == 1 {
			return errNotVerified("okta", "verify suspend")
		}
		return nil
	}
	h := newHarness(t, f)
	retry := h.resolveAt(time.Hour, DecideStepRequest{Step: oktaClearSessions, Action: ActionRetry, By: "alice"})
	st, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(retry)

	assert.Equal(t, CaseDone, st.State)
	assert.Equal(t, 2, f.runs(oktaSuspend), "the undone suspension is redone")
	assert.Equal(t, []string{oktaSuspend, oktaClearSessions, oktaSuspend, oktaClearSessions, oktaRemoveFactors}, f.runOrder["okta"],
		"suspend is redone before clear-sessions runs again")
}

// Issue 8, item 4: ATTEMPTS counts the attempts of whichever activity
// failed, a plan's too.
func TestIssue8_AttemptsCountTheFailingActivity(t *testing.T) {
	f := &fakeVendors{planErr: map[string]error{"github": errUnavailable("github", "list org members")}}
	h := newHarness(t, f)
	parked := h.queryAt(time.Hour)
	skip := h.resolveAt(2*time.Hour, DecideStepRequest{Step: "github.plan", Action: ActionSkip, By: "alice", Reason: "github down"})
	_, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(skip)
	st := h.requireSnapshot(parked)
	s := step(t, st, "github.plan")
	assert.Equal(t, StepParked, s.State)
	assert.Equal(t, 3, s.Attempts, "the plan activity's three attempts")
}

// Issue 8, item 7: a reason or by made only of spaces is refused.
func TestIssue8_BlankByOrReasonRefused(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, n int) error {
		if step == oktaSuspend && n == 1 {
			return errDenied("okta", "suspend")
		}
		return nil
	}}
	h := newHarness(t, f)
	blankBy := h.resolveAt(time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionRetry, By: "   "})
	blankReason := h.resolveAt(2*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionSkip, By: "alice", Reason: " \t "})
	ok := h.resolveAt(3*time.Minute, DecideStepRequest{Step: oktaSuspend, Action: ActionRetry, By: "alice"})
	_, err := h.run(testInput())
	require.NoError(t, err)
	require.ErrorContains(t, blankBy.rejected, "who decided (by) is required")
	require.ErrorContains(t, blankReason.rejected, "a skip needs a reason")
	h.requireAccepted(ok)

	h2 := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h2.env.Now().Add(48 * time.Hour)
	rescind := h2.updateAt(time.Minute, UpdateRescind, ScheduleRequest{By: "hr", Reason: "  "})
	cut := h2.updateAt(2*time.Minute, UpdateCutNow, ScheduleRequest{By: " "})
	h2.updateAt(3*time.Minute, UpdateCutNow, ScheduleRequest{By: "hr"})
	_, err = h2.run(in)
	require.NoError(t, err)
	require.ErrorContains(t, rescind.rejected, "a rescind needs a reason")
	require.ErrorContains(t, cut.rejected, "who decided (by) is required")
}

// Issue 8, item 6: the loser of a cut-now/rescind race is told what won.
func TestIssue8_CutNowRescindLosersGetTheRealReason(t *testing.T) {
	h := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(48 * time.Hour)
	h.updateAt(time.Hour, UpdateCutNow, ScheduleRequest{By: "sec-lead"})
	rescind := h.updateAt(time.Hour, UpdateRescind, ScheduleRequest{By: "hr", Reason: "offer accepted back"})
	_, err := h.run(in)
	require.NoError(t, err)
	require.ErrorContains(t, rescind.rejected, "a cut-now was already recorded")
}

// Issue 8, item 9: an effective time that has passed starts the cut now and
// is kept in the case.
func TestIssue8_PastEffectiveTimeIsRecorded(t *testing.T) {
	h := newHarness(t, &fakeVendors{})
	in := testInput()
	in.EffectiveAt = h.env.Now().Add(-72 * time.Hour)
	st, err := h.run(in)
	require.NoError(t, err)
	assert.Equal(t, CaseDone, st.State)
	assert.True(t, st.EffectiveAt.Equal(in.EffectiveAt), "effectiveAt %v, want %v", st.EffectiveAt, in.EffectiveAt)
	assert.True(t, st.StartedAt.After(in.EffectiveAt))
}
