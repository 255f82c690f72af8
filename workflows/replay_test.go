package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/workflows"
)

// TestReplay replays recorded histories against today's workflow code, so a
// change that would break running cases fails here first. Record a new one
// with `go test ./internal/e2e -run TestTerminateClosesEverySystem -update`
// (a case) or `-run TestIssue12_TheWatch -update` (a watch).
// Each history replays under the workflow ID its case really had
// (offboard/<employee ID>), since the workflow checks its own ID.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			hist, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			started := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
			id := ""
			switch typ := started.GetWorkflowType().GetName(); typ {
			case workflows.OffboardingName:
				var in workflows.Input
				if err := converter.GetDefaultDataConverter().FromPayloads(started.GetInput(), &in); err != nil {
					t.Fatalf("input of %s: %v", f, err)
				}
				id = workflows.WorkflowID(in.EmployeeID)
			case workflows.WatchName:
				var in workflows.WatchInput
				if err := converter.GetDefaultDataConverter().FromPayloads(started.GetInput(), &in); err != nil {
					t.Fatalf("input of %s: %v", f, err)
				}
				id = workflows.WatchID(in.EmployeeID)
			default:
				t.Fatalf("%s is a history of %s, which this test does not replay", f, typ)
			}
			rp := worker.NewWorkflowReplayer()
			rp.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: workflows.OffboardingName})
			rp.RegisterWorkflowWithOptions(workflows.Watch, workflow.RegisterOptions{Name: workflows.WatchName})
			err = rp.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id, RunID: started.GetOriginalExecutionRunId()},
			})
			if err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
