package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/workflows"
)

// layoffSeed writes the demo org with n more people, each in Okta and in
// Identity Center with both permission sets, and returns its path and
// their employee and Identity Center user IDs.
func layoffSeed(t *testing.T, n int) (string, []string, []string) {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var emps, ssoIDs []string
	for i := range n {
		emp := fmt.Sprintf("E8%03d", i)
		email := fmt.Sprintf("leaver%03d@example.com", i)
		ssoID := fmt.Sprintf("90678000-aaaa-4bbb-8ccc-%012d", i)
		emps, ssoIDs = append(emps, emp), append(ssoIDs, ssoID)
		org.People = append(org.People, seed.Person{EmployeeID: emp, FirstName: "Leaver", LastName: fmt.Sprint(i), Email: email,
			Okta: &seed.OktaUser{ID: fmt.Sprintf("00u%017d", 8000+i), Status: "ACTIVE"},
			AWS: &seed.AWSUser{IdentityCenter: &seed.IdentityCenterUser{UserID: ssoID, UserName: email,
				Assignments: []seed.Assignment{{Account: "111111111111", PermissionSet: "AdministratorAccess"}, {Account: "222222222222", PermissionSet: "ReadOnlyAccess"}}}}})
	}
	b, err := yaml.Marshal(org)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "layoff.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, emps, ssoIDs
}

// Fifty cases at once against the same two kill-switch permission sets:
// every one of the fifty users is in both sets' provisioned deny when the
// cases are done, written in a few batches, not fifty racing writes.
func TestIssue13_KillSwitchLosesNoOne(t *testing.T) {
	path, emps, ssoIDs := layoffSeed(t, 50)
	h := start(t, dev.Options{Options: devopts.Options{Seed: path}, NoEvidence: true, NoWatch: true})
	cs := cases.New(h.stack.Client)
	var wg sync.WaitGroup
	for _, emp := range emps {
		wg.Go(func() {
			if _, err := cs.Start(t.Context(), workflows.Input{EmployeeID: emp, Mode: workflows.ModeStandard, Reason: "layoff", RequestedBy: "e2e"}); err != nil {
				t.Errorf("start %s: %v", emp, err)
			}
		})
	}
	wg.Wait()
	for _, emp := range emps {
		st := waitQueryFor(h, workflows.WorkflowID(emp), workflows.QueryStatus, "settled", 5*time.Minute, func(c workflows.Case) bool {
			return c.State == workflows.CaseDone || c.State == workflows.CaseParked || c.State == workflows.CaseFailed
		})
		if st.State != workflows.CaseDone {
			var why []string
			for _, s := range st.Steps {
				if s.State == workflows.StepParked {
					why = append(why, s.ID+": "+s.LastError)
				}
			}
			t.Errorf("%s ended %s: %s", emp, st.State, strings.Join(why, "; "))
		}
	}
	for _, name := range []string{"AdministratorAccess", "ReadOnlyAccess"} {
		ps, ok := h.emu.AWS.PermissionSet(name)
		if !ok {
			t.Fatalf("no permission set %s", name)
		}
		missing := 0
		for _, id := range ssoIDs {
			if !strings.Contains(ps.InlinePolicy, id) {
				missing++
			}
		}
		if missing > 0 || len(ps.NotProvisioned) > 0 {
			t.Errorf("%s: %d of %d users missing from the deny; not provisioned in %v", name, missing, len(ssoIDs), ps.NotProvisioned)
		}
		var sh workflows.SharedStatus
		v, err := h.stack.Client.QueryWorkflow(t.Context(), workflows.SharedID("aws", ps.ARN), "", workflows.QueryShared)
		if err != nil || v.Get(&sh) != nil {
			t.Fatalf("the writer of %s: %v", name, err)
		}
		t.Logf("%s: %d users applied in %d batches", name, sh.Applied, sh.Batches)
		if sh.Batches >= len(ssoIDs) || sh.Applied < len(ssoIDs) {
			t.Errorf("%s: %d applied in %d batches: want the 50 batched", name, sh.Applied, sh.Batches)
		}
	}
}

// terminate --file starts one case a person (one waiting for its time),
// returns them when run again, and starts nothing when a row is malformed.
func TestIssue13_TerminateFile(t *testing.T) {
	h := start(t, dev.Options{NoEvidence: true, NoWatch: true})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("employeeId,effectiveAt,reason\nE1002\nE1005,someday,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := h.cli("terminate", "--file", bad); code == 0 || !strings.Contains(errs, "bad.csv line 3") {
		t.Fatalf("a malformed file: exit %d %q", code, errs)
	}
	if list := h.mustCLI("list"); strings.Contains(list, "E1002") {
		t.Fatalf("a case was started from a malformed file:\n%s", list)
	}
	good := filepath.Join(dir, "layoff.csv")
	if err := os.WriteFile(good, []byte("employeeId,effectiveAt,reason\nE1002\nE1005,2030-01-04T17:00:00Z,last day\nE1014\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := h.mustCLI("terminate", "--file", good, "--reason", "reduction in force")
	if !strings.Contains(out, "3 started, 0 already had a case, 0 refused") {
		t.Fatalf("terminate --file said %q", out)
	}
	if st := h.status("E1005"); st.State != workflows.CaseScheduled || st.Reason != "last day" {
		t.Errorf("E1005: %s, reason %q", st.State, st.Reason)
	}
	if st := h.status("E1002"); st.Reason != "reduction in force" {
		t.Errorf("E1002's reason %q", st.Reason)
	}
	if out := h.mustCLI("terminate", "--file", good); !strings.Contains(out, "0 started, 3 already had a case") {
		t.Errorf("again: %q", out)
	}
}
