package google_test

import (
	"context"
	"testing"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/google"
)

// Calls wait for the budget their context carries, through the SDK, and
// one held back past the activity's deadline is RateLimited, not sent.
func TestBudget(t *testing.T) {
	f := setup(t, options{})
	connectorstest.CheckBudget(t, google.System, google.Buckets, f.emu.Emulator(), func(ctx context.Context) error {
		_, err := f.c.Resolve(ctx, connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
		return err
	})
}
