package cases

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// A case's step sees why its item was not applied: the batch's kind and
// Retry-After when the shared workflow sent them (a throttled batch waits
// and tries again, a denied one parks), else Unavailable.
func TestSharedError(t *testing.T) {
	withKind := func(k connectors.Kind, after time.Duration) error {
		return temporal.NewApplicationErrorWithOptions("the shared write failed: x", "SharedWriteFailed",
			temporal.ApplicationErrorOptions{Details: []any{activities.ErrorDetails{Kind: k, RetryAfter: after}}})
	}
	for _, c := range []struct {
		name  string
		err   error
		kind  connectors.Kind
		after time.Duration
	}{
		{"throttled batch", withKind(connectors.RateLimited, 7*time.Second), connectors.RateLimited, 7 * time.Second},
		{"denied batch", withKind(connectors.PermissionDenied, 0), connectors.PermissionDenied, 0},
		{"a kind offboard does not know", withKind("Weird", time.Second), connectors.Unavailable, 0},
		{"a batch from before kinds were sent", temporal.NewApplicationError("the shared write failed: x", "SharedWriteFailed"), connectors.Unavailable, 0},
		{"no answer", errors.New("connection refused"), connectors.Unavailable, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := sharedError("aws", "shared/aws/ps", c.err)
			ce, ok := errors.AsType[*connectors.Error](err)
			if !ok {
				t.Fatalf("%T %v is not a connector error", err, err)
			}
			if ce.Kind != c.kind || ce.RetryAfter != c.after || ce.System != "aws" || ce.Op != "apply through shared/aws/ps" {
				t.Errorf("%v: kind %s retry after %s, want %s %s", ce, ce.Kind, ce.RetryAfter, c.kind, c.after)
			}
		})
	}
}
