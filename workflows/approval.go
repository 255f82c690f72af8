package workflows

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence/signals"
)

// versionSlack adds the approval gate and the Slack notices: cases started
// before it neither read the policy nor post.
const versionSlack = "slack-approvals-and-notices"

// noticeOptions are a Notify activity's options: a few tries, then the
// case goes on without the message (a Slack outage never holds a cut).
var noticeOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 4,
	},
}

// prepare reads what the worker's config asks of the case (whether it
// needs approval, whether it reports to Slack), and, when it needs
// approval, plans it (reading only) and asks for the approval. A policy
// that cannot be read fails the case with nothing cut.
func (w *offboarding) prepare(ctx workflow.Context, in Input) error {
	if workflow.GetVersion(ctx, versionSlack, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	actx := withSummary(w.policy.activityOptions(ctx), "read the approval policy and notices")
	err := workflow.ExecuteActivity(actx, a.CaseSettings, activities.SettingsInput{Mode: string(in.Mode), Source: in.Source}).Get(ctx, &w.settings)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("read the approval policy: "+failureMessage(err), "Unavailable", nil)
	}
	pol := w.settings.Approval
	if pol == nil {
		return nil
	}
	plan, perr := planAll(w.policy.activityOptions(ctx), PlanInput{Subject: subject(in)})
	w.brief = caseBrief(in, plan)
	if perr != nil {
		w.brief.PlanError = failureMessage(perr)
	}
	w.subjectIDs = subjectIdentifiers(in, plan)
	w.c.Approval = &Approval{State: ApprovalPending, Quorum: max(pol.Quorum, 1), RequestedAt: workflow.Now(ctx).UTC()}
	w.approvalNonce = newNonce(ctx)
	w.goNotice(ctx, func(ctx workflow.Context) { w.approvalNotices(ctx, in, plan) })
	return nil
}

func subject(in Input) connectors.Subject {
	return connectors.Subject{EmployeeID: in.EmployeeID, Email: in.Email, Overrides: in.Overrides}
}

// caseBrief is what the approval request says of the case and its plan.
func caseBrief(in Input, p Plan) activities.CaseBrief {
	b := activities.CaseBrief{
		EmployeeID: in.EmployeeID, Name: in.DisplayName, Mode: string(in.Mode), Source: in.Source,
		Reason: in.Reason, RequestedBy: in.RequestedBy, EffectiveAt: in.EffectiveAt, TimeZone: in.TimeZone,
	}
	for _, s := range p.Systems {
		sb := activities.SystemBrief{System: s.System, Found: s.Found, Steps: len(s.Steps)}
		if s.Account != nil {
			sb.AccountID = s.Account.ID
			if b.Name == "" {
				b.Name = s.Account.DisplayName
			}
		}
		b.Systems = append(b.Systems, sb)
	}
	return b
}

// assess has the approval request show the risk of the person's recent
// activity (the Assess activity: read, not kept); a failure says so.
func (w *offboarding) assess(ctx workflow.Context, in Input, plan Plan) {
	var accs []connectors.Account
	for _, s := range plan.Systems {
		if s.Account != nil {
			accs = append(accs, *s.Account)
		}
	}
	req := activities.SnapshotInput{CaseID: w.c.CaseID, EmployeeID: in.EmployeeID, Accounts: accs, Cut: workflow.Now(ctx).UTC(), TimeZone: in.TimeZone}
	actx := withSummary(workflow.WithActivityOptions(ctx, assessOptions), "evidence: assess the person's recent activity for the approvers")
	var as signals.Assessment
	if err := workflow.ExecuteActivity(actx, a.Assess, req).Get(ctx, &as); err != nil {
		w.brief.Risk, w.brief.RiskReasons = "unknown", []string{"the activity could not be assessed: " + failureMessage(err)}
		return
	}
	w.brief.Risk, w.brief.RiskReasons = string(as.Level), as.Reasons
}

// subjectIdentifiers are every identifier the person is known by — their
// accounts' IDs and attributes (Slack user ID, emails, logins) — in lower
// case, so a decision by the person themselves is refused. The list is
// sorted, so the map's iteration order does not matter.
//
//workflowcheck:ignore
func subjectIdentifiers(in Input, p Plan) []string {
	var ids []string
	add := func(v string) {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" && !slices.Contains(ids, v) {
			ids = append(ids, v)
		}
	}
	add(in.Email)
	for _, s := range p.Systems {
		if s.Account == nil {
			continue
		}
		add(s.Account.ID)
		for _, v := range s.Account.Attributes {
			add(v)
		}
	}
	slices.Sort(ids)
	return ids
}

// newNonce is a fresh random value for a message's buttons, recorded in
// history so replays see the same.
func newNonce(ctx workflow.Context) string {
	var n string
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}).Get(&n)
	return n
}

// approvalPending reports whether the case still waits for approvers.
func (w *offboarding) approvalPending() bool {
	return w.c.Approval != nil && w.c.Approval.State == ApprovalPending && !w.rescinded
}

func (w *offboarding) rejected() bool {
	return w.c.Approval != nil && w.c.Approval.State == ApprovalRejected
}

// wait holds the case until it may be cut: its effective time has come (or
// a cut-now was recorded) and, when it needs approval, approvers approved.
// The two waits overlap. A rescind or a rejection ends the wait with
// nothing cut.
func (w *offboarding) wait(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	for {
		if w.rescinded || w.rejected() {
			return nil
		}
		due := w.cutNow || w.c.EffectiveAt.IsZero() || !w.c.EffectiveAt.After(now)
		pending := w.approvalPending()
		if due && !pending {
			return nil
		}
		w.c.State = CaseScheduled
		if pending {
			w.c.State = CaseAwaitingApproval
		}
		w.publish(ctx)
		w.rescheduled = false
		seen := w.wake
		woken := func() bool { return w.wake != seen }
		var err error
		if due {
			err = workflow.Await(ctx, woken)
		} else {
			_, err = workflow.AwaitWithTimeout(ctx, w.c.EffectiveAt.Sub(now), woken)
		}
		if err != nil {
			return err
		}
		now = workflow.Now(ctx)
	}
}

// schedule records the effective time; a case whose time is to come is
// scheduled from its start.
func (w *offboarding) schedule(ctx workflow.Context, in Input) error {
	if in.EffectiveAt.IsZero() {
		return nil
	}
	// When already passed, the cut starts now (StartedAt), and the case
	// keeps the time that was asked for.
	w.c.EffectiveAt = in.EffectiveAt.UTC()
	if !in.EffectiveAt.After(workflow.Now(ctx)) {
		return nil
	}
	w.c.State = CaseScheduled
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAEffectiveAt.ValueSet(in.EffectiveAt)); err != nil {
		return err
	}
	w.publish(ctx)
	return nil
}

// waiting reports whether the case waits before its cut.
func (w *offboarding) waiting() bool {
	return w.c.State == CaseScheduled || w.c.State == CaseAwaitingApproval
}

var slackUserRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

func (w *offboarding) registerApproval(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideApproval,
		func(ctx workflow.Context, req DecideApprovalRequest) (DecisionResult, error) {
			ap := w.c.Approval
			d := Decision{Action: req.Action, By: SlackBy(req.User), Reason: strings.TrimSpace(req.Reason), RequestID: req.RequestID, At: workflow.Now(ctx).UTC()}
			w.c.Decisions = append(w.c.Decisions, d)
			w.changes++
			if req.Action == ActionReject {
				ap.Rejection, ap.State = &d, ApprovalRejected
			} else {
				ap.Approvals = append(ap.Approvals, d)
				if len(ap.Approvals) >= ap.Quorum {
					ap.State = ApprovalApproved
				}
			}
			// The clicked buttons are spent: the next round gets new ones.
			w.approvalNonce = ""
			if ap.State == ApprovalPending {
				w.approvalNonce = newNonce(ctx)
			}
			w.approvalRound++
			w.wake++
			return DecisionResult{Action: d.Action, At: d.At}, nil
		},
		workflow.UpdateHandlerOptions{Validator: w.validateApproval},
	)
}

// validateApproval refuses a decision that cannot apply: no trace is left
// in history. Whether the clicker is an approver at all is checked where
// the click arrives (it reads Slack); the case checks what it knows: the
// buttons are current, the clicker is neither the person nor the
// requester, and has not approved already.
func (w *offboarding) validateApproval(req DecideApprovalRequest) error {
	ap := w.c.Approval
	switch {
	case ap == nil:
		return errors.New("this case needs no approval")
	case w.rescinded:
		return errors.New("the case was rescinded; there is nothing left to decide")
	case w.ended:
		return w.endedErr()
	case ap.State == ApprovalApproved:
		return fmt.Errorf("the case was already approved (by %s)", approvers(ap.Approvals))
	case ap.State == ApprovalRejected:
		return fmt.Errorf("the case was already rejected by %s", ap.Rejection.By)
	case req.Nonce == "" || req.Nonce != w.approvalNonce:
		return errors.New("this button is from a request that was replaced or is not this case's: use the latest approval message")
	}
	var errs []error
	if req.Action != ActionApprove && req.Action != ActionReject {
		errs = append(errs, fmt.Errorf("action %q: want %s or %s", req.Action, ActionApprove, ActionReject))
	}
	if !slackUserRE.MatchString(req.User) {
		errs = append(errs, errors.New("who decided (a Slack user ID) is required"))
	}
	user, email := strings.ToLower(req.User), strings.ToLower(strings.TrimSpace(req.Email))
	if slices.Contains(w.subjectIDs, user) || (email != "" && slices.Contains(w.subjectIDs, email)) {
		errs = append(errs, errors.New("the person being offboarded cannot decide their own case"))
	}
	if by := strings.ToLower(strings.TrimSpace(w.c.RequestedBy)); by == user || (email != "" && by == email) || by == strings.ToLower(SlackBy(req.User)) {
		errs = append(errs, errors.New("whoever requested a case cannot approve or reject it"))
	}
	if slices.ContainsFunc(ap.Approvals, func(d Decision) bool { return d.By == SlackBy(req.User) }) {
		errs = append(errs, fmt.Errorf("you have already approved: the case needs %d distinct approvers", ap.Quorum))
	}
	if req.Action == ActionReject && blank(req.Reason) {
		errs = append(errs, errors.New("a rejection needs a reason"))
	}
	return errors.Join(errs...)
}

func approvers(ds []Decision) string {
	var by []string
	for _, d := range ds {
		by = append(by, d.By)
	}
	return strings.Join(by, ", ")
}

// goNotice runs f in its own coroutine; the case ends only after every
// such coroutine has.
func (w *offboarding) goNotice(ctx workflow.Context, f func(ctx workflow.Context)) {
	w.noticing++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.noticing-- }()
		f(ctx)
	})
}

// notify runs the Notify activity. A message that cannot be posted is
// logged and the case goes on.
func (w *offboarding) notify(ctx workflow.Context, n activities.Notice) (activities.NoticeRef, error) {
	n.Case.CaseID = w.c.CaseID
	ctx = withSummary(workflow.WithActivityOptions(ctx, noticeOptions), "slack: "+string(n.Kind))
	var ref activities.NoticeRef
	err := workflow.ExecuteActivity(ctx, a.Notify, n).Get(ctx, &ref)
	if err != nil {
		workflow.GetLogger(ctx).Warn("slack notice failed", "kind", n.Kind, "error", failureMessage(err))
	}
	return ref, err
}

// approvalNotices posts the approval request, reminds in its thread every
// RemindAfter, escalates once after EscalateAfter, refreshes the buttons as
// a quorum fills, and replaces them with the outcome. Time never approves
// anything.
func (w *offboarding) approvalNotices(ctx workflow.Context, in Input, plan Plan) {
	ap := w.c.Approval
	pol := w.settings.Approval
	post := func() {
		ref, err := w.notify(ctx, activities.Notice{Kind: activities.NoticeApprovalRequest, Case: w.brief, Approval: w.approvalBrief(ctx)})
		if err != nil {
			ap.LastError = failureMessage(err)
			return
		}
		ap.LastError, ap.Note = "", ref.Note
		if ref.TS != "" {
			ap.Request = &MessageRef{Channel: ref.Channel, TS: ref.TS}
		}
	}
	// posted is the decision round the buttons last posted show: a
	// decision made while they were being posted still gets new ones.
	posted := w.approvalRound
	post()
	// The request goes out at once; the risk of the person's recent
	// activity follows in an update when it has been assessed.
	if w.settings.Evidence != nil && w.approvalPending() {
		w.assess(ctx, in, plan)
		if w.approvalPending() && w.approvalRound == posted {
			w.updateApproval(ctx)
		}
	}
	for w.approvalPending() {
		remindAt := ap.RequestedAt.Add(pol.RemindAfter * time.Duration(ap.Reminders+1))
		escalateAt := ap.RequestedAt.Add(pol.EscalateAfter)
		escalate := pol.Escalate && ap.EscalatedAt.IsZero()
		next := remindAt
		if escalate && escalateAt.Before(next) {
			next = escalateAt
		}
		decided, err := workflow.AwaitWithTimeout(ctx, next.Sub(workflow.Now(ctx)), func() bool {
			return w.approvalRound != posted || !w.approvalPending()
		})
		if err != nil {
			return // cancelled
		}
		if !w.approvalPending() {
			break
		}
		if decided {
			posted = w.approvalRound
			w.updateApproval(ctx) // a quorum filling: new buttons
			continue
		}
		now := workflow.Now(ctx)
		if ap.Request == nil && ap.Note == "" {
			post() // the first post failed: try again
		}
		if escalate && !now.Before(escalateAt) {
			ap.EscalatedAt = now.UTC()
			w.notify(ctx, activities.Notice{Kind: activities.NoticeApprovalEscalation, Case: w.brief, Approval: w.approvalBrief(ctx)})
		}
		if !now.Before(remindAt) {
			ap.Reminders++
			if ap.Request != nil {
				w.notify(ctx, activities.Notice{Kind: activities.NoticeApprovalReminder, Case: w.brief, Approval: w.approvalBrief(ctx), Ref: w.requestRef()})
			}
		}
	}
	w.updateApproval(ctx)
}

// updateApproval replaces the request's buttons: new ones while a quorum
// fills, else the outcome.
func (w *offboarding) updateApproval(ctx workflow.Context) {
	if w.c.Approval.Request == nil {
		return
	}
	if _, err := w.notify(ctx, activities.Notice{Kind: activities.NoticeApprovalUpdate, Case: w.brief, Approval: w.approvalBrief(ctx), Ref: w.requestRef()}); err != nil {
		w.c.Approval.LastError = failureMessage(err)
	}
}

func (w *offboarding) requestRef() activities.NoticeRef {
	r := w.c.Approval.Request
	return activities.NoticeRef{Channel: r.Channel, TS: r.TS}
}

// approvalBrief is the approval as its messages show it.
func (w *offboarding) approvalBrief(ctx workflow.Context) *activities.ApprovalBrief {
	ap := w.c.Approval
	b := &activities.ApprovalBrief{Nonce: w.approvalNonce, Quorum: ap.Quorum, State: ap.State, Reminder: ap.Reminders,
		Waited: workflow.Now(ctx).Sub(ap.RequestedAt)}
	for _, d := range ap.Approvals {
		b.Approvals = append(b.Approvals, decisionBrief(d))
	}
	switch {
	case ap.Rejection != nil:
		d := decisionBrief(*ap.Rejection)
		b.Decided = &d
	case ap.State == ApprovalApproved:
		d := decisionBrief(ap.Approvals[len(ap.Approvals)-1])
		b.Decided = &d
	case w.rescinded:
		b.State = string(CaseRescinded)
		if i := slices.IndexFunc(w.c.Decisions, func(d Decision) bool { return d.Action == UpdateRescind }); i >= 0 {
			d := decisionBrief(w.c.Decisions[i])
			b.Decided = &d
		}
	case w.ended:
		b.State = string(w.c.State)
	}
	if b.State != ApprovalPending {
		b.Nonce = ""
	}
	return b
}

func decisionBrief(d Decision) activities.DecisionBrief {
	return activities.DecisionBrief{Action: d.Action, By: d.By, Reason: d.Reason, At: d.At}
}

// noticeParked posts a parked step with Retry and Skip buttons.
func (w *offboarding) noticeParked(ctx workflow.Context, st *Step) {
	if !w.settings.Notices {
		return
	}
	st.nonce = newNonce(ctx)
	st.Notice = nil
	ref, err := w.notify(ctx, activities.Notice{Kind: activities.NoticeParked, Case: w.shortBrief(), Step: stepBrief(st)})
	if err == nil && ref.TS != "" {
		st.Notice = &MessageRef{Channel: ref.Channel, TS: ref.TS}
	}
}

// noticeParkedAgain is a parked step's reminder, in its message's thread.
func (w *offboarding) noticeParkedAgain(ctx workflow.Context, st *Step) {
	if st.Notice == nil {
		return
	}
	w.notify(ctx, activities.Notice{Kind: activities.NoticeParkedReminder, Case: w.shortBrief(), Step: stepBrief(st),
		Ref: activities.NoticeRef{Channel: st.Notice.Channel, TS: st.Notice.TS}})
}

// noticeDecided replaces a parked step's buttons with the decision, in the
// background so the retry does not wait for Slack.
func (w *offboarding) noticeDecided(ctx workflow.Context, st *Step, d Decision) {
	if st.Notice == nil {
		return
	}
	sb := stepBrief(st)
	db := decisionBrief(d)
	sb.Decision, sb.Nonce = &db, ""
	n := activities.Notice{Kind: activities.NoticeParkedDecided, Case: w.shortBrief(), Step: sb,
		Ref: activities.NoticeRef{Channel: st.Notice.Channel, TS: st.Notice.TS}}
	st.nonce = ""
	w.goNotice(ctx, func(ctx workflow.Context) { w.notify(ctx, n) })
}

// shortBrief is a case as the ops channel sees it: no name, no reason.
func (w *offboarding) shortBrief() activities.CaseBrief {
	return activities.CaseBrief{CaseID: w.c.CaseID, EmployeeID: w.c.EmployeeID, Mode: string(w.c.Mode), Source: w.c.Source, RequestedBy: w.c.RequestedBy}
}

func stepBrief(st *Step) *activities.StepBrief {
	return &activities.StepBrief{ID: st.ID, ErrorKind: st.ErrorKind, Message: st.LastError, Attempts: st.Attempts, ParkedAt: st.ParkedAt, Nonce: st.nonce, Reminder: st.Reminders}
}

// finishNotices, once the case has ended, updates a request still showing
// buttons, posts the summary, and waits for every notice under way. It
// returns the summary's message (zero when none was posted).
func (w *offboarding) finishNotices(ctx workflow.Context) activities.NoticeRef {
	w.ended = true
	if ap := w.c.Approval; ap != nil && ap.State == ApprovalPending && !w.rescinded {
		w.updateApproval(ctx)
	}
	var ref activities.NoticeRef
	if w.settings.Notices {
		ref, _ = w.notify(ctx, activities.Notice{Kind: activities.NoticeSummary, Case: w.shortBrief(), Summary: w.summary(ctx)})
	}
	_ = workflow.Await(ctx, func() bool { return w.noticing == 0 })
	return ref
}

// summary counts an ended case's steps.
func (w *offboarding) summary(ctx workflow.Context) *activities.SummaryBrief {
	s := &activities.SummaryBrief{State: string(w.c.State), RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID,
		CutStartedAt: w.c.CutStartedAt, FinishedAt: w.c.FinishedAt, Error: w.c.Error}
	for _, st := range w.c.Steps {
		switch {
		case st.Action == ActionPlan && st.Result == ResultNoAccount:
			s.NoAccount++
		case st.Action == ActionPlan:
		case st.State == StepSkipped:
			s.Skipped++
		case st.Result == ResultAlready:
			s.Already++
		case st.Result == ResultVerified:
			s.Verified++
		}
	}
	return s
}
