// Package workflows holds the Offboarding workflow: deterministic, no I/O.
// Everything that touches a vendor runs in the activities package.
package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// Names other packages use to reach the workflow.
const (
	// TaskQueue is where offboard workers poll.
	TaskQueue = "offboarding"
	// Namespace is the default Temporal namespace for offboarding cases.
	Namespace = "offboarding"
	// OffboardingName is the workflow type name.
	OffboardingName = "Offboarding"
	// PlanName is the dry-run workflow's type name.
	PlanName = "Plan"
	// QueryStatus returns the whole case as a Case.
	QueryStatus = "status"
	// UpdateDecideStep retries or skips a parked step.
	UpdateDecideStep = "decide-step"
	// UpdateResolveStep is decide-step's name before it was renamed, still
	// accepted while cases started before then are open.
	UpdateResolveStep = "resolve-step"
	// UpdateCutNow starts a scheduled case's cut at once.
	UpdateCutNow = "cut-now"
	// UpdateRescind ends a scheduled case before anything is cut.
	UpdateRescind = "rescind"
	// UpdateReschedule moves a scheduled case's effective time.
	UpdateReschedule = "reschedule"
	// UpdateDecideApproval approves or rejects a case awaiting approval.
	UpdateDecideApproval = "decide-approval"
	// WorkflowIDPrefix starts every offboarding's workflow ID.
	WorkflowIDPrefix = "offboard/"
	// PlanIDPrefix starts every dry run's workflow ID.
	PlanIDPrefix = "plan/"
)

// Search attributes. Their values are plaintext everywhere, so they carry
// states and step IDs only.
var (
	SAState       = temporal.NewSearchAttributeKeyKeyword("OffboardingState")
	SAParkedSteps = temporal.NewSearchAttributeKeyKeywordList("ParkedSteps")
	SAEffectiveAt = temporal.NewSearchAttributeKeyTime("EffectiveAt")
)

// SearchAttributes returns the custom search attributes to register.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SAState.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SAParkedSteps.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		SAEffectiveAt.GetName(): enumspb.INDEXED_VALUE_TYPE_DATETIME,
		SAWatchState.GetName():  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// Mode says how a termination is handled.
type Mode string

// Modes.
const (
	ModeStandard Mode = "standard"
	// ModeHostile is for a termination where the person may act against
	// the company: cut first, notify after.
	ModeHostile Mode = "hostile"
)

// Input starts an offboarding. Fields can be added; keep it one struct.
type Input struct {
	EmployeeID  string    `json:"employeeId"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	Manager     string    `json:"manager,omitempty"`
	EffectiveAt time.Time `json:"effectiveAt,omitzero"`
	TimeZone    string    `json:"timeZone,omitempty"`
	Mode        Mode      `json:"mode"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requestedBy"`
	// Source is the front door the case came through: cli, hr or okta
	// (approvals.when's source: terms); empty for other Temporal clients.
	Source string `json:"source,omitempty"`
	// Overrides maps a system to the account to use there.
	Overrides map[string]string `json:"overrides,omitempty"`
	// Policy bounds retries and reminders; zero means the defaults.
	Policy Policy `json:"policy,omitzero"`
}

var employeeIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateEmployeeID checks an HR employee ID. IDs become workflow IDs, which
// are plaintext everywhere, so an email address is refused.
func ValidateEmployeeID(id string) error {
	if id == "" {
		return errors.New("employee ID is empty")
	}
	if !employeeIDPattern.MatchString(id) {
		return fmt.Errorf("employee ID must be 1-64 letters, digits, '.', '_' or '-' (an email address is not an employee ID)")
	}
	return nil
}

// WorkflowID is the offboarding workflow ID for an employee.
func WorkflowID(employeeID string) string { return WorkflowIDPrefix + employeeID }

// Validate checks the input before anything starts.
func (in Input) Validate() error {
	var errs []error
	if err := ValidateEmployeeID(in.EmployeeID); err != nil {
		errs = append(errs, err)
	}
	if in.Mode != ModeStandard && in.Mode != ModeHostile {
		errs = append(errs, fmt.Errorf("mode %q: want standard or hostile", in.Mode))
	}
	if in.RequestedBy == "" {
		errs = append(errs, errors.New("requestedBy is empty"))
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("time zone %q is unknown", in.TimeZone))
		}
	}
	return errors.Join(errs...)
}

// CaseState is the state of a whole case, also its OffboardingState search
// attribute.
type CaseState string

// Case states.
const (
	CaseScheduled        CaseState = "scheduled"         // waiting for the effective time
	CaseAwaitingApproval CaseState = "awaiting-approval" // waiting for approvers (and maybe the effective time)
	CaseRunning          CaseState = "running"
	CaseParked           CaseState = "parked" // running, with a step waiting for a decision
	CaseDone             CaseState = "done"
	CaseFailed           CaseState = "failed"
	CaseRescinded        CaseState = "rescinded" // ended before the cut; nothing was changed
	CaseRejected         CaseState = "rejected"  // an approver rejected it; nothing was changed
	CaseCancelled        CaseState = "cancelled"
)

// CaseStates lists the states `offboard list --state` accepts.
var CaseStates = []CaseState{CaseScheduled, CaseAwaitingApproval, CaseRunning, CaseParked, CaseDone, CaseFailed, CaseRescinded, CaseRejected, CaseCancelled}

// StepState is where a step is in its life.
type StepState string

// Step states: pending → running → done, or parked → (retry) running, or skipped.
const (
	StepPending StepState = "pending"
	StepRunning StepState = "running"
	StepDone    StepState = "done"
	StepParked  StepState = "parked"
	StepSkipped StepState = "skipped"
)

// Results of a done step.
const (
	ResultVerified  = "verified"   // changed, and a re-read proved it
	ResultAlready   = "already"    // desired state already held, and a re-read proved it
	ResultPlanned   = "planned"    // a plan step found the account and listed its steps
	ResultNoAccount = "no-account" // a plan step found no account in the system
)

// ActionPlan is the synthetic first step of every system: resolve the
// person's account and plan its steps.
const ActionPlan = "plan"

// Step is one step of a case: the connector's step and where it is.
type Step struct {
	connectors.Step
	State  StepState `json:"state"`
	Result string    `json:"result,omitempty"`
	// Attempts counts the tries of the step's action (its run, or for a
	// plan step its resolve), across retries and operator retries.
	Attempts   int       `json:"attempts"`
	ErrorKind  string    `json:"errorKind,omitempty"`
	LastError  string    `json:"lastError,omitempty"`
	Records    []string  `json:"records,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	ParkedAt   time.Time `json:"parkedAt,omitzero"`
	VerifiedAt time.Time `json:"verifiedAt,omitzero"`
	SkippedBy  string    `json:"skippedBy,omitempty"`
	SkipReason string    `json:"skipReason,omitempty"`
	Reminders  int       `json:"reminders,omitempty"`
	// Notice is the Slack message about the step's last park.
	Notice *MessageRef `json:"notice,omitempty"`
	// nonce is what the last park's Retry and Skip buttons carry.
	nonce string
}

// MessageRef is a message a case posted: its channel and timestamp.
type MessageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// record adds records a step's activity reported, once each.
func (st *Step) record(recs []string) {
	for _, r := range recs {
		if !slices.Contains(st.Records, r) {
			st.Records = append(st.Records, r)
		}
	}
}

// SystemState is what a case knows of one system.
type SystemState struct {
	System  string              `json:"system"`
	Found   bool                `json:"found"`
	Account *connectors.Account `json:"account,omitempty"`
	// CutAt is when the system's first access-ending step (connectors.
	// Step.Cuts) that changed something had run, or, when every one found
	// the access already ended, the last of them: the person was out of
	// the system from then, whatever cleanup remained. Zero until then.
	CutAt time.Time `json:"cutAt,omitzero"`
}

// Decision is an operator's retry, skip, cut-now or rescind, as recorded.
type Decision struct {
	Step      string    `json:"step,omitempty"`
	Action    string    `json:"action"`
	By        string    `json:"by"`
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
	At        time.Time `json:"at"`
	// From and To are a reschedule's old and new effective times.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Case is the whole case, as the status query returns it.
type Case struct {
	CaseID      string    `json:"caseId"`
	EmployeeID  string    `json:"employeeId"`
	Mode        Mode      `json:"mode"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requestedBy"`
	State       CaseState `json:"state"`
	StartedAt   time.Time `json:"startedAt"`
	EffectiveAt time.Time `json:"effectiveAt,omitzero"`
	Source      string    `json:"source,omitempty"`
	// TimeZone is the person's zone, for showing the effective time.
	TimeZone string `json:"timeZone,omitempty"`
	// Approval is where the case's approval stands; nil when it needs none.
	Approval *Approval `json:"approval,omitempty"`
	// CutStartedAt is when the cut started, after any wait.
	CutStartedAt time.Time `json:"cutStartedAt,omitzero"`
	// CutAt is when the last system with an account was cut (the latest
	// SystemState.CutAt): from then the person had no way in. Zero until
	// every such system is.
	CutAt time.Time `json:"cutAt,omitzero"`
	// Evidence is the snapshot taken beside the cut; nil when none is.
	Evidence *Evidence `json:"evidence,omitempty"`
	// Watch is the watch's workflow ID once the done case opened it;
	// WatchError says why it could not be.
	Watch      string `json:"watch,omitempty"`
	WatchError string `json:"watchError,omitempty"`
	// IndicatorMatches are the person's accounts that are indicators of
	// another person's open watch.
	IndicatorMatches []activities.IndicatorMatch `json:"indicatorMatches,omitempty"`
	FinishedAt       time.Time                   `json:"finishedAt,omitzero"`
	Systems          []SystemState               `json:"systems"`
	Steps            []*Step                     `json:"steps"`
	Decisions        []Decision                  `json:"decisions,omitempty"`
	// Error says why a failed case failed.
	Error string `json:"error,omitempty"`
}

// Step returns the step with the given ID.
func (c *Case) Step(id string) (*Step, bool) {
	i := slices.IndexFunc(c.Steps, func(st *Step) bool { return st.ID == id })
	if i < 0 {
		return nil, false
	}
	return c.Steps[i], true
}

// ParkedSteps lists the IDs of parked steps, sorted.
func (c *Case) ParkedSteps() []string {
	var ids []string
	for _, st := range c.Steps {
		if st.State == StepParked {
			ids = append(ids, st.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// Decision actions.
const (
	ActionRetry   = "retry"
	ActionSkip    = "skip"
	ActionApprove = "approve"
	ActionReject  = "reject"
)

// Approval states.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

// Approval is where a case's approval stands: who approved or rejected,
// where the request was posted, and how it was chased.
type Approval struct {
	State  string `json:"state"`
	Quorum int    `json:"quorum"`
	// Approvals are the distinct approvers' approvals, in order.
	Approvals []Decision `json:"approvals,omitempty"`
	Rejection *Decision  `json:"rejection,omitempty"`
	// Request is the request message; nil until it is posted.
	Request *MessageRef `json:"request,omitempty"`
	// Note says why the request went to the escalation channel, or was not
	// posted at all.
	Note        string    `json:"note,omitempty"`
	RequestedAt time.Time `json:"requestedAt"`
	Reminders   int       `json:"reminders,omitempty"`
	EscalatedAt time.Time `json:"escalatedAt,omitzero"`
	// LastError is the last failure to post or update its messages.
	LastError string `json:"lastError,omitempty"`
}

// DecideApprovalRequest is the decide-approval Update's input: one
// approver's approve or reject, as the Slack front door checked it.
type DecideApprovalRequest struct {
	// Nonce is the value the clicked button carried.
	Nonce  string `json:"nonce"`
	Action string `json:"action"`
	// User is the clicker's Slack user ID; Email their Slack email, when
	// Slack has one.
	User      string `json:"user"`
	Email     string `json:"email,omitempty"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// SlackBy is how a decision made in Slack records who made it.
func SlackBy(user string) string { return "slack:" + user }

// DecideStepRequest is the decide-step Update's input: an operator's retry
// or skip of a parked step.
type DecideStepRequest struct {
	Step string `json:"step"`
	// Nonce, when set, must be what the step's last park's buttons carry:
	// a click on a button from an earlier park changes nothing.
	Nonce     string `json:"nonce,omitempty"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	By        string `json:"by"`
	RequestID string `json:"requestId,omitempty"`
}

// ScheduleRequest is the input of the cut-now and rescind Updates.
type ScheduleRequest struct {
	Reason    string `json:"reason,omitempty"`
	By        string `json:"by"`
	RequestID string `json:"requestId,omitempty"`
}

// RescheduleRequest is the reschedule Update's input: a scheduled case's
// new effective time.
type RescheduleRequest struct {
	EffectiveAt time.Time `json:"effectiveAt"`
	TimeZone    string    `json:"timeZone,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	By          string    `json:"by"`
	RequestID   string    `json:"requestId,omitempty"`
}

// DecisionResult is what the decide-step, cut-now and rescind Updates
// answer: the decision as recorded.
type DecisionResult struct {
	Step   string    `json:"step,omitempty"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
}
