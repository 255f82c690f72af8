// Package signals reads a person's evidence snapshot (the normalised events
// of every system, as the connectors produce them) and says whether their
// recent activity looks like an insider preparing to leave with the
// company's data or access: bulk cloning, bulk downloads, anonymising
// networks, impossible travel, fresh credentials, work at odd hours.
//
// Assess is pure and deterministic: the same events (in any order) and
// options give the same Assessment. Every signal names the events that
// support it, so a person reviewing the assessment can check each claim
// against the sealed evidence.
//
// Windows are relative to Options.Cut: "the last 7 days" is (Cut-7d, Cut];
// events after the cut are ignored. Events whose Outcome is "failure" are
// not counted as the person's activity anywhere (a failed sign-in from a
// VPN may be someone else trying the account).
package signals

import (
	"sort"
	"strings"
	"time"

	"github.com/offboard/offboard/evidence"
)

// Level is how worrying a signal, or the whole assessment, is.
type Level string

const (
	Low      Level = "low"
	Elevated Level = "elevated"
	High     Level = "high"
)

func (l Level) rank() int {
	switch l {
	case High:
		return 2
	case Elevated:
		return 1
	}
	return 0
}

// The signals' kinds.
const (
	KindBulkClone        = "bulk-clone"
	KindDriveExfil       = "drive-exfil"
	KindSlackDownloads   = "slack-downloads"
	KindRiskyNetwork     = "risky-network"
	KindManyCountries    = "many-countries"
	KindImpossibleTravel = "impossible-travel"
	KindNewCredentials   = "new-credentials"
	KindOddHours         = "odd-hours"
)

// MaxRefs is the most supporting events a Signal lists.
const MaxRefs = 10

// Signal is one finding.
type Signal struct {
	Kind string `json:"kind"`
	// Summary is one human-readable line: counts, targets, networks,
	// countries — nothing the events do not carry.
	Summary  string `json:"summary"`
	Severity Level  `json:"severity"`
	// Events are the top supporting events, at most MaxRefs. Their order
	// is documented on each kind in Assess; ties are broken by time
	// (newest first), then system, action, target and source IP.
	Events []Ref `json:"events"`
	// Count is how many events support the signal in all (Events lists
	// at most MaxRefs of them).
	Count int `json:"count"`
}

// Ref points at one event of the snapshot.
type Ref struct {
	Time     time.Time `json:"time"`
	System   string    `json:"system"`
	Action   string    `json:"action"`
	Target   string    `json:"target,omitempty"`
	SourceIP string    `json:"sourceIp,omitempty"`
	Country  string    `json:"country,omitempty"`
	ASN      string    `json:"asn,omitempty"`
}

// Assessment is the verdict on a snapshot.
type Assessment struct {
	// Level is High when any signal is high or at least three are
	// elevated, Elevated when any signal is elevated, else Low.
	Level Level `json:"level"`
	// Reasons has one line per signal, in the order of Signals (each is
	// that signal's Summary).
	Reasons []string `json:"reasons"`
	// Signals are sorted by severity (high first), then kind.
	Signals []Signal `json:"signals"`
	// RecommendHostile is Level == High: offboard the person as hostile
	// (cut every access at once, before telling them).
	RecommendHostile bool `json:"recommendHostile"`
}

// Options tunes Assess. Zero thresholds take the defaults named in their
// comments.
type Options struct {
	// Cut is the moment of the cut; every window ends at it. Zero means
	// the time of the newest event.
	Cut time.Time
	// Since is when the snapshot's coverage starts, for the baselines of
	// the volume signals ("earlier weeks"). Zero, or later than the oldest
	// event, means the oldest event's time.
	Since time.Time
	// TimeZone is the person's stated IANA zone ("Europe/Berlin"). Empty,
	// or a zone this process cannot load, skips the odd-hours signal.
	TimeZone string
	// RiskyASNs maps an ASN ("AS9009"; "9009" and "as9009" are read the
	// same) to its name: anonymising VPNs and hosting providers, where a
	// person's own sign-ins should not come from. Nil means
	// DefaultRiskyASNs; an empty map turns the signal off. To extend the
	// defaults, copy DefaultRiskyASNs and add to the copy.
	RiskyASNs map[string]string
	// HostileVPNs are names (matched case-insensitively as substrings of
	// a RiskyASNs name) of VPNs known to be used by hostile insider
	// operations; activity from them is high, from other risky networks
	// elevated. Nil means DefaultHostileVPNs.
	HostileVPNs []string

	// CloneMin is the fewest distinct repositories cloned, fetched or
	// downloaded in the last 7 days for bulk-clone (default 10);
	// CloneHigh makes it high (default 25).
	CloneMin, CloneHigh int
	// DriveMin is the fewest Google Drive downloads, copies and exports
	// and S3 GetObjects in the last 7 days for drive-exfil (default 20);
	// DriveHigh makes it high (default 100).
	DriveMin, DriveHigh int
	// SlackMin is the fewest Slack file downloads in the last 7 days for
	// slack-downloads (default 20); SlackHigh makes it high (default 100).
	SlackMin, SlackHigh int
	// Ratio is how many times the earlier weekly average the last 7 days
	// must reach for a volume signal (default 3); HighRatio makes it high
	// (default 5). An earlier average of 0 meets Ratio but never
	// HighRatio: with no baseline only the High count makes it high.
	Ratio, HighRatio float64
	// Countries is the fewest distinct sign-in countries in the last 7
	// days for many-countries (default 3).
	Countries int
	// Travel is the shortest plausible gap between sign-ins from two
	// different countries (default 2h); a shorter gap is impossible
	// travel.
	Travel time.Duration
	// CredentialsHigh is how many credentials created in the last 14 days
	// make new-credentials high (default 3; one makes it elevated).
	CredentialsHigh int
	// OddHoursShare is the share of the last 7 days' events between 00:00
	// and 06:00 local time for odd-hours (default 0.4), of at least
	// OddHoursMin events (default 20).
	OddHoursShare float64
	OddHoursMin   int
}

// DefaultHostileVPNs are the VPNs named as used by North Korean IT-worker
// operations (Mandiant, Google Threat Intelligence, Spur, LevelBlue
// reports, 2023–2026): Astrill above all.
var DefaultHostileVPNs = []string{"Astrill"}

// DefaultRiskyASNs are anonymising VPNs and hosting providers a person's
// own sign-ins should not come from.
//
// Astrill: Astrill Systems Corp. rents exit nodes from many hosting
// providers, so an ASN list catches only part of it; feeds of Astrill exit
// IPs (Spur) are better. AS58546 is the ASN we believe is announced for
// Astrill's own space, from public detection code that attributes it to
// Astrill; it is NOT verified against a registry here — check it (whois
// AS58546, bgp.tools) before relying on it, and add any Astrill ASNs your
// threat intelligence names through Options.RiskyASNs.
//
// The hosting providers are elevated, not high: corporate VPNs, cloud
// desktops (AWS WorkSpaces) and developers' own servers egress from them
// too.
var DefaultRiskyASNs = map[string]string{
	"AS58546":  "Astrill VPN",
	"AS9009":   "M247 (hosts many commercial VPNs)",
	"AS212238": "Datacamp / CDN77 (hosts many commercial VPNs)",
	"AS14061":  "DigitalOcean",
	"AS16509":  "Amazon (AWS)",
	"AS14618":  "Amazon (AWS)",
	"AS24940":  "Hetzner",
	"AS63949":  "Linode / Akamai",
	"AS20473":  "Vultr / Choopa",
	"AS16276":  "OVH",
}

const (
	week       = 7 * 24 * time.Hour
	credWindow = 14 * 24 * time.Hour
)

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.CloneMin, 10)
	def(&o.CloneHigh, 25)
	def(&o.DriveMin, 20)
	def(&o.DriveHigh, 100)
	def(&o.SlackMin, 20)
	def(&o.SlackHigh, 100)
	def(&o.Countries, 3)
	def(&o.CredentialsHigh, 3)
	def(&o.OddHoursMin, 20)
	if o.Ratio <= 0 {
		o.Ratio = 3
	}
	if o.HighRatio <= 0 {
		o.HighRatio = 5
	}
	if o.Travel <= 0 {
		o.Travel = 2 * time.Hour
	}
	if o.OddHoursShare <= 0 {
		o.OddHoursShare = 0.4
	}
	if o.RiskyASNs == nil {
		o.RiskyASNs = DefaultRiskyASNs
	}
	if o.HostileVPNs == nil {
		o.HostileVPNs = DefaultHostileVPNs
	}
	return o
}

// snapshot is the events Assess reads: at or before the cut, not failed,
// sorted newest first (ties broken by the Ref fields).
type snapshot struct {
	cut    time.Time
	since  time.Time // start of the baseline coverage
	events []evidence.Event
}

// Assess computes the signals of a person's snapshot.
//
// Supporting events, per kind:
//   - bulk-clone, drive-exfil, slack-downloads: the newest event of each
//     distinct target in the last 7 days, newest first (so the list shows
//     as many different repositories or files as it can);
//   - risky-network: events from hostile VPNs first, then the rest, each
//     group newest first;
//   - impossible-travel: the pairs of sign-ins, newest pair first, the
//     later sign-in of each pair before the earlier;
//   - many-countries: the newest sign-in from each country, newest first;
//   - new-credentials, odd-hours: newest first.
func Assess(events []evidence.Event, o Options) Assessment {
	o = o.withDefaults()
	s := newSnapshot(events, o)

	var sigs []Signal
	add := func(sg *Signal) {
		if sg != nil {
			sigs = append(sigs, *sg)
		}
	}
	add(volume(s, volumeSpec{
		kind: KindBulkClone, match: isClone, distinct: true,
		min: o.CloneMin, high: o.CloneHigh, ratio: o.Ratio, highRatio: o.HighRatio,
		describe: describeClones,
	}))
	add(volume(s, volumeSpec{
		kind: KindDriveExfil, match: isDriveExfil,
		min: o.DriveMin, high: o.DriveHigh, ratio: o.Ratio, highRatio: o.HighRatio,
		describe: describeDrive,
	}))
	add(volume(s, volumeSpec{
		kind: KindSlackDownloads, match: isSlackDownload,
		min: o.SlackMin, high: o.SlackHigh, ratio: o.Ratio, highRatio: o.HighRatio,
		describe: describeSlack,
	}))
	add(riskyNetwork(s, o))
	add(manyCountries(s, o))
	add(impossibleTravel(s, o))
	add(newCredentials(s, o))
	add(oddHours(s, o))

	sort.SliceStable(sigs, func(i, j int) bool {
		if a, b := sigs[i].Severity.rank(), sigs[j].Severity.rank(); a != b {
			return a > b
		}
		return sigs[i].Kind < sigs[j].Kind
	})

	a := Assessment{Level: Low, Reasons: []string{}, Signals: []Signal{}}
	elevated := 0
	for _, sg := range sigs {
		a.Signals = append(a.Signals, sg)
		a.Reasons = append(a.Reasons, sg.Summary)
		switch sg.Severity {
		case High:
			a.Level = High
		case Elevated:
			elevated++
		}
	}
	if a.Level != High {
		switch {
		case elevated >= 3:
			a.Level = High
		case elevated > 0:
			a.Level = Elevated
		}
	}
	a.RecommendHostile = a.Level == High
	return a
}

func newSnapshot(events []evidence.Event, o Options) snapshot {
	cut := o.Cut
	if cut.IsZero() {
		for _, e := range events {
			if e.Time.After(cut) {
				cut = e.Time
			}
		}
	}
	s := snapshot{cut: cut}
	for _, e := range events {
		if e.Time.IsZero() || e.Time.After(cut) || strings.EqualFold(e.Outcome, "failure") {
			continue
		}
		s.events = append(s.events, e)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return newer(s.events[i], s.events[j]) })
	s.since = cut
	if n := len(s.events); n > 0 {
		s.since = s.events[n-1].Time
	}
	if !o.Since.IsZero() && o.Since.Before(s.since) {
		s.since = o.Since
	}
	return s
}

// within reports whether t is in (cut-d, cut].
func (s snapshot) within(t time.Time, d time.Duration) bool {
	return t.After(s.cut.Add(-d)) && !t.After(s.cut)
}

// newer orders events newest first, ties broken by their Ref fields.
func newer(a, b evidence.Event) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	for _, p := range [][2]string{
		{a.System, b.System}, {a.Action, b.Action}, {a.Target, b.Target},
		{a.SourceIP, b.SourceIP}, {a.Country, b.Country}, {a.ASN, b.ASN},
	} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}

func ref(e evidence.Event) Ref {
	return Ref{Time: e.Time, System: e.System, Action: e.Action, Target: e.Target,
		SourceIP: e.SourceIP, Country: e.Country, ASN: e.ASN}
}

// refs takes the first MaxRefs events (already in the wanted order).
func refs(es []evidence.Event) []Ref {
	if len(es) > MaxRefs {
		es = es[:MaxRefs]
	}
	out := make([]Ref, len(es))
	for i, e := range es {
		out[i] = ref(e)
	}
	return out
}
