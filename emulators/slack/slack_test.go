package slack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// start is 30 s into a minute, so a full rate-limit window asks for 30 s.
var start = time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)

type fixture struct {
	srv   *slackemu.Server
	ts    *httptest.Server
	clock *clock
}

func setup(t *testing.T, opts slackemu.Options) *fixture {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: start}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	srv := slackemu.New(org, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &fixture{srv: srv, ts: ts, clock: clk}
}

// sdkClient is slack-go pointed at the emulator, with no retries.
func (f *fixture) sdkClient(token string) *sdk.Client {
	return sdk.New(token, sdk.OptionAPIURL(f.ts.URL+"/api/"), sdk.OptionAuditAPIURL(f.ts.URL+"/"), sdk.OptionHTTPClient(f.ts.Client()))
}

func (f *fixture) admin() *sdk.Client { return f.sdkClient(slackemu.DefaultAdminToken) }
func (f *fixture) bot() *sdk.Client   { return f.sdkClient(slackemu.DefaultBotToken) }

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends a raw request. A form is sent urlencoded; a string body as
// JSON.
func (f *fixture) call(t *testing.T, method, path, token string, form url.Values, jsonBody string) answer {
	t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case form != nil:
		body, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case jsonBody != "":
		body, ct = strings.NewReader(jsonBody), "application/json; charset=utf-8"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
		}
	}
	return a
}

func (a answer) slackError() string {
	if ok, _ := a.body["ok"].(bool); ok {
		return ""
	}
	s, _ := a.body["error"].(string)
	return s
}

func (a answer) scimError() (string, float64) {
	e, _ := a.body["Errors"].(map[string]any)
	d, _ := e["description"].(string)
	c, _ := e["code"].(float64)
	return d, c
}

func (f *fixture) user(t *testing.T, id string) slackemu.UserState {
	t.Helper()
	u, ok := f.srv.User(id)
	if !ok {
		t.Fatalf("emulator has no user %s", id)
	}
	return u
}

const (
	ada        = "U00001001" // E1001, 2 sessions
	grace      = "U00001002" // E1002
	dennis     = "U00001008" // E1008, deactivated
	slackUsers = 20          // people with a Slack account in the demo
)

func TestWebAPIAuth(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	cases := map[string]struct {
		path, token string
		form        url.Values
		want        string // "" means ok
	}{
		"bearer admin":        {"/api/auth.test", slackemu.DefaultAdminToken, url.Values{}, ""},
		"bearer bot":          {"/api/auth.test", slackemu.DefaultBotToken, url.Values{}, ""},
		"token form field":    {"/api/auth.test", "", url.Values{"token": {slackemu.DefaultBotToken}}, ""},
		"no token":            {"/api/users.info", "", url.Values{"user": {ada}}, "not_authed"},
		"wrong token":         {"/api/users.info", "xoxb-wrong", url.Values{"user": {ada}}, "invalid_auth"},
		"wrong form token":    {"/api/users.info", "", url.Values{"user": {ada}, "token": {"xoxp-nope"}}, "invalid_auth"},
		"bot on admin method": {"/api/admin.users.session.reset", slackemu.DefaultBotToken, url.Values{"user_id": {ada}}, "not_allowed_token_type"},
		"bot on session list": {"/api/admin.users.session.list", slackemu.DefaultBotToken, url.Values{}, "not_allowed_token_type"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := f.call(t, http.MethodPost, c.path, c.token, c.form, "")
			if a.status != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (Slack reports Web API errors in the body)", a.status)
			}
			if got := a.slackError(); got != c.want {
				t.Fatalf("error %q, want %q (body %s)", got, c.want, a.raw)
			}
		})
	}
	// Nothing was changed by the refused reset.
	if u := f.user(t, ada); u.Sessions != 2 {
		t.Errorf("sessions %d after refused reset, want 2", u.Sessions)
	}
}

func TestAuthTestWithSDK(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	cases := map[string]struct {
		c         *sdk.Client
		user, bot string
	}{
		"admin": {f.admin(), slackemu.AdminUserID, ""},
		"bot":   {f.bot(), slackemu.BotUserID, slackemu.BotID},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := c.c.AuthTestContext(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if r.UserID != c.user || r.BotID != c.bot || r.TeamID != "T0ACME0001" || r.EnterpriseID != "E0ACME0001" {
				t.Errorf("auth.test = %+v", r)
			}
			if r.Header.Get("X-OAuth-Scopes") == "" {
				t.Error("no X-OAuth-Scopes header")
			}
		})
	}
	_, err := f.sdkClient("xoxb-bad").AuthTestContext(t.Context())
	var se sdk.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_auth" {
		t.Errorf("bad token: %v, want invalid_auth", err)
	}
}

func TestUsersWithSDK(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	t.Run("info active", func(t *testing.T) {
		t.Parallel()
		u, err := f.bot().GetUserInfoContext(t.Context(), ada)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != ada || u.Deleted || u.Profile.Email != "ada.lovelace@example.com" || u.RealName != "Ada Lovelace" || u.TeamID != "T0ACME0001" {
			t.Errorf("user = %+v", u)
		}
		if u.Enterprise.EnterpriseID != "E0ACME0001" {
			t.Errorf("enterprise_user = %+v", u.Enterprise)
		}
	})
	t.Run("info deactivated", func(t *testing.T) {
		t.Parallel()
		u, err := f.bot().GetUserInfoContext(t.Context(), dennis)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Deleted {
			t.Error("deactivated user is not deleted")
		}
	})
	t.Run("admin flag", func(t *testing.T) {
		t.Parallel()
		u, err := f.bot().GetUserInfoContext(t.Context(), "U00001005")
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsAdmin || !u.Enterprise.IsAdmin {
			t.Errorf("seeded admin: is_admin %v, enterprise is_admin %v", u.IsAdmin, u.Enterprise.IsAdmin)
		}
	})
	errCases := map[string]struct {
		call func(c *sdk.Client) error
		want string
	}{
		"info unknown": {func(c *sdk.Client) error { _, err := c.GetUserInfoContext(t.Context(), "U99999999"); return err }, "user_not_found"},
		"lookup unknown": {func(c *sdk.Client) error {
			_, err := c.GetUserByEmailContext(t.Context(), "nobody@example.com")
			return err
		}, "users_not_found"},
		"lookup deactivated": {func(c *sdk.Client) error {
			_, err := c.GetUserByEmailContext(t.Context(), "dennis.ritchie@example.com")
			return err
		}, "users_not_found"},
		"lookup missing email": {func(c *sdk.Client) error { _, err := c.GetUserByEmailContext(t.Context(), ""); return err }, "invalid_arguments"},
	}
	for name, c := range errCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := c.call(f.bot())
			var se sdk.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != c.want {
				t.Fatalf("error %v, want %s", err, c.want)
			}
		})
	}
	t.Run("lookup case-insensitive", func(t *testing.T) {
		t.Parallel()
		u, err := f.bot().GetUserByEmailContext(t.Context(), "Grace.Hopper@Example.com")
		if err != nil || u.ID != grace {
			t.Fatalf("lookup = %v, %v", u, err)
		}
	})
	t.Run("email hidden without users:read.email", func(t *testing.T) {
		t.Parallel()
		g := setup(t, slackemu.Options{BotScopes: []string{"users:read"}})
		u, err := g.bot().GetUserInfoContext(t.Context(), ada)
		if err != nil {
			t.Fatal(err)
		}
		if u.Profile.Email != "" {
			t.Errorf("email %q shown without users:read.email", u.Profile.Email)
		}
		_, err = g.bot().GetUserByEmailContext(t.Context(), "ada.lovelace@example.com")
		var se sdk.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "missing_scope" || se.Needed != "users:read.email" {
			t.Errorf("lookup without scope: %#v", err)
		}
	})
}

func TestUsersListPagination(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	p := f.bot().GetUsersPaginated(sdk.GetUsersOptionLimit(6))
	var ids []string
	pages := 0
	var err error
	for {
		p, err = p.Next(t.Context())
		if p.Done(err) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range p.Users {
			ids = append(ids, u.ID)
		}
	}
	if pages != 4 || len(ids) != slackUsers {
		t.Fatalf("%d pages, %d users; want 4 pages, %d users", pages, len(ids), slackUsers)
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("ids not sorted and unique: %v", ids)
	}
	if !slices.Contains(ids, dennis) {
		t.Error("users.list leaves out the deactivated user")
	}
	a := f.call(t, http.MethodPost, "/api/users.list", slackemu.DefaultBotToken, url.Values{"cursor": {"bm90LWEtY3Vyc29y"}}, "")
	if got := a.slackError(); got != "invalid_cursor" {
		t.Errorf("bad cursor: %q, want invalid_cursor", got)
	}
	// No limit: everything in one page.
	all := f.call(t, http.MethodGet, "/api/users.list", slackemu.DefaultBotToken, nil, "")
	members, _ := all.body["members"].([]any)
	meta, _ := all.body["response_metadata"].(map[string]any)
	if len(members) != slackUsers || meta["next_cursor"] != "" {
		t.Errorf("unlimited list: %d members, next_cursor %v", len(members), meta["next_cursor"])
	}
}

func TestJSONAndGETBodies(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	a := f.call(t, http.MethodPost, "/api/users.info", slackemu.DefaultBotToken, nil, `{"user":"`+ada+`"}`)
	if a.slackError() != "" {
		t.Fatalf("JSON body: %s", a.raw)
	}
	// Slack ignores a token inside a JSON body.
	a = f.call(t, http.MethodPost, "/api/users.info", "", nil, `{"user":"`+ada+`","token":"`+slackemu.DefaultBotToken+`"}`)
	if got := a.slackError(); got != "not_authed" {
		t.Errorf("token in JSON body: %q, want not_authed", got)
	}
	a = f.call(t, http.MethodPost, "/api/users.info", slackemu.DefaultBotToken, nil, `[1,2]`)
	if got := a.slackError(); got != "invalid_json" {
		t.Errorf("JSON array body: %q, want invalid_json", got)
	}
	a = f.call(t, http.MethodGet, "/api/users.info?user="+ada, slackemu.DefaultBotToken, nil, "")
	if a.slackError() != "" {
		t.Errorf("GET with query: %s", a.raw)
	}
	a = f.call(t, http.MethodPost, "/api/users.nope", slackemu.DefaultBotToken, url.Values{}, "")
	if a.status != http.StatusNotFound || a.slackError() != "unknown_method" {
		t.Errorf("unknown method: HTTP %d %s", a.status, a.raw)
	}
}

// scimUsers pages through GET /scim/v2/Users.
func (f *fixture) scimUsers(t *testing.T, filter string, count int) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	total, pages := -1, 0
	for idx := 1; ; {
		q := url.Values{"startIndex": {itoa(idx)}, "count": {itoa(count)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		a := f.call(t, http.MethodGet, "/scim/v2/Users?"+q.Encode(), slackemu.DefaultAdminToken, nil, "")
		if a.status != http.StatusOK {
			t.Fatalf("SCIM list: HTTP %d %s", a.status, a.raw)
		}
		if a.body["startIndex"] != float64(idx) {
			t.Fatalf("startIndex %v, want %d", a.body["startIndex"], idx)
		}
		total = int(a.body["totalResults"].(float64))
		res, _ := a.body["Resources"].([]any)
		if int(a.body["itemsPerPage"].(float64)) != len(res) {
			t.Fatalf("itemsPerPage %v for %d resources", a.body["itemsPerPage"], len(res))
		}
		for _, r := range res {
			all = append(all, r.(map[string]any))
		}
		pages++
		idx += len(res)
		if len(res) == 0 || idx > total || pages > 50 {
			break
		}
	}
	return all, total
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSCIMPaginationAndFilters(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	users, total := f.scimUsers(t, "", 7)
	if total != slackUsers || len(users) != slackUsers {
		t.Fatalf("total %d, listed %d; want %d", total, len(users), slackUsers)
	}
	seen := map[string]bool{}
	for _, u := range users {
		id := u["id"].(string)
		if seen[id] {
			t.Errorf("user %s listed twice", id)
		}
		seen[id] = true
		if id == dennis && u["active"] != false {
			t.Errorf("deactivated user listed active")
		}
	}
	cases := map[string]struct {
		filter string
		want   []string
	}{
		"userName":       {`userName eq "ada.lovelace"`, []string{ada}},
		"email any case": {`email Eq "GRACE.HOPPER@example.com"`, []string{grace}},
		"emails.value":   {`emails.value eq "dennis.ritchie@example.com"`, []string{dennis}},
		"no match":       {`email eq "nobody@example.com"`, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, total := f.scimUsers(t, c.filter, 100)
			var ids []string
			for _, u := range got {
				ids = append(ids, u["id"].(string))
			}
			if total != len(c.want) || !slices.Equal(ids, c.want) {
				t.Errorf("filter %s: %v (total %d), want %v", c.filter, ids, total, c.want)
			}
		})
	}
	t.Run("bad filter", func(t *testing.T) {
		t.Parallel()
		a := f.call(t, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(`title co "x"`), slackemu.DefaultAdminToken, nil, "")
		if d, c := a.scimError(); a.status != http.StatusBadRequest || c != 400 || d != "invalid_filter" {
			t.Errorf("HTTP %d %s", a.status, a.raw)
		}
	})
}

func TestSCIMErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	noAdmin := setup(t, slackemu.Options{AdminScopes: []string{"users:read"}})
	cases := map[string]struct {
		f            *fixture
		method, path string
		token        string
		status       int
		desc         string
	}{
		"no token":         {f, http.MethodGet, "/scim/v2/Users", "", 401, "invalid_authentication"},
		"wrong token":      {f, http.MethodDelete, "/scim/v2/Users/" + ada, "xoxp-nope", 401, "invalid_authentication"},
		"bot token":        {f, http.MethodDelete, "/scim/v2/Users/" + ada, slackemu.DefaultBotToken, 403, "not_allowed_token_type"},
		"no admin scope":   {noAdmin, http.MethodDelete, "/scim/v2/Users/" + ada, slackemu.DefaultAdminToken, 403, "insufficient_permissions"},
		"unknown user":     {f, http.MethodGet, "/scim/v2/Users/U99999999", slackemu.DefaultAdminToken, 404, "user_not_found"},
		"unknown endpoint": {f, http.MethodGet, "/scim/v2/Widgets", slackemu.DefaultAdminToken, 404, "bad_endpoint"},
		"bad method":       {f, http.MethodPost, "/scim/v2/Users/" + ada, slackemu.DefaultAdminToken, 405, "method_not_allowed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := c.f.call(t, c.method, c.path, c.token, nil, "")
			d, code := a.scimError()
			if a.status != c.status || int(code) != c.status || d != c.desc {
				t.Errorf("HTTP %d %s, want %d %s", a.status, a.raw, c.status, c.desc)
			}
		})
	}
	for _, fx := range []*fixture{f, noAdmin} {
		if u := fx.user(t, ada); !u.Active {
			t.Error("a refused DELETE deactivated the user")
		}
	}
}

// auditEntries reads the whole audit log for the filter through slack-go.
func auditEntries(t *testing.T, c *sdk.Client, p sdk.AuditLogParameters) ([]sdk.AuditEntry, int) {
	t.Helper()
	var all []sdk.AuditEntry
	pages := 0
	for {
		entries, next, err := c.GetAuditLogsContext(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, entries...)
		if next == "" || pages > 100 {
			return all, pages
		}
		p.Cursor = next
	}
}

func TestSCIMDeactivateReactivateAndAudit(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	before := f.srv.State().AuditEventCount
	a := f.call(t, http.MethodDelete, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
	if a.status != http.StatusNoContent || a.raw != "" {
		t.Fatalf("DELETE: HTTP %d %q", a.status, a.raw)
	}
	if u := f.user(t, ada); u.Active || u.Sessions != 0 {
		t.Errorf("after DELETE: %+v, want inactive with no sessions", u)
	}
	g := f.call(t, http.MethodGet, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
	if g.status != http.StatusOK || g.body["active"] != false || g.body["id"] != ada {
		t.Errorf("GET after DELETE: %s", g.raw)
	}
	if u, err := f.bot().GetUserInfoContext(t.Context(), ada); err != nil || !u.Deleted {
		t.Errorf("users.info after DELETE: deleted=%v err=%v", u != nil && u.Deleted, err)
	}
	if again := f.call(t, http.MethodDelete, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, ""); again.status != http.StatusNoContent {
		t.Errorf("second DELETE: HTTP %d", again.status)
	}
	if n := f.srv.State().AuditEventCount; n != before+1 {
		t.Errorf("audit events %d, want %d (one deactivation)", n, before+1)
	}
	p := f.call(t, http.MethodPatch, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`)
	if p.status != http.StatusOK || p.body["active"] != true {
		t.Fatalf("PATCH active true: HTTP %d %s", p.status, p.raw)
	}
	p = f.call(t, http.MethodPatch, "/scim/v2/Users/"+grace, slackemu.DefaultAdminToken, nil,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":"False"}}]}`)
	if p.status != http.StatusOK || p.body["active"] != false {
		t.Fatalf("PATCH value object: HTTP %d %s", p.status, p.raw)
	}
	bad := f.call(t, http.MethodPatch, "/scim/v2/Users/"+grace, slackemu.DefaultAdminToken, nil, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`)
	if bad.status != http.StatusBadRequest {
		t.Errorf("PATCH title: HTTP %d", bad.status)
	}

	entries, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Action: "user_deactivated,user_reactivated"})
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Entity.User.ID)
		if e.Actor.User.ID != slackemu.AdminUserID || e.Actor.Type != "user" || e.Entity.Type != "user" || e.Context.Location.ID != "E0ACME0001" {
			t.Errorf("entry %+v", e)
		}
		if e.DateCreate != int(start.Unix()) {
			t.Errorf("date_create %d, want %d", e.DateCreate, start.Unix())
		}
	}
	want := []string{"user_deactivated " + grace, "user_reactivated " + ada, "user_deactivated " + ada}
	if !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want newest first %v", got, want)
	}
}

func TestSessionsListAndReset(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	list := func(t *testing.T, form url.Values) answer {
		t.Helper()
		return f.call(t, http.MethodPost, "/api/admin.users.session.list", slackemu.DefaultAdminToken, form, "")
	}
	sessions := func(a answer) []map[string]any {
		var out []map[string]any
		l, _ := a.body["active_sessions"].([]any)
		for _, s := range l {
			out = append(out, s.(map[string]any))
		}
		return out
	}
	a := list(t, url.Values{"user_id": {ada}, "team_id": {"T0ACME0001"}})
	ss := sessions(a)
	if a.slackError() != "" || len(ss) != 2 {
		t.Fatalf("list: %s", a.raw)
	}
	for _, s := range ss {
		if s["user_id"] != ada || s["team_id"] != "T0ACME0001" || s["session_id"].(float64) <= 0 {
			t.Errorf("session %v", s)
		}
		if c, _ := s["created"].(map[string]any); c["ip"] != "203.0.113.10" {
			t.Errorf("session created %v", s["created"])
		}
	}
	errCases := map[string]struct {
		form url.Values
		want string
	}{
		"user without team": {url.Values{"user_id": {ada}}, "invalid_arguments"},
		"unknown user":      {url.Values{"user_id": {"U99999999"}, "team_id": {"T0ACME0001"}}, "user_not_found"},
		"unknown team":      {url.Values{"user_id": {ada}, "team_id": {"T0OTHER001"}}, "team_not_found"},
		"bad cursor":        {url.Values{"cursor": {"!!"}}, "invalid_cursor"},
	}
	for name, c := range errCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := list(t, c.form).slackError(); got != c.want {
				t.Errorf("error %q, want %q", got, c.want)
			}
		})
	}
	// Org-wide listing pages by cursor.
	var all int
	cursor := ""
	for range 20 {
		form := url.Values{"limit": {"7"}}
		if cursor != "" {
			form.Set("cursor", cursor)
		}
		a := list(t, form)
		all += len(sessions(a))
		meta, _ := a.body["response_metadata"].(map[string]any)
		if cursor, _ = meta["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if want := 2 * (slackUsers - 1); all != want {
		t.Errorf("org-wide sessions %d, want %d", all, want)
	}

	reset := func(form url.Values) answer {
		return f.call(t, http.MethodPost, "/api/admin.users.session.reset", slackemu.DefaultAdminToken, form, "")
	}
	if a := reset(url.Values{"user_id": {ada}, "mobile_only": {"true"}}); a.slackError() != "" {
		t.Fatalf("mobile reset: %s", a.raw)
	}
	if u := f.user(t, ada); u.Sessions != 1 {
		t.Errorf("after mobile_only reset: %d sessions, want 1 (the desktop one)", u.Sessions)
	}
	if a := reset(url.Values{"user_id": {ada}}); a.slackError() != "" {
		t.Fatalf("reset: %s", a.raw)
	}
	if u := f.user(t, ada); u.Sessions != 0 || !u.Active {
		t.Errorf("after reset: %+v", u)
	}
	if got := reset(url.Values{"user_id": {"U99999999"}}).slackError(); got != "user_not_found" {
		t.Errorf("reset unknown: %q", got)
	}
	if got := reset(url.Values{}).slackError(); got != "invalid_arguments" {
		t.Errorf("reset without user: %q", got)
	}
	entries, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Action: "user_session_reset_by_admin", Entity: ada})
	if len(entries) != 2 || !entries[1].Details.MobileOnly || entries[0].Details.MobileOnly {
		t.Errorf("reset audit entries %+v, want two, the older mobile_only", entries)
	}
}

func TestChatPostAndUpdate(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	blocks := []sdk.Block{
		sdk.NewSectionBlock(sdk.NewTextBlockObject(sdk.MarkdownType, "*Offboard E1001?*", false, false), nil, nil),
		sdk.NewActionBlock("decision",
			sdk.NewButtonBlockElement("approve", "run-1", sdk.NewTextBlockObject(sdk.PlainTextType, "Approve", false, false)).WithStyle(sdk.StylePrimary),
			sdk.NewButtonBlockElement("deny", "run-1", sdk.NewTextBlockObject(sdk.PlainTextType, "Deny", false, false)).WithStyle(sdk.StyleDanger)),
	}
	ch, ts, err := f.bot().PostMessageContext(t.Context(), "C0APPROVALS", sdk.MsgOptionText("Offboard E1001?", false), sdk.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if ch != "C0APPROVALS" || !strings.HasPrefix(ts, itoa(int(start.Unix()))+".") {
		t.Errorf("channel %q ts %q", ch, ts)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 1 || msgs[0].User != slackemu.BotUserID || msgs[0].Text != "Offboard E1001?" {
		t.Fatalf("messages %+v", msgs)
	}
	var got []map[string]any
	if err := json.Unmarshal(msgs[0].Blocks, &got); err != nil || len(got) != 2 || got[1]["block_id"] != "decision" {
		t.Fatalf("recorded blocks %s (%v)", msgs[0].Blocks, err)
	}
	elems, _ := got[1]["elements"].([]any)
	if len(elems) != 2 || elems[0].(map[string]any)["action_id"] != "approve" || elems[1].(map[string]any)["style"] != "danger" {
		t.Errorf("recorded buttons %v", elems)
	}

	done := sdk.NewSectionBlock(sdk.NewTextBlockObject(sdk.MarkdownType, "Approved", false, false), nil, nil)
	_, ts2, _, err := f.bot().UpdateMessageContext(t.Context(), ch, ts, sdk.MsgOptionText("Approved", false), sdk.MsgOptionBlocks(done))
	if err != nil || ts2 != ts {
		t.Fatalf("update: ts %q err %v", ts2, err)
	}
	msgs = f.srv.Messages()
	if len(msgs) != 1 || len(msgs[0].Edits) != 1 || msgs[0].Text != "Approved" || countBlocks(t, msgs[0].Blocks) != 1 {
		t.Fatalf("after update %+v", msgs)
	}
	if st := f.srv.State().Messages; len(st) != 1 || st[0].Blocks != 1 || st[0].Edits != 1 || st[0].TS != ts {
		t.Errorf("state messages %+v", st)
	}

	// A DM to a user ID lands in a D conversation.
	dm, _, err := f.bot().PostMessageContext(t.Context(), ada, sdk.MsgOptionText("hi", false))
	if err != nil || !strings.HasPrefix(dm, "D") {
		t.Errorf("DM channel %q err %v", dm, err)
	}
	errCases := map[string]struct {
		call func() error
		want string
	}{
		"no text": {func() error { _, _, err := f.bot().PostMessageContext(t.Context(), "C0APPROVALS"); return err }, "no_text"},
		"no channel": {func() error {
			_, _, err := f.bot().PostMessageContext(t.Context(), "", sdk.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		"update unknown": {func() error {
			_, _, _, err := f.bot().UpdateMessageContext(t.Context(), ch, "1.000001", sdk.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		"update by another token": {func() error {
			_, _, _, err := f.admin().UpdateMessageContext(t.Context(), ch, ts, sdk.MsgOptionText("x", false))
			return err
		}, "cant_update_message"},
	}
	for name, c := range errCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var se sdk.SlackErrorResponse
			if err := c.call(); !errors.As(err, &se) || se.Err != c.want {
				t.Errorf("error %v, want %s", err, c.want)
			}
		})
	}
	bad := f.call(t, http.MethodPost, "/api/chat.postMessage", slackemu.DefaultBotToken, url.Values{"channel": {"C0X"}, "blocks": {"{not json"}}, "")
	if got := bad.slackError(); got != "invalid_blocks_format" {
		t.Errorf("bad blocks: %q", got)
	}
	// JSON body, the way Slack's JSON posting works.
	j := f.call(t, http.MethodPost, "/api/chat.postMessage", slackemu.DefaultBotToken, nil, `{"channel":"C0APPROVALS","blocks":[{"type":"divider"}]}`)
	if j.slackError() != "" || j.body["channel"] != "C0APPROVALS" {
		t.Errorf("JSON post: %s", j.raw)
	}
}

func countBlocks(t *testing.T, raw json.RawMessage) int {
	t.Helper()
	var bs []json.RawMessage
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatalf("blocks %s: %v", raw, err)
	}
	return len(bs)
}

func TestAuditLogFiltersAndPagination(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	all, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{})
	if len(all) != 2*(slackUsers) {
		t.Fatalf("%d seeded entries, want %d", len(all), 2*slackUsers)
	}
	for i := 1; i < len(all); i++ {
		if all[i].DateCreate > all[i-1].DateCreate {
			t.Fatalf("entries not newest first at %d", i)
		}
	}
	paged, pages := auditEntries(t, f.admin(), sdk.AuditLogParameters{Limit: 3})
	if pages != 14 || len(paged) != len(all) {
		t.Fatalf("limit 3: %d pages, %d entries; want 14 pages, %d", pages, len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID {
			t.Fatalf("paged entry %d is %s, want %s", i, paged[i].ID, all[i].ID)
		}
	}
	day1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		p    sdk.AuditLogParameters
		want []string // actions, newest first
	}{
		"actor":            {sdk.AuditLogParameters{Actor: ada}, []string{"file_downloaded", "user_login"}},
		"actor and action": {sdk.AuditLogParameters{Actor: ada, Action: "user_login,user_logout"}, []string{"user_login"}},
		"entity file":      {sdk.AuditLogParameters{Entity: "F00000000"}, []string{"file_downloaded"}},
		"oldest inclusive": {sdk.AuditLogParameters{Actor: ada, Oldest: int(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Unix())}, []string{"file_downloaded"}},
		"latest inclusive": {sdk.AuditLogParameters{Actor: ada, Latest: int(time.Date(2026, 11, 20, 8, 0, 10, 0, time.UTC).Unix())}, []string{"user_login"}},
		"window":           {sdk.AuditLogParameters{Actor: grace, Oldest: int(day1.Unix()), Latest: int(day1.Add(24 * time.Hour).Unix())}, []string{"user_login"}},
		"no match":         {sdk.AuditLogParameters{Actor: ada, Action: "user_logout"}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			es, _ := auditEntries(t, f.admin(), c.p)
			var got []string
			for _, e := range es {
				got = append(got, e.Action)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("actions %v, want %v", got, c.want)
			}
		})
	}
	login, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Actor: ada, Action: "user_login"})
	if len(login) != 1 || login[0].Context.IPAddress != "203.0.113.10" || login[0].Actor.User.Email != "ada.lovelace@example.com" || login[0].Context.Location.ID != "T0ACME0001" {
		t.Errorf("login entry %+v", login)
	}
	errCases := map[string]struct {
		c    *sdk.Client
		p    sdk.AuditLogParameters
		want string
	}{
		"bot token":     {f.bot(), sdk.AuditLogParameters{}, "not_allowed_token_type"},
		"wrong token":   {f.sdkClient("xoxp-nope"), sdk.AuditLogParameters{}, "invalid_auth"},
		"bad cursor":    {f.admin(), sdk.AuditLogParameters{Cursor: "bm9wZQ=="}, "invalid_cursor"},
		"inverted":      {f.admin(), sdk.AuditLogParameters{Oldest: 20, Latest: 10}, "invalid_range"},
		"limit too big": {f.admin(), sdk.AuditLogParameters{Limit: 10000}, "invalid_arguments"},
	}
	for name, c := range errCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := c.c.GetAuditLogsContext(t.Context(), c.p)
			var se sdk.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != c.want {
				t.Errorf("error %v, want %s", err, c.want)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("tier 2 web method", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{RateLimits: slackemu.RateLimits{Tier2: 2}})
		for i := range 2 {
			if _, err := f.bot().GetUsersPaginated(sdk.GetUsersOptionLimit(1)).Next(t.Context()); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		_, err := f.bot().GetUsersPaginated(sdk.GetUsersOptionLimit(1)).Next(t.Context())
		var rl *sdk.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
			t.Fatalf("third users.list: %v, want rate limited for 30s", err)
		}
		// Another method and another token have their own buckets.
		if _, err := f.bot().GetUserInfoContext(t.Context(), ada); err != nil {
			t.Errorf("users.info throttled with users.list: %v", err)
		}
		if _, err := f.admin().GetUsersPaginated(sdk.GetUsersOptionLimit(1)).Next(t.Context()); err != nil {
			t.Errorf("admin token throttled with the bot's: %v", err)
		}
		f.clock.Add(30 * time.Second)
		if _, err := f.bot().GetUsersPaginated(sdk.GetUsersOptionLimit(1)).Next(t.Context()); err != nil {
			t.Errorf("next minute: %v", err)
		}
	})
	t.Run("tier 2 admin method body", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{RateLimits: slackemu.RateLimits{Tier2: 1}})
		form := url.Values{"user_id": {ada}, "team_id": {"T0ACME0001"}}
		f.call(t, http.MethodPost, "/api/admin.users.session.list", slackemu.DefaultAdminToken, form, "")
		a := f.call(t, http.MethodPost, "/api/admin.users.session.list", slackemu.DefaultAdminToken, form, "")
		if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "30" || a.slackError() != "ratelimited" {
			t.Errorf("HTTP %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.raw)
		}
	})
	t.Run("tier 3 lookup", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{RateLimits: slackemu.RateLimits{Tier3: 1}})
		f.clock.Add(20 * time.Second)
		if _, err := f.bot().GetUserByEmailContext(t.Context(), "ada.lovelace@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := f.bot().GetUserByEmailContext(t.Context(), "ada.lovelace@example.com")
		var rl *sdk.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 10*time.Second {
			t.Fatalf("second lookup: %v, want 10s", err)
		}
	})
	t.Run("scim delete", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{RateLimits: slackemu.RateLimits{SCIMDelete: 1}})
		f.call(t, http.MethodDelete, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
		a := f.call(t, http.MethodDelete, "/scim/v2/Users/"+grace, slackemu.DefaultAdminToken, nil, "")
		if d, c := a.scimError(); a.status != http.StatusTooManyRequests || c != 429 || d != "too_many_requests" || a.header.Get("Retry-After") != "30" {
			t.Errorf("HTTP %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.raw)
		}
		if !f.user(t, grace).Active {
			t.Error("a throttled DELETE deactivated the user")
		}
		if g := f.call(t, http.MethodGet, "/scim/v2/Users/"+grace, slackemu.DefaultAdminToken, nil, ""); g.status != http.StatusOK {
			t.Errorf("SCIM read throttled by the delete limit: HTTP %d", g.status)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{RateLimits: slackemu.RateLimits{Tier2: -1}})
		for i := range 30 {
			if _, err := f.bot().GetUsersPaginated(sdk.GetUsersOptionLimit(1)).Next(t.Context()); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fault emu.Fault
		call  func(f *fixture, t *testing.T) error
		check func(t *testing.T, err error)
	}{
		"web 401 is invalid_auth": {
			emu.Fault{Path: `^/api/users\.info$`, Status: 401, Times: 1},
			func(f *fixture, t *testing.T) error {
				_, err := f.bot().GetUserInfoContext(t.Context(), ada)
				return err
			},
			func(t *testing.T, err error) {
				var se sdk.SlackErrorResponse
				if !errors.As(err, &se) || se.Err != "invalid_auth" {
					t.Errorf("%v", err)
				}
			},
		},
		"web 403 is missing_scope": {
			emu.Fault{Path: `^/api/users\.lookupByEmail$`, Status: 403},
			func(f *fixture, t *testing.T) error {
				_, err := f.bot().GetUserByEmailContext(t.Context(), "ada.lovelace@example.com")
				return err
			},
			func(t *testing.T, err error) {
				var se sdk.SlackErrorResponse
				if !errors.As(err, &se) || se.Err != "missing_scope" || se.Needed != "users:read.email" {
					t.Errorf("%#v", err)
				}
			},
		},
		"web 404 lookup": {
			emu.Fault{Path: `^/api/users\.lookupByEmail$`, Status: 404},
			func(f *fixture, t *testing.T) error {
				_, err := f.bot().GetUserByEmailContext(t.Context(), "ada.lovelace@example.com")
				return err
			},
			func(t *testing.T, err error) {
				var se sdk.SlackErrorResponse
				if !errors.As(err, &se) || se.Err != "users_not_found" {
					t.Errorf("%v", err)
				}
			},
		},
		"web 429 with Retry-After": {
			emu.Fault{Path: `^/api/users\.info$`, Status: 429, RetryAfter: 7},
			func(f *fixture, t *testing.T) error {
				_, err := f.bot().GetUserInfoContext(t.Context(), ada)
				return err
			},
			func(t *testing.T, err error) {
				var rl *sdk.RateLimitedError
				if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
					t.Errorf("%v", err)
				}
			},
		},
		"web 503": {
			emu.Fault{Path: `^/api/`, Status: 503},
			func(f *fixture, t *testing.T) error {
				_, err := f.bot().GetUserInfoContext(t.Context(), ada)
				return err
			},
			func(t *testing.T, err error) {
				var sc sdk.StatusCodeError
				if !errors.As(err, &sc) || sc.Code != 503 {
					t.Errorf("%v", err)
				}
			},
		},
		"audit 429": {
			emu.Fault{Path: `^/audit/`, Status: 429, RetryAfter: 12},
			func(f *fixture, t *testing.T) error {
				_, _, err := f.admin().GetAuditLogsContext(t.Context(), sdk.AuditLogParameters{})
				return err
			},
			func(t *testing.T, err error) {
				var rl *sdk.RateLimitedError
				if !errors.As(err, &rl) || rl.RetryAfter != 12*time.Second {
					t.Errorf("%v", err)
				}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, slackemu.Options{})
			if err := f.srv.Emulator().AddFault(c.fault); err != nil {
				t.Fatal(err)
			}
			c.check(t, c.call(f, t))
		})
	}
	t.Run("scim 404 and 503", func(t *testing.T) {
		t.Parallel()
		f := setup(t, slackemu.Options{})
		_ = f.srv.Emulator().AddFault(emu.Fault{Method: http.MethodDelete, Path: `^/scim/v2/Users/`, Status: 404, Times: 1})
		_ = f.srv.Emulator().AddFault(emu.Fault{Method: http.MethodGet, Path: `^/scim/v2/Users/`, Status: 503, RetryAfter: 4, Times: 1})
		a := f.call(t, http.MethodDelete, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
		if d, c := a.scimError(); a.status != 404 || c != 404 || d != "user_not_found" {
			t.Errorf("DELETE fault: HTTP %d %s", a.status, a.raw)
		}
		g := f.call(t, http.MethodGet, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
		if _, c := g.scimError(); g.status != 503 || c != 503 || g.header.Get("Retry-After") != "4" {
			t.Errorf("GET fault: HTTP %d %v %s", g.status, g.header, g.raw)
		}
		if !f.user(t, ada).Active {
			t.Error("a faulted DELETE changed state")
		}
		// The faults cleared after one use each.
		if g := f.call(t, http.MethodGet, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, ""); g.status != 200 {
			t.Errorf("after faults: HTTP %d", g.status)
		}
	})
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	f.call(t, http.MethodDelete, "/scim/v2/Users/"+ada, slackemu.DefaultAdminToken, nil, "")
	f.call(t, http.MethodPost, "/api/admin.users.session.reset", slackemu.DefaultAdminToken, url.Values{"user_id": {grace}}, "")
	if _, _, err := f.bot().PostMessageContext(t.Context(), "C0APPROVALS", sdk.MsgOptionText("x", false), sdk.MsgOptionBlocks(sdk.NewDividerBlock())); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()
	g := setup(t, slackemu.Options{})
	if err := g.srv.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	a, b := f.srv.State(), g.srv.State()
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if !bytes.Equal(aj, bj) {
		t.Errorf("state after load differs:\n%s\n%s", aj, bj)
	}
	if u := g.user(t, ada); u.Active {
		t.Error("loaded state lost the deactivation")
	}
	if m := g.srv.Messages(); len(m) != 1 || countBlocks(t, m[0].Blocks) != 1 {
		t.Errorf("loaded messages %+v", m)
	}
	// The audit log came along, and new IDs do not collide with old ones.
	before, _ := auditEntries(t, g.admin(), sdk.AuditLogParameters{})
	g.call(t, http.MethodDelete, "/scim/v2/Users/"+grace, slackemu.DefaultAdminToken, nil, "")
	after, _ := auditEntries(t, g.admin(), sdk.AuditLogParameters{})
	ids := map[string]bool{}
	for _, e := range after {
		if ids[e.ID] {
			t.Errorf("audit ID %s used twice", e.ID)
		}
		ids[e.ID] = true
	}
	if len(after) != len(before)+1 {
		t.Errorf("audit entries %d after one more deactivation, had %d", len(after), len(before))
	}
	bad := map[string]string{
		"garbage":       "{",
		"wrong version": strings.Replace(saved, `"version": 1`, `"version": 9`, 1),
		"unknown field": strings.Replace(saved, `"version": 1`, `"version": 1, "extra": true`, 1),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := setup(t, slackemu.Options{})
			if err := h.srv.LoadState(strings.NewReader(in)); err == nil {
				t.Fatal("LoadState accepted it")
			}
			if !h.user(t, ada).Active {
				t.Error("a failed load changed the state")
			}
		})
	}
}

func TestStateEndpointHasNoPII(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	if _, _, err := f.bot().PostMessageContext(t.Context(), "C0APPROVALS", sdk.MsgOptionText("Offboard Ada Lovelace", false)); err != nil {
		t.Fatal(err)
	}
	a := f.call(t, http.MethodGet, "/_emulator/state", "", nil, "")
	if a.status != http.StatusOK {
		t.Fatalf("HTTP %d", a.status)
	}
	for _, pii := range []string{"@", "Lovelace", "Ada", "lovelace"} {
		if strings.Contains(a.raw, pii) {
			t.Errorf("state carries %q", pii)
		}
	}
	users, _ := a.body["users"].([]any)
	if len(users) != slackUsers {
		t.Errorf("%d users in state, want %d", len(users), slackUsers)
	}
}
