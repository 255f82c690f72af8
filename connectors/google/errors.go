package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
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
		// No answer. A *url.Error names the URL, and a URL can hold an
		// email: TransportMessage keeps only the cause.
		ce.Msg = connectors.TransportMessage(err)
		ce.Err = errors.New(ce.Msg)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// Kept for errors.Is, without the URL.
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err
			}
			ce.Err = err
		}
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

// retryAfter is connectors.RetryAfter, except that a Retry-After date
// already past asks for defaultRetryAfter: Google asked for a wait, and its
// documented backoff starts at a second.
func retryAfter(h http.Header) time.Duration {
	d := connectors.RetryAfter(h, time.Now())
	if d == 0 {
		if _, err := http.ParseTime(strings.TrimSpace(h.Get("Retry-After"))); err == nil {
			return defaultRetryAfter
		}
	}
	return d
}
