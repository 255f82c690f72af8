package slack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/emulators/emutest"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

var dec1 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const givenID = "0f6c1d0e-9a8b-4c7d-8e6f-5a4b3c2d1e0f"

// scenario is three Audit Logs API entries as Slack serves them: a file
// download with a field Slack does not have, a channel entity, and an
// entry with an id of its own.
func scenario() []map[string]any {
	actor := func(id, name string) map[string]any {
		return map[string]any{"type": "user", "user": map[string]any{"id": id, "name": name, "email": strings.ToLower(name) + "@example.com", "team": "T0DEMO0001"}}
	}
	ctx := map[string]any{"location": map[string]any{"type": "workspace", "id": "T0DEMO0001", "name": "example", "domain": "example"},
		"ua": "Mozilla/5.0 (X11; Linux x86_64)", "ip_address": "192.0.2.81", "session_id": 4242}
	return []map[string]any{
		{
			"date_create": dec1.Unix(), "action": "file_downloaded", "actor": actor(ada, "Ada"),
			"entity":  map[string]any{"type": "file", "file": map[string]any{"id": "F0SECRET01", "name": "payroll.xlsx", "filetype": "xlsx", "title": "Payroll"}},
			"context": ctx, "x_scenario": map[string]any{"step": 1},
		},
		{
			"date_create": dec1.Add(time.Hour).Unix(), "action": "public_channel_created", "actor": actor(ada, "Ada"),
			"entity":  map[string]any{"type": "channel", "channel": map[string]any{"id": "C0EXFIL001", "name": "exfil", "privacy": "public", "is_shared": false, "is_org_shared": false}},
			"context": ctx, "details": map[string]any{"is_internal_integration": true},
		},
		{
			"id": givenID, "date_create": dec1.Add(2 * time.Hour).Unix(), "action": "user_login", "actor": actor(grace, "Grace"),
			"entity": map[string]any{"type": "user", "user": map[string]any{"id": grace, "name": "Grace"}}, "context": ctx,
		},
	}
}

func TestInjectedAuditEntries(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	before := f.srv.State().AuditEventCount
	given := scenario()
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"entries": given}, 3)
	if n := f.srv.State().AuditEventCount; n != before+3 {
		t.Fatalf("%d entries, want %d", n, before+3)
	}

	// Served as given (plus the id) by the raw API, newest first.
	r := f.call(t, http.MethodGet, "/audit/v1/logs?oldest="+itoa(int(dec1.Unix())), slackemu.DefaultAdminToken, nil, "")
	var body struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal([]byte(r.raw), &body); err != nil || len(body.Entries) != 3 {
		t.Fatalf("entries since December: %s", r.raw)
	}
	for i, want := range given {
		got := body.Entries[2-i]
		var w map[string]any
		b, _ := json.Marshal(want)
		json.Unmarshal(b, &w)
		if _, ok := w["id"]; !ok {
			w["id"] = got["id"]
		}
		if !reflect.DeepEqual(got, w) {
			gb, _ := json.Marshal(got)
			t.Errorf("entry %d served\n%s\nwant as given plus id\n%s", i, gb, b)
		}
	}
	if body.Entries[0]["id"] != givenID || body.Entries[1]["id"] == "" || body.Entries[1]["id"] == body.Entries[2]["id"] {
		t.Errorf("ids %v %v %v", body.Entries[0]["id"], body.Entries[1]["id"], body.Entries[2]["id"])
	}

	// Through slack-go, with its filters and cursor paging.
	oldest := int(dec1.Unix())
	paged, pages := auditEntries(t, f.admin(), sdk.AuditLogParameters{Oldest: oldest, Limit: 1})
	if pages != 3 || len(paged) != 3 || paged[2].Entity.File.Name != "payroll.xlsx" || paged[1].Entity.Channel.ID != "C0EXFIL001" || paged[0].Context.IPAddress != "192.0.2.81" {
		t.Fatalf("paged by one: %d pages, %+v", pages, paged)
	}
	cases := map[string]struct {
		p    sdk.AuditLogParameters
		want []string
	}{
		"actor":          {sdk.AuditLogParameters{Oldest: oldest, Actor: ada}, []string{"public_channel_created", "file_downloaded"}},
		"action":         {sdk.AuditLogParameters{Oldest: oldest, Action: "user_login,file_downloaded"}, []string{"user_login", "file_downloaded"}},
		"entity file":    {sdk.AuditLogParameters{Entity: "F0SECRET01"}, []string{"file_downloaded"}},
		"entity channel": {sdk.AuditLogParameters{Entity: "C0EXFIL001"}, []string{"public_channel_created"}},
		"latest":         {sdk.AuditLogParameters{Oldest: oldest, Latest: int(dec1.Add(time.Hour).Unix())}, []string{"public_channel_created", "file_downloaded"}},
		"window, actor":  {sdk.AuditLogParameters{Actor: grace, Oldest: oldest, Latest: int(dec1.Add(3 * time.Hour).Unix())}, []string{"user_login"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			es, _ := auditEntries(t, f.admin(), c.p)
			var acts []string
			for _, e := range es {
				acts = append(acts, e.Action)
			}
			if !slices.Equal(acts, c.want) {
				t.Errorf("%v, want %v", acts, c.want)
			}
		})
	}
	all, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{})
	if len(all) != before+3 {
		t.Errorf("%d entries in all, want %d", len(all), before+3)
	}
}

func TestInjectedAuditEntriesRefused(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"entries": scenario()[2:]}, 1)
	before := f.srv.State().AuditEventCount
	good := func() map[string]any {
		return map[string]any{"date_create": dec1.Unix(), "action": "user_logout", "actor": map[string]any{"type": "user", "user": map[string]any{"id": ada}}}
	}
	with := func(k string, v any) map[string]any { return emutest.With(good(), k, v) }
	cases := map[string]struct {
		ev    map[string]any
		field string
		words []string
	}{
		"no date_create":       {with("date_create", nil), "date_create", []string{"entries[1].date_create", "required"}},
		"date_create in ms":    {with("date_create", dec1.UnixMilli()), "date_create", []string{"seconds"}},
		"date_create a string": {with("date_create", "1795680000"), "date_create", []string{"want an integer"}},
		"no action":            {with("action", nil), "action", []string{"required"}},
		"no actor":             {with("actor", nil), "actor.user.id", []string{"required"}},
		"actor user id number": {with("actor", map[string]any{"user": map[string]any{"id": 5}}), "actor.user.id", []string{"want a string"}},
		"entity without type":  {with("entity", map[string]any{"user": map[string]any{"id": ada}}), "entity.type", []string{"required"}},
		"entity member string": {with("entity", map[string]any{"type": "app", "app": "A1"}), "entity.app", []string{"want an object"}},
		"ip not a string":      {with("context", map[string]any{"ip_address": 1}), "context.ip_address", []string{"want a string"}},
		"id taken":             {with("id", givenID), "id", []string{"already"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			emutest.WantRefused(t, f.ts.URL, map[string]any{"entries": []any{good(), c.ev}}, 1, c.field, c.words...)
		})
	}
	if status, a := emutest.PostEvents(t, f.ts.URL, map[string]any{"events": []any{good()}}); status != 400 || !strings.Contains(a.Error, `want {"entries"`) {
		t.Errorf("Okta's key: %d %+v", status, a)
	}
	if n := f.srv.State().AuditEventCount; n != before {
		t.Errorf("refused requests appended: %d entries, want %d", n, before)
	}
}

func TestInjectedAuditEntriesSavedAndLoaded(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	emutest.MustPostEvents(t, f.ts.URL, map[string]any{"entries": scenario()}, 3)
	g := setup(t, slackemu.Options{})
	saved := emutest.CopyState(t, f.srv, g.srv)
	path := "/audit/v1/logs?oldest=" + itoa(int(dec1.Unix()))
	a := f.call(t, http.MethodGet, path, slackemu.DefaultAdminToken, nil, "").raw
	b := g.call(t, http.MethodGet, path, slackemu.DefaultAdminToken, nil, "").raw
	if a != b || !strings.Contains(b, "x_scenario") {
		t.Errorf("after load:\n%s\nbefore:\n%s", b, a)
	}
	if es, _ := auditEntries(t, g.admin(), sdk.AuditLogParameters{Entity: "C0EXFIL001"}); len(es) != 1 {
		t.Errorf("entity filter after load: %d entries", len(es))
	}
	var again bytes.Buffer
	if err := g.srv.SaveState(&again); err != nil || !bytes.Equal(again.Bytes(), saved) {
		t.Errorf("save after load differs (%v)", err)
	}
}
