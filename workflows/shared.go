package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// Names of the shared-resource writer.
const (
	// SharedName is the type name of the workflow that writes one shared
	// resource (connectors.Shared), one batch at a time.
	SharedName = "SharedResource"
	// SharedIDPrefix starts its workflow IDs: shared/<system>/<resource>.
	SharedIDPrefix = "shared/"
	// UpdateSharedAdd adds one item and answers once it is applied.
	UpdateSharedAdd = "add"
	// QueryShared returns the resource's SharedStatus.
	QueryShared = "shared"
)

// SharedID is the workflow ID of a system's shared resource (an AWS
// permission set ARN: no personal data).
func SharedID(system, resource string) string { return SharedIDPrefix + system + "/" + resource }

// SharedPruneAfter is how long an applied item is kept before the next
// batch may prune it (when the system says it may go): an AWS permission
// set's longest session is 12 hours, so a day's margin.
const SharedPruneAfter = 36 * time.Hour

// sharedHistoryLimit is the history length past which the writer
// continues as new, when idle.
const sharedHistoryLimit = 2000

// SharedInput starts the writer of one resource, and carries it across
// continue-as-new.
type SharedInput struct {
	System   string `json:"system"`
	Resource string `json:"resource"`
	// Applied are the items applied, with when, kept for pruning.
	Applied map[string]time.Time `json:"applied,omitempty"`
	Batches int                  `json:"batches,omitempty"`
}

// SharedAdd is one item to add.
type SharedAdd struct {
	Item   string `json:"item"`
	CaseID string `json:"caseId"`
}

// SharedApplied answers an add: the batch that applied it.
type SharedApplied struct {
	Batch     int       `json:"batch"`
	AppliedAt time.Time `json:"appliedAt"`
	// With is how many items that batch applied.
	With int `json:"with"`
}

// SharedStatus is the writer as its query returns it.
type SharedStatus struct {
	System   string `json:"system"`
	Resource string `json:"resource"`
	Applied  int    `json:"applied"`
	Pending  int    `json:"pending"`
	Batches  int    `json:"batches"`
	// LastError is the last batch's failure ("" when it succeeded).
	LastError string `json:"lastError,omitempty"`
}

// sharedOptions bound one batch: a write and a provisioning that AWS
// finishes in seconds, tried again on a conflict (another provisioning in
// progress) or an outage.
var sharedOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 8,
	},
}

// SharedResource writes one shared resource of one system: cases add items
// (an Identity Center user to a permission set's deny) by Update, and it
// applies every item waiting in one batch (one read, one write, one
// provisioning), one batch at a time, so no write is built from a copy
// another write has changed. Each Update answers once its item is applied
// and verified, or with the batch's error. Items applied more than
// SharedPruneAfter ago are offered for pruning with each batch. It runs as
// long as there are cases, continuing as new when idle and its history
// is long.
func SharedResource(ctx workflow.Context, in SharedInput) error {
	s := &shared{in: in, done: map[string]SharedApplied{}, failed: map[string]error{}}
	if s.in.Applied == nil {
		s.in.Applied = map[string]time.Time{}
	}
	if err := workflow.SetQueryHandler(ctx, QueryShared, func() (SharedStatus, error) {
		return SharedStatus{System: s.in.System, Resource: s.in.Resource, Applied: len(s.in.Applied), Pending: len(s.pending),
			Batches: s.in.Batches, LastError: s.lastErr}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSharedAdd, s.add,
		workflow.UpdateHandlerOptions{Validator: func(a SharedAdd) error {
			if blank(a.Item) || blank(a.CaseID) {
				return errors.New("an item and a case are required")
			}
			return nil
		}},
	); err != nil {
		return err
	}
	opts := sharedOptions
	if workflow.GetVersion(ctx, versionSharedPriority, workflow.DefaultVersion, 1) == 1 {
		// A batch is the cut of every case in it (the kill switch's
		// deny): it goes before the cases' cleanup.
		opts.Priority = temporal.Priority{PriorityKey: priorityCut}
	}
	ctx = workflow.WithActivityOptions(ctx, opts)
	for {
		if err := workflow.Await(ctx, func() bool {
			return len(s.pending) > 0 || (workflow.GetInfo(ctx).GetCurrentHistoryLength() > sharedHistoryLimit && workflow.AllHandlersFinished(ctx))
		}); err != nil {
			return err
		}
		if len(s.pending) == 0 {
			return workflow.NewContinueAsNewError(ctx, SharedName, s.in)
		}
		s.batch(ctx)
	}
}

type shared struct {
	in      SharedInput
	pending []string
	// done and failed answer the Updates of the batch just applied.
	done    map[string]SharedApplied
	failed  map[string]error
	lastErr string
}

// add queues an item and waits for the batch that applies it.
func (s *shared) add(ctx workflow.Context, a SharedAdd) (SharedApplied, error) {
	if at, ok := s.in.Applied[a.Item]; ok && !slices.Contains(s.pending, a.Item) {
		// Applied already (a case's step tried again after its activity
		// timed out waiting): the case's verification reads the policy.
		return SharedApplied{AppliedAt: at}, nil
	}
	if !slices.Contains(s.pending, a.Item) {
		s.pending = append(s.pending, a.Item)
	}
	delete(s.done, a.Item)
	delete(s.failed, a.Item)
	if err := workflow.Await(ctx, func() bool {
		_, ok := s.done[a.Item]
		_, bad := s.failed[a.Item]
		return ok || bad
	}); err != nil {
		return SharedApplied{}, err
	}
	if err, bad := s.failed[a.Item]; bad {
		return SharedApplied{}, err
	}
	return s.done[a.Item], nil
}

// batch applies every pending item at once.
func (s *shared) batch(ctx workflow.Context) {
	items := s.pending
	s.pending = nil
	prune := pruneCandidates(s.in.Applied, workflow.Now(ctx), items)
	s.in.Batches++
	in := activities.SharedInput{System: s.in.System, Resource: s.in.Resource, Add: items, Prune: prune}
	var res connectors.SharedResult
	err := workflow.ExecuteActivity(withSummary(ctx, fmt.Sprintf("%s: apply %d to %s", s.in.System, len(items), s.in.Resource)), a.ApplyShared, in).Get(ctx, &res)
	if err != nil {
		s.lastErr = failureMessage(err)
		failure := temporal.NewApplicationError("the shared write failed: "+s.lastErr, "SharedWriteFailed")
		if workflow.GetVersion(ctx, versionSharedFailureKind, workflow.DefaultVersion, 1) == 1 {
			// The cases' steps see the vendor's kind and Retry-After: a
			// throttled batch makes them wait and try again, not park.
			d := details(err)
			failure = temporal.NewApplicationErrorWithOptions("the shared write failed: "+s.lastErr, "SharedWriteFailed",
				temporal.ApplicationErrorOptions{Details: []any{activities.ErrorDetails{Kind: d.Kind, RetryAfter: d.RetryAfter}}})
		}
		for _, item := range items {
			s.failed[item] = failure
		}
		return
	}
	s.lastErr = ""
	at := workflow.Now(ctx).UTC()
	for _, item := range items {
		s.in.Applied[item] = at
		s.done[item] = SharedApplied{Batch: s.in.Batches, AppliedAt: at, With: len(items)}
	}
	for _, item := range res.Pruned {
		delete(s.in.Applied, item)
	}
}

// pruneCandidates are the items applied more than SharedPruneAfter before
// now, not among items, sorted (so the map's order does not matter).
//
//workflowcheck:ignore
func pruneCandidates(applied map[string]time.Time, now time.Time, items []string) []string {
	var out []string
	for _, item := range slices.Sorted(maps.Keys(applied)) {
		if now.Sub(applied[item]) > SharedPruneAfter && !slices.Contains(items, item) {
			out = append(out, item)
		}
	}
	return out
}

// versionSharedFailureKind gives a failed batch's Updates the activity
// failure's connector kind and Retry-After.
const versionSharedFailureKind = "shared-failure-kind"

// versionSharedPriority gives a batch's activity the cut's task priority.
const versionSharedPriority = "shared-priority"
