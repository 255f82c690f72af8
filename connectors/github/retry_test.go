package github_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/github"
	"github.com/offboard/offboard/emulators/emu"
)

// A read that fails twice with a 503, or a 429 asking for a second, is
// retried in the HTTP layer and succeeds; a write is sent once.
func TestReadsRetryWritesDoNot(t *testing.T) {
	t.Parallel()
	membership := `^/orgs/acme/memberships/alovelace$`
	t.Run("503 twice on a read", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{MinWait: 10 * time.Millisecond}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: membership, Status: 503, Times: 2}); err != nil {
			t.Fatal(err)
		}
		a := f.resolve(t, "E1001")
		if a.ID != "alovelace" || a.Attributes[github.AttrOrgs] != "acme,acme-labs" {
			t.Fatalf("resolved %+v", a)
		}
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, membership); len(st) < 3 || !slices.Equal(st[:3], []int{503, 503, 200}) {
			t.Fatalf("membership requests answered %v, want 503 503 200 first", st)
		}
	})
	t.Run("429 twice on a read, waiting as asked", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: membership, Status: 429, RetryAfter: 1, Times: 2}); err != nil {
			t.Fatal(err)
		}
		f.resolve(t, "E1001")
		st, times := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, membership)
		if len(st) < 3 || !slices.Equal(st[:3], []int{429, 429, 200}) {
			t.Fatalf("membership requests answered %v, want 429 429 200 first", st)
		}
		for i := 1; i < 3; i++ {
			if g := times[i].Sub(times[i-1]); g < time.Second {
				t.Errorf("retry %d after %s, want at least 1 s", i, g)
			}
		}
	})
	t.Run("503 on a write", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodDelete, Path: membership, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		a := f.resolve(t, "E1001")
		_, err := f.c.Run(t.Context(), a, step(github.ActionRemoveMembership, "acme"))
		if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 {
			t.Errorf("status %d", ce.Status)
		}
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodDelete, membership); !slices.Equal(st, []int{503}) {
			t.Fatalf("membership deletes answered %v, want one 503", st)
		}
		if _, err := f.c.Run(t.Context(), a, step(github.ActionRemoveMembership, "acme")); err != nil {
			t.Fatalf("the workflow's retry: %v", err)
		}
	})
	t.Run("429 without a wait is not retried", func(t *testing.T) {
		// A primary limit (remaining 0, reset an hour off) or a secondary
		// one without retry-after (wait a minute) is past the budget.
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: membership, Status: 429, Times: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := f.c.Resolve(t.Context(), f.subject(t, "E1001"))
		connErr(t, err, connectors.RateLimited)
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, membership); !slices.Equal(st, []int{429}) {
			t.Fatalf("membership requests answered %v, want one 429", st)
		}
	})
}
