package indicators

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/signals"
)

// The kinds of a Match.
const (
	KindRepo        = "repo"
	KindFile        = "file"
	KindIP          = "ip"
	KindEmail       = "email"
	KindGitHubLogin = "github-login"
)

// Match is one indicator found in a person's events.
type Match struct {
	Indicator string `json:"indicator"`
	// Kind is KindRepo, KindFile, KindIP, KindEmail or KindGitHubLogin.
	Kind string `json:"kind"`
	// Events is how many of the person's events matched.
	Events int `json:"events"`
	// First and Last are the oldest and newest matching events' times.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Days are the distinct days (UTC, YYYY-MM-DD) of the matching
	// events, oldest first. The Summary names the busiest one and its
	// count.
	Days []string `json:"days"`
	// Summary is one human sentence: what the person did with the
	// indicator, how often, when, and from which risky network.
	Summary string `json:"summary"`
}

// MatchEvents matches a message's indicators against a person's events.
//
// Events whose Outcome is "failure", or that have no time, are not the
// person's activity and never match (as in package signals). The rules,
// all case-insensitive:
//   - a repo matches an event whose Target, without a ".git" suffix, is
//     the repo or ends with "/" or ":" and the repo (GitHub's targets are
//     "org/repo"; a URL or remote ends with it) — not "bigacme/api" for
//     "acme/api";
//   - a file matches an event whose Target's base name (after the last /
//     or \) is the file: Drive titles, Slack file names, S3 object keys
//     and ARNs;
//   - an IP matches an event whose SourceIP is the same address
//     (IPv4-mapped IPv6 and a port are read through);
//   - an email matches an event whose Actor or Target is the email, or
//     whose Actor ends with ":" and the email (AWS actors are
//     "account:user name");
//   - a GitHub login matches a GitHub event whose Actor or Target is the
//     login.
//
// URLs and wallets are not matched: events do not carry them.
//
// risky maps ASNs to names, as signals.Options.RiskyASNs does ("AS9009",
// "9009" and "as9009" are the same); nil means signals.DefaultRiskyASNs and
// an empty map names no networks. When most of an indicator's events came
// from risky ASNs, its Summary names them.
//
// Only indicators that matched are returned, sorted by Events (most
// first), then Indicator, then Kind.
func MatchEvents(ind Indicators, events []evidence.Event, risky map[string]string) []Match {
	if risky == nil {
		risky = signals.DefaultRiskyASNs
	}
	names := map[string]string{}
	keys := make([]string, 0, len(risky))
	for k := range risky {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if n := signals.NormASN(k); n != "" {
			if _, dup := names[n]; !dup {
				names[n] = risky[k]
			}
		}
	}

	var es []evidence.Event
	for _, e := range events {
		if !e.Time.IsZero() && !strings.EqualFold(e.Outcome, "failure") {
			es = append(es, e)
		}
	}
	idx := newEventIndex(es)

	out := []Match{}
	add := func(kind, indicator, key string, byKey map[string][]int, seen map[string]bool) {
		if key == "" || seen[key] {
			return
		}
		seen[key] = true
		if hits := byKey[key]; len(hits) > 0 {
			out = append(out, newMatch(kind, indicator, es, hits, names))
		}
	}
	seen := map[string]bool{}
	for _, r := range ind.Repos {
		add(KindRepo, r, repoKey(r), idx.repo, seen)
	}
	seen = map[string]bool{}
	for _, f := range ind.Files {
		add(KindFile, f, strings.ToLower(f), idx.file, seen)
	}
	seen = map[string]bool{}
	for _, s := range ind.IPs {
		add(KindIP, s, ipKey(s), idx.ip, seen)
	}
	seen = map[string]bool{}
	for _, m := range ind.Emails {
		add(KindEmail, m, strings.ToLower(strings.TrimSpace(m)), idx.account, seen)
	}
	seen = map[string]bool{}
	for _, l := range ind.GitHubLogins {
		add(KindGitHubLogin, l, strings.ToLower(strings.TrimSpace(l)), idx.githubAccount, seen)
	}

	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Events != b.Events {
			return a.Events > b.Events
		}
		if a.Indicator != b.Indicator {
			return a.Indicator < b.Indicator
		}
		return a.Kind < b.Kind
	})
	return out
}

// eventIndex maps each matching key to the (ascending, distinct) indexes
// of the events it matches.
type eventIndex struct {
	repo, file, ip, account, githubAccount map[string][]int
}

func newEventIndex(es []evidence.Event) eventIndex {
	x := eventIndex{repo: map[string][]int{}, file: map[string][]int{}, ip: map[string][]int{},
		account: map[string][]int{}, githubAccount: map[string][]int{}}
	put := func(m map[string][]int, key string, i int) {
		if key == "" {
			return
		}
		if l := m[key]; len(l) > 0 && l[len(l)-1] == i {
			return
		}
		m[key] = append(m[key], i)
	}
	for i, e := range es {
		if t := repoKey(e.Target); t != "" {
			put(x.repo, t, i)
			// Every suffix after a "/" or ":": github.com/acme/api is
			// acme/api and api.
			for j := 0; j < len(t); j++ {
				if t[j] == '/' || t[j] == ':' {
					put(x.repo, t[j+1:], i)
				}
			}
		}
		put(x.file, strings.ToLower(baseName(strings.TrimSpace(e.Target))), i)
		put(x.ip, ipKey(e.SourceIP), i)
		actor := strings.ToLower(strings.TrimSpace(e.Actor))
		target := strings.ToLower(strings.TrimSpace(e.Target))
		accounts := []string{actor, target}
		if j := strings.LastIndexByte(actor, ':'); j >= 0 {
			accounts = append(accounts, actor[j+1:])
		}
		for _, a := range accounts {
			put(x.account, a, i)
		}
		if strings.EqualFold(e.System, "github") {
			put(x.githubAccount, actor, i)
			put(x.githubAccount, target, i)
		}
	}
	return x
}

// repoKey is a repository or target, lower-cased, without surrounding
// slashes and a ".git" suffix.
func repoKey(s string) string {
	s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), "/")
	return strings.TrimSuffix(s, ".git")
}

// ipKey is an address in net/netip's canonical form (IPv4-mapped IPv6 as
// IPv4, without a zone or port), or "" if s is not one.
func ipKey(s string) string {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return ""
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("").String()
}

func newMatch(kind, indicator string, es []evidence.Event, hits []int, risky map[string]string) Match {
	m := Match{Indicator: indicator, Kind: kind, Events: len(hits)}
	perDay := map[string]int{}
	verbs := map[string]int{}
	perASN := map[string]int{}
	for n, i := range hits {
		e := es[i]
		t := e.Time.UTC()
		if n == 0 || t.Before(m.First) {
			m.First = t
		}
		if n == 0 || t.After(m.Last) {
			m.Last = t
		}
		perDay[t.Format(time.DateOnly)]++
		verbs[verb(e.System, e.Action)]++
		if a := signals.NormASN(e.ASN); a != "" {
			if _, ok := risky[a]; ok {
				perASN[a]++
			}
		}
	}
	for d := range perDay {
		m.Days = append(m.Days, d)
	}
	sort.Strings(m.Days)
	m.Summary = summary(m, perDay, verbs, perASN, risky)
	return m
}

// summary writes a Match's sentence, e.g. "the message names
// acme/payments-api, cloned by the person 31 times on 2026-11-20 from an
// Astrill VPN IP (AS58546)".
func summary(m Match, perDay, verbs, perASN map[string]int, risky map[string]string) string {
	var b strings.Builder
	b.WriteString("the message names ")
	if m.Kind == KindGitHubLogin {
		b.WriteString("the GitHub login ")
	}
	b.WriteString(m.Indicator)

	network, all := riskyPhrase(m.Events, perASN, risky)
	switch m.Kind {
	case KindRepo, KindFile:
		vs := sortedCounts(verbs)
		if len(vs) == 1 {
			fmt.Fprintf(&b, ", %s by the person %s", vs[0].key, times(vs[0].n))
		} else {
			fmt.Fprintf(&b, ", %s by the person", verbList(vs))
		}
		b.WriteString(" " + dayPhrase(m, perDay))
		if network != "" {
			if !all {
				b.WriteString(" mostly")
			}
			b.WriteString(" from " + network)
		}
	case KindIP:
		if network != "" {
			b.WriteString(", " + network + ",")
		}
		fmt.Fprintf(&b, " the source IP of %s (%s) %s", ofEvents(m.Events), verbList(sortedCounts(verbs)), dayPhrase(m, perDay))
	default:
		fmt.Fprintf(&b, ", which appears in %s (%s) %s", ofEvents(m.Events), verbList(sortedCounts(verbs)), dayPhrase(m, perDay))
		if network != "" {
			if !all {
				b.WriteString(" mostly")
			}
			b.WriteString(" from " + network)
		}
	}
	return b.String()
}

// ofEvents is "one of the person's events" or "12 of the person's events".
func ofEvents(n int) string {
	if n == 1 {
		return "one of the person's events"
	}
	return strconv.Itoa(n) + " of the person's events"
}

// dayPhrase is "on D", or "between D1 and D2" with the busiest day when
// one day has more events than any other.
func dayPhrase(m Match, perDay map[string]int) string {
	if len(m.Days) == 1 {
		return "on " + m.Days[0]
	}
	s := fmt.Sprintf("between %s and %s", m.Days[0], m.Days[len(m.Days)-1])
	if ds := sortedCounts(perDay); ds[0].n > ds[1].n {
		s += fmt.Sprintf(" (%d on %s)", ds[0].n, ds[0].key)
	}
	return s
}

// riskyPhrase names the risky networks most of n events came from (more
// than half): "an Astrill VPN IP (AS58546)" when one ASN has most of them,
// else "anonymising VPN or hosting IPs (...)"; all reports whether every
// event did. It is "" when most did not.
func riskyPhrase(n int, perASN map[string]int, risky map[string]string) (phrase string, all bool) {
	total := 0
	for _, c := range perASN {
		total += c
	}
	if 2*total <= n {
		return "", false
	}
	as := sortedCounts(perASN)
	if 2*as[0].n > n {
		name := providerName(risky[as[0].key])
		return fmt.Sprintf("%s %s IP (%s)", article(name), name, as[0].key), as[0].n == n
	}
	if len(as) > 3 {
		as = as[:3]
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = providerName(risky[a.key]) + " " + a.key
	}
	return "anonymising VPN or hosting IPs (" + strings.Join(parts, ", ") + ")", total == n
}

// providerName drops a trailing parenthetical: "M247 (hosts many
// commercial VPNs)" is "M247".
func providerName(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, " ("); i > 0 {
			s = s[:i]
		}
	}
	if s == "" {
		return "unnamed"
	}
	return s
}

// article is "an" before a vowel or a letter read as a vowel sound in an
// acronym (an M247, an OVH), else "a".
func article(s string) string {
	if s == "" {
		return "a"
	}
	c := s[0] | 0x20
	if strings.IndexByte("aeiou", c) >= 0 {
		return "an"
	}
	if len(s) > 1 && strings.IndexByte("fhlmnrsx", c) >= 0 && (s[1] >= 'A' && s[1] <= 'Z' || isDigit(s[1])) {
		return "an"
	}
	return "a"
}

type count struct {
	key string
	n   int
}

// sortedCounts orders counts most first, then by key (later days and
// later keys last).
func sortedCounts(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].key < out[j].key
	})
	return out
}

// verbList is "cloned 25 times and fetched twice": at most three verbs,
// the rest as "otherwise used N times".
func verbList(vs []count) string {
	var parts []string
	rest := 0
	for i, v := range vs {
		if i < 3 {
			parts = append(parts, v.key+" "+times(v.n))
		} else {
			rest += v.n
		}
	}
	if rest > 0 {
		parts = append(parts, "otherwise used "+times(rest))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// verbs are readable past participles of the connectors' actions.
var verbs = map[string]string{
	// GitHub audit log.
	"git.clone":         "cloned",
	"git.fetch":         "fetched",
	"git.push":          "pushed to",
	"repo.download_zip": "downloaded as a zip",
	"repo.create":       "created",
	"repo.destroy":      "deleted",
	"repo.archived":     "archived",
	"repo.transfer":     "transferred",
	"repo.rename":       "renamed",
	// Google Workspace (application:event).
	"drive:download":           "downloaded",
	"drive:copy":               "copied",
	"drive:export":             "exported",
	"drive:view":               "viewed",
	"drive:edit":               "edited",
	"drive:create":             "created",
	"drive:upload":             "uploaded",
	"drive:delete":             "deleted",
	"drive:trash":              "trashed",
	"drive:print":              "printed",
	"drive:rename":             "renamed",
	"drive:move":               "moved",
	"drive:change_user_access": "shared",
	"login:login_success":      "signed in",
	"token:authorize":          "authorized an app",
	// AWS CloudTrail (source:name).
	"s3.amazonaws.com:GetObject":        "downloaded",
	"s3.amazonaws.com:PutObject":        "uploaded",
	"s3.amazonaws.com:CopyObject":       "copied",
	"s3.amazonaws.com:DeleteObject":     "deleted",
	"signin.amazonaws.com:ConsoleLogin": "signed in",
	// Slack audit log.
	"file_downloaded":          "downloaded",
	"file_shared":              "shared",
	"file_uploaded":            "uploaded",
	"file_public_link_created": "shared by public link",
	"user_login":               "signed in",
	// Okta system log.
	"user.session.start": "signed in",
}

// verb is an action's readable verb, else the action's name.
func verb(system, action string) string {
	if v, ok := verbs[action]; ok {
		return v
	}
	if strings.EqualFold(system, "okta") && strings.HasPrefix(action, "user.authentication.") {
		return "authenticated"
	}
	if action == "" {
		return "used"
	}
	return action
}
