package indicators

import (
	"reflect"
	"testing"
	"time"

	"github.com/offboard/offboard/evidence"
)

func day(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }

func event(t time.Time, system, action, target string, opts ...func(*evidence.Event)) evidence.Event {
	e := evidence.Event{Time: t, System: system, Actor: "jdoe", Action: action, Target: target,
		SourceIP: "198.51.100.7", ASN: "AS7922"}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func from(ip, asn string) func(*evidence.Event) {
	return func(e *evidence.Event) { e.SourceIP, e.ASN = ip, asn }
}

func actor(a string) func(*evidence.Event) { return func(e *evidence.Event) { e.Actor = a } }
func failed(e *evidence.Event)             { e.Outcome = "failure" }

func TestMatchEventsRepo(t *testing.T) {
	var es []evidence.Event
	for i := 0; i < 30; i++ {
		es = append(es, event(day(20, 2, i), "github", "git.clone", "acme/payments-api", from("203.0.113.9", "AS58546")))
	}
	es = append(es,
		// A URL-shaped target with .git counts; case does not matter.
		event(day(20, 3, 0), "github", "git.clone", "github.com/ACME/payments-api.git", from("203.0.113.9", "as58546")),
		// Another repository whose name ends the same way does not.
		event(day(20, 3, 1), "github", "git.clone", "bigacme/payments-api", from("203.0.113.9", "AS58546")),
		// A failed clone is not the person's activity.
		event(day(20, 3, 2), "github", "git.clone", "acme/payments-api", from("203.0.113.9", "AS58546"), failed),
		// Nor is an event without a time.
		event(time.Time{}, "github", "git.clone", "acme/payments-api"),
	)
	got := MatchEvents(Indicators{Repos: []string{"acme/payments-api"}}, es, nil)
	want := []Match{{
		Indicator: "acme/payments-api", Kind: KindRepo, Events: 31,
		First: day(20, 2, 0), Last: day(20, 3, 0), Days: []string{"2026-11-20"},
		Summary: "the message names acme/payments-api, cloned by the person 31 times on 2026-11-20 from an Astrill VPN IP (AS58546)",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// An empty risky map names no network.
	if got := MatchEvents(Indicators{Repos: []string{"acme/payments-api"}}, es, map[string]string{}); len(got) != 1 ||
		got[0].Summary != "the message names acme/payments-api, cloned by the person 31 times on 2026-11-20" {
		t.Errorf("with no risky ASNs: %+v", got)
	}
}

func TestMatchEventsFileSpan(t *testing.T) {
	const title = "Q3 Forecast.xlsx"
	es := []evidence.Event{
		event(day(18, 9, 0), "google", "drive:download", title),
		event(day(19, 9, 0), "google", "drive:download", "q3 forecast.XLSX"),
		event(day(20, 9, 0), "google", "drive:download", title),
		event(day(20, 9, 5), "google", "drive:export", title),
		event(day(20, 9, 10), "aws", "s3.amazonaws.com:GetObject", "arn:aws:s3:::acme-finance/2026/Q3 Forecast.xlsx"),
		event(day(20, 9, 15), "google", "drive:view", "Q3 Forecast.xlsx.bak"),
	}
	got := MatchEvents(Indicators{Files: []string{title}}, es, nil)
	if len(got) != 1 {
		t.Fatalf("got %d matches, want 1: %+v", len(got), got)
	}
	m := got[0]
	if m.Events != 5 || !m.First.Equal(day(18, 9, 0)) || !m.Last.Equal(day(20, 9, 10)) ||
		!reflect.DeepEqual(m.Days, []string{"2026-11-18", "2026-11-19", "2026-11-20"}) {
		t.Errorf("match = %+v", m)
	}
	want := "the message names Q3 Forecast.xlsx, downloaded 4 times and exported once by the person between 2026-11-18 and 2026-11-20 (3 on 2026-11-20)"
	if m.Summary != want {
		t.Errorf("summary = %q\nwant      %q", m.Summary, want)
	}
}

func TestMatchEventsIP(t *testing.T) {
	risky := map[string]string{"9009": "M247 (hosts many commercial VPNs)"}
	es := []evidence.Event{
		event(day(19, 8, 0), "okta", "user.session.start", "", from("203.0.113.9", "AS9009")),
		event(day(19, 8, 1), "okta", "user.session.start", "", from("::ffff:203.0.113.9", "AS9009")),
		event(day(19, 8, 2), "slack", "user_login", "", from("203.0.113.9:51234", "9009")),
		event(day(19, 8, 3), "github", "git.clone", "acme/api", from("203.0.113.9", "AS9009")),
		event(day(19, 8, 4), "github", "git.clone", "acme/api", from("203.0.113.90", "AS9009")),
	}
	got := MatchEvents(Indicators{IPs: []string{"203.0.113.9"}}, es, risky)
	if len(got) != 1 {
		t.Fatalf("got %d matches, want 1: %+v", len(got), got)
	}
	want := "the message names 203.0.113.9, an M247 IP (AS9009), the source IP of 4 of the person's events (signed in 3 times and cloned once) on 2026-11-19"
	if got[0].Events != 4 || got[0].Kind != KindIP || got[0].Summary != want {
		t.Errorf("got %+v\nwant summary %q", got[0], want)
	}
}

func TestMatchEventsAccounts(t *testing.T) {
	es := []evidence.Event{
		// Drive shared with the outside address, twice.
		event(day(18, 10, 0), "google", "drive:change_user_access", "jane@evil.example"),
		event(day(18, 10, 5), "google", "drive:change_user_access", "JANE@evil.example"),
		// An AWS console sign-in by that user name (actor account:user).
		event(day(19, 10, 0), "aws", "signin.amazonaws.com:ConsoleLogin", "", actor("123456789012:jane@evil.example"),
			from("203.0.113.5", "AS58546")),
		// The GitHub login, as actor and as target; the same name in Okta
		// is not a GitHub login.
		event(day(20, 1, 0), "github", "git.clone", "acme/api", actor("jdoe-alt")),
		event(day(20, 1, 5), "github", "org.add_member", "jdoe-alt"),
		event(day(20, 1, 6), "okta", "user.session.start", "", actor("jdoe-alt")),
	}
	ind := Indicators{Emails: []string{"jane@evil.example"}, GitHubLogins: []string{"JDoe-Alt"},
		URLs: []string{"https://evil.example"}, Wallets: []Wallet{{ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"}}}
	got := MatchEvents(ind, es, nil)
	want := []Match{
		{Indicator: "jane@evil.example", Kind: KindEmail, Events: 3, First: day(18, 10, 0), Last: day(19, 10, 0),
			Days:    []string{"2026-11-18", "2026-11-19"},
			Summary: "the message names jane@evil.example, which appears in 3 of the person's events (shared twice and signed in once) between 2026-11-18 and 2026-11-19 (2 on 2026-11-18)"},
		{Indicator: "JDoe-Alt", Kind: KindGitHubLogin, Events: 2, First: day(20, 1, 0), Last: day(20, 1, 5),
			Days:    []string{"2026-11-20"},
			Summary: "the message names the GitHub login JDoe-Alt, which appears in 2 of the person's events (cloned once and org.add_member once) on 2026-11-20"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestMatchEventsMostlyRiskyAndOrder(t *testing.T) {
	es := []evidence.Event{
		event(day(20, 1, 0), "github", "git.clone", "acme/web-app", from("203.0.113.1", "AS58546")),
		event(day(20, 1, 1), "github", "git.fetch", "acme/web-app", from("203.0.113.1", "AS58546")),
		event(day(20, 1, 2), "github", "git.fetch", "acme/web-app", from("203.0.113.1", "AS58546")),
		event(day(20, 1, 3), "github", "repo.download_zip", "acme/web-app"),
		// Two repositories with two events each, and from two hosting
		// networks that together (not one alone) carry most events.
		event(day(20, 2, 0), "github", "git.clone", "acme/b-repo", from("203.0.113.2", "AS14061")),
		event(day(20, 2, 1), "github", "git.clone", "acme/b-repo", from("203.0.113.3", "AS24940")),
		event(day(20, 2, 0), "github", "git.clone", "acme/a-repo"),
		event(day(20, 2, 1), "github", "git.clone", "acme/a-repo"),
	}
	got := MatchEvents(Indicators{Repos: []string{"acme/b-repo", "acme/web-app", "acme/a-repo", "acme/none", "ACME/web-app"}}, es, nil)
	var order []string
	for _, m := range got {
		order = append(order, m.Indicator)
	}
	if want := []string{"acme/web-app", "acme/a-repo", "acme/b-repo"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order = %q, want %q (most events first, then by name; duplicates once)", order, want)
	}
	if want := "the message names acme/web-app, fetched twice, cloned once and downloaded as a zip once by the person on 2026-11-20 mostly from an Astrill VPN IP (AS58546)"; got[0].Summary != want {
		t.Errorf("summary = %q\nwant      %q", got[0].Summary, want)
	}
	if want := "the message names acme/a-repo, cloned by the person twice on 2026-11-20"; got[1].Summary != want {
		t.Errorf("summary = %q\nwant      %q", got[1].Summary, want)
	}
	if want := "the message names acme/b-repo, cloned by the person twice on 2026-11-20 from anonymising VPN or hosting IPs (DigitalOcean AS14061, Hetzner AS24940)"; got[2].Summary != want {
		t.Errorf("summary = %q\nwant      %q", got[2].Summary, want)
	}
}

func TestMatchEventsNone(t *testing.T) {
	es := []evidence.Event{event(day(20, 1, 0), "github", "git.clone", "acme/api")}
	got := MatchEvents(Indicators{Repos: []string{"acme/web"}, IPs: []string{"203.0.113.1"}, Files: []string{"x.pdf"}}, es, nil)
	if got == nil || len(got) != 0 {
		t.Errorf("got %#v, want an empty, non-nil slice", got)
	}
}

func TestArticle(t *testing.T) {
	for name, want := range map[string]string{
		"Astrill VPN": "an", "M247": "an", "OVH": "an", "Amazon": "an",
		"DigitalOcean": "a", "Hetzner": "a", "Vultr / Choopa": "a", "Datacamp / CDN77": "a",
	} {
		if got := article(name); got != want {
			t.Errorf("article(%q) = %q, want %q", name, got, want)
		}
	}
}
