package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/workflows"
)

// BenchmarkCaseEndToEnd offboards demo people through the embedded server,
// a worker and the five emulators, from start to a verified, finished case,
// and reports milliseconds per case. "one" is the latency of a single case
// (E1001, in all five systems); "batch-8" starts eight at once, where the
// emulators' vendor rate limits (Slack's Tier 2 admin.users.session.* at
// 20 a minute) make cases wait for the Retry-After they are given. Each
// iteration starts from the demo org.
func BenchmarkCaseEndToEnd(b *testing.B) {
	for _, bc := range []struct {
		name   string
		people []string
	}{
		{"one", []string{"E1001"}},
		{"batch-8", []string{"E1001", "E1002", "E1005", "E1014", "E1015", "E1016", "E1018", "E1019"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: b.TempDir()}, Quiet: true})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				for _, id := range bc.people {
					in := workflows.Input{EmployeeID: id, Mode: workflows.ModeStandard, RequestedBy: "bench"}
					if _, err := cases.New(s.Client).Start(b.Context(), in); err != nil {
						b.Fatal(err)
					}
				}
				for _, id := range bc.people {
					var st workflows.Case
					if err := s.Client.GetWorkflow(b.Context(), workflows.WorkflowID(id), "").Get(b.Context(), &st); err != nil || st.State != workflows.CaseDone {
						b.Fatalf("%s: %v %s", id, err, st.State)
					}
				}
				total += time.Since(start)
				n += len(bc.people)
				b.StopTimer()
				_ = s.Stop()
				b.StartTimer()
			}
			ms := float64(total.Milliseconds()) / float64(n)
			b.ReportMetric(ms, "ms/case")
			fmt.Printf("%s: %d cases, %.0f ms per case from start to verified\n", bc.name, n, ms)
		})
	}
}
