package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/emulators/emu"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	slackemu "github.com/offboard/offboard/emulators/slack"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/intake"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/workflows"
)

// watchOptions is the dev stack with the watch in seconds: a poll every
// second, rechecks 15, 30 and 45 seconds and an hour after the cut.
func watchOptions() dev.Options {
	return dev.Options{Watch: func(w *config.Watch) {
		w.PollInterval = time.Second
		w.Rechecks = []time.Duration{15 * time.Second, 30 * time.Second, 45 * time.Second, time.Hour}
	}}
}

func (h *harness) watch(employee string) workflows.WatchStatus {
	h.t.Helper()
	var st workflows.WatchStatus
	out := h.mustCLI("watch", "status", employee, "-o", "json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		h.t.Fatalf("watch status json: %v\n%s", err, out)
	}
	return st
}

// waitWatch polls the watch until cond holds.
func (h *harness) waitWatch(employee, what string, cond func(workflows.WatchStatus) bool) workflows.WatchStatus {
	h.t.Helper()
	return waitQuery(h, workflows.WatchID(employee), workflows.QueryWatch, what, cond)
}

// attempt simulates the person coming back, in one emulator.
func (h *harness) attempt(system string, body map[string]string) {
	h.t.Helper()
	h.postEmulator(system, emu.AttemptPath, body)
}

func alertsOf(st workflows.WatchStatus, kind, system string) []workflows.Alert {
	var out []workflows.Alert
	for _, al := range st.Alerts {
		if al.Kind == kind && (system == "" || al.System == system) {
			out = append(out, al)
		}
	}
	return out
}

// The watch, end to end: E1001's done case opens it; her sign-in attempt
// and a call with her deactivated AWS key are two alerts, with their
// events sealed, posted to Slack; her Okta user re-activated through
// Okta's API is suspended again at the next recheck, and the alert names
// who did it; an extortion message naming a repository she cloned and a
// wallet puts the watch in state extortion, sealed, matched against her
// snapshot; an incident packet is written; watch close ends it.
func TestIssue12_TheWatch(t *testing.T) {
	h := start(t, watchOptions())
	h.mustCLI("terminate", "E1001", "--reason", "watch test")
	st := h.waitFor("E1001", "done with its watch", func(s workflows.Case) bool { return s.State == workflows.CaseDone && s.Watch != "" })
	if st.WatchError != "" || st.Watch != workflows.WatchID("E1001") {
		t.Fatalf("watch %q, error %q", st.Watch, st.WatchError)
	}
	ws := h.watch("E1001")
	if ws.State != workflows.WatchOpen || !ws.Until.Equal(st.CutStartedAt.Add(90*24*time.Hour)) {
		t.Fatalf("a new watch: %+v", ws)
	}
	var records []string
	for _, s := range st.Steps {
		records = append(records, s.Records...)
	}
	var key string
	for _, id := range connectors.CredentialIDs(records) {
		if strings.HasPrefix(id, "AKIA") {
			key = id
		}
	}
	if key == "" {
		t.Fatalf("the cut recorded no access key: %q", records)
	}
	okta := oktaID(t, "E1001")

	// She tries to sign in, and to use her key.
	h.attempt("okta", map[string]string{"account": okta, "ip": "45.14.71.9"})
	h.attempt("aws", map[string]string{"credential": key, "ip": "45.14.71.9"})
	ws = h.waitWatch("E1001", "two attempt alerts", func(w workflows.WatchStatus) bool {
		return len(alertsOf(w, workflows.AlertAttempt, "okta")) > 0 && len(alertsOf(w, workflows.AlertAttempt, "aws")) > 0
	})
	if ws.State != workflows.WatchAlerting {
		t.Errorf("state %s, want alerting", ws.State)
	}
	// Nothing else: the cut's own revocations (which Google, for one,
	// attributes to the person) are not attempts.
	if len(ws.Alerts) != 2 {
		t.Errorf("%d alerts, want the 2 attempts: %+v", len(ws.Alerts), ws.Alerts)
	}
	for _, sys := range []string{"okta", "aws"} {
		als := alertsOf(ws, workflows.AlertAttempt, sys)
		if len(als) != 1 {
			t.Errorf("%d %s attempt alerts, want 1 (deduplicated): %+v", len(als), sys, als)
			continue
		}
		al := als[0]
		if len(al.Events) == 0 || al.Events[0].SourceIP != "45.14.71.9" || al.Events[0].Outcome != "failure" || al.Bundle == "" {
			t.Errorf("%s alert without its failed event or bundle: %+v", sys, al)
		}
		h.mustCLI("evidence", "verify", filepath.Join(h.stack.Config.Evidence.Dir, al.Bundle))
	}
	if al := alertsOf(ws, workflows.AlertAttempt, "aws"); len(al) == 1 && !strings.Contains(al[0].Message, "recorded credential "+key) {
		t.Errorf("the AWS alert does not name the key: %s", al[0].Message)
	}
	// Posted to the security channel, paging the security team.
	deadline := time.Now().Add(30 * time.Second)
	for posted := 0; posted < 2; {
		posted = 0
		for _, m := range h.emu.Slack.Messages() {
			if m.Channel == slackemu.SecurityLeadsChannelID && strings.Contains(m.Text, "Watch watch/E1001 alert") && strings.Contains(m.Text, "attempt") {
				posted++
				if !bytes.Contains(unescaped(m.Blocks), []byte("<@"+margaret+">")) {
					t.Errorf("alert not paging the security team: %s", m.Blocks)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempt alerts posted to the security channel, want 2", posted)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// An HR integration re-activates her Okta user through Okta's API.
	req, _ := http.NewRequest(http.MethodPost, h.stack.URLs["okta"]+"/api/v1/users/"+okta+"/lifecycle/unsuspend", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DevHRToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsuspend: %s", resp.Status)
	}
	ws = h.waitWatch("E1001", "came-back alert", func(w workflows.WatchStatus) bool { return len(alertsOf(w, workflows.AlertCameBack, "okta")) > 0 })
	if n := len(alertsOf(ws, workflows.AlertCameBack, "")); n != 1 {
		t.Errorf("%d came-back alerts, want one for Okta's steps together", n)
	}
	back := alertsOf(ws, workflows.AlertCameBack, "okta")[0]
	if !back.Redone || !strings.Contains(back.Message, "brought back by") || !strings.Contains(back.Message, "user.lifecycle.unsuspend") || !strings.Contains(back.Message, "okta.suspend") {
		t.Errorf("came-back alert: %+v", back)
	}
	if u, _ := h.emu.Okta.User(okta); u.Status != "SUSPENDED" {
		t.Errorf("her Okta user is %s after the recheck, want SUSPENDED", u.Status)
	}

	// The extortion message names a repository she cloned and a wallet.
	repo := clonedRepo(t, h, st.Evidence)
	msg := "From: \"Dev Ops\" <jt.dev.ops@proton.me>\r\nTo: ceo@example.com\r\nSubject: your source code\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"We have a full copy of " + repo + " and your customer data. Send 3 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\r\n" +
		"within 72 hours or it is published.\r\n"
	file := filepath.Join(t.TempDir(), "demand.eml")
	if err := os.WriteFile(file, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := h.mustCLI("watch", "report", "E1001", "--kind", "extortion", "--file", file, "--note", "sent to the CEO", "-o", "json")
	var rep workflows.WatchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report json: %v\n%s", err, out)
	}
	if len(rep.Indicators.Wallets) != 1 || len(rep.Indicators.Emails) == 0 || !containsFold(rep.Indicators.Repos, repo) {
		t.Errorf("indicators: %+v", rep.Indicators)
	}
	if len(rep.Matches) == 0 || !strings.Contains(rep.Matches[0].Summary, repo) {
		t.Errorf("no match with the snapshot: %+v", rep.Matches)
	}
	h.mustCLI("evidence", "verify", filepath.Join(h.stack.Config.Evidence.Dir, rep.Bundle))
	sealed, err := evidence.ReadEvents(t.Context(), evidence.NewDir(h.stack.Config.Evidence.Dir), rep.Bundle)
	if err != nil || len(sealed) != 1 || sealed[0].Target != "sha256:"+rep.SHA256 {
		t.Errorf("the sealed message: %+v %v", sealed, err)
	}
	ws = h.watch("E1001")
	if ws.State != workflows.WatchExtortion {
		t.Errorf("state %s after an extortion report", ws.State)
	}
	if text := h.mustCLI("watch", "status", "E1001"); !strings.Contains(text, "EXTORTION") || !strings.Contains(text, "match: ") {
		t.Errorf("watch status text:\n%s", text)
	}
	if list := h.mustCLI("watch", "list", "--state", "extortion"); !strings.Contains(list, "watch/E1001") {
		t.Errorf("watch list --state extortion:\n%s", list)
	}

	// The incident packet.
	packet := filepath.Join(t.TempDir(), "E1001.md")
	h.mustCLI("watch", "export", "E1001", "-o", packet)
	b, err := os.ReadFile(packet)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the cut started", "alert:attempt", "alert:came-back", "report:extortion", rep.Digest, st.Evidence.Digest} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the packet lacks %q", want)
		}
	}

	// Closing needs a reason, and ends it.
	if _, errs, code := h.cli("watch", "close", "E1001"); code == 0 || !strings.Contains(errs, "reason") {
		t.Errorf("close without a reason: exit %d %q", code, errs)
	}
	h.mustCLI("watch", "close", "E1001", "--reason", "counsel has it")
	h.waitClosedWatch("E1001")
	ws = h.watch("E1001")
	if ws.State != workflows.WatchClosed || ws.CloseReason != "counsel has it" || ws.ClosedBy != "e2e-operator" {
		t.Errorf("closed watch: %+v", ws)
	}
	if _, errs, code := h.cli("watch", "add-indicator", "E1001", "--ip", "45.14.71.9"); code == 0 || !strings.Contains(errs, "ended") {
		t.Errorf("an indicator added to a closed watch: exit %d %q", code, errs)
	}
	h.recordWatch("E1001", "watch-e2e.json")
}

// waitClosedWatch waits for the watch's workflow to complete.
func (h *harness) waitClosedWatch(employee string) {
	h.t.Helper()
	run := h.stack.Client.GetWorkflow(h.t.Context(), workflows.WatchID(employee), "")
	var st workflows.WatchStatus
	if err := run.Get(h.t.Context(), &st); err != nil {
		h.t.Fatalf("watch of %s: %v", employee, err)
	}
}

// clonedRepo is the repository the person cloned most, from her snapshot.
func clonedRepo(t *testing.T, h *harness, ev *workflows.Evidence) string {
	t.Helper()
	if ev == nil || ev.Bundle == "" {
		t.Fatal("no snapshot")
	}
	evs, err := evidence.ReadEvents(t.Context(), evidence.NewDir(h.stack.Config.Evidence.Dir), ev.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	best := ""
	for _, e := range evs {
		if e.Action == "git.clone" && e.Target != "" {
			n[e.Target]++
			if n[e.Target] > n[best] {
				best = e.Target
			}
		}
	}
	if best == "" {
		t.Fatal("her snapshot has no clone")
	}
	return best
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Reports on the intake are signed: a good signature is taken (a contact
// report), a forged one changes nothing, and a person without a watch is
// a 404.
func TestIssue12_ReportOnTheIntake(t *testing.T) {
	h := start(t, watchOptions())
	h.mustCLI("terminate", "E1002", "--reason", "intake report")
	h.waitFor("E1002", "done with its watch", func(s workflows.Case) bool { return s.State == workflows.CaseDone && s.Watch != "" })
	sec, err := webhook.ParseSecret(h.stack.Config.Intake.Reports.Secrets[0].Reveal())
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte, sign bool) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, h.stack.IntakeURL+intake.ReportsPath, bytes.NewReader(body))
		if sign {
			for k, v := range webhook.Headers(sec, fmt.Sprint(time.Now().UnixNano()), time.Now(), body) {
				req.Header[k] = v
			}
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	body, _ := json.Marshal(intake.ReportRequest{EmployeeID: "E1002", Kind: "contact", By: "soc@example.com", Message: []byte("hi, it's me, from 198.51.100.23")})
	if code, b := post(body, false); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d %s", code, b)
	}
	forged := bytes.Replace(body, []byte("contact"), []byte("leak"), 1)
	req, _ := http.NewRequest(http.MethodPost, h.stack.IntakeURL+intake.ReportsPath, bytes.NewReader(forged))
	for k, v := range webhook.Headers(sec, "id-1", time.Now(), body) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a body changed after signing: %d", resp.StatusCode)
	}
	if ws := h.watch("E1002"); len(ws.Reports) != 0 {
		t.Fatalf("a refused report was kept: %+v", ws.Reports)
	}
	code, b := post(body, true)
	if code != http.StatusOK {
		t.Fatalf("signed report: %d %s", code, b)
	}
	var rep workflows.WatchReport
	if err := json.Unmarshal(b, &rep); err != nil || rep.Kind != "contact" || rep.Bundle == "" || len(rep.Indicators.IPs) != 1 {
		t.Errorf("report: %+v %v", rep, err)
	}
	ws := h.watch("E1002")
	if ws.State != workflows.WatchAlerting || len(ws.Reports) != 1 || len(ws.Indicators.IPs) != 1 {
		t.Errorf("after a contact report: state %s, reports %d, indicators %+v", ws.State, len(ws.Reports), ws.Indicators)
	}
	bad, _ := json.Marshal(intake.ReportRequest{EmployeeID: "E1003", Kind: "contact", By: "soc", Message: []byte("x")})
	if code, b := post(bad, true); code != http.StatusNotFound {
		t.Errorf("no watch: %d %s", code, b)
	}
	badKind, _ := json.Marshal(intake.ReportRequest{EmployeeID: "E1002", Kind: "ransom", By: "soc", Message: []byte("x")})
	if code, b := post(badKind, true); code != http.StatusBadRequest || !bytes.Contains(b, []byte(`"kind"`)) {
		t.Errorf("bad kind: %d %s", code, b)
	}
}

// Indicators: an IP added to E1019's watch turns up in a sign-in of
// another person's account, and an email on it is the account of a new
// termination (E1003's): both are alerts on E1019's watch, and E1003's
// case names the match.
func TestIssue12_Indicators(t *testing.T) {
	h := start(t, watchOptions())
	h.mustCLI("terminate", "E1019", "--reason", "indicators")
	h.waitFor("E1019", "done with its watch", func(s workflows.Case) bool { return s.State == workflows.CaseDone && s.Watch != "" })
	e1003 := person(t, "E1003").Email
	if _, errs, code := h.cli("watch", "add-indicator", "E1019", "--wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"); code == 0 || !strings.Contains(errs, "checksum") {
		t.Errorf("a wallet with a bad checksum: exit %d %q", code, errs)
	}
	h.mustCLI("watch", "add-indicator", "E1019", "--ip", "198.51.100.99", "--email", e1003)

	// Someone signs in as E1002 from the indicator IP.
	h.attempt("okta", map[string]string{"account": oktaID(t, "E1002"), "ip": "198.51.100.99"})
	ws := h.waitWatch("E1019", "indicator alert", func(w workflows.WatchStatus) bool { return len(alertsOf(w, workflows.AlertIndicator, "okta")) > 0 })
	al := alertsOf(ws, workflows.AlertIndicator, "okta")[0]
	if !strings.Contains(al.Message, "198.51.100.99") || len(al.Events) == 0 || al.Events[0].Actor != oktaID(t, "E1002") {
		t.Errorf("indicator alert: %+v", al)
	}

	// E1003 is terminated: her email is on E1019's watch.
	h.mustCLI("terminate", "E1003", "--reason", "indicators")
	st := h.waitFor("E1003", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone && s.Watch != "" })
	if len(st.IndicatorMatches) == 0 || st.IndicatorMatches[0].WatchID != workflows.WatchID("E1019") || !strings.EqualFold(st.IndicatorMatches[0].Indicator, e1003) {
		t.Fatalf("E1003's case: indicator matches %+v", st.IndicatorMatches)
	}
	if text := h.mustCLI("status", "E1003"); !strings.Contains(text, "is an indicator of watch/E1019") {
		t.Errorf("status does not show the match:\n%s", text)
	}
	ws = h.waitWatch("E1019", "new-termination alert", func(w workflows.WatchStatus) bool {
		for _, al := range alertsOf(w, workflows.AlertIndicator, "") {
			if strings.Contains(al.Message, "offboard/E1003") {
				return true
			}
		}
		return false
	})
	if ws.State != workflows.WatchAlerting {
		t.Errorf("state %s", ws.State)
	}
}
