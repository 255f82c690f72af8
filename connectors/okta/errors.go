package okta

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/offboard/offboard/connectors"
)

// The SDK drops the *Response when a 429 exhausts its retries (and with
// retries off, that is every 429), so the rate-limit headers are lost. The
// client's transport therefore records the status and headers of every
// response into a per-call capture carried in the request context: each
// connector call gets its own, which keeps concurrent calls apart.

type captureKey struct{}

type capture struct {
	mu     sync.Mutex
	status int
	header http.Header
}

func (c *capture) set(status int, h http.Header) {
	c.mu.Lock()
	c.status, c.header = status, h
	c.mu.Unlock()
}

func (c *capture) get() (int, http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.header
}

// withCapture returns a context whose requests record into a new capture.
func withCapture(ctx context.Context) (context.Context, *capture) {
	c := &capture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

type transport struct{ base http.RoundTripper }

var captured = []string{"Date", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "Retry-After", "X-Okta-Request-Id"}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		// The SDK retries io.EOF without counting it against MaxRetries, so
		// with retries off a server that keeps dropping connections would be
		// called in a loop until the context ends. Hide the EOF so it fails
		// once, as Unavailable.
		if errors.Is(err, io.EOF) {
			err = errConnClosed
		}
		return nil, err
	}
	if c, ok := req.Context().Value(captureKey{}).(*capture); ok {
		h := http.Header{}
		for _, k := range captured {
			if v := resp.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		c.set(resp.StatusCode, h)
	}
	return resp, nil
}

var errConnClosed = errors.New("connection closed by the server before a response")

// wrapHTTPClient returns a copy of hc (or a default client) whose transport
// retries reads by p and records the final responses. The caller's client
// is not modified.
func wrapHTTPClient(hc *http.Client, p connectors.RetryPolicy) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 60 * time.Second
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// The capture wraps the retries, so it records the response the SDK
	// gets: the last one.
	if p.Wait == nil {
		p.Wait = retryWait
	}
	c.Transport = transport{base: connectors.RetryingTransport(base, p)}
	return &c
}

// retryWait is the wait Okta asks for before a read is retried: a 429's
// X-Rate-Limit-Reset (else Retry-After), a 5xx's Retry-After.
func retryWait(resp *http.Response) time.Duration {
	if resp.StatusCode == http.StatusTooManyRequests {
		return rateLimitWait(resp.Header)
	}
	return connectors.RetryAfter(resp.Header, time.Now())
}

// apiError turns an SDK or transport error into a *connectors.Error without
// PII: Okta's errorSummary is scrubbed of emails, and URLs (which can carry
// a login) are dropped from transport errors.
func apiError(op string, c *capture, resp *sdk.Response, err error) error {
	if err == nil {
		return nil
	}
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
	}
	ce := &connectors.Error{System: System, Op: op, Kind: connectors.Unavailable}
	status, h := c.get()
	if resp != nil && resp.Response != nil {
		status, h = resp.StatusCode, resp.Header
	}
	if status >= 400 {
		ce.Status = status
		ce.Kind = connectors.KindForStatus(status)
	}

	var oe *sdk.Error
	switch {
	case errors.As(err, &oe):
		ce.Msg = oktaMessage(oe)
		ce.Err = scrubbed(oe)
	case ce.Status == http.StatusTooManyRequests:
		// With retries off the SDK drains a 429's body and returns its own
		// "too many requests" (or a complaint about the rate-limit headers).
		ce.Msg = "E0000047: API call exceeded rate limit due to too many requests."
		ce.Err = errors.New(connectors.Scrub(err.Error()))
	case ce.Status >= 400:
		ce.Msg = connectors.Scrub(err.Error())
		ce.Err = errors.New(ce.Msg)
	default:
		// A *url.Error names the URL, and a URL can hold a login, so
		// only the message of its cause is kept.
		ce.Msg = connectors.TransportMessage(err)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			ce.Err = context.DeadlineExceeded
		case errors.Is(err, context.Canceled):
			ce.Err = context.Canceled
		default:
			ce.Err = errors.New(ce.Msg)
		}
	}

	switch ce.Status {
	case http.StatusTooManyRequests:
		ce.RetryAfter = rateLimitWait(h)
	case http.StatusServiceUnavailable:
		ce.RetryAfter = connectors.RetryAfter(h, time.Now())
	}
	return ce
}

// oktaMessage is "<errorCode>: <errorSummary>[; <cause>...]", scrubbed.
func oktaMessage(e *sdk.Error) string {
	summary := e.ErrorSummary
	if summary == "" {
		summary = e.ErrorDescription
	}
	// The SDK appends ", x-okta-request-id=..." to 500 summaries; keep it,
	// Okta support asks for it.
	parts := []string{summary}
	for _, cause := range e.ErrorCauses {
		if s, ok := cause["errorSummary"].(string); ok && s != "" {
			parts = append(parts, s)
		}
	}
	msg := connectors.Scrub(strings.Join(parts, "; "))
	if e.ErrorCode != "" {
		msg = e.ErrorCode + ": " + msg
	}
	return msg
}

// scrubbed copies an Okta error with the PII removed, so it can be kept as
// the wrapped error.
func scrubbed(e *sdk.Error) *sdk.Error {
	c := &sdk.Error{
		ErrorMessage:     connectors.Scrub(e.ErrorMessage),
		ErrorDescription: connectors.Scrub(e.ErrorDescription),
		ErrorCode:        e.ErrorCode,
		ErrorSummary:     connectors.Scrub(e.ErrorSummary),
		ErrorLink:        e.ErrorLink,
		ErrorId:          e.ErrorId,
	}
	for _, cause := range e.ErrorCauses {
		m := map[string]any{}
		for k, v := range cause {
			if s, ok := v.(string); ok {
				v = connectors.Scrub(s)
			}
			m[k] = v
		}
		c.ErrorCauses = append(c.ErrorCauses, m)
	}
	return c
}

// rateLimitWait is how long Okta asked to wait: X-Rate-Limit-Reset (epoch
// seconds) minus the response's Date, or minus now when Date is missing.
// Without X-Rate-Limit-Reset it is the Retry-After header, in either form.
func rateLimitWait(h http.Header) time.Duration {
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err != nil {
		return connectors.RetryAfter(h, time.Now())
	}
	now := time.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	wait := time.Unix(reset, 0).Sub(now).Truncate(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	return wait
}
