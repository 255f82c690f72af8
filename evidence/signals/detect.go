package signals

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/evidence"
)

// eps absorbs floating-point error at the thresholds' edges, so "at the
// threshold" counts as meeting it.
const eps = 1e-9

func is(e evidence.Event, system string, actions ...string) bool {
	if !strings.EqualFold(e.System, system) {
		return false
	}
	for _, a := range actions {
		if e.Action == a {
			return true
		}
	}
	return false
}

func isClone(e evidence.Event) bool {
	return is(e, "github", "git.clone", "git.fetch", "repo.download_zip")
}

func isDriveExfil(e evidence.Event) bool {
	return is(e, "google", "drive:download", "drive:copy", "drive:export") ||
		is(e, "aws", "s3.amazonaws.com:GetObject")
}

func isSlackDownload(e evidence.Event) bool {
	return is(e, "slack", "file_downloaded")
}

// isSignIn is a successful interactive sign-in (failures never reach the
// detectors).
func isSignIn(e evidence.Event) bool {
	return is(e, "okta", "user.session.start") ||
		(strings.EqualFold(e.System, "okta") && strings.HasPrefix(e.Action, "user.authentication.")) ||
		is(e, "google", "login:login_success") ||
		is(e, "slack", "user_login") ||
		is(e, "aws", "signin.amazonaws.com:ConsoleLogin")
}

// isCredential is the person creating a credential that outlives their
// session: a token, a key, an OAuth grant, an MFA factor.
//
// Okta's app.oauth2.as.token.grant is not one: Okta logs it for every token
// it issues (every refresh), so it would fire for everyone; the consent
// grants are the person granting an app lasting access.
func isCredential(e evidence.Event) bool {
	return is(e, "github", "personal_access_token.create", "personal_access_token.request_created",
		"public_key.create", "org.oauth_app_access_approved", "oauth_authorization.create") ||
		is(e, "aws", "iam.amazonaws.com:CreateAccessKey", "iam.amazonaws.com:UploadSSHPublicKey",
			"iam.amazonaws.com:CreateServiceSpecificCredential") ||
		is(e, "okta", "system.api_token.create", "user.mfa.factor.activate",
			"app.oauth2.as.consent.grant", "app.oauth2.consent.grant") ||
		is(e, "google", "token:authorize")
}

// volumeSpec is one of the "more than usual in the last 7 days" signals.
type volumeSpec struct {
	kind  string
	match func(evidence.Event) bool
	// distinct measures distinct targets rather than events.
	distinct         bool
	min, high        int
	ratio, highRatio float64
	// describe writes the summary from the measure, the events and
	// distinct targets of the last 7 days, and the baseline phrase.
	describe func(measure, events, targets int, baseline string) string
}

func volume(s snapshot, v volumeSpec) *Signal {
	recentStart := s.cut.Add(-week)
	weeks := 0
	if s.since.Before(recentStart) {
		weeks = int(math.Ceil(float64(recentStart.Sub(s.since)) / float64(week)))
	}
	var recent []evidence.Event
	recentTargets := map[string]bool{}
	earlierEvents := map[int]int{}
	earlierTargets := map[int]map[string]bool{}
	for _, e := range s.events {
		if !v.match(e) {
			continue
		}
		if s.within(e.Time, week) {
			recent = append(recent, e)
			if e.Target != "" {
				recentTargets[e.Target] = true
			}
			continue
		}
		// Earlier week k is (recentStart-(k+1)w, recentStart-kw].
		k := int(recentStart.Sub(e.Time) / week)
		if weeks == 0 {
			weeks = 1
		}
		if k >= weeks {
			k = weeks - 1
		}
		earlierEvents[k]++
		if e.Target != "" {
			if earlierTargets[k] == nil {
				earlierTargets[k] = map[string]bool{}
			}
			earlierTargets[k][e.Target] = true
		}
	}
	measure := len(recent)
	if v.distinct {
		measure = len(recentTargets)
	}
	avg := 0.0
	if weeks > 0 {
		sum := 0
		for k := 0; k < weeks; k++ {
			if v.distinct {
				sum += len(earlierTargets[k])
			} else {
				sum += earlierEvents[k]
			}
		}
		avg = float64(sum) / float64(weeks)
	}
	m := float64(measure)
	if measure < v.min || (avg > 0 && m < v.ratio*avg-eps) {
		return nil
	}
	sev := Elevated
	if measure >= v.high || (avg > 0 && m >= v.highRatio*avg-eps) {
		sev = High
	}
	baseline := "no earlier weeks in the snapshot"
	if weeks > 0 {
		baseline = "earlier weeks: " + fmtNum(avg) + " a week"
	}
	// The newest event of each distinct target, newest first.
	var top []evidence.Event
	seen := map[string]bool{}
	for _, e := range recent {
		if !seen[e.Target] {
			seen[e.Target] = true
			top = append(top, e)
		}
	}
	return &Signal{
		Kind:     v.kind,
		Summary:  v.describe(measure, len(recent), len(recentTargets), baseline),
		Severity: sev,
		Events:   refs(top),
		Count:    len(recent),
	}
}

func describeClones(measure, events, _ int, baseline string) string {
	return fmt.Sprintf("%d distinct %s cloned in the last 7 days (%s; %s)",
		measure, plural(measure, "repository", "repositories"), baseline,
		counted(events, "clone, fetch or zip download", "clones, fetches and zip downloads"))
}

func describeDrive(measure, _, targets int, baseline string) string {
	return fmt.Sprintf("%s in the last 7 days (%s; %s)",
		counted(measure, "file download, copy or export (Google Drive, S3)", "file downloads, copies and exports (Google Drive, S3)"),
		baseline, counted(targets, "distinct file", "distinct files"))
}

func describeSlack(measure, _, targets int, baseline string) string {
	return fmt.Sprintf("%s in the last 7 days (%s; %s)",
		counted(measure, "Slack file download", "Slack file downloads"),
		baseline, counted(targets, "distinct file", "distinct files"))
}

// NormASN reads "AS9009", "as9009" and "9009" as "AS9009"; anything else
// as "".
func NormASN(s string) string {
	s = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "AS")
	if s == "" {
		return ""
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return ""
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return ""
	}
	return "AS" + s
}

func riskyNetwork(s snapshot, o Options) *Signal {
	risky := map[string]string{}
	keys := make([]string, 0, len(o.RiskyASNs))
	for k := range o.RiskyASNs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := NormASN(k); n != "" {
			if _, dup := risky[n]; !dup {
				risky[n] = o.RiskyASNs[k]
			}
		}
	}
	hostile := func(name string) bool {
		for _, h := range o.HostileVPNs {
			if h != "" && strings.Contains(strings.ToLower(name), strings.ToLower(h)) {
				return true
			}
		}
		return false
	}
	var hostileEvents, otherEvents []evidence.Event
	perASN := map[string]int{}
	for _, e := range s.events {
		asn := NormASN(e.ASN)
		name, ok := risky[asn]
		if !ok {
			continue
		}
		perASN[asn]++
		if hostile(name) {
			hostileEvents = append(hostileEvents, e)
		} else {
			otherEvents = append(otherEvents, e)
		}
	}
	total := len(hostileEvents) + len(otherEvents)
	if total == 0 {
		return nil
	}
	asns := make([]string, 0, len(perASN))
	for a := range perASN {
		asns = append(asns, a)
	}
	sort.Slice(asns, func(i, j int) bool {
		hi, hj := hostile(risky[asns[i]]), hostile(risky[asns[j]])
		if hi != hj {
			return hi
		}
		if perASN[asns[i]] != perASN[asns[j]] {
			return perASN[asns[i]] > perASN[asns[j]]
		}
		return asns[i] < asns[j]
	})
	parts := make([]string, len(asns))
	for i, a := range asns {
		parts[i] = fmt.Sprintf("%s %s (%d)", a, risky[a], perASN[a])
	}
	sev := Elevated
	if len(hostileEvents) > 0 {
		sev = High
	}
	return &Signal{
		Kind: KindRiskyNetwork,
		Summary: fmt.Sprintf("%s from anonymising VPNs or hosting networks: %s",
			counted(total, "event", "events"), strings.Join(parts, ", ")),
		Severity: sev,
		Events:   refs(append(hostileEvents, otherEvents...)),
		Count:    total,
	}
}

// recentSignIns are the last 7 days' sign-ins that carry a country,
// newest first, with their normalised countries.
func recentSignIns(s snapshot) ([]evidence.Event, []string) {
	var es []evidence.Event
	var cs []string
	for _, e := range s.events {
		if !s.within(e.Time, week) || !isSignIn(e) {
			continue
		}
		if c := normCountry(e.Country); c != "" {
			es = append(es, e)
			cs = append(cs, c)
		}
	}
	return es, cs
}

func manyCountries(s snapshot, o Options) *Signal {
	es, cs := recentSignIns(s)
	seen := map[string]bool{}
	var top []evidence.Event
	var countries []string
	for i, e := range es {
		if !seen[cs[i]] {
			seen[cs[i]] = true
			top = append(top, e)
			countries = append(countries, cs[i])
		}
	}
	if len(countries) < o.Countries {
		return nil
	}
	sort.Strings(countries)
	return &Signal{
		Kind: KindManyCountries,
		Summary: fmt.Sprintf("sign-ins from %d countries in the last 7 days: %s",
			len(countries), strings.Join(countries, ", ")),
		Severity: Elevated,
		Events:   refs(top),
		Count:    len(es),
	}
}

func impossibleTravel(s snapshot, o Options) *Signal {
	es, cs := recentSignIns(s) // newest first
	type pair struct{ later, earlier int }
	var pairs []pair
	for i := 0; i+1 < len(es); i++ {
		if cs[i] != cs[i+1] && es[i].Time.Sub(es[i+1].Time) < o.Travel {
			pairs = append(pairs, pair{i, i + 1})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	var top []evidence.Event
	used := map[int]bool{}
	for _, p := range pairs {
		for _, i := range []int{p.later, p.earlier} {
			if !used[i] {
				used[i] = true
				top = append(top, es[i])
			}
		}
	}
	n := pairs[0]
	return &Signal{
		Kind: KindImpossibleTravel,
		Summary: fmt.Sprintf("impossible travel: %s from different countries less than %s apart in the last 7 days (newest: %s then %s, %s apart)",
			counted(len(pairs), "pair of sign-ins", "pairs of sign-ins"), fmtGap(o.Travel),
			cs[n.earlier], cs[n.later], fmtGap(es[n.later].Time.Sub(es[n.earlier].Time))),
		Severity: High,
		Events:   refs(top),
		Count:    len(top),
	}
}

func newCredentials(s snapshot, o Options) *Signal {
	var es []evidence.Event
	kinds := map[string]int{}
	for _, e := range s.events {
		if s.within(e.Time, credWindow) && isCredential(e) {
			es = append(es, e)
			kinds[strings.ToLower(e.System)+" "+e.Action]++
		}
	}
	if len(es) == 0 {
		return nil
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if kinds[names[i]] != kinds[names[j]] {
			return kinds[names[i]] > kinds[names[j]]
		}
		return names[i] < names[j]
	})
	for i, k := range names {
		if kinds[k] > 1 {
			names[i] = fmt.Sprintf("%s (%d)", k, kinds[k])
		}
	}
	sev := Elevated
	if len(es) >= o.CredentialsHigh {
		sev = High
	}
	return &Signal{
		Kind: KindNewCredentials,
		Summary: fmt.Sprintf("%s created in the last 14 days: %s",
			counted(len(es), "new credential", "new credentials"), strings.Join(names, ", ")),
		Severity: sev,
		Events:   refs(es),
		Count:    len(es),
	}
}

func oddHours(s snapshot, o Options) *Signal {
	if o.TimeZone == "" {
		return nil
	}
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		return nil
	}
	total := 0
	var odd []evidence.Event
	for _, e := range s.events {
		if !s.within(e.Time, week) {
			continue
		}
		total++
		if h := e.Time.In(loc).Hour(); h < 6 {
			odd = append(odd, e)
		}
	}
	if total < o.OddHoursMin {
		return nil
	}
	share := float64(len(odd)) / float64(total)
	if share < o.OddHoursShare-eps {
		return nil
	}
	return &Signal{
		Kind: KindOddHours,
		Summary: fmt.Sprintf("%d%% of %d events in the last 7 days (%d) were between 00:00 and 06:00 in %s",
			int(math.Round(share*100)), total, len(odd), o.TimeZone),
		Severity: Elevated,
		Events:   refs(odd),
		Count:    len(odd),
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func counted(n int, one, many string) string {
	return strconv.Itoa(n) + " " + plural(n, one, many)
}

// fmtNum writes a weekly average to one decimal, without a trailing ".0".
func fmtNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func fmtGap(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
