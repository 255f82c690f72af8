package aws_test

import (
	"context"
	"testing"

	"github.com/offboard/offboard/connectors/aws"
	"github.com/offboard/offboard/connectors/connectorstest"
)

// Calls wait for the budget their context carries, through the SDK, and
// one held back past the activity's deadline is RateLimited, not sent.
func TestBudget(t *testing.T) {
	f := setup(t, options{})
	connectorstest.CheckBudget(t, aws.System, aws.Buckets, f.emu.Emulator(), func(ctx context.Context) error {
		_, err := f.c.Resolve(ctx, person(t, "E1001"))
		return err
	})
}
