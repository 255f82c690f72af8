package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/workflows"
)

// The text views of plan, status and list. Every line is at most lineWidth
// columns, and every value from a person or a vendor goes through safe.
// Steps are grouped under a heading per system (with its account) and,
// where a system acts on several scopes (GitHub orgs, AWS users), under a
// heading per scope, so a step's first column is its action; its full ID,
// what retry and skip take, is on a line of its own.

// maxTargets is how many of a step's targets the plan lists (-o json has
// them all).
const maxTargets = 12

// accountText describes the account a system found.
func accountText(a *connectors.Account) string {
	s := "account " + safe(a.ID)
	if a.Status != "" {
		s += " (" + safe(a.Status) + ")"
	}
	return s
}

// scopeHeading names the scope a step acts on, as its system calls it
// (steps planned before connectors said so are a plain "scope").
func scopeHeading(st connectors.Step) string {
	kind := st.ScopeKind
	if kind == "" {
		kind = "scope"
	}
	return safe(kind) + " " + safe(st.Scope)
}

// group is the steps of one scope of a system, in their order.
type group[S any] struct {
	heading string // "" for the steps without a scope
	steps   []S
}

// groupByScope groups one system's steps: those without a scope first, then
// each scope's in the order the scopes first appear.
func groupByScope[S any](steps []S, step func(S) connectors.Step) []group[S] {
	groups := []group[S]{{}}
	index := map[string]int{}
	for _, s := range steps {
		st := step(s)
		if st.Scope == "" {
			groups[0].steps = append(groups[0].steps, s)
			continue
		}
		h := scopeHeading(st)
		i, ok := index[h]
		if !ok {
			i = len(groups)
			index[h] = i
			groups = append(groups, group[S]{heading: h})
		}
		groups[i].steps = append(groups[i].steps, s)
	}
	if len(groups[0].steps) == 0 {
		groups = groups[1:]
	}
	return groups
}

// stepIndent is the indent of a step line in a group.
func stepIndent(g string) int {
	if g == "" {
		return 2
	}
	return 4
}

// actionColumn is the column after which step lines continue: past the
// widest indented action, but never so far that little is left.
func actionColumn(steps []connectors.Step) int {
	col := 0
	for _, st := range steps {
		in := 2
		if st.Scope != "" {
			in = 4
		}
		col = max(col, in+width(safe(st.Action))+2)
	}
	return min(col, 40)
}

// printPlan is plan's text view.
func printPlan(w io.Writer, p workflows.Plan) {
	fmt.Fprintf(w, "Plan for %s (dry run; nothing was changed)\n", safe(p.EmployeeID))
	var all []connectors.Step
	for _, s := range p.Systems {
		all = append(all, s.Steps...)
	}
	col := actionColumn(all)
	for _, s := range p.Systems {
		fmt.Fprintln(w)
		switch {
		case !s.Found || s.Account == nil:
			para(w, "", 2, safe(s.System)+" — no account: no steps")
			continue
		case len(s.Steps) == 0:
			para(w, "", 2, safe(s.System)+" — "+accountText(s.Account)+": no steps")
			continue
		}
		para(w, "", 2, safe(s.System)+" — "+accountText(s.Account))
		for _, g := range groupByScope(s.Steps, func(st connectors.Step) connectors.Step { return st }) {
			if g.heading != "" {
				para(w, "  ", 4, g.heading)
			}
			for _, st := range g.steps {
				printPlanStep(w, stepIndent(g.heading), col, st)
			}
		}
	}
}

// printPlanStep prints one planned step: its action and, at column col,
// what it would do; under it what it acts on and its ID.
func printPlanStep(w io.Writer, indent, col int, st connectors.Step) {
	action := strings.Repeat(" ", indent) + safe(st.Action)
	if width(action)+2 > col {
		fmt.Fprintln(w, action)
		action = ""
	}
	para(w, pad(action, col), col, dash(safe(st.Description)))
	in := indent + 4
	if len(st.Targets) > 0 {
		labelled(w, in, "Targets: ", brief(safeAll(st.Targets), maxTargets), 0)
	}
	labelled(w, in, "ID: ", safe(st.ID), 0)
}

// printStatus is status's text view.
func printStatus(w io.Writer, st cases.Status) {
	para(w, "", 2, fmt.Sprintf("Case %s: %s (mode %s, requested by %s)", safe(st.CaseID), safe(string(st.State)), safe(string(st.Mode)), safe(st.RequestedBy)))
	times := "started " + when(st.StartedAt)
	if !st.FinishedAt.IsZero() {
		times += ", finished " + when(st.FinishedAt)
	}
	if st.RunID != "" {
		para(w, "", 2, "Run: "+safe(st.RunID)+", "+times)
	} else {
		para(w, "", 2, "Started "+strings.TrimPrefix(times, "started "))
	}
	if !st.EffectiveAt.IsZero() {
		eff := "Effective at: " + when(st.EffectiveAt)
		if loc, err := time.LoadLocation(st.TimeZone); st.TimeZone != "" && err == nil {
			eff += " (" + st.EffectiveAt.In(loc).Format("2006-01-02 15:04") + " " + safe(st.TimeZone) + ")"
		}
		para(w, "", 2, eff)
	}
	if st.Reason != "" {
		labelled(w, 0, "Reason: ", safe(st.Reason), 0)
	}
	if ap := st.Approval; ap != nil {
		printApproval(w, ap)
	}
	if ev := st.Evidence; ev != nil {
		text := safe(ev.State)
		if ev.Bundle != "" {
			n := 0
			for _, c := range ev.Counts {
				n += c
			}
			text += fmt.Sprintf(", %d events from %d systems", n, len(ev.Counts))
			if len(ev.Incomplete) > 0 {
				text += fmt.Sprintf(", %d incomplete", len(ev.Incomplete))
			}
			if ev.Assessment != nil {
				text += ", risk " + safe(string(ev.Assessment.Level))
			}
			text += " (offboard evidence show " + safe(st.EmployeeID) + ")"
		}
		if ev.Error != "" {
			text += ": " + safe(ev.Error)
		}
		labelled(w, 0, "Evidence: ", text, 0)
	}
	switch {
	case st.Watch != "":
		labelled(w, 0, "Watch: ", safe(st.Watch)+" (offboard watch status "+safe(st.EmployeeID)+")", 0)
	case st.WatchError != "":
		labelled(w, 0, "Watch: ", safe(st.WatchError), 0)
	}
	for _, m := range st.IndicatorMatches {
		labelled(w, 0, "Indicator: ", fmt.Sprintf("the %s account's %s %s is an indicator of %s", safe(m.System), safe(m.Kind), safe(m.Indicator), safe(m.WatchID)), 0)
	}
	if cut := cutLine(st.Case); cut != "" {
		labelled(w, 0, "Cut: ", cut, 0)
	}
	if st.Error != "" {
		labelled(w, 0, "Failed: ", safe(st.Error), 0)
	}
	printSteps(w, st.Case)
	if len(st.Decisions) > 0 {
		fmt.Fprintln(w, "\nDecisions:")
		for _, d := range st.Decisions {
			text := safe(d.Action)
			if d.Step != "" {
				text += " " + safe(d.Step)
			}
			text += " by " + safe(d.By) + ": " + dash(safe(d.Reason))
			prefix := "  " + when(d.At) + "  "
			para(w, prefix, width(prefix)+2, text)
		}
	}
	if parked := st.ParkedSteps(); len(parked) > 0 {
		printParked(w, st.EmployeeID, parked)
	}
	if len(st.EarlierRuns) > 0 {
		fmt.Fprintln(w)
		para(w, "", 2, fmt.Sprintf("This is the latest of %d runs for employee %s. Earlier runs:", len(st.EarlierRuns)+1, safe(st.EmployeeID)))
		for _, r := range st.EarlierRuns {
			prefix := "  " + safe(r.RunID) + "  "
			para(w, prefix, width(prefix), fmt.Sprintf("%s, started %s, closed %s", safe(r.Status), when(r.StartedAt), when(r.ClosedAt)))
		}
	}
}

// printApproval says where a case's approval stands: its state, who
// approved or rejected, where the request is, and why it is elsewhere.
func printApproval(w io.Writer, ap *workflows.Approval) {
	var by []string
	for _, d := range ap.Approvals {
		by = append(by, safe(d.By))
	}
	text := fmt.Sprintf("%s, %d of %d approvals", safe(ap.State), len(ap.Approvals), ap.Quorum)
	if len(by) > 0 {
		text += " (" + strings.Join(by, ", ") + ")"
	}
	if r := ap.Rejection; r != nil {
		text += "; rejected by " + safe(r.By) + " " + when(r.At) + ": " + dash(safe(r.Reason))
	}
	if ap.Request != nil {
		text += "; requested in Slack " + safe(ap.Request.Channel) + " (message " + safe(ap.Request.TS) + ")"
	}
	if ap.Reminders > 0 {
		text += fmt.Sprintf("; %d reminder(s)", ap.Reminders)
	}
	if !ap.EscalatedAt.IsZero() {
		text += "; escalated " + when(ap.EscalatedAt)
	}
	labelled(w, 0, "Approval: ", text, 0)
	if ap.Note != "" {
		labelled(w, 2, "Note: ", safe(ap.Note), 0)
	}
	if ap.LastError != "" {
		labelled(w, 2, "Slack error: ", safe(ap.LastError), 0)
	}
}

// printSteps prints a case's steps, system by system and scope by scope,
// each with what it recorded, its error or why it was skipped.
func printSteps(w io.Writer, c workflows.Case) {
	if len(c.Steps) == 0 {
		fmt.Fprintln(w, "\nNo steps yet: nothing has been planned or cut.")
		return
	}
	var systems []string
	for _, s := range c.Systems {
		systems = append(systems, s.System)
	}
	var all []connectors.Step
	for _, st := range c.Steps {
		all = append(all, st.Step)
		if !slices.Contains(systems, st.System) {
			systems = append(systems, st.System)
		}
	}
	col := actionColumn(all)
	stateWidth := len("STATE")
	for _, st := range c.Steps {
		stateWidth = max(stateWidth, width(stepState(st)))
	}
	stateWidth = min(stateWidth, 24)
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.TrimRight(pad("STEP", col)+pad("STATE", stateWidth+2)+"ATTEMPTS  VERIFIED AT", " "))
	for i, sys := range systems {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var steps []*workflows.Step
		for _, st := range c.Steps {
			if st.System == sys {
				steps = append(steps, st)
			}
		}
		para(w, "", 2, safe(sys)+" — "+systemStatus(c, sys, steps))
		for _, g := range groupByScope(steps, func(st *workflows.Step) connectors.Step { return st.Step }) {
			if g.heading != "" {
				para(w, "  ", 4, g.heading)
			}
			for _, st := range g.steps {
				printStatusStep(w, stepIndent(g.heading), col, stateWidth, st)
			}
		}
	}
}

// systemStatus is what a status heading says of a system's account.
func systemStatus(c workflows.Case, sys string, steps []*workflows.Step) string {
	for _, s := range c.Systems {
		if s.System == sys && s.Found && s.Account != nil {
			return accountText(s.Account)
		}
	}
	for _, st := range steps {
		if st.Action == workflows.ActionPlan && st.Result == workflows.ResultNoAccount {
			return "no account"
		}
	}
	return "account not resolved yet"
}

func stepState(st *workflows.Step) string {
	s := safe(string(st.State))
	if st.Result != "" {
		s += " (" + safe(st.Result) + ")"
	}
	return s
}

// printStatusStep prints one step's line, then under it its ID, error or
// skip, and records.
func printStatusStep(w io.Writer, indent, col, stateWidth int, st *workflows.Step) {
	action := strings.Repeat(" ", indent) + safe(st.Action)
	if width(action)+2 > col {
		fmt.Fprintln(w, action)
		action = ""
	}
	state := stepState(st)
	if width(state) > stateWidth {
		state += " "
	} else {
		state = pad(state, stateWidth+2)
	}
	fmt.Fprintln(w, pad(action, col)+state+pad(strconv.Itoa(st.Attempts), len("ATTEMPTS")+2)+when(st.VerifiedAt))
	in := indent + 4
	labelled(w, in, "ID: ", safe(st.ID), 0)
	switch {
	case st.State == workflows.StepSkipped:
		labelled(w, in, "", "skipped by "+safe(st.SkippedBy)+": "+dash(safe(st.SkipReason)), 2)
	case st.LastError != "":
		last := st.LastError
		if st.ErrorKind != "" && !strings.Contains(last, st.ErrorKind) {
			last = st.ErrorKind + ": " + last
		}
		label := "Last error: "
		if st.State == workflows.StepParked {
			label = "Error: "
		}
		labelled(w, in, label, safe(last), 0)
	}
	if len(st.Records) > 0 {
		list(w, in, "Records: ", safeAll(st.Records))
	}
}

// printParked prints the commands that move parked steps on.
func printParked(w io.Writer, employeeID string, parked []string) {
	fmt.Fprintln(w)
	steps := "step waits"
	if len(parked) > 1 {
		steps = "steps wait"
	}
	para(w, "", 2, fmt.Sprintf("Parked: %d %s for a decision. Fix the cause, then retry:", len(parked), steps))
	for _, id := range parked {
		command(w, "retry", employeeID, id)
	}
	fmt.Fprintln(w, "or give up on a step, with a reason:")
	for _, id := range parked {
		command(w, "skip", employeeID, id)
	}
}

// command prints one retry or skip command to copy, split with a shell
// continuation when it is too wide for one line.
func command(w io.Writer, action, employeeID, step string) {
	head := "  offboard " + action + " " + safe(employeeID)
	tail := "--step " + safe(step) + " --reason …"
	if width(head)+1+width(tail) <= lineWidth {
		fmt.Fprintln(w, head+" "+tail)
		return
	}
	fmt.Fprintln(w, head+" \\")
	para(w, "      ", 6, tail)
}

// printList is list's text view: one line a case, its parked steps under
// it. When that line would be too wide, the run ID goes on a line of its
// own under it, and if it is still too wide, each case is a few lines.
func printList(w io.Writer, list []cases.Summary) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no cases")
		return
	}
	const caseCol, runCol = 0, 5
	header := []string{"CASE", "STATE", "WORKFLOW", "STARTED", "CLOSED", "RUN"}
	rows := make([][]string, len(list))
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = width(h)
	}
	for i, cs := range list {
		rows[i] = []string{safe(cs.CaseID), dash(safe(cs.State)), dash(safe(cs.Status)), compact(cs.StartedAt), compact(cs.ClosedAt), dash(safe(cs.RunID))}
		for j, c := range rows[i] {
			widths[j] = max(widths[j], width(c))
		}
	}
	span := func(from, to int) int {
		n := 0
		for j := from; j < to; j++ {
			n += widths[j] + 2
		}
		return n - 2
	}
	line := func(cells []string, from, to int) string {
		var b strings.Builder
		for j := from; j < to; j++ {
			b.WriteString(pad(cells[j], widths[j]+2))
		}
		return strings.TrimRight(b.String(), " ")
	}
	switch {
	case span(caseCol, len(header)) <= lineWidth: // one line a case
		fmt.Fprintln(w, line(header, caseCol, len(header)))
		for i, cs := range list {
			fmt.Fprintln(w, line(rows[i], caseCol, len(header)))
			printListParked(w, cs)
		}
	case span(caseCol, runCol) <= lineWidth: // the run ID under the case
		fmt.Fprintln(w, line(header, caseCol, runCol))
		for i, cs := range list {
			fmt.Fprintln(w, line(rows[i], caseCol, runCol))
			labelled(w, 2, "run: ", rows[i][runCol], 0)
			printListParked(w, cs)
		}
	default: // a few lines a case
		for i, cs := range list {
			r := rows[i]
			para(w, "", 2, r[caseCol])
			para(w, "  ", 4, fmt.Sprintf("state %s, workflow %s, started %s, closed %s", r[1], r[2], r[3], r[4]))
			labelled(w, 2, "run: ", r[runCol], 0)
			printListParked(w, cs)
		}
	}
}

func printListParked(w io.Writer, cs cases.Summary) {
	if len(cs.ParkedSteps) > 0 {
		labelled(w, 2, "parked: ", strings.Join(safeAll(cs.ParkedSteps), ", "), 0)
	}
	if cs.State == string(workflows.CaseScheduled) && !cs.EffectiveAt.IsZero() {
		labelled(w, 2, "cuts at: ", when(cs.EffectiveAt), 0)
	}
}

// printStart is terminate's text view. now decides whether the effective
// time has passed.
func printStart(w io.Writer, res cases.StartResult, in workflows.Input, now time.Time) {
	id := safe(res.CaseID)
	switch {
	case res.Started && !in.EffectiveAt.IsZero() && !in.EffectiveAt.After(now):
		para(w, "", 2, fmt.Sprintf("case %s started; the effective time %s has passed; the cut starts now", id, when(in.EffectiveAt)))
	case res.Started && !in.EffectiveAt.IsZero():
		para(w, "", 2, fmt.Sprintf("case %s started; the cut waits until %s", id, when(in.EffectiveAt)))
	case res.Started:
		para(w, "", 2, fmt.Sprintf("case %s started", id))
	default:
		para(w, "", 2, fmt.Sprintf("case %s already exists (%s)", id, safe(res.State)))
	}
	para(w, "", 2, "follow it with: offboard status "+safe(res.EmployeeID))
}

// decisionOutput is what retry, skip, cut-now and rescind print with -o
// json: the decision as recorded, and the case.
type decisionOutput struct {
	CaseID string `json:"caseId"`
	workflows.DecisionResult
}

// printDecision is the text view of a recorded retry, skip, cut-now or
// rescind.
func printDecision(w io.Writer, what, caseID, by string, at time.Time) {
	para(w, "", 2, fmt.Sprintf("%s recorded for case %s by %s at %s", what, safe(caseID), safe(by), when(at)))
}

// cutLine says when each system was cut, counted from the start of the cut,
// and when the last was: "" before the cut starts.
func cutLine(c workflows.Case) string {
	if c.CutStartedAt.IsZero() {
		return ""
	}
	after := func(t time.Time) string { return fmt.Sprintf("+%.1f s", t.Sub(c.CutStartedAt).Seconds()) }
	var parts []string
	for _, s := range c.Systems {
		switch {
		case !s.CutAt.IsZero():
			parts = append(parts, safe(s.System)+" "+after(s.CutAt))
		case s.Found:
			parts = append(parts, safe(s.System)+" not yet")
		}
	}
	head := "not every system yet"
	if !c.CutAt.IsZero() {
		head = when(c.CutAt) + ", " + after(c.CutAt) + " after the cut started"
	}
	if len(parts) == 0 {
		return head
	}
	return head + " (" + strings.Join(parts, ", ") + ")"
}
