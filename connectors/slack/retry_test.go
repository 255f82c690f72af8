package slack_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/emulators/emu"
)

// Reads, the Web API's POSTs the connector marks as reads among them, are
// retried in the HTTP layer when they fail twice; writes are sent once.
func TestReadsRetryWritesDoNot(t *testing.T) {
	t.Parallel()
	resolveByID := func(f *fixture, t *testing.T) error {
		_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"slackUserId": ada}})
		return err
	}
	resolveByEmail := func(f *fixture, t *testing.T) error {
		_, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1008", Email: "dennis.ritchie@example.com"})
		return err
	}
	plan := func(f *fixture, t *testing.T) error {
		steps, err := f.c.Plan(t.Context(), acct(ada))
		if err == nil && len(steps) != 2 {
			t.Errorf("plan %+v, want 2 steps", steps)
		}
		return err
	}
	// An active user's sessions are listed (a deactivated one's are not).
	verifySessions := func(f *fixture, t *testing.T) error {
		err := f.c.Verify(t.Context(), acct(ada), stepOf(slack.ActionResetSessions))
		if ce := (*connectors.Error)(nil); errors.As(err, &ce) && ce.Kind == connectors.Conflict {
			return nil // the sessions were read: they remain
		}
		return err
	}
	for name, c := range map[string]struct {
		method, path string
		status, wait int
		call         func(f *fixture, t *testing.T) error
	}{
		"users.info 503":               {http.MethodPost, `^/api/users\.info$`, 503, 0, resolveByID},
		"users.info 429":               {http.MethodPost, `^/api/users\.info$`, 429, 1, resolveByID},
		"users.lookupByEmail 502":      {http.MethodPost, `^/api/users\.lookupByEmail$`, 502, 0, resolveByEmail},
		"SCIM search 503":              {http.MethodGet, `^/scim/v2/Users$`, 503, 0, resolveByEmail},
		"SCIM get 503":                 {http.MethodGet, `^/scim/v2/Users/` + ada + `$`, 503, 0, plan},
		"SCIM get 429":                 {http.MethodGet, `^/scim/v2/Users/` + ada + `$`, 429, 1, plan},
		"admin.users.session.list 500": {http.MethodPost, `^/api/admin\.users\.session\.list$`, 500, 0, verifySessions},
		"admin.users.session.list 429": {http.MethodPost, `^/api/admin\.users\.session\.list$`, 429, 1, verifySessions},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &connectors.RetryPolicy{MinWait: 10 * time.Millisecond}
			if c.wait > 0 {
				p = &connectors.RetryPolicy{}
			}
			f := setup(t, options{retry: p})
			f.fault(t, emu.Fault{Method: c.method, Path: c.path, Status: c.status, RetryAfter: c.wait, Times: 2})
			if err := c.call(f, t); err != nil {
				t.Fatal(err)
			}
			st, times := connectorstest.Logged(f.emu.Emulator(), c.method, c.path)
			if len(st) < 3 || !slices.Equal(st[:3], []int{c.status, c.status, 200}) {
				t.Fatalf("answered %v, want %d %d 200 first", st, c.status, c.status)
			}
			for i := 1; c.wait > 0 && i < 3; i++ {
				if g := times[i].Sub(times[i-1]); g < time.Duration(c.wait)*time.Second {
					t.Errorf("retry %d after %s, want at least %d s", i, g, c.wait)
				}
			}
		})
	}
	for name, c := range map[string]struct {
		method, path, action string
	}{
		"admin.users.session.reset": {http.MethodPost, `^/api/admin\.users\.session\.reset$`, slack.ActionResetSessions},
		"SCIM delete":               {http.MethodDelete, `^/scim/v2/Users/` + ada + `$`, slack.ActionDeactivate},
	} {
		t.Run(name+" 503 on a write", func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{retry: &connectors.RetryPolicy{}})
			f.fault(t, emu.Fault{Method: c.method, Path: c.path, Status: 503, Times: 1})
			_, err := f.c.Run(t.Context(), acct(ada), stepOf(c.action))
			if ce := connErr(t, err, connectors.Unavailable); ce.Status != 503 {
				t.Errorf("status %d", ce.Status)
			}
			if st, _ := connectorstest.Logged(f.emu.Emulator(), c.method, c.path); !slices.Equal(st, []int{503}) {
				t.Fatalf("answered %v, want one 503", st)
			}
			if _, err := f.c.Run(t.Context(), acct(ada), stepOf(c.action)); err != nil {
				t.Fatalf("the workflow's retry: %v", err)
			}
		})
	}
}
