package signals

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, whatever the host has

	"github.com/offboard/offboard/evidence"
)

// cut is a Monday, 13:00 in New York (EST, UTC-5).
var cut = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)

const (
	homeCountry = "United States"
	homeASN     = "AS7922" // Comcast: an ordinary ISP, not risky
)

type evOpt func(*evidence.Event)

func target(t string) evOpt         { return func(e *evidence.Event) { e.Target = t } }
func country(c string) evOpt        { return func(e *evidence.Event) { e.Country = c } }
func asn(a string) evOpt            { return func(e *evidence.Event) { e.ASN = a } }
func outcome(o string) evOpt        { return func(e *evidence.Event) { e.Outcome = o } }
func home() evOpt                   { return func(e *evidence.Event) { e.Country, e.ASN = homeCountry, homeASN } }
func ip(s string) evOpt             { return func(e *evidence.Event) { e.SourceIP = s } }
func ago(d time.Duration) time.Time { return cut.Add(-d) }

func ev(t time.Time, system, action string, opts ...evOpt) evidence.Event {
	e := evidence.Event{Time: t, System: system, Action: action, Actor: "u1", SourceIP: "203.0.113.7"}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// ordinary is six weeks of an ordinary engineer in New York: on weekdays
// three Okta sign-ins, a Slack sign-in and two Drive views between 09:00
// and 17:00, and two clones a week (acme/api on Tuesdays, acme/web on
// Thursdays), all from home.
func ordinary() []evidence.Event {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	var es []evidence.Event
	for d := 1; d <= 41; d++ {
		day := cut.In(ny).AddDate(0, 0, -d)
		at := func(h, m int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, ny).UTC()
		}
		switch day.Weekday() {
		case time.Saturday, time.Sunday:
			continue
		case time.Tuesday:
			es = append(es, ev(at(10, 0), "github", "git.clone", target("acme/api"), home()))
		case time.Thursday:
			es = append(es, ev(at(10, 0), "github", "git.clone", target("acme/web"), home()))
		}
		es = append(es,
			ev(at(9, 5), "okta", "user.session.start", home()),
			ev(at(13, 30), "okta", "user.authentication.sso", target("Slack"), home()),
			ev(at(16, 45), "okta", "user.session.start", home()),
			ev(at(9, 10), "slack", "user_login", home()),
			ev(at(11, 0), "google", "drive:view", target("Roadmap"), home()),
			ev(at(15, 20), "google", "drive:view", target("Design doc"), home()),
		)
	}
	return es
}

func ordinaryOptions() Options {
	return Options{Cut: cut, Since: ago(42 * 24 * time.Hour), TimeZone: "America/New_York"}
}

func astrillASN(t *testing.T) string {
	t.Helper()
	for a, name := range DefaultRiskyASNs {
		if strings.Contains(name, "Astrill") {
			return a
		}
	}
	t.Fatal("DefaultRiskyASNs has no Astrill VPN entry")
	return ""
}

func kinds(a Assessment) []string {
	var ks []string
	for _, s := range a.Signals {
		ks = append(ks, s.Kind)
	}
	return ks
}

func signal(t *testing.T, a Assessment, kind string) Signal {
	t.Helper()
	for _, s := range a.Signals {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no %s signal; have %v, reasons %q", kind, kinds(a), a.Reasons)
	return Signal{}
}

func noSignal(t *testing.T, a Assessment, kind string) {
	t.Helper()
	for _, s := range a.Signals {
		if s.Kind == kind {
			t.Fatalf("unexpected %s signal: %q", kind, s.Summary)
		}
	}
}

func hasRef(s Signal, f func(Ref) bool) bool {
	for _, r := range s.Events {
		if f(r) {
			return true
		}
	}
	return false
}

func TestOrdinaryPersonIsLow(t *testing.T) {
	es := ordinary()
	a := Assess(es, ordinaryOptions())
	if a.Level != Low || a.RecommendHostile || len(a.Signals) != 0 || len(a.Reasons) != 0 {
		t.Fatalf("ordinary person: level %s hostile %v signals %v reasons %q", a.Level, a.RecommendHostile, kinds(a), a.Reasons)
	}
	// The odd-hours detector saw enough events to judge (it is not low
	// merely for want of data).
	n := 0
	for _, e := range es {
		if e.Time.After(ago(7*24*time.Hour)) && !e.Time.After(cut) {
			n++
		}
	}
	if n < 20 {
		t.Fatalf("fixture has %d events in the last week; want ≥ 20 so odd-hours is judged", n)
	}
}

// scriptedInsider is the ordinary person, plus in the last week dozens of
// clones of distinct repositories from Astrill, an Okta session from
// Astrill and a new personal access token two days before the cut.
func scriptedInsider(t *testing.T) []evidence.Event {
	vpn := astrillASN(t)
	es := ordinary()
	for i := 0; i < 34; i++ {
		at := ago(3*24*time.Hour + time.Duration(i)*7*time.Minute) // 13:00 back to 09:09 in New York
		es = append(es, ev(at, "github", "git.clone", target(fmt.Sprintf("acme/secret-%02d", i)),
			country("US"), asn(vpn), ip("198.51.100.9")))
	}
	es = append(es,
		ev(ago(4*24*time.Hour), "okta", "user.session.start", country(homeCountry), asn(vpn), ip("198.51.100.9")),
		ev(ago(2*24*time.Hour), "github", "personal_access_token.create", target("acme"), home()),
	)
	return es
}

func TestScriptedInsiderIsHigh(t *testing.T) {
	vpn := astrillASN(t)
	a := Assess(scriptedInsider(t), ordinaryOptions())
	if a.Level != High || !a.RecommendHostile {
		t.Fatalf("level %s hostile %v; reasons %q", a.Level, a.RecommendHostile, a.Reasons)
	}
	if want := []string{KindBulkClone, KindRiskyNetwork, KindNewCredentials}; !reflect.DeepEqual(kinds(a), want) {
		t.Fatalf("kinds %v, want %v (reasons %q)", kinds(a), want, a.Reasons)
	}
	if len(a.Reasons) != len(a.Signals) {
		t.Fatalf("%d reasons for %d signals", len(a.Reasons), len(a.Signals))
	}
	for i, s := range a.Signals {
		if a.Reasons[i] != s.Summary {
			t.Errorf("reason %d %q is not signal %s's summary %q", i, a.Reasons[i], s.Kind, s.Summary)
		}
		if len(s.Events) == 0 || len(s.Events) > MaxRefs || s.Count < len(s.Events) {
			t.Errorf("%s: %d events, count %d", s.Kind, len(s.Events), s.Count)
		}
	}

	bc := signal(t, a, KindBulkClone)
	// 34 secret repositories plus acme/api and acme/web, cloned as every
	// week; the five earlier weeks had 2 distinct repositories each.
	if want := "36 distinct repositories cloned in the last 7 days (earlier weeks: 2 a week; 36 clones, fetches and zip downloads)"; bc.Summary != want {
		t.Errorf("bulk-clone summary %q, want %q", bc.Summary, want)
	}
	if bc.Severity != High || bc.Count != 36 || len(bc.Events) != MaxRefs {
		t.Errorf("bulk-clone severity %s count %d events %d", bc.Severity, bc.Count, len(bc.Events))
	}
	seen := map[string]bool{}
	for i, r := range bc.Events {
		if r.System != "github" || r.Action != "git.clone" || seen[r.Target] {
			t.Errorf("bulk-clone event %d %+v: want a git.clone of a repository not listed before", i, r)
		}
		seen[r.Target] = true
		if i > 0 && r.Time.After(bc.Events[i-1].Time) {
			t.Errorf("bulk-clone events not newest first at %d", i)
		}
	}
	if !hasRef(bc, func(r Ref) bool { return strings.HasPrefix(r.Target, "acme/secret-") }) {
		t.Errorf("bulk-clone names none of the secret repositories: %+v", bc.Events)
	}

	rn := signal(t, a, KindRiskyNetwork)
	if rn.Severity != High || rn.Count != 35 {
		t.Errorf("risky-network severity %s count %d, want high 35", rn.Severity, rn.Count)
	}
	if !strings.Contains(rn.Summary, vpn+" Astrill VPN (35)") {
		t.Errorf("risky-network summary %q does not name %s Astrill VPN (35)", rn.Summary, vpn)
	}
	for _, r := range rn.Events {
		if r.ASN != vpn {
			t.Errorf("risky-network event %+v not from %s", r, vpn)
		}
	}

	nc := signal(t, a, KindNewCredentials)
	if nc.Severity != Elevated || nc.Count != 1 || len(nc.Events) != 1 ||
		nc.Events[0].Action != "personal_access_token.create" || !nc.Events[0].Time.Equal(ago(48*time.Hour)) {
		t.Errorf("new-credentials %+v", nc)
	}
	if !strings.Contains(nc.Summary, "github personal_access_token.create") {
		t.Errorf("new-credentials summary %q", nc.Summary)
	}
}

func TestDeterministic(t *testing.T) {
	es := scriptedInsider(t)
	want := Assess(es, ordinaryOptions())
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 5; i++ {
		shuffled := append([]evidence.Event(nil), es...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Assess(shuffled, ordinaryOptions()); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d changed the assessment:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestEmpty(t *testing.T) {
	for _, es := range [][]evidence.Event{nil, {}} {
		for _, o := range []Options{{}, ordinaryOptions()} {
			a := Assess(es, o)
			if a.Level != Low || a.RecommendHostile || a.Reasons == nil || len(a.Reasons) != 0 || a.Signals == nil || len(a.Signals) != 0 {
				t.Fatalf("empty input %v with %+v: %+v", es, o, a)
			}
		}
	}
}

func TestVolumeEdges(t *testing.T) {
	clones := func(n int, from time.Duration, prefix string) []evidence.Event {
		var es []evidence.Event
		for i := 0; i < n; i++ {
			es = append(es, ev(ago(from+time.Duration(i)*time.Minute), "github", "git.clone", target(fmt.Sprintf("%s-%d", prefix, i))))
		}
		return es
	}
	// historyOf(n): four earlier weeks with n distinct repositories each
	// (an average of n), the same n each week.
	historyOf := func(n int) []evidence.Event {
		var es []evidence.Event
		for w := 1; w <= 4; w++ {
			es = append(es, clones(n, time.Duration(w*7+1)*24*time.Hour, "old")...)
		}
		return es
	}
	history := func() []evidence.Event { return historyOf(4) }
	day := 24 * time.Hour
	histOpts := Options{Cut: cut, Since: ago(5 * 7 * day)}
	// noCountHigh isolates the ratio: the count alone never makes it high.
	noCountHigh := Options{Cut: cut, Since: ago(5 * 7 * day), CloneHigh: 1000}
	drive := func(n int) []evidence.Event {
		var es []evidence.Event
		for i := 0; i < n; i++ {
			act := []string{"drive:download", "drive:copy", "drive:export"}[i%3]
			es = append(es, ev(ago(day+time.Duration(i)*time.Minute), "google", act, target(fmt.Sprintf("doc %d", i%7))))
		}
		return es
	}
	s3 := func(n int) []evidence.Event {
		var es []evidence.Event
		for i := 0; i < n; i++ {
			es = append(es, ev(ago(day+time.Duration(i)*time.Second), "aws", "s3.amazonaws.com:GetObject", target("arn:aws:s3:::acme-data")))
		}
		return es
	}
	slack := func(n int) []evidence.Event {
		var es []evidence.Event
		for i := 0; i < n; i++ {
			es = append(es, ev(ago(2*day+time.Duration(i)*time.Minute), "slack", "file_downloaded", target(fmt.Sprintf("f%d.pdf", i))))
		}
		return es
	}
	cases := []struct {
		name   string
		events []evidence.Event
		o      Options
		kind   string
		want   Level // Low: no signal
	}{
		{"9 distinct clones, no history", clones(9, day, "r"), Options{Cut: cut}, KindBulkClone, Low},
		{"10 distinct clones, no history", clones(10, day, "r"), Options{Cut: cut}, KindBulkClone, Elevated},
		{"24 distinct clones, no history", clones(24, day, "r"), Options{Cut: cut}, KindBulkClone, Elevated},
		{"25 distinct clones, no history", clones(25, day, "r"), Options{Cut: cut}, KindBulkClone, High},
		{"30 clones of one repository", func() []evidence.Event {
			var es []evidence.Event
			for i := 0; i < 30; i++ {
				es = append(es, ev(ago(day+time.Duration(i)*time.Hour), "github", "git.fetch", target("acme/api")))
			}
			return es
		}(), Options{Cut: cut}, KindBulkClone, Low},
		{"11 vs 4 a week (< 3x)", append(history(), clones(11, day, "new")...), histOpts, KindBulkClone, Low},
		{"12 vs 4 a week (3x)", append(history(), clones(12, day, "new")...), histOpts, KindBulkClone, Elevated},
		{"19 vs 4 a week (< 5x)", append(history(), clones(19, day, "new")...), histOpts, KindBulkClone, Elevated},
		{"20 vs 4 a week (5x)", append(history(), clones(20, day, "new")...), histOpts, KindBulkClone, High},
		{"12 clones from exactly 7 days ago back are not last week", clones(12, 7*day, "r"), Options{Cut: cut, Since: ago(14 * day)}, KindBulkClone, Low},
		{"10 clones from just under 7 days ago are last week", clones(10, 7*day-10*time.Minute, "r"), Options{Cut: cut, Since: ago(14 * day)}, KindBulkClone, Elevated},
		{"clones after the cut are ignored", clones(30, -day, "r"), Options{Cut: cut}, KindBulkClone, Low},
		{"29 vs 10 a week (< 3x)", append(historyOf(10), clones(29, day, "new")...), noCountHigh, KindBulkClone, Low},
		{"30 vs 10 a week (3x)", append(historyOf(10), clones(30, day, "new")...), noCountHigh, KindBulkClone, Elevated},
		{"19 drive", drive(19), Options{Cut: cut}, KindDriveExfil, Low},
		{"20 drive", drive(20), Options{Cut: cut}, KindDriveExfil, Elevated},
		{"10 drive + 10 s3", append(drive(10), s3(10)...), Options{Cut: cut}, KindDriveExfil, Elevated},
		{"99 s3", s3(99), Options{Cut: cut}, KindDriveExfil, Elevated},
		{"100 s3", s3(100), Options{Cut: cut}, KindDriveExfil, High},
		{"19 slack", slack(19), Options{Cut: cut}, KindSlackDownloads, Low},
		{"20 slack", slack(20), Options{Cut: cut}, KindSlackDownloads, Elevated},
		{"20 slack with SlackMin 21", slack(20), Options{Cut: cut, SlackMin: 21}, KindSlackDownloads, Low},
		{"99 slack", slack(99), Options{Cut: cut}, KindSlackDownloads, Elevated},
		{"100 slack", slack(100), Options{Cut: cut}, KindSlackDownloads, High},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Assess(c.events, c.o)
			if c.want == Low {
				noSignal(t, a, c.kind)
				return
			}
			s := signal(t, a, c.kind)
			if s.Severity != c.want {
				t.Fatalf("severity %s, want %s (%q)", s.Severity, c.want, s.Summary)
			}
			if s.Count == 0 || len(s.Events) == 0 || len(s.Events) > MaxRefs {
				t.Fatalf("count %d, %d events", s.Count, len(s.Events))
			}
		})
	}

	a := Assess(append(history(), clones(12, day, "new")...), histOpts)
	if got, want := signal(t, a, KindBulkClone).Summary, "12 distinct repositories cloned in the last 7 days (earlier weeks: 4 a week; 12 clones, fetches and zip downloads)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// Repositories cloned many times are listed once each, by their newest
	// clone.
	var again []evidence.Event
	for i := 0; i < 12; i++ {
		for round := 0; round < 3; round++ {
			again = append(again, ev(ago(day+time.Duration(i*3+round)*time.Minute), "github", "git.clone", target(fmt.Sprintf("r-%d", i))))
		}
	}
	s := signal(t, Assess(again, Options{Cut: cut}), KindBulkClone)
	if s.Count != 36 || len(s.Events) != MaxRefs || !strings.HasPrefix(s.Summary, "12 distinct repositories") {
		t.Fatalf("repeated clones: %+v", s)
	}
	listed := map[string]bool{}
	for _, r := range s.Events {
		var i int
		fmt.Sscanf(r.Target, "r-%d", &i)
		if listed[r.Target] || !r.Time.Equal(ago(day+time.Duration(i*3)*time.Minute)) {
			t.Errorf("repeated clones: %+v listed twice or not its newest clone", r)
		}
		listed[r.Target] = true
	}

	// Options.Since widens the baseline past the oldest event.
	a = Assess(clones(10, day, "r"), Options{Cut: cut, Since: ago(5 * 7 * day)})
	if got := signal(t, a, KindBulkClone).Summary; !strings.Contains(got, "(earlier weeks: 0 a week;") {
		t.Errorf("summary %q does not count the earlier weeks Since declares", got)
	}
	// Clones at the very start of the snapshot (exactly two weeks before
	// the cut, the oldest event) count in the first earlier week.
	start := clones(10, day, "r")
	for i := 0; i < 4; i++ {
		start = append(start, ev(ago(14*day), "github", "git.clone", target(fmt.Sprintf("old-%d", i))))
	}
	a = Assess(start, Options{Cut: cut})
	noSignal(t, a, KindBulkClone) // 10 < 3 × 4

	a = Assess(clones(10, day, "r"), Options{Cut: cut})
	if got := signal(t, a, KindBulkClone).Summary; !strings.Contains(got, "(no earlier weeks in the snapshot;") {
		t.Errorf("summary %q does not say there is no baseline", got)
	}
	a = Assess(drive(20), Options{Cut: cut})
	if got, want := signal(t, a, KindDriveExfil).Summary, "20 file downloads, copies and exports (Google Drive, S3) in the last 7 days (no earlier weeks in the snapshot; 7 distinct files)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestRiskyNetwork(t *testing.T) {
	vpn := astrillASN(t)
	login := func(a string, o ...evOpt) evidence.Event {
		return ev(ago(30*24*time.Hour), "okta", "user.session.start", append([]evOpt{asn(a), country("US")}, o...)...)
	}
	// Hosting only: elevated.
	a := Assess([]evidence.Event{login("as14061")}, Options{Cut: cut})
	s := signal(t, a, KindRiskyNetwork)
	if s.Severity != Elevated || a.Level != Elevated || a.RecommendHostile || !strings.Contains(s.Summary, "AS14061 DigitalOcean (1)") {
		t.Fatalf("hosting: %s %q, level %s", s.Severity, s.Summary, a.Level)
	}
	// Astrill, even a month ago: high; listed before the hosting events.
	a = Assess([]evidence.Event{login("AS14061"), login(strings.TrimPrefix(vpn, "AS"))}, Options{Cut: cut})
	s = signal(t, a, KindRiskyNetwork)
	if s.Severity != High || a.Level != High || s.Count != 2 || NormASN(s.Events[0].ASN) != vpn {
		t.Fatalf("astrill: %+v level %s", s, a.Level)
	}
	// A failed sign-in from Astrill is not the person's activity.
	a = Assess([]evidence.Event{login(vpn, outcome("failure"))}, Options{Cut: cut})
	noSignal(t, a, KindRiskyNetwork)
	// An operator's own list replaces the defaults; a name with Astrill in
	// it is hostile.
	o := Options{Cut: cut, RiskyASNs: map[string]string{"AS64500": "Astrill (from our feed)"}}
	a = Assess([]evidence.Event{login("AS64500"), login("AS14061")}, o)
	if s := signal(t, a, KindRiskyNetwork); s.Severity != High || s.Count != 1 {
		t.Fatalf("own list: %+v", s)
	}
	// An empty map turns it off.
	a = Assess([]evidence.Event{login(vpn)}, Options{Cut: cut, RiskyASNs: map[string]string{}})
	noSignal(t, a, KindRiskyNetwork)
}

func TestImpossibleTravel(t *testing.T) {
	t0 := ago(3 * 24 * time.Hour)
	signin := func(at time.Time, c string) evidence.Event {
		return ev(at, "okta", "user.session.start", country(c))
	}
	// 1h59m from the US to Germany: impossible.
	a := Assess([]evidence.Event{
		signin(t0, "United States"),
		ev(t0.Add(119*time.Minute), "okta", "user.authentication.sso", country("Germany")),
		ev(t0.Add(time.Hour), "github", "git.push", country("NL")), // not a sign-in
	}, Options{Cut: cut})
	s := signal(t, a, KindImpossibleTravel)
	if s.Severity != High || a.Level != High || !a.RecommendHostile || s.Count != 2 || len(s.Events) != 2 {
		t.Fatalf("impossible travel: %+v level %s", s, a.Level)
	}
	if s.Events[0].Country != "Germany" || s.Events[1].Country != "United States" {
		t.Errorf("events not later-first: %+v", s.Events)
	}
	if want := "impossible travel: 1 pair of sign-ins from different countries less than 2h apart in the last 7 days (newest: US then DE, 1h59m apart)"; s.Summary != want {
		t.Errorf("summary %q, want %q", s.Summary, want)
	}
	noSignal(t, a, KindManyCountries)

	// A chain US → DE → US: two pairs, three sign-ins, each listed once.
	a = Assess([]evidence.Event{signin(t0, "US"), signin(t0.Add(30*time.Minute), "DE"), signin(t0.Add(time.Hour), "US")}, Options{Cut: cut})
	s = signal(t, a, KindImpossibleTravel)
	if s.Count != 3 || len(s.Events) != 3 || !strings.HasPrefix(s.Summary, "impossible travel: 2 pairs of sign-ins") ||
		!s.Events[0].Time.Equal(t0.Add(time.Hour)) || !s.Events[2].Time.Equal(t0) {
		t.Errorf("chain: %+v", s)
	}

	// Exactly 2h apart is plausible.
	a = Assess([]evidence.Event{signin(t0, "US"), signin(t0.Add(2*time.Hour), "DE")}, Options{Cut: cut})
	noSignal(t, a, KindImpossibleTravel)
	// One country named two ways is one country.
	a = Assess([]evidence.Event{signin(t0, "United States"), ev(t0.Add(10*time.Minute), "google", "login:login_success", country("us"))}, Options{Cut: cut})
	noSignal(t, a, KindImpossibleTravel)
	// Failed sign-ins do not count.
	a = Assess([]evidence.Event{signin(t0, "US"), ev(t0.Add(time.Minute), "slack", "user_login", country("RU"), outcome("failure"))}, Options{Cut: cut})
	noSignal(t, a, KindImpossibleTravel)
	// A wider Travel threshold catches a wider gap.
	a = Assess([]evidence.Event{signin(t0, "US"), signin(t0.Add(3*time.Hour), "DE")}, Options{Cut: cut, Travel: 4 * time.Hour})
	signal(t, a, KindImpossibleTravel)
}

func TestManyCountries(t *testing.T) {
	day := 24 * time.Hour
	two := []evidence.Event{
		ev(ago(5*day), "okta", "user.session.start", country("US")),
		ev(ago(3*day), "aws", "signin.amazonaws.com:ConsoleLogin", country("France")),
	}
	a := Assess(two, Options{Cut: cut})
	noSignal(t, a, KindManyCountries)

	three := append(two, ev(ago(day), "google", "login:login_success", country("JP")))
	a = Assess(three, Options{Cut: cut})
	s := signal(t, a, KindManyCountries)
	if s.Severity != Elevated || a.Level != Elevated || s.Summary != "sign-ins from 3 countries in the last 7 days: FR, JP, US" || len(s.Events) != 3 {
		t.Fatalf("%+v level %s", s, a.Level)
	}
	noSignal(t, a, KindImpossibleTravel)

	// A sign-in from a third country eight days ago is outside the window.
	old := append(two, ev(ago(8*day), "google", "login:login_success", country("JP")))
	noSignal(t, Assess(old, Options{Cut: cut}), KindManyCountries)
}

func TestNewCredentials(t *testing.T) {
	day := 24 * time.Hour
	pat := ev(ago(2*day), "github", "personal_access_token.create")
	key := ev(ago(13*day+23*time.Hour), "aws", "iam.amazonaws.com:CreateAccessKey", target("AKIAEXAMPLE"))
	mfa := ev(ago(5*day), "okta", "user.mfa.factor.activate")
	oldKey := ev(ago(14*day+time.Hour), "github", "public_key.create")
	failed := ev(ago(day), "google", "token:authorize", outcome("failure"))
	tokenGrant := ev(ago(day), "okta", "app.oauth2.as.token.grant")

	a := Assess([]evidence.Event{pat, key, oldKey, failed, tokenGrant}, Options{Cut: cut})
	s := signal(t, a, KindNewCredentials)
	if s.Severity != Elevated || s.Count != 2 || a.Level != Elevated {
		t.Fatalf("two credentials: %+v", s)
	}
	if s.Events[0].Action != "personal_access_token.create" || s.Events[1].Action != "iam.amazonaws.com:CreateAccessKey" {
		t.Errorf("events not newest first: %+v", s.Events)
	}

	a = Assess([]evidence.Event{pat, key, mfa, oldKey}, Options{Cut: cut})
	s = signal(t, a, KindNewCredentials)
	if s.Severity != High || s.Count != 3 || a.Level != High {
		t.Fatalf("three credentials: %+v", s)
	}
	if want := "3 new credentials created in the last 14 days: aws iam.amazonaws.com:CreateAccessKey, github personal_access_token.create, okta user.mfa.factor.activate"; s.Summary != want {
		t.Errorf("summary %q, want %q", s.Summary, want)
	}

	// The window is (cut-14d, cut]: exactly 14 days before is outside.
	edge := ev(ago(14*day), "okta", "system.api_token.create")
	noSignal(t, Assess([]evidence.Event{oldKey, edge, tokenGrant, failed}, Options{Cut: cut}), KindNewCredentials)
}

func TestOddHours(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	// n events in the last week, odd of them at 02:00 Los Angeles time,
	// the rest at 11:00.
	events := func(n, odd int) []evidence.Event {
		var es []evidence.Event
		for i := 0; i < n; i++ {
			day := cut.In(la).AddDate(0, 0, -1-i%6)
			h := 11
			if i < odd {
				h = 2
			}
			at := time.Date(day.Year(), day.Month(), day.Day(), h, i%60, 0, 0, la).UTC()
			es = append(es, ev(at, "github", "git.push", target("acme/api")))
		}
		return es
	}
	zone := Options{Cut: cut, TimeZone: "America/Los_Angeles"}

	a := Assess(events(20, 20), zone)
	s := signal(t, a, KindOddHours)
	if s.Severity != Elevated || s.Count != 20 || len(s.Events) != MaxRefs {
		t.Fatalf("%+v", s)
	}
	if want := "100% of 20 events in the last 7 days (20) were between 00:00 and 06:00 in America/Los_Angeles"; s.Summary != want {
		t.Errorf("summary %q, want %q", s.Summary, want)
	}
	// Only the last 7 days count: daytime work ten days ago does not
	// dilute them.
	older := events(20, 20)
	for i := 0; i < 40; i++ {
		older = append(older, ev(ago(10*24*time.Hour+time.Duration(i)*time.Minute), "github", "git.push"))
	}
	if s := signal(t, Assess(older, zone), KindOddHours); s.Count != 20 {
		t.Errorf("older events counted: %+v", s)
	}
	// No zone: skipped. Another zone: the same hours are the afternoon.
	noSignal(t, Assess(events(20, 20), Options{Cut: cut}), KindOddHours)
	noSignal(t, Assess(events(20, 20), Options{Cut: cut, TimeZone: "Asia/Seoul"}), KindOddHours)
	noSignal(t, Assess(events(20, 20), Options{Cut: cut, TimeZone: "Not/AZone"}), KindOddHours)
	// Edges: 8 of 20 is 40%; 7 of 20 is not; 19 events are too few.
	if s := signal(t, Assess(events(20, 8), zone), KindOddHours); s.Count != 8 {
		t.Errorf("8 of 20: count %d", s.Count)
	}
	noSignal(t, Assess(events(20, 7), zone), KindOddHours)
	noSignal(t, Assess(events(19, 19), zone), KindOddHours)
}

func TestLevels(t *testing.T) {
	day := 24 * time.Hour
	countries := []evidence.Event{
		ev(ago(5*day), "okta", "user.session.start", country("US")),
		ev(ago(3*day), "okta", "user.session.start", country("FR")),
		ev(ago(1*day), "okta", "user.session.start", country("JP")),
	}
	cred := ev(ago(2*day), "google", "token:authorize", target("Some app"))
	hosting := ev(ago(20*day), "slack", "user_login", asn("AS24940"))

	two := Assess(append(append([]evidence.Event{}, countries...), cred), Options{Cut: cut})
	if two.Level != Elevated || two.RecommendHostile || len(two.Signals) != 2 {
		t.Fatalf("two elevated: %s %v", two.Level, kinds(two))
	}
	three := Assess(append(append([]evidence.Event{}, countries...), cred, hosting), Options{Cut: cut})
	if three.Level != High || !three.RecommendHostile || len(three.Signals) != 3 {
		t.Fatalf("three elevated: %s %v", three.Level, kinds(three))
	}
	if want := []string{KindManyCountries, KindNewCredentials, KindRiskyNetwork}; !reflect.DeepEqual(kinds(three), want) {
		t.Errorf("order %v, want %v (same severity: by kind)", kinds(three), want)
	}
	for _, s := range three.Signals {
		if s.Severity != Elevated {
			t.Errorf("%s is %s", s.Kind, s.Severity)
		}
	}
}

func TestZeroCutIsNewestEvent(t *testing.T) {
	var es []evidence.Event
	for i := 0; i < 12; i++ {
		es = append(es, ev(cut.Add(-time.Duration(i)*time.Hour), "github", "repo.download_zip", target(fmt.Sprintf("r%d", i))))
	}
	// An old event a month earlier gives the snapshot earlier weeks.
	es = append(es, ev(cut.Add(-30*24*time.Hour), "okta", "user.session.start"))
	s := signal(t, Assess(es, Options{}), KindBulkClone)
	if s.Count != 12 || !strings.Contains(s.Summary, "earlier weeks: 0 a week") {
		t.Fatalf("%+v", s)
	}
}

func TestNormASN(t *testing.T) {
	for in, want := range map[string]string{
		"AS9009": "AS9009", "as9009": "AS9009", " 9009 ": "AS9009", "AS09009": "AS9009",
		"": "", "AS": "", "ASX1": "", "M247": "", "AS0": "",
	} {
		if got := NormASN(in); got != want {
			t.Errorf("NormASN(%q) = %q, want %q", in, got, want)
		}
	}
}
