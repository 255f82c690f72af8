package slack_test

import (
	"context"
	"testing"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/slack"
)

// Calls wait for the budget their context carries, through the SDK, and
// one held back past the activity's deadline is RateLimited, not sent.
func TestBudget(t *testing.T) {
	f := setup(t, options{})
	connectorstest.CheckBudget(t, slack.System, slack.Buckets, f.emu.Emulator(), func(ctx context.Context) error {
		_, err := f.c.Resolve(ctx, connectors.Subject{EmployeeID: "E1001", Attributes: map[string]string{"slackUserId": ada}})
		return err
	})
}
