// Package cases is the one API over Temporal that every front door calls —
// the CLI, the HTTP intake, Slack: start a case, dry-run it, read it, list
// cases, and record operators' decisions. It never prints and never calls a
// vendor: what needs vendor credentials (finding the person, planning) runs
// on a worker, in the DryRun workflow.
package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/workflows"
)

// Client reaches cases through a Temporal client.
type Client struct {
	tc client.Client
}

// New returns a Client over tc, which the caller keeps and closes.
func New(tc client.Client) *Client { return &Client{tc: tc} }

// Errors a front door sorts answers by (errors.Is); each is wrapped with
// what happened, without PII.
var (
	// ErrNoCase: the employee has no case.
	ErrNoCase = errors.New("no case")
	// ErrUnknownEmployee: no configured system knows the person.
	ErrUnknownEmployee = errors.New("unknown employee")
	// ErrEnded: the case has ended, so nothing can be decided in it.
	ErrEnded = errors.New("the case has ended")
	// ErrRefused: the case refused the request as it stands (a retry of a
	// step that is not parked, a rescind of a case already cut, ...).
	ErrRefused = errors.New("refused")
)

// StartResult says what Start did.
type StartResult struct {
	CaseID string `json:"caseId"`
	RunID  string `json:"runId"`
	// EmployeeID is the ID the case is named by: the identity system's form.
	EmployeeID string `json:"employeeId"`
	// Started is false when the case already existed.
	Started bool `json:"started"`
	// State of an existing case: "open", or "closed: <status>".
	State string `json:"state,omitempty"`
}

// Start starts the offboarding case, or returns the one that exists. A
// worker first looks the person up (the DryRun workflow, resolving only):
// an employee no system knows is refused before anything is written, and
// the case is named by the employee ID as the identity system holds it, so
// "e1001" finds E1001's case. An open case is returned (USE_EXISTING); a
// completed one is never repeated by accident; a failed one may be started
// again.
func (c *Client) Start(ctx context.Context, in workflows.Input) (StartResult, error) {
	if err := in.Validate(); err != nil {
		return StartResult{}, err
	}
	p, err := c.dryRun(ctx, workflows.PlanInput{Subject: subject(in), ExistsOnly: true})
	if err != nil {
		return StartResult{}, err
	}
	if err := workflows.ValidateEmployeeID(p.EmployeeID); err != nil {
		return StartResult{}, fmt.Errorf("the identity system holds employee %s in a form that cannot name a case: %w", in.EmployeeID, err)
	}
	in.EmployeeID = p.EmployeeID
	return c.start(ctx, in)
}

// StartForAccount starts the case of the person who holds an account in
// the identity system (an Okta user ID from an event hook), or returns the
// case that exists, as Start does. A worker reads the account's employee
// ID; in.EmployeeID is ignored.
func (c *Client) StartForAccount(ctx context.Context, system, accountID string, in workflows.Input) (StartResult, error) {
	s := connectors.Subject{Overrides: map[string]string{system: accountID}}
	p, err := c.dryRun(ctx, workflows.PlanInput{Subject: s, ExistsOnly: true})
	if err != nil {
		return StartResult{}, err
	}
	if err := workflows.ValidateEmployeeID(p.EmployeeID); err != nil {
		return StartResult{}, fmt.Errorf("%w: the %s account %s holds no usable employee ID: %w", ErrUnknownEmployee, system, accountID, err)
	}
	in.EmployeeID = p.EmployeeID
	in.Overrides = map[string]string{system: accountID}
	if err := in.Validate(); err != nil {
		return StartResult{}, err
	}
	return c.start(ctx, in)
}

// EventResult says what StartFromEvent did.
type EventResult struct {
	// WorkflowID is the event's own workflow, which finds the person and
	// starts their case.
	WorkflowID string `json:"workflowId"`
	// Duplicate is true when the event had been received before: nothing
	// new was started.
	Duplicate bool `json:"duplicate"`
}

// StartFromEvent hands one identity system event about an account (an Okta
// user deactivated by HR) to a worker, which finds the person and starts
// their case (workflows.StartFromEvent). It returns once that is durably
// under way, without waiting for it: an event hook must answer in seconds.
// eventID names the event (Okta's uuid): a redelivery starts nothing.
func (c *Client) StartFromEvent(ctx context.Context, eventID string, in workflows.EventInput) (EventResult, error) {
	id := workflows.EventWorkflowID(in.System, eventID)
	res := EventResult{WorkflowID: id}
	_, err := c.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back a closed run as if it had started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.EventName, in)
	if _, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
		res.Duplicate = true
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("start %s: %s", id, rootCause(err))
	}
	return res, nil
}

// start starts a case for an employee ID already found canonical.
func (c *Client) start(ctx context.Context, in workflows.Input) (StartResult, error) {
	id := workflows.WorkflowID(in.EmployeeID)
	res := StartResult{CaseID: id, EmployeeID: in.EmployeeID}
	if d, err := c.tc.DescribeWorkflowExecution(ctx, id, ""); err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		res.RunID = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		res.State = "open"
		return res, nil
	}
	sa := []temporal.SearchAttributeUpdate{workflows.SAState.ValueSet(string(workflows.CaseRunning))}
	if !in.EffectiveAt.IsZero() {
		sa = append(sa, workflows.SAEffectiveAt.ValueSet(in.EffectiveAt))
	}
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// Without this the SDK hands back a closed run as if it had started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(sa...),
	}
	run, err := c.tc.ExecuteWorkflow(ctx, opts, workflows.OffboardingName, in)
	if _, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
		d, derr := c.tc.DescribeWorkflowExecution(ctx, id, "")
		if derr != nil {
			return res, fmt.Errorf("case %s exists but cannot be read: %w", id, derr)
		}
		res.RunID = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		res.State = "closed: " + statusName(d.GetWorkflowExecutionInfo().GetStatus())
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("start case %s: %w", id, err)
	}
	res.RunID, res.Started = run.GetRunID(), true
	return res, nil
}

func subject(in workflows.Input) connectors.Subject {
	return connectors.Subject{EmployeeID: in.EmployeeID, Email: in.Email, Overrides: in.Overrides}
}

// Plan is the dry run behind `offboard plan`: on a worker, the accounts
// found and the steps that would run. It writes nothing to any vendor. An
// employee no system knows is an error.
func (c *Client) Plan(ctx context.Context, s connectors.Subject) (workflows.Plan, error) {
	if err := workflows.ValidateEmployeeID(s.EmployeeID); err != nil {
		return workflows.Plan{}, err
	}
	return c.dryRun(ctx, workflows.PlanInput{Subject: s})
}

// dryRun runs the DryRun workflow and waits for it, at most
// workflows.PlanTimeout.
func (c *Client) dryRun(ctx context.Context, in workflows.PlanInput) (workflows.Plan, error) {
	var p workflows.Plan
	ctx, cancel := context.WithTimeout(ctx, workflows.PlanTimeout)
	defer cancel()
	who := in.Subject.EmployeeID
	if who == "" {
		who = "account"
	}
	run, err := c.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.PlanWorkflowID(who, NewRequestID()),
		TaskQueue:                workflows.TaskQueue,
		WorkflowExecutionTimeout: workflows.PlanTimeout,
	}, workflows.PlanName, in)
	if err != nil {
		return p, fmt.Errorf("start the dry run for employee %s: %w", in.Subject.EmployeeID, err)
	}
	if err := run.Get(ctx, &p); err != nil {
		if ctx.Err() != nil {
			return p, fmt.Errorf("no worker finished the dry run for employee %s within %s: is an offboard worker polling task queue %s?",
				in.Subject.EmployeeID, workflows.PlanTimeout, workflows.TaskQueue)
		}
		return p, errors.New(message(err))
	}
	if !p.Found() {
		var names []string
		for _, s := range p.Systems {
			names = append(names, s.System)
		}
		return p, fmt.Errorf("%w %s: no account in %s", ErrUnknownEmployee, in.Subject.EmployeeID, strings.Join(names, ", "))
	}
	return p, nil
}

// Run is one run of a case's workflow.
type Run struct {
	RunID     string    `json:"runId"`
	Status    string    `json:"workflowStatus"`
	StartedAt time.Time `json:"startedAt"`
	ClosedAt  time.Time `json:"closedAt,omitzero"`
}

// Status is a case as `offboard status` shows it: the latest run's case,
// the run it is, and, when the person has had more than one run, the
// earlier ones.
type Status struct {
	workflows.Case
	RunID string `json:"runId"`
	// EarlierRuns lists the person's earlier runs, newest first.
	EarlierRuns []Run `json:"earlierRuns,omitempty"`
}

// Status reads the latest run of an employee's case.
func (c *Client) Status(ctx context.Context, employeeID string) (Status, error) {
	var st Status
	if err := workflows.ValidateEmployeeID(employeeID); err != nil {
		return st, err
	}
	id := workflows.WorkflowID(employeeID)
	resp, err := c.tc.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{WorkflowID: id, QueryType: workflows.QueryStatus})
	if err != nil {
		return st, noCase(employeeID, err)
	}
	if err := resp.QueryResult.Get(&st.Case); err != nil {
		return st, fmt.Errorf("read status of %s: %w", id, err)
	}
	runs, err := c.runs(ctx, fmt.Sprintf("WorkflowId = '%s'", id))
	if err != nil {
		return st, err
	}
	if len(runs) > 0 {
		st.RunID = runs[0].RunID
		for _, r := range runs[1:] {
			st.EarlierRuns = append(st.EarlierRuns, r.Run)
		}
	}
	return st, nil
}

// Summary is one case in a listing.
type Summary struct {
	CaseID      string   `json:"caseId"`
	State       string   `json:"state"`
	ParkedSteps []string `json:"parkedSteps,omitempty"`
	// EffectiveAt is when a scheduled case cuts (its EffectiveAt search
	// attribute).
	EffectiveAt time.Time `json:"effectiveAt,omitzero"`
	Run
}

// List lists cases, newest first; state ("" for all) is one of
// workflows.CaseStates.
func (c *Client) List(ctx context.Context, state string) ([]Summary, error) {
	if state != "" && !slices.Contains(workflows.CaseStates, workflows.CaseState(state)) {
		return nil, fmt.Errorf("state %q: want one of %v", state, workflows.CaseStates)
	}
	q := ""
	if state != "" {
		q = fmt.Sprintf("%s = '%s'", workflows.SAState.GetName(), state)
	}
	return c.runs(ctx, q)
}

// runs lists Offboarding runs matching query ("" for all), newest first.
func (c *Client) runs(ctx context.Context, query string) ([]Summary, error) {
	q := fmt.Sprintf("WorkflowType = '%s'", workflows.OffboardingName)
	if query != "" {
		q += " AND " + query
	}
	var out []Summary
	err := c.list(ctx, q, "cases", func(e *workflowpb.WorkflowExecutionInfo) error {
		s := Summary{CaseID: e.GetExecution().GetWorkflowId(), Run: runOf(e)}
		fields := e.GetSearchAttributes().GetIndexedFields()
		decodeSA(fields, workflows.SAState.GetName(), &s.State)
		decodeSA(fields, workflows.SAParkedSteps.GetName(), &s.ParkedSteps)
		decodeSA(fields, workflows.SAEffectiveAt.GetName(), &s.EffectiveAt)
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Summary) int { return b.StartedAt.Compare(a.StartedAt) })
	return out, nil
}

// listPage is how many executions one list call asks for. The server's
// default (1,000) makes one SQLite visibility query outlast the call's
// deadline once a thousand cases are open; pages of 100 list them in under
// a second (BenchmarkOpenCases).
const listPage = 100

// list calls each for every workflow execution matching query, page by
// page; what names what is listed in errors.
func (c *Client) list(ctx context.Context, query, what string, each func(*workflowpb.WorkflowExecutionInfo) error) error {
	var token []byte
	for {
		resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token, PageSize: listPage})
		if err != nil {
			return fmt.Errorf("list %s: %s", what, rootCause(err))
		}
		for _, e := range resp.GetExecutions() {
			if err := each(e); err != nil {
				return err
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

// runOf is an execution as a run.
func runOf(e *workflowpb.WorkflowExecutionInfo) Run {
	r := Run{RunID: e.GetExecution().GetRunId(), Status: statusName(e.GetStatus()), StartedAt: e.GetStartTime().AsTime().UTC()}
	if e.GetCloseTime() != nil {
		r.ClosedAt = e.GetCloseTime().AsTime().UTC()
	}
	return r
}

// decodeSA reads one search attribute; they are always in the default
// encoding, whatever the data converter.
func decodeSA(fields map[string]*commonpb.Payload, name string, v any) {
	if p, ok := fields[name]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, v)
	}
}

// Decide retries or skips a parked step, through the decide-step Update.
// The request ID is the Update ID, so repeating a request is harmless. A
// decision the case refuses changes nothing.
func (c *Client) Decide(ctx context.Context, employeeID string, req workflows.DecideStepRequest) (workflows.DecisionResult, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	res, err := c.update(ctx, employeeID, workflows.UpdateDecideStep, req.RequestID, req, client.WorkflowUpdateStageCompleted)
	if err != nil && !errors.Is(err, ErrNoCase) {
		return res, fmt.Errorf("cannot %s %s: %w", req.Action, req.Step, err)
	}
	return res, err
}

// CutNow starts a scheduled case's cut at once.
func (c *Client) CutNow(ctx context.Context, employeeID string, req workflows.ScheduleRequest) (workflows.DecisionResult, error) {
	return c.schedule(ctx, employeeID, workflows.UpdateCutNow, req)
}

// Rescind ends a scheduled case before anything is cut.
func (c *Client) Rescind(ctx context.Context, employeeID string, req workflows.ScheduleRequest) (workflows.DecisionResult, error) {
	return c.schedule(ctx, employeeID, workflows.UpdateRescind, req)
}

// Reschedule moves a scheduled case's effective time; the old and new
// times and who moved it are recorded.
func (c *Client) Reschedule(ctx context.Context, employeeID string, req workflows.RescheduleRequest) (workflows.DecisionResult, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	return c.update(ctx, employeeID, workflows.UpdateReschedule, req.RequestID, req, client.WorkflowUpdateStageCompleted)
}

// DecideApproval records one approver's approve or reject of a case
// awaiting approval (the Slack front door, which has checked who may
// approve). It waits only until the case accepts the decision, so a click
// is answered within Slack's three seconds; the case's validator refuses
// a stale button, the person, the requester and a second approval by the
// same approver, and a refused decision changes nothing.
func (c *Client) DecideApproval(ctx context.Context, employeeID string, req workflows.DecideApprovalRequest) (workflows.DecisionResult, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	return c.update(ctx, employeeID, workflows.UpdateDecideApproval, req.RequestID, req, client.WorkflowUpdateStageAccepted)
}

// EmployeeOf is the employee ID a case ID names ("offboard/E1001" → E1001).
func EmployeeOf(caseID string) (string, error) {
	id, ok := strings.CutPrefix(caseID, workflows.WorkflowIDPrefix)
	if !ok {
		return "", fmt.Errorf("%q is not a case ID (like %sE1001)", caseID, workflows.WorkflowIDPrefix)
	}
	return id, workflows.ValidateEmployeeID(id)
}

func (c *Client) schedule(ctx context.Context, employeeID, name string, req workflows.ScheduleRequest) (workflows.DecisionResult, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	return c.update(ctx, employeeID, name, req.RequestID, req, client.WorkflowUpdateStageCompleted)
}

// update sends a case's workflow an Update and waits for it to reach
// stage.
func (c *Client) update(ctx context.Context, employeeID, name, requestID string, arg any, stage client.WorkflowUpdateStage) (workflows.DecisionResult, error) {
	var res workflows.DecisionResult
	if err := workflows.ValidateEmployeeID(employeeID); err != nil {
		return res, err
	}
	err := c.send(ctx, workflows.WorkflowID(employeeID), name, requestID, arg, stage, &res)
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return res, c.closedOrNone(ctx, employeeID, err)
	}
	return res, err
}

// send sends workflow id an Update and waits for it to reach stage,
// reading its result into res. A refusal by the workflow's validator is
// ErrRefused, in the workflow's own words; a missing workflow is
// returned as Temporal's *serviceerror.NotFound.
func (c *Client) send(ctx context.Context, id, name, requestID string, arg any, stage client.WorkflowUpdateStage, res any) error {
	h, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     requestID,
		WorkflowID:   id,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: stage,
	})
	switch {
	case err != nil:
	case stage == client.WorkflowUpdateStageCompleted:
		err = h.Get(ctx, res)
	default:
		// Accepted: a refusal comes back with the answer; an accepted
		// Update's result is read if it is there within a second.
		gctx, cancel := context.WithTimeout(ctx, time.Second)
		err = h.Get(gctx, res)
		if err != nil && gctx.Err() != nil && ctx.Err() == nil {
			err = nil
		}
		cancel()
	}
	if err != nil {
		if nf, ok := errors.AsType[*serviceerror.NotFound](err); ok {
			return nf
		}
		if _, ok := errors.AsType[*temporal.ApplicationError](err); ok {
			// The workflow's validator (or handler) said no.
			return refused{message(err)}
		}
		return errors.New(message(err))
	}
	return nil
}

// refused is a request the case turned down, in the case's own words.
type refused struct{ msg string }

func (r refused) Error() string        { return r.msg }
func (r refused) Is(target error) bool { return target == ErrRefused }

// closedOrNone explains an Update that found no open workflow: the case
// has ended ("case offboard/E1001 is done"), or there is none.
func (c *Client) closedOrNone(ctx context.Context, employeeID string, err error) error {
	id := workflows.WorkflowID(employeeID)
	d, derr := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if derr != nil || d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return noCase(employeeID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	state := statusName(info.GetStatus())
	decodeSA(info.GetSearchAttributes().GetIndexedFields(), workflows.SAState.GetName(), &state)
	return ended{fmt.Sprintf("case %s is %s: it has ended, so nothing can be decided in it", id, state), state}
}

// ended is a request to a case that has ended; State is its final state.
type ended struct {
	msg   string
	State string
}

func (e ended) Error() string        { return e.msg }
func (e ended) Is(target error) bool { return target == ErrEnded }

// EndedState is the final state of the ended case an error is about, or "".
func EndedState(err error) string {
	if e, ok := errors.AsType[ended](err); ok {
		return e.State
	}
	return ""
}

func noCase(employeeID string, err error) error {
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return fmt.Errorf("%w for employee %s (no workflow %s)", ErrNoCase, employeeID, workflows.WorkflowID(employeeID))
	}
	return fmt.Errorf("case %s: %s", workflows.WorkflowID(employeeID), rootCause(err))
}

// message is what a person needs of a workflow or Update error: the
// application error's own message, without Temporal's wrapping.
func message(err error) string {
	if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return appErr.Message()
	}
	return rootCause(err)
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

func statusName(s enumspb.WorkflowExecutionStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_"))
}

// NewRequestID returns a random request ID, for Update IDs and dry-run
// workflow IDs.
func NewRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
