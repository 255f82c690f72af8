package connectors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
)

// server answers with answer(n, r) for the n-th request (from 0) and keeps
// each request's arrival time and body.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	times  []time.Time
	bodies []string
}

func newServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.times)
		s.times = append(s.times, time.Now())
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

func (s *server) gap(i int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.times[i].Sub(s.times[i-1])
}

// fast waits a millisecond or so between retries.
var fast = connectors.RetryPolicy{MinWait: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

func fail(status int, header ...string) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("X-Attempt", strconv.Itoa(n))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"attempt `+strconv.Itoa(n)+`"}`)
	}
}

func do(t *testing.T, c *http.Client, ctx context.Context, method, url, body string) (*http.Response, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nil
}

func TestRetryGETUpToTheBoundAndReturnsTheLastResponse(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, fail(status, "X-Vendor", "v"))
			c := connectors.RetryingClient(s.Client(), fast)
			resp, body, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/users/1", "")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.count(), 1+connectors.DefaultMaxRetries; got != want {
				t.Fatalf("%d requests, want %d", got, want)
			}
			// The last answer, whole.
			if resp.StatusCode != status || resp.Header.Get("X-Vendor") != "v" || resp.Header.Get("X-Attempt") != "3" || body != `{"error":"attempt 3"}` {
				t.Fatalf("got %d %v %q", resp.StatusCode, resp.Header, body)
			}
		})
	}
}

func TestRetryGETSucceedsAfterTransientFailures(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			fail(503)(n, w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c := connectors.RetryingClient(s.Client(), fast)
	for _, method := range []string{http.MethodGet} {
		resp, body, err := do(t, c, t.Context(), method, s.URL+"/x", "")
		if err != nil || resp.StatusCode != 200 || body != "ok" || s.count() != 3 {
			t.Fatalf("%s: %v %v %q after %d requests", method, err, resp, body, s.count())
		}
	}
}

func TestRetryHEADAndMarkedReads(t *testing.T) {
	t.Parallel()
	s := newServer(t, fail(503))
	c := connectors.RetryingClient(s.Client(), connectors.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond})
	if resp, _, err := do(t, c, t.Context(), http.MethodHead, s.URL+"/x", ""); err != nil || resp.StatusCode != 503 || s.count() != 3 {
		t.Fatalf("HEAD: %v %v after %d requests", err, resp, s.count())
	}
	// A POST the connector marks as a read is retried, its body sent again.
	s2 := newServer(t, fail(503))
	c2 := connectors.RetryingClient(s2.Client(), connectors.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond})
	resp, _, err := do(t, c2, connectors.MarkRead(t.Context()), http.MethodPost, s2.URL+"/api/users.info", "user=U1")
	if err != nil || resp.StatusCode != 503 || s2.count() != 3 {
		t.Fatalf("marked POST: %v %v after %d requests", err, resp, s2.count())
	}
	for i, b := range s2.bodies {
		if b != "user=U1" {
			t.Fatalf("attempt %d sent body %q", i, b)
		}
	}
}

func TestRetryNeverRetriesWrites(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, status := range []int{503, 429} {
			s := newServer(t, fail(status, "Retry-After", "1"))
			c := connectors.RetryingClient(s.Client(), fast)
			resp, body, err := do(t, c, t.Context(), method, s.URL+"/x", "a=b")
			if err != nil || resp.StatusCode != status || body != `{"error":"attempt 0"}` || s.count() != 1 {
				t.Fatalf("%s %d: %v %v %q after %d requests", method, status, err, resp, body, s.count())
			}
		}
	}
	// Nor when the connection drops.
	s := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { hangUp(t, w) })
	c := connectors.RetryingClient(s.Client(), fast)
	if _, _, err := do(t, c, t.Context(), http.MethodPost, s.URL+"/x", "a=b"); err == nil || s.count() != 1 {
		t.Fatalf("POST on a dropped connection: %v after %d requests", err, s.count())
	}
}

func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

func TestRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 2 {
			hangUp(t, w)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c := connectors.RetryingClient(s.Client(), fast)
	resp, body, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", "")
	if err != nil || resp.StatusCode != 200 || body != "ok" || s.count() != 3 {
		t.Fatalf("%v %v %q after %d requests", err, resp, body, s.count())
	}

	// Spent: the last error comes back, once wrapped by the client.
	s2 := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { hangUp(t, w) })
	c2 := connectors.RetryingClient(s2.Client(), fast)
	_, _, err = do(t, c2, t.Context(), http.MethodGet, s2.URL+"/x", "")
	if err == nil || s2.count() != 4 || !errors.Is(err, io.EOF) {
		t.Fatalf("%v after %d requests", err, s2.count())
	}
	if strings.Count(err.Error(), s2.URL) != 1 {
		t.Fatalf("error %q: want the URL once", err)
	}
}

func TestRetryNotOnOtherStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 409, 501} {
		s := newServer(t, fail(status))
		c := connectors.RetryingClient(s.Client(), fast)
		if resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", ""); err != nil || resp.StatusCode != status || s.count() != 1 {
			t.Fatalf("%d: %v %v after %d requests", status, err, resp, s.count())
		}
	}
}

// A Retry-After longer than the backoff is waited for, in either form.
func TestRetryWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	t.Run("seconds", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				fail(429, "Retry-After", "1")(n, w, r)
				return
			}
			_, _ = io.WriteString(w, "ok")
		})
		c := connectors.RetryingClient(s.Client(), fast)
		resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", "")
		if err != nil || resp.StatusCode != 200 || s.count() != 2 {
			t.Fatalf("%v %v after %d requests", err, resp, s.count())
		}
		if g := s.gap(1); g < time.Second {
			t.Fatalf("retried after %s, want at least the 1 s asked", g)
		}
	})
	t.Run("HTTP-date", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				now := time.Now().UTC().Truncate(time.Second)
				fail(503, "Date", now.Format(http.TimeFormat), "Retry-After", now.Add(2*time.Second).Format(http.TimeFormat))(n, w, r)
				return
			}
			_, _ = io.WriteString(w, "ok")
		})
		c := connectors.RetryingClient(s.Client(), fast)
		resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", "")
		if err != nil || resp.StatusCode != 200 || s.count() != 2 {
			t.Fatalf("%v %v after %d requests", err, resp, s.count())
		}
		if g := s.gap(1); g < 2*time.Second {
			t.Fatalf("retried after %s, want at least the 2 s asked", g)
		}
	})
}

// A wait longer than MaxWait, or than the context has left, is not waited:
// the response comes back at once for the workflow to wait on.
func TestRetryGivesUpOnLongWaits(t *testing.T) {
	t.Parallel()
	s := newServer(t, fail(429, "Retry-After", "60"))
	c := connectors.RetryingClient(s.Client(), connectors.RetryPolicy{})
	resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", "")
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || s.count() != 1 {
		t.Fatalf("%v %v after %d requests", err, resp, s.count())
	}

	s2 := newServer(t, fail(503, "Retry-After", "5"))
	c2 := connectors.RetryingClient(s2.Client(), connectors.RetryPolicy{})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	resp, _, err = do(t, c2, ctx, http.MethodGet, s2.URL+"/x", "")
	if err != nil || resp.StatusCode != 503 || s2.count() != 1 {
		t.Fatalf("past the deadline: %v %v after %d requests", err, resp, s2.count())
	}

	// The client's own Timeout is a deadline too.
	s3 := newServer(t, fail(503, "Retry-After", "5"))
	hc := s3.Client()
	hc.Timeout = 3 * time.Second
	c3 := connectors.RetryingClient(hc, connectors.RetryPolicy{})
	resp, _, err = do(t, c3, t.Context(), http.MethodGet, s3.URL+"/x", "")
	if err != nil || resp.StatusCode != 503 || s3.count() != 1 {
		t.Fatalf("past the client timeout: %v %v after %d requests", err, resp, s3.count())
	}
}

// MaxWait bounds all the waits of a request together.
func TestRetryWaitsAddUpToMaxWait(t *testing.T) {
	t.Parallel()
	s := newServer(t, fail(503, "Retry-After", "1"))
	c := connectors.RetryingClient(s.Client(), connectors.RetryPolicy{MinWait: time.Millisecond, MaxWait: 2500 * time.Millisecond})
	resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", "")
	// 1 s, 1 s, and a third second would pass 2.5 s.
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("X-Attempt") != "2" || s.count() != 3 {
		t.Fatalf("%v %v after %d requests", err, resp, s.count())
	}
	for i := 1; i < 3; i++ {
		if g := s.gap(i); g < time.Second {
			t.Fatalf("retry %d after %s, want at least 1 s", i, g)
		}
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	s := newServer(t, fail(503, "Retry-After", "20"))
	c := connectors.RetryingClient(s.Client(), connectors.RetryPolicy{})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err := do(t, c, ctx, http.MethodGet, s.URL+"/x", "")
	if !errors.Is(err, context.Canceled) || s.count() != 1 {
		t.Fatalf("%v after %d requests, want context.Canceled", err, s.count())
	}
}

func TestRetryOff(t *testing.T) {
	t.Parallel()
	s := newServer(t, fail(503))
	c := connectors.RetryingClient(s.Client(), connectors.RetryPolicy{MaxRetries: -1})
	if resp, _, err := do(t, c, t.Context(), http.MethodGet, s.URL+"/x", ""); err != nil || resp.StatusCode != 503 || s.count() != 1 {
		t.Fatalf("%v %v after %d requests", err, resp, s.count())
	}
}

func TestRetryingClientCopies(t *testing.T) {
	t.Parallel()
	base := &http.Client{Timeout: 7 * time.Second}
	c := connectors.RetryingClient(base, connectors.RetryPolicy{})
	if base.Transport != nil || c.Timeout != 7*time.Second || c.Transport == nil {
		t.Fatalf("base %+v, copy %+v", base, c)
	}
}
