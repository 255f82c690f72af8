package config_test

import (
	"strings"
	"testing"
	"time"
)

const oktaSection = `
okta:
  orgUrl: https://acme.okta.com
  token: t
`

func TestApprovals(t *testing.T) {
	c, err := load(t, oktaSection+`
approvals:
  channel: C0APPROVALS
  approvers: [U0SECLEAD]
  approverGroup: S0SECURITY
  when: [mode:hostile, source:okta]
  escalateTo: C0LEADS
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Approvals
	if a == nil || a.Quorum != 1 || a.RemindAfter != 30*time.Minute || a.EscalateAfter != 2*time.Hour {
		t.Fatalf("defaults: %+v", a)
	}
	for _, tc := range []struct {
		mode, source string
		want         bool
	}{
		{"hostile", "cli", true}, {"standard", "okta", true}, {"standard", "hr", false}, {"standard", "", false},
	} {
		if got := a.Needs(tc.mode, tc.source); got != tc.want {
			t.Errorf("Needs(%s, %s) = %v, want %v", tc.mode, tc.source, got, tc.want)
		}
	}
	every, err := load(t, oktaSection+"approvals: {channel: C0A, approvers: [U0A]}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !every.Approvals.Needs("standard", "") {
		t.Error("an empty when should mean every case needs approval")
	}
	none, err := load(t, oktaSection, nil)
	if err != nil || none.Approvals != nil || none.Approvals.Needs("hostile", "cli") {
		t.Errorf("no approvals key: %+v %v", none.Approvals, err)
	}
}

func TestApprovalsRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"approvals: {channel: general, approvers: [U0A]}", `approvals.channel "general": want a Slack channel ID`},
		{"approvals: {channel: C0A}", "names no approver"},
		{"approvals: {channel: C0A, approvers: [alice]}", `"alice" is not a Slack user ID`},
		{"approvals: {channel: C0A, approverGroup: security}", `approverGroup "security"`},
		{"approvals: {channel: C0A, approvers: [U0A], quorum: 2}", "more than the 1 approvers listed"},
		{"approvals: {channel: C0A, approvers: [U0A, U0A], quorum: 2}", "more than the 1 approvers listed"},
		{"approvals: {channel: C0A, approverGroup: S0A, quorum: 11}", "want 1 to 10"},
		{"approvals: {channel: C0A, approvers: [U0A], when: [mode:angry]}", "mode is standard or hostile"},
		{"approvals: {channel: C0A, approvers: [U0A], when: [source:email]}", "source is one of cli, hr, okta"},
		{"approvals: {channel: C0A, approvers: [U0A], when: [risk:high]}", "not supported yet"},
		{"approvals: {channel: C0A, approvers: [U0A], when: [hostile]}", "want mode:<mode> or source:<source>"},
		{"approvals: {channel: C0A, approvers: [U0A], remindAfter: 10s}", "remindAfter 10s: want at least 1m0s"},
		{"approvals: {channel: C0A, approvers: [U0A], escalateAfter: 1h}", "escalateTo is not"},
		{"approvals: {channel: C0A, approvers: [U0A], escalateTo: C0A}", "escalateTo is the approvals channel"},
		{"approvals: {channel: C0A, approvers: [U0A], autoApprove: true}", "field autoApprove not found"},
		{"approvals: {channel: C0A, approvers: [U0A], remindAfter: soon}", "approvals"},
	} {
		_, err := load(t, oktaSection+tc.yaml+"\n", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestWatch(t *testing.T) {
	c, err := load(t, oktaSection+"watch: {days: 30, rechecks: [1h, 24h]}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Watch == nil || c.Watch.Days != 30 || c.Watch.PollInterval != 15*time.Minute || len(c.Watch.Rechecks) != 2 {
		t.Fatalf("watch %+v", c.Watch)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"watch: {days: 400}", "watch.days 400: want 1 to 365"},
		{"watch: {pollInterval: 10ms}", "want at least 1s"},
		{"watch: {rechecks: [24h, 1h]}", "increasing order"},
		{"watch: {forever: true}", "field forever not found"},
	} {
		if _, err := load(t, oktaSection+tc.yaml+"\n", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
