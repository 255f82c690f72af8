package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Notifier is the chat app a case asks and reports through (Slack): it
// knows the approval policy and posts a case's messages. slackapp.App is
// the one there is.
type Notifier interface {
	// Settings says what the worker's config asks of a case of this mode
	// and source.
	Settings(mode, source string) Settings
	// Notify posts or updates one message of a case.
	Notify(ctx context.Context, n Notice) (NoticeRef, error)
}

// WithNotifier sets the chat app a's cases report through; without one no
// case needs approval and nothing is posted. (A function, not a method:
// every exported method of Activities is an activity.)
func WithNotifier(a *Activities, n Notifier) *Activities {
	a.notifier = n
	return a
}

// SettingsInput describes a case to the CaseSettings activity.
type SettingsInput struct {
	Mode   string `json:"mode"`
	Source string `json:"source,omitempty"`
}

// Settings is what the worker's config asks of one case.
type Settings struct {
	// Approval is the policy the case waits under; nil when it needs none.
	Approval *ApprovalPolicy `json:"approval,omitempty"`
	// Notices: parked steps (with Retry and Skip) and the case's summary
	// are posted.
	Notices bool `json:"notices,omitempty"`
	// WatchAlerts: the case's watch posts its alerts.
	WatchAlerts bool `json:"watchAlerts,omitempty"`
	// Evidence is the snapshot the case takes at the cut; nil takes none.
	Evidence *EvidencePolicy `json:"evidence,omitempty"`
	// Watch is the watch the case opens once done; nil opens none.
	Watch *WatchPolicy `json:"watch,omitempty"`
}

// ApprovalPolicy is the part of the approval policy a case keeps: how many
// approvers, and when to remind and escalate. Who may approve is checked
// where the click arrives, at each click.
type ApprovalPolicy struct {
	Quorum        int           `json:"quorum"`
	RemindAfter   time.Duration `json:"remindAfter"`
	EscalateAfter time.Duration `json:"escalateAfter,omitempty"`
	Escalate      bool          `json:"escalate,omitempty"`
}

// NoticeKind says which message a Notice is.
type NoticeKind string

// Notice kinds.
const (
	// NoticeApprovalRequest posts the approval request, with Approve and
	// Reject buttons carrying Approval.Nonce.
	NoticeApprovalRequest NoticeKind = "approval-request"
	// NoticeApprovalUpdate replaces the request's buttons (chat.update):
	// with who decided, or with new buttons while a quorum fills.
	NoticeApprovalUpdate NoticeKind = "approval-update"
	// NoticeApprovalReminder is a reply in the request's thread.
	NoticeApprovalReminder NoticeKind = "approval-reminder"
	// NoticeApprovalEscalation tells the escalation channel a request has
	// waited too long.
	NoticeApprovalEscalation NoticeKind = "approval-escalation"
	// NoticeParked posts a parked step with Retry and Skip buttons.
	NoticeParked NoticeKind = "parked"
	// NoticeParkedReminder is a reply in the parked step's thread.
	NoticeParkedReminder NoticeKind = "parked-reminder"
	// NoticeParkedDecided replaces a parked step's buttons with the
	// decision.
	NoticeParkedDecided NoticeKind = "parked-decided"
	// NoticeSummary posts an ended case's summary.
	NoticeSummary NoticeKind = "summary"
	// NoticeWatchAlert posts a watch's alert to the security channel,
	// paging Watch.Paged, and replies in Ref, the case's summary thread.
	NoticeWatchAlert NoticeKind = "watch-alert"
)

// Notice is one message of a case, as the Notify activity takes it.
type Notice struct {
	Kind     NoticeKind     `json:"kind"`
	Case     CaseBrief      `json:"case"`
	Approval *ApprovalBrief `json:"approval,omitempty"`
	Step     *StepBrief     `json:"step,omitempty"`
	Summary  *SummaryBrief  `json:"summary,omitempty"`
	Watch    *WatchBrief    `json:"watch,omitempty"`
	// Ref is the message to update or reply under.
	Ref NoticeRef `json:"ref,omitzero"`
}

// CaseBrief is what a message says of a case. Name, Reason and the
// systems' accounts appear only in the approvals channel.
type CaseBrief struct {
	CaseID      string        `json:"caseId"`
	EmployeeID  string        `json:"employeeId"`
	Name        string        `json:"name,omitempty"`
	Mode        string        `json:"mode"`
	Source      string        `json:"source,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	RequestedBy string        `json:"requestedBy"`
	EffectiveAt time.Time     `json:"effectiveAt,omitzero"`
	TimeZone    string        `json:"timeZone,omitempty"`
	Systems     []SystemBrief `json:"systems,omitempty"`
	// PlanError says why the plan shown is incomplete.
	PlanError string `json:"planError,omitempty"`
	// Risk is the insider-signal level of the person's recent activity,
	// with its reasons ("" when not assessed).
	Risk        string   `json:"risk,omitempty"`
	RiskReasons []string `json:"riskReasons,omitempty"`
}

// SystemBrief is one system of a plan: the account found and how many
// steps would close it.
type SystemBrief struct {
	System    string `json:"system"`
	Found     bool   `json:"found"`
	AccountID string `json:"accountId,omitempty"`
	Steps     int    `json:"steps"`
}

// ApprovalBrief is where an approval stands.
type ApprovalBrief struct {
	// Nonce is the current single-use value the buttons carry.
	Nonce     string          `json:"nonce,omitempty"`
	Quorum    int             `json:"quorum"`
	State     string          `json:"state"`
	Approvals []DecisionBrief `json:"approvals,omitempty"`
	// Decided is the decision that settled it (the last approval, the
	// rejection, the rescind).
	Decided  *DecisionBrief `json:"decided,omitempty"`
	Waited   time.Duration  `json:"waited,omitempty"`
	Reminder int            `json:"reminder,omitempty"`
}

// DecisionBrief is one person's decision.
type DecisionBrief struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// StepBrief is a parked step.
type StepBrief struct {
	ID        string         `json:"id"`
	ErrorKind string         `json:"errorKind,omitempty"`
	Message   string         `json:"message,omitempty"`
	Attempts  int            `json:"attempts"`
	ParkedAt  time.Time      `json:"parkedAt,omitzero"`
	Nonce     string         `json:"nonce,omitempty"`
	Reminder  int            `json:"reminder,omitempty"`
	Decision  *DecisionBrief `json:"decision,omitempty"`
}

// SummaryBrief is an ended case.
type SummaryBrief struct {
	State        string    `json:"state"`
	RunID        string    `json:"runId"`
	CutStartedAt time.Time `json:"cutStartedAt,omitzero"`
	FinishedAt   time.Time `json:"finishedAt"`
	Verified     int       `json:"verified"`
	Already      int       `json:"already"`
	Skipped      int       `json:"skipped"`
	NoAccount    int       `json:"noAccount"`
	Error        string    `json:"error,omitempty"`
}

// WatchBrief is a watch's alert.
type WatchBrief struct {
	WatchID string `json:"watchId"`
	State   string `json:"state"`
	AlertID int    `json:"alertId"`
	Kind    string `json:"kind"`
	System  string `json:"system,omitempty"`
	Message string `json:"message"`
	Bundle  string `json:"bundle,omitempty"`
	Digest  string `json:"digest,omitempty"`
	// Paged are Slack user (U…) or user-group (S…) IDs to mention.
	Paged []string `json:"paged,omitempty"`
}

// NoticeRef is a posted message. Note says why it went elsewhere than
// asked, or nowhere (Channel empty).
type NoticeRef struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	Note    string `json:"note,omitempty"`
}

// CaseSettings reads what the worker's config asks of a case.
func (a *Activities) CaseSettings(_ context.Context, in SettingsInput) (Settings, error) {
	var s Settings
	if a.notifier != nil {
		s = a.notifier.Settings(in.Mode, in.Source)
	}
	if c := a.collector; c != nil {
		s.Evidence = &EvidencePolicy{Days: c.Days, After: c.After}
	}
	s.Watch = a.watch
	return s, nil
}

// Notify posts or updates one message of a case.
func (a *Activities) Notify(ctx context.Context, n Notice) (NoticeRef, error) {
	if a.notifier == nil {
		return NoticeRef{}, temporal.NewNonRetryableApplicationError("no chat app is configured on this worker", "InvalidInput", nil)
	}
	ref, err := a.notifier.Notify(ctx, n)
	return ref, ToTemporal(ctx, err)
}
