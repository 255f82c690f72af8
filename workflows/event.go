package workflows

import (
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/connectors"
)

// EventName is the type name of the workflow that turns one identity
// system event (an Okta event hook's user deactivation) into a case.
const EventName = "StartFromEvent"

// EventIDPrefix starts an event workflow's ID: "event/<system>/<event ID>",
// so that a redelivered event finds its first workflow and starts nothing.
const EventIDPrefix = "event/"

// EventWorkflowID is the workflow ID of one event.
func EventWorkflowID(system, eventID string) string {
	return EventIDPrefix + system + "/" + eventID
}

// EventInput is one event about an account in the identity system.
type EventInput struct {
	System    string `json:"system"`
	AccountID string `json:"accountId"`
	// Case is the case to start: mode, requested by, reason. Its employee
	// ID is the account's, as the identity system holds it.
	Case Input `json:"case"`
}

// EventResult says what an event did.
type EventResult struct {
	CaseID string `json:"caseId,omitempty"`
	// Started is false when the person's case already existed (open, or
	// completed) or the account holds no employee ID.
	Started bool   `json:"started"`
	Note    string `json:"note,omitempty"`
}

// StartFromEvent finds, on a worker, the person who holds the event's
// account and starts their case as a child that outlives this workflow;
// a case that exists already (open, or completed) is left as it is. The
// front door that received the event only starts this workflow, so it
// answers at once, and nothing is lost if it goes away.
func StartFromEvent(ctx workflow.Context, in EventInput) (EventResult, error) {
	ctx = Policy{}.withDefaults().activityOptions(ctx)
	res, err := resolve(ctx, in.System, connectors.Subject{Overrides: map[string]string{in.System: in.AccountID}})
	if err != nil {
		return EventResult{}, err
	}
	if !res.Found {
		return EventResult{Note: fmt.Sprintf("%s has no account %s", in.System, in.AccountID)}, nil
	}
	emp := res.Account.EmployeeID
	if err := ValidateEmployeeID(emp); err != nil {
		return EventResult{Note: fmt.Sprintf("the %s account %s holds no usable employee ID", in.System, in.AccountID)}, nil
	}
	c := in.Case
	c.EmployeeID = emp
	c.Overrides = map[string]string{in.System: in.AccountID}
	if err := c.Validate(); err != nil {
		return EventResult{}, temporal.NewNonRetryableApplicationError("invalid input: "+err.Error(), "InvalidInput", nil)
	}
	id := WorkflowID(emp)
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes: temporal.NewSearchAttributes(SAState.ValueSet(string(CaseRunning))),
	})
	var exec workflow.Execution
	err = workflow.ExecuteChildWorkflow(child, OffboardingName, c).GetChildWorkflowExecution().Get(ctx, &exec)
	if err != nil {
		if isAlreadyStarted(err) {
			return EventResult{CaseID: id, Note: "the case exists already"}, nil
		}
		return EventResult{}, err
	}
	return EventResult{CaseID: id, Started: true}, nil
}

func isAlreadyStarted(err error) bool {
	var as *temporal.ChildWorkflowExecutionAlreadyStartedError
	return errors.As(err, &as)
}
