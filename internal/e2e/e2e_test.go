// Package e2e runs offboard end to end: the embedded Temporal server, a
// worker, the vendor emulators, and the CLI in-process. It is the one test
// package that links the Temporal server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/cli"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/internal/devserver"
	"github.com/offboard/offboard/workflows"
)

var update = flag.Bool("update", false, "rewrite the replay history in workflows/testdata")

type harness struct {
	t     *testing.T
	stack *dev.Stack
	emu   emulators
	// env is the CLI's whole environment: the Temporal address and a user,
	// no vendor settings and no config file, as an admin's shell would be.
	env cli.MapEnv
}

func start(t *testing.T, o dev.Options) *harness {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Port == 0 {
		o.Port = -1
	}
	o.Quiet = true
	if o.Evidence == nil {
		// The snapshot at once, not a minute after the cut.
		o.Evidence = func(e *config.Evidence) { e.After = new(time.Duration) }
	}
	s, err := dev.Start(t.Context(), o)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	h := &harness{t: t, stack: s, emu: typed(s.Emu), env: cli.MapEnv{
		"TEMPORAL_ADDRESS": s.Server.FrontendAddr(),
		"USER":             "e2e-operator",
	}}
	t.Cleanup(func() { _ = s.Stop() })
	return h
}

// cli runs the offboard CLI in-process.
func (h *harness) cli(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := cli.Execute(h.t.Context(), args, cli.Options{Stdout: &out, Stderr: &errb, Env: h.env})
	return out.String(), errb.String(), code
}

func (h *harness) mustCLI(args ...string) string {
	h.t.Helper()
	out, errs, code := h.cli(args...)
	if code != 0 {
		h.t.Fatalf("offboard %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func (h *harness) status(employee string) cases.Status {
	h.t.Helper()
	var st cases.Status
	out := h.mustCLI("status", employee, "-o", "json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		h.t.Fatalf("status json: %v\n%s", err, out)
	}
	return st
}

// waitFor polls the case until cond holds. The deadline only stops a hung
// test; it asserts nothing about speed.
func (h *harness) waitFor(employee, what string, cond func(workflows.Case) bool) workflows.Case {
	h.t.Helper()
	return waitQuery(h, workflows.WorkflowID(employee), workflows.QueryStatus, what, cond)
}

// listShowing runs `offboard list args...` until its output holds every
// one of want, for up to 10 s, and returns the last output. The list reads
// Temporal's visibility store, which the server updates a moment after
// the workflow changes: a case that just failed can be missing at first.
func (h *harness) listShowing(args []string, want ...string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := h.mustCLI(append([]string{"list"}, args...)...)
		missing := slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(out, w) })
		if !missing || time.Now().After(deadline) {
			return out
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitQuery polls a workflow's query until cond holds, for up to 90 s.
func waitQuery[T any](h *harness, id, query, what string, cond func(T) bool) T {
	h.t.Helper()
	return waitQueryFor(h, id, query, what, 90*time.Second, cond)
}

// waitQueryFor is waitQuery with its own deadline.
func waitQueryFor[T any](h *harness, id, query, what string, limit time.Duration, cond func(T) bool) T {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var st T
		v, err := h.stack.Client.QueryWorkflow(h.t.Context(), id, "", query)
		if err == nil && v.Get(&st) == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s never reached %q; last %+v (err %v)", id, what, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// record writes a case's history to workflows/testdata for the replay test
// when run with -update.
func (h *harness) record(employee, file string) {
	h.t.Helper()
	h.recordID(workflows.WorkflowID(employee), file)
}

// recordWatch writes a watch's history (its latest run) for the replay
// test when run with -update.
func (h *harness) recordWatch(employee, file string) {
	h.t.Helper()
	h.recordID(workflows.WatchID(employee), file)
}

func (h *harness) recordID(id, file string) {
	h.t.Helper()
	if !*update {
		return
	}
	hist := h.stack.Client.GetWorkflowHistory(h.t.Context(), id, "", false, 0)
	var events []json.RawMessage
	for hist.HasNext() {
		e, err := hist.Next()
		if err != nil {
			h.t.Fatal(err)
		}
		b, err := protojson.Marshal(e)
		if err != nil {
			h.t.Fatal(err)
		}
		events = append(events, b)
	}
	b, err := json.MarshalIndent(map[string]any{"events": events}, "", "  ")
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "workflows", "testdata", file), b, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func stepState(st workflows.Case, id string) workflows.StepState {
	if s, ok := st.Step(id); ok {
		return s.State
	}
	return ""
}

func person(t *testing.T, employee string) seed.Person {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := org.Person(employee)
	if !ok {
		t.Fatalf("%s is not in the demo", employee)
	}
	return p
}

func oktaID(t *testing.T, employee string) string {
	t.Helper()
	p := person(t, employee)
	if p.Okta == nil {
		t.Fatalf("%s has no okta account in the demo", employee)
	}
	return p.Okta.ID
}

func assertAllVerified(t *testing.T, st workflows.Case) {
	t.Helper()
	if st.State != workflows.CaseDone {
		t.Fatalf("case state %s, want done", st.State)
	}
	for _, s := range st.Steps {
		if s.Action == workflows.ActionPlan {
			continue
		}
		if s.State != workflows.StepDone || (s.Result != workflows.ResultVerified && s.Result != workflows.ResultAlready) || s.VerifiedAt.IsZero() {
			t.Errorf("step %s: state %s result %q verifiedAt %v, want done and verified", s.ID, s.State, s.Result, s.VerifiedAt)
		}
	}
}

func TestTerminateClosesEverySystem(t *testing.T) {
	h := start(t, dev.Options{Options: devopts.Options{UIPort: -1}})

	plan := h.mustCLI("plan", "E1001")
	for _, want := range []string{"okta.remove-admin-roles", "okta.suspend", "okta.clear-sessions", "okta.revoke-grants", "okta.remove-groups", "okta.reset-factors", "nothing was changed"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if n := len(h.emu.Okta.Emulator().Requests()); n == 0 {
		t.Fatal("plan made no vendor requests")
	}
	for _, r := range h.emu.Okta.Emulator().Requests() {
		if r.Method != http.MethodGet {
			t.Fatalf("plan wrote to Okta: %s %s", r.Method, r.Path)
		}
	}
	if _, err := h.stack.Client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID("E1001"), ""); err == nil {
		t.Fatal("plan started a workflow")
	}

	out := h.mustCLI("terminate", "E1001", "--reason", "e2e")
	if !strings.Contains(out, "case offboard/E1001 started") {
		t.Fatalf("terminate said %q", out)
	}
	st := h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if st.RequestedBy != "e2e-operator" || st.Reason != "e2e" {
		t.Errorf("requested by %q reason %q", st.RequestedBy, st.Reason)
	}

	assertClosed(t, h.emu, "E1001")
	assertVendorPaths(t, h.stack.Emu)
	assertPlanned(t, st, map[string]bool{"okta": true, "github": true, "slack": true, "aws": true, "google": true})
	for _, id := range []string{
		"github.revoke-credential-authorizations/acme", "github.remove-membership/acme", "github.remove-membership/acme-labs",
		"slack.deactivate", "slack.reset-sessions", "google.invalidate-backup-codes", "google.suspend",
	} {
		if s, ok := st.Step(id); !ok || s.State != workflows.StepDone {
			t.Errorf("step %s missing or not done: %+v", id, s)
		}
	}
	// Credential authorizations are recorded before they are revoked.
	if s, _ := st.Step("github.revoke-credential-authorizations/acme"); len(s.Records) == 0 {
		t.Errorf("github credential authorizations were not recorded")
	}
	// The state endpoint shows the change to a person looking.
	resp, err := http.Get(h.stack.URLs["okta"] + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(body.String(), "SUSPENDED") {
		t.Errorf("/_emulator/state does not show the suspension")
	}

	// A repeated HR event returns the same case.
	out = h.mustCLI("terminate", "E1001")
	if !strings.Contains(out, "case offboard/E1001 already exists") {
		t.Fatalf("second terminate said %q", out)
	}

	// Every system was cut, and the case says when.
	for _, sys := range st.Systems {
		if sys.Found && sys.CutAt.Before(st.CutStartedAt) {
			t.Errorf("%s: cut at %s, not after the cut started %s", sys.System, sys.CutAt, st.CutStartedAt)
		}
		if sys.CutAt.After(st.CutAt) {
			t.Errorf("%s was cut at %s, after the case's cut %s", sys.System, sys.CutAt, st.CutAt)
		}
	}
	assertTaskPriorities(t, h, "E1001", map[string]int{
		"RunStep okta.suspend": 1, "RunStep github.remove-membership/acme": 1, "RunStep github.revoke-credential-authorizations/acme": 1,
		"RunStep okta.remove-groups": 3, "RunStep github.cancel-invitations/acme": 3, "VerifyStep okta.remove-groups": 4,
	})

	text := h.mustCLI("status", "E1001")
	for _, want := range []string{"Case offboard/E1001: done", "okta.suspend", "done (verified)", "VERIFIED AT", "after the cut started (okta +"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	list := h.listShowing([]string{"--state", "done"}, "offboard/E1001")
	if !strings.Contains(list, "offboard/E1001") {
		t.Errorf("list --state done lacks the case:\n%s", list)
	}

	// The Web UI is served and lists the workflow through its API proxy.
	ui := "http://" + h.stack.Server.UIAddr()
	if r, err := http.Get(ui + "/"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("web UI: %v %v", r, err)
	}
	r, err := http.Get(ui + "/api/v1/namespaces/offboarding/workflows")
	if err != nil {
		t.Fatal(err)
	}
	body.Reset()
	_, _ = body.ReadFrom(r.Body)
	r.Body.Close()
	if !strings.Contains(body.String(), "offboard/E1001") {
		t.Errorf("web UI API does not list the case: %s", body.String())
	}

	assertWebUIShowsSteps(t, h, "E1001", "okta.suspend", "github.remove-membership/acme", "slack.deactivate", "google.suspend")

	h.record("E1001", "offboarding-all-systems-8.json")
}

// assertTaskPriorities checks, in the case's history, the Temporal task
// priority of the first activity scheduled for each "<activity> <step>"
// of want.
func assertTaskPriorities(t *testing.T, h *harness, employee string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	hist := h.stack.Client.GetWorkflowHistory(t.Context(), workflows.WorkflowID(employee), "", false, 0)
	for hist.HasNext() {
		e, err := hist.Next()
		if err != nil {
			t.Fatal(err)
		}
		attr := e.GetActivityTaskScheduledEventAttributes()
		if attr == nil {
			continue
		}
		var in activities.StepInput
		if err := converter.GetDefaultDataConverter().FromPayloads(attr.GetInput(), &in); err != nil || in.Step.ID == "" {
			continue
		}
		key := attr.GetActivityType().GetName() + " " + in.Step.ID
		if _, seen := got[key]; !seen {
			got[key] = int(attr.GetPriority().GetPriorityKey())
		}
	}
	for k, p := range want {
		if got[k] != p {
			t.Errorf("%s: task priority %d, want %d", k, got[k], p)
		}
	}
}

// TestPersonWithoutIdentity offboards someone the identity system does not
// know: HR gives the work email, and the systems that know that email close.
func TestPersonWithoutIdentity(t *testing.T) {
	h := start(t, dev.Options{})
	p := person(t, "E1011")
	if _, errs, code := h.cli("terminate", "E1011"); code == 0 || !strings.Contains(errs, "unknown employee E1011") {
		t.Fatalf("without an email: exit %d %q", code, errs)
	}
	h.mustCLI("terminate", "E1011", "--email", p.Email)
	st := h.waitFor("E1011", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	assertPlanned(t, st, map[string]bool{"okta": false, "github": false, "slack": false, "aws": true, "google": true})
	assertClosed(t, h.emu, "E1011")
}

func TestParkRetrySkip(t *testing.T) {
	h := start(t, dev.Options{})
	em := h.emu.Okta.Emulator()
	suspendPath := "/api/v1/users/" + oktaID(t, "E1002") + "/lifecycle/suspend"
	if err := em.AddFault(emu.Fault{Method: http.MethodPost, Path: "^" + suspendPath + "$", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1002", "--reason", "park test")
	st := h.waitFor("E1002", "okta.suspend parked", func(s workflows.Case) bool { return stepState(s, "okta.suspend") == workflows.StepParked })
	s, _ := st.Step("okta.suspend")
	if s.ErrorKind != "PermissionDenied" || s.Attempts != 1 || !strings.Contains(s.LastError, "403") {
		t.Errorf("parked step: kind %q attempts %d error %q", s.ErrorKind, s.Attempts, s.LastError)
	}
	if st.State != workflows.CaseParked {
		t.Errorf("case state %s, want parked", st.State)
	}
	if list := h.listShowing([]string{"--state", "parked"}, "offboard/E1002", "okta.suspend"); !strings.Contains(list, "offboard/E1002") || !strings.Contains(list, "okta.suspend") {
		t.Errorf("list --state parked:\n%s", list)
	}

	// Rejections change nothing.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"retry", "E1002", "--step", "okta.remove-admin-roles"}, "not parked"},
		{[]string{"retry", "E1002", "--step", "okta.nope"}, `step "okta.nope" is not in this case`},
		{[]string{"skip", "E1002", "--step", "okta.suspend"}, `required flag(s) "reason" not set`},
		{[]string{"retry", "E1002"}, `required flag(s) "step" not set`},
		{[]string{"retry", "E9999", "--step", "okta.suspend"}, "no case for employee E9999"},
	} {
		_, errs, code := h.cli(c.args...)
		if code == 0 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("offboard %v: exit %d stderr %q, want one line with %q", c.args, code, errs, c.want)
		}
	}
	if st := h.status("E1002"); len(st.Decisions) != 0 {
		t.Fatalf("a rejected request was recorded: %+v", st.Decisions)
	}

	em.ClearFaults()
	out := h.mustCLI("retry", "E1002", "--step", "okta.suspend", "--reason", "granted the role", "--request-id", "req-1")
	if !strings.Contains(out, "retry of okta.suspend recorded") {
		t.Errorf("retry said %q", out)
	}
	// Repeating the same request is harmless (same Update ID).
	h.mustCLI("retry", "E1002", "--step", "okta.suspend", "--reason", "granted the role", "--request-id", "req-1")
	st = h.waitFor("E1002", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if len(st.Decisions) != 1 || st.Decisions[0].By != "e2e-operator" || st.Decisions[0].Reason != "granted the role" || st.Decisions[0].At.IsZero() {
		t.Errorf("decisions: %+v", st.Decisions)
	}
	if s, _ := st.Step("okta.suspend"); s.Attempts != 2 {
		t.Errorf("okta.suspend attempts %d, want 2", s.Attempts)
	}
	if u, _ := h.emu.Okta.User(oktaID(t, "E1002")); u.Status != "SUSPENDED" {
		t.Errorf("E1002 status %s after retry", u.Status)
	}
	h.record("E1002", "offboarding-park-retry-8.json")

	// Skip: a step that cannot be done is given up with a reason, and the
	// rest of the system still runs.
	factorsPath := "/api/v1/users/" + oktaID(t, "E1015") + "/lifecycle/reset_factors"
	if err := em.AddFault(emu.Fault{Method: http.MethodPost, Path: "^" + factorsPath + "$", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1015")
	h.waitFor("E1015", "okta.reset-factors parked", func(s workflows.Case) bool { return stepState(s, "okta.reset-factors") == workflows.StepParked })
	h.mustCLI("skip", "E1015", "--step", "okta.reset-factors", "--reason", "factors are managed by the MDM", "--by", "sec-lead")
	st = h.waitFor("E1015", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	s, _ = st.Step("okta.reset-factors")
	if s.State != workflows.StepSkipped || s.SkippedBy != "sec-lead" || s.SkipReason != "factors are managed by the MDM" {
		t.Errorf("skipped step: %+v", s)
	}
	if text := h.mustCLI("status", "E1015"); !strings.Contains(text, "skipped by sec-lead: factors are managed by the MDM") {
		t.Errorf("status does not show the skip:\n%s", text)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	h := start(t, dev.Options{})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"terminate", "E9999"}, "unknown employee E9999"},
		{[]string{"terminate", "ada.lovelace@example.com"}, "not an employee ID"},
		{[]string{"terminate", "E1001", "--mode", "nuclear"}, `mode "nuclear"`},
		{[]string{"plan", "E9999"}, "unknown employee E9999"},
		{[]string{"status", "E1003"}, "no case for employee E1003"},
		{[]string{"list", "--state", "weird"}, `state "weird"`},
		{[]string{"status", "E1003", "-o", "yaml"}, `output format "yaml"`},
		{[]string{"terminate"}, "needs exactly one employee ID"},
	}
	for _, c := range cases {
		_, errs, code := h.cli(c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("offboard %v: exit %d stderr %q, want %q", c.args, code, errs, c.want)
		}
		if strings.Contains(errs, "@example.com") && c.args[1] != "ada.lovelace@example.com" {
			t.Errorf("offboard %v leaked an email: %q", c.args, errs)
		}
	}
	for _, id := range []string{"E9999", "E1003"} {
		_, err := h.stack.Client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID(id), "")
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) {
			t.Errorf("a case exists for %s after bad input: %v", id, err)
		}
	}
	for _, r := range h.emu.Okta.Emulator().Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("bad input wrote to Okta: %s %s", r.Method, r.Path)
		}
	}
}

func TestRestartMidCaseFinishes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "temporal.db")
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	emus := dev.NewEmulators(org)
	okta := typed(emus).Okta
	okta.Emulator().SetLatency(400 * time.Millisecond)

	first := start(t, dev.Options{Options: devopts.Options{DB: db, Dir: dir}, Emulators: emus})
	first.mustCLI("terminate", "E1005", "--reason", "restart test")
	first.waitFor("E1005", "some steps done", func(s workflows.Case) bool {
		return stepState(s, "okta.suspend") == workflows.StepDone && stepState(s, "okta.reset-factors") != workflows.StepDone
	})
	if err := first.stack.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(db + "-wal"); err != nil {
		t.Errorf("SQLite WAL file missing: %v", err)
	}

	okta.Emulator().SetLatency(0)
	second := start(t, dev.Options{Options: devopts.Options{DB: db, Dir: dir}, Emulators: emus})
	st := second.waitFor("E1005", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if u, _ := okta.User(oktaID(t, "E1005")); u.Status != "SUSPENDED" || len(u.Roles) != 0 {
		t.Errorf("after restart: %+v", u)
	}
}

func TestPortInUseIsOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = devserver.Start(devserver.Options{Port: port, Namespace: workflows.Namespace})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port 127.0.0.1:%d is already in use", port)) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v", err)
	}
	_, err = dev.Start(context.Background(), dev.Options{Options: devopts.Options{Port: -1, Ports: map[string]int{"okta": port}, Dir: t.TempDir()}, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "okta emulator port") {
		t.Fatalf("dev.Start error = %v", err)
	}
}

// TestWorkerCommand runs `offboard worker` as a real deployment would: the
// standard TEMPORAL_* settings point it at a cluster (here the embedded
// server, whose own worker is stopped), and it alone finishes a case.
func TestWorkerCommand(t *testing.T) {
	h := start(t, dev.Options{})
	h.stack.Worker.Stop()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var out, errb bytes.Buffer
	// The worker, unlike the CLI, holds the vendor settings.
	workerEnv := cli.MapEnv{"OFFBOARD_CONFIG": h.stack.Path}
	maps.Copy(workerEnv, h.env)
	go func() {
		done <- cli.Execute(ctx, []string{"worker"}, cli.Options{Stdout: &out, Stderr: &errb, Env: workerEnv})
	}()
	h.mustCLI("terminate", "E1014")
	st := h.waitFor("E1014", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("worker exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "worker polling task queue offboarding") {
		t.Errorf("worker said %q", out.String())
	}
	if strings.Contains(errb.String(), "@example.com") {
		t.Errorf("the worker logged an email: %s", errb.String())
	}
}
