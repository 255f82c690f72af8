package e2e

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/emulators/emu"
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
				s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: b.TempDir()}, Quiet: true, NoEvidence: true})
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

// BenchmarkCasesUnderRandomFaults starts 20 demo people's cases at once
// while every emulator fails about one request in ten at random (5% 503s,
// then 5% of the rest 429 with Retry-After: 1, on every path), and prints
// how many finished — every step verified — without an operator. The goal
// is all 20: reads retry inside the connectors, and steps retry with
// backoff before anything parks.
func BenchmarkCasesUnderRandomFaults(b *testing.B) {
	people := []string{"E1001", "E1002", "E1003", "E1004", "E1005", "E1006", "E1007", "E1008", "E1009", "E1010",
		"E1012", "E1013", "E1014", "E1015", "E1016", "E1017", "E1018", "E1019", "E1020", "E1021"}
	for b.Loop() {
		b.StopTimer()
		s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: b.TempDir()}, Quiet: true})
		if err != nil {
			b.Fatal(err)
		}
		for i, n := range s.Emu.All() {
			em := n.Emulator.Emulator()
			em.SetSeed(uint64(1000 + i))
			for _, f := range []emu.Fault{
				{Path: ".", Status: 503, Probability: 0.05},
				{Path: ".", Status: 429, RetryAfter: 1, Probability: 0.05},
			} {
				if err := em.AddFault(f); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		start := time.Now()
		c := cases.New(s.Client)
		var mu sync.Mutex
		var wg sync.WaitGroup
		preFailed := 0
		for _, id := range people {
			wg.Go(func() {
				in := workflows.Input{EmployeeID: id, Mode: workflows.ModeStandard, RequestedBy: "bench"}
				if _, err := c.Start(b.Context(), in); err != nil {
					mu.Lock()
					preFailed++
					mu.Unlock()
					fmt.Printf("random-faults: %s: terminate refused: %v\n", id, err)
				}
			})
		}
		wg.Wait()
		done, parked := 0, 0
		var times []time.Duration
		deadline := time.Now().Add(15 * time.Minute)
		pending := map[string]bool{}
		for _, id := range people {
			pending[id] = true
		}
		for len(pending) > 0 && time.Now().Before(deadline) {
			for id := range pending {
				st, err := c.Status(b.Context(), id)
				if err != nil {
					continue
				}
				switch {
				case st.State == workflows.CaseDone:
					done++
					times = append(times, time.Since(start))
					delete(pending, id)
				case st.State == workflows.CaseParked || st.State == workflows.CaseFailed:
					parked++
					fmt.Printf("random-faults: %s needs an operator: %s %v\n", id, st.State, st.ParkedSteps())
					delete(pending, id)
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		b.StopTimer()
		slices.Sort(times)
		median := time.Duration(0)
		if len(times) > 0 {
			median = times[len(times)/2]
		}
		fmt.Printf("random-faults: %d cases under ~10%% random 5xx/429 on every emulator: %d finished without an operator, %d needed one, %d refused at terminate, %d unfinished after 15 min; median %.0f s to done, all in %.0f s\n",
			len(people), done, parked, preFailed, len(pending), median.Seconds(), time.Since(start).Seconds())
		b.ReportMetric(float64(done), "unattended-cases")
		_ = s.Stop()
		b.StartTimer()
	}
}

// BenchmarkTimeToCutWithEvidence prints the time from starting E1001's
// case to every step verified (state done), with the evidence snapshot off
// and on (taken at once, beside the cut): the snapshot must not slow the
// cut.
func BenchmarkTimeToCutWithEvidence(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    dev.Options
	}{
		{"off", dev.Options{NoEvidence: true}},
		{"on", dev.Options{Evidence: func(e *config.Evidence) { e.After = new(time.Duration) }}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				o := bc.o
				o.Options = devopts.Options{Port: -1, Dir: b.TempDir()}
				o.Quiet = true
				s, err := dev.Start(b.Context(), o)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				in := workflows.Input{EmployeeID: "E1001", Mode: workflows.ModeStandard, RequestedBy: "bench"}
				if _, err := cases.New(s.Client).Start(b.Context(), in); err != nil {
					b.Fatal(err)
				}
				for {
					var st workflows.Case
					v, err := s.Client.QueryWorkflow(b.Context(), workflows.WorkflowID("E1001"), "", workflows.QueryStatus)
					if err == nil && v.Get(&st) == nil && st.State == workflows.CaseDone {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				total += time.Since(start)
				n++
				b.StopTimer()
				_ = s.Stop()
				b.StartTimer()
			}
			ms := float64(total.Milliseconds()) / float64(n)
			b.ReportMetric(ms, "ms/cut")
			fmt.Printf("evidence %s: %d cases, %.0f ms from start to every step verified\n", bc.name, n, ms)
		})
	}
}
