package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/workflows"
)

// The fixtures are E1001's case in the demo, as the e2e run recorded in
// workflows/testdata/offboarding-all-systems-2.json holds it: the plan's
// steps (Okta 6, GitHub 5 per org in two orgs, Slack 2, AWS IAM and
// Identity Center, Google 6), what each step recorded and when it was
// verified.

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

const (
	longError = `okta: PermissionDenied: POST /api/v1/users/00u00000000000001001/lifecycle/suspend: 403 Forbidden: ` +
		`errorCode=E0000006 errorSummary="You do not have permission to perform the requested action" ` +
		`errorCauses=[] errorLink=E0000006 errorId=oaeXyZ0123456789abcdefghij (the API token's admin role lacks ` +
		`okta.users.lifecycle.suspend; grant it or use a token of a super admin, then retry the step)`
	longDescription = "Deny the Identity Center user everything in 12 permission sets (inline policy on identitystore:UserId) " +
		"and re-provision them, which ends the role sessions already handed out to every one of the accounts"
	earlierRun = "01a232bc-0000-758e-a67a-000000000001"
)

// demoPlan is E1001's plan, with a description and targets as long as
// they come.
func demoPlan(t *testing.T) workflows.Plan {
	var p workflows.Plan
	loadJSON(t, "E1001-plan.json", &p)
	for i := range p.Systems {
		for j := range p.Systems[i].Steps {
			st := &p.Systems[i].Steps[j]
			if st.ID == "aws.sso-kill-sessions/90671001-aaaa-4bbb-8ccc-000000001001" {
				st.Description = longDescription
				for k := 0; k < 20; k++ {
					st.Targets = append(st.Targets, "arn:aws:sso:::permissionSet/ssoins-7223000000000001/ps-f9e4913f2361b80"+string(rune('a'+k)))
				}
			}
		}
	}
	p.Systems = append(p.Systems, workflows.SystemPlan{System: "zoom"})
	return p
}

// demoStatus is E1001's case, done, made worse: two steps parked with long
// errors, one skipped, decisions, and an earlier run.
func demoStatus(t *testing.T) cases.Status {
	var st cases.Status
	loadJSON(t, "E1001-status.json", &st)
	st.Reason = "Last day was " + strings.Repeat("agreed with HR and the manager, ", 8) + "so cut everything"
	st.State = workflows.CaseParked
	st.FinishedAt = time.Time{}
	park := func(id string) {
		s, ok := st.Step(id)
		if !ok {
			t.Fatalf("no step %s", id)
		}
		s.State, s.Result, s.Attempts, s.ErrorKind, s.LastError, s.VerifiedAt = workflows.StepParked, "", 4, "PermissionDenied", longError, time.Time{}
	}
	park("okta.suspend")
	park("aws.delete-signing-certificates/111111111111:AIDAXCJWGR4E3LN6RV2CM")
	s, _ := st.Step("okta.reset-factors")
	s.State, s.Result, s.SkippedBy, s.SkipReason = workflows.StepSkipped, "", "sec-lead", "factors are managed by the MDM"
	s, _ = st.Step("github.revoke-credential-authorizations/acme-labs")
	s.Records = []string{`org=acme credential_id=31000001 credential_type="personal access token" token_last_eight=abcd1234 authorized_at=2026-01-02T03:04:05Z accessed_at=none`}
	st.Decisions = []workflows.Decision{
		{Step: "okta.reset-factors", Action: "skip", By: "sec-lead", Reason: "factors are managed by the MDM", At: st.StartedAt.Add(time.Minute)},
		{Step: "aws.delete-signing-certificates/111111111111:AIDAXCJWGR4E3LN6RV2CM", Action: "retry", By: "cloud-admin", Reason: strings.Repeat("granted iam:DeleteSigningCertificate ", 5), At: st.StartedAt.Add(2 * time.Minute)},
	}
	st.EarlierRuns = []cases.Run{{RunID: earlierRun, Status: "failed", StartedAt: st.StartedAt.Add(-time.Hour), ClosedAt: st.StartedAt.Add(-50 * time.Minute)}}
	return st
}

// fits fails the test for every line wider than 120 columns.
func fits(t *testing.T, what, out string) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("%s line %d is %d columns:\n%s", what, i+1, n, l)
		}
	}
}

// hasWord reports whether out has s whole (between spaces or line ends),
// as a person would copy it.
func hasWord(out, s string) bool {
	return regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(s) + `(\s|$)`).MatchString(out)
}

func TestPlanFits120Columns(t *testing.T) {
	p := demoPlan(t)
	var b bytes.Buffer
	printPlan(&b, p)
	out := b.String()
	fits(t, "plan", out)
	for _, want := range []string{
		"Plan for E1001 (dry run; nothing was changed)",
		"okta — account 00u00000000000001001 (ACTIVE)",
		"github — account alovelace",
		"aws — account 90671001-aaaa-4bbb-8ccc-000000001001 (ENABLED)",
		"  org acme\n", "  org acme-labs\n",
		"  IAM user 111111111111:AIDAXCJWGR4E3LN6RV2CM\n",
		"  Identity Center user 90671001-aaaa-4bbb-8ccc-000000001001\n",
		"zoom — no account: no steps",
		"(+10 more)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	for _, s := range p.Systems {
		for _, st := range s.Steps {
			if !hasWord(out, st.ID) {
				t.Errorf("plan lacks the whole step ID %s", st.ID)
			}
			if st.Scope != "" && regexp.MustCompile(`(?m)^ +`+regexp.QuoteMeta(st.ID)+` `).MatchString(out) {
				t.Errorf("the step column repeats the scope: %s", st.ID)
			}
			if !regexp.MustCompile(`(?m)^ {2,4}` + regexp.QuoteMeta(st.Action) + ` `).MatchString(out) {
				t.Errorf("no step line shows the action %s", st.Action)
			}
		}
	}
	// A long description is wrapped, all of it kept, its lines indented
	// under the first.
	if got := strings.Join(strings.Fields(out), " "); !strings.Contains(got, longDescription) {
		t.Errorf("the long description is not all there")
	}
	if !regexp.MustCompile(`(?m)^ {38}re-provision them`).MatchString(out) && !regexp.MustCompile(`(?m)^ {30,}\S`).MatchString(out) {
		t.Errorf("wrapped descriptions are not indented:\n%s", out)
	}
}

func TestStatusFits120Columns(t *testing.T) {
	st := demoStatus(t)
	var b bytes.Buffer
	printStatus(&b, st)
	out := b.String()
	fits(t, "status", out)
	for _, want := range []string{
		"Case offboard/E1001: parked (mode standard, requested by e2e-operator)",
		"okta — account 00u00000000000001001 (ACTIVE)",
		"  org acme-labs\n",
		"  IAM user 111111111111:AIDAXCJWGR4E3LN6RV2CM\n",
		"done (verified)", "VERIFIED AT",
		"skipped by sec-lead: factors are managed by the MDM",
		// What steps recorded, under them.
		"Records: removed role SUPER_ADMIN",
		"Records: access key AKIAYHNQYCBH35DHIZH7 (Inactive, created 2025-01-06T10:00:00Z)\n",
		"org=acme credential_id=31000001 credential_type=\"personal access token\" token_last_eight=abcd1234",
		earlierRun + "  failed",
		// The footer names the parked steps.
		"  offboard retry E1001 --step okta.suspend --reason …\n",
		"  offboard retry E1001 --step aws.delete-signing-certificates/111111111111:AIDAXCJWGR4E3LN6RV2CM --reason …\n",
		"  offboard skip E1001 --step okta.suspend --reason …\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	if strings.Contains(out, "<id>") {
		t.Errorf("the retry hint is not concrete:\n%s", out)
	}
	for _, s := range st.Steps {
		if !hasWord(out, s.ID) {
			t.Errorf("status lacks the whole step ID %s", s.ID)
		}
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{longError, st.Reason, "key AKIAE3TYXFBJCSIII5ZW Active, created 2025-01-06T11:00:00Z, last used never (service N/A, region N/A)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("status lacks all of %q", want)
		}
	}
	// Records are under their step, indented past it.
	if !regexp.MustCompile(`(?m)^    delete-access-keys .*\n        ID: aws.delete-access-keys/111111111111:AIDAXCJWGR4E3LN6RV2CM\n        Records: `).MatchString(out) {
		t.Errorf("records are not under their step:\n%s", out)
	}
}

func TestStatusAndListShowTheRun(t *testing.T) {
	st := demoStatus(t)
	var b bytes.Buffer
	printStatus(&b, st)
	if want := "Run: " + st.RunID + ", started 2026-12-01T17:52:52Z\n"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}

	started := time.Date(2026, 12, 1, 17, 52, 52, 0, time.UTC)
	list := []cases.Summary{
		{CaseID: "offboard/E1002", State: "parked", ParkedSteps: []string{"okta.suspend", "aws.delete-signing-certificates/111111111111:AIDAXCJWGR4E3LN6RV2CM"},
			Run: cases.Run{RunID: "01a232bc-ee55-758e-a67a-96f3f90478c4", Status: "running", StartedAt: started}},
		{CaseID: "offboard/E1001", State: "rescinded", Run: cases.Run{RunID: "01a232bc-ee55-758e-a67a-96f3f90478c3", Status: "continued_as_new", StartedAt: started.Add(-time.Hour), ClosedAt: started}},
	}
	b.Reset()
	printList(&b, list)
	out := b.String()
	fits(t, "list", out)
	for _, want := range []string{
		"offboard/E1002  parked     running           2026-12-01 17:52Z  -                  01a232bc-ee55-758e-a67a-96f3f90478c4\n",
		"offboard/E1001  rescinded  continued_as_new  2026-12-01 16:52Z  2026-12-01 17:52Z  01a232bc-ee55-758e-a67a-96f3f90478c3\n",
		"  parked: okta.suspend, aws.delete-signing-certificates/111111111111:AIDAXCJWGR4E3LN6RV2CM\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "CASE            STATE      WORKFLOW          STARTED            CLOSED             RUN\n") {
		t.Errorf("list header:\n%s", out)
	}
	// A case ID too long for the run ID on its line puts it under it;
	// the longest employee ID puts the case ID on a line of its own.
	for _, id := range []string{"E" + strings.Repeat("1", 30), strings.Repeat("E", 64)} {
		list[0].CaseID = "offboard/" + id
		b.Reset()
		printList(&b, list)
		out = b.String()
		fits(t, "list with a long ID", out)
		if !strings.Contains(out, "  run: 01a232bc-ee55-758e-a67a-96f3f90478c4\n") || !hasWord(out, list[0].CaseID) || !strings.Contains(out, "2026-12-01 16:52Z") {
			t.Errorf("list with a long case ID:\n%s", out)
		}
	}
}

// hostile is text a person or a vendor could send: escape sequences
// (clear screen, set title, 8-bit CSI), other controls, a bidi override,
// invalid UTF-8, and ordinary Unicode to keep.
const hostile = "Zoë — 東京 \x1b[2J\x1b]0;pwned\a\r\n\t\x00\x7f\u009b31m\u202eevil\xff end"

func TestTerminalSafety(t *testing.T) {
	if got, want := safe(hostile), `Zoë — 東京 \x1b[2J\x1b]0;pwned\x07\r\n\t\x00\x7f\u009b31m\u202eevil\xff end`; got != want {
		t.Errorf("safe = %q\nwant  %q", got, want)
	}
	if s := "ordinary: é ü 🚀 नमस्ते \\ \" '"; safe(s) != s {
		t.Errorf("safe changed ordinary text %q to %q", s, safe(s))
	}

	st := demoStatus(t)
	st.Reason, st.RequestedBy, st.Error = hostile, hostile, hostile
	st.Systems[0].Account.ID, st.Systems[0].Account.Status = hostile, hostile
	for _, s := range st.Steps {
		s.Description, s.LastError, s.ErrorKind, s.Targets, s.Records = hostile, hostile, hostile, []string{hostile}, []string{hostile, hostile}
	}
	s, _ := st.Step("okta.reset-factors")
	s.SkippedBy, s.SkipReason = hostile, hostile
	s, _ = st.Step("github.remove-membership/acme")
	s.Scope, s.ID = hostile, "github.remove-membership/"+hostile
	st.Decisions = append(st.Decisions, workflows.Decision{Step: hostile, Action: "retry", By: hostile, Reason: hostile})
	st.EarlierRuns[0].Status = hostile
	p := demoPlan(t)
	for i := range p.Systems {
		if p.Systems[i].Account != nil {
			p.Systems[i].Account.ID, p.Systems[i].Account.Status = hostile, hostile
		}
		for j := range p.Systems[i].Steps {
			p.Systems[i].Steps[j].Description, p.Systems[i].Steps[j].Targets = hostile, []string{hostile}
		}
	}
	p.Systems[1].Steps[0].Scope = hostile
	list := []cases.Summary{{CaseID: "offboard/E1001", State: hostile, ParkedSteps: []string{hostile}, Run: cases.Run{RunID: hostile, Status: hostile}}}

	views := map[string]func(*bytes.Buffer){
		"status": func(b *bytes.Buffer) { printStatus(b, st) },
		"plan":   func(b *bytes.Buffer) { printPlan(b, p) },
		"list":   func(b *bytes.Buffer) { printList(b, list) },
		"start": func(b *bytes.Buffer) {
			printStart(b, cases.StartResult{CaseID: "offboard/E1001", State: hostile}, workflows.Input{}, time.Now())
		},
		"decision": func(b *bytes.Buffer) {
			printDecision(b, "retry of "+safe(hostile), "offboard/E1001", hostile, time.Now())
		},
	}
	for name, view := range views {
		var b bytes.Buffer
		view(&b)
		out := b.String()
		if !utf8.ValidString(out) {
			t.Errorf("%s: invalid UTF-8 reaches the terminal", name)
		}
		for _, r := range out {
			if r != '\n' && (r < 0x20 || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e) {
				t.Errorf("%s prints the control %U", name, r)
				break
			}
		}
		if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, "Zoë — 東京") {
			t.Errorf("%s does not show the escape visibly or loses ordinary text:\n%s", name, out)
		}
		fits(t, name, out)
	}

	// -o json keeps the text exact.
	var b bytes.Buffer
	pr := printer{format: "json"}
	if err := pr.print(&b, st, func(w io.Writer) { printStatus(w, st) }); err != nil {
		t.Fatal(err)
	}
	var back cases.Status
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Reason != strings.ToValidUTF8(hostile, "\uFFFD") || back.RequestedBy != back.Reason || back.Steps[3].Records[0] != back.Reason {
		t.Errorf("json changed the text: %q", back.Reason)
	}
	if !bytes.Contains(b.Bytes(), []byte(`\u001b[2J`)) {
		t.Errorf("json does not carry the escape as JSON does")
	}
}

func TestEffectiveTimeInThePast(t *testing.T) {
	now := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	res := cases.StartResult{CaseID: "offboard/E1001", EmployeeID: "E1001", Started: true}
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "case offboard/E1001 started; the effective time 2020-01-01T00:00:00Z has passed; the cut starts now\n"},
		{now, "case offboard/E1001 started; the effective time 2026-12-01T17:00:00Z has passed; the cut starts now\n"},
		{now.Add(time.Hour), "case offboard/E1001 started; the cut waits until 2026-12-01T18:00:00Z\n"},
		{time.Time{}, "case offboard/E1001 started\n"},
	} {
		var b bytes.Buffer
		printStart(&b, res, workflows.Input{EffectiveAt: c.at}, now)
		if got := b.String(); got != c.want+"follow it with: offboard status E1001\n" {
			t.Errorf("at %v: %q", c.at, got)
		}
	}
	// The clock is the one Options give.
	a := &app{opts: Options{Now: func() time.Time { return now }}}
	if !a.now().Equal(now) {
		t.Errorf("now = %v", a.now())
	}
}

func TestJSONEverywhere(t *testing.T) {
	at := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	pr := printer{format: "json"}
	d := decisionOutput{CaseID: "offboard/E1001", DecisionResult: workflows.DecisionResult{Step: "okta.suspend", Action: "retry", At: at}}
	if err := pr.print(&b, d, nil); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["caseId"] != "offboard/E1001" || got["step"] != "okta.suspend" || got["action"] != "retry" || got["at"] != "2026-12-01T17:00:00Z" {
		t.Errorf("decision json: %s", b.String())
	}
	b.Reset()
	res := cases.StartResult{CaseID: "offboard/E1001", RunID: "r1", EmployeeID: "E1001", Started: true}
	if err := pr.print(&b, res, nil); err != nil {
		t.Fatal(err)
	}
	var back cases.StartResult
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back != res {
		t.Errorf("start json %s: %v", b.String(), err)
	}
	// Text stays as it was.
	b.Reset()
	printDecision(&b, "retry of okta.suspend", "offboard/E1001", "tester", at)
	if b.String() != "retry of okta.suspend recorded for case offboard/E1001 by tester at 2026-12-01T17:00:00Z\n" {
		t.Errorf("decision text %q", b.String())
	}
}

// A step planned before connectors named their scopes' kind still gets a
// heading.
func TestScopeHeadingWithoutAKind(t *testing.T) {
	st := connectors.NewStep("github", "remove-membership", "acme", "", nil)
	if got := scopeHeading(st); got != "scope acme" {
		t.Errorf("heading %q", got)
	}
	st.ScopeKind = "org"
	if got := scopeHeading(st); got != "org acme" {
		t.Errorf("heading %q", got)
	}
}

// A scheduled case shows its effective time in the person's zone, and says
// it has no steps rather than print an empty table.
func TestStatusOfAScheduledCase(t *testing.T) {
	st := cases.Status{Case: workflows.Case{
		CaseID: "offboard/E1005", EmployeeID: "E1005", State: workflows.CaseScheduled, Mode: workflows.ModeStandard, RequestedBy: "workday",
		EffectiveAt: time.Date(2030, 1, 4, 16, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin",
	}}
	var b bytes.Buffer
	printStatus(&b, st)
	out := b.String()
	for _, want := range []string{"Effective at: 2030-01-04T16:00:00Z (2030-01-04 17:00 Europe/Berlin)", "No steps yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ATTEMPTS") {
		t.Errorf("an empty step table:\n%s", out)
	}
}

// A scheduled case in list says when it cuts.
func TestListShowsWhenAScheduledCaseCuts(t *testing.T) {
	at := time.Date(2030, 1, 4, 16, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	printList(&b, []cases.Summary{{CaseID: "offboard/E1005", State: "scheduled", EffectiveAt: at, Run: cases.Run{RunID: "r1", Status: "running", StartedAt: at.Add(-time.Hour)}}})
	if !strings.Contains(b.String(), "cuts at: 2030-01-04T16:00:00Z") {
		t.Errorf("list:\n%s", b.String())
	}
}

// status says when each system was cut, counted from the cut's start, and
// when the last was; a system not yet cut says so.
func TestStatusShowsTheCut(t *testing.T) {
	st := demoStatus(t)
	start := time.Date(2026, 12, 1, 17, 52, 52, 0, time.UTC)
	st.CutStartedAt = start
	for i := range st.Systems {
		st.Systems[i].CutAt = time.Time{}
		if st.Systems[i].System == "okta" {
			st.Systems[i].CutAt = start.Add(400 * time.Millisecond)
		}
	}
	st.CutAt = time.Time{}
	var b bytes.Buffer
	printStatus(&b, st)
	if want := "Cut: not every system yet (okta +0.4 s, github not yet"; !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
	for i := range st.Systems {
		st.Systems[i].CutAt = start.Add(time.Duration(i+1) * 700 * time.Millisecond)
	}
	st.CutAt = st.Systems[len(st.Systems)-1].CutAt
	b.Reset()
	printStatus(&b, st)
	fits(t, "status", b.String())
	want := fmt.Sprintf("Cut: %s, +%.1f s after the cut started (okta +0.7 s, github +1.4 s", st.CutAt.Format(time.RFC3339), st.CutAt.Sub(start).Seconds())
	if !strings.Contains(b.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, b.String())
	}
}
