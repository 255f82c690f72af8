package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/offboard/offboard/connectors"
)

// Budgets is the budgets key: how fast the worker may call each vendor.
// Every vendor's calls are paced to its documented rate limits
// (connectors.Vendor.Buckets) with no config at all; this changes them:
//
//	budgets:
//	  workers: 2        # worker processes sharing the vendors' credentials
//	  github:
//	    points: 600     # a bucket's limit; 0 stops pacing on it
type Budgets struct {
	// Workers is how many worker processes call the vendors with the same
	// credentials: each paces to 1/Workers of every limit. Default 1.
	Workers int `yaml:"workers"`
	// Limits are vendor → bucket → limit, over the vendor's defaults.
	Limits map[string]map[string]int `yaml:",inline"`
}

// check refuses a vendor or bucket that does not exist and a limit below 0.
func (b *Budgets) check(vendors []connectors.Vendor) error {
	var errs []error
	if b.Workers < 0 {
		errs = append(errs, fmt.Errorf("budgets.workers: %d is negative", b.Workers))
	}
	names := make([]string, 0, len(vendors))
	for _, v := range vendors {
		names = append(names, v.Name)
	}
	for vendor, limits := range b.Limits {
		i := slices.IndexFunc(vendors, func(v connectors.Vendor) bool { return v.Name == vendor })
		if i < 0 {
			errs = append(errs, fmt.Errorf("budgets.%s: unknown vendor: want workers or one of %s", vendor, strings.Join(names, ", ")))
			continue
		}
		var known []string
		for _, bk := range vendors[i].Buckets {
			known = append(known, bk.Name)
		}
		for name, limit := range limits {
			switch {
			case !slices.Contains(known, name):
				errs = append(errs, fmt.Errorf("budgets.%s.%s: unknown bucket: want one of %s", vendor, name, strings.Join(known, ", ")))
			case limit < 0:
				errs = append(errs, fmt.Errorf("budgets.%s.%s: %d is negative", vendor, name, limit))
			}
		}
	}
	return errors.Join(errs...)
}

// Budget is the pacing of s's calls: its vendor's buckets with the
// config's limits, divided among Workers.
func (c *Config) Budget(s System) (*connectors.Budget, error) {
	buckets := slices.Clone(s.Vendor.Buckets)
	workers := 1
	if b := c.Budgets; b != nil {
		workers = max(b.Workers, 1)
		for i := range buckets {
			if limit, ok := b.Limits[s.Vendor.Name][buckets[i].Name]; ok {
				buckets[i].Limit = limit
			}
		}
	}
	return connectors.NewBudget(buckets, 1/float64(workers))
}
