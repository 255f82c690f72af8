package slackapp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/activities"
)

// Action IDs of offboard's buttons, and callback IDs of its modals.
const (
	ActionApprove = "offboard.approve"
	ActionReject  = "offboard.reject"
	ActionRetry   = "offboard.retry"
	ActionSkip    = "offboard.skip"

	CallbackReject = "offboard.reject"
	CallbackSkip   = "offboard.skip"

	// ReasonBlock and ReasonAction name a modal's reason input.
	ReasonBlock  = "reason"
	ReasonAction = "reason"
)

// Button is what a button's value (and its modal's private_metadata)
// carries: the case, the step for Retry and Skip, and the single-use nonce
// the case issued for this message.
type Button struct {
	Case  string `json:"case"`
	Step  string `json:"step,omitempty"`
	Nonce string `json:"nonce"`
}

func (b Button) String() string {
	v, _ := json.Marshal(b)
	return string(v)
}

// ParseButton reads a button's value.
func ParseButton(v string) (Button, error) {
	var b Button
	if err := json.Unmarshal([]byte(v), &b); err != nil || b.Case == "" || b.Nonce == "" {
		return b, fmt.Errorf("the button's value is not offboard's")
	}
	return b, nil
}

// esc escapes text for Slack mrkdwn: &, < and >, so nothing given by a
// person becomes a mention or a link.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func md(s string) *sdk.TextBlockObject {
	return sdk.NewTextBlockObject(sdk.MarkdownType, s, false, false)
}
func plain(s string) *sdk.TextBlockObject {
	return sdk.NewTextBlockObject(sdk.PlainTextType, s, false, false)
}

// who shows who decided: a Slack user as a mention, anyone else as text.
func who(by string) string {
	if u, ok := strings.CutPrefix(by, "slack:"); ok && slackUserID(u) {
		return "<@" + u + ">"
	}
	return esc(by)
}

func slackUserID(s string) bool {
	if len(s) < 3 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// when shows a time in zone (the person's), with UTC beside it.
func when(t time.Time, zone string) string {
	if t.IsZero() {
		return "now"
	}
	u := t.UTC().Format("2006-01-02 15:04 UTC")
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" && zone != "UTC" {
		return t.In(loc).Format("2006-01-02 15:04 MST") + " (" + esc(zone) + ", " + u + ")"
	}
	return u
}

// requestBlocks is the approval request: the case, what will be cut, who
// has approved, and the buttons, or, once decided, the outcome. private
// leaves out the name, the reason and the accounts (a message outside the
// approvals channel in a hostile case).
func requestBlocks(n activities.Notice, private bool) []sdk.Block {
	c, ap := n.Case, n.Approval
	person := "`" + esc(c.EmployeeID) + "`"
	if !private && c.Name != "" {
		person += " — " + esc(c.Name)
	}
	fields := []*sdk.TextBlockObject{
		md("*Employee*\n" + person),
		md("*Requested by*\n" + esc(c.RequestedBy)),
		md("*Source*\n" + esc(or(c.Source, "other"))),
		md("*Mode*\n" + esc(c.Mode)),
		md("*Effective*\n" + when(c.EffectiveAt, c.TimeZone)),
	}
	if !private && c.Reason != "" {
		fields = append(fields, md("*Reason*\n"+esc(clip(c.Reason, 500))))
	}
	if c.Risk != "" {
		risk := esc(c.Risk)
		if c.Risk == "high" {
			risk = ":red_circle: *high*: hostile mode is recommended"
		}
		fields = append(fields, md("*Risk*\n"+risk))
	}
	blocks := []sdk.Block{
		sdk.NewHeaderBlock(plain("Offboarding approval: " + c.CaseID)),
		sdk.NewSectionBlock(nil, fields, nil),
		sdk.NewSectionBlock(md("*What will be cut*\n"+planLines(c, private)), nil, nil),
	}
	if len(c.RiskReasons) > 0 {
		var lines []string
		for _, r := range c.RiskReasons[:min(len(c.RiskReasons), 5)] {
			lines = append(lines, "• "+esc(clip(r, 200)))
		}
		blocks = append(blocks, sdk.NewSectionBlock(md("*Why*\n"+strings.Join(lines, "\n")), nil, nil))
	}
	switch {
	case c.PlanError != "" && private:
		// A connector's message may name an account.
		blocks = append(blocks, sdk.NewContextBlock("", md("Plan incomplete: see the case's status.")))
	case c.PlanError != "":
		blocks = append(blocks, sdk.NewContextBlock("", md("Plan incomplete: "+esc(clip(c.PlanError, 300)))))
	}
	if ap == nil {
		return blocks
	}
	var approved []string
	for _, d := range ap.Approvals {
		approved = append(approved, who(d.By)+" at "+d.At.UTC().Format("15:04 UTC"))
	}
	if ap.State == "pending" {
		status := fmt.Sprintf("Needs %d approval(s) from approvers other than the requester and the person.", ap.Quorum)
		if len(approved) > 0 {
			status = fmt.Sprintf("Approved by %s (%d of %d).", strings.Join(approved, ", "), len(approved), ap.Quorum)
		}
		blocks = append(blocks,
			sdk.NewContextBlock("", md(status)),
			sdk.NewActionBlock("offboard.approval",
				sdk.NewButtonBlockElement(ActionApprove, Button{Case: c.CaseID, Nonce: ap.Nonce}.String(), plain("Approve")).WithStyle(sdk.StylePrimary),
				sdk.NewButtonBlockElement(ActionReject, Button{Case: c.CaseID, Nonce: ap.Nonce}.String(), plain("Reject")).WithStyle(sdk.StyleDanger),
			))
		return blocks
	}
	blocks = append(blocks, sdk.NewSectionBlock(md(outcome(ap, approved)), nil, nil))
	return blocks
}

// outcome says how an approval ended.
func outcome(ap *activities.ApprovalBrief, approved []string) string {
	d := ap.Decided
	switch {
	case ap.State == "approved" && len(approved) > 0:
		return ":white_check_mark: *Approved* by " + strings.Join(approved, ", ") + ". The cut runs at the effective time."
	case ap.State == "rejected" && d != nil:
		return fmt.Sprintf(":x: *Rejected* by %s at %s: %s. Nothing was cut.", who(d.By), d.At.UTC().Format("2006-01-02 15:04 UTC"), esc(clip(d.Reason, 300)))
	case ap.State == "rescinded" && d != nil:
		return fmt.Sprintf(":leftwards_arrow_with_hook: *Rescinded* by %s at %s. Nothing was cut.", who(d.By), d.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return "The case ended (" + esc(ap.State) + ") before a decision. Nothing was cut."
}

// planLines lists the systems: accounts found and their step counts.
func planLines(c activities.CaseBrief, private bool) string {
	if len(c.Systems) == 0 {
		return "_no plan_"
	}
	var b strings.Builder
	for _, s := range c.Systems {
		switch {
		case !s.Found:
			fmt.Fprintf(&b, "• %s: no account\n", esc(s.System))
		case private || s.AccountID == "":
			fmt.Fprintf(&b, "• %s: %d step(s)\n", esc(s.System), s.Steps)
		default:
			fmt.Fprintf(&b, "• %s: `%s`, %d step(s)\n", esc(s.System), esc(s.AccountID), s.Steps)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parkedBlocks is a parked step, with Retry and Skip, or once decided the
// decision. It never names the person (the ops channel is wide).
func parkedBlocks(n activities.Notice) []sdk.Block {
	st := n.Step
	text := fmt.Sprintf(":warning: *%s*: step `%s` is parked after %d attempt(s).\n*%s*: %s",
		esc(n.Case.CaseID), esc(st.ID), st.Attempts, esc(or(st.ErrorKind, "Error")), esc(clip(st.Message, 500)))
	blocks := []sdk.Block{sdk.NewSectionBlock(md(text), nil, nil)}
	if d := st.Decision; d != nil {
		verb := "Retried"
		if d.Action == "skip" {
			verb = "Skipped"
		}
		line := fmt.Sprintf("*%s* by %s at %s", verb, who(d.By), d.At.UTC().Format("2006-01-02 15:04 UTC"))
		if d.Reason != "" {
			line += ": " + esc(clip(d.Reason, 300))
		}
		return append(blocks, sdk.NewContextBlock("", md(line)))
	}
	v := Button{Case: n.Case.CaseID, Step: st.ID, Nonce: st.Nonce}.String()
	return append(blocks, sdk.NewActionBlock("offboard.parked",
		sdk.NewButtonBlockElement(ActionRetry, v, plain("Retry")).WithStyle(sdk.StylePrimary),
		sdk.NewButtonBlockElement(ActionSkip, v, plain("Skip")).WithStyle(sdk.StyleDanger),
	))
}

// summaryBlocks is an ended case: its state, how long the cut took, the
// steps' results and a link to the Web UI.
func (a *App) summaryBlocks(n activities.Notice) []sdk.Block {
	s := n.Summary
	line := fmt.Sprintf("*%s* is *%s*.", esc(n.Case.CaseID), esc(s.State))
	if !s.CutStartedAt.IsZero() && !s.FinishedAt.IsZero() {
		line += fmt.Sprintf(" Time to cut: %s.", s.FinishedAt.Sub(s.CutStartedAt).Round(time.Second))
	}
	line += fmt.Sprintf("\nSteps: %d verified, %d already so, %d skipped; %d system(s) without an account.", s.Verified, s.Already, s.Skipped, s.NoAccount)
	if s.Error != "" {
		line += "\n" + esc(clip(s.Error, 300))
	}
	blocks := []sdk.Block{sdk.NewSectionBlock(md(line), nil, nil)}
	if a.webUI != "" {
		link := a.webUI + "/namespaces/offboarding/workflows/" + pathEscape(n.Case.CaseID) + "/" + pathEscape(s.RunID) + "/history"
		blocks = append(blocks, sdk.NewContextBlock("", md("<"+link+"|Open in the Temporal Web UI>")))
	}
	return blocks
}

func pathEscape(s string) string {
	return strings.NewReplacer("/", "%2F", "|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(s)
}

// reasonModal asks for the reason of a reject or a skip.
func reasonModal(callback, title, submit, label string, b Button) sdk.ModalViewRequest {
	in := sdk.NewPlainTextInputBlockElement(plain("Why?"), ReasonAction)
	in.Multiline = true
	in.MaxLength = 500
	return sdk.ModalViewRequest{
		Type:            sdk.VTModal,
		CallbackID:      callback,
		PrivateMetadata: b.String(),
		Title:           plain(title),
		Submit:          plain(submit),
		Close:           plain("Cancel"),
		Blocks: sdk.Blocks{BlockSet: []sdk.Block{
			sdk.NewSectionBlock(md("Case `"+esc(b.Case)+"`"+stepSuffix(b.Step)), nil, nil),
			sdk.NewInputBlock(ReasonBlock, plain(label), nil, in),
		}},
	}
}

func stepSuffix(step string) string {
	if step == "" {
		return ""
	}
	return ", step `" + esc(step) + "`"
}

// RejectModal is the modal a Reject click opens.
func RejectModal(b Button) sdk.ModalViewRequest {
	return reasonModal(CallbackReject, "Reject offboarding", "Reject", "Reason for rejecting", b)
}

// SkipModal is the modal a Skip click opens.
func SkipModal(b Button) sdk.ModalViewRequest {
	return reasonModal(CallbackSkip, "Skip step", "Skip", "Reason for skipping", b)
}

// watchBlocks is a watch alert in the security channel: what was seen,
// the evidence bundle that holds it, who is paged.
func watchBlocks(n activities.Notice, pages string) []sdk.Block {
	wb := n.Watch
	head := fmt.Sprintf(":rotating_light: *Watch alert %d* on `%s` (case `%s`): *%s*", wb.AlertID, esc(wb.WatchID), esc(n.Case.CaseID), esc(wb.Kind))
	blocks := []sdk.Block{
		sdk.NewSectionBlock(md(head), nil, nil),
		sdk.NewSectionBlock(md(esc(clipText(wb.Message, 2900))), nil, nil),
	}
	var ctx []sdk.MixedElement
	if wb.Bundle != "" {
		ctx = append(ctx, md(fmt.Sprintf("Evidence bundle `%s`, manifest SHA-256 `%s`", esc(wb.Bundle), esc(wb.Digest))))
	}
	ctx = append(ctx, md("Watch state: *"+esc(wb.State)+"*"))
	if pages != "" {
		ctx = append(ctx, md("Paged: "+pages))
	}
	return append(blocks, sdk.NewContextBlock("", ctx...))
}

// clipText keeps a Slack text under n bytes.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
