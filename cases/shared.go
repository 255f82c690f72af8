package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/workflows"
)

// SharedRouter routes a system's writes to its shared resources through
// each resource's workflow (started on first use), and waits until the
// item is applied: the router a worker gives its connectors.
func (c *Client) SharedRouter(system string) connectors.SharedRouter {
	return func(ctx context.Context, resource, item string) error {
		caseID := "unknown"
		if activity.IsActivity(ctx) {
			caseID = activity.GetInfo(ctx).WorkflowExecution.ID // the case whose step this is
		}
		id := workflows.SharedID(system, resource)
		start := c.tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, workflows.SharedName, workflows.SharedInput{System: system, Resource: resource})
		h, err := c.tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{
				UpdateName: workflows.UpdateSharedAdd, Args: []any{workflows.SharedAdd{Item: item, CaseID: caseID}},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		if err == nil {
			var res workflows.SharedApplied
			err = h.Get(ctx, &res)
		}
		if err != nil {
			return sharedError(system, id, err)
		}
		return nil
	}
}

// sharedError is the connector error a case's step gets when its item was
// not applied: the batch's own failure kind and Retry-After (a rate limit,
// say) when the workflow sent them, else Unavailable.
func sharedError(system, id string, err error) error {
	ce := &connectors.Error{Kind: connectors.Unavailable, System: system, Op: "apply through " + id}
	ae, ok := errors.AsType[*temporal.ApplicationError](err)
	if !ok {
		ce.Msg = fmt.Sprint(rootCause(err))
		return ce
	}
	ce.Msg = ae.Message()
	var d activities.ErrorDetails
	if ae.HasDetails() && ae.Details(&d) == nil && slices.Contains(connectors.Kinds, d.Kind) {
		ce.Kind, ce.RetryAfter = d.Kind, d.RetryAfter
	}
	return ce
}
