package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/connectors"
)

// maxSummary bounds an activity summary: the Web UI shows it on one line.
const maxSummary = 200

// withSummary sets the summary the Web UI shows for the next activity.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	o := workflow.GetActivityOptions(ctx)
	o.Summary = clip(summary, maxSummary)
	return workflow.WithActivityOptions(ctx, o)
}

// stepSummary is a step activity's summary: the step ID, what the activity
// does with it, and the step's description ("okta.suspend — run: Suspend
// the Okta user ..."), so a person in the Web UI sees which step ran.
func stepSummary(ctx workflow.Context, st connectors.Step, verb string) workflow.Context {
	return withSummary(ctx, st.ID+" — "+verb+": "+st.Description)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-len("…")] + "…"
}

// currentDetails is the case as the Web UI shows it on the workflow page:
// its state and the step table, in markdown.
func currentDetails(c *Case, state CaseState) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** is **%s**\n\n", c.CaseID, state))
	b.WriteString("| step | state | attempts | last error | verified at |\n|---|---|---|---|---|\n")
	for _, st := range c.Steps {
		s := string(st.State)
		if st.Result != "" {
			s += " (" + st.Result + ")"
		}
		last := st.LastError
		if st.State == StepSkipped {
			last = "skipped: " + st.SkipReason
		}
		verified := ""
		if !st.VerifiedAt.IsZero() {
			verified = st.VerifiedAt.UTC().Format(time.RFC3339)
		}
		b.WriteString(fmt.Sprintf("| `%s` | %s | %s | %s | %s |\n", st.ID, s, strconv.Itoa(st.Attempts), cell(last), verified))
	}
	return b.String()
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	return clip(s, 160)
}
