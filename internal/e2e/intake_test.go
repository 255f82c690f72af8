package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/cases"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/intake"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/workflows"
)

// hrDelivery is one signed delivery to the HR endpoint.
type hrDelivery struct {
	id     string
	ts     time.Time
	body   []byte
	secret webhook.Secret
	// sent, when set, is sent instead of the signed body.
	sent []byte
}

func hrSecret(t testing.TB, s *dev.Stack) webhook.Secret {
	t.Helper()
	sec, err := webhook.ParseSecret(s.Config.Intake.HR.Secrets[0].Reveal())
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func newHR(t testing.TB, s *dev.Stack, id, typ string, d intake.HRData) hrDelivery {
	t.Helper()
	body, err := json.Marshal(intake.HREvent{Type: typ, Timestamp: time.Now().UTC().Format(time.RFC3339), Data: d})
	if err != nil {
		t.Fatal(err)
	}
	return hrDelivery{id: id, ts: time.Now(), body: body, secret: hrSecret(t, s)}
}

// send posts the delivery and returns the status and the decoded answer.
func (d hrDelivery) send(t testing.TB, s *dev.Stack) (int, map[string]any) {
	t.Helper()
	body := d.body
	if d.sent != nil {
		body = d.sent
	}
	req, _ := http.NewRequest(http.MethodPost, s.IntakeURL+"/v1/hr/events", bytes.NewReader(body))
	for k, v := range webhook.Headers(d.secret, d.id, d.ts, d.body) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON: %d %q", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func runsOf(t testing.TB, s *dev.Stack, employee string) int {
	t.Helper()
	list, err := cases.New(s.Client).List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if c.CaseID == workflows.WorkflowID(employee) {
			n++
		}
	}
	return n
}

// Issue 9: a signed termination.scheduled starts a waiting case; the same
// delivery again answers the same and starts nothing; termination.updated
// moves the time; termination.rescinded ends it with nothing cut.
func TestIssue9_HRScheduleRescheduleRescind(t *testing.T) {
	h := start(t, dev.Options{})
	s := h.stack
	local := time.Now().In(mustZone(t, "Europe/Berlin")).Add(3 * time.Hour).Format("2006-01-02T15:04")
	first := newHR(t, s, "msg_sched_1", intake.TypeScheduled, intake.HRData{EmployeeID: "E1005", EffectiveAt: local, TimeZone: "Europe/Berlin", Reason: "contract ended", RequestedBy: "workday"})
	code, ans := first.send(t, s)
	if code != http.StatusAccepted || ans["caseId"] != "offboard/E1005" || ans["state"] != "scheduled" {
		t.Fatalf("scheduled: %d %v", code, ans)
	}
	again, ans2 := first.send(t, s)
	if again != code || ans2["caseId"] != ans["caseId"] || ans2["state"] != ans["state"] {
		t.Errorf("redelivery: %d %v, first %d %v", again, ans2, code, ans)
	}
	if n := runsOf(t, s, "E1005"); n != 1 {
		t.Errorf("%d runs for E1005, want 1", n)
	}
	st := h.status("E1005")
	if st.RequestedBy != "workday" || st.TimeZone != "Europe/Berlin" || st.EffectiveAt.IsZero() {
		t.Errorf("case: by %q zone %q at %v", st.RequestedBy, st.TimeZone, st.EffectiveAt)
	}
	if list := h.listShowing([]string{"--state", "scheduled"}, "offboard/E1005"); !strings.Contains(list, "offboard/E1005") {
		t.Errorf("list --state scheduled:\n%s", list)
	}

	newAt := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	upd := newHR(t, s, "msg_upd_1", intake.TypeUpdated, intake.HRData{EmployeeID: "E1005", EffectiveAt: newAt.Format(time.RFC3339), RequestedBy: "workday"})
	if code, ans := upd.send(t, s); code != http.StatusAccepted || ans["state"] != "scheduled" {
		t.Fatalf("updated: %d %v", code, ans)
	}
	st = h.status("E1005")
	if !st.EffectiveAt.Equal(newAt) {
		t.Errorf("effective at %v, want %v", st.EffectiveAt, newAt)
	}
	if d := st.Decisions[len(st.Decisions)-1]; d.Action != workflows.UpdateReschedule || !d.To.Equal(newAt) || d.From.IsZero() || d.By != "workday" {
		t.Errorf("reschedule decision: %+v", d)
	}
	if list := h.listShowing([]string{"--state", "scheduled"}, "cuts at: "+newAt.Format(time.RFC3339)); !strings.Contains(list, "cuts at: "+newAt.Format(time.RFC3339)) {
		t.Errorf("list does not say when the case cuts:\n%s", list)
	}
	if code, _ := upd.send(t, s); code != http.StatusAccepted {
		t.Errorf("updated again: %d", code)
	}
	if n := len(h.status("E1005").Decisions); n != 1 {
		t.Errorf("%d decisions after a redelivered update, want 1", n)
	}

	resc := newHR(t, s, "msg_resc_1", intake.TypeRescinded, intake.HRData{EmployeeID: "E1005", Reason: "resignation withdrawn"})
	code, ans = resc.send(t, s)
	if code != http.StatusAccepted {
		t.Fatalf("rescinded: %d %v", code, ans)
	}
	final := h.waitFor("E1005", "rescinded", func(c workflows.Case) bool { return c.State == workflows.CaseRescinded })
	if len(final.Steps) != 0 {
		t.Errorf("a rescinded case has steps: %d", len(final.Steps))
	}
	if code, ans := resc.send(t, s); code != http.StatusAccepted || ans["state"] != "rescinded" {
		t.Errorf("rescinded again: %d %v", code, ans)
	}
	for _, r := range h.emu.Okta.Emulator().Requests() {
		if r.Method != http.MethodGet && strings.Contains(r.Path, oktaID(t, "E1005")) {
			t.Errorf("a rescinded case wrote to Okta: %s %s", r.Method, r.Path)
		}
	}
}

// Issue 9: bad deliveries get the right status and change nothing.
func TestIssue9_HRRefusesBadDeliveries(t *testing.T) {
	h := start(t, dev.Options{})
	s := h.stack
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	good := func(id string) hrDelivery {
		return newHR(t, s, id, intake.TypeScheduled, intake.HRData{EmployeeID: "E1004", EffectiveAt: future})
	}
	other, _ := webhook.GenerateSecret()
	cases := []struct {
		name  string
		d     func() hrDelivery
		code  int
		field string
	}{
		{"tampered body", func() hrDelivery {
			d := good("m1")
			d.sent = bytes.Replace(d.body, []byte("E1004"), []byte("E1001"), 1)
			return d
		}, 401, ""},
		{"stale timestamp", func() hrDelivery { d := good("m2"); d.ts = time.Now().Add(-6 * time.Minute); return d }, 401, ""},
		{"wrong secret", func() hrDelivery { d := good("m3"); d.secret = other; return d }, 401, ""},
		{"oversize body", func() hrDelivery {
			d := good("m4")
			d.body = append(bytes.TrimSuffix(d.body, []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", intake.MaxBody)+`"}`)...)
			return d
		}, 413, ""},
		{"malformed JSON", func() hrDelivery {
			d := good("m5")
			d.body = []byte(`{"type": "termination.scheduled", "data": {`)
			return d
		}, 400, ""},
		{"unknown employee", func() hrDelivery {
			return newHR(t, s, "m6", intake.TypeScheduled, intake.HRData{EmployeeID: "E9999", EffectiveAt: future})
		}, 404, "data.employeeId"},
		{"unknown event type", func() hrDelivery { return newHR(t, s, "m7", "termination.maybe", intake.HRData{EmployeeID: "E1004"}) }, 400, "type"},
		{"missing employee", func() hrDelivery { return newHR(t, s, "m8", intake.TypeScheduled, intake.HRData{EffectiveAt: future}) }, 400, "data.employeeId"},
		{"bad time", func() hrDelivery {
			return newHR(t, s, "m9", intake.TypeScheduled, intake.HRData{EmployeeID: "E1004", EffectiveAt: "next friday"})
		}, 400, "data.effectiveAt"},
		{"bad zone", func() hrDelivery {
			return newHR(t, s, "m10", intake.TypeScheduled, intake.HRData{EmployeeID: "E1004", EffectiveAt: "2027-01-04T17:00", TimeZone: "Mars/Olympus"})
		}, 400, "data.timeZone"},
		{"rescind without a case", func() hrDelivery {
			return newHR(t, s, "m11", intake.TypeRescinded, intake.HRData{EmployeeID: "E1004", Reason: "x"})
		}, 404, "data.employeeId"},
	}
	for _, c := range cases {
		code, ans := c.d().send(t, s)
		if code != c.code {
			t.Errorf("%s: %d %v, want %d", c.name, code, ans, c.code)
		}
		if ans["error"] == nil || (c.field != "" && ans["field"] != c.field) {
			t.Errorf("%s: answer %v, want an error naming %q", c.name, ans, c.field)
		}
	}
	if list := h.mustCLI("list"); !strings.Contains(list, "no cases") {
		t.Errorf("bad deliveries wrote cases:\n%s", list)
	}

	// An event that cannot apply: rescinding a case already cut.
	now := newHR(t, s, "m12", intake.TypeImmediate, intake.HRData{EmployeeID: "E1014", Reason: "walked out"})
	if code, ans := now.send(t, s); code != http.StatusAccepted {
		t.Fatalf("immediate: %d %v", code, ans)
	}
	h.waitFor("E1014", "cut", func(c workflows.Case) bool { return c.State != workflows.CaseScheduled })
	code, ans := newHR(t, s, "m13", intake.TypeRescinded, intake.HRData{EmployeeID: "E1014", Reason: "too late"}).send(t, s)
	if code != http.StatusConflict || ans["caseId"] != "offboard/E1014" || ans["state"] == nil {
		t.Errorf("rescind after the cut: %d %v", code, ans)
	}
}

// Issue 9: HR deactivates E1007 in Okta; Okta's event hook starts the case
// on its own, and it ends done. A redelivery starts nothing, and offboard's
// own suspensions start no case.
func TestIssue9_OktaEventHookStartsTheCase(t *testing.T) {
	h := start(t, dev.Options{})
	s := h.stack
	id := oktaID(t, "E1007")
	req, _ := http.NewRequest(http.MethodPost, s.URLs["okta"]+"/api/v1/users/"+id+"/lifecycle/deactivate", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DevHRToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate as HR: %v %v", resp, err)
	}
	resp.Body.Close()
	st := h.waitFor("E1007", "done", func(c workflows.Case) bool { return c.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if st.RequestedBy != intake.OktaRequester || !strings.HasPrefix(st.Reason, "Okta event user.lifecycle.deactivate ") {
		t.Errorf("case: requested by %q reason %q", st.RequestedBy, st.Reason)
	}

	// The same delivery again, as Okta's at-least-once delivery may.
	var uuids []string
	for _, d := range h.emu.Okta.EventHookDeliveries() {
		uuids = append(uuids, d.UUIDs...)
	}
	if len(uuids) == 0 {
		t.Fatal("no delivery recorded")
	}
	delivery := fmt.Sprintf(`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":%q,"eventType":"user.lifecycle.deactivate","actor":{"id":%q,"type":"PublicClientApp"},"outcome":{"result":"SUCCESS"},"target":[{"id":%q,"type":"User"}]}]}}`, uuids[0], oktaemu.HRActorID, id)
	code, ans := postHook(t, s, delivery, hookSecret(t, s))
	if code != http.StatusOK || ans["duplicates"] != float64(1) || ans["started"] != float64(0) {
		t.Errorf("redelivery: %d %v", code, ans)
	}
	if code, _ := postHook(t, s, delivery, "Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong Authorization: %d", code)
	}
	if n := runsOf(t, s, "E1007"); n != 1 {
		t.Errorf("%d runs for E1007, want 1", n)
	}

	// offboard suspends E1014 itself: Okta tells the hook, which starts
	// nothing.
	h.mustCLI("terminate", "E1014")
	h.waitFor("E1014", "done", func(c workflows.Case) bool { return c.State == workflows.CaseDone })
	if err := h.emu.Okta.DrainEventHook(t.Context()); err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, d := range h.emu.Okta.EventHookDeliveries() {
		if d.OK && d.Time.After(st.FinishedAt) {
			seen = true
		}
	}
	if !seen {
		t.Errorf("Okta never delivered offboard's own suspension of E1014")
	}
	list, err := cases.New(s.Client).List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list); n != 2 {
		t.Errorf("%d cases, want E1007's and E1014's: %+v", n, list)
	}
}

func hookSecret(t testing.TB, s *dev.Stack) string {
	return s.Config.Intake.OktaEventHook.Secret.Reveal()
}

func postHook(t testing.TB, s *dev.Stack, body, auth string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.IntakeURL+"/v1/okta/events", strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Issue 9: health, readiness and metrics.
func TestIssue9_HealthReadinessMetrics(t *testing.T) {
	h := start(t, dev.Options{})
	s := h.stack
	for _, p := range []string{"/healthz", "/readyz"} {
		if body := getOK(t, s.IntakeURL+p); !strings.Contains(body, "status") {
			t.Errorf("%s: %s", p, body)
		}
	}
	newHR(t, s, "metric-1", intake.TypeScheduled, intake.HRData{EmployeeID: "E1004", EffectiveAt: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).send(t, s)
	bad := newHR(t, s, "metric-2", intake.TypeScheduled, intake.HRData{EmployeeID: "E1004"})
	bad.ts = time.Now().Add(-time.Hour)
	bad.send(t, s)
	m := getOK(t, s.IntakeURL+"/metrics")
	for _, want := range []string{
		`offboard_intake_requests_total{endpoint="hr",status="202"} 1`,
		`offboard_intake_requests_total{endpoint="hr",status="401"} 1`,
		`offboard_intake_signature_failures_total{endpoint="hr"} 1`,
		`offboard_intake_cases_started_total{source="hr"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// BenchmarkIntakeSignedDeliveries sends signed termination.scheduled
// deliveries for one person, eight at a time, and prints the intake's
// throughput and p99 latency on this machine (each runs the worker's
// look-up of the person and answers with the case).
func BenchmarkIntakeSignedDeliveries(b *testing.B) {
	s, err := dev.Start(b.Context(), dev.Options{Options: devoptsFree(b), Quiet: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	at := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	const n, workers = 200, 8
	for b.Loop() {
		lat := make([]time.Duration, n)
		var wg sync.WaitGroup
		next := make(chan int)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := range next {
					d := newHR(b, s, fmt.Sprintf("bench_%d_%d", start.UnixNano(), i), intake.TypeScheduled, intake.HRData{EmployeeID: "E1005", EffectiveAt: at})
					t0 := time.Now()
					if code, ans := d.send(b, s); code != http.StatusAccepted {
						b.Errorf("delivery %d: %d %v", i, code, ans)
					}
					lat[i] = time.Since(t0)
				}
			})
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		total := time.Since(start)
		slices.Sort(lat)
		p99 := lat[n*99/100]
		fmt.Printf("intake: %d signed deliveries, %d at a time: %.0f per second, p50 %.0f ms, p99 %.0f ms\n",
			n, workers, float64(n)/total.Seconds(), float64(lat[n/2].Microseconds())/1000, float64(p99.Microseconds())/1000)
		b.ReportMetric(float64(n)/total.Seconds(), "deliveries/s")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	}
}

func devoptsFree(b testing.TB) devopts.Options {
	return devopts.Options{Port: -1, Dir: b.TempDir()}
}

// Issue 9: `offboard hr send` signs a test event with the configured secret,
// as an HR system would.
func TestIssue9_HRSendFromTheCLI(t *testing.T) {
	h := start(t, dev.Options{})
	h.env["OFFBOARD_CONFIG"] = h.stack.Path
	out := h.mustCLI("hr", "send", "E1004", "--type", intake.TypeScheduled, "--at", "2030-01-04 17:00", "--tz", "America/New_York", "--reason", "trying it out")
	if !strings.Contains(out, "202 Accepted") || !strings.Contains(out, `"caseId":"offboard/E1004"`) {
		t.Fatalf("hr send said %q", out)
	}
	st := h.status("E1004")
	if want := time.Date(2030, 1, 4, 22, 0, 0, 0, time.UTC); st.State != workflows.CaseScheduled || !st.EffectiveAt.Equal(want) {
		t.Errorf("case %s at %v, want scheduled at %v", st.State, st.EffectiveAt, want)
	}
	if _, errs, code := h.cli("hr", "send", "E9999", "--type", intake.TypeImmediate); code == 0 || !strings.Contains(errs, "404") {
		t.Errorf("unknown employee: exit %d %q", code, errs)
	}
	out = h.mustCLI("reschedule", "E1004", "--at", "2030-02-01T09:00:00Z", "--reason", "moved")
	if !strings.Contains(out, "the cut now waits until 2030-02-01T09:00:00Z") {
		t.Errorf("reschedule said %q", out)
	}
}
