package config

import (
	"errors"
	"fmt"
	"time"
)

// Watch configures the watch each done case opens (the config file's
// watch key): how long, how often it reads activity, when it verifies the
// cut again.
type Watch struct {
	Days         int             `yaml:"days,omitempty"`
	PollInterval time.Duration   `yaml:"pollInterval,omitempty"`
	Rechecks     []time.Duration `yaml:"rechecks,omitempty"`
}

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
	for i, r := range w.Rechecks {
		if r <= 0 || (i > 0 && r <= w.Rechecks[i-1]) {
			errs = append(errs, errors.New("watch.rechecks: want positive durations, in increasing order (like [1h, 24h, 168h, 720h])"))
			break
		}
	}
	return errors.Join(errs...)
}
