package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/connectors"
)

// secondaryDefaultWait is what GitHub says to wait after a secondary rate
// limit that names no time: at least a minute.
const secondaryDefaultWait = time.Minute

// apiError turns a go-github or transport error into a *connectors.Error
// without PII: GitHub's message is scrubbed of emails, and URLs are left
// out. Rate limits of every shape become RateLimited with the wait GitHub
// asked for:
//
//   - *gh.RateLimitError: a 403 (or the SDK's own refusal, with no
//     request sent) when the primary limit is exhausted; the wait is
//     x-ratelimit-reset minus the response's Date.
//   - *gh.AbuseRateLimitError: a 403 secondary limit; the wait is
//     retry-after (or the SDK's remaining wait when it refused to send).
//   - a plain *gh.ErrorResponse with status 429 (v60 does not classify
//     429s), or a 403 carrying retry-after: retry-after, else the reset
//     time when remaining is 0, else a minute.
func (c *Client) apiError(op string, resp *gh.Response, err error) error {
	if err == nil {
		return nil
	}
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
	}
	ce := &connectors.Error{System: System, Op: op, Kind: connectors.Unavailable}
	var (
		rle *gh.RateLimitError
		are *gh.AbuseRateLimitError
		tfa *gh.TwoFactorAuthError
		er  *gh.ErrorResponse
	)
	switch {
	case errors.As(err, &rle):
		ce.Kind = connectors.RateLimited
		ce.Msg = connectors.Scrub(rle.Message)
		if sent(rle.Response) {
			ce.Status = rle.Response.StatusCode
			ce.RetryAfter = c.resetWait(rle.Response.Header, rle.Rate.Reset.Time)
		} else {
			// The SDK refused to send: it knows the limit is exhausted.
			ce.Msg = "primary rate limit still exhausted; the request was not sent"
			ce.RetryAfter = atLeastSecond(rle.Rate.Reset.Time.Sub(c.now()))
		}
	case errors.As(err, &are):
		ce.Kind = connectors.RateLimited
		ce.Msg = connectors.Scrub(are.Message)
		if sent(are.Response) {
			ce.Status = are.Response.StatusCode
			ce.RetryAfter = c.secondaryWait(are.Response.Header)
		} else {
			ce.Msg = "secondary rate limit still in force; the request was not sent"
			ce.RetryAfter = secondaryDefaultWait
			if are.RetryAfter != nil {
				ce.RetryAfter = atLeastSecond(*are.RetryAfter)
			}
		}
	case errors.As(err, &tfa):
		ce.Kind = connectors.Unauthenticated
		ce.Msg = connectors.Scrub(tfa.Message)
		if tfa.Response != nil {
			ce.Status = tfa.Response.StatusCode
		}
	case errors.As(err, &er):
		ce.Msg = message(er)
		if er.Response == nil {
			break
		}
		status, h := er.Response.StatusCode, er.Response.Header
		ce.Status = status
		ce.Kind = connectors.KindForStatus(status)
		switch {
		case status == http.StatusTooManyRequests,
			status == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0"):
			ce.Kind = connectors.RateLimited
			ce.RetryAfter = c.secondaryWait(h)
		case status >= 500:
			ce.Kind = connectors.Unavailable
			ce.RetryAfter = c.retryAfter(h)
		}
	default:
		// No answer: a timeout, a cancellation or a network error. The
		// URL can name a login; TransportMessage keeps the cause only.
		ce.Msg = connectors.TransportMessage(err)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			ce.Err = err
			return ce
		}
		if resp != nil && resp.Response != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			ce.Msg = "unreadable response: " + ce.Msg
		}
	}
	ce.Err = errors.New(ce.Msg)
	return ce
}

// sent reports whether an SDK rate-limit error came from a real response
// rather than the SDK's refusal to send (whose fake response has no
// headers).
func sent(r *http.Response) bool {
	return r != nil && (r.Header.Get("X-RateLimit-Limit") != "" || r.Header.Get("Retry-After") != "" || r.Header.Get("X-GitHub-Request-Id") != "")
}

// message is GitHub's message plus its per-field errors, scrubbed.
func message(er *gh.ErrorResponse) string {
	msg := er.Message
	if msg == "" && er.Response != nil {
		msg = http.StatusText(er.Response.StatusCode)
	}
	var details []string
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			details = append(details, e.Message)
		case e.Code != "":
			details = append(details, strings.Trim(fmt.Sprintf("%s %s %s", e.Resource, e.Field, e.Code), " "))
		}
	}
	if len(details) > 0 {
		msg += " (" + strings.Join(details, "; ") + ")"
	}
	return connectors.Scrub(msg)
}

// responseNow is the response's Date, or the client's clock without one.
func (c *Client) responseNow(h http.Header) time.Time {
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		return d
	}
	return c.now()
}

// resetWait is x-ratelimit-reset (or fallback) minus the response's time.
func (c *Client) resetWait(h http.Header, fallback time.Time) time.Duration {
	reset := fallback
	if v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && v > 0 {
		reset = time.Unix(v, 0)
	}
	if reset.IsZero() {
		return secondaryDefaultWait
	}
	return atLeastSecond(reset.Sub(c.responseNow(h)))
}

// secondaryWait follows GitHub's guidance: retry-after when sent; else,
// when x-ratelimit-remaining is 0, until x-ratelimit-reset; else a minute.
func (c *Client) secondaryWait(h http.Header) time.Duration {
	if d := c.retryAfter(h); d > 0 {
		return d
	}
	if h.Get("X-RateLimit-Remaining") == "0" && h.Get("X-RateLimit-Reset") != "" {
		return c.resetWait(h, time.Time{})
	}
	return secondaryDefaultWait
}

// retryWait is the wait GitHub asks for before a read is retried: for a
// 429 what secondaryWait says (retry-after, else the reset when the limit
// is spent, else a minute, which is past any retry budget), for a 5xx its
// retry-after.
func (c *Client) retryWait(resp *http.Response) time.Duration {
	if resp.StatusCode == http.StatusTooManyRequests {
		return c.secondaryWait(resp.Header)
	}
	return c.retryAfter(resp.Header)
}

// retryAfter is connectors.RetryAfter measured from the response's Date
// (else the client's clock), except that a Retry-After date already past
// still asks for a second: GitHub sent a wait, so some wait is due.
func (c *Client) retryAfter(h http.Header) time.Duration {
	d := connectors.RetryAfter(h, c.now())
	if d == 0 {
		if _, err := http.ParseTime(strings.TrimSpace(h.Get("Retry-After"))); err == nil {
			return time.Second
		}
	}
	return d
}

// atLeastSecond rounds a rate-limit wait up to whole seconds, at least
// one: a limit GitHub reports is never retried at once.
func atLeastSecond(d time.Duration) time.Duration {
	return max(connectors.CeilSecond(d), time.Second)
}
