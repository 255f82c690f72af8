package workflows

import (
	"testing"
)

// BenchmarkOffboardingWorkflow runs one whole case (two systems, plan, cut,
// verify sweep) in the test environment with fake activities, measuring the
// workflow code's own cost per case: time and allocations.
func BenchmarkOffboardingWorkflow(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		h := newHarness(b, &fakeVendors{})
		h.env.ExecuteWorkflow(Offboarding, testInput())
		if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
			b.Fatalf("case did not finish: %v", h.env.GetWorkflowError())
		}
	}
}
