package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/signals"
)

// Evidence states.
const (
	EvidenceWaiting    = "waiting" // for the cut's steps and the window's end
	EvidenceCollecting = "collecting"
	EvidenceSealed     = "sealed"
	EvidenceFailed     = "failed"
)

// Evidence is what a case keeps of its snapshot: the bundle's name and
// digest, counts per system, the sources that are incomplete, and the
// assessment. The events themselves are in the bundle, not in history.
type Evidence struct {
	State      string                `json:"state"`
	Bundle     string                `json:"bundle,omitempty"`
	Digest     string                `json:"digest,omitempty"`
	Window     evidence.Window       `json:"window,omitzero"`
	Counts     map[string]int        `json:"counts,omitempty"`
	Incomplete []evidence.Incomplete `json:"incomplete,omitempty"`
	Assessment *signals.Assessment   `json:"assessment,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// snapshotOptions bound the Snapshot activity: it reads every system's
// audit log, so it may take minutes, and reports progress.
var snapshotOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 15 * time.Minute,
	HeartbeatTimeout:    2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3,
	},
}

// assessOptions bound the Assess activity behind an approval request:
// one try of a few minutes, since approvers see the request without it.
var assessOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 5 * time.Minute,
	HeartbeatTimeout:    2 * time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
}

// snapshot takes the evidence snapshot beside the cut, never in its way:
// once every step has settled (done, parked or skipped) and the window's
// end (the cut plus After) has come, the Snapshot activity reads each
// account's activity and seals the bundle with what the steps recorded. A
// snapshot that fails is recorded; the case goes on.
func (w *offboarding) snapshot(ctx workflow.Context, in Input) {
	pol := w.settings.Evidence
	w.c.Evidence = &Evidence{State: EvidenceWaiting}
	// A case that ends with steps never run (it failed, or was
	// cancelled) is snapshotted with what it found.
	if err := workflow.Await(ctx, func() bool { return w.settled() || w.ended }); err != nil {
		return
	}
	if d := w.c.CutStartedAt.Add(pol.After).Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return
		}
	}
	w.c.Evidence = &Evidence{State: EvidenceCollecting}
	var accs []connectors.Account
	for _, s := range w.c.Systems {
		if acc, ok := w.accounts[s.System]; ok {
			accs = append(accs, acc)
		}
	}
	req := activities.SnapshotInput{CaseID: w.c.CaseID, EmployeeID: w.c.EmployeeID, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID,
		Accounts: accs, Cut: w.c.CutStartedAt, TimeZone: in.TimeZone}
	for _, st := range w.c.Steps {
		if len(st.Records) > 0 {
			req.Recorded = append(req.Recorded, activities.Recorded{Step: st.ID, System: st.System, At: st.StartedAt, Records: slices.Clone(st.Records)})
		}
	}
	actx := withSummary(workflow.WithActivityOptions(ctx, snapshotOptions), "evidence: read every account's activity and seal the bundle")
	var res activities.SnapshotResult
	if err := workflow.ExecuteActivity(actx, a.Snapshot, req).Get(ctx, &res); err != nil {
		w.c.Evidence = &Evidence{State: EvidenceFailed, Error: failureMessage(err)}
		workflow.GetLogger(ctx).Error("evidence snapshot failed", "error", failureMessage(err))
		return
	}
	as := res.Assessment
	w.c.Evidence = &Evidence{State: EvidenceSealed, Bundle: res.Bundle, Digest: res.Digest, Window: res.Window,
		Counts: res.Counts, Incomplete: res.Incomplete, Assessment: &as}
}

// settled reports whether every step has settled (done, parked or
// skipped): every account is known, and what the steps recorded is there.
func (w *offboarding) settled() bool {
	return !slices.ContainsFunc(w.c.Steps, func(st *Step) bool {
		return st.State == StepPending || st.State == StepRunning
	})
}
