package activities

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/signals"
)

// Collector is where a worker keeps evidence bundles and the key that
// signs them, and the window it reads.
type Collector struct {
	Store evidence.Store
	Key   ed25519.PrivateKey
	// Days before the cut and After it bound the window.
	Days  int
	After time.Duration
	// RiskyASNs are added to signals.DefaultRiskyASNs.
	RiskyASNs map[string]string
	// Version is the collector version the manifest records.
	Version string
}

// WithEvidence has a's cases snapshot the person's activity at the cut.
// (A function, not a method: every exported method is an activity.)
func WithEvidence(a *Activities, c *Collector) *Activities {
	a.collector = c
	return a
}

// EvidencePolicy is the part of the evidence config a case keeps.
type EvidencePolicy struct {
	Days  int           `json:"days"`
	After time.Duration `json:"after"`
}

// SnapshotInput asks for one case's snapshot.
type SnapshotInput struct {
	CaseID     string `json:"caseId"`
	EmployeeID string `json:"employeeId"`
	RunID      string `json:"runId"`
	// Accounts are the person's accounts the plan found.
	Accounts []connectors.Account `json:"accounts"`
	// Cut is when the cut started; the window is Days before it to After
	// it.
	Cut      time.Time `json:"cut"`
	TimeZone string    `json:"timeZone,omitempty"`
	// Recorded is what the cut's steps recorded before removing it
	// (sessions, credential and token IDs), kept in the bundle as the
	// "offboard" source.
	Recorded []Recorded `json:"recorded,omitempty"`
}

// Recorded is one step's records.
type Recorded struct {
	Step    string    `json:"step"`
	System  string    `json:"system"`
	At      time.Time `json:"at"`
	Records []string  `json:"records"`
}

// RecordedSystem is the bundle source that holds what the cut recorded.
const RecordedSystem = "offboard"

// SnapshotResult is what the case keeps of its bundle: where it is, its
// digest and counts, and the assessment.
type SnapshotResult struct {
	Bundle     string                `json:"bundle"`
	Digest     string                `json:"digest"`
	Window     evidence.Window       `json:"window"`
	Counts     map[string]int        `json:"counts"`
	Incomplete []evidence.Incomplete `json:"incomplete,omitempty"`
	Assessment signals.Assessment    `json:"assessment"`
}

// Snapshot reads every account's activity in the window (each system that
// can: connectors.ActivityReader), assesses it, and seals it as a bundle.
// A source that fails after a few tries is recorded incomplete with why;
// it never fails the snapshot.
func (a *Activities) Snapshot(ctx context.Context, in SnapshotInput) (SnapshotResult, error) {
	c := a.collector
	if c == nil {
		return SnapshotResult{}, temporal.NewNonRetryableApplicationError("no evidence store is configured on this worker", "InvalidInput", nil)
	}
	win := evidence.Window{From: in.Cut.Add(-time.Duration(c.Days) * 24 * time.Hour).UTC(), To: in.Cut.Add(c.After).UTC()}
	sources, all, err := a.collect(ctx, in.Accounts, win)
	if err != nil {
		return SnapshotResult{}, err
	}
	if len(in.Recorded) > 0 {
		sources = append(sources, recordedSource(in.Recorded))
	}
	if len(sources) == 0 {
		return SnapshotResult{Window: win}, nil
	}
	as := c.assess(all, in)
	asJSON, err := json.Marshal(as)
	if err != nil {
		return SnapshotResult{}, err
	}
	bundle := bundleName(ctx, in)
	sealed, err := evidence.Seal(ctx, c.Store, bundle, evidence.ManifestInfo{
		CaseID: in.CaseID, EmployeeID: in.EmployeeID, Window: win, CollectorVersion: c.Version, Assessment: asJSON,
	}, sources, c.Key)
	if err != nil {
		return SnapshotResult{}, fmt.Errorf("seal bundle %s: %w", bundle, err)
	}
	return SnapshotResult{Bundle: bundle, Digest: sealed.Digest, Window: win, Counts: sealed.Counts,
		Incomplete: sealed.Manifest.Incomplete, Assessment: trim(as)}, nil
}

// Assess reads every account's activity up to now (the window before the
// cut) and assesses it, without keeping it: what an approval request shows
// before anything is cut. A source that cannot be read is named in the
// reasons.
func (a *Activities) Assess(ctx context.Context, in SnapshotInput) (signals.Assessment, error) {
	c := a.collector
	if c == nil {
		return signals.Assessment{}, temporal.NewNonRetryableApplicationError("no evidence is configured on this worker", "InvalidInput", nil)
	}
	win := evidence.Window{From: in.Cut.Add(-time.Duration(c.Days) * 24 * time.Hour).UTC(), To: in.Cut.UTC()}
	sources, all, err := a.collect(ctx, in.Accounts, win)
	if err != nil {
		return signals.Assessment{}, err
	}
	as := trim(c.assess(all, in))
	for _, s := range sources {
		if s.Incomplete != "" {
			as.Reasons = append(as.Reasons, s.System+"'s activity could not be read: "+s.Incomplete)
		}
	}
	return as, nil
}

// collect reads each account's activity in the window, from every system
// that keeps some; a source that fails is returned with why.
func (a *Activities) collect(ctx context.Context, accounts []connectors.Account, win evidence.Window) ([]evidence.Source, []evidence.Event, error) {
	var sources []evidence.Source
	var all []evidence.Event
	for _, acc := range accounts {
		r, err := Capability[connectors.ActivityReader](a, acc.System)
		if err != nil {
			continue // the system keeps no activity offboard reads
		}
		// The snapshot's reads wait behind every cut for the vendor's budget.
		evs, err := readActivity(a.paced(ctx, acc.System, connectors.PriorityVerify), r, acc, win)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		src := evidence.Source{System: acc.System, Events: evs}
		if err != nil {
			src.Incomplete = err.Error()
		}
		sources = append(sources, src)
		all = append(all, evs...)
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, acc.System)
		}
	}
	return sources, all, nil
}

// assess runs the insider signals over a snapshot.
func (c *Collector) assess(all []evidence.Event, in SnapshotInput) signals.Assessment {
	risky := maps.Clone(signals.DefaultRiskyASNs)
	maps.Copy(risky, c.RiskyASNs)
	return signals.Assess(all, signals.Options{Cut: in.Cut, TimeZone: in.TimeZone, RiskyASNs: risky})
}

// recordedSource is what the cut's steps recorded, one event a record.
func recordedSource(recs []Recorded) evidence.Source {
	src := evidence.Source{System: RecordedSystem}
	for _, r := range recs {
		for _, rec := range r.Records {
			raw, _ := json.Marshal(map[string]string{"step": r.Step, "system": r.System, "record": rec})
			src.Events = append(src.Events, evidence.Event{Time: r.At.UTC(), System: RecordedSystem, Actor: r.System,
				Action: "recorded:" + r.Step, Target: rec, Raw: raw})
		}
	}
	return src
}

// sourceAttempts bounds how often one source is asked before it is
// recorded incomplete.
const sourceAttempts = 3

// readActivity reads one account's activity, asking again after a
// retryable error (waiting as long as the vendor asked, at most a minute).
func readActivity(ctx context.Context, r connectors.ActivityReader, acc connectors.Account, win evidence.Window) ([]evidence.Event, error) {
	var err error
	for n := 1; ; n++ {
		var evs []evidence.Event
		evs, err = r.Activity(ctx, acc, win.From, win.To)
		if err == nil {
			return evs, nil
		}
		ce, ok := errors.AsType[*connectors.Error](err)
		if !ok || !Retryable(ce.Kind) || n >= sourceAttempts {
			return nil, err
		}
		wait := min(max(ce.RetryAfter, time.Duration(n)*time.Second), time.Minute)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// bundleName names a case run's bundle (one per activity attempt, since a
// stored file is never replaced).
func bundleName(ctx context.Context, in SnapshotInput) string {
	name := safeName(in.EmployeeID) + "-" + in.RunID
	if n := attempt(ctx); n > 1 {
		name += fmt.Sprintf("-%d", n)
	}
	return name
}

// safeName maps s to a valid bundle name's characters.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// trim keeps at most five supporting events per signal in what the case
// keeps (the bundle has them all).
func trim(as signals.Assessment) signals.Assessment {
	out := as
	out.Signals = make([]signals.Signal, len(as.Signals))
	for i, s := range as.Signals {
		s.Events = s.Events[:min(len(s.Events), 5)]
		out.Signals[i] = s
	}
	return out
}
