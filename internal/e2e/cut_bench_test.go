package e2e

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/workflows"
)

// cutCalls are each vendor's access-ending calls: once one has answered,
// the person is out of that system (suspended, removed, deactivated, keys
// off, signed out), whatever cleanup remains.
var cutCalls = map[string]*regexp.Regexp{
	"okta":   regexp.MustCompile(`^POST /api/v1/users/[^/]+/lifecycle/(suspend|deactivate)$`),
	"github": regexp.MustCompile(`^DELETE /orgs/[^/]+/(members|memberships|outside_collaborators)/`),
	"slack":  regexp.MustCompile(`^(PATCH|DELETE) /scim/v2/Users/`),
	"aws":    regexp.MustCompile(`^POST /(iam/(UpdateAccessKey|PutUserPolicy)|sso/PutInlinePolicyToPermissionSet)$`),
	"google": regexp.MustCompile(`^(PUT|PATCH|POST) /admin/directory/v1/users/[^/]+(/signOut)?$`),
}

// firstCutChain is, per system, the calls that must follow one another
// from terminate until the system's first access-ending call has
// answered: offboard's check that the employee exists, the identity
// system's lookup (which gives the others the email and logins), then the
// system's own reads that the cut needs. Its length times the latency is
// the system's bound; "cut at"'s bound is the longest.
var firstCutChain = map[string][]string{
	"okta":   {"intake: find the employee in Okta", "find the Okta user", "suspend"},
	"slack":  {"intake", "find the Okta user", "users.info by email", "SCIM deactivate"},
	"google": {"intake", "find the Okta user", "get the user by email", "sign out"},
	"github": {"intake", "find the Okta user", "get the user by login", "get the org membership", "list credential authorizations (gone once the membership is)", "revoke them", "remove the membership"},
	"aws":    {"intake", "find the Okta user", "find the Identity Center user by email", "get the permission set's inline policy", "put the deny"},
}

// verifiedChain is the longest chain of calls that must follow one another
// until every step is verified, and the one Identity Center wait in it:
// the kill switch's deny is provisioned asynchronously, and the first
// status read answers IN_PROGRESS.
var verifiedChain = []string{"intake", "find the Okta user", "find the Identity Center user by email", "get the permission set's inline policy", "put the deny",
	"provision the permission set", "read the provisioning status (IN_PROGRESS)", "read it again after the poll interval (SUCCEEDED)", "verify: read the policy"}

// icPoll is the Identity Center poll interval (aws.defaultPolls).
const icPoll = time.Second

// BenchmarkTimeToCutAt100ms offboards E1001 (all five systems) with 100 ms
// of latency on every emulator request, and prints, from the start: when
// each system's first access-ending call answered, "cut at" (the last of
// those), and when every step was verified; the calls each system took,
// reads and writes; and the sequential sum (every call one after another).
func BenchmarkTimeToCutAt100ms(b *testing.B) {
	const latency = 100 * time.Millisecond
	// OFFBOARD_CUT_TRACE=1 prints every call, when it arrived.
	trace := os.Getenv("OFFBOARD_CUT_TRACE") != ""
	for b.Loop() {
		b.StopTimer()
		s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: b.TempDir()}, Quiet: true, NoEvidence: true, NoWatch: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range s.Emu.All() {
			n.Emulator.Emulator().SetLatency(latency)
		}
		b.StartTimer()
		start := time.Now()
		in := workflows.Input{EmployeeID: "E1001", Mode: workflows.ModeStandard, RequestedBy: "bench"}
		if _, err := cases.New(s.Client).Start(b.Context(), in); err != nil {
			b.Fatal(err)
		}
		var st workflows.Case
		if err := s.Client.GetWorkflow(b.Context(), workflows.WorkflowID("E1001"), "").Get(b.Context(), &st); err != nil || st.State != workflows.CaseDone {
			b.Fatalf("E1001: %v %s", err, st.State)
		}
		verified := time.Since(start)
		b.StopTimer()
		var cutAt time.Duration
		calls := 0
		var lines []string
		for _, n := range s.Emu.All() {
			var first, last time.Duration
			reads, writes := 0, 0
			for _, r := range n.Emulator.Emulator().Requests() {
				if r.Time.Before(start) || strings.HasPrefix(r.Path, "/_emulator") {
					continue
				}
				if r.Method == http.MethodGet || isRead(r) {
					reads++
				} else {
					writes++
				}
				// The request log has when it arrived; it answered latency later.
				last = r.Time.Add(latency).Sub(start)
				if trace {
					fmt.Printf("    %s %5.2f s %s %s\n", n.Name, r.Time.Sub(start).Seconds(), r.Method, r.Path)
				}
				if re := cutCalls[n.Name]; first == 0 && re != nil && re.MatchString(r.Method+" "+r.Path) {
					first = r.Time.Add(latency).Sub(start)
				}
			}
			calls += reads + writes
			cutAt = max(cutAt, first)
			lines = append(lines, fmt.Sprintf("  %-7s first cut %5.2f s (bound %.1f s: %d calls), last call %5.2f s   %3d calls (%d reads, %d writes)",
				n.Name, first.Seconds(), (time.Duration(len(firstCutChain[n.Name]))*latency).Seconds(), len(firstCutChain[n.Name]), last.Seconds(), reads+writes, reads, writes))
		}
		slices.Sort(lines)
		seq := time.Duration(calls) * latency
		var cutBound time.Duration
		for _, chain := range firstCutChain {
			cutBound = max(cutBound, time.Duration(len(chain))*latency)
		}
		verifiedBound := time.Duration(len(verifiedChain))*latency + icPoll
		// What the case itself recorded (status's "Cut:" line): each
		// system's first access-ending step done, and the last of them.
		var recorded []string
		for _, sys := range st.Systems {
			if !sys.CutAt.IsZero() {
				recorded = append(recorded, fmt.Sprintf("%s %.2f s", sys.System, sys.CutAt.Sub(start).Seconds()))
			}
		}
		lines = append(lines, fmt.Sprintf("  recorded by the case: cut at %.2f s (%s)", st.CutAt.Sub(start).Seconds(), strings.Join(recorded, ", ")))
		fmt.Printf("one case, %s latency: cut at %.2f s (bound %.2f s, %.2fx), all verified %.2f s (bound %.2f s, %.2fx); %d calls, sequential sum %.1f s (%.1fx the actual)\n%s\n",
			latency, cutAt.Seconds(), cutBound.Seconds(), cutAt.Seconds()/cutBound.Seconds(),
			verified.Seconds(), verifiedBound.Seconds(), verified.Seconds()/verifiedBound.Seconds(),
			calls, seq.Seconds(), seq.Seconds()/verified.Seconds(), strings.Join(lines, "\n"))
		b.ReportMetric(cutAt.Seconds(), "s-cut-at")
		b.ReportMetric(verified.Seconds(), "s-verified")
		b.ReportMetric(cutAt.Seconds()/cutBound.Seconds(), "x-cut-bound")
		b.ReportMetric(verified.Seconds()/verifiedBound.Seconds(), "x-verified-bound")
		b.ReportMetric(seq.Seconds()/verified.Seconds(), "x-sequential")
		_ = s.Stop()
		b.StartTimer()
	}
}

// isRead reports whether an AWS (all POST) call only reads.
func isRead(r emu.Request) bool {
	i := strings.LastIndex(r.Path, "/")
	a := r.Path[i+1:]
	return strings.HasPrefix(a, "List") || strings.HasPrefix(a, "Get") || strings.HasPrefix(a, "Describe") || strings.HasPrefix(a, "Lookup")
}
