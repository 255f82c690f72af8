package cases

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/workflows"
)

// PacketFormat names the incident packet's layout.
const PacketFormat = "offboard-incident/1"

// Packet is an incident packet: one person's case and watch as counsel or
// a law-enforcement referral needs them — the last weeks of the
// employment, the cut, every attempt and report after it, in one
// timeline, each entry with the evidence bundle and manifest hash that
// holds it.
type Packet struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generatedAt"`
	GeneratedBy string    `json:"generatedBy"`
	CaseID      string    `json:"caseId"`
	WatchID     string    `json:"watchId"`
	EmployeeID  string    `json:"employeeId"`
	Mode        string    `json:"mode"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requestedBy,omitempty"`
	CutAt       time.Time `json:"cutAt,omitzero"`
	CaseState   string    `json:"caseState"`
	WatchState  string    `json:"watchState"`
	// Evidence lists every sealed bundle the packet draws on.
	Evidence []PacketBundle `json:"evidence"`
	// Risk is the snapshot's insider-signal level, with its reasons.
	Risk        string   `json:"risk,omitempty"`
	RiskReasons []string `json:"riskReasons,omitempty"`
	Timeline    []Entry  `json:"timeline"`
	// Notes say what the packet could not include.
	Notes []string `json:"notes,omitempty"`
}

// PacketBundle is one evidence bundle and its manifest's SHA-256.
type PacketBundle struct {
	Bundle string `json:"bundle"`
	Digest string `json:"digest"`
	What   string `json:"what"`
}

// Entry is one line of the timeline.
type Entry struct {
	At time.Time `json:"at"`
	// Phase: "before" the cut (the snapshot), "cut", "after" (the watch).
	Phase  string `json:"phase"`
	Kind   string `json:"kind"`
	System string `json:"system,omitempty"`
	What   string `json:"what"`
	Bundle string `json:"bundle,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// maxPacketEvents bounds the snapshot events the timeline lists one by
// one; the bundle has them all.
const maxPacketEvents = 2000

// BuildPacket assembles the packet of a case, its watch, and the events
// of its snapshot (nil when they could not be read; notes say why).
func BuildPacket(st Status, w workflows.WatchStatus, snapshot []evidence.Event, by string, now time.Time, notes ...string) Packet {
	c := st.Case
	p := Packet{Format: PacketFormat, GeneratedAt: now.UTC(), GeneratedBy: by, CaseID: c.CaseID, WatchID: w.WatchID,
		EmployeeID: c.EmployeeID, Mode: string(c.Mode), Reason: c.Reason, RequestedBy: c.RequestedBy, CutAt: c.CutStartedAt,
		CaseState: string(c.State), WatchState: w.State, Notes: notes, Timeline: []Entry{}, Evidence: []PacketBundle{}}
	var snapBundle, snapDigest string
	if ev := c.Evidence; ev != nil && ev.Bundle != "" {
		snapBundle, snapDigest = ev.Bundle, ev.Digest
		p.Evidence = append(p.Evidence, PacketBundle{Bundle: ev.Bundle, Digest: ev.Digest,
			What: fmt.Sprintf("the snapshot: the person's activity %s to %s", ev.Window.From.Format(time.DateOnly), ev.Window.To.Format(time.DateOnly))})
		if as := ev.Assessment; as != nil {
			p.Risk = string(as.Level)
			p.RiskReasons = as.Reasons
			for _, s := range as.Signals {
				at := now
				if len(s.Events) > 0 {
					at = s.Events[0].Time
				}
				p.Timeline = append(p.Timeline, Entry{At: at, Phase: "before", Kind: "signal", What: string(s.Severity) + ": " + s.Summary, Bundle: snapBundle, Digest: snapDigest})
			}
		}
	} else {
		p.Notes = append(p.Notes, "the case has no sealed snapshot")
	}
	if len(snapshot) > maxPacketEvents {
		p.Notes = append(p.Notes, fmt.Sprintf("the timeline lists the last %d of the snapshot's %d events; the bundle has them all", maxPacketEvents, len(snapshot)))
		snapshot = snapshot[len(snapshot)-maxPacketEvents:]
	}
	for _, e := range snapshot {
		p.Timeline = append(p.Timeline, Entry{At: e.Time, Phase: "before", Kind: "activity", System: e.System, What: eventText(e), Bundle: snapBundle, Digest: snapDigest})
	}
	if !c.CutStartedAt.IsZero() {
		p.Timeline = append(p.Timeline, Entry{At: c.CutStartedAt, Phase: "cut", Kind: "cut", What: "the cut started"})
	}
	for _, s := range c.Steps {
		if s.Action == workflows.ActionPlan || s.VerifiedAt.IsZero() && s.State != workflows.StepSkipped {
			continue
		}
		what := fmt.Sprintf("%s %s", s.ID, s.State)
		if s.Result != "" {
			what += " (" + s.Result + ")"
		}
		if s.State == workflows.StepSkipped {
			what += ": " + s.SkipReason
		}
		at := s.VerifiedAt
		if at.IsZero() {
			at = c.FinishedAt
		}
		p.Timeline = append(p.Timeline, Entry{At: at, Phase: "cut", Kind: "step", System: s.System, What: what})
	}
	for _, al := range w.Alerts {
		if al.Kind == workflows.AlertReport {
			continue // the report's own entry, below, says more
		}
		p.Timeline = append(p.Timeline, Entry{At: al.At, Phase: "after", Kind: "alert:" + al.Kind, System: al.System, What: al.Message, Bundle: al.Bundle, Digest: al.Digest})
		if al.Bundle != "" {
			p.Evidence = append(p.Evidence, PacketBundle{Bundle: al.Bundle, Digest: al.Digest, What: fmt.Sprintf("watch alert %d (%s)", al.ID, al.Kind)})
		}
	}
	for _, r := range w.Reports {
		what := fmt.Sprintf("%s message reported by %s, SHA-256 %s", r.Kind, r.By, r.SHA256)
		for _, m := range r.Matches {
			what += "; " + m.Summary
		}
		p.Timeline = append(p.Timeline, Entry{At: r.At, Phase: "after", Kind: "report:" + r.Kind, What: what, Bundle: r.Bundle, Digest: r.Digest})
		p.Evidence = append(p.Evidence, PacketBundle{Bundle: r.Bundle, Digest: r.Digest, What: fmt.Sprintf("report %d (%s): the message whole", r.ID, r.Kind)})
	}
	if !w.ClosedAt.IsZero() {
		p.Timeline = append(p.Timeline, Entry{At: w.ClosedAt, Phase: "after", Kind: "watch-closed", What: strings.TrimSpace("the watch closed: " + w.CloseReason + " " + byWho(w.ClosedBy))})
	}
	slices.SortStableFunc(p.Timeline, func(a, b Entry) int { return a.At.Compare(b.At) })
	if n := len(w.Alerts); n < w.Alerted {
		p.Notes = append(p.Notes, fmt.Sprintf("the watch keeps its newest %d of %d alerts", n, w.Alerted))
	}
	return p
}

func byWho(who string) string {
	if who == "" {
		return ""
	}
	return "(by " + who + ")"
}

func eventText(e evidence.Event) string {
	s := e.Action
	for _, x := range []string{e.Target, e.Outcome, e.SourceIP, e.ASN, e.Country, e.Credential} {
		if x != "" {
			s += " " + x
		}
	}
	return s
}

// WriteMarkdown writes the packet as a readable document.
func (p Packet) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident packet: %s\n\n", p.EmployeeID)
	fmt.Fprintf(&b, "Generated %s by %s (%s).\n\n", p.GeneratedAt.Format(time.RFC3339), p.GeneratedBy, p.Format)
	fmt.Fprintf(&b, "- Case `%s`: %s, mode %s, requested by %s", p.CaseID, p.CaseState, p.Mode, p.RequestedBy)
	if p.Reason != "" {
		fmt.Fprintf(&b, ", reason: %s", p.Reason)
	}
	fmt.Fprintf(&b, "\n- Cut started %s\n- Watch `%s`: %s\n", p.CutAt.Format(time.RFC3339), p.WatchID, p.WatchState)
	if p.Risk != "" {
		fmt.Fprintf(&b, "- Insider-signal risk at the cut: %s\n", p.Risk)
		for _, r := range p.RiskReasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	b.WriteString("\n## Evidence\n\nEach bundle is sealed (per-file SHA-256, a hash chain, an Ed25519 signature); check one with `offboard evidence verify`.\n\n| bundle | manifest SHA-256 | what |\n|---|---|---|\n")
	for _, e := range p.Evidence {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", e.Bundle, e.Digest, mdCell(e.What))
	}
	b.WriteString("\n## Timeline (UTC)\n\n| at | phase | kind | system | what | bundle |\n|---|---|---|---|---|---|\n")
	for _, e := range p.Timeline {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", e.At.UTC().Format(time.RFC3339), e.Phase, e.Kind, e.System, mdCell(e.What), e.Bundle)
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
