package connectors

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Retry defaults, for a zero RetryPolicy field.
const (
	DefaultMaxRetries = 3
	DefaultMinWait    = 500 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	DefaultMaxWait    = 30 * time.Second
)

// RetryPolicy bounds the retries of RetryingClient and RetryingTransport.
// A zero field takes its default.
type RetryPolicy struct {
	// MaxRetries is how many times a read is sent again after its first
	// attempt. 0 means DefaultMaxRetries; a negative value turns retries
	// off.
	MaxRetries int
	// MinWait is the backoff before the first retry; it doubles for each
	// further retry, up to MaxBackoff, and each wait is drawn at random
	// between half of it and all of it. Default DefaultMinWait.
	MinWait time.Duration
	// MaxBackoff caps the exponential backoff. Default DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxWait caps the time one request spends waiting between its
	// attempts, all waits together. A retry whose wait (the backoff, or a
	// longer Retry-After) would go past it is not made: the response is
	// returned as it is, so the caller (the workflow) waits for what the
	// vendor asked. Default DefaultMaxWait.
	MaxWait time.Duration
	// Wait reads how long the vendor asked to wait from a response about
	// to be retried (a 429 or a 5xx). Nil means its Retry-After header,
	// in either form (RetryAfter). Connectors whose vendor says it another
	// way (Okta's X-Rate-Limit-Reset) set it.
	Wait func(resp *http.Response) time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = DefaultMaxRetries
	}
	if p.MinWait <= 0 {
		p.MinWait = DefaultMinWait
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinWait {
		p.MaxBackoff = p.MinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	return p
}

// backoff is the jittered exponential wait before retry number attempt+1.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.MaxBackoff
	if attempt < 30 {
		if e := p.MinWait << attempt; e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

type readKey struct{}

// MarkRead returns a context whose requests RetryingTransport treats as
// idempotent reads whatever their method: for vendors whose reads are POSTs
// (Slack's Web API). GET and HEAD need no mark.
func MarkRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, readKey{}, true)
}

// isRead reports whether req may be retried: a GET or HEAD, or a request
// made with a MarkRead context.
func isRead(req *http.Request) bool {
	if req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == "" {
		return true
	}
	marked, _ := req.Context().Value(readKey{}).(bool)
	return marked
}

// RetryingClient returns a copy of base (nil: a client without a timeout)
// whose transport is RetryingTransport of base's. base is not modified.
// base's Timeout, if any, bounds a request and all its retries together.
func RetryingClient(base *http.Client, p RetryPolicy) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	c.Transport = RetryingTransport(c.Transport, p)
	return &c
}

// RetryingTransport wraps base (nil: http.DefaultTransport) so that reads
// (GET, HEAD, and requests made with a MarkRead context) that fail with a
// 5xx other than 501, a 429 or a connection error are sent again, at most
// p.MaxRetries times. It waits the longer of a jittered exponential backoff
// and the response's Retry-After (seconds or HTTP-date; or p.Wait's
// reading), and gives up at
// once, returning the response it has, when the waits would add up to more
// than p.MaxWait or the next wait would outlast the request context's
// deadline (which a client Timeout sets). Cancelling the context stops the
// wait.
//
// Writes (POST, PUT, PATCH, DELETE without a mark) are sent once, straight
// to base: retrying a write is the workflow's decision. Every attempt of
// either first waits for the budget its context carries (PacedTransport).
//
// When the retries are spent, the last response is returned unchanged
// (status, headers and body), so the connector's error mapping sees what
// the vendor said; a last connection error is returned as it is. Nothing
// is logged (URLs can carry emails).
func RetryingTransport(base http.RoundTripper, p RetryPolicy) http.RoundTripper {
	// Every attempt waits for the request's budget, if it has one.
	base = PacedTransport(base)
	p = p.withDefaults()
	if p.MaxRetries < 0 {
		return base
	}
	return &retryTransport{
		base:   base,
		policy: p,
		inner: &http.Client{
			// Only RoundTrip is exposed: retryablehttp closes the idle
			// connections of a transport after a failure, and base may
			// be the process-wide http.DefaultTransport.
			Transport: roundTripOnly{base},
			// The outer client follows redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

type roundTripOnly struct{ rt http.RoundTripper }

func (r roundTripOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.rt.RoundTrip(req)
}

type retryTransport struct {
	base   http.RoundTripper
	inner  *http.Client
	policy RetryPolicy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isRead(req) {
		return t.base.RoundTrip(req)
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, err
	}
	var (
		attempt int           // index of the attempt CheckRetry is judging
		wait    time.Duration // what CheckRetry chose to wait before the next one
		waited  time.Duration // the waits so far
	)
	rc := &retryablehttp.Client{
		HTTPClient: t.inner,
		Logger:     nil,
		RetryMax:   t.policy.MaxRetries,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			i := attempt
			attempt++
			// DefaultRetryPolicy: no retry once ctx is done; retry
			// connection errors (not TLS, scheme or redirect ones), 429,
			// and 5xx but 501.
			retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
			if _, held := errors.AsType[*OverBudget](err); !retry || held {
				return false, nil
			}
			if i >= t.policy.MaxRetries {
				// The last attempt: Do stops anyway.
				return true, nil
			}
			wait = t.policy.backoff(i)
			if resp != nil {
				asked := RetryAfter(resp.Header, time.Now())
				if t.policy.Wait != nil {
					asked = t.policy.Wait(resp)
				}
				wait = max(wait, asked)
			}
			if waited+wait > t.policy.MaxWait {
				return false, nil
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
				return false, nil
			}
			waited += wait
			return true, nil
		},
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
			return wait
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := rc.Do(rreq)
	if err != nil {
		if resp != nil {
			// A RoundTripper returns a response or an error, not both.
			resp.Body.Close()
		}
		// The inner client's *url.Error would be wrapped again by the
		// caller's client.
		if ue, ok := errors.AsType[*url.Error](err); ok && ue.Err != nil {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}
