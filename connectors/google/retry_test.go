package google_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/google"
	"github.com/offboard/offboard/emulators/emu"
)

// A read that fails twice with a 503, or a 429 asking for a second, is
// retried in the HTTP layer and succeeds; a write is sent once.
func TestReadsRetryWritesDoNot(t *testing.T) {
	t.Parallel()
	tokens := `^/admin/directory/v1/users/` + ada + `/tokens$`
	for name, c := range map[string]struct {
		status, wait int
	}{
		"503 twice on a read": {503, 0},
		"500 twice on a read": {500, 0},
		"429 twice on a read": {429, 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &connectors.RetryPolicy{MinWait: 10 * time.Millisecond}
			if c.wait > 0 {
				p = &connectors.RetryPolicy{}
			}
			f := setup(t, options{retry: p})
			if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: tokens, Status: c.status, RetryAfter: c.wait, Times: 2}); err != nil {
				t.Fatal(err)
			}
			step(t, f.plan(t, ada), google.StepRevokeOAuthTokens)
			st, times := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, tokens)
			if len(st) < 3 || !slices.Equal(st[:3], []int{c.status, c.status, 200}) {
				t.Fatalf("token lists answered %v, want %d %d 200 first", st, c.status, c.status)
			}
			for i := 1; c.wait > 0 && i < 3; i++ {
				if g := times[i].Sub(times[i-1]); g < time.Duration(c.wait)*time.Second {
					t.Errorf("retry %d after %s, want at least %d s", i, g, c.wait)
				}
			}
		})
	}
	t.Run("503 on a write", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{}})
		del := `^/admin/directory/v1/users/` + ada + `/tokens/`
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodDelete, Path: del, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := f.c.Run(t.Context(), account(ada), stepOf(google.StepRevokeOAuthTokens))
		if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 {
			t.Errorf("status %d", ce.Status)
		}
		// The tokens are deleted at once; the one that met the 503 is not
		// tried again by the connector.
		paths := map[string]int{}
		for _, r := range f.emu.Emulator().Requests() {
			if r.Method == http.MethodDelete && strings.HasPrefix(r.Path, "/admin/directory/v1/users/"+ada+"/tokens/") {
				paths[r.Path]++
				if paths[r.Path] > 1 {
					t.Errorf("%s deleted %d times, want once", r.Path, paths[r.Path])
				}
			}
		}
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodDelete, del); slices.Index(st, 503) < 0 || len(st) != len(paths) {
			t.Fatalf("token deletes answered %v, want one 503, each token once", st)
		}
		if _, err := f.c.Run(t.Context(), account(ada), stepOf(google.StepRevokeOAuthTokens)); err != nil {
			t.Fatalf("the workflow's retry: %v", err)
		}
	})
	t.Run("a read fails at once with retries off", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{retry: &connectors.RetryPolicy{MaxRetries: -1}})
		if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: tokens, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := f.c.Plan(t.Context(), account(ada))
		connErr(t, err, connectors.Unavailable)
		if st, _ := connectorstest.Logged(f.emu.Emulator(), http.MethodGet, tokens); !slices.Equal(st, []int{503}) {
			t.Fatalf("token lists answered %v, want one 503", st)
		}
	})
}
