package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence/indicators"
)

// fakeNotifier records the watch's Slack notices.
type fakeNotifier struct {
	mu      sync.Mutex
	notices []activities.Notice
}

func (n *fakeNotifier) notify(_ context.Context, in activities.Notice) (activities.NoticeRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notices = append(n.notices, in)
	return activities.NoticeRef{Channel: "CSEC", TS: "1.2"}, nil
}

func watchInput(h *harness) WatchInput {
	return WatchInput{CaseID: WorkflowID(testEmployee), EmployeeID: testEmployee, CutAt: h.env.Now(),
		Accounts: []connectors.Account{{System: "okta", ID: oktaUserID}}, Steps: fakePlan("okta", nil)[:1], Snapshot: "E1234-run1"}
}

func watchResult(t *testing.T, h *harness) WatchStatus {
	t.Helper()
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var st WatchStatus
	require.NoError(t, h.env.GetWorkflowResult(&st))
	return st
}

// An extortion report is sealed and matched by the SealReport activity;
// the watch keeps the result, adds the message's indicators to its own,
// alerts, and goes to state extortion. Bad reports are refused unrun.
func TestWatch_ExtortionReport(t *testing.T) {
	h := newWatchHarness(t, &fakeVendors{}, &fakeWatchPoll{}, time.Time{})
	var sealed []activities.ReportInput
	h.env.OnActivity(a.SealReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReportInput) (activities.ReportResult, error) {
			sealed = append(sealed, in)
			return activities.ReportResult{SHA256: "f00d", Size: len(in.Message), Bundle: "E1234-report-1", Digest: "d1",
				Indicators: indicators.Indicators{Repos: []string{"acme/payments-api"}, IPs: []string{"45.14.71.9"},
					Wallets: []indicators.Wallet{{Chain: indicators.ChainBitcoin, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}}},
				Matches: []indicators.Match{{Indicator: "acme/payments-api", Kind: "repo", Events: 31,
					Summary: "the message names acme/payments-api, cloned by the person 31 times on 2026-11-20"}}}, nil
		})
	msg := []byte("Subject: pay\r\n\r\nwe have acme/payments-api")
	noKind := h.updateAt(time.Hour, UpdateReport, ReportRequest{By: "soc", Kind: "ransom", Message: msg})
	empty := h.updateAt(time.Hour, UpdateReport, ReportRequest{By: "soc", Kind: activities.ReportExtortion})
	good := h.updateAt(2*time.Hour, UpdateReport, ReportRequest{By: "soc", Kind: activities.ReportExtortion, Note: "to the CEO", Message: msg})
	h.updateAt(3*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "soc", Reason: "done"})
	h.env.ExecuteWorkflow(WatchName, watchInput(h))
	st := watchResult(t, h)

	requireRefused(t, noKind, `kind "ransom"`)
	requireRefused(t, empty, "the message is empty")
	h.requireAccepted(good)
	require.Len(t, sealed, 1, "only the good report reached the activity")
	assert.Equal(t, msg, sealed[0].Message)
	assert.Equal(t, "E1234-run1", sealed[0].Snapshot, "matched against the case's snapshot")
	require.Len(t, st.Reports, 1)
	rep := st.Reports[0]
	assert.Equal(t, "to the CEO", rep.Note)
	assert.Equal(t, "E1234-report-1", rep.Bundle)
	require.Len(t, rep.Matches, 1)
	assert.Equal(t, []string{"45.14.71.9"}, st.Indicators.IPs, "the message's IP is watched from now on")
	assert.Len(t, st.Indicators.Wallets, 1)
	assert.Empty(t, st.Indicators.Repos, "repositories are matched, not watched")
	require.Len(t, st.Alerts, 1)
	assert.Equal(t, AlertReport, st.Alerts[0].Kind)
	assert.Contains(t, st.Alerts[0].Message, "cloned by the person 31 times")
	// Closed at the end, but it was in extortion.
	assert.Equal(t, WatchClosed, st.State)
	assert.Equal(t, 1, st.Reported)
}

// The report's state is extortion until closed; a report whose sealing
// fails answers with the error and changes nothing.
func TestWatch_ExtortionStateAndFailedReport(t *testing.T) {
	h := newWatchHarness(t, &fakeVendors{}, &fakeWatchPoll{}, time.Time{})
	calls := 0
	h.env.OnActivity(a.SealReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReportInput) (activities.ReportResult, error) {
			calls++
			if calls == 1 {
				return activities.ReportResult{}, errors.New("store unavailable")
			}
			return activities.ReportResult{SHA256: "f00d", Size: len(in.Message), Bundle: "b", Digest: "d"}, nil
		})
	msg := []byte("pay 1 BTC")
	failed := h.updateAt(time.Hour, UpdateReport, ReportRequest{By: "soc", Kind: activities.ReportExtortion, Message: msg})
	var mid WatchStatus
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryWatch)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 90*time.Minute)
	ok := h.updateAt(2*time.Hour, UpdateReport, ReportRequest{By: "soc", Kind: activities.ReportExtortion, Message: msg})
	var after WatchStatus
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryWatch)
		require.NoError(t, err)
		require.NoError(t, v.Get(&after))
	}, 150*time.Minute)
	h.updateAt(3*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "soc", Reason: "done"})
	in := watchInput(h)
	in.Policy = Policy{StepAttempts: 1}
	h.env.ExecuteWorkflow(WatchName, in)
	watchResult(t, h)
	require.True(t, failed.completed)
	require.Error(t, failed.err)
	assert.Contains(t, failed.err.Error(), "the report could not be kept")
	assert.Equal(t, WatchOpen, mid.State, "a failed report changes nothing")
	assert.Empty(t, mid.Reports)
	h.requireAccepted(ok)
	assert.Equal(t, WatchExtortion, after.State)
	assert.Len(t, after.Reports, 1)
}

// Indicators added are validated, merged, and handed to every later poll.
func TestWatch_AddIndicator(t *testing.T) {
	p := &fakeWatchPoll{}
	h := newWatchHarness(t, &fakeVendors{}, p, time.Time{})
	bad := h.updateAt(time.Minute, UpdateAddIndicator, AddIndicatorRequest{By: "soc", Indicators: indicators.Indicators{IPs: []string{"not-an-ip"}}})
	none := h.updateAt(time.Minute, UpdateAddIndicator, AddIndicatorRequest{By: "soc"})
	good := h.updateAt(20*time.Minute, UpdateAddIndicator, AddIndicatorRequest{By: "soc", Indicators: indicators.Indicators{IPs: []string{"45.14.71.9"}, Emails: []string{"jt@proton.me"}}})
	again := h.updateAt(25*time.Minute, UpdateAddIndicator, AddIndicatorRequest{By: "soc", Indicators: indicators.Indicators{IPs: []string{"45.14.71.9"}, GitHubLogins: []string{"jt-dev"}}})
	h.updateAt(time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "soc", Reason: "done"})
	h.env.ExecuteWorkflow(WatchName, watchInput(h))
	st := watchResult(t, h)
	requireRefused(t, bad, `ip "not-an-ip" is not an IP address`)
	requireRefused(t, none, "no indicators given")
	h.requireAccepted(good)
	h.requireAccepted(again)
	assert.Equal(t, []string{"45.14.71.9"}, st.Indicators.IPs, "merged, once")
	assert.Equal(t, []string{"jt-dev"}, st.Indicators.GitHubLogins)
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.polls)
	assert.True(t, p.polls[0].Indicators.Empty(), "the first poll (at 15 minutes) came before any indicator")
	last := p.polls[len(p.polls)-1]
	assert.Equal(t, []string{"jt@proton.me"}, last.Indicators.Emails, "later polls look for them")
}

// With notices on, each alert is posted once to Slack, paging whom the
// escalation policy names for its kind and for every kind, in the case's
// summary thread.
func TestWatch_AlertsPostedAndPaged(t *testing.T) {
	p := &fakeWatchPoll{}
	h := newWatchHarness(t, &fakeVendors{}, p, time.Time{})
	p.attemptAt = h.env.Now().Add(20 * time.Minute)
	n := &fakeNotifier{}
	h.env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(n.notify)
	h.updateAt(2*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "soc", Reason: "done"})
	in := watchInput(h)
	in.Notices = true
	in.Thread = activities.NoticeRef{Channel: "COPS", TS: "9.9"}
	in.Escalate = map[string][]string{AlertAttempt: {"U0SOC1"}, "*": {"S0SEC", "U0SOC1"}, AlertCameBack: {"U0IAM"}}
	h.env.ExecuteWorkflow(WatchName, in)
	st := watchResult(t, h)
	require.Len(t, st.Alerts, 1, "the attempt, once, though two polls' windows hold it")
	al := st.Alerts[0]
	assert.Equal(t, []string{"U0SOC1", "S0SEC"}, al.Paged)
	assert.Equal(t, "CSEC", al.Posted)
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Len(t, n.notices, 1, "posted once")
	got := n.notices[0]
	assert.Equal(t, activities.NoticeWatchAlert, got.Kind)
	assert.Equal(t, in.Thread, got.Ref)
	require.NotNil(t, got.Watch)
	assert.Equal(t, al.ID, got.Watch.AlertID)
	assert.Equal(t, al.Paged, got.Watch.Paged)
	assert.Contains(t, got.Watch.Message, "45.14.71.9")
}

// A recheck that cannot reach the vendor is not an alert: the step is
// named unverified, and nothing is run again.
func TestWatch_RecheckVendorDown(t *testing.T) {
	f := &fakeVendors{verifyErr: func(string, int) error {
		return &connectors.Error{Kind: connectors.Unavailable, System: "okta", Op: "verify", Msg: "503"}
	}}
	h := newWatchHarness(t, f, &fakeWatchPoll{}, time.Time{})
	h.updateAt(2*time.Hour, UpdateCloseWatch, CloseWatchRequest{By: "soc", Reason: "done"})
	in := watchInput(h)
	in.Policy = Policy{StepAttempts: 2}
	h.env.ExecuteWorkflow(WatchName, in)
	st := watchResult(t, h)
	assert.Empty(t, st.Alerts)
	require.Len(t, st.Unverified, 1)
	assert.Contains(t, st.Unverified[0], "503")
	assert.Equal(t, 0, f.runs(oktaSuspend), "nothing run again")
}
