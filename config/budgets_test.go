package config_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
)

const slackFile = "slack:\n  teamId: T1\n  adminToken: xoxp-1\n"

// budgets changes a vendor's limits and divides them among workers; a
// vendor, bucket or number that cannot be is refused, naming the key.
func TestBudgets(t *testing.T) {
	for _, c := range []struct{ name, file, wantErr string }{
		{"unknown vendor", "budgets:\n  jira:\n    calls: 5\n", "budgets.jira: unknown vendor"},
		{"unknown bucket", "budgets:\n  slack:\n    tier9: 5\n", "budgets.slack.tier9: unknown bucket: want one of tier2"},
		{"negative limit", "budgets:\n  slack:\n    tier2: -1\n", "budgets.slack.tier2: -1 is negative"},
		{"negative workers", "budgets:\n  workers: -2\n", "budgets.workers: -2 is negative"},
		{"not a number", "budgets:\n  slack:\n    tier2: lots\n", "budgets:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, slackFile+c.file, nil)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Load error = %v, want %q", err, c.wantErr)
			}
		})
	}

	// Slack's tier-2 methods at 4 a minute, shared by 2 workers: this
	// one may make 2 calls of a method a minute.
	cfg, err := load(t, slackFile+"budgets:\n  workers: 2\n  slack:\n    tier2: 4\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Budget(cfg.Systems[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	call := func() error {
		req, _ := http.NewRequest(http.MethodPost, "https://slack.com/api/admin.users.session.list", nil)
		return b.Wait(ctx, req, connectors.PriorityCut)
	}
	for range 2 {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if _, held := errors.AsType[*connectors.OverBudget](call()); !held {
		t.Error("a third tier-2 call in the minute went through half of 4")
	}

	// No budgets key: the vendor's documented limits.
	cfg, err = load(t, slackFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = cfg.Budget(cfg.Systems[0]); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := call(); err != nil {
			t.Fatalf("Slack's Tier 2 allows 20 a minute: %v", err)
		}
	}
	if _, held := errors.AsType[*connectors.OverBudget](call()); !held {
		t.Error("a 21st tier-2 call in the minute went through")
	}
}
