package cases

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/workflows"
)

// The packet puts the snapshot's events, the cut, the alerts and reports
// in one timeline, in time order, each with its bundle, and lists every
// bundle; what it leaves out it says.
func TestBuildPacket(t *testing.T) {
	cut := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	st := Status{Case: workflows.Case{CaseID: "offboard/E9", EmployeeID: "E9", Mode: workflows.ModeHostile, RequestedBy: "hr",
		CutStartedAt: cut, State: workflows.CaseDone,
		Evidence: &workflows.Evidence{State: workflows.EvidenceSealed, Bundle: "E9-snap", Digest: "d0", Window: evidence.Window{From: cut.AddDate(0, 0, -30), To: cut}}}}
	w := workflows.WatchStatus{WatchID: "watch/E9", State: workflows.WatchExtortion, Alerted: 3,
		Alerts:  []workflows.Alert{{ID: 3, At: cut.Add(48 * time.Hour), Kind: workflows.AlertAttempt, System: "okta", Message: "sign-in", Bundle: "E9-watch-1", Digest: "d1"}},
		Reports: []workflows.WatchReport{{ID: 1, At: cut.Add(72 * time.Hour), Kind: "extortion", By: "soc"}}}
	w.Reports[0].SHA256, w.Reports[0].Bundle, w.Reports[0].Digest = "f00d", "E9-report-1", "d2"
	events := []evidence.Event{{Time: cut.Add(-time.Hour), System: "github", Action: "git.clone", Target: "acme/api"}}
	p := BuildPacket(st, w, events, "counsel", cut.AddDate(0, 1, 0))
	var kinds []string
	for i, e := range p.Timeline {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.At.Before(p.Timeline[i-1].At) {
			t.Fatalf("timeline out of order at %d: %+v", i, p.Timeline)
		}
	}
	if got := strings.Join(kinds, ","); got != "activity,cut,alert:attempt,report:extortion" {
		t.Errorf("timeline kinds %s", got)
	}
	if len(p.Evidence) != 3 || p.Evidence[1].Digest != "d1" || p.Evidence[2].Bundle != "E9-report-1" {
		t.Errorf("bundles %+v", p.Evidence)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "newest 1 of 3 alerts") {
		t.Errorf("notes %q", p.Notes)
	}
	var b bytes.Buffer
	if err := p.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Incident packet: E9", "| `E9-report-1` | `d2` |", "git.clone acme/api", "extortion message reported by soc, SHA-256 f00d"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
	// Without a snapshot it says so.
	st.Evidence = nil
	if p := BuildPacket(st, w, nil, "counsel", cut); len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "no sealed snapshot") {
		t.Errorf("notes without a snapshot: %q", p.Notes)
	}
}
