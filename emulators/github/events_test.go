package github_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/emulators/emutest"
	ghemu "github.com/offboard/offboard/emulators/github"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

var dec1 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// scenario is three audit entries as GitHub serves them: a Git clone with
// token fields and one GitHub does not have, a web event timed by
// created_at, and an event by an actor the emulator does not know.
func scenario() []map[string]any {
	return []map[string]any{
		{
			"action": "git.clone", "actor": edsger, "org": "acme", "@timestamp": ms(dec1),
			"repo": "acme/secret", "repository": "acme/secret", "actor_ip": "192.0.2.9",
			"actor_location": map[string]any{"country_code": "PT"}, "transport_protocol_name": "ssh",
			"hashed_token": "n9Tq0b3Y5x0w2JmGzQ8lV7Z0Bq9pD3mO6fKc1sA2eR4=", "token_id": 4242,
			"programmatic_access_type": "SSH key", "user_agent": "git/2.47.0",
			"x_scenario": map[string]any{"step": 1, "note": "exfiltration"},
		},
		{
			"action": "repo.download_zip", "actor": edsger, "org": "acme", "created_at": ms(dec1.Add(time.Hour)),
			"repo": "acme/secret", "actor_ip": "192.0.2.9", "user_agent": "curl/8.5.0",
		},
		{
			"action": "org.update_member", "actor": "ghost-bot", "org": "acme", "@timestamp": ms(dec1.Add(2 * time.Hour)),
			"created_at": dec1.Add(2 * time.Hour).Format(time.RFC3339), "user": ada, "permission": "admin",
		},
	}
}

func TestInjectedAuditEntries(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	before := auditActions(t, c, "acme", "")
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": scenario()}, 3)

	since := " created:>=2026-12-01"
	got := auditEntries(t, c, "acme", "actor:"+edsger+since, "all", "asc", 1)
	if len(got) != 2 || got[0].GetAction() != "git.clone" || got[1].GetAction() != "repo.download_zip" {
		t.Fatalf("edsger's December, paged by one: %d entries", len(got))
	}
	clone := got[0]
	u, _ := s.User(edsger)
	if clone.GetActorID() != u.ID || clone.GetOrgID() == 0 || clone.GetDocumentID() == "" || !clone.GetTimestamp().Time.Equal(dec1) || !clone.GetCreatedAt().Time.Equal(dec1) {
		t.Errorf("clone entry %+v", clone)
	}
	if clone.GetHashedToken() != "n9Tq0b3Y5x0w2JmGzQ8lV7Z0Bq9pD3mO6fKc1sA2eR4=" || clone.GetTokenID() != 4242 || clone.GetActorLocation().GetCountryCode() != "PT" {
		t.Errorf("clone token fields %+v", clone)
	}
	if x, _ := clone.AdditionalFields["x_scenario"].(map[string]any); x["note"] != "exfiltration" || clone.AdditionalFields["transport_protocol_name"] != "ssh" || clone.AdditionalFields["user_agent"] != "git/2.47.0" {
		t.Errorf("unknown fields not kept: %v", clone.AdditionalFields)
	}
	if !got[1].GetCreatedAt().Time.Equal(dec1.Add(time.Hour)) || got[1].Timestamp == nil {
		t.Errorf("created_at entry %+v", got[1])
	}

	cases := map[string]struct {
		phrase, include, order string
		want                   []string
	}{
		"git only":         {"actor:" + edsger + since, "git", "desc", []string{"git.clone"}},
		"web only":         {"actor:" + edsger + since, "web", "desc", []string{"repo.download_zip"}},
		"default web, all": {since, "", "desc", []string{"org.update_member", "repo.download_zip"}},
		"desc":             {since, "all", "desc", []string{"org.update_member", "repo.download_zip", "git.clone"}},
		"field qualifier":  {"repo:acme/secret", "all", "asc", []string{"git.clone", "repo.download_zip"}},
		"number field":     {"token_id:4242", "all", "asc", []string{"git.clone"}},
		"unknown field":    {"permission:admin", "all", "asc", []string{"org.update_member"}},
		"user":             {"user:" + ada + since, "all", "asc", []string{"org.update_member"}},
		"action category":  {"action:repo" + since, "all", "asc", []string{"repo.download_zip"}},
		"created window":   {"created:2026-12-01T10:30:00Z..2026-12-01T11:30:00Z", "all", "asc", []string{"repo.download_zip"}},
		"bare word":        {"ghost-bot", "all", "asc", []string{"org.update_member"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var acts []string
			for _, e := range auditEntries(t, c, "acme", tc.phrase, tc.include, tc.order, 2) {
				acts = append(acts, e.GetAction())
			}
			if !slices.Equal(acts, tc.want) {
				t.Errorf("%v, want %v", acts, tc.want)
			}
		})
	}
	bot := auditEntries(t, c, "acme", "actor:ghost-bot", "all", "asc", 10)
	a, _ := s.User(ada)
	if len(bot) != 1 || bot[0].ActorID != nil || bot[0].GetUser() != ada || bot[0].GetUserID() != a.ID {
		t.Errorf("unknown actor's entry %+v", bot)
	}
	if n := len(auditActions(t, c, "acme-labs", "created:>=2026-12-01")); n != 0 {
		t.Errorf("%d entries in acme-labs", n)
	}
	if after := auditActions(t, c, "acme", ""); len(after) != len(before)+3 || !slices.Equal(after[:len(before)], before) {
		t.Errorf("seeded history changed: %d entries before, %d after", len(before), len(after))
	}
}

func TestInjectedAuditEntriesRefused(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	count := func() int {
		n := 0
		for _, o := range s.State().Orgs {
			n += o.AuditEvents
		}
		return n
	}
	before := count()
	good := func() map[string]any {
		return map[string]any{"action": "repo.create", "actor": ada, "org": "acme", "@timestamp": ms(dec1)}
	}
	with := func(k string, v any) map[string]any { return emutest.With(good(), k, v) }
	cases := map[string]struct {
		ev    map[string]any
		field string
		words []string
	}{
		"no time":            {with("@timestamp", nil), "@timestamp", []string{"events[1].@timestamp", "required"}},
		"seconds":            {with("@timestamp", dec1.Unix()), "@timestamp", []string{"seconds"}},
		"bad created_at":     {with("created_at", "tomorrow"), "created_at", []string{"RFC 3339"}},
		"times disagree":     {with("created_at", ms(dec1)+1000), "created_at", []string{"disagrees"}},
		"unknown org":        {with("org", "nope"), "org", []string{`"nope"`}},
		"no org":             {with("org", nil), "org", []string{"required"}},
		"org_id not the org": {with("org_id", 1), "org_id", []string{"acme"}},
		"no action":          {with("action", nil), "action", []string{"required"}},
		"actor_id a string":  {with("actor_id", "5009"), "actor_id", []string{"want an integer"}},
		"actor_location":     {with("actor_location", "PT"), "actor_location", []string{"want an object"}},
		"token_id fraction":  {with("token_id", 1.5), "token_id", []string{"want an integer"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			emutest.WantRefused(t, ts.URL, map[string]any{"events": []any{good(), c.ev}}, 1, c.field, c.words...)
		})
	}
	if n := count(); n != before {
		t.Errorf("refused requests appended: %d events, want %d", n, before)
	}
}

func TestInjectedAuditEntriesSavedAndLoaded(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": scenario()}, 3)
	s2, ts2 := start(t, nil, ghemu.Options{})
	saved := emutest.CopyState(t, s, s2)
	read := func(c *gh.Client) string {
		es := auditEntries(t, c, "acme", "created:>=2026-12-01", "all", "asc", 10)
		b, _ := json.Marshal(es)
		return string(b)
	}
	a, b := read(sdk(t, ts, "")), read(sdk(t, ts2, ""))
	if a != b || !strings.Contains(b, "exfiltration") {
		t.Errorf("after load:\n%s\nbefore:\n%s", b, a)
	}
	// Numbers read back from the state still match qualifiers.
	if es := auditEntries(t, sdk(t, ts2, ""), "acme", "token_id:4242", "all", "asc", 10); len(es) != 1 {
		t.Errorf("token_id qualifier after load: %d entries", len(es))
	}
	var again bytes.Buffer
	if err := s2.SaveState(&again); err != nil || !bytes.Equal(again.Bytes(), saved) {
		t.Errorf("save after load differs (%v)", err)
	}
}
