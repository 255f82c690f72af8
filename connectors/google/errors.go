package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/offboard/offboard/connectors"
)

// defaultRetryAfter is the wait a rate-limit answer without Retry-After
// gets: Google's documented backoff starts at 1 s.
const defaultRetryAfter = time.Second

// rateReasons are the errors[].reason values of Google's throttling
// answers (403 or 429). A 403 dailyLimitExceeded is not among them: a
// day's quota is gone and retrying within seconds will not help, so it
// stays PermissionDenied for a person to look at.
var rateReasons = map[string]bool{
	"userRateLimitExceeded": true,
	"rateLimitExceeded":     true,
	"quotaExceeded":         true,
}

// apiError turns a library or transport error into a *connectors.Error
// without PII: Google's message is scrubbed of emails, the raw body is
// dropped, and URLs (which carry user keys) are dropped from transport
// errors.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	ce := &connectors.Error{System: System, Op: op, Kind: connectors.Unavailable}
	var ge *googleapi.Error
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &ge):
		classify(ce, ge)
	case errors.As(err, &re):
		// The token exchange failed: the key, the delegation or the
		// impersonated admin is wrong.
		ce.Kind = connectors.Unauthenticated
		if re.Response != nil {
			ce.Status = re.Response.StatusCode
		}
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// The JWT flow leaves the body unparsed.
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				code, desc = body.Error, body.Description
			}
		}
		msg := code
		if desc != "" {
			msg += ": " + desc
		}
		if msg == "" {
			msg = "token exchange failed"
			if ce.Status != 0 {
				msg += fmt.Sprintf(" (HTTP %d)", ce.Status)
			}
		}
		ce.Msg = "oauth2: " + connectors.Scrub(msg)
		ce.Err = errors.New(ce.Msg)
	default:
		ce.Msg, ce.Err = transportMessage(err)
	}
	return ce
}

// classify fills the kind, status, wait and message of a Google API error.
func classify(ce *connectors.Error, ge *googleapi.Error) {
	ce.Status = ge.Code
	reasons := make([]string, 0, len(ge.Errors))
	rate := ge.Code == http.StatusTooManyRequests
	for _, e := range ge.Errors {
		if e.Reason != "" {
			reasons = append(reasons, e.Reason)
		}
		if rateReasons[e.Reason] {
			rate = true
		}
	}
	switch {
	case rate:
		ce.Kind = connectors.RateLimited
		ce.RetryAfter = retryAfter(ge.Header)
		if ce.RetryAfter == 0 {
			ce.RetryAfter = defaultRetryAfter
		}
	case ge.Code == http.StatusUnauthorized:
		ce.Kind = connectors.Unauthenticated
	case ge.Code == http.StatusForbidden:
		ce.Kind = connectors.PermissionDenied
	case ge.Code == http.StatusPreconditionFailed:
		ce.Kind = connectors.InvalidInput
	case ge.Code >= 500:
		ce.Kind = connectors.Unavailable
		ce.RetryAfter = retryAfter(ge.Header)
	default:
		ce.Kind = connectors.KindForStatus(ge.Code)
	}
	msg := ge.Message
	if msg == "" && len(ge.Errors) > 0 {
		msg = ge.Errors[0].Message
	}
	if msg == "" {
		msg = http.StatusText(ge.Code)
	}
	msg = connectors.Scrub(msg)
	if len(reasons) > 0 {
		msg += " (" + strings.Join(reasons, ", ") + ")"
	}
	ce.Msg = msg
	ce.Err = scrubbed(ge)
}

// scrubbed copies a Google error without its body, headers and details,
// with emails removed, so it can be kept as the wrapped error.
func scrubbed(ge *googleapi.Error) *googleapi.Error {
	c := &googleapi.Error{Code: ge.Code, Message: connectors.Scrub(ge.Message)}
	for _, e := range ge.Errors {
		c.Errors = append(c.Errors, googleapi.ErrorItem{Reason: e.Reason, Message: connectors.Scrub(e.Message)})
	}
	return c
}

// transportMessage describes a failure to get any response. A *url.Error
// names the URL, and a URL can hold an email, so only its cause is kept.
func transportMessage(err error) (string, error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "request timed out", err
	case errors.Is(err, context.Canceled):
		return "request canceled", err
	}
	msg := connectors.Scrub(err.Error())
	return msg, errors.New(msg)
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		base := time.Now()
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		if d := t.Sub(base).Truncate(time.Second); d > 0 {
			return d
		}
		return defaultRetryAfter
	}
	return 0
}

// statusOf is the HTTP status of a connector error, or 0.
func statusOf(err error) int {
	if ce, ok := errors.AsType[*connectors.Error](err); ok {
		return ce.Status
	}
	return 0
}

func invalid(op, format string, args ...any) error {
	return &connectors.Error{Kind: connectors.InvalidInput, System: System, Op: op, Msg: fmt.Sprintf(format, args...)}
}

func conflict(op, format string, args ...any) error {
	return &connectors.Error{Kind: connectors.Conflict, System: System, Op: op, Msg: "verify: " + fmt.Sprintf(format, args...)}
}
