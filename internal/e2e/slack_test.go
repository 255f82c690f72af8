package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/emulators/emu"
	slackemu "github.com/offboard/offboard/emulators/slack"
	"github.com/offboard/offboard/intake"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/slackapp"
	"github.com/offboard/offboard/workflows"
)

// The demo's approvers: the @security-team people.
const (
	margaret  = "U00001005" // E1005
	katherine = "U00001017" // E1017
)

func slackID(t *testing.T, employee string) string {
	t.Helper()
	p := person(t, employee)
	if p.Slack == nil {
		t.Fatalf("%s has no Slack account in the demo", employee)
	}
	return p.Slack.ID
}

// message waits for the bot's message in channel whose text names caseID
// and has the given action (a button), and returns it as it is now.
func (h *harness) message(channel, caseID, action string) slackemu.Message {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, m := range h.emu.Slack.Messages() {
			if m.Channel == channel && m.ThreadTS == "" && strings.Contains(m.Text, caseID) && (action == "" || bytes.Contains(m.Blocks, []byte(`"`+action+`"`))) {
				return m
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no message about %s with %q in %s; messages: %+v", caseID, action, channel, h.emu.Slack.Messages())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click plays a click in the Slack emulator, which signs it and delivers
// it to the intake, and returns the intake's answer.
func (h *harness) click(c slackemu.Click) *slackemu.ClickResult {
	h.t.Helper()
	res, err := h.emu.Slack.Click(h.t.Context(), h.stack.URLs["slack"], c)
	if err != nil {
		h.t.Fatalf("click %+v: %v", c, err)
	}
	return res
}

// deliver posts an interaction payload to the intake signed with secret at
// ts, as Slack would: a replay of an earlier click, or a forged one.
func (h *harness) deliver(payload []byte, secret string, ts time.Time) *http.Response {
	h.t.Helper()
	body := url.Values{"payload": {string(payload)}}.Encode()
	sts := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + sts + ":" + body))
	req, _ := http.NewRequestWithContext(h.t.Context(), http.MethodPost, h.stack.IntakeURL+intake.SlackPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", sts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// waitClosed waits until the case's workflow has closed (its last
// messages posted).
func (h *harness) waitClosed(employee string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := h.stack.Client.DescribeWorkflowExecution(h.t.Context(), workflows.WorkflowID(employee), "")
		if err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("case %s never closed (err %v)", employee, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// historyLength is how many events the case's history holds.
func (h *harness) historyLength(employee string) int64 {
	h.t.Helper()
	d, err := h.stack.Client.DescribeWorkflowExecution(h.t.Context(), workflows.WorkflowID(employee), "")
	if err != nil {
		h.t.Fatal(err)
	}
	return d.GetWorkflowExecutionInfo().GetHistoryLength()
}

// ephemeral waits for an ephemeral answer to user containing want.
func (h *harness) ephemeral(user, want string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, p := range h.emu.Slack.Posts() {
			if p.Kind == slackemu.KindEphemeral && p.User == user && strings.Contains(p.Text, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, p := range h.emu.Slack.Posts() {
				if p.Kind == slackemu.KindEphemeral {
					got = append(got, p.User+": "+p.Text)
				}
			}
			h.t.Fatalf("no ephemeral answer to %s saying %q; ephemeral answers: %q", user, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertUntouched checks that nothing was cut for the person: the Okta
// account is still active and no step ran.
func assertUntouched(t *testing.T, h *harness, employee string) {
	t.Helper()
	if u, _ := h.emu.Okta.User(oktaID(t, employee)); u.Status != "ACTIVE" {
		t.Errorf("%s: okta status %s, want ACTIVE (nothing cut)", employee, u.Status)
	}
	if u, ok := h.emu.Slack.User(slackID(t, employee)); !ok || !u.Active {
		t.Errorf("%s: slack user deactivated, want nothing cut", employee)
	}
	st := h.status(employee)
	for _, s := range st.Steps {
		if s.Action != workflows.ActionPlan && s.State != workflows.StepPending {
			t.Errorf("%s: step %s is %s before approval", employee, s.ID, s.State)
		}
	}
}

func TestIssue10_ApprovalInSlack(t *testing.T) {
	subject, requester := "E1002", "E1001"
	subjectUser, requesterUser := slackID(t, subject), slackID(t, requester)
	outsider := slackID(t, "E1003")
	h := start(t, dev.Options{Approvals: func(a *config.Approvals) {
		// The person and the requester are approvers too, to show that
		// being one is not enough.
		a.Approvers = append(a.Approvers, subjectUser, requesterUser)
	}})
	h.mustCLI("terminate", subject, "--mode", "hostile", "--reason", "exfiltration", "--by", person(t, requester).Email)
	st := h.waitFor(subject, "awaiting-approval", func(s workflows.Case) bool {
		return s.State == workflows.CaseAwaitingApproval && s.Approval != nil && s.Approval.Request != nil
	})
	if st.Approval.Request.Channel != slackemu.ApprovalsChannelID || st.Approval.Note != "" {
		t.Fatalf("request posted in %s (note %q), want the approvals channel", st.Approval.Request.Channel, st.Approval.Note)
	}
	if list := h.listShowing([]string{"--state", "awaiting-approval"}, workflows.WorkflowID(subject)); !strings.Contains(list, workflows.WorkflowID(subject)) {
		t.Errorf("list --state awaiting-approval:\n%s", list)
	}
	msg := h.message(slackemu.ApprovalsChannelID, workflows.WorkflowID(subject), slackapp.ActionApprove)
	// The risk of her recent activity follows in an update.
	h.waitMessage(msg.Channel, msg.TS, func(b []byte) bool { return bytes.Contains(b, []byte(`*Risk*\nlow`)) })
	msg = h.message(slackemu.ApprovalsChannelID, workflows.WorkflowID(subject), slackapp.ActionApprove)
	for _, want := range []string{subject, "exfiltration", "okta", "github", slackapp.ActionReject} {
		if !bytes.Contains(msg.Blocks, []byte(want)) {
			t.Errorf("approval message lacks %q: %s", want, msg.Blocks)
		}
	}
	assertUntouched(t, h, subject)

	// The person and an outsider get into the channel after the request
	// was posted; the requester is in it.
	for _, u := range []string{subjectUser, outsider, requesterUser} {
		if err := h.emu.Slack.Join(slackemu.ApprovalsChannelID, u); err != nil {
			t.Fatal(err)
		}
	}
	before := h.historyLength(subject)
	approve := slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionApprove}
	for _, c := range []struct {
		user, why string
	}{
		{outsider, "not an offboarding approver"},
		{requesterUser, "whoever requested a case cannot approve"},
		{subjectUser, "the person being offboarded cannot decide"},
	} {
		cl := approve
		cl.User = c.user
		if res := h.click(cl); res.Status != http.StatusOK {
			t.Errorf("click by %s: status %d %s", c.user, res.Status, res.Body)
		}
		h.ephemeral(c.user, c.why)
	}
	// Forged: another secret; stale: signed 6 minutes ago.
	forged := approve
	forged.User, forged.SigningSecret = margaret, "not-the-signing-secret"
	if res := h.click(forged); res.Status != http.StatusUnauthorized {
		t.Errorf("forged signature: status %d, want 401", res.Status)
	}
	stale := approve
	old := time.Now().Add(-6 * time.Minute).Unix()
	stale.User, stale.Timestamp = margaret, &old
	if res := h.click(stale); res.Status != http.StatusUnauthorized || !strings.Contains(string(res.Body), "5 minutes") {
		t.Errorf("stale timestamp: status %d %s, want 401", res.Status, res.Body)
	}
	if after := h.historyLength(subject); after != before {
		t.Errorf("refused clicks changed the history: %d events, then %d", before, after)
	}
	if st := h.status(subject); st.State != workflows.CaseAwaitingApproval || len(st.Decisions) != 0 {
		t.Fatalf("after refused clicks: state %s decisions %+v", st.State, st.Decisions)
	}
	assertUntouched(t, h, subject)

	// An approver's click: the case runs to done, the message says who.
	ok := approve
	ok.User = margaret
	res := h.click(ok)
	if res.Status != http.StatusOK {
		t.Fatalf("approval: status %d %s", res.Status, res.Body)
	}
	st = h.waitFor(subject, "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	assertClosed(t, h.emu, subject)
	if a := st.Approval; a.State != workflows.ApprovalApproved || len(a.Approvals) != 1 || a.Approvals[0].By != workflows.SlackBy(margaret) {
		t.Errorf("approval: %+v", a)
	}
	h.waitMessage(msg.Channel, msg.TS, func(b []byte) bool {
		return bytes.Contains(b, []byte("<@"+margaret+">")) && !bytes.Contains(b, []byte(slackapp.ActionApprove))
	})
	if text := h.mustCLI("status", subject); !strings.Contains(text, "Approval: approved, 1 of 1 approvals (slack:"+margaret+")") {
		t.Errorf("status does not show the approval:\n%s", text)
	}

	// A second approver on the same message (a click that crossed the
	// update), and a replay of the approving click: nothing changes.
	h.waitClosed(subject)
	done := h.historyLength(subject)
	second := bytes.ReplaceAll(res.Payload, []byte(`"id":"`+margaret+`"`), []byte(`"id":"`+katherine+`"`))
	for _, p := range [][]byte{second, res.Payload} {
		if r := h.deliver(p, slackemu.DevSigningSecret, time.Now()); r.StatusCode != http.StatusOK {
			t.Errorf("late click: status %d", r.StatusCode)
		}
	}
	// The answer goes to the response_url, which is the first clicker's.
	h.ephemeral(margaret, "has ended")
	if st := h.status(subject); len(st.Decisions) != 1 || st.State != workflows.CaseDone {
		t.Errorf("late clicks changed the case: %+v", st.Decisions)
	}
	if after := h.historyLength(subject); after != done {
		t.Errorf("late clicks changed the history: %d events, then %d", done, after)
	}

	// Reject asks for a reason in a modal; the case ends rejected with
	// nothing cut.
	h.mustCLI("terminate", "E1004", "--mode", "hostile", "--reason", "policy")
	rmsg := h.message(slackemu.ApprovalsChannelID, workflows.WorkflowID("E1004"), slackapp.ActionReject)
	if res := h.click(slackemu.Click{Channel: rmsg.Channel, TS: rmsg.TS, ActionID: slackapp.ActionReject, User: katherine}); res.Status != http.StatusOK {
		t.Fatalf("reject click: %d %s", res.Status, res.Body)
	}
	view := h.openView(katherine, slackapp.CallbackReject)
	sub := h.click(slackemu.Click{ViewID: view, User: katherine, Values: map[string]map[string]json.RawMessage{
		slackapp.ReasonBlock: {slackapp.ReasonAction: json.RawMessage(`"HR withdrew the termination"`)},
	}})
	if sub.Status != http.StatusOK || len(bytes.TrimSpace(sub.Body)) != 0 {
		t.Fatalf("reject submission: %d %s", sub.Status, sub.Body)
	}
	st = h.waitFor("E1004", "rejected", func(s workflows.Case) bool { return s.State == workflows.CaseRejected })
	if r := st.Approval.Rejection; r == nil || r.By != workflows.SlackBy(katherine) || r.Reason != "HR withdrew the termination" {
		t.Errorf("rejection: %+v", st.Approval.Rejection)
	}
	assertUntouched(t, h, "E1004")
	h.waitMessage(rmsg.Channel, rmsg.TS, func(b []byte) bool {
		return bytes.Contains(b, []byte("Rejected")) && bytes.Contains(b, []byte("HR withdrew"))
	})
}

// openView waits for the modal of callback opened for user and returns its
// ID.
func (h *harness) openView(user, callback string) string {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, v := range h.emu.Slack.Views() {
			if v.User == user && v.Status == "open" && v.CallbackID == callback {
				return v.ID
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s modal open for %s: %+v", callback, user, h.emu.Slack.Views())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unescaped undoes encoding/json's HTML escapes in blocks JSON.
func unescaped(b []byte) []byte {
	return []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b)))
}

// waitMessage waits until a message's blocks satisfy cond.
func (h *harness) waitMessage(channel, ts string, cond func([]byte) bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range h.emu.Slack.Messages() {
			if m.Channel == channel && m.TS == ts && cond(unescaped(m.Blocks)) {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("message %s/%s never changed as expected: %+v", channel, ts, h.emu.Slack.Messages())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIssue10_QuorumOfTwo(t *testing.T) {
	h := start(t, dev.Options{Approvals: func(a *config.Approvals) { a.Quorum = 2 }})
	h.mustCLI("terminate", "E1004", "--mode", "hostile")
	msg := h.message(slackemu.ApprovalsChannelID, workflows.WorkflowID("E1004"), slackapp.ActionApprove)
	first := h.click(slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionApprove, User: margaret})
	if first.Status != http.StatusOK {
		t.Fatalf("first approval: %d", first.Status)
	}
	h.waitMessage(msg.Channel, msg.TS, func(b []byte) bool { return bytes.Contains(b, []byte("1 of 2")) })
	st := h.status("E1004")
	if st.State != workflows.CaseAwaitingApproval || len(st.Approval.Approvals) != 1 {
		t.Fatalf("after one approval of two: %s %+v", st.State, st.Approval)
	}
	// The same approver again, on the new buttons: one person counts once.
	h.click(slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionApprove, User: margaret})
	h.ephemeral(margaret, "already approved")
	// The old buttons were replaced: a click that carries them is refused.
	stale := bytes.ReplaceAll(first.Payload, []byte(`"id":"`+margaret+`"`), []byte(`"id":"`+katherine+`"`))
	h.deliver(stale, slackemu.DevSigningSecret, time.Now())
	h.ephemeral(margaret, "replaced") // through the first click's response_url
	if st := h.status("E1004"); len(st.Approval.Approvals) != 1 {
		t.Fatalf("refused approvals counted: %+v", st.Approval)
	}
	assertUntouched(t, h, "E1004")
	h.click(slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionApprove, User: katherine})
	done := h.waitFor("E1004", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	if len(done.Approval.Approvals) != 2 {
		t.Errorf("approvals: %+v", done.Approval.Approvals)
	}
	assertClosed(t, h.emu, "E1004")
}

func TestIssue10_PersonNeverSeesItComing(t *testing.T) {
	h := start(t, dev.Options{})
	// E1006 has joined the approvals channel: the request goes to the
	// escalation channel, without the person's name.
	p := person(t, "E1006")
	if err := h.emu.Slack.Join(slackemu.ApprovalsChannelID, slackID(t, "E1006")); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1006", "--mode", "hostile", "--reason", "suspected insider")
	st := h.waitFor("E1006", "request posted", func(s workflows.Case) bool { return s.Approval != nil && s.Approval.Request != nil })
	if st.Approval.Request.Channel != slackemu.SecurityLeadsChannelID || !strings.Contains(st.Approval.Note, "member of the approvals channel") {
		t.Errorf("request in %s, note %q", st.Approval.Request.Channel, st.Approval.Note)
	}
	// Margaret (E1005) is in both private channels: nothing is posted.
	h.mustCLI("terminate", "E1005", "--mode", "hostile")
	st = h.waitFor("E1005", "note", func(s workflows.Case) bool { return s.Approval != nil && s.Approval.Note != "" })
	if st.Approval.Request != nil || !strings.Contains(st.Approval.Note, "not posted") {
		t.Errorf("approval of a person in every channel: %+v", st.Approval)
	}
	m := person(t, "E1005")
	for _, post := range h.emu.Slack.Posts() {
		for _, name := range []string{p.FirstName + " " + p.LastName, p.Email, "suspected insider", m.FirstName + " " + m.LastName} {
			if strings.Contains(post.Text, name) || bytes.Contains(post.Blocks, []byte(name)) {
				t.Errorf("a message in %s names the person (%q): %s", post.Channel, name, post.Blocks)
			}
		}
		if strings.Contains(post.Text, "E1005") || bytes.Contains(post.Blocks, []byte("E1005")) {
			t.Errorf("a message about E1005 was posted in %s", post.Channel)
		}
	}
	assertUntouched(t, h, "E1005")
}

func TestIssue10_ParkedStepButtons(t *testing.T) {
	h := start(t, dev.Options{})
	em := h.emu.Okta.Emulator()
	suspend := "/api/v1/users/" + oktaID(t, "E1002") + "/lifecycle/suspend"
	if err := em.AddFault(emu.Fault{Method: http.MethodPost, Path: "^" + suspend + "$", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1002")
	msg := h.message(slackemu.OffboardOpsChannelID, workflows.WorkflowID("E1002"), slackapp.ActionRetry)
	for _, want := range []string{"okta.suspend", "PermissionDenied", slackapp.ActionSkip} {
		if !bytes.Contains(msg.Blocks, []byte(want)) {
			t.Errorf("parked message lacks %q: %s", want, msg.Blocks)
		}
	}
	retry := slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionRetry}
	// Someone in the channel who is not an operator.
	outsider := slackID(t, "E1003")
	if err := h.emu.Slack.Join(slackemu.OffboardOpsChannelID, outsider); err != nil {
		t.Fatal(err)
	}
	retry.User = outsider
	h.click(retry)
	h.ephemeral(outsider, "not an offboarding operator")
	if st := h.status("E1002"); len(st.Decisions) != 0 {
		t.Fatalf("a refused retry was recorded: %+v", st.Decisions)
	}
	em.ClearFaults()
	retry.User = katherine
	if res := h.click(retry); res.Status != http.StatusOK {
		t.Fatalf("retry: %d %s", res.Status, res.Body)
	}
	st := h.waitFor("E1002", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if len(st.Decisions) != 1 || st.Decisions[0].By != workflows.SlackBy(katherine) || st.Decisions[0].Action != workflows.ActionRetry {
		t.Errorf("decisions: %+v", st.Decisions)
	}
	h.waitMessage(msg.Channel, msg.TS, func(b []byte) bool {
		return bytes.Contains(b, []byte("Retried")) && !bytes.Contains(b, []byte(slackapp.ActionRetry))
	})
	// The summary names the case, its state and its steps.
	sum := h.message(slackemu.OffboardOpsChannelID, workflows.WorkflowID("E1002")+" is done", "")
	if !bytes.Contains(sum.Blocks, []byte("verified")) || !bytes.Contains(sum.Blocks, []byte("Time to cut")) {
		t.Errorf("summary: %s", sum.Blocks)
	}

	// Skip through the modal records the reason.
	factors := "/api/v1/users/" + oktaID(t, "E1015") + "/lifecycle/reset_factors"
	if err := em.AddFault(emu.Fault{Method: http.MethodPost, Path: "^" + factors + "$", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1015")
	msg = h.message(slackemu.OffboardOpsChannelID, workflows.WorkflowID("E1015"), slackapp.ActionSkip)
	h.click(slackemu.Click{Channel: msg.Channel, TS: msg.TS, ActionID: slackapp.ActionSkip, User: margaret})
	view := h.openView(margaret, slackapp.CallbackSkip)
	h.click(slackemu.Click{ViewID: view, User: margaret, Values: map[string]map[string]json.RawMessage{
		slackapp.ReasonBlock: {slackapp.ReasonAction: json.RawMessage(`"factors are managed by the MDM"`)},
	}})
	st = h.waitFor("E1015", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	s, _ := st.Step("okta.reset-factors")
	if s.State != workflows.StepSkipped || s.SkippedBy != workflows.SlackBy(margaret) || s.SkipReason != "factors are managed by the MDM" {
		t.Errorf("skipped step: %+v", s)
	}
	if !slices.ContainsFunc(st.Decisions, func(d workflows.Decision) bool { return d.Action == workflows.ActionSkip }) {
		t.Errorf("decisions: %+v", st.Decisions)
	}
}
