package okta_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/okta"
	"github.com/offboard/offboard/emulators/emu"
)

// A read that fails twice with a 503, or a 429 asking for a second, is
// retried in the HTTP layer and succeeds; a write is sent once.
func TestReadsRetryWritesDoNot(t *testing.T) {
	t.Parallel()
	groups := `^/api/v1/users/` + ada + `/groups$`
	t.Run("503 twice on a read", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{MinWait: 10 * time.Millisecond}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: groups, Status: 503, Times: 2}); err != nil {
			t.Fatal(err)
		}
		steps := f.plan(t, connectors.Account{System: "okta", ID: ada})
		step(t, steps, okta.StepRemoveGroups)
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, groups); !slices.Equal(st, []int{503, 503, 200}) {
			t.Fatalf("groups requests answered %v, want 503 503 200", st)
		}
	})
	t.Run("429 twice on a read, waiting as asked", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: groups, Status: 429, RetryAfter: 1, Times: 2}); err != nil {
			t.Fatal(err)
		}
		f.plan(t, connectors.Account{System: "okta", ID: ada})
		st, times := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, groups)
		if !slices.Equal(st, []int{429, 429, 200}) {
			t.Fatalf("groups requests answered %v, want 429 429 200", st)
		}
		// Okta says when in X-Rate-Limit-Reset: a second later.
		for i := 1; i < len(times); i++ {
			if g := times[i].Sub(times[i-1]); g < time.Second {
				t.Errorf("retry %d after %s, want at least 1 s", i, g)
			}
		}
	})
	t.Run("503 on a write", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		suspend := `/lifecycle/suspend$`
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodPost, Path: suspend, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		a := connectors.Account{System: "okta", ID: ada}
		_, err := f.c.Run(t.Context(), a, stepOf(okta.ActionSuspend))
		if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 {
			t.Errorf("status %d", ce.Status)
		}
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodPost, suspend); !slices.Equal(st, []int{503}) {
			t.Fatalf("suspend requests answered %v, want one 503", st)
		}
		// The workflow's retry goes through.
		if _, err := f.c.Run(t.Context(), a, stepOf(okta.ActionSuspend)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("429 spent on a read keeps Okta's wait", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 3 * time.Second}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: groups, Status: 429, RetryAfter: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := f.c.Plan(t.Context(), connectors.Account{System: "okta", ID: ada})
		ce := connErr(t, err, connectors.RateLimited)
		if ce.Status != 429 || ce.RetryAfter != time.Second {
			t.Errorf("status %d RetryAfter %s, want 429 and 1 s", ce.Status, ce.RetryAfter)
		}
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, groups); !slices.Equal(st, []int{429, 429, 429}) {
			t.Fatalf("groups requests answered %v, want three 429s", st)
		}
	})
}
