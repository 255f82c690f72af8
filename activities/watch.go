package activities

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/indicators"
	"github.com/offboard/offboard/evidence/signals"
)

// WatchPolicy is the watch a done case opens.
type WatchPolicy struct {
	Days         int             `json:"days"`
	PollInterval time.Duration   `json:"pollInterval"`
	Rechecks     []time.Duration `json:"rechecks,omitempty"`
	// Escalate names who is paged (Slack user or user-group IDs) for each
	// alert kind; "*" for every kind.
	Escalate map[string][]string `json:"escalate,omitempty"`
}

// WithWatch has a's done cases open a watch under p. (A function, not a
// method: every exported method is an activity.)
func WithWatch(a *Activities, p *WatchPolicy) *Activities {
	a.watch = p
	return a
}

// PollInput asks for what happened between two polls: the person's
// activity, the use of the credentials the cut recorded, and anything in
// any system carrying one of the watch's indicators.
type PollInput struct {
	CaseID     string               `json:"caseId"`
	EmployeeID string               `json:"employeeId"`
	Accounts   []connectors.Account `json:"accounts"`
	// Credentials are the credential IDs the cut recorded.
	Credentials []string              `json:"credentials,omitempty"`
	Indicators  indicators.Indicators `json:"indicators,omitzero"`
	Since       time.Time             `json:"since"`
	Until       time.Time             `json:"until"`
	// Seen are the keys (EventKey) of the events in the window already
	// alerted on.
	Seen []string `json:"seen,omitempty"`
	// Name names the bundle the new events are sealed in.
	Name string `json:"name"`
}

// Found is one event a poll found, and why it matters.
type Found struct {
	Key   string         `json:"key"`
	Event evidence.Event `json:"event"`
	// Why: "account" (by one of the person's accounts), "credential"
	// (with a credential the cut recorded), or "indicator" (carrying one
	// of the watch's indicators, by any account).
	Why string `json:"why"`
	// Indicator is the indicator or credential matched.
	Indicator string `json:"indicator,omitempty"`
}

// PollResult is what a watch's poll found: the new events (without their
// raw form, so the watch's history stays small; the raw events are in the
// sealed bundle), the bundle, and the systems that could not be read.
type PollResult struct {
	Found      []Found  `json:"found,omitempty"`
	More       int      `json:"more,omitempty"`
	Bundle     string   `json:"bundle,omitempty"`
	Digest     string   `json:"digest,omitempty"`
	Incomplete []string `json:"incomplete,omitempty"`
}

// maxPollEvents bounds the events one poll returns (all are sealed).
const maxPollEvents = 50

// EventKey names an event for deduplication: its time, system, action,
// target, credential and source.
func EventKey(e evidence.Event) string {
	return strings.Join([]string{e.Time.UTC().Format(keyTime), e.System, e.Action, e.Target, e.Credential, e.SourceIP}, "|")
}

// keyTime is fixed width, so keys sort by time.
const keyTime = "2006-01-02T15:04:05.000000000Z"

// KeyTime is the time an EventKey starts with.
func KeyTime(key string) time.Time {
	t, _ := time.Parse(keyTime, strings.SplitN(key, "|", 2)[0])
	return t
}

// WatchPoll reads, for [Since, Until]: every account's activity (after the
// cut, any of it is the person trying to come back, or someone using what
// was theirs), the use of each recorded credential, and the events of every
// system that can search carrying one of the indicators. The new events are
// sealed as an evidence bundle next to the snapshot, when the worker keeps
// evidence. A system that cannot be read is named in Incomplete, never
// failing the poll: the next poll reads from the same time.
func (a *Activities) WatchPoll(ctx context.Context, in PollInput) (PollResult, error) {
	var res PollResult
	seen := map[string]bool{}
	for _, k := range in.Seen {
		seen[k] = true
	}
	var found []Found
	var raw []evidence.Event
	add := func(e evidence.Event, why, ind string) {
		if e.Time.Before(in.Since) || e.Time.After(in.Until) {
			return
		}
		k := EventKey(e)
		if seen[k] {
			return
		}
		seen[k] = true
		raw = append(raw, e)
		e.Raw = nil
		found = append(found, Found{Key: k, Event: e, Why: why, Indicator: ind})
	}
	incomplete := func(system string, err error) {
		res.Incomplete = append(res.Incomplete, system+": "+err.Error())
	}
	creds := strings.Join(in.Credentials, ",")
	for _, acc := range in.Accounts {
		r, err := Capability[connectors.ActivityReader](a, acc.System)
		if err != nil {
			continue
		}
		acc.Attributes = maps.Clone(acc.Attributes)
		if acc.Attributes == nil {
			acc.Attributes = map[string]string{}
		}
		acc.Attributes[connectors.AttrCredentials] = creds
		evs, err := r.Activity(a.paced(ctx, acc.System, connectors.PriorityVerify), acc, in.Since, in.Until)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			incomplete(acc.System, err)
			continue
		}
		for _, e := range evs {
			if e.Credential != "" && slices.Contains(in.Credentials, e.Credential) {
				add(e, "credential", e.Credential)
			} else {
				add(e, "account", "")
			}
		}
		heartbeat(ctx, acc.System)
	}
	if q := query(in.Indicators); !q.Empty() {
		for _, sys := range a.order {
			s, err := Capability[connectors.Searcher](a, sys)
			if err != nil {
				continue
			}
			evs, err := s.Search(a.paced(ctx, sys, connectors.PriorityVerify), q, in.Since, in.Until)
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if err != nil {
				incomplete(sys, err)
				continue
			}
			for _, e := range evs {
				add(e, "indicator", matched(q, e))
			}
			heartbeat(ctx, sys)
		}
	}
	if len(found) == 0 {
		return res, nil
	}
	if c := a.collector; c != nil {
		sealed, err := c.seal(ctx, in.CaseID, in.EmployeeID, in.Name, evidence.Window{From: in.Since.UTC(), To: in.Until.UTC()}, bySystem(raw), nil)
		if err != nil {
			return res, err
		}
		res.Bundle, res.Digest = sealed.bundle, sealed.Digest
	}
	res.Found = found[:min(len(found), maxPollEvents)]
	res.More = len(found) - len(res.Found)
	return res, nil
}

func heartbeat(ctx context.Context, detail string) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, detail)
	}
}

// query is what a Searcher is asked for a watch's indicators.
func query(ind indicators.Indicators) connectors.Query {
	return connectors.Query{IPs: ind.IPs, Emails: ind.Emails, Logins: ind.GitHubLogins}
}

// matched names the indicator an event found by a search carries.
func matched(q connectors.Query, e evidence.Event) string {
	if slices.Contains(q.IPs, e.SourceIP) {
		return e.SourceIP
	}
	raw := strings.ToLower(string(e.Raw))
	for _, v := range append(slices.Clone(q.Emails), q.Logins...) {
		if strings.EqualFold(e.Actor, v) || strings.Contains(raw, strings.ToLower(v)) {
			return v
		}
	}
	return ""
}

// bySystem groups events into a bundle's sources, in the order the systems
// first appear.
func bySystem(evs []evidence.Event) []evidence.Source {
	var out []evidence.Source
	idx := map[string]int{}
	for _, e := range evs {
		i, ok := idx[e.System]
		if !ok {
			i = len(out)
			idx[e.System] = i
			out = append(out, evidence.Source{System: e.System})
		}
		out[i].Events = append(out[i].Events, e)
	}
	return out
}

type sealedBundle struct {
	evidence.Sealed
	bundle string
}

// seal seals sources as the bundle named name (with the activity attempt
// when it is not the first: a stored file is never replaced).
func (c *Collector) seal(ctx context.Context, caseID, employeeID, name string, win evidence.Window, sources []evidence.Source, assessment any) (sealedBundle, error) {
	bundle := safeName(name)
	if n := attempt(ctx); n > 1 {
		bundle += fmt.Sprintf("-%d", n)
	}
	info := evidence.ManifestInfo{CaseID: caseID, EmployeeID: employeeID, Window: win, CollectorVersion: c.Version}
	if assessment != nil {
		b, err := json.Marshal(assessment)
		if err != nil {
			return sealedBundle{}, err
		}
		info.Assessment = b
	}
	s, err := evidence.Seal(ctx, c.Store, bundle, info, sources, c.Key)
	if err != nil {
		return sealedBundle{}, fmt.Errorf("seal bundle %s: %w", bundle, err)
	}
	return sealedBundle{Sealed: s, bundle: bundle}, nil
}

// ChangesInput asks who changed an account since a time.
type ChangesInput struct {
	Account connectors.Account `json:"account"`
	Since   time.Time          `json:"since"`
	Until   time.Time          `json:"until"`
}

// WhoChanged reads what others did to the account between Since and Until
// (connectors.ChangeReader), newest last, without raw events: who or what
// brought back an access the cut had closed. A system that cannot say
// returns nothing.
func (a *Activities) WhoChanged(ctx context.Context, in ChangesInput) ([]evidence.Event, error) {
	r, err := Capability[connectors.ChangeReader](a, in.Account.System)
	if err != nil {
		return nil, nil
	}
	evs, err := r.Changes(a.paced(ctx, in.Account.System, connectors.PriorityVerify), in.Account, in.Since, in.Until)
	if err != nil {
		return nil, ToTemporal(ctx, err)
	}
	out := make([]evidence.Event, 0, len(evs))
	for _, e := range evs {
		if e.Actor == in.Account.ID {
			continue
		}
		e.Raw = nil
		out = append(out, e)
	}
	return out[max(0, len(out)-5):], nil
}

// Report kinds.
const (
	ReportExtortion = "extortion"
	ReportContact   = "contact"
	ReportLeak      = "leak"
)

// ReportKinds are the kinds of report a watch takes.
var ReportKinds = []string{ReportExtortion, ReportContact, ReportLeak}

// MaxReportSize bounds a reported message.
const MaxReportSize = 1 << 20

// ReportInput is a message reported on a watch: an extortion demand, a
// contact, a leak.
type ReportInput struct {
	CaseID     string    `json:"caseId"`
	EmployeeID string    `json:"employeeId"`
	Kind       string    `json:"kind"`
	By         string    `json:"by"`
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
	Message    []byte    `json:"message"`
	// Snapshot is the case's evidence bundle the message is matched
	// against; Name names the bundle the message is sealed in.
	Snapshot string `json:"snapshot,omitempty"`
	Name     string `json:"name"`
}

// ReportResult is what a report found: the message's hash, the bundle it
// is sealed in, the indicators it holds, and what of them the person's
// snapshot shows.
type ReportResult struct {
	SHA256     string                `json:"sha256"`
	Size       int                   `json:"size"`
	Bundle     string                `json:"bundle,omitempty"`
	Digest     string                `json:"digest,omitempty"`
	Indicators indicators.Indicators `json:"indicators"`
	Matches    []indicators.Match    `json:"matches,omitempty"`
	// SnapshotError says why the message could not be matched against the
	// snapshot.
	SnapshotError string `json:"snapshotError,omitempty"`
}

// reportSystem is the bundle source that holds a reported message.
const reportSystem = "report"

// SealReport hashes a reported message, extracts its indicators, matches
// them against the person's snapshot, and seals the message whole (its
// bytes, base64) with what was found in an evidence bundle.
func (a *Activities) SealReport(ctx context.Context, in ReportInput) (ReportResult, error) {
	c := a.collector
	if c == nil {
		return ReportResult{}, temporal.NewNonRetryableApplicationError("no evidence store is configured on this worker: a report cannot be kept", "InvalidInput", nil)
	}
	if len(in.Message) == 0 || len(in.Message) > MaxReportSize {
		return ReportResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("a reported message must be 1 byte to %d bytes", MaxReportSize), "InvalidInput", nil)
	}
	sum := sha256.Sum256(in.Message)
	res := ReportResult{SHA256: hex.EncodeToString(sum[:]), Size: len(in.Message)}
	var evs []evidence.Event
	if in.Snapshot != "" {
		var err error
		if evs, err = evidence.ReadEvents(ctx, c.Store, in.Snapshot); err != nil {
			res.SnapshotError = err.Error()
		}
	} else {
		res.SnapshotError = "the case has no evidence snapshot"
	}
	ind, err := indicators.ExtractNaming(in.Message, knownNames(evs))
	if err != nil {
		return ReportResult{}, temporal.NewNonRetryableApplicationError("the message could not be read: "+err.Error(), "InvalidInput", nil)
	}
	res.Indicators = ind
	risky := maps.Clone(signals.DefaultRiskyASNs)
	maps.Copy(risky, c.RiskyASNs)
	res.Matches = indicators.MatchEvents(ind, evs, risky)
	raw, err := json.Marshal(map[string]any{"kind": in.Kind, "by": in.By, "note": in.Note, "sha256": res.SHA256,
		"size": res.Size, "message": base64.StdEncoding.EncodeToString(in.Message)})
	if err != nil {
		return ReportResult{}, err
	}
	ev := evidence.Event{Time: in.At.UTC(), System: reportSystem, Actor: in.By, Action: "report:" + in.Kind, Target: "sha256:" + res.SHA256, Raw: raw}
	sealed, err := c.seal(ctx, in.CaseID, in.EmployeeID, in.Name, evidence.Window{From: in.At.UTC(), To: in.At.UTC()},
		[]evidence.Source{{System: reportSystem, Events: []evidence.Event{ev}}},
		map[string]any{"indicators": ind, "matches": res.Matches, "snapshot": in.Snapshot})
	if err != nil {
		return ReportResult{}, err
	}
	res.Bundle, res.Digest = sealed.bundle, sealed.Digest
	return res, nil
}

// knownNames are the repositories (GitHub targets) and files (targets with
// an extension, by base name) the person's events name: what a message
// naming them is matched on.
func knownNames(evs []evidence.Event) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range evs {
		name := e.Target
		switch {
		case e.System == "github" && strings.Count(name, "/") == 1:
		case e.System != "github" && name != "":
			name = path.Base(strings.TrimSuffix(name, "/"))
			if !strings.Contains(strings.TrimPrefix(name, "."), ".") {
				continue
			}
		default:
			continue
		}
		if k := strings.ToLower(name); !seen[k] {
			seen[k] = true
			out = append(out, name)
		}
	}
	return out
}

// Watches is what a worker asks of the open watches: their indicators,
// and telling one that an indicator of its turned up. cases.Client is the
// one there is.
type Watches interface {
	OpenIndicators(ctx context.Context) (map[string]indicators.Indicators, error)
	IndicatorSeen(ctx context.Context, watchID string, s IndicatorSeen) error
}

// WithWatches has a's cases check new terminations against the open
// watches' indicators. (A function, not a method: every exported method is
// an activity.)
func WithWatches(a *Activities, w Watches) *Activities {
	a.watches = w
	return a
}

// IndicatorSeen tells a watch that one of its indicators is an account of
// another case's person: the same people come back under new identities.
type IndicatorSeen struct {
	CaseID    string    `json:"caseId"`
	Indicator string    `json:"indicator"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
}

// MatchInput is a new case's accounts, to check against the open watches.
type MatchInput struct {
	CaseID   string               `json:"caseId"`
	Accounts []connectors.Account `json:"accounts"`
	// OwnWatch is the person's own watch (from an earlier case), which is
	// not a match.
	OwnWatch string `json:"ownWatch"`
}

// IndicatorMatch is one of a case's accounts that is an open watch's
// indicator.
type IndicatorMatch struct {
	WatchID   string `json:"watchId"`
	Indicator string `json:"indicator"`
	Kind      string `json:"kind"`
	System    string `json:"system"`
}

// MatchIndicators checks a case's accounts (their emails, logins and
// GitHub usernames) against every open watch's indicators, and tells each
// watch whose indicator matched.
func (a *Activities) MatchIndicators(ctx context.Context, in MatchInput) ([]IndicatorMatch, error) {
	if a.watches == nil {
		return nil, nil
	}
	open, err := a.watches.OpenIndicators(ctx)
	if err != nil {
		return nil, ToTemporal(ctx, &connectors.Error{Kind: connectors.Unavailable, System: "temporal", Op: "list watches", Msg: err.Error()})
	}
	var out []IndicatorMatch
	for _, id := range slices.Sorted(maps.Keys(open)) {
		if id == in.OwnWatch {
			continue
		}
		ind := open[id]
		for _, acc := range in.Accounts {
			for _, v := range accountEmails(acc) {
				if containsFold(ind.Emails, v) {
					out = append(out, IndicatorMatch{WatchID: id, Indicator: v, Kind: indicators.KindEmail, System: acc.System})
				}
			}
			for _, v := range accountLogins(acc) {
				if containsFold(ind.GitHubLogins, v) {
					out = append(out, IndicatorMatch{WatchID: id, Indicator: v, Kind: indicators.KindGitHubLogin, System: acc.System})
				}
			}
		}
	}
	for _, m := range out {
		if err := a.watches.IndicatorSeen(ctx, m.WatchID, IndicatorSeen{CaseID: in.CaseID, Indicator: m.Indicator, Kind: m.Kind, At: time.Now().UTC()}); err != nil {
			return nil, ToTemporal(ctx, &connectors.Error{Kind: connectors.Unavailable, System: "temporal", Op: "tell " + m.WatchID, Msg: err.Error()})
		}
	}
	return out, nil
}

// accountEmails are the addresses an account carries.
func accountEmails(acc connectors.Account) []string {
	var out []string
	for _, k := range []string{"email", "login", "secondEmail", "primaryEmail"} {
		if v := acc.Attributes[k]; strings.Contains(v, "@") {
			out = append(out, v)
		}
	}
	return out
}

// accountLogins are the GitHub logins an account names.
func accountLogins(acc connectors.Account) []string {
	var out []string
	if acc.System == "github" {
		out = append(out, acc.ID)
	}
	if v := acc.Attributes["githubUsername"]; v != "" {
		out = append(out, v)
	}
	return out
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
