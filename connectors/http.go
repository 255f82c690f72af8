package connectors

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After header in either of its forms:
// delay-seconds, or an HTTP-date measured from the response's Date header
// (else from now). It rounds up to a whole second and is 0 when the header
// is absent, unreadable or already past.
//
// https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	return CeilSecond(t.Sub(now))
}

// CeilSecond rounds a positive wait up to a whole second; others are 0.
func CeilSecond(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return d
}

// TransportMessage says, without PII, why a request got no answer: a
// timeout, a cancellation, or the innermost network error (connection
// refused, ...) with anything like an email address removed. URLs are left
// out, since a query may carry one.
func TransportMessage(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "request timed out"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return Scrub(err.Error())
}

// StatusOf is the HTTP status of a connector error, or 0.
func StatusOf(err error) int {
	if ce, ok := errors.AsType[*Error](err); ok {
		return ce.Status
	}
	return 0
}
