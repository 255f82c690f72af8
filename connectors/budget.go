package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Bucket is one of a vendor's documented rate limits: at most Limit points
// in Window, counted per key (GitHub counts per token, Slack per method,
// AWS per account and service). Vendors declare theirs with their
// documented defaults (Vendor.Buckets); the config file may lower or raise
// Limit.
type Bucket struct {
	// Name is the bucket's config key under budgets.<vendor>.
	Name string
	// Limit is the points allowed in Window; 0 turns the bucket off.
	Limit int
	// Window is the length of the vendor's window.
	Window time.Duration
	// Key says which counter of the bucket a request uses; ok false means
	// the bucket does not count it. Nil counts every request under one key.
	Key func(req *http.Request) (key string, ok bool)
	// Cost is a request's points; nil means 1.
	Cost func(req *http.Request) int
	// Doc says what the limit is and where its default comes from.
	Doc string
	// Reset reads, from a response to a request the bucket counts, how
	// long until the vendor's window resets (Okta's X-Rate-Limit-Reset);
	// ok false when it does not say. Where the vendor counts in fixed
	// windows, the calls made before its reset stop counting then, so a
	// full bucket is open again at the vendor's reset, not a whole window
	// after its oldest call. Nil for vendors that do not say.
	Reset func(resp *http.Response) (resetIn time.Duration, ok bool)
}

// Priority orders the calls waiting for a budget: when a vendor's budget is
// short, the calls that end access go first, then cleanup, then re-reads.
type Priority int

const (
	// PriorityCut is for calls that end access, and the reads they need.
	PriorityCut Priority = iota
	// PriorityCleanup is for the rest of a step's calls (the default).
	PriorityCleanup
	// PriorityVerify is for re-reads that prove a step holds.
	PriorityVerify
	priorities
)

// Budget paces one system's calls so that no bucket ever counts more than
// its limit in any stretch of its window, whatever the number of cases:
// a call that would go over waits until enough of the window has passed.
// It is shared by every case a worker process runs; NewBudget's share
// divides it between the processes that call the vendor with the same
// credentials.
//
// The window is kept a little longer than the vendor's (by a twentieth,
// at most a second), so that calls counted as sent at the edge of one
// window do not arrive at the vendor in its next.
type Budget struct {
	mu      sync.Mutex
	buckets []*bucketState
	changed chan struct{} // closed and replaced when a call is let through or gives up
	now     func() time.Time
}

type bucketState struct {
	Bucket
	limit  int
	window time.Duration
	keys   map[string]*callLog
	// waiting counts the calls waiting for each key, by priority.
	waiting map[string]*[priorities]int
}

// callLog is a window's calls, oldest first, with their points summed.
type callLog struct {
	at     []time.Time
	points []int
	sum    int
	// reset is when the vendor's window resets, as it last said
	// (Bucket.Reset); zero when not known.
	reset time.Time
}

// NewBudget builds a budget from buckets with limits scaled by share (this
// process's part, in (0, 1]). Buckets with a limit of 0 are left out; a
// budget with none lets every call through.
func NewBudget(buckets []Bucket, share float64) (*Budget, error) {
	if share <= 0 || share > 1 {
		return nil, fmt.Errorf("budget share %v: want more than 0 and at most 1", share)
	}
	b := &Budget{changed: make(chan struct{}), now: time.Now}
	for _, bk := range buckets {
		switch {
		case bk.Limit < 0:
			return nil, fmt.Errorf("budget %s: limit %d is negative", bk.Name, bk.Limit)
		case bk.Limit == 0:
			continue
		case bk.Window <= 0:
			return nil, fmt.Errorf("budget %s: no window", bk.Name)
		}
		limit := max(int(float64(bk.Limit)*share), 1)
		b.buckets = append(b.buckets, &bucketState{Bucket: bk, limit: limit, window: bk.Window + min(bk.Window/20, time.Second), keys: map[string]*callLog{}, waiting: map[string]*[priorities]int{}})
	}
	return b, nil
}

const (
	// deadlineMargin is the time a call is left before its context's
	// deadline.
	deadlineMargin = 5 * time.Second
	// maxWaitUnbounded bounds the wait of a call whose context has no
	// deadline.
	maxWaitUnbounded = time.Minute
)

// OverBudget is a call the budget held back: it may go after Wait.
type OverBudget struct{ Wait time.Duration }

func (e *OverBudget) Error() string {
	return fmt.Sprintf("held back by the vendor's rate-limit budget for %s", e.Wait)
}

// FromBudget is the connector error for a call the budget held back
// (RateLimited, retry after its wait), or nil when err is not one.
func FromBudget(system, op string, err error) *Error {
	ob, ok := errors.AsType[*OverBudget](err)
	if !ok {
		return nil
	}
	return &Error{Kind: RateLimited, System: system, Op: op, RetryAfter: ob.Wait, Msg: ob.Error(), Err: ob}
}

// ErrOverBudget is returned for a call that costs more points than its
// bucket allows in a whole window: it could never be sent.
var ErrOverBudget = errors.New("the call costs more than the vendor's rate limit allows in a window")

// Wait blocks until req fits every bucket that counts it, and counts it.
// While calls of a higher priority wait for the same counter, lower ones
// do not go. A call that could not go before ctx's deadline (less
// deadlineMargin for the call itself; a minute from now without one)
// does not wait: it gets an *OverBudget at once, which connectors report
// as RateLimited with the wait as Retry-After, so the workflow waits
// durably instead of an activity holding a worker slot. It returns the
// context's error if ctx ends first.
func (b *Budget) Wait(ctx context.Context, req *http.Request, p Priority) error {
	if b == nil || len(b.buckets) == 0 {
		return nil
	}
	p = min(max(p, PriorityCut), priorities-1)
	cs := b.counters(req)
	b.mu.Lock()
	b.wait(cs, p, 1)
	defer func() {
		b.wait(cs, p, -1)
		b.broadcast()
		b.mu.Unlock()
	}()
	dl, ok := ctx.Deadline()
	if !ok {
		// Some SDKs make calls on a context of their own (AWS's
		// credential refresh keeps the values and drops the deadline):
		// they wait at most maxWaitUnbounded.
		dl = b.now().Add(maxWaitUnbounded + deadlineMargin)
	}
	for {
		now := b.now()
		wait, err := fits(cs, now)
		if err != nil {
			return err
		}
		if wait == 0 && !higherWaiting(cs, p) {
			count(cs, now)
			return nil
		}
		if now.Add(max(wait, time.Second) + deadlineMargin).After(dl) {
			return &OverBudget{Wait: CeilSecond(max(wait, time.Second))}
		}
		ch := b.changed
		b.mu.Unlock()
		if wait == 0 {
			// Held back by a higher priority: its going wakes us; the
			// second is a backstop.
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		b.mu.Lock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// counter is one bucket's counter that a request uses, and what it costs
// there.
type counter struct {
	bk   *bucketState
	key  string
	cost int
}

// counters are the counters of the buckets that count req.
func (b *Budget) counters(req *http.Request) []counter {
	var cs []counter
	for _, bk := range b.buckets {
		if key, ok := bk.key(req); ok {
			cs = append(cs, counter{bk, key, bk.cost(req)})
		}
	}
	return cs
}

// wait adds n to the waiting calls of cs at priority p.
func (b *Budget) wait(cs []counter, p Priority, n int) {
	for _, c := range cs {
		bk, key := c.bk, c.key
		w := bk.waiting[key]
		if w == nil {
			w = new([priorities]int)
			bk.waiting[key] = w
		}
		w[p] += n
		if *w == ([priorities]int{}) {
			delete(bk.waiting, key)
		}
	}
}

// higherWaiting reports whether a call of a higher priority than p waits
// for one of cs.
func higherWaiting(cs []counter, p Priority) bool {
	for _, c := range cs {
		if w := c.bk.waiting[c.key]; w != nil {
			for q := PriorityCut; q < p; q++ {
				if w[q] > 0 {
					return true
				}
			}
		}
	}
	return false
}

func (b *Budget) broadcast() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// fits says how long a call must wait before each of its counters cs has
// room: 0 when it may go now.
func fits(cs []counter, now time.Time) (time.Duration, error) {
	var wait time.Duration
	for _, c := range cs {
		bk, key, cost := c.bk, c.key, c.cost
		if cost > bk.limit {
			return 0, fmt.Errorf("%w (%s: %d points, limit %d)", ErrOverBudget, bk.Name, cost, bk.limit)
		}
		log := bk.keys[key]
		if log == nil {
			continue
		}
		if !log.reset.IsZero() && !now.Before(log.reset) {
			// The vendor's window has reset: what was sent before it
			// (less a second, for calls still on their way) no longer
			// counts.
			log.prune(log.reset.Add(-resetMargin))
			log.reset = time.Time{}
		}
		log.prune(now.Add(-bk.window))
		if len(log.at) == 0 && log.reset.IsZero() {
			delete(bk.keys, key) // keys come and go (AWS's session keys)
			continue
		}
		// Free the oldest calls until the new one fits; it may go when
		// the last of them leaves the window, or at the vendor's reset
		// when what is sent from a second before it leaves room.
		free := bk.limit - log.sum
		var slide time.Duration
		for i := 0; free < cost; i++ {
			free += log.points[i]
			slide = log.at[i].Add(bk.window).Sub(now)
		}
		if slide > 0 && !log.reset.IsZero() && log.since(log.reset.Add(-resetMargin))+cost <= bk.limit {
			slide = min(slide, log.reset.Sub(now))
		}
		wait = max(wait, slide)
	}
	return wait, nil
}

// ResetHeader is a Bucket.Reset for vendors whose answers carry the epoch
// second their window resets at in header (Okta's X-Rate-Limit-Reset,
// GitHub's x-ratelimit-reset): the wait is counted from the answer's Date,
// the vendor's clock, else from now.
func ResetHeader(header string) func(*http.Response) (time.Duration, bool) {
	return func(resp *http.Response) (time.Duration, bool) {
		at, err := strconv.ParseInt(resp.Header.Get(header), 10, 64)
		if err != nil {
			return 0, false
		}
		now := time.Now()
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			now = d
		}
		return time.Unix(at, 0).Sub(now), true
	}
}

// resetMargin is how long before a vendor's reset a call is taken to
// arrive after it.
const resetMargin = time.Second

// since sums the points of the calls made at or after t.
func (l *callLog) since(t time.Time) int {
	n := 0
	for i := len(l.at) - 1; i >= 0 && !l.at[i].Before(t); i-- {
		n += l.points[i]
	}
	return n
}

// count counts a call that goes now on each of its counters cs.
func count(cs []counter, now time.Time) {
	for _, c := range cs {
		log := c.bk.keys[c.key]
		if log == nil {
			log = &callLog{}
			c.bk.keys[c.key] = log
		}
		log.at, log.points = append(log.at, now), append(log.points, c.cost)
		log.sum += c.cost
	}
}

// Observe takes, from the response to req, when the vendor's windows
// reset (Bucket.Reset).
func (b *Budget) Observe(req *http.Request, resp *http.Response) {
	if b == nil || resp == nil {
		return
	}
	cs := b.counters(req)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	told := false
	for _, c := range cs {
		if c.bk.Reset == nil {
			continue
		}
		in, ok := c.bk.Reset(resp)
		if log := c.bk.keys[c.key]; ok && in >= 0 && in <= c.bk.Window && log != nil {
			// The latest answer says when the current window ends.
			log.reset = now.Add(in)
			told = true
		}
	}
	if told {
		b.broadcast() // waiters may go at the reset instead
	}
}

func (bk *bucketState) key(req *http.Request) (string, bool) {
	if bk.Key == nil {
		return "", true
	}
	return bk.Key(req)
}

func (bk *bucketState) cost(req *http.Request) int {
	if bk.Cost == nil {
		return 1
	}
	return max(bk.Cost(req), 1)
}

// prune drops the calls made before since.
func (l *callLog) prune(since time.Time) {
	i := 0
	for i < len(l.at) && l.at[i].Before(since) {
		l.sum -= l.points[i]
		i++
	}
	if i > 0 {
		l.at, l.points = append(l.at[:0], l.at[i:]...), append(l.points[:0], l.points[i:]...)
	}
}

type budgetKey struct{}

type budgetUse struct {
	b *Budget
	p Priority
}

// WithBudget returns a context whose requests wait for b at priority p
// (PacedTransport, RetryingTransport). The activities set it from the
// system and the step.
func WithBudget(ctx context.Context, b *Budget, p Priority) context.Context {
	return context.WithValue(ctx, budgetKey{}, budgetUse{b, p})
}

// BudgetOf is the budget and priority ctx carries (WithBudget).
func BudgetOf(ctx context.Context) (*Budget, Priority, bool) {
	u, ok := ctx.Value(budgetKey{}).(budgetUse)
	return u.b, u.p, ok
}

// PacedTransport wraps base (nil: http.DefaultTransport) so that every
// request waits for the budget its context carries (WithBudget) before it
// is sent. A request whose context carries none goes at once.
func PacedTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(pacedTransport); ok {
		return base
	}
	return pacedTransport{base}
}

type pacedTransport struct{ base http.RoundTripper }

func (t pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := Pace(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		Observed(req, resp)
	}
	return resp, err
}

// Observed gives the budget req's context carries what resp says of the
// vendor's windows (Budget.Observe), if any.
func Observed(req *http.Request, resp *http.Response) {
	if u, ok := req.Context().Value(budgetKey{}).(budgetUse); ok {
		u.b.Observe(req, resp)
	}
}

// Pace waits for the budget req's context carries (WithBudget), if any:
// for clients that take no RoundTripper (the AWS SDK's HTTPClient).
func Pace(req *http.Request) error {
	u, ok := req.Context().Value(budgetKey{}).(budgetUse)
	if !ok {
		return nil
	}
	return u.b.Wait(req.Context(), req, u.p)
}
