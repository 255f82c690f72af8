package connectors_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
)

func request(t *testing.T, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "https://vendor.example"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func budget(t *testing.T, share float64, bs ...connectors.Bucket) *connectors.Budget {
	t.Helper()
	b, err := connectors.NewBudget(bs, share)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// However many calls come at once, no stretch of the window lets more than
// the limit through, and every call goes in the end.
func TestBudgetNeverOverLimit(t *testing.T) {
	t.Parallel()
	const limit, window, calls = 4, 300 * time.Millisecond, 14
	b := budget(t, 1, connectors.Bucket{Name: "all", Limit: limit, Window: window})
	var mu sync.Mutex
	var sent []time.Time
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if err := b.Wait(t.Context(), request(t, http.MethodGet, "/x"), connectors.PriorityCleanup); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sent = append(sent, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(sent) != calls {
		t.Fatalf("%d of %d calls went", len(sent), calls)
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
	for i := range sent {
		in := 0
		for j := i; j < len(sent) && sent[j].Sub(sent[i]) < window; j++ {
			in++
		}
		if in > limit {
			t.Fatalf("%d calls within %s from call %d, limit %d", in, window, i, limit)
		}
	}
	// The first window's calls went at once, not paced one by one.
	if d := sent[limit-1].Sub(sent[0]); d >= window/2 {
		t.Errorf("the first %d calls took %s: a budget with room should not delay", limit, d)
	}
}

// Counters are per key, points per request, and a request no bucket
// counts is never held.
func TestBudgetKeysAndPoints(t *testing.T) {
	t.Parallel()
	write := func(r *http.Request) int {
		if r.Method == http.MethodGet {
			return 1
		}
		return 5
	}
	perPath := func(r *http.Request) (string, bool) { return r.URL.Path, r.URL.Path != "/free" }
	b := budget(t, 1, connectors.Bucket{Name: "points", Limit: 10, Window: time.Hour, Cost: write, Key: perPath})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, r := range []*http.Request{request(t, "DELETE", "/a"), request(t, "DELETE", "/a"), request(t, "DELETE", "/b"), request(t, "GET", "/b")} {
		if err := b.Wait(ctx, r, connectors.PriorityCut); err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
		}
	}
	// /a has spent its 10 points; /b has 4 left.
	if err := b.Wait(ctx, request(t, "GET", "/a"), connectors.PriorityCut); !isOverBudget(err) {
		t.Errorf("an 11th point on /a: %v, want held back", err)
	}
	if err := b.Wait(ctx, request(t, "DELETE", "/b"), connectors.PriorityCut); !isOverBudget(err) {
		t.Errorf("a write costing 5 with 4 left on /b: %v, want held back", err)
	}
	for range 20 {
		if err := b.Wait(ctx, request(t, "DELETE", "/free"), connectors.PriorityCut); err != nil {
			t.Fatalf("a request no bucket counts: %v", err)
		}
	}
	// A call dearer than a whole window could never go.
	small := budget(t, 1, connectors.Bucket{Name: "points", Limit: 3, Window: time.Minute, Cost: write})
	if err := small.Wait(ctx, request(t, "DELETE", "/x"), connectors.PriorityCut); !errors.Is(err, connectors.ErrOverBudget) {
		t.Errorf("a 5-point call on a 3-point bucket: %v, want ErrOverBudget", err)
	}
}

func isOverBudget(err error) bool {
	_, ok := errors.AsType[*connectors.OverBudget](err)
	return ok
}

// A call that could not go before its context's deadline is not made to
// wait: it is held back at once, as RateLimited with the wait.
func TestBudgetHeldBackBeforeDeadline(t *testing.T) {
	t.Parallel()
	b := budget(t, 1, connectors.Bucket{Name: "all", Limit: 1, Window: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := b.Wait(ctx, request(t, "GET", "/x"), connectors.PriorityCut); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := b.Wait(ctx, request(t, "GET", "/x"), connectors.PriorityCut)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("held back after %s, want at once", d)
	}
	ce := connectors.FromBudget("vendor", "read", err)
	if ce == nil {
		t.Fatalf("%v, want held back", err)
	}
	if ce.Kind != connectors.RateLimited || ce.RetryAfter < 55*time.Second || ce.RetryAfter > 65*time.Second {
		t.Errorf("%v: kind %s, retry after %s; want RateLimited after about the window", ce, ce.Kind, ce.RetryAfter)
	}
	if connectors.FromBudget("vendor", "read", errors.New("other")) != nil {
		t.Error("FromBudget took an error that is not the budget's")
	}
	// Without a deadline a call waits, at most a minute, until its
	// context ends.
	cctx, ccancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, ccancel)
	short := budget(t, 1, connectors.Bucket{Name: "all", Limit: 1, Window: 30 * time.Second})
	for _, want := range []error{nil, context.Canceled} {
		if err := short.Wait(cctx, request(t, "GET", "/y"), connectors.PriorityCut); !errors.Is(err, want) {
			t.Errorf("a call with no deadline: %v, want %v", err, want)
		}
	}
	if err := b.Wait(context.Background(), request(t, "GET", "/y"), connectors.PriorityCut); !isOverBudget(err) {
		t.Errorf("a call with no deadline and a minute's wait: %v, want held back", err)
	}
}

// When the budget is short, the calls that cut go before cleanup, even
// when cleanup was waiting first.
func TestBudgetCutsGoFirst(t *testing.T) {
	t.Parallel()
	const window = 200 * time.Millisecond
	b := budget(t, 1, connectors.Bucket{Name: "all", Limit: 1, Window: window})
	if err := b.Wait(t.Context(), request(t, "GET", "/x"), connectors.PriorityCleanup); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []connectors.Priority
	var wg sync.WaitGroup
	var waiting atomic.Int32
	start := func(p connectors.Priority) {
		wg.Go(func() {
			waiting.Add(1)
			if err := b.Wait(t.Context(), request(t, "GET", "/x"), p); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, p)
			mu.Unlock()
		})
	}
	for range 3 {
		start(connectors.PriorityVerify)
		start(connectors.PriorityCleanup)
	}
	for waiting.Load() < 6 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	start(connectors.PriorityCut)
	wg.Wait()
	if len(order) != 7 || order[0] != connectors.PriorityCut {
		t.Fatalf("calls went in the order %v, want the cut first", order)
	}
	if !slices.IsSorted(order) {
		t.Errorf("calls went in the order %v, want cuts, then cleanup, then re-reads", order)
	}
}

// PacedTransport sends a request once the budget on its context allows,
// and at once when its context carries none.
func TestPacedTransport(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer srv.Close()
	hc := &http.Client{Transport: connectors.PacedTransport(nil)}
	b := budget(t, 1, connectors.Bucket{Name: "all", Limit: 2, Window: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	paced := connectors.WithBudget(ctx, b, connectors.PriorityCut)
	get := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for range 2 {
		if err := get(paced); err != nil {
			t.Fatal(err)
		}
	}
	if err := get(paced); !isOverBudget(err) {
		t.Errorf("a third request in the hour: %v, want held back", err)
	}
	if err := get(ctx); err != nil {
		t.Errorf("a request with no budget: %v", err)
	}
	if n := got.Load(); n != 3 {
		t.Errorf("the server got %d requests, want 3", n)
	}
}

// A share divides the limits; bad buckets and shares are refused.
func TestNewBudget(t *testing.T) {
	t.Parallel()
	b := budget(t, 0.5, connectors.Bucket{Name: "all", Limit: 4, Window: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for range 2 {
		if err := b.Wait(ctx, request(t, "GET", "/x"), connectors.PriorityCut); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Wait(ctx, request(t, "GET", "/x"), connectors.PriorityCut); !isOverBudget(err) {
		t.Errorf("a third call on half of 4: %v, want held back", err)
	}
	for _, c := range []struct {
		share float64
		b     connectors.Bucket
	}{
		{0, connectors.Bucket{Name: "a", Limit: 1, Window: time.Second}},
		{1.5, connectors.Bucket{Name: "a", Limit: 1, Window: time.Second}},
		{1, connectors.Bucket{Name: "a", Limit: -1, Window: time.Second}},
		{1, connectors.Bucket{Name: "a", Limit: 1}},
	} {
		if _, err := connectors.NewBudget([]connectors.Bucket{c.b}, c.share); err == nil {
			t.Errorf("share %v bucket %+v: no error", c.share, c.b)
		}
	}
	// A bucket turned off (limit 0) holds nothing back.
	off := budget(t, 1, connectors.Bucket{Name: "a", Limit: 0, Window: time.Second})
	for range 10 {
		if err := off.Wait(ctx, request(t, "GET", "/x"), connectors.PriorityCut); err != nil {
			t.Fatal(err)
		}
	}
}

// Where the vendor says when its window resets, a full bucket opens again
// then, not a whole window after its oldest call.
func TestBudgetOpensAtTheVendorsReset(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A fixed window that ends at the next whole second but one.
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Unix()+2, 10))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: connectors.PacedTransport(nil)}
	b := budget(t, 1, connectors.Bucket{Name: "all", Limit: 2, Window: 30 * time.Second, Reset: connectors.ResetHeader("X-Rate-Limit-Reset")})
	// Without the vendor's reset the third call would wait 30 s, past
	// this deadline, and be held back at once.
	ctx, cancel := context.WithTimeout(t.Context(), 12*time.Second)
	defer cancel()
	ctx = connectors.WithBudget(ctx, b, connectors.PriorityCut)
	for i := range 3 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		resp.Body.Close()
	}
}
