// Package connectorstest holds the checks every connector's tests share.
// It is imported only by tests.
package connectorstest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/emulators/emu"
)

// EmailRE matches an email address, plain or URL-encoded.
var EmailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// ConnErr checks that err is a *connectors.Error of the kind, from system,
// naming its operation, with no email anywhere in it or in what it wraps.
func ConnErr(t testing.TB, err error, system string, kind connectors.Kind) *connectors.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok {
		t.Fatalf("%T %v is not a *connectors.Error", err, err)
	}
	if ce.Kind != kind || ce.System != system || ce.Op == "" {
		t.Errorf("error %q: kind %s system %q op %q, want kind %s", err, ce.Kind, ce.System, ce.Op, kind)
	}
	for e := error(ce); e != nil; e = errors.Unwrap(e) {
		if EmailRE.MatchString(e.Error()) {
			t.Errorf("error string carries an email: %q", e.Error())
		}
	}
	return ce
}

// NoEmails checks that none of ss carries an email address.
func NoEmails(t testing.TB, what string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if EmailRE.MatchString(s) {
			t.Errorf("%s carries an email: %q", what, s)
		}
	}
}

// Recorder is an http.RoundTripper that keeps the headers of the last
// response each path got (the test's own view of what the vendor said) and
// can act just before a request is sent (to make races happen).
type Recorder struct {
	Base   http.RoundTripper
	Before func(*http.Request)

	mu   sync.Mutex
	last map[string]http.Header
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.Before != nil {
		r.Before(req)
	}
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		if r.last == nil {
			r.last = map[string]http.Header{}
		}
		r.last[req.URL.Path] = resp.Header.Clone()
		r.mu.Unlock()
	}
	return resp, err
}

// Header returns the headers of the last response to path.
func (r *Recorder) Header(path string) http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[path]
}

// Headers are the last response headers of every path.
func (r *Recorder) Headers() map[string]http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]http.Header, len(r.last))
	for p, h := range r.last {
		out[p] = h.Clone()
	}
	return out
}

// ValidateCase is a config section and the errors its Validate must give,
// one per line and in order; none means the section is valid.
type ValidateCase[S any] struct {
	S    S
	Want []string
}

// CheckValidate runs Validate on each case's section: a valid one passes,
// an invalid one gives exactly the wanted errors, each line containing its
// text, in order.
func CheckValidate[S any, P interface {
	*S
	connectors.Section
}](t *testing.T, cases map[string]ValidateCase[S]) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := c.S
			err := P(&s).Validate()
			if len(c.Want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want %q", c.Want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.Want) {
				t.Fatalf("%d errors, want %d: %v", len(lines), len(c.Want), err)
			}
			for i, w := range c.Want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("error %d %q lacks %q", i, lines[i], w)
				}
			}
		})
	}
}

// Logged lists the statuses and times of an emulator's logged requests
// that match method and pathRE.
func Logged(e *emu.Emulator, method, pathRE string) ([]int, []time.Time) {
	re := regexp.MustCompile(pathRE)
	var statuses []int
	var times []time.Time
	for _, r := range e.Requests() {
		if r.Method == method && re.MatchString(r.Path) {
			statuses = append(statuses, r.Status)
			times = append(times, r.Time)
		}
	}
	return statuses, times
}

// SecretFromEnv says how a config section reads one secret: from the
// environment variable Env, else as written inline, else from its file.
type SecretFromEnv[S any] struct {
	Env string
	// What names the secret in errors ("github token").
	What string
	// Set writes the inline value and the file path into a section; Get
	// reads the secret back.
	Set func(s *S, inline config.Secret, file string)
	Get func(s *S) config.Secret
	// Alone is FromEnv's answer when Env is set: whether the environment
	// alone configures the vendor.
	Alone bool
}

// CheckSecretFromEnv checks a section's FromEnv for one secret: the
// environment wins (an empty variable counts as unset), then the inline
// value, then the file (trimmed); a missing file is an error naming the
// secret, unless something before it gave the value.
func CheckSecretFromEnv[S any, P interface {
	*S
	connectors.Section
}](t *testing.T, c SecretFromEnv[S]) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("\t from-file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	env := func(v *string) connectors.Lookup {
		return func(name string) (string, bool) {
			if v == nil || name != c.Env {
				return "", false
			}
			return *v, true
		}
	}
	set, empty := "from-env", ""
	for name, tc := range map[string]struct {
		inline  config.Secret
		file    string
		env     *string
		want    config.Secret
		wantErr string
	}{
		"env over inline":          {inline: "inline", env: &set, want: "from-env"},
		"env over file":            {file: file, env: &set, want: "from-env"},
		"env spares a broken file": {file: missing, env: &set, want: "from-env"},
		"empty env is unset":       {inline: "inline", env: &empty, want: "inline"},
		"file, trimmed":            {file: file, want: "from-file"},
		"inline over file":         {inline: "inline", file: missing, want: "inline"},
		"missing file":             {file: missing, wantErr: c.What + " file"},
		"nothing":                  {},
	} {
		t.Run(name, func(t *testing.T) {
			var s S
			c.Set(&s, tc.inline, tc.file)
			alone, err := P(&s).FromEnv(env(tc.env))
			if want := c.Alone && tc.env != nil && *tc.env != ""; alone != want {
				t.Errorf("FromEnv says the environment alone configures the vendor: %v, want %v", alone, want)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Get(&s); got != tc.want {
				t.Errorf("secret %q, want %q", got.Reveal(), tc.want.Reveal())
			}
		})
	}
}

// FastRetry keeps a fixture's read retries quick: millisecond backoffs, and
// no waiting for a Retry-After (a read asked to wait is returned at once,
// as with retries off). Tests of the retries pass a policy of their own.
var FastRetry = connectors.RetryPolicy{MinWait: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxWait: 100 * time.Millisecond}

// RetryOr is *p, or FastRetry when p is nil.
func RetryOr(p *connectors.RetryPolicy) connectors.RetryPolicy {
	if p != nil {
		return *p
	}
	return FastRetry
}

// CheckBudget checks that a connector's calls wait for the budget their
// context carries, through the vendor's SDK: with each of the vendor's
// buckets allowing one call an hour, repeating call soon fails
// RateLimited, with the bucket's wait as RetryAfter, and once every
// counter it uses is spent, a call held back is never sent.
func CheckBudget(t *testing.T, system string, buckets []connectors.Bucket, e *emu.Emulator, call func(context.Context) error) {
	t.Helper()
	var bs []connectors.Bucket
	for _, b := range buckets {
		// An hour of its own: the vendor's resets are not this test's.
		b.Limit, b.Window, b.Reset = 1, time.Hour, nil
		bs = append(bs, b)
	}
	budget, err := connectors.NewBudget(bs, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ctx = connectors.WithBudget(ctx, budget, connectors.PriorityCut)
	for range 3 {
		if err = call(ctx); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("three calls went through budgets of one call an hour")
	}
	ce := ConnErr(t, err, system, connectors.RateLimited)
	if ce.RetryAfter < 50*time.Minute {
		t.Errorf("RetryAfter %s, want the rest of the bucket's hour", ce.RetryAfter)
	}
	// A counter the first calls did not reach may still take one more.
	_ = call(ctx)
	sent := len(e.Requests())
	if err := call(ctx); connectors.KindOf(err) != connectors.RateLimited {
		t.Errorf("a call held back by the budget: %v, want RateLimited", err)
	}
	if n := len(e.Requests()); n != sent {
		t.Errorf("%d requests reached the vendor while the budget held them back", n-sent)
	}
}
