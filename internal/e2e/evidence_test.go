package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/signals"
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
	// Every system's events, and what the cut recorded (sessions,
	// credentials, tokens) as the "offboard" source.
	for _, sys := range []string{"okta", "github", "slack", "aws", "google", "offboard"} {
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

// postEvents appends audit events to an emulator in the vendor's format.
func (h *harness) postEvents(system string, body any) {
	h.t.Helper()
	h.postEmulator(system, emu.EventsPath, body)
}

// postEmulator posts body to one of an emulator's control endpoints.
func (h *harness) postEmulator(system, path string, body any) {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.Post(h.stack.URLs[system]+path, "application/json", bytes.NewReader(b))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("%s %s: %d %s", system, path, resp.StatusCode, msg)
	}
}

// A scripted insider: dozens of clones of distinct repositories in the
// last week, signed in through Astrill VPN, with a personal access token
// made two days before the cut.
func TestIssue11_ScriptedInsiderIsHigh(t *testing.T) {
	h := start(t, dev.Options{})
	now := time.Now().UTC()
	okta := oktaID(t, "E1002")
	var logins []any
	for d := 1; d <= 3; d++ {
		logins = append(logins, map[string]any{
			"eventType": "user.session.start", "published": now.Add(-time.Duration(d) * 24 * time.Hour).Format(time.RFC3339),
			"actor":           map[string]any{"id": okta, "type": "User"},
			"outcome":         map[string]any{"result": "SUCCESS"},
			"client":          map[string]any{"ipAddress": "45.14.71.9", "geographicalContext": map[string]any{"country": "Netherlands"}},
			"securityContext": map[string]any{"asNumber": 58546, "asOrg": "Astrill VPN", "isProxy": true},
		})
	}
	h.postEvents("okta", map[string]any{"events": logins})
	login := person(t, "E1002").GitHub.Login
	var entries []any
	for i := range 30 {
		at := now.Add(-time.Duration(i+1) * 3 * time.Hour)
		entries = append(entries, map[string]any{"action": "git.clone", "actor": login, "org": "acme",
			"@timestamp": at.UnixMilli(), "repo": fmt.Sprintf("acme/secret-%02d", i), "actor_ip": "45.14.71.9", "transport": "ssh"})
	}
	entries = append(entries, map[string]any{"action": "personal_access_token.create", "actor": login, "org": "acme",
		"@timestamp": now.Add(-48 * time.Hour).UnixMilli(), "actor_ip": "45.14.71.9"})
	h.postEvents("github", map[string]any{"events": entries})

	h.mustCLI("terminate", "E1002", "--reason", "insider")
	h.waitFor("E1002", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	ev := h.sealed("E1002")
	as := ev.Assessment
	if as == nil || as.Level != "high" || !as.RecommendHostile {
		t.Fatalf("assessment %+v", as)
	}
	var kinds []string
	for _, s := range as.Signals {
		kinds = append(kinds, s.Kind)
		if len(s.Events) == 0 {
			t.Errorf("signal %s names no events", s.Kind)
		}
	}
	for _, want := range []string{"bulk-clone", "risky-network", "new-credentials"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s signal: %v (%v)", want, kinds, as.Reasons)
		}
	}
	show := h.mustCLI("evidence", "show", "E1002")
	for _, want := range []string{"Risk: high", "acme/secret-", "hostile mode"} {
		if !strings.Contains(show, want) {
			t.Errorf("evidence show lacks %q:\n%s", want, show)
		}
	}

	// The demo org's own insider (E1019), played when the stack started.
	h.mustCLI("terminate", "E1019")
	h.waitFor("E1019", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	demo := h.sealed("E1019").Assessment
	if demo == nil || demo.Level != "high" {
		t.Fatalf("the demo insider: %+v", demo)
	}
	for _, want := range []string{"bulk-clone", "risky-network", "new-credentials"} {
		if !slices.ContainsFunc(demo.Signals, func(s signals.Signal) bool { return s.Kind == want }) {
			t.Errorf("the demo insider has no %s signal: %v", want, demo.Reasons)
		}
	}
}
