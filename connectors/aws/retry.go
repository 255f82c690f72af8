package aws

import (
	"errors"
	"net/http"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offboard/offboard/connectors"
)

// Read retries: defaults of WithReadRetries.
const (
	// DefaultReadAttempts is how many times a read is tried in all.
	DefaultReadAttempts = 4
	// DefaultReadMaxWait caps the wait before each retry of a read.
	DefaultReadMaxWait = 5 * time.Second
)

// readOps are the operations, besides List*, Get* and Describe*, that only
// read (or, for AssumeRole, are safe to repeat).
var readOps = map[string]bool{
	"LookupEvents":      true,
	"GetCallerIdentity": true,
	"AssumeRole":        true,
}

// isRead reports whether an AWS operation only reads, so repeating it
// cannot change anything. Everything else (Delete*, Update*, Put*,
// Create*, Detach*, Remove*, Provision*, ...) is a write.
func isRead(op string) bool {
	if readOps[op] {
		return true
	}
	for _, p := range []string{"List", "Get", "Describe"} {
		if rest, ok := strings.CutPrefix(op, p); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
			return true
		}
	}
	return false
}

// readRetryer is the SDK's standard retryer (which errors retry, jittered
// exponential backoff) bounded for reads: at most maxWait before each
// retry, or the Retry-After the service asked for when that is longer.
// An answer asking for more than maxWait is not retried here: it goes back
// to the caller (RateLimited or Unavailable with RetryAfter), whose retry
// waits as asked.
type readRetryer struct {
	*retry.Standard
	maxWait time.Duration
}

func newReadRetryer(attempts int, maxWait time.Duration) readRetryer {
	return readRetryer{
		Standard: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = maxWait
			// The attempts are bounded per call and the workflow decides
			// beyond them; a spent client-side quota would only bury the
			// service's answer under the SDK's own error.
			o.RateLimiter = ratelimit.None
		}),
		maxWait: maxWait,
	}
}

func (r readRetryer) IsErrorRetryable(err error) bool {
	return r.Standard.IsErrorRetryable(err) && retryAfterOf(err) <= r.maxWait
}

func (r readRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.Standard.RetryDelay(attempt, err)
	if derr != nil {
		return 0, derr
	}
	return max(d, retryAfterOf(err)), nil
}

var _ sdkaws.RetryerV2 = readRetryer{}

// readRetries is an APIOptions entry: for a read it swaps the operation's
// retry middleware (built with RetryMaxAttempts 1) for one using r, keeping
// the client's settings (clock skew, logging, metrics). Writes keep one
// attempt: the workflow retries them, recording each attempt.
func readRetries(r sdkaws.Retryer) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if !isRead(s.ID()) {
			return nil
		}
		old, ok := s.Finalize.Get((&retry.Attempt{}).ID())
		if !ok {
			return nil
		}
		m := retry.NewAttemptMiddleware(r, smithyhttp.RequestCloner, func(m *retry.Attempt) {
			if a, ok := old.(*retry.Attempt); ok {
				m.LogAttempts = a.LogAttempts
				m.OperationMeter = a.OperationMeter
				m.ClientSkew = a.ClientSkew
				m.DisableClockSkewCorrection = a.DisableClockSkewCorrection
			}
		})
		_, err := s.Finalize.Swap(m.ID(), m)
		return err
	}
}

// retryAfterOf is the wait an AWS error asks for: its Retry-After header,
// else the identity store's RetryAfterSeconds; 0 when none.
func retryAfterOf(err error) time.Duration {
	var h http.Header
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		h = re.Response.Header
	}
	if d := connectors.RetryAfter(h, time.Now()); d > 0 {
		return d
	}
	var te *istypes.ThrottlingException
	if errors.As(err, &te) && te.RetryAfterSeconds > 0 {
		return time.Duration(te.RetryAfterSeconds) * time.Second
	}
	return 0
}
