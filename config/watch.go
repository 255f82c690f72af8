package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Watch configures the watch each done case opens (the config file's
// watch key): how long, how often it reads activity, when it verifies the
// cut again.
type Watch struct {
	Days         int             `yaml:"days,omitempty"`
	PollInterval time.Duration   `yaml:"pollInterval,omitempty"`
	Rechecks     []time.Duration `yaml:"rechecks,omitempty"`
	// Escalate names who is paged in Slack (user IDs U…, user-group IDs
	// S…) for each kind of alert: came-back, attempt, indicator, report,
	// or "*" for every kind.
	Escalate map[string][]string `yaml:"escalate,omitempty"`
}

// WatchAlertKinds are the kinds of alert watch.escalate may name.
var WatchAlertKinds = []string{"came-back", "attempt", "indicator", "report"}

// Watch bounds.
const (
	DefaultWatchDays = 90
	MaxWatchDays     = 365
)

func (w *Watch) fill() {
	if w.Days == 0 {
		w.Days = DefaultWatchDays
	}
	if w.PollInterval == 0 {
		w.PollInterval = 15 * time.Minute
	}
}

func (w *Watch) validate() error {
	var errs []error
	if w.Days < 1 || w.Days > MaxWatchDays {
		errs = append(errs, fmt.Errorf("watch.days %d: want 1 to %d", w.Days, MaxWatchDays))
	}
	if w.PollInterval < time.Second {
		errs = append(errs, fmt.Errorf("watch.pollInterval %s: want at least 1s", w.PollInterval))
	}
	for _, kind := range slices.Sorted(maps.Keys(w.Escalate)) {
		if kind != "*" && !slices.Contains(WatchAlertKinds, kind) {
			errs = append(errs, fmt.Errorf("watch.escalate.%s: unknown alert kind: want one of %s or *", kind, strings.Join(WatchAlertKinds, ", ")))
		}
		for _, id := range w.Escalate[kind] {
			if !SlackUserRE.MatchString(id) && !SlackGroupRE.MatchString(id) {
				errs = append(errs, fmt.Errorf("watch.escalate.%s: %q is not a Slack user ID (U0123ABCD) or user group ID (S0123ABCD)", kind, id))
			}
		}
	}
	for i, r := range w.Rechecks {
		if r <= 0 || (i > 0 && r <= w.Rechecks[i-1]) {
			errs = append(errs, errors.New("watch.rechecks: want positive durations, in increasing order (like [1h, 24h, 168h, 720h])"))
			break
		}
	}
	return errors.Join(errs...)
}
