package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/evidence/signals"
)

// fakeSnapshot records the Snapshot activity's input and answers with
// result or err.
type fakeSnapshot struct {
	mu     sync.Mutex
	inputs []activities.SnapshotInput
	at     []time.Time
	err    error
}

func evidenceHarness(t *testing.T, f *fakeVendors, after time.Duration, snap *fakeSnapshot) *harness {
	h, _ := newChatHarness(t, f, activities.Settings{Evidence: &activities.EvidencePolicy{Days: 30, After: after}})
	h.env.OnActivity(a.Snapshot, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.SnapshotInput) (activities.SnapshotResult, error) {
			snap.mu.Lock()
			defer snap.mu.Unlock()
			snap.inputs = append(snap.inputs, in)
			snap.at = append(snap.at, h.env.Now())
			if snap.err != nil {
				return activities.SnapshotResult{}, snap.err
			}
			return activities.SnapshotResult{Bundle: "E1234-run", Digest: "d1", Counts: map[string]int{"okta": 3},
				Assessment: signals.Assessment{Level: signals.Low}}, nil
		})
	return h
}

// The snapshot is taken beside the cut, once every step has settled and
// the window's end has come, with every account found; the case keeps
// the digest and counts.
func TestEvidence_SnapshotAfterTheCut(t *testing.T) {
	f := &fakeVendors{}
	snap := &fakeSnapshot{}
	h := evidenceHarness(t, f, 5*time.Minute, snap)
	st, err := h.run(testInput())
	require.NoError(t, err)
	assert.Equal(t, CaseDone, st.State)
	require.NotNil(t, st.Evidence)
	assert.Equal(t, EvidenceSealed, st.Evidence.State)
	assert.Equal(t, "d1", st.Evidence.Digest)
	assert.Equal(t, 3, st.Evidence.Counts["okta"])
	require.Len(t, snap.inputs, 1)
	in := snap.inputs[0]
	assert.True(t, in.Cut.Equal(st.CutStartedAt), "the window is the cut's")
	assert.False(t, snap.at[0].Before(st.CutStartedAt.Add(5*time.Minute)), "taken at the window's end")
	var systems []string
	for _, acc := range in.Accounts {
		systems = append(systems, acc.System)
	}
	assert.Equal(t, []string{"okta", "github"}, systems)
}

// A snapshot that fails is recorded; the case is done all the same.
func TestEvidence_FailedSnapshotDoesNotFailTheCase(t *testing.T) {
	snap := &fakeSnapshot{err: errors.New("store unreachable")}
	h := evidenceHarness(t, &fakeVendors{}, 0, snap)
	st, err := h.run(testInput())
	require.NoError(t, err)
	assert.Equal(t, CaseDone, st.State)
	require.NotNil(t, st.Evidence)
	assert.Equal(t, EvidenceFailed, st.Evidence.State)
	assert.True(t, strings.Contains(st.Evidence.Error, "store unreachable"), st.Evidence.Error)
}

// A case that fails before its steps run (the identity system holds the
// employee ID in another form) still ends: the snapshot does not wait for
// steps that never run.
func TestEvidence_FailedCaseStillEnds(t *testing.T) {
	f := &fakeVendors{oktaEmployeeID: strings.ToLower(testEmployee)}
	snap := &fakeSnapshot{}
	h := evidenceHarness(t, f, time.Minute, snap)
	h.env.ExecuteWorkflow(Offboarding, testInput())
	require.True(t, h.env.IsWorkflowCompleted(), "the case never ended")
	require.Error(t, h.env.GetWorkflowError())
	require.Len(t, snap.inputs, 1, "the failed case is snapshotted with what it found")
	assert.Len(t, snap.inputs[0].Accounts, 1)
}
