package workflows

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/offboard/offboard/activities"
)

// Where the fake chat app posts.
const (
	approvalsChannel = "C0APPROVALS"
	requestTS        = "1.000001"
	opsChannel       = "C0OPS"
)

// Slack users of the approval tests.
const (
	approver1   = "U0APPROVER1"
	approver2   = "U0APPROVER2"
	requesterID = "U0REQUESTER"
	subjectID   = "U0SUBJECT1"
)

// approvalPolicy is the policy the approval tests run under: remind every
// 30 minutes, escalate once after 2 hours.
func approvalPolicy(quorum int) *activities.ApprovalPolicy {
	return &activities.ApprovalPolicy{Quorum: quorum, RemindAfter: 30 * time.Minute, EscalateAfter: 2 * time.Hour, Escalate: true}
}

// fakeChat stands in for the CaseSettings and Notify activities: it answers
// settings, and records every notice it is asked to post.
type fakeChat struct {
	settings activities.Settings

	mu         sync.Mutex
	settingsIn []activities.SettingsInput
	notices    []activities.Notice
	parked     int
	other      int
	// onNotice, when set, sees each notice as the chat app gets it, before
	// it is answered: what someone clicking in Slack could do while a
	// message is being posted.
	onNotice func(activities.Notice)
}

func (c *fakeChat) caseSettings(_ context.Context, in activities.SettingsInput) (activities.Settings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settingsIn = append(c.settingsIn, in)
	return c.settings, nil
}

func (c *fakeChat) notify(_ context.Context, n activities.Notice) (activities.NoticeRef, error) {
	if c.onNotice != nil {
		c.onNotice(n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notices = append(c.notices, n)
	switch n.Kind {
	case activities.NoticeApprovalRequest:
		return activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, nil
	case activities.NoticeParked:
		c.parked++
		return activities.NoticeRef{Channel: opsChannel, TS: fmt.Sprintf("2.%06d", c.parked)}, nil
	}
	c.other++
	if n.Ref.TS != "" {
		return activities.NoticeRef{Channel: n.Ref.Channel, TS: fmt.Sprintf("%s.reply%d", n.Ref.TS, c.other)}, nil
	}
	return activities.NoticeRef{Channel: opsChannel, TS: fmt.Sprintf("3.%06d", c.other)}, nil
}

// sent returns the notices posted so far, of the given kinds (all when none
// is given).
func (c *fakeChat) sent(kinds ...activities.NoticeKind) []activities.Notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []activities.Notice
	for _, n := range c.notices {
		if len(kinds) == 0 || slices.Contains(kinds, n.Kind) {
			out = append(out, n)
		}
	}
	return out
}

func (c *fakeChat) kinds() []activities.NoticeKind {
	var out []activities.NoticeKind
	for _, n := range c.sent() {
		out = append(out, n.Kind)
	}
	return out
}

// approvalNonce is what the latest approval buttons posted carry.
func (c *fakeChat) approvalNonce() string {
	ns := c.sent(activities.NoticeApprovalRequest, activities.NoticeApprovalUpdate)
	if len(ns) == 0 || ns[len(ns)-1].Approval == nil {
		return ""
	}
	return ns[len(ns)-1].Approval.Nonce
}

// parkedNonce is what the latest parked notice's buttons carry.
func (c *fakeChat) parkedNonce() string {
	ns := c.sent(activities.NoticeParked)
	if len(ns) == 0 || ns[len(ns)-1].Step == nil {
		return ""
	}
	return ns[len(ns)-1].Step.Nonce
}

// newChatHarness is newHarness with the chat app's two activities faked.
func newChatHarness(t *testing.T, f *fakeVendors, s activities.Settings) (*harness, *fakeChat) {
	t.Helper()
	h := newHarness(t, f)
	c := &fakeChat{settings: s}
	h.env.OnActivity(a.CaseSettings, mock.Anything, mock.Anything).Return(c.caseSettings)
	h.env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(c.notify)
	return h, c
}

// hostileInput is a hostile case from the HR front door, requested in Slack.
func hostileInput() Input {
	in := testInput()
	in.Mode = ModeHostile
	in.Source = "hr"
	in.Reason = "policy violation"
	in.RequestedBy = SlackBy(requesterID)
	return in
}

// updateLazyAt sends an Update whose input is built when it is sent (from
// the nonce the last message carried, say).
func (h *harness) updateLazyAt(d time.Duration, name string, req func() any) *update {
	u := &update{}
	h.env.RegisterDelayedCallback(func() {
		u.sentAt = h.env.Now().UTC()
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { u.accepted = true },
			OnReject: func(err error) { u.rejected = err },
			OnComplete: func(v any, err error) {
				u.completed, u.result, u.err = true, v, err
			},
		}, req())
	}, d)
	return u
}

// decideAt sends a decide-approval with the current buttons' nonce.
func (h *harness) decideAt(d time.Duration, c *fakeChat, req func(nonce string) DecideApprovalRequest) *update {
	return h.updateLazyAt(d, UpdateDecideApproval, func() any { return req(c.approvalNonce()) })
}

func approve(user string) func(string) DecideApprovalRequest {
	return func(nonce string) DecideApprovalRequest {
		return DecideApprovalRequest{Nonce: nonce, Action: ActionApprove, User: user}
	}
}

func requireRefused(t *testing.T, u *update, want string) {
	t.Helper()
	require.Error(t, u.rejected, "update should be refused")
	assert.Contains(t, u.rejected.Error(), want)
	assert.False(t, u.accepted, "refused update was accepted")
	assert.False(t, u.completed, "refused update ran its handler")
}

// probe is the status, and what the vendors and the chat app saw, at one
// moment of a test.
type probe struct {
	snapshot
	runLog  []string
	notices []activities.Notice
}

func (h *harness) probeAt(d time.Duration, c *fakeChat) *probe {
	p := &probe{}
	h.env.RegisterDelayedCallback(func() {
		h.take(&p.snapshot)
		h.f.mu.Lock()
		p.runLog = slices.Clone(h.f.runLog)
		h.f.mu.Unlock()
		p.notices = c.sent()
	}, d)
	return p
}

// requireWaiting checks a probe saw the case awaiting approval with nothing
// run or verified.
func (h *harness) requireWaiting(p *probe) Case {
	h.t.Helper()
	st := h.requireSnapshot(&p.snapshot)
	assert.Equal(h.t, CaseAwaitingApproval, st.State)
	assert.Equal(h.t, string(CaseAwaitingApproval), p.sa.State)
	require.NotNil(h.t, st.Approval)
	assert.Equal(h.t, ApprovalPending, st.Approval.State)
	assert.Empty(h.t, st.Steps, "steps started while awaiting approval")
	assert.Empty(h.t, p.runLog, "RunStep or VerifyStep called while awaiting approval")
	assert.True(h.t, st.CutStartedAt.IsZero(), "cut started while awaiting approval")
	return st
}

// --- tests ---

// A hostile case that needs approval reads (resolves and plans) to show
// the approvers what it would cut, posts the request, and waits with
// nothing run. Neither a cut-now nor a cancellation gets anything cut.
func TestApproval_WaitsWithNothingRun(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1), Notices: true})
	start := h.env.Now().UTC()
	early := h.probeAt(10*time.Minute, c)
	cut := h.updateAt(15*time.Minute, UpdateCutNow, ScheduleRequest{By: "sec-lead", Reason: "urgent"})
	late := h.probeAt(20*time.Minute, c)
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 25*time.Minute)

	in := hostileInput()
	h.env.ExecuteWorkflow(Offboarding, in)
	require.True(t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "error %v is not a cancellation", err)

	c.mu.Lock()
	assert.Equal(t, []activities.SettingsInput{{Mode: string(ModeHostile), Source: "hr"}}, c.settingsIn)
	c.mu.Unlock()

	for _, p := range []*probe{early, late} {
		st := h.requireWaiting(p)
		assert.Equal(t, 1, st.Approval.Quorum)
		assert.Empty(t, st.Approval.Approvals)
		assert.Nil(t, st.Approval.Rejection)
		assert.Equal(t, &MessageRef{Channel: approvalsChannel, TS: requestTS}, st.Approval.Request)
		assert.True(t, st.Approval.RequestedAt.Equal(start), "requested at %v, want %v", st.Approval.RequestedAt, start)
		assert.Empty(t, st.Decisions)
	}
	requireRefused(t, cut, "a cut-now cannot stand in for approvers")

	// Only reads: each system resolved and planned once, for the request.
	f.mu.Lock()
	assert.Len(t, f.resolves, 2)
	assert.Equal(t, []string{"okta", "github"}, f.plans)
	assert.Empty(t, f.runLog, "a step ran or was verified in a case never approved")
	f.mu.Unlock()

	// The first notice is the request, with buttons.
	require.NotEmpty(t, early.notices)
	req := early.notices[0]
	assert.Equal(t, activities.NoticeApprovalRequest, req.Kind)
	require.NotNil(t, req.Approval)
	assert.Regexp(t, `^[0-9a-f]{32}$`, req.Approval.Nonce)
	assert.Equal(t, ApprovalPending, req.Approval.State)
	assert.Equal(t, 1, req.Approval.Quorum)
	assert.Equal(t, WorkflowID(testEmployee), req.Case.CaseID)
	assert.Equal(t, testEmployee, req.Case.EmployeeID)
	assert.Equal(t, string(ModeHostile), req.Case.Mode)
	assert.Equal(t, "hr", req.Case.Source)
	assert.Equal(t, "policy violation", req.Case.Reason)
	assert.Equal(t, SlackBy(requesterID), req.Case.RequestedBy)
	assert.Empty(t, req.Case.PlanError)
	assert.Equal(t, []activities.SystemBrief{
		{System: "okta", Found: true, AccountID: oktaUserID, Steps: 3},
		{System: "github", Found: true, AccountID: githubLogin, Steps: 2},
	}, req.Case.Systems)
	assert.Len(t, late.notices, 1, "only the request before the first reminder is due")

	// Cancelled: the request's buttons are replaced by the outcome, and the
	// summary says so.
	assert.Equal(t, string(CaseCancelled), f.lastUpsert().State)
	assert.Equal(t, []activities.NoticeKind{activities.NoticeApprovalRequest, activities.NoticeApprovalUpdate, activities.NoticeSummary}, c.kinds())
	upd := c.sent(activities.NoticeApprovalUpdate)
	require.Len(t, upd, 1)
	assert.Equal(t, activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, upd[0].Ref)
	require.NotNil(t, upd[0].Approval)
	assert.Equal(t, string(CaseCancelled), upd[0].Approval.State)
	assert.Empty(t, upd[0].Approval.Nonce, "a cancelled case's message still has buttons")
	sum := c.sent(activities.NoticeSummary)
	require.Len(t, sum, 1)
	require.NotNil(t, sum[0].Summary)
	assert.Equal(t, string(CaseCancelled), sum[0].Summary.State)
}

// Five hours without a decision: a reminder in the request's thread every
// 30 minutes, one escalation at 2 hours, and nothing approved or run. An
// approval then cuts.
func TestApproval_RemindsAndEscalatesButNeverApprovesItself(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1), Notices: true})
	start := h.env.Now().UTC()
	p29 := h.probeAt(29*time.Minute, c)
	p31 := h.probeAt(31*time.Minute, c)
	p119 := h.probeAt(119*time.Minute, c)
	p121 := h.probeAt(121*time.Minute, c)
	p299 := h.probeAt(299*time.Minute, c)
	ok := h.decideAt(305*time.Minute, c, approve(approver1))

	st, err := h.run(hostileInput())
	require.NoError(t, err)
	h.requireAccepted(ok)

	for _, at := range []struct {
		p         *probe
		after     time.Duration
		reminders int
		escalated bool
	}{
		{p29, 29 * time.Minute, 0, false},
		{p31, 31 * time.Minute, 1, false},
		{p119, 119 * time.Minute, 3, false},
		{p121, 121 * time.Minute, 4, true},
		{p299, 299 * time.Minute, 9, true},
	} {
		s := h.requireWaiting(at.p)
		assert.Equal(t, at.reminders, s.Approval.Reminders, "reminders after %v", at.after)
		if at.escalated {
			assert.True(t, s.Approval.EscalatedAt.Equal(start.Add(2*time.Hour)), "escalated at %v", s.Approval.EscalatedAt)
		} else {
			assert.True(t, s.Approval.EscalatedAt.IsZero(), "escalated early, at %v", s.Approval.EscalatedAt)
		}
		assert.Empty(t, s.Decisions)
		assert.Empty(t, s.Approval.Approvals)
	}

	// The whole conversation, in order: the escalation before the 2-hour
	// reminder, then the outcome and the summary once approved.
	want := []activities.NoticeKind{activities.NoticeApprovalRequest}
	for k := 1; k <= 10; k++ {
		if k == 4 {
			want = append(want, activities.NoticeApprovalEscalation)
		}
		want = append(want, activities.NoticeApprovalReminder)
	}
	kinds := c.kinds()
	require.Len(t, kinds, len(want)+2)
	assert.Equal(t, want, kinds[:len(want)])
	// The outcome goes out as the cut starts, the summary when it ends: they
	// run concurrently, so either may be recorded first.
	assert.ElementsMatch(t, []activities.NoticeKind{activities.NoticeApprovalUpdate, activities.NoticeSummary}, kinds[len(want):])

	nonce := c.sent(activities.NoticeApprovalRequest)[0].Approval.Nonce
	reminders := c.sent(activities.NoticeApprovalReminder)
	require.Len(t, reminders, 10)
	for i, r := range reminders {
		k := i + 1
		assert.Equal(t, activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, r.Ref, "reminder %d not in the request's thread", k)
		require.NotNil(t, r.Approval)
		assert.Equal(t, k, r.Approval.Reminder)
		assert.Equal(t, time.Duration(k)*30*time.Minute, r.Approval.Waited, "reminder %d", k)
		assert.Equal(t, ApprovalPending, r.Approval.State)
		assert.Equal(t, nonce, r.Approval.Nonce, "a reminder changed the buttons")
	}
	esc := c.sent(activities.NoticeApprovalEscalation)
	require.Len(t, esc, 1)
	require.NotNil(t, esc[0].Approval)
	assert.Equal(t, 2*time.Hour, esc[0].Approval.Waited)
	assert.Equal(t, ApprovalPending, esc[0].Approval.State)

	// Approved, then cut.
	assert.Equal(t, CaseDone, st.State)
	require.NotNil(t, st.Approval)
	assert.Equal(t, ApprovalApproved, st.Approval.State)
	assert.Equal(t, 10, st.Approval.Reminders)
	require.Len(t, st.Approval.Approvals, 1)
	assert.Equal(t, SlackBy(approver1), st.Approval.Approvals[0].By)
	assert.Equal(t, ok.sentAt, st.Approval.Approvals[0].At)
	require.Len(t, st.Decisions, 1)
	assert.Equal(t, ActionApprove, st.Decisions[0].Action)
	assert.False(t, st.CutStartedAt.Before(ok.sentAt), "cut started %v, before the approval at %v", st.CutStartedAt, ok.sentAt)
	for _, sys := range []string{"okta", "github"} {
		for _, id := range planOrder[sys] {
			s := step(t, st, id)
			assert.Equal(t, StepDone, s.State, id)
			assert.False(t, s.StartedAt.Before(ok.sentAt), "%s started before the approval", id)
			assert.Equal(t, 1, f.runs(id), id)
		}
	}
	upd := c.sent(activities.NoticeApprovalUpdate)
	require.Len(t, upd, 1)
	assert.Equal(t, activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, upd[0].Ref)
	require.NotNil(t, upd[0].Approval)
	assert.Equal(t, ApprovalApproved, upd[0].Approval.State)
	assert.Empty(t, upd[0].Approval.Nonce, "an approved request still has buttons")
	require.NotNil(t, upd[0].Approval.Decided)
	assert.Equal(t, SlackBy(approver1), upd[0].Approval.Decided.By)
}

// A decision the case cannot take is refused by the validator and leaves
// no trace; a valid one afterwards is taken.
func TestApproval_ValidatorRefusals(t *testing.T) {
	const personalEmail = "jane.personal@example.org"
	tests := []struct {
		name   string
		mutate func(*Input, *fakeVendors)
		req    func(nonce string) DecideApprovalRequest
		want   string
	}{
		{
			name: "wrong nonce",
			req: func(string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: "0123456789abcdef0123456789abcdef", Action: ActionApprove, User: approver1}
			},
			want: "this button is from a request that was replaced",
		},
		{
			name: "no nonce",
			req: func(string) DecideApprovalRequest {
				return DecideApprovalRequest{Action: ActionApprove, User: approver1}
			},
			want: "this button is from a request that was replaced",
		},
		{
			name:   "the subject, by their Slack user ID",
			mutate: func(_ *Input, f *fakeVendors) { f.oktaAttributes = map[string]string{"slackUserId": subjectID} },
			req:    approve(subjectID),
			want:   "the person being offboarded cannot decide their own case",
		},
		{
			name: "the subject, by their work email (an account attribute)",
			req: func(nonce string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: nonce, Action: ActionApprove, User: approver1, Email: " JDoe@Example.com "}
			},
			want: "the person being offboarded cannot decide their own case",
		},
		{
			name:   "the subject, by the input email",
			mutate: func(in *Input, _ *fakeVendors) { in.Email = personalEmail },
			req: func(nonce string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: nonce, Action: ActionReject, User: approver1, Email: personalEmail, Reason: "not me"}
			},
			want: "the person being offboarded cannot decide their own case",
		},
		{
			name: "the requester, by Slack user ID",
			req:  approve(requesterID),
			want: "whoever requested a case cannot approve or reject it",
		},
		{
			name:   "the requester, by email",
			mutate: func(in *Input, _ *fakeVendors) { in.RequestedBy = "lead@example.com" },
			req: func(nonce string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: nonce, Action: ActionApprove, User: approver2, Email: "Lead@Example.com"}
			},
			want: "whoever requested a case cannot approve or reject it",
		},
		{
			name: "reject without a reason",
			req: func(nonce string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: nonce, Action: ActionReject, User: approver1, Reason: " \t "}
			},
			want: "a rejection needs a reason",
		},
		{
			name: "unknown action",
			req: func(nonce string) DecideApprovalRequest {
				return DecideApprovalRequest{Nonce: nonce, Action: "maybe", User: approver1}
			},
			want: `action "maybe": want approve or reject`,
		},
		{
			name: "not a Slack user",
			req:  approve("alice"),
			want: "who decided (a Slack user ID) is required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeVendors{}
			in := hostileInput()
			if tc.mutate != nil {
				tc.mutate(&in, f)
			}
			h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1)})
			bad := h.decideAt(10*time.Minute, c, tc.req)
			after := h.probeAt(11*time.Minute, c)
			good := h.decideAt(12*time.Minute, c, approve(approver1))

			st, err := h.run(in)
			require.NoError(t, err)

			requireRefused(t, bad, tc.want)
			mid := h.requireWaiting(after)
			assert.Empty(t, mid.Decisions, "a refused decision was recorded")
			assert.Empty(t, mid.Approval.Approvals)
			assert.Nil(t, mid.Approval.Rejection)
			require.Len(t, after.notices, 1, "a refused decision changed the request")

			h.requireAccepted(good)
			assert.Equal(t, CaseDone, st.State)
			require.Len(t, st.Decisions, 1)
			assert.Equal(t, SlackBy(approver1), st.Decisions[0].By)
			assert.Equal(t, ActionApprove, st.Decisions[0].Action)
		})
	}
}

// A rejection with a reason ends the case with nothing cut, and the
// request shows who rejected it and why.
func TestApproval_RejectEndsTheCase(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1), Notices: true})
	reject := h.decideAt(40*time.Minute, c, func(nonce string) DecideApprovalRequest {
		return DecideApprovalRequest{Nonce: nonce, Action: ActionReject, User: approver2, Reason: " wrong person ", RequestID: "req-9"}
	})

	st, err := h.run(hostileInput())
	require.NoError(t, err)
	h.requireAccepted(reject)
	res, ok := reject.result.(DecisionResult)
	require.True(t, ok, "update result is %T", reject.result)
	assert.Equal(t, DecisionResult{Action: ActionReject, At: reject.sentAt}, res)

	assert.Equal(t, CaseRejected, st.State)
	assert.Empty(t, st.Error)
	assert.Empty(t, st.Steps)
	assert.True(t, st.CutStartedAt.IsZero(), "a rejected case started its cut")
	f.mu.Lock()
	assert.Empty(t, f.runLog, "a rejected case ran or verified a step")
	f.mu.Unlock()
	assert.Equal(t, string(CaseRejected), f.lastUpsert().State)

	require.NotNil(t, st.Approval)
	assert.Equal(t, ApprovalRejected, st.Approval.State)
	assert.Empty(t, st.Approval.Approvals)
	require.NotNil(t, st.Approval.Rejection)
	want := Decision{Action: ActionReject, By: SlackBy(approver2), Reason: "wrong person", RequestID: "req-9", At: reject.sentAt}
	assert.Equal(t, want, *st.Approval.Rejection)
	assert.Equal(t, []Decision{want}, st.Decisions)

	// One reminder (at 30 minutes), then the outcome and the summary (these
	// two go out together, to different channels, in either order).
	kinds := c.kinds()
	require.Len(t, kinds, 4)
	assert.Equal(t, []activities.NoticeKind{activities.NoticeApprovalRequest, activities.NoticeApprovalReminder}, kinds[:2])
	assert.ElementsMatch(t, []activities.NoticeKind{activities.NoticeApprovalUpdate, activities.NoticeSummary}, kinds[2:])
	upd := c.sent(activities.NoticeApprovalUpdate)
	require.Len(t, upd, 1)
	assert.Equal(t, activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, upd[0].Ref)
	require.NotNil(t, upd[0].Approval)
	assert.Equal(t, ApprovalRejected, upd[0].Approval.State)
	assert.Empty(t, upd[0].Approval.Nonce, "a rejected request still has buttons")
	require.NotNil(t, upd[0].Approval.Decided)
	assert.Equal(t, activities.DecisionBrief{Action: ActionReject, By: SlackBy(approver2), Reason: "wrong person", At: reject.sentAt}, *upd[0].Approval.Decided)
	sum := c.sent(activities.NoticeSummary)
	require.Len(t, sum, 1)
	require.NotNil(t, sum[0].Summary)
	assert.Equal(t, string(CaseRejected), sum[0].Summary.State)
}

// With a quorum of two, the first approval keeps the case waiting and
// replaces the buttons; the same approver cannot approve twice, the old
// buttons no longer work, and a second approver cuts.
func TestApproval_QuorumOfTwo(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(2), Notices: true})
	var firstNonce string
	first := h.updateLazyAt(10*time.Minute, UpdateDecideApproval, func() any {
		firstNonce = c.approvalNonce()
		return DecideApprovalRequest{Nonce: firstNonce, Action: ActionApprove, User: approver1}
	})
	mid := h.probeAt(11*time.Minute, c)
	again := h.decideAt(12*time.Minute, c, approve(approver1))
	stale := h.updateLazyAt(13*time.Minute, UpdateDecideApproval, func() any {
		return DecideApprovalRequest{Nonce: firstNonce, Action: ActionApprove, User: approver2}
	})
	before := h.probeAt(14*time.Minute, c)
	second := h.decideAt(15*time.Minute, c, approve(approver2))

	st, err := h.run(hostileInput())
	require.NoError(t, err)

	h.requireAccepted(first)
	require.NotEmpty(t, firstNonce)
	s := h.requireWaiting(mid)
	assert.Equal(t, 2, s.Approval.Quorum)
	require.Len(t, s.Approval.Approvals, 1)
	assert.Equal(t, SlackBy(approver1), s.Approval.Approvals[0].By)

	// The first approval replaced the buttons: new nonce, one approval shown.
	require.Len(t, mid.notices, 2)
	upd := mid.notices[1]
	assert.Equal(t, activities.NoticeApprovalUpdate, upd.Kind)
	assert.Equal(t, activities.NoticeRef{Channel: approvalsChannel, TS: requestTS}, upd.Ref)
	require.NotNil(t, upd.Approval)
	assert.Equal(t, ApprovalPending, upd.Approval.State)
	assert.Regexp(t, `^[0-9a-f]{32}$`, upd.Approval.Nonce)
	assert.NotEqual(t, firstNonce, upd.Approval.Nonce, "the spent buttons were posted again")
	require.Len(t, upd.Approval.Approvals, 1)
	assert.Equal(t, SlackBy(approver1), upd.Approval.Approvals[0].By)
	assert.Nil(t, upd.Approval.Decided)

	requireRefused(t, again, "you have already approved: the case needs 2 distinct approvers")
	requireRefused(t, stale, "this button is from a request that was replaced")
	b := h.requireWaiting(before)
	assert.Len(t, b.Decisions, 1, "a refused decision was recorded")
	assert.Len(t, b.Approval.Approvals, 1)
	assert.Len(t, before.notices, 2, "a refused decision changed the request")

	h.requireAccepted(second)
	assert.Equal(t, CaseDone, st.State)
	require.NotNil(t, st.Approval)
	assert.Equal(t, ApprovalApproved, st.Approval.State)
	var by []string
	for _, d := range st.Approval.Approvals {
		by = append(by, d.By)
	}
	assert.Equal(t, []string{SlackBy(approver1), SlackBy(approver2)}, by)
	assert.Len(t, st.Decisions, 2)
	assert.False(t, st.CutStartedAt.Before(second.sentAt), "cut before the quorum was met")
	for _, id := range planOrder["okta"] {
		assert.Equal(t, StepDone, step(t, st, id).State, id)
	}

	ups := c.sent(activities.NoticeApprovalUpdate)
	require.Len(t, ups, 2)
	last := ups[1].Approval
	require.NotNil(t, last)
	assert.Equal(t, ApprovalApproved, last.State)
	assert.Empty(t, last.Nonce)
	require.NotNil(t, last.Decided)
	assert.Equal(t, SlackBy(approver2), last.Decided.By)
	assert.Len(t, last.Approvals, 2)
}

// A case whose settings ask for nothing runs straight through: no
// approval, no wait, no message.
func TestApproval_NoPolicyRunsStraightThrough(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{})
	start := h.env.Now().UTC()
	in := testInput()
	in.Source = "cli"

	st, err := h.run(in)
	require.NoError(t, err)

	assert.Equal(t, CaseDone, st.State)
	assert.Nil(t, st.Approval)
	assert.Empty(t, st.Decisions)
	assert.Empty(t, c.sent(), "a case without notices posted")
	c.mu.Lock()
	assert.Equal(t, []activities.SettingsInput{{Mode: string(ModeStandard), Source: "cli"}}, c.settingsIn)
	c.mu.Unlock()
	f.mu.Lock()
	for _, u := range f.upserts {
		assert.NotEqual(t, string(CaseAwaitingApproval), u.State, "a case without approval awaited it")
		assert.NotEqual(t, string(CaseScheduled), u.State)
	}
	assert.Len(t, f.resolves, 2, "resolved only by the cut, not for a request")
	f.mu.Unlock()
	assert.True(t, st.CutStartedAt.Equal(start), "cut started %v, want at once (%v)", st.CutStartedAt, start)
	for _, sys := range []string{"okta", "github"} {
		for _, id := range planOrder[sys] {
			assert.Equal(t, StepDone, step(t, st, id).State, id)
		}
	}
}

// With notices on, a parked step is posted with buttons; a click on the
// buttons of an earlier park is refused, and one on the current buttons is
// taken.
func TestApproval_ParkedNoticeNonce(t *testing.T) {
	f := &fakeVendors{runErr: func(step string, n int) error {
		if step == oktaSuspend && n <= 2 {
			return errDenied("okta", "suspend")
		}
		return nil
	}}
	h, c := newChatHarness(t, f, activities.Settings{Notices: true})
	var firstNonce string
	retry1 := h.updateLazyAt(10*time.Minute, UpdateDecideStep, func() any {
		firstNonce = c.parkedNonce()
		return DecideStepRequest{Step: oktaSuspend, Nonce: firstNonce, Action: ActionRetry, By: SlackBy(approver1)}
	})
	parked2 := h.probeAt(15*time.Minute, c)
	stale := h.updateLazyAt(20*time.Minute, UpdateDecideStep, func() any {
		return DecideStepRequest{Step: oktaSuspend, Nonce: firstNonce, Action: ActionRetry, By: SlackBy(approver1)}
	})
	retry2 := h.updateLazyAt(21*time.Minute, UpdateDecideStep, func() any {
		return DecideStepRequest{Step: oktaSuspend, Nonce: c.parkedNonce(), Action: ActionRetry, By: SlackBy(approver2)}
	})

	st, err := h.run(testInput())
	require.NoError(t, err)
	h.requireAccepted(retry1)
	requireRefused(t, stale, `this button is from an earlier park of step "okta.suspend"`)
	h.requireAccepted(retry2)

	parks := c.sent(activities.NoticeParked)
	require.Len(t, parks, 2)
	for i, p := range parks {
		require.NotNil(t, p.Step, "park %d", i+1)
		assert.Equal(t, oktaSuspend, p.Step.ID)
		assert.Equal(t, "PermissionDenied", p.Step.ErrorKind)
		assert.Equal(t, i+1, p.Step.Attempts)
		assert.Regexp(t, `^[0-9a-f]{32}$`, p.Step.Nonce)
		assert.Empty(t, p.Case.Name, "the ops channel sees no name")
		assert.Empty(t, p.Case.Reason, "the ops channel sees no reason")
		assert.Equal(t, WorkflowID(testEmployee), p.Case.CaseID)
	}
	assert.Equal(t, firstNonce, parks[0].Step.Nonce)
	assert.NotEqual(t, parks[0].Step.Nonce, parks[1].Step.Nonce, "a new park kept the old buttons")

	during := h.requireSnapshot(&parked2.snapshot)
	s := step(t, during, oktaSuspend)
	assert.Equal(t, StepParked, s.State)
	assert.Equal(t, &MessageRef{Channel: opsChannel, TS: "2.000002"}, s.Notice)

	// Each decision replaced its park's buttons.
	decided := c.sent(activities.NoticeParkedDecided)
	require.Len(t, decided, 2)
	var refs []string
	for _, d := range decided {
		refs = append(refs, d.Ref.Channel+"/"+d.Ref.TS)
		require.NotNil(t, d.Step)
		assert.Empty(t, d.Step.Nonce, "a decided park still has buttons")
		require.NotNil(t, d.Step.Decision)
		assert.Equal(t, ActionRetry, d.Step.Decision.Action)
	}
	assert.ElementsMatch(t, []string{opsChannel + "/2.000001", opsChannel + "/2.000002"}, refs)

	assert.Equal(t, CaseDone, st.State)
	assert.Nil(t, st.Approval, "notices alone need no approval")
	assert.Equal(t, StepDone, step(t, st, oktaSuspend).State)
	assert.Equal(t, 3, f.runs(oktaSuspend))
	require.Len(t, st.Decisions, 2, "the refused decision was recorded")
	assert.Equal(t, SlackBy(approver2), st.Decisions[1].By)

	sum := c.sent(activities.NoticeSummary)
	require.Len(t, sum, 1)
	require.NotNil(t, sum[0].Summary)
	assert.Equal(t, string(CaseDone), sum[0].Summary.State)
	assert.Equal(t, 5, sum[0].Summary.Verified)
	assert.Zero(t, sum[0].Summary.Skipped)
	assert.Len(t, c.sent(), 5, "two parks, two decisions, one summary")
}

// decideNow sends a decide-approval at once: from onNotice, while the
// workflow waits for that Notify to finish. (The Update is queued to the
// environment's main loop; the Notify's own completion is queued after it.)
func (h *harness) decideNow(req DecideApprovalRequest) *update {
	u := &update{}
	h.env.UpdateWorkflow(UpdateDecideApproval, "", &testsuite.TestUpdateCallback{
		OnAccept: func() { u.accepted = true },
		OnReject: func(err error) { u.rejected = err },
		OnComplete: func(v any, err error) {
			u.completed, u.result, u.err = true, v, err
		},
	}, req)
	return u
}

// An approval made while the buttons are being replaced (they show in
// Slack before the Notify that posted them returns) still gets the buttons
// replaced again, so the next approver has buttons that work.
func TestApproval_DecisionWhileButtonsAreReplaced(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(3)})
	first := h.decideAt(10*time.Minute, c, approve(approver1))
	var second *update
	c.onNotice = func(n activities.Notice) {
		if n.Kind == activities.NoticeApprovalUpdate && second == nil {
			second = h.decideNow(DecideApprovalRequest{Nonce: n.Approval.Nonce, Action: ActionApprove, User: approver2})
		}
	}
	third := h.decideAt(20*time.Minute, c, approve("U0APPROVER3"))
	// Ends the case should the third approval be refused (it is done by then
	// otherwise).
	h.updateAt(25*time.Minute, UpdateRescind, ScheduleRequest{By: "hr", Reason: "stuck awaiting approval"})

	st, err := h.run(hostileInput())
	require.NoError(t, err)
	h.requireAccepted(first)
	require.NotNil(t, second, "no approval-update was posted after the first approval")
	h.requireAccepted(second)
	h.requireAccepted(third)

	ups := c.sent(activities.NoticeApprovalUpdate)
	require.Len(t, ups, 3, "one update per approval")
	var nonces []string
	for i, u := range ups[:2] {
		require.NotNil(t, u.Approval)
		assert.Equal(t, ApprovalPending, u.Approval.State)
		assert.Len(t, u.Approval.Approvals, i+1)
		nonces = append(nonces, u.Approval.Nonce)
	}
	nonces = append(nonces, c.sent(activities.NoticeApprovalRequest)[0].Approval.Nonce)
	slices.Sort(nonces)
	assert.Len(t, slices.Compact(nonces), 3, "buttons were reused: %v", nonces)
	assert.Equal(t, ApprovalApproved, ups[2].Approval.State)
	assert.Equal(t, CaseDone, st.State)
	assert.Len(t, st.Approval.Approvals, 3)
}

// A click that arrives after the case has ended (cancelled, while its last
// messages are being posted) is refused: a cancelled case does not record
// an approval.
func TestApproval_NoDecisionAfterTheCaseEnded(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1), Notices: true})
	var late *update
	c.onNotice = func(n activities.Notice) {
		// The update says the case ended; the request's buttons (whose
		// nonce the case still holds) are clicked before it is posted.
		if n.Kind == activities.NoticeApprovalUpdate && late == nil {
			late = h.decideNow(DecideApprovalRequest{Nonce: c.approvalNonce(), Action: ActionApprove, User: approver1})
		}
	}
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 25*time.Minute)
	h.env.ExecuteWorkflow(Offboarding, hostileInput())
	require.True(t, h.env.IsWorkflowCompleted())
	require.True(t, temporal.IsCanceledError(h.env.GetWorkflowError()))

	require.NotNil(t, late, "the ended case's request was not updated")
	requireRefused(t, late, "is cancelled: it has ended, so nothing can be decided in it")
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var st Case
	require.NoError(t, v.Get(&st))
	assert.Equal(t, CaseCancelled, st.State)
	assert.Empty(t, st.Decisions)
	require.NotNil(t, st.Approval)
	assert.Equal(t, ApprovalPending, st.Approval.State, "a cancelled case was approved")
	assert.Empty(t, st.Approval.Approvals)
}

// A cut-now recorded while a case with a future effective time awaits
// approval only means "cut as soon as approved": the case can still be
// rescinded, and nothing is cut.
func TestApproval_RescindAfterCutNowWhileAwaitingApproval(t *testing.T) {
	f := &fakeVendors{}
	h, c := newChatHarness(t, f, activities.Settings{Approval: approvalPolicy(1), Notices: true})
	in := hostileInput()
	in.EffectiveAt = h.env.Now().Add(48 * time.Hour)
	cut := h.updateAt(10*time.Minute, UpdateCutNow, ScheduleRequest{By: "sec-lead", Reason: "urgent"})
	rescind := h.updateAt(20*time.Minute, UpdateRescind, ScheduleRequest{By: "hr", Reason: "offer accepted back"})
	h.decideAt(30*time.Hour, c, approve(approver1))

	st, err := h.run(in)
	require.NoError(t, err)
	h.requireAccepted(cut)
	h.requireAccepted(rescind)
	assert.Equal(t, CaseRescinded, st.State)
	f.mu.Lock()
	assert.Empty(t, f.runLog)
	f.mu.Unlock()
}
