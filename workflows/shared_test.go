package workflows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// fakeShared is the resource: what each batch was given.
type fakeShared struct {
	mu      sync.Mutex
	batches []activities.SharedInput
	fail    func(n int) error
}

func (f *fakeShared) apply(_ context.Context, in activities.SharedInput) (connectors.SharedResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, in)
	if f.fail != nil {
		if err := f.fail(len(f.batches)); err != nil {
			return connectors.SharedResult{}, err
		}
	}
	time.Sleep(10 * time.Millisecond)
	return connectors.SharedResult{Pruned: in.Prune}, nil
}

func sharedEnv(t *testing.T, f *fakeShared) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: SharedID("aws", "arn:ps"), TaskQueue: TaskQueue})
	env.RegisterWorkflowWithOptions(SharedResource, workflow.RegisterOptions{Name: SharedName})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.ApplyShared, mock.Anything, mock.Anything).Return(f.apply)
	return env
}

type sharedCall struct {
	res SharedApplied
	err error
	ok  bool
}

func addAt(env *testsuite.TestWorkflowEnvironment, d time.Duration, item string, got *sharedCall) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateSharedAdd, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { got.err = err },
			OnComplete: func(v any, err error) {
				got.ok, got.err = true, err
				if r, ok := v.(SharedApplied); ok {
					got.res = r
				}
			},
		}, SharedAdd{Item: item, CaseID: "offboard/" + item})
	}, d)
}

// Items added together are applied in one batch, one batch at a time;
// each add answers with its batch; an item already applied answers at
// once; a failed batch answers its adds with the error, and the next batch
// applies them again; old items are offered for pruning.
func TestSharedResourceBatches(t *testing.T) {
	u4 := 0
	f := &fakeShared{}
	f.fail = func(int) error {
		// u4's first batch is throttled every try; a later one goes
		// through.
		if slices.Contains(f.batches[len(f.batches)-1].Add, "u4") {
			if u4++; u4 <= int(sharedOptions.RetryPolicy.MaximumAttempts) {
				return activities.ToTemporal(context.Background(), &connectors.Error{Kind: connectors.RateLimited, System: "aws", Op: "provision permission set",
					Status: 429, RetryAfter: 3 * time.Second, Msg: "ThrottlingException: Rate exceeded"})
			}
		}
		return nil
	}
	env := sharedEnv(t, f)
	calls := map[string]*sharedCall{}
	call := func(d time.Duration, item string) {
		c := &sharedCall{}
		calls[item+"@"+d.String()] = c
		addAt(env, d, item, c)
	}
	// Three at once: the first starts a batch alone, the two others wait
	// for it and go together.
	call(time.Second, "u1")
	call(time.Second, "u2")
	call(time.Second, "u3")
	call(time.Minute, "u1") // applied already
	call(2*time.Minute, "u4")
	call(10*time.Minute, "u4") // the failed one, tried again
	call(48*time.Hour, "u5")   // u1..u4 are old by then
	env.RegisterDelayedCallback(env.CancelWorkflow, 49*time.Hour)
	env.ExecuteWorkflow(SharedName, SharedInput{System: "aws", Resource: "arn:ps"})
	require.True(t, env.IsWorkflowCompleted())

	f.mu.Lock()
	defer f.mu.Unlock()
	var adds [][]string
	for _, b := range f.batches {
		adds = append(adds, b.Add)
	}
	require.GreaterOrEqual(t, len(adds), 4, "batches %v", adds)
	assert.Equal(t, 3, len(slices.Concat(adds[0], adds[1])), "u1..u3 in the first two batches: %v", adds)
	assert.LessOrEqual(t, len(adds[0]), 2, "the batches are not one per item but not all at once: %v", adds)
	for _, k := range []string{"u1@1s", "u2@1s", "u3@1s", "u1@1m0s", "u4@10m0s", "u5@48h0m0s"} {
		c := calls[k]
		require.True(t, c.ok, k)
		assert.NoError(t, c.err, k)
	}
	assert.Zero(t, calls["u1@1m0s"].res.Batch, "an applied item answers at once, without a batch")
	require.Error(t, calls["u4@2m0s"].err, "the failed batch's add answers with the error")
	assert.Contains(t, calls["u4@2m0s"].err.Error(), "Rate exceeded")
	// The case's step learns it was a rate limit, and how long to wait.
	d := details(calls["u4@2m0s"].err)
	assert.Equal(t, connectors.RateLimited, d.Kind)
	assert.Equal(t, 3*time.Second, d.RetryAfter)
	last := f.batches[len(f.batches)-1]
	assert.Equal(t, []string{"u5"}, last.Add)
	assert.Equal(t, []string{"u1", "u2", "u3", "u4"}, last.Prune, "items applied long ago are offered for pruning")
}
