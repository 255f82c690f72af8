package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/offboard/offboard/cli"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/workflows"
)

// vendorStates is every emulator's whole state, to compare before and
// after something that must change nothing.
func vendorStates(t *testing.T, e *dev.Emulators) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range e.All() {
		var b bytes.Buffer
		if err := n.Emulator.SaveState(&b); err != nil {
			t.Fatal(err)
		}
		out[n.Name] = b.String()
	}
	return out
}

// TestCLINeedsOnlyTemporal: an admin whose shell has nothing but
// TEMPORAL_ADDRESS (no vendor tokens, no config file) gets the dry run and
// the refusal of an unknown employee: both run on the worker.
func TestCLINeedsOnlyTemporal(t *testing.T) {
	h := start(t, dev.Options{})
	h.env = cli.MapEnv{"TEMPORAL_ADDRESS": h.env["TEMPORAL_ADDRESS"]}
	t.Chdir(t.TempDir()) // no offboard.yaml or .offboard/dev.yaml to find
	before := vendorStates(t, h.stack.Emu)

	plan := h.mustCLI("plan", "E1001")
	for _, want := range []string{"Plan for E1001 (dry run; nothing was changed)", "okta.suspend", "github.remove-membership/acme", "slack.deactivate", "aws.sso-kill-sessions", "google.suspend"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	var p workflows.Plan
	if err := json.Unmarshal([]byte(h.mustCLI("plan", "e1001", "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	if p.EmployeeID != "E1001" || len(p.Systems) != 5 || !p.Found() {
		t.Errorf("plan e1001: employee %q, %d systems", p.EmployeeID, len(p.Systems))
	}
	for _, s := range p.Systems {
		if !s.Found || len(s.Steps) == 0 {
			t.Errorf("plan: %s found %v with %d steps", s.System, s.Found, len(s.Steps))
		}
	}

	_, errs, code := h.cli("terminate", "E9999")
	if code == 0 || !strings.Contains(errs, "unknown employee E9999: no account in okta, github, slack, aws, google") {
		t.Errorf("terminate E9999: exit %d %q", code, errs)
	}
	_, errs, code = h.cli("plan", "E9999")
	if code == 0 || !strings.Contains(errs, "unknown employee E9999") {
		t.Errorf("plan E9999: exit %d %q", code, errs)
	}
	if _, err := h.stack.Client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID("E9999"), ""); !isNotFound(err) {
		t.Errorf("a case exists for E9999: %v", err)
	}
	if _, err := h.stack.Client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID("E1001"), ""); !isNotFound(err) {
		t.Errorf("plan started a case: %v", err)
	}
	after := vendorStates(t, h.stack.Emu)
	for name, st := range before {
		// CloudTrail records read calls too, as the real one does, and STS
		// issues role sessions: AWS is checked by what was called.
		if name != "aws" && after[name] != st {
			t.Errorf("%s: the dry runs changed vendor state", name)
		}
	}
	assertOnlyAWSReads(t, h.emu)
}

// assertOnlyAWSReads checks that every AWS call was a read (or the role
// assumption that reaches another account).
func assertOnlyAWSReads(t *testing.T, e emulators) {
	t.Helper()
	for _, r := range e.AWS.Emulator().Requests() {
		action := r.Path[strings.LastIndex(r.Path, "/")+1:]
		read := action == "AssumeRole" || action == "GetCallerIdentity"
		for _, p := range []string{"List", "Get", "Describe", "Lookup"} {
			read = read || strings.HasPrefix(action, p)
		}
		if !read {
			t.Errorf("aws: a dry run called %s", r.Path)
		}
	}
}

func isNotFound(err error) bool {
	_, ok := errors.AsType[*serviceerror.NotFound](err)
	return ok
}

// TestOneEmployeeOneCase: the identity system compares employee IDs
// case-insensitively, so "e1001" is Ada and finds her case.
func TestOneEmployeeOneCase(t *testing.T) {
	h := start(t, dev.Options{})
	if out := h.mustCLI("terminate", "E1001"); !strings.Contains(out, "case offboard/E1001 started") {
		t.Fatalf("terminate E1001 said %q", out)
	}
	out := h.mustCLI("terminate", "e1001")
	if !strings.Contains(out, "case offboard/E1001 already exists") || !strings.Contains(out, "offboard status E1001") {
		t.Fatalf("terminate e1001 said %q", out)
	}
	if _, err := h.stack.Client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID("e1001"), ""); !isNotFound(err) {
		t.Fatalf("a second case was opened: %v", err)
	}
	// Done, and closed: a done case still opens its watch before its
	// workflow completes.
	h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	h.waitClosed("E1001")
	if out := h.mustCLI("terminate", "e1001"); !strings.Contains(out, "case offboard/E1001 already exists (closed: completed)") {
		t.Fatalf("terminate e1001 after the case said %q", out)
	}
}

// TestStartedUnderAnotherID: a plain Temporal client that starts a case
// under an ID that is not the employee's gets a failed case, listed as
// failed, with nothing cut; the person's real case can still be started,
// and status then points at the earlier run.
func TestStartedUnderAnotherID(t *testing.T) {
	h := start(t, dev.Options{})
	run, err := h.stack.Client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: workflows.WorkflowID("E1003"), TaskQueue: workflows.TaskQueue,
	}, workflows.OffboardingName, workflows.Input{EmployeeID: "E1004", Mode: workflows.ModeStandard, RequestedBy: "someone"})
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(t.Context(), nil)
	if err == nil || !strings.Contains(err.Error(), "workflow ID offboard/E1003 does not name employee E1004") {
		t.Fatalf("mismatched case: %v", err)
	}
	if list := h.listShowing([]string{"--state", "failed"}, "offboard/E1003"); !strings.Contains(list, "offboard/E1003") {
		t.Errorf("list --state failed lacks the case:\n%s", list)
	}
	for _, r := range h.emu.Okta.Emulator().Requests() {
		t.Errorf("the mismatched case asked Okta: %s %s", r.Method, r.Path)
	}

	h.mustCLI("terminate", "E1003")
	h.waitFor("E1003", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	st := h.status("E1003")
	if len(st.EarlierRuns) != 1 || st.EarlierRuns[0].RunID != run.GetRunID() || st.EarlierRuns[0].Status != "failed" || st.RunID == run.GetRunID() {
		t.Errorf("status runs: latest %s, earlier %+v", st.RunID, st.EarlierRuns)
	}
	if text := h.mustCLI("status", "E1003"); !strings.Contains(text, "latest of 2 runs") || !strings.Contains(text, run.GetRunID()+"  failed") {
		t.Errorf("status does not point at the earlier run:\n%s", text)
	}
}

// activitySummaries reads a case's history: the summary of every activity
// it scheduled.
func activitySummaries(t *testing.T, h *harness, employee string) []string {
	t.Helper()
	var out []string
	it := h.stack.Client.GetWorkflowHistory(t.Context(), workflows.WorkflowID(employee), "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetActivityTaskScheduledEventAttributes() == nil {
			continue
		}
		var s string
		if p := e.GetUserMetadata().GetSummary(); p != nil {
			if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, s)
	}
	return out
}

// assertWebUIShowsSteps checks what a person in the Web UI sees of a case:
// every activity names its step, and the workflow's current details hold
// the step table.
func assertWebUIShowsSteps(t *testing.T, h *harness, employee string, steps ...string) {
	t.Helper()
	sums := activitySummaries(t, h, employee)
	if len(sums) == 0 {
		t.Fatal("no activities in the history")
	}
	for _, s := range sums {
		if s == "" {
			t.Errorf("an activity has no summary: %q", sums)
			break
		}
	}
	all := strings.Join(sums, "\n")
	for _, id := range steps {
		for _, verb := range []string{" — run: ", " — verify: "} {
			if !strings.Contains(all, id+verb) {
				t.Errorf("no activity summary %q", id+verb)
			}
		}
	}
	v, err := h.stack.Client.QueryWorkflow(t.Context(), workflows.WorkflowID(employee), "", "__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		t.Fatal(err)
	}
	for _, id := range steps {
		if !strings.Contains(md.GetCurrentDetails(), "| `"+id+"` | done") {
			t.Errorf("current details lack %s done:\n%s", id, md.GetCurrentDetails())
		}
	}
}

// The web UI listing is served from the same history; this only checks the
// UI is up when a test asks for it.
func getOK(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, r.StatusCode)
	}
	return b.String()
}
