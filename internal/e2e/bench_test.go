package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/offboard/offboard/cli"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/workflows"
)

// BenchmarkCaseEndToEnd offboards demo people through the embedded server,
// a worker and the Okta emulator, and reports the time from start to a
// verified, finished case. Each iteration restarts from the demo org.
func BenchmarkCaseEndToEnd(b *testing.B) {
	people := []string{"E1001", "E1002", "E1005", "E1014", "E1015", "E1016", "E1018", "E1019"}
	var total time.Duration
	cases := 0
	for b.Loop() {
		b.StopTimer()
		s, err := dev.Start(b.Context(), dev.Options{DevOptions: cli.DevOptions{Port: -1, Dir: b.TempDir()}, Quiet: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for _, id := range people {
			in := workflows.Input{EmployeeID: id, Mode: workflows.ModeStandard, RequestedBy: "bench"}
			if _, err := cli.Start(b.Context(), s.Client, in); err != nil {
				b.Fatal(err)
			}
		}
		for _, id := range people {
			run := s.Client.GetWorkflow(b.Context(), workflows.WorkflowID(id), "")
			var st workflows.Status
			if err := run.Get(b.Context(), &st); err != nil || st.State != workflows.CaseDone {
				b.Fatalf("%s: %v %s", id, err, st.State)
			}
		}
		total += time.Since(start)
		cases += len(people)
		b.StopTimer()
		_ = s.Stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(cases), "ms/case")
	fmt.Printf("offboarded %d cases concurrently in batches of %d: %.0f ms per case on average\n", cases, len(people), float64(total.Milliseconds())/float64(cases))
}
