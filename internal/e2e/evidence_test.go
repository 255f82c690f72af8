package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/workflows"
)

// sealed waits for a case's evidence to be sealed (or fail) and returns it.
func (h *harness) sealed(employee string) *workflows.Evidence {
	h.t.Helper()
	st := h.waitFor(employee, "evidence sealed", func(s workflows.Case) bool {
		return s.Evidence != nil && (s.Evidence.State == workflows.EvidenceSealed || s.Evidence.State == workflows.EvidenceFailed)
	})
	if st.Evidence.State != workflows.EvidenceSealed {
		h.t.Fatalf("evidence of %s: %+v", employee, st.Evidence)
	}
	return st.Evidence
}

func (h *harness) bundleDir(ev *workflows.Evidence) string {
	return filepath.Join(h.stack.Config.Evidence.Dir, ev.Bundle)
}

func TestIssue11_EvidenceAtTheCut(t *testing.T) {
	h := start(t, dev.Options{})
	h.mustCLI("terminate", "E1001", "--reason", "evidence test")
	st := h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	ev := h.sealed("E1001")
	for _, sys := range []string{"okta", "github", "slack", "aws", "google"} {
		if ev.Counts[sys] == 0 {
			t.Errorf("no %s events in the bundle: %v", sys, ev.Counts)
		}
	}
	if len(ev.Incomplete) != 0 || ev.Assessment == nil || ev.Assessment.Level != "low" || len(ev.Assessment.Signals) != 0 {
		t.Errorf("an ordinary leaver: incomplete %v, assessment %+v", ev.Incomplete, ev.Assessment)
	}
	dir := h.bundleDir(ev)
	out := h.mustCLI("evidence", "verify", dir)
	if !strings.Contains(out, "verified") {
		t.Errorf("verify said %q", out)
	}
	if show := h.mustCLI("evidence", "show", "E1001"); !strings.Contains(show, "Risk: low") || !strings.Contains(show, "github") {
		t.Errorf("evidence show:\n%s", show)
	}
	if text := h.mustCLI("status", "E1001"); !strings.Contains(text, "Evidence: sealed") {
		t.Errorf("status does not show the evidence:\n%s", text)
	}
	// One changed byte: verify fails and names the file.
	file := filepath.Join(dir, "github.jsonl")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := h.cli("evidence", "verify", dir)
	if code == 0 || !strings.Contains(errs, "github.jsonl") {
		t.Errorf("verify of a changed bundle: exit %d, %q", code, errs)
	}
	// The digest the case keeps is the manifest's.
	rep, _ := evidence.Verify(t.Context(), evidence.NewDir(filepath.Dir(dir)), filepath.Base(dir), nil)
	if rep.Digest != ev.Digest {
		t.Errorf("manifest digest %s, the case kept %s", rep.Digest, ev.Digest)
	}
}

// A source that fails throughout is recorded incomplete; the case is done.
func TestIssue11_FailingSourceIsIncomplete(t *testing.T) {
	h := start(t, dev.Options{})
	if err := h.emu.Google.Emulator().AddFault(emu.Fault{Path: "^/admin/reports/v1/activity/users/[0-9]+/applications/drive", Status: http.StatusInternalServerError}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1001")
	st := h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	ev := h.sealed("E1001")
	if len(ev.Incomplete) != 1 || ev.Incomplete[0].System != "google" || ev.Incomplete[0].Reason == "" {
		t.Errorf("incomplete: %+v", ev.Incomplete)
	}
	if ev.Counts["okta"] == 0 {
		t.Errorf("the other sources: %v", ev.Counts)
	}
	h.mustCLI("evidence", "verify", h.bundleDir(ev))
}
