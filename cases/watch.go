package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/evidence/indicators"
	"github.com/offboard/offboard/workflows"
)

// ErrNoWatch: the employee has no watch.
var ErrNoWatch = errors.New("no watch")

// Watch reads an employee's watch.
func (c *Client) Watch(ctx context.Context, employeeID string) (workflows.WatchStatus, error) {
	var st workflows.WatchStatus
	if err := workflows.ValidateEmployeeID(employeeID); err != nil {
		return st, err
	}
	id := workflows.WatchID(employeeID)
	resp, err := c.tc.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{WorkflowID: id, QueryType: workflows.QueryWatch})
	if err != nil {
		return st, noWatch(employeeID, err)
	}
	if err := resp.QueryResult.Get(&st); err != nil {
		return st, fmt.Errorf("read %s: %w", id, err)
	}
	return st, nil
}

// WatchSummary is one watch in a listing.
type WatchSummary struct {
	WatchID string `json:"watchId"`
	State   string `json:"state"`
	Run
}

// Watches lists watches, newest first, one line a person (the latest run
// of their watch); state ("" for all) is one of workflows.WatchStates.
func (c *Client) Watches(ctx context.Context, state string) ([]WatchSummary, error) {
	if state != "" && !slices.Contains(workflows.WatchStates, state) {
		return nil, fmt.Errorf("state %q: want one of %v", state, workflows.WatchStates)
	}
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus != 'ContinuedAsNew'", workflows.WatchName)
	if state != "" {
		q += fmt.Sprintf(" AND %s = '%s'", workflows.SAWatchState.GetName(), state)
	}
	var out []WatchSummary
	err := c.list(ctx, q, "watches", func(e *workflowpb.WorkflowExecutionInfo) error {
		s := WatchSummary{WatchID: e.GetExecution().GetWorkflowId(), Run: runOf(e)}
		decodeSA(e.GetSearchAttributes().GetIndexedFields(), workflows.SAWatchState.GetName(), &s.State)
		if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			s.State = s.Status // failed, terminated, timed out: not what its attribute last said
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b WatchSummary) int { return b.StartedAt.Compare(a.StartedAt) })
	return out, nil
}

// CloseWatch ends an employee's watch; who and why are recorded.
func (c *Client) CloseWatch(ctx context.Context, employeeID string, req workflows.CloseWatchRequest) (workflows.DecisionResult, error) {
	var res workflows.DecisionResult
	return res, c.watchUpdate(ctx, employeeID, workflows.UpdateCloseWatch, req, &res)
}

// AddIndicators adds indicators to an employee's watch, returning all it
// now has.
func (c *Client) AddIndicators(ctx context.Context, employeeID string, req workflows.AddIndicatorRequest) (indicators.Indicators, error) {
	var res indicators.Indicators
	return res, c.watchUpdate(ctx, employeeID, workflows.UpdateAddIndicator, req, &res)
}

// Report reports a message on an employee's watch: it is sealed as
// evidence, its indicators extracted and matched against the snapshot. It
// waits for the watch's answer (a few seconds).
func (c *Client) Report(ctx context.Context, employeeID string, req workflows.ReportRequest) (workflows.WatchReport, error) {
	var res workflows.WatchReport
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return res, c.watchUpdate(ctx, employeeID, workflows.UpdateReport, req, &res)
}

func (c *Client) watchUpdate(ctx context.Context, employeeID, name string, req, res any) error {
	if err := workflows.ValidateEmployeeID(employeeID); err != nil {
		return err
	}
	err := c.send(ctx, workflows.WatchID(employeeID), name, NewRequestID(), req, client.WorkflowUpdateStageCompleted, res)
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return c.watchClosedOrNone(ctx, employeeID, err)
	}
	return err
}

// watchClosedOrNone explains an Update that found no open watch.
func (c *Client) watchClosedOrNone(ctx context.Context, employeeID string, err error) error {
	id := workflows.WatchID(employeeID)
	d, derr := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if derr != nil || d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return noWatch(employeeID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	state := statusName(info.GetStatus())
	decodeSA(info.GetSearchAttributes().GetIndexedFields(), workflows.SAWatchState.GetName(), &state)
	return ended{fmt.Sprintf("watch %s is %s: it has ended, so nothing can be done in it", id, state), state}
}

func noWatch(employeeID string, err error) error {
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return fmt.Errorf("%w for employee %s (no workflow %s; a watch opens when a case is done and a watch is configured)", ErrNoWatch, employeeID, workflows.WatchID(employeeID))
	}
	return fmt.Errorf("watch %s: %s", workflows.WatchID(employeeID), rootCause(err))
}

// OpenIndicators reads the indicators of every open watch, by watch ID
// (the worker checks new terminations against them).
func (c *Client) OpenIndicators(ctx context.Context) (map[string]indicators.Indicators, error) {
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.WatchName)
	out := map[string]indicators.Indicators{}
	err := c.list(ctx, q, "watches", func(e *workflowpb.WorkflowExecutionInfo) error {
		id := e.GetExecution().GetWorkflowId()
		v, err := c.tc.QueryWorkflow(ctx, id, "", workflows.QueryWatch)
		if err != nil {
			if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
				return nil // closed meanwhile
			}
			return fmt.Errorf("read %s: %s", id, rootCause(err))
		}
		var st workflows.WatchStatus
		if err := v.Get(&st); err != nil {
			return fmt.Errorf("read %s: %w", id, err)
		}
		if !st.Indicators.Empty() {
			out[id] = st.Indicators
		}
		return nil
	})
	return out, err
}

// IndicatorSeen tells a watch that one of its indicators is an account of
// another case's person.
func (c *Client) IndicatorSeen(ctx context.Context, watchID string, s activities.IndicatorSeen) error {
	var res workflows.DecisionResult
	// The case and the indicator name the Update: telling twice is once.
	id := "seen-" + s.CaseID + "-" + s.Kind + "-" + s.Indicator
	err := c.send(ctx, watchID, workflows.UpdateIndicatorSeen, id, s, client.WorkflowUpdateStageCompleted, &res)
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return nil // the watch closed meanwhile
	}
	return err
}
