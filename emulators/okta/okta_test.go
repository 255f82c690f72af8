package okta_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
)

const (
	ada      = "00u00000000000001001" // E1001: admin, grants, factors
	grace    = "00u00000000000001002" // E1002: 30+ groups
	alan     = "00u00000000000001003" // E1003: SUSPENDED
	margaret = "00u00000000000001005" // E1005: two roles
	ken      = "00u00000000000001006" // E1006: APP_GROUP only
	sophie   = "00u00000000000001013" // E1013: DEPROVISIONED
)

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

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

func start(t *testing.T, opts okta.Options) (*okta.Server, *httptest.Server) {
	t.Helper()
	s := okta.New(demo(t), opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func call(t *testing.T, ts *httptest.Server, method, path string) reply {
	t.Helper()
	return callToken(t, ts, method, path, "SSWS "+okta.DefaultToken)
}

func callToken(t *testing.T, ts *httptest.Server, method, path, auth string) reply {
	t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = ts.URL + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

type oktaError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// wantError checks an Okta error body: status, code, summary, and the
// fields every Okta error carries.
func wantError(t *testing.T, r reply, status int, code, summary string) oktaError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var raw map[string]json.RawMessage
	r.json(t, &raw)
	for _, k := range []string{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("error body lacks %s: %s", k, r.body)
		}
	}
	if string(raw["errorCauses"]) == "null" {
		t.Errorf("errorCauses is null, Okta sends []")
	}
	var e oktaError
	r.json(t, &e)
	if e.ErrorCode != code || e.ErrorLink != code {
		t.Errorf("errorCode/errorLink %s/%s, want %s", e.ErrorCode, e.ErrorLink, code)
	}
	if summary != "" && e.ErrorSummary != summary {
		t.Errorf("errorSummary %q, want %q", e.ErrorSummary, summary)
	}
	if !regexp.MustCompile(`^oae[A-Za-z0-9_-]{22}$`).MatchString(e.ErrorID) {
		t.Errorf("errorId %q does not look like Okta's", e.ErrorID)
	}
	return e
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{Token: "s3cret"})
	for name, auth := range map[string]string{
		"missing":     "",
		"wrong token": "SSWS nope",
		"bearer":      "Bearer s3cret",
		"no scheme":   "s3cret",
	} {
		t.Run(name, func(t *testing.T) {
			r := callToken(t, ts, "GET", "/api/v1/users/"+ada, auth)
			wantError(t, r, 401, "E0000011", "Invalid token provided")
			if r.header.Get("X-Rate-Limit-Limit") == "" {
				t.Error("401 without rate-limit headers")
			}
		})
	}
	if r := callToken(t, ts, "GET", "/api/v1/users/"+ada, "SSWS s3cret"); r.status != 200 {
		t.Fatalf("right token: %d %s", r.status, r.body)
	}
}

type userBody struct {
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	Created         string            `json:"created"`
	Activated       *string           `json:"activated"`
	StatusChanged   *string           `json:"statusChanged"`
	LastLogin       *string           `json:"lastLogin"`
	LastUpdated     string            `json:"lastUpdated"`
	PasswordChanged *string           `json:"passwordChanged"`
	Type            map[string]string `json:"type"`
	Profile         map[string]any    `json:"profile"`
	Credentials     struct {
		Provider map[string]string `json:"provider"`
	} `json:"credentials"`
	Links map[string]struct {
		Href   string `json:"href"`
		Method string `json:"method"`
	} `json:"_links"`
}

var oktaStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestGetUser(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{})
	for name, key := range map[string]string{"by id": ada, "by login": "ada.lovelace@example.com", "by login, any case": "Ada.Lovelace@Example.com"} {
		t.Run(name, func(t *testing.T) {
			r := call(t, ts, "GET", "/api/v1/users/"+url.PathEscape(key))
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var u userBody
			r.json(t, &u)
			if u.ID != ada || u.Status != "ACTIVE" {
				t.Fatalf("got %s %s", u.ID, u.Status)
			}
			for field, v := range map[string]string{"created": u.Created, "lastUpdated": u.LastUpdated, "activated": deref(u.Activated), "lastLogin": deref(u.LastLogin)} {
				if !oktaStamp.MatchString(v) {
					t.Errorf("%s %q is not an Okta timestamp", field, v)
				}
			}
			want := map[string]any{"login": "ada.lovelace@example.com", "email": "ada.lovelace@example.com", "employeeNumber": "E1001", "firstName": "Ada", "lastName": "Lovelace", "githubUsername": "alovelace", "slackUserId": "U00001001", "mobilePhone": nil}
			for k, v := range want {
				if got, ok := u.Profile[k]; !ok || got != v {
					t.Errorf("profile.%s = %v, want %v", k, got, v)
				}
			}
			if u.Credentials.Provider["type"] != "OKTA" || u.Type["id"] == "" {
				t.Errorf("credentials %v type %v", u.Credentials, u.Type)
			}
			if got := u.Links["self"].Href; got != ts.URL+"/api/v1/users/"+ada {
				t.Errorf("self link %q", got)
			}
			if l := u.Links["suspend"]; l.Method != "POST" || !strings.HasSuffix(l.Href, "/lifecycle/suspend") {
				t.Errorf("suspend link %+v", l)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		wantError(t, call(t, ts, "GET", "/api/v1/users/00uNOPE"), 404, "E0000007", "Not found: Resource not found: 00uNOPE (User)")
	})
	t.Run("sub-resources take an ID, not a login", func(t *testing.T) {
		wantError(t, call(t, ts, "GET", "/api/v1/users/ada.lovelace@example.com/roles"), 404, "E0000007", "")
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ids(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var items []struct {
		ID string `json:"id"`
	}
	r.json(t, &items)
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestListUsersSearchAndFilter(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{})
	q := func(k, v string) string { return "/api/v1/users?" + url.Values{k: {v}}.Encode() }
	cases := map[string]struct {
		path string
		want []string
	}{
		"search employeeNumber":           {q("search", `profile.employeeNumber eq "E1001"`), []string{ada}},
		"search finds DEPROVISIONED":      {q("search", `profile.employeeNumber eq "E1013"`), []string{sophie}},
		"search or":                       {q("search", `profile.employeeNumber eq "E1001" or profile.employeeNumber eq "E1003"`), []string{ada, alan}},
		"search and, parentheses":         {q("search", `(profile.employeeNumber eq "E1001" or profile.employeeNumber eq "E1003") and status eq "SUSPENDED"`), []string{alan}},
		"search custom attribute":         {q("search", `profile.githubUsername eq "ghopper"`), []string{grace}},
		"search email, any case":          {q("search", `profile.email eq "Grace.Hopper@example.com"`), []string{grace}},
		"search no match":                 {q("search", `profile.employeeNumber eq "E9999"`), []string{}},
		"filter status":                   {q("filter", `status eq "SUSPENDED"`), []string{alan}},
		"filter status DEPROVISIONED":     {q("filter", `status eq "DEPROVISIONED"`), []string{sophie}},
		"filter login":                    {q("filter", `profile.login eq "ada.lovelace@example.com"`), []string{ada}},
		"q prefix on first name":          {q("q", "grac"), []string{grace}},
		"q leaves DEPROVISIONED out":      {q("q", "sophie"), []string{}},
		"search with quote escape":        {q("search", `profile.employeeNumber eq "E1001\"x"`), []string{}},
		"search employeeNumber sw, limit": {q("search", `profile.employeeNumber sw "E100"`) + "&limit=200", []string{ada, grace, alan, "00u00000000000001004", margaret, ken, "00u00000000000001007", "00u00000000000001008", "00u00000000000001009"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ids(t, call(t, ts, "GET", c.path)); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	bad := map[string]struct {
		path, code string
	}{
		"value missing":            {q("search", `profile.employeeNumber eq`), "E0000031"},
		"unknown operator":         {q("search", `profile.employeeNumber is "E1"`), "E0000031"},
		"unbalanced":               {q("search", `(status eq "ACTIVE"`), "E0000031"},
		"unterminated string":      {q("search", `status eq "ACTIVE`), "E0000031"},
		"dangling and":             {q("search", `status eq "ACTIVE" and`), "E0000031"},
		"filter on custom attr":    {q("filter", `profile.githubUsername eq "x"`), "E0000031"},
		"unknown top attribute":    {q("search", `bogus eq "x"`), "E0000031"},
		"search and filter":        {q("search", `status eq "ACTIVE"`) + "&filter=" + url.QueryEscape(`status eq "ACTIVE"`), "E0000033"},
		"limit is not a number":    {"/api/v1/users?limit=ten", "E0000001"},
		"limit is not positive":    {"/api/v1/users?limit=0", "E0000001"},
		"logs filter malformed":    {"/api/v1/logs?filter=" + url.QueryEscape(`eventType eq`), "E0000031"},
		"logs since is not a date": {"/api/v1/logs?since=yesterday", "E0000030"},
	}
	for name, c := range bad {
		t.Run("bad/"+name, func(t *testing.T) {
			wantError(t, call(t, ts, "GET", c.path), 400, c.code, "")
		})
	}
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="(self|next)"$`)

// links parses the Link headers of a reply. Okta sends one header per link.
func links(t *testing.T, r reply) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range r.header.Values("Link") {
		m := linkRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("Link header %q is not in Okta's format", l)
		}
		out[m[2]] = m[1]
	}
	return out
}

// follow pages through a list from path, returning the IDs and the number
// of pages.
func follow(t *testing.T, ts *httptest.Server, path string) ([]string, int) {
	t.Helper()
	var all []string
	pages := 0
	for next := ts.URL + path; next != ""; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		r := call(t, ts, "GET", next)
		all = append(all, ids(t, r)...)
		l := links(t, r)
		if l["self"] == "" {
			t.Fatalf("no rel=self on %s", next)
		}
		next = l["next"]
	}
	return all, pages
}

func TestUsersPagination(t *testing.T) {
	t.Parallel()
	org := demo(t)
	var want []string
	for _, p := range org.People {
		if p.Okta != nil && p.Okta.Status != "DEPROVISIONED" {
			want = append(want, p.Okta.ID)
		}
	}
	slices.Sort(want)
	_, ts := start(t, okta.Options{PageSize: 5})

	first := call(t, ts, "GET", "/api/v1/users")
	if got := first.header.Values("Link"); len(got) != 2 {
		t.Fatalf("first page Link headers %q, want self and next as two headers", got)
	}
	l := links(t, first)
	if l["self"] != ts.URL+"/api/v1/users" {
		t.Errorf("self %q", l["self"])
	}
	if wantNext := ts.URL + "/api/v1/users?after=" + want[4] + "&limit=5"; l["next"] != wantNext {
		t.Errorf("next %q, want %q", l["next"], wantNext)
	}

	got, pages := follow(t, ts, "/api/v1/users")
	if !slices.Equal(got, want) {
		t.Errorf("paged users %v, want %v", got, want)
	}
	if wantPages := (len(want) + 4) / 5; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}

	// The next link keeps the search.
	s := url.Values{"search": {`status eq "ACTIVE"`}, "limit": {"2"}}.Encode()
	got, pages = follow(t, ts, "/api/v1/users?"+s)
	if pages < 2 || slices.Contains(got, alan) || !slices.Contains(got, ada) {
		t.Errorf("searched pages: %d pages, %v", pages, got)
	}
}

func TestUserGroupsPaged(t *testing.T) {
	t.Parallel()
	org := demo(t)
	p, _ := org.Person("E1002")
	want := slices.Clone(p.Okta.Groups)
	slices.Sort(want)
	_, ts := start(t, okta.Options{})
	got, pages := follow(t, ts, "/api/v1/users/"+grace+"/groups")
	if !slices.Equal(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	if want := (len(want) + 19) / 20; pages != want || pages < 2 {
		t.Errorf("%d pages, want %d (more than one)", pages, want)
	}

	var groups []struct {
		Type        string         `json:"type"`
		ObjectClass []string       `json:"objectClass"`
		Profile     map[string]any `json:"profile"`
	}
	call(t, ts, "GET", "/api/v1/users/"+ken+"/groups").json(t, &groups)
	types := map[string]int{}
	for _, g := range groups {
		types[g.Type]++
		if g.Profile["name"] == "" || len(g.ObjectClass) == 0 {
			t.Errorf("group without name or objectClass: %+v", g)
		}
	}
	if types["APP_GROUP"] != 2 || types["BUILT_IN"] != 1 || types["OKTA_GROUP"] != 0 {
		t.Errorf("E1006 group types %v", types)
	}
}

type logEvent struct {
	UUID           string `json:"uuid"`
	Published      string `json:"published"`
	EventType      string `json:"eventType"`
	Version        string `json:"version"`
	Severity       string `json:"severity"`
	DisplayMessage string `json:"displayMessage"`
	Actor          struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"actor"`
	Client struct {
		IPAddress string `json:"ipAddress"`
		UserAgent struct {
			RawUserAgent string `json:"rawUserAgent"`
		} `json:"userAgent"`
	} `json:"client"`
	Outcome struct {
		Result string `json:"result"`
	} `json:"outcome"`
	Target []struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"target"`
	Transaction struct {
		ID string `json:"id"`
	} `json:"transaction"`
	DebugContext struct {
		DebugData map[string]string `json:"debugData"`
	} `json:"debugContext"`
}

func logs(t *testing.T, ts *httptest.Server, v url.Values) ([]logEvent, reply) {
	t.Helper()
	r := call(t, ts, "GET", "/api/v1/logs?"+v.Encode())
	if r.status != 200 {
		t.Fatalf("logs %v: %d %s", v, r.status, r.body)
	}
	var evs []logEvent
	r.json(t, &evs)
	return evs, r
}

func window(extra ...string) url.Values {
	v := url.Values{"since": {"2026-11-01T00:00:00.000Z"}, "until": {"2026-12-01T00:00:00.000Z"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestSystemLogFilters(t *testing.T) {
	t.Parallel()
	org := demo(t)
	count := func(keep func(p seed.Person, e seed.Event) bool) int {
		n := 0
		for _, p := range org.People {
			if p.Okta == nil {
				continue
			}
			for _, e := range p.Okta.Events {
				if keep(p, e) {
					n++
				}
			}
		}
		return n
	}
	all := count(func(seed.Person, seed.Event) bool { return true })
	_, ts := start(t, okta.Options{})
	cases := map[string]struct {
		filter, q string
		want      int
	}{
		"all":                  {"", "", all},
		"eventType eq":         {`eventType eq "user.session.start"`, "", count(func(_ seed.Person, e seed.Event) bool { return e.Type == "user.session.start" })},
		"actor.id eq":          {`actor.id eq "` + ada + `"`, "", len(mustPerson(t, org, "E1001").Okta.Events)},
		"actor.alternateId":    {`actor.alternateId eq "grace.hopper@example.com"`, "", len(mustPerson(t, org, "E1002").Okta.Events)},
		"target.id eq":         {`target.id eq "0oaSLACK000000000001"`, "", count(func(_ seed.Person, e seed.Event) bool { return e.Target == "0oaSLACK000000000001" })},
		"sw":                   {`eventType sw "user.authentication"`, "", count(func(_ seed.Person, e seed.Event) bool { return strings.HasPrefix(e.Type, "user.authentication") })},
		"co":                   {`eventType co "session"`, "", count(func(_ seed.Person, e seed.Event) bool { return strings.Contains(e.Type, "session") })},
		"and, or, parentheses": {`(actor.id eq "` + ada + `" or actor.id eq "` + grace + `") and eventType eq "user.session.start"`, "", 2},
		"outcome.result":       {`outcome.result eq "SUCCESS" and actor.id eq "` + ada + `"`, "", 2},
		"outcome FAILURE":      {`outcome.result eq "FAILURE"`, "", count(func(_ seed.Person, e seed.Event) bool { return e.Result == "FAILURE" })},
		"q keyword":            {"", "203.0.113.10", count(func(_ seed.Person, e seed.Event) bool { return e.IP == "203.0.113.10" })},
		"q two keywords":       {"", "user.session.start 203.0.113.10", 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v := window("limit", "1000")
			if c.filter != "" {
				v.Set("filter", c.filter)
			}
			if c.q != "" {
				v.Set("q", c.q)
			}
			evs, r := logs(t, ts, v)
			if len(evs) != c.want {
				t.Errorf("%d events, want %d", len(evs), c.want)
			}
			if _, ok := links(t, r)["next"]; ok {
				t.Error("bounded query that returned everything has a next link")
			}
		})
	}
}

func mustPerson(t *testing.T, org *seed.Org, id string) seed.Person {
	t.Helper()
	p, ok := org.Person(id)
	if !ok {
		t.Fatalf("no %s in demo", id)
	}
	return p
}

func TestSystemLogShapeAndPaging(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{})
	all, _ := logs(t, ts, window("limit", "1000"))
	if len(all) < 10 {
		t.Fatalf("only %d seeded events", len(all))
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i, e := range all {
		if !uuidRE.MatchString(e.UUID) || seen[e.UUID] {
			t.Errorf("uuid %q bad or repeated", e.UUID)
		}
		seen[e.UUID] = true
		if !oktaStamp.MatchString(e.Published) || e.Version != "0" || e.Severity == "" || e.DisplayMessage == "" {
			t.Errorf("event %+v lacks LogEvent fields", e)
		}
		if e.Actor.Type != "User" || e.Actor.ID == "" || e.Client.IPAddress == "" || e.Outcome.Result == "" {
			t.Errorf("event %+v lacks actor/client/outcome", e)
		}
		if i > 0 && all[i-1].Published > e.Published {
			t.Errorf("ASCENDING out of order at %d", i)
		}
	}
	if all[1].EventType != "user.authentication.sso" || all[1].Target[0].Type != "AppInstance" || all[1].Target[0].DisplayName != "Slack" {
		t.Errorf("sso event target %+v", all[1])
	}

	t.Run("bounded paging ends without next", func(t *testing.T) {
		var got []string
		next := "/api/v1/logs?" + window("limit", "7").Encode()
		pages := 0
		for next != "" {
			pages++
			r := call(t, ts, "GET", next)
			var evs []logEvent
			r.json(t, &evs)
			if len(evs) > 7 {
				t.Fatalf("page of %d > limit", len(evs))
			}
			for _, e := range evs {
				got = append(got, e.UUID)
			}
			next = links(t, r)["next"]
			if pages > 100 {
				t.Fatal("no end")
			}
		}
		want := make([]string, len(all))
		for i, e := range all {
			want[i] = e.UUID
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged %d events, want the %d of one page, in order", len(got), len(want))
		}
	})
	t.Run("descending", func(t *testing.T) {
		evs, _ := logs(t, ts, window("limit", "1000", "sortOrder", "DESCENDING"))
		if len(evs) != len(all) || evs[0].UUID != all[len(all)-1].UUID {
			t.Errorf("descending first %v, want newest", evs[0].UUID)
		}
		first, r := logs(t, ts, window("limit", "3", "sortOrder", "DESCENDING"))
		r2 := call(t, ts, "GET", links(t, r)["next"])
		var second []logEvent
		r2.json(t, &second)
		if len(first) != 3 || len(second) != 3 || second[0].UUID != all[len(all)-4].UUID {
			t.Errorf("descending paging: %d then %d events", len(first), len(second))
		}
	})
	t.Run("polling always has next", func(t *testing.T) {
		v := url.Values{"since": {"2026-11-01T00:00:00Z"}}
		evs, r := logs(t, ts, v)
		next := links(t, r)["next"]
		if len(evs) == 0 || next == "" {
			t.Fatalf("polling: %d events, next %q", len(evs), next)
		}
		for range 20 {
			r = call(t, ts, "GET", next)
			var page []logEvent
			r.json(t, &page)
			next = links(t, r)["next"]
			if next == "" {
				t.Fatal("polling page without next")
			}
			if len(page) == 0 {
				return
			}
		}
		t.Fatal("polling never reached an empty page")
	})
	t.Run("limit defaults to 100, or PageSize when set", func(t *testing.T) {
		org := demo(t)
		p := org.People[0].Okta
		for i := range 120 {
			e := p.Events[0]
			e.At = e.At.Add(time.Duration(i) * time.Second)
			p.Events = append(p.Events, e)
		}
		for size, want := range map[int]int{0: 100, 7: 7} {
			ts := httptest.NewServer(okta.New(org, okta.Options{PageSize: size}))
			defer ts.Close()
			evs, r := logs(t, ts, window())
			if len(evs) != want || links(t, r)["next"] == "" {
				t.Errorf("PageSize %d: %d events, want %d and a next link", size, len(evs), want)
			}
		}
	})
	t.Run("since and until bound the window", func(t *testing.T) {
		evs, _ := logs(t, ts, url.Values{"since": {"2026-11-20T08:00:00.000Z"}, "until": {"2026-11-20T08:01:00.000Z"}})
		if len(evs) != 2 {
			t.Errorf("%d events in the first minute, want 2", len(evs))
		}
	})
}

func lifecycle(t *testing.T, ts *httptest.Server, id, op string) reply {
	t.Helper()
	return call(t, ts, "POST", "/api/v1/users/"+id+"/lifecycle/"+op)
}

func state(t *testing.T, s *okta.Server, id string) okta.UserState {
	t.Helper()
	u, ok := s.User(id)
	if !ok {
		t.Fatalf("no user %s", id)
	}
	return u
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	before := s.State().EventCount

	if r := lifecycle(t, ts, ada, "suspend"); r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	if st := state(t, s, ada); st.Status != "SUSPENDED" {
		t.Fatalf("status %s", st.Status)
	}
	e := wantError(t, lifecycle(t, ts, ada, "suspend"), 400, "E0000001", "Api validation failed: suspend")
	if len(e.ErrorCauses) != 1 || e.ErrorCauses[0].ErrorSummary != "Cannot suspend a user that is not active" {
		t.Errorf("causes %+v", e.ErrorCauses)
	}
	if r := lifecycle(t, ts, ada, "unsuspend"); r.status != 200 || state(t, s, ada).Status != "ACTIVE" {
		t.Fatalf("unsuspend: %d %s", r.status, r.body)
	}
	wantError(t, lifecycle(t, ts, ada, "unsuspend"), 400, "E0000001", "Api validation failed: unsuspend")

	if r := call(t, ts, "POST", "/api/v1/users/"+ada+"/lifecycle/deactivate?sendEmail=false"); r.status != 200 {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	st := state(t, s, ada)
	if st.Status != "DEPROVISIONED" || st.Sessions != 0 || len(st.Grants) != 0 || st.OAuthTokens != 0 {
		t.Errorf("after deactivate %+v", st)
	}
	wantError(t, lifecycle(t, ts, ada, "deactivate"), 404, "E0000007", "Not found: Resource not found: "+ada+" (User)")
	wantError(t, lifecycle(t, ts, ada, "suspend"), 400, "E0000001", "")

	if r := lifecycle(t, ts, ada, "reset_factors"); r.status != 200 {
		t.Fatalf("reset_factors: %d %s", r.status, r.body)
	}
	if st := state(t, s, ada); len(st.Factors) != 0 {
		t.Errorf("factors %v", st.Factors)
	}
	wantError(t, lifecycle(t, ts, "00uNOPE", "suspend"), 404, "E0000007", "")

	// Every successful mutation logged its event, by the token's admin,
	// about the user.
	evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "until": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "filter": {`target.id eq "` + ada + `"`}})
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
		if e.Actor.ID == ada || e.Actor.Type != "User" || e.Target[0].Type != "User" || e.Target[0].AlternateID != "ada.lovelace@example.com" {
			t.Errorf("event %s actor %+v target %+v", e.EventType, e.Actor, e.Target)
		}
		if e.DebugContext.DebugData["requestUri"] == "" || e.Transaction.ID == "" || e.Client.UserAgent.RawUserAgent == "" {
			t.Errorf("event %s lacks request context", e.EventType)
		}
	}
	want := []string{"user.lifecycle.suspend", "user.lifecycle.unsuspend", "user.lifecycle.deactivate", "user.mfa.factor.reset_all"}
	if !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
	if got := s.State().EventCount; got != before+len(want) {
		t.Errorf("event count %d, want %d", got, before+len(want))
	}
}

func TestSessionsGrantsClients(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	org := demo(t)
	p := mustPerson(t, org, "E1001")

	var grants []struct {
		ID, ClientID, UserID, ScopeID, Status, Source string
		Created                                       string
	}
	call(t, ts, "GET", "/api/v1/users/"+ada+"/grants").json(t, &grants)
	if len(grants) != len(p.Okta.Grants) {
		t.Fatalf("%d grants, want %d", len(grants), len(p.Okta.Grants))
	}
	for _, g := range grants {
		if !strings.HasPrefix(g.ID, "oag") || g.UserID != ada || g.Status != "ACTIVE" || !oktaStamp.MatchString(g.Created) {
			t.Errorf("grant %+v", g)
		}
	}
	var clients []map[string]any
	call(t, ts, "GET", "/api/v1/users/"+ada+"/clients").json(t, &clients)
	if len(clients) != 2 || clients[0]["client_id"] == "" || clients[0]["client_name"] == "" {
		t.Errorf("clients %v", clients)
	}

	if r := call(t, ts, "DELETE", "/api/v1/users/"+ada+"/sessions"); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("clear sessions: %d %q", r.status, r.body)
	}
	if st := state(t, s, ada); st.Sessions != 0 || st.OAuthTokens != len(p.Okta.Grants) {
		t.Errorf("without oauthTokens: %+v", st)
	}
	if r := call(t, ts, "DELETE", "/api/v1/users/"+ada+"/sessions?oauthTokens=true"); r.status != 204 {
		t.Fatalf("clear sessions+tokens: %d", r.status)
	}
	if st := state(t, s, ada); st.OAuthTokens != 0 || len(st.Grants) != len(p.Okta.Grants) {
		t.Errorf("with oauthTokens: %+v", st)
	}
	if r := call(t, ts, "DELETE", "/api/v1/users/"+ada+"/grants"); r.status != 204 {
		t.Fatalf("revoke grants: %d", r.status)
	}
	if st := state(t, s, ada); len(st.Grants) != 0 {
		t.Errorf("grants left: %v", st.Grants)
	}
	if got := ids(t, call(t, ts, "GET", "/api/v1/users/"+ada+"/grants")); len(got) != 0 {
		t.Errorf("grants listed after revoke: %v", got)
	}
	call(t, ts, "GET", "/api/v1/users/"+ada+"/clients").json(t, &clients)
	if len(clients) != 0 {
		t.Errorf("clients after revoking everything: %v", clients)
	}
	evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`target.id eq "` + ada + `" and (eventType sw "user.session" or eventType sw "app.oauth2")`}})
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
	}
	want := []string{"user.session.clear", "user.session.clear", "app.oauth2.as.token.revoke", "app.oauth2.as.consent.revoke", "app.oauth2.as.consent.revoke"}
	if !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

func TestGroupMembership(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	del := func(gid, uid string) reply { return call(t, ts, "DELETE", "/api/v1/groups/"+gid+"/users/"+uid) }

	if r := del("00gENGINEERING000001", ada); r.status != 204 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if slices.Contains(state(t, s, ada).Groups, "00gENGINEERING000001") {
		t.Error("still a member")
	}
	if r := del("00gENGINEERING000001", ada); r.status != 204 {
		t.Errorf("removing a non-member: %d", r.status)
	}
	wantError(t, del("00gAPPSALESFORCE0001", ada), 403, "E0000006", "You do not have permission to perform the requested action")
	wantError(t, del("00gEVERYONE0000000001", ada), 403, "E0000006", "")
	if st := state(t, s, ada); !slices.Contains(st.Groups, "00gAPPSALESFORCE0001") || !slices.Contains(st.Groups, "00gEVERYONE0000000001") {
		t.Errorf("uneditable memberships changed: %v", st.Groups)
	}
	wantError(t, del("00gNOPE", ada), 404, "E0000007", "Not found: Resource not found: 00gNOPE (UserGroup)")
	wantError(t, del("00gENGINEERING000001", "00uNOPE"), 404, "E0000007", "Not found: Resource not found: 00uNOPE (User)")

	evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`eventType eq "group.user_membership.remove"`}})
	if len(evs) != 1 || len(evs[0].Target) != 2 || evs[0].Target[1].ID != "00gENGINEERING000001" || evs[0].Target[1].Type != "UserGroup" {
		t.Errorf("membership events %+v", evs)
	}
}

func TestRolesAndFactors(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	var roles []struct {
		ID, Label, Type, Status, AssignmentType string
	}
	call(t, ts, "GET", "/api/v1/users/"+margaret+"/roles").json(t, &roles)
	if len(roles) != 2 {
		t.Fatalf("roles %+v", roles)
	}
	for _, r := range roles {
		if !strings.HasPrefix(r.ID, "ra") || len(r.ID) != 20 || r.Label == "" || r.Status != "ACTIVE" || r.AssignmentType != "USER" {
			t.Errorf("role %+v", r)
		}
	}
	if r := call(t, ts, "DELETE", "/api/v1/users/"+margaret+"/roles/"+roles[0].ID); r.status != 204 {
		t.Fatalf("remove role: %d %s", r.status, r.body)
	}
	if got := state(t, s, margaret).Roles; !slices.Equal(got, []string{roles[1].Type}) {
		t.Errorf("roles left %v", got)
	}
	wantError(t, call(t, ts, "DELETE", "/api/v1/users/"+margaret+"/roles/"+roles[0].ID), 404, "E0000007", "Not found: Resource not found: "+roles[0].ID+" (Role)")
	evs, _ := logs(t, ts, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`eventType eq "user.account.privilege.revoke" and target.id eq "` + margaret + `"`}})
	if len(evs) != 1 {
		t.Errorf("%d privilege revoke events", len(evs))
	}

	var factors []struct {
		ID, FactorType, Provider, Status string
	}
	call(t, ts, "GET", "/api/v1/users/"+ada+"/factors").json(t, &factors)
	if len(factors) != 2 || factors[0].FactorType != "push" || factors[0].Provider != "OKTA" || factors[0].Status != "ACTIVE" || factors[1].FactorType != "token:software:totp" {
		t.Errorf("factors %+v", factors)
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	_, ts := start(t, okta.Options{})
	// DELETE /api/v1/users/{id} deletes a DEPROVISIONED user for good; the
	// emulator does not serve it, so nothing can call it by mistake.
	r := call(t, ts, "DELETE", "/api/v1/users/"+sophie)
	wantError(t, r, 405, "E0000022", "")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantError(t, call(t, ts, "GET", "/api/v1/nothing"), 404, "E0000008", "The requested path was not found")
	wantError(t, call(t, ts, "POST", "/api/v1/users/"+ada+"/lifecycle/explode"), 404, "E0000008", "")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)}
	_, ts := start(t, okta.Options{RateLimit: 3, Now: clk.Now})
	reset := strconv.FormatInt(time.Date(2026, 11, 25, 12, 1, 0, 0, time.UTC).Unix(), 10)
	for i := range 3 {
		r := call(t, ts, "GET", "/api/v1/users/"+ada)
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := [3]string{r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"), r.header.Get("X-Rate-Limit-Reset")}; got != [3]string{"3", strconv.Itoa(2 - i), reset} {
			t.Errorf("request %d rate headers %v", i, got)
		}
		if r.header.Get("Date") != "Wed, 25 Nov 2026 12:00:30 GMT" {
			t.Errorf("Date %q does not follow the clock", r.header.Get("Date"))
		}
	}
	r := call(t, ts, "GET", "/api/v1/users/"+grace+"/groups")
	wantError(t, r, 429, "E0000047", "API call exceeded rate limit due to too many requests.")
	if r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Reset") != reset {
		t.Errorf("429 headers %v", r.header)
	}
	if r := call(t, ts, "GET", "/api/v1/logs"); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != "2" {
		t.Errorf("logs bucket: %d remaining %s", r.status, r.header.Get("X-Rate-Limit-Remaining"))
	}
	if r := call(t, ts, "DELETE", "/api/v1/groups/00gENGINEERING000001/users/"+ada); r.status != 204 {
		t.Errorf("groups bucket: %d", r.status)
	}
	clk.Add(time.Minute)
	if r := call(t, ts, "GET", "/api/v1/users/"+ada); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != "2" {
		t.Errorf("after the window: %d remaining %s", r.status, r.header.Get("X-Rate-Limit-Remaining"))
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fault   emu.Fault
		code    string
		summary string
		check   func(t *testing.T, r reply)
	}{
		"429 with reset": {emu.Fault{Path: "/roles$", Status: 429, RetryAfter: 7}, "E0000047", "API call exceeded rate limit due to too many requests.", func(t *testing.T, r reply) {
			date, err := http.ParseTime(r.header.Get("Date"))
			if err != nil {
				t.Fatal(err)
			}
			reset, _ := strconv.ParseInt(r.header.Get("X-Rate-Limit-Reset"), 10, 64)
			if reset-date.Unix() != 7 || r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Limit") == "" {
				t.Errorf("rate headers %v", r.header)
			}
		}},
		"500": {emu.Fault{Path: "/roles$", Status: 500}, "E0000009", "Internal Server Error", nil},
		"503 retry after": {emu.Fault{Path: "/roles$", Status: 503, RetryAfter: 4}, "E0000009", "", func(t *testing.T, r reply) {
			if r.header.Get("Retry-After") != "4" {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}},
		"403": {emu.Fault{Path: "/roles$", Status: 403}, "E0000006", "You do not have permission to perform the requested action", nil},
		"401": {emu.Fault{Path: "/roles$", Status: 401}, "E0000011", "Invalid token provided", nil},
		"404": {emu.Fault{Path: "/roles$", Status: 404}, "E0000007", "Not found: Resource not found: " + ada + " (User)", nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, okta.Options{})
			if err := s.Emulator().AddFault(c.fault); err != nil {
				t.Fatal(err)
			}
			r := call(t, ts, "GET", "/api/v1/users/"+ada+"/roles")
			wantError(t, r, c.fault.Status, c.code, c.summary)
			if c.check != nil {
				c.check(t, r)
			}
			if r := call(t, ts, "GET", "/api/v1/users/"+ada); r.status != 200 {
				t.Errorf("fault leaked to another path: %d", r.status)
			}
		})
	}
}

func TestEmulatorStateEndpoint(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	lifecycle(t, ts, ada, "suspend")
	r := call(t, ts, "GET", "/_emulator/state")
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	if bytes.Contains(r.body, []byte("@")) || bytes.Contains(r.body, []byte("Lovelace")) {
		t.Errorf("state carries PII: %s", r.body)
	}
	var st okta.State
	r.json(t, &st)
	if st.EventCount != s.State().EventCount || st.EventCount == 0 {
		t.Errorf("eventCount %d", st.EventCount)
	}
	i := slices.IndexFunc(st.Users, func(u okta.UserState) bool { return u.ID == ada })
	if i < 0 {
		t.Fatal("ada missing")
	}
	u := st.Users[i]
	if u.EmployeeNumber != "E1001" || u.Status != "SUSPENDED" || !slices.Equal(u.Roles, []string{"SUPER_ADMIN"}) || u.Sessions != 3 || u.OAuthTokens != 2 || len(u.Grants) != 2 || len(u.Factors) != 2 || len(u.Groups) != 9 {
		t.Errorf("state %+v", u)
	}
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	a, tsA := start(t, okta.Options{})
	lifecycle(t, tsA, ada, "suspend")
	call(t, tsA, "DELETE", "/api/v1/groups/00gENGINEERING000001/users/"+ada)
	call(t, tsA, "DELETE", "/api/v1/users/"+ada+"/grants")
	var saved bytes.Buffer
	if err := a.SaveState(&saved); err != nil {
		t.Fatal(err)
	}

	b, tsB := start(t, okta.Options{})
	if err := b.LoadState(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, a.State(), b.State()) {
		t.Errorf("state differs after load:\n%+v\n%+v", a.State(), b.State())
	}
	var again bytes.Buffer
	if err := b.SaveState(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved.Bytes(), again.Bytes()) {
		t.Error("save → load → save is not stable")
	}
	// The loaded server serves the loaded state, not the seed.
	var u userBody
	call(t, tsB, "GET", "/api/v1/users/"+ada).json(t, &u)
	if u.Status != "SUSPENDED" || u.Profile["email"] != "ada.lovelace@example.com" {
		t.Errorf("loaded user %s %v", u.Status, u.Profile["email"])
	}
	evs, _ := logs(t, tsB, url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "filter": {`eventType eq "user.lifecycle.suspend"`}})
	if len(evs) != 1 {
		t.Errorf("%d suspend events after load", len(evs))
	}
	// New IDs after a load do not collide with old ones.
	lifecycle(t, tsB, grace, "suspend")
	all, _ := logs(t, tsB, url.Values{"since": {"2026-01-01T00:00:00Z"}, "until": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "limit": {"1000"}})
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.UUID] {
			t.Errorf("uuid %s repeated after load", e.UUID)
		}
		seen[e.UUID] = true
	}

	for name, in := range map[string]string{
		"not json":       "{",
		"wrong version":  `{"version": 99}`,
		"unknown field":  `{"version": 1, "bogus": true}`,
		"duplicate user": `{"version": 1, "users": [{"id": "00u1"}, {"id": "00u1"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			before := b.State()
			if err := b.LoadState(strings.NewReader(in)); err == nil {
				t.Fatal("loaded bad state")
			}
			if !equalJSON(t, before, b.State()) {
				t.Error("a failed load changed the state")
			}
		})
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(x, y)
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	s, ts := start(t, okta.Options{})
	org := demo(t)
	var wg sync.WaitGroup
	for _, p := range org.People {
		if p.Okta == nil || p.Okta.Status != "ACTIVE" {
			continue
		}
		wg.Go(func() {
			req, _ := http.NewRequest("POST", ts.URL+"/api/v1/users/"+p.Okta.ID+"/lifecycle/suspend", nil)
			req.Header.Set("Authorization", "SSWS "+okta.DefaultToken)
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", p.EmployeeID, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	for _, u := range s.State().Users {
		if u.Status == "ACTIVE" {
			t.Errorf("%s still ACTIVE", u.ID)
		}
	}
}
