package google_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"
	reports "google.golang.org/api/admin/reports/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/offboard/offboard/emulators/emu"
	googleemu "github.com/offboard/offboard/emulators/google"
	"github.com/offboard/offboard/emulators/seed"
)

const (
	ada       = "100000000000001001" // E1001: tokens, app passwords, backup codes, two groups
	adaEmail  = "ada.lovelace@example.com"
	ken       = "100000000000001006" // E1006: nothing but one group
	radia     = "100000000000001011" // E1011: AWS and Google only
	adminID   = "100000000000001017" // E1017: a super admin
	acmeCLI   = "1234567890-abc.apps.googleusercontent.com"
	calSync   = "9876543210-xyz.apps.googleusercontent.com"
	driveURL  = "https://www.googleapis.com/auth/drive"
	customer  = "C01acme00"
	groupAll  = "all@example.com"
	groupEng  = "eng@example.com"
	startTime = "2026-11-25T12:00:00Z"
)

// clock is a settable clock for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t *testing.T) *clock {
	t.Helper()
	at, err := time.Parse(time.RFC3339, startTime)
	if err != nil {
		t.Fatal(err)
	}
	return &clock{t: at}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.base.RoundTrip(r)
}

type fixture struct {
	srv   *googleemu.Server
	ts    *httptest.Server
	clock *clock
	dir   *directory.Service
	rep   *reports.Service
}

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// setup serves an emulator seeded with the demo org and points the real
// Admin SDK clients at it.
func setup(t *testing.T, opts googleemu.Options) *fixture {
	t.Helper()
	c := newClock(t)
	if opts.Now == nil {
		opts.Now = c.now
	}
	srv := googleemu.New(demo(t), opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tok := opts.Token
	if tok == "" {
		tok = googleemu.DefaultToken
	}
	dir, rep := clients(t, ts.URL, tok)
	return &fixture{srv: srv, ts: ts, clock: c, dir: dir, rep: rep}
}

func clients(t *testing.T, url, token string) (*directory.Service, *reports.Service) {
	t.Helper()
	hc := &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}, Timeout: 30 * time.Second}
	opts := []option.ClientOption{option.WithHTTPClient(hc), option.WithEndpoint(url + "/")}
	dir, err := directory.NewService(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.NewService(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rep
}

// raw sends one request and decodes a JSON answer.
func (f *fixture) raw(t *testing.T, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func (f *fixture) user(t *testing.T, id string) googleemu.UserState {
	t.Helper()
	u, ok := f.srv.User(id)
	if !ok {
		t.Fatalf("emulator has no user %s", id)
	}
	return u
}

// gerror checks err is a Google API error with the code and reason.
func gerror(t *testing.T, err error, code int, reason string) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v (%T) is not a *googleapi.Error", err, err)
	}
	if ge.Code != code || len(ge.Errors) != 1 || ge.Errors[0].Reason != reason {
		t.Fatalf("error code %d reasons %+v, want %d %s (body %s)", ge.Code, ge.Errors, code, reason, ge.Body)
	}
	return ge
}

// errorBody checks a raw error answer has Google's shape.
func errorBody(t *testing.T, m map[string]any, code int, message, reason string) {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", m)
	}
	if e["code"] != float64(code) || e["message"] != message {
		t.Errorf("error code %v message %q, want %d %q", e["code"], e["message"], code, message)
	}
	items, _ := e["errors"].([]any)
	if len(items) != 1 {
		t.Fatalf("errors %v, want one item", e["errors"])
	}
	it := items[0].(map[string]any)
	if it["reason"] != reason || it["message"] != message || it["domain"] == "" {
		t.Errorf("errors[0] %v, want reason %s message %q", it, reason, message)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	cases := map[string]struct {
		header string
		reason string
		msg    string
	}{
		"missing": {"", "required", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."},
		"wrong":   {"Bearer nope", "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."},
		"scheme":  {"SSWS " + googleemu.DefaultToken, "required", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.ts.URL+"/admin/directory/v1/users/"+ada, nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="https://accounts.google.com/"`) {
				t.Errorf("status %d WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			errorBody(t, m, 401, c.msg, c.reason)
			if e := m["error"].(map[string]any); e["status"] != "UNAUTHENTICATED" {
				t.Errorf("status %v", e["status"])
			}
		})
	}
	t.Run("sdk with wrong token", func(t *testing.T) {
		t.Parallel()
		dir, _ := clients(t, f.ts.URL, "wrong")
		_, err := dir.Users.Get(ada).Context(t.Context()).Do()
		gerror(t, err, 401, "authError")
	})
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	for _, key := range []string{ada, adaEmail, strings.ToUpper(adaEmail)} {
		u, err := f.dir.Users.Get(key).Context(t.Context()).Do()
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if u.Id != ada || u.PrimaryEmail != adaEmail || u.Suspended || u.IsAdmin || u.CustomerId != customer || u.Kind != "admin#directory#user" ||
			u.Name == nil || u.Name.FullName != "Ada Lovelace" || !u.IsEnrolledIn2Sv || u.LastLoginTime != "2026-11-20T08:00:20.000Z" {
			t.Errorf("get %s: %+v", key, u)
		}
		ids, _ := u.ExternalIds.([]any)
		if len(ids) != 1 || ids[0].(map[string]any)["value"] != "E1001" {
			t.Errorf("externalIds %v", u.ExternalIds)
		}
	}
	admin, err := f.dir.Users.Get(adminID).Context(t.Context()).Do()
	if err != nil || !admin.IsAdmin {
		t.Errorf("admin user: %+v %v", admin, err)
	}

	cases := map[string]struct {
		key    string
		code   int
		reason string
		msg    string
	}{
		"unknown ID":      {"999", 404, "notFound", "Resource Not Found: userKey"},
		"unknown address": {"nobody@example.com", 404, "notFound", "Resource Not Found: userKey"},
		"other domain":    {"someone@other.test", 403, "forbidden", "Not Authorized to access this resource/api"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := f.dir.Users.Get(c.key).Context(t.Context()).Do()
			ge := gerror(t, err, c.code, c.reason)
			if ge.Message != c.msg {
				t.Errorf("message %q, want %q", ge.Message, c.msg)
			}
			status, _, m := f.raw(t, http.MethodGet, "/admin/directory/v1/users/"+c.key, googleemu.DefaultToken, nil)
			if status != c.code {
				t.Errorf("raw status %d", status)
			}
			errorBody(t, m, c.code, c.msg, c.reason)
		})
	}
}

func TestSecurityLists(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	ctx := t.Context()
	toks, err := f.dir.Tokens.List(ada).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(toks.Items) != 2 || toks.Kind != "admin#directory#tokenList" {
		t.Fatalf("tokens %+v", toks)
	}
	if tk := toks.Items[0]; tk.ClientId != acmeCLI || tk.DisplayText != "Acme CLI" || !slices.Equal(tk.Scopes, []string{driveURL}) || tk.UserKey != ada {
		t.Errorf("token %+v", tk)
	}
	tk, err := f.dir.Tokens.Get(ada, calSync).Context(ctx).Do()
	if err != nil || tk.DisplayText != "Calendar Sync" {
		t.Errorf("get token: %+v %v", tk, err)
	}
	asps, err := f.dir.Asps.List(ada).Context(ctx).Do()
	if err != nil || len(asps.Items) != 2 {
		t.Fatalf("asps %+v %v", asps, err)
	}
	for _, a := range asps.Items {
		if a.CodeId <= 0 || a.Name == "" || a.CreationTime <= 0 || a.UserKey != ada {
			t.Errorf("asp %+v", a)
		}
	}
	one, err := f.dir.Asps.Get(ada, asps.Items[1].CodeId).Context(ctx).Do()
	if err != nil || one.CodeId != asps.Items[1].CodeId {
		t.Errorf("get asp: %+v %v", one, err)
	}
	codes, err := f.dir.VerificationCodes.List(ada).Context(ctx).Do()
	if err != nil || len(codes.Items) != 10 {
		t.Fatalf("codes %+v %v", codes, err)
	}
	for _, c := range codes.Items {
		if !regexp.MustCompile(`^\d{8}$`).MatchString(c.VerificationCode) || c.UserId != ada {
			t.Errorf("code %+v", c)
		}
	}
	// A user with none gets lists without items.
	for name, n := range map[string]func() (int, error){
		"tokens": func() (int, error) { r, err := f.dir.Tokens.List(ken).Context(ctx).Do(); return len(r.Items), err },
		"asps":   func() (int, error) { r, err := f.dir.Asps.List(ken).Context(ctx).Do(); return len(r.Items), err },
		"codes": func() (int, error) {
			r, err := f.dir.VerificationCodes.List(ken).Context(ctx).Do()
			return len(r.Items), err
		},
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("%s of a user with none: %d %v", name, got, err)
		}
	}
	status, _, m := f.raw(t, http.MethodGet, "/admin/directory/v1/users/"+ken+"/tokens", googleemu.DefaultToken, nil)
	if _, has := m["items"]; status != 200 || has || m["kind"] != "admin#directory#tokenList" {
		t.Errorf("empty token list: %d %v", status, m)
	}
}

// adminEvents reads the admin audit events about a user, newest first.
func (f *fixture) adminEvents(t *testing.T, email, name string) []*reports.Activity {
	t.Helper()
	call := f.rep.Activities.List("all", "admin").Filters("USER_EMAIL==" + email)
	if name != "" {
		call = call.EventName(name)
	}
	var out []*reports.Activity
	if err := call.Pages(t.Context(), func(a *reports.Activities) error { out = append(out, a.Items...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func param(e *reports.ActivityEvents, name string) string {
	for _, p := range e.Parameters {
		if p.Name == name {
			if len(p.MultiValue) > 0 {
				return strings.Join(p.MultiValue, " ")
			}
			return p.Value
		}
	}
	return ""
}

func TestMutationsChangeStateAndLog(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		do     func(f *fixture) error
		event  string
		params map[string]string
		check  func(u googleemu.UserState) bool
	}{
		"suspend": {
			do: func(f *fixture) error {
				u, err := f.dir.Users.Patch(ada, &directory.User{Suspended: true}).Context(t.Context()).Do()
				if err == nil && (!u.Suspended || u.SuspensionReason != "ADMIN") {
					return errors.New("patch answer is not suspended")
				}
				return err
			},
			event: "SUSPEND_USER", params: map[string]string{"USER_EMAIL": adaEmail},
			check: func(u googleemu.UserState) bool { return u.Suspended },
		},
		"sign out": {
			do:    func(f *fixture) error { return f.dir.Users.SignOut(adaEmail).Context(t.Context()).Do() },
			event: "RESET_SIGNIN_COOKIES", params: map[string]string{"USER_EMAIL": adaEmail},
			check: func(u googleemu.UserState) bool { return u.Sessions == 0 },
		},
		"revoke token": {
			do:    func(f *fixture) error { return f.dir.Tokens.Delete(ada, acmeCLI).Context(t.Context()).Do() },
			event: "REVOKE_3LO_TOKEN", params: map[string]string{"USER_EMAIL": adaEmail, "APP_ID": acmeCLI},
			check: func(u googleemu.UserState) bool { return slices.Equal(u.Tokens, []string{calSync}) },
		},
		"delete app password": {
			do: func(f *fixture) error {
				asps, err := f.dir.Asps.List(ada).Context(t.Context()).Do()
				if err != nil {
					return err
				}
				return f.dir.Asps.Delete(ada, asps.Items[0].CodeId).Context(t.Context()).Do()
			},
			event: "REVOKE_ASP", params: map[string]string{"USER_EMAIL": adaEmail},
			check: func(u googleemu.UserState) bool { return len(u.AppPasswords) == 1 },
		},
		"invalidate backup codes": {
			do:    func(f *fixture) error { return f.dir.VerificationCodes.Invalidate(ada).Context(t.Context()).Do() },
			event: "DELETE_2SV_SCRATCH_CODES", params: map[string]string{"USER_EMAIL": adaEmail},
			check: func(u googleemu.UserState) bool { return u.BackupCodes == 0 },
		},
		"remove group member": {
			do:    func(f *fixture) error { return f.dir.Members.Delete(groupEng, ada).Context(t.Context()).Do() },
			event: "REMOVE_GROUP_MEMBER", params: map[string]string{"USER_EMAIL": adaEmail, "GROUP_EMAIL": groupEng},
			check: func(u googleemu.UserState) bool { return len(u.Groups) == 1 },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, googleemu.Options{AdminEmail: "robot@example.com"})
			before := f.srv.State().EventCount
			if c.check(f.user(t, ada)) {
				t.Fatal("the desired state holds before the call")
			}
			if err := c.do(f); err != nil {
				t.Fatal(err)
			}
			if !c.check(f.user(t, ada)) {
				t.Errorf("state after: %+v", f.user(t, ada))
			}
			if after := f.srv.State().EventCount; after <= before {
				t.Errorf("event count %d -> %d", before, after)
			}
			evs := f.adminEvents(t, adaEmail, c.event)
			if len(evs) != 1 {
				t.Fatalf("%d %s events", len(evs), c.event)
			}
			a := evs[0]
			if a.Actor.Email != "robot@example.com" || a.Id.ApplicationName != "admin" || a.Id.Time != "2026-11-25T12:00:00.000Z" || a.Id.CustomerId != customer || a.Id.UniqueQualifier == 0 {
				t.Errorf("activity %+v id %+v actor %+v", a, a.Id, a.Actor)
			}
			for k, v := range c.params {
				if got := param(a.Events[0], k); got != v {
					t.Errorf("param %s = %q, want %q", k, got, v)
				}
			}
		})
	}
	t.Run("token revoke is also in the token log", func(t *testing.T) {
		t.Parallel()
		f := setup(t, googleemu.Options{})
		if err := f.dir.Tokens.Delete(ada, calSync).Context(t.Context()).Do(); err != nil {
			t.Fatal(err)
		}
		acts, err := f.rep.Activities.List(ada, "token").EventName("revoke").Context(t.Context()).Do()
		if err != nil {
			t.Fatal(err)
		}
		if len(acts.Items) != 1 || acts.Items[0].Actor.ProfileId != ada || param(acts.Items[0].Events[0], "client_id") != calSync ||
			param(acts.Items[0].Events[0], "scope") != "https://www.googleapis.com/auth/calendar" || acts.Items[0].Events[0].Type != "auth" {
			t.Errorf("token log %+v", acts.Items)
		}
	})
	t.Run("patch to the same value logs nothing", func(t *testing.T) {
		t.Parallel()
		f := setup(t, googleemu.Options{})
		for range 2 {
			if _, err := f.dir.Users.Patch(ada, &directory.User{Suspended: true}).Context(t.Context()).Do(); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(f.adminEvents(t, adaEmail, "SUSPEND_USER")); n != 1 {
			t.Errorf("%d SUSPEND_USER events", n)
		}
		if _, err := f.dir.Users.Patch(ada, &directory.User{Suspended: false, ForceSendFields: []string{"Suspended"}}).Context(t.Context()).Do(); err != nil {
			t.Fatal(err)
		}
		if f.user(t, ada).Suspended || len(f.adminEvents(t, adaEmail, "UNSUSPEND_USER")) != 1 {
			t.Error("unsuspend did not apply or log")
		}
	})
}

func TestBackupCodesOfSuspendedUser(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	ctx := t.Context()
	if _, err := f.dir.Users.Patch(ada, &directory.User{Suspended: true}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	err := f.dir.VerificationCodes.Invalidate(ada).Context(ctx).Do()
	ge := gerror(t, err, 400, "invalid")
	if ge.Message != "Invalid Input" {
		t.Errorf("message %q", ge.Message)
	}
	if err := f.dir.VerificationCodes.Generate(ada).Context(ctx).Do(); err == nil {
		t.Error("generate for a suspended user succeeded")
	}
	if u := f.user(t, ada); u.BackupCodes != 10 {
		t.Errorf("codes changed: %d", u.BackupCodes)
	}
	// Listing still works while suspended.
	codes, err := f.dir.VerificationCodes.List(ada).Context(ctx).Do()
	if err != nil || len(codes.Items) != 10 {
		t.Errorf("list while suspended: %d %v", len(codes.Items), err)
	}
	// Unsuspended, the codes can be invalidated and generated again.
	if _, err := f.dir.Users.Patch(ada, &directory.User{Suspended: false, ForceSendFields: []string{"Suspended"}}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.VerificationCodes.Invalidate(ada).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if u := f.user(t, ada); u.BackupCodes != 0 {
		t.Errorf("codes after invalidate: %d", u.BackupCodes)
	}
	if err := f.dir.VerificationCodes.Generate(ada).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if u := f.user(t, ada); u.BackupCodes != 10 {
		t.Errorf("codes after generate: %d", u.BackupCodes)
	}
}

func TestNotFoundAnswers(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	ctx := t.Context()
	cases := map[string]struct {
		call  func() error
		param string
	}{
		"unknown token":         {func() error { return f.dir.Tokens.Delete(ada, "nope.apps.googleusercontent.com").Context(ctx).Do() }, "clientId"},
		"unknown app password":  {func() error { return f.dir.Asps.Delete(ada, 987654).Context(ctx).Do() }, "codeId"},
		"not a member":          {func() error { return f.dir.Members.Delete("finance@example.com", ada).Context(ctx).Do() }, "memberKey"},
		"unknown group":         {func() error { return f.dir.Members.Delete("nope@example.com", ada).Context(ctx).Do() }, "groupKey"},
		"sign out unknown user": {func() error { return f.dir.Users.SignOut("42").Context(ctx).Do() }, "userKey"},
		"tokens of unknown":     {func() error { _, err := f.dir.Tokens.List("42").Context(ctx).Do(); return err }, "userKey"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ge := gerror(t, c.call(), 404, "notFound")
			if ge.Message != "Resource Not Found: "+c.param {
				t.Errorf("message %q", ge.Message)
			}
		})
	}
	// Nothing changed and nothing was logged.
	if u := f.user(t, ada); len(u.Tokens) != 2 || len(u.AppPasswords) != 2 || len(u.Groups) != 2 {
		t.Errorf("state changed: %+v", u)
	}
	if n := len(f.adminEvents(t, adaEmail, "")); n != 0 {
		t.Errorf("%d admin events", n)
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{PageSize: 1})
	ctx := t.Context()
	var pages [][]string
	err := f.dir.Groups.List().UserKey(ada).Pages(ctx, func(g *directory.Groups) error {
		var emails []string
		for _, x := range g.Groups {
			emails = append(emails, x.Email)
			if x.Id == "" || x.DirectMembersCount < 1 || x.Kind != "admin#directory#group" {
				t.Errorf("group %+v", x)
			}
		}
		pages = append(pages, emails)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0][0] != groupAll || pages[1][0] != groupEng {
		t.Errorf("pages %v, want [all] [eng]", pages)
	}
	all, err := f.dir.Groups.List().Customer("my_customer").MaxResults(10).Context(ctx).Do()
	if err != nil || len(all.Groups) != 3 || all.NextPageToken != "" {
		t.Errorf("customer groups: %+v %v", all, err)
	}
	byDomain, err := f.dir.Groups.List().Domain("example.com").MaxResults(10).Context(ctx).Do()
	if err != nil || len(byDomain.Groups) != 3 {
		t.Errorf("domain groups: %+v %v", byDomain, err)
	}
	g, err := f.dir.Groups.Get(groupEng).Context(ctx).Do()
	if err != nil || g.Email != groupEng {
		t.Fatalf("get group: %+v %v", g, err)
	}
	members, err := f.dir.Members.List(g.Id).MaxResults(200).Context(ctx).Do()
	if err != nil || len(members.Members) == 0 {
		t.Fatalf("members %+v %v", members, err)
	}
	m, err := f.dir.Members.Get(g.Id, ada).Context(ctx).Do()
	if err != nil || m.Id != ada || m.Role != "MEMBER" {
		t.Errorf("member %+v %v", m, err)
	}

	bad := map[string]func() error{
		"userKey with customer": func() error {
			_, err := f.dir.Groups.List().UserKey(ada).Customer("my_customer").Context(ctx).Do()
			return err
		},
		"no scope": func() error { _, err := f.dir.Groups.List().Context(ctx).Do(); return err },
		"bad page token": func() error {
			_, err := f.dir.Groups.List().UserKey(ada).PageToken("garbage").Context(ctx).Do()
			return err
		},
	}
	for name, call := range bad {
		var ge *googleapi.Error
		if err := call(); !errors.As(err, &ge) || ge.Code != 400 {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
	if _, err := f.dir.Groups.List().Customer("C99other").Context(ctx).Do(); err == nil {
		t.Error("another customer's groups were listed")
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	ctx := t.Context()
	logins, err := f.rep.Activities.List(ada, "login").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(logins.Items) != 1 {
		t.Fatalf("ada's logins: %+v", logins.Items)
	}
	a := logins.Items[0]
	if a.Id.Time != "2026-11-20T08:00:20.000Z" || a.IpAddress != "203.0.113.10" || a.Actor.Email != adaEmail || a.Actor.ProfileId != ada ||
		a.Events[0].Name != "login_success" || a.Events[0].Type != "login" || param(a.Events[0], "login_type") != "google_password" || a.Kind != "admin#reports#activity" {
		t.Errorf("login activity %+v %+v %+v", a, a.Id, a.Events[0])
	}
	byEmail, err := f.rep.Activities.List(adaEmail, "drive").Context(ctx).Do()
	if err != nil || len(byEmail.Items) != 1 || param(byEmail.Items[0].Events[0], "doc_title") != "Q4 roadmap" || byEmail.Items[0].Events[0].Name != "download" {
		t.Fatalf("ada's drive by email: %+v %v", byEmail, err)
	}

	// Every login, newest first, one per page.
	var times []string
	tokens := map[string]bool{}
	call := f.rep.Activities.List("all", "login").MaxResults(1)
	err = call.Pages(ctx, func(a *reports.Activities) error {
		if len(a.Items) != 1 {
			t.Errorf("page of %d", len(a.Items))
		}
		for _, it := range a.Items {
			times = append(times, it.Id.Time)
		}
		if a.NextPageToken != "" {
			tokens[a.NextPageToken] = true
			// Events logged between pages do not shift the pages.
			if err := f.dir.Users.SignOut(ken).Context(ctx).Do(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 9 || len(tokens) != 8 {
		t.Errorf("%d logins over %d tokens: %v", len(times), len(tokens), times)
	}
	if !slices.IsSortedFunc(times, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("not newest first: %v", times)
	}

	window, err := f.rep.Activities.List("all", "login").StartTime("2026-11-20T08:05:00Z").EndTime("2026-11-20T08:10:00Z").Context(ctx).Do()
	if err != nil || len(window.Items) != 3 {
		t.Errorf("window: %d %v", len(window.Items), err)
	}
	named, err := f.rep.Activities.List("all", "drive").EventName("view").Context(ctx).Do()
	if err != nil || len(named.Items) != 0 {
		t.Errorf("eventName view: %+v %v", named.Items, err)
	}
	filtered, err := f.rep.Activities.List("all", "drive").Filters("doc_title==Q4 roadmap,owner<>" + adaEmail).Context(ctx).Do()
	if err != nil || len(filtered.Items) != 8 {
		t.Errorf("filters: %d %v", len(filtered.Items), err)
	}
	byIP, err := f.rep.Activities.List("all", "login").ActorIpAddress("203.0.113.10").Context(ctx).Do()
	if err != nil || len(byIP.Items) != 1 {
		t.Errorf("actorIpAddress: %d %v", len(byIP.Items), err)
	}

	bad := map[string]struct {
		call   func() error
		reason string
	}{
		"unknown application": {func() error { _, err := f.rep.Activities.List("all", "nope").Context(ctx).Do(); return err }, "invalidParameter"},
		"start in the future": {func() error {
			_, err := f.rep.Activities.List("all", "login").StartTime("2026-12-01T00:00:00Z").Context(ctx).Do()
			return err
		}, "invalid"},
		"start after end": {func() error {
			_, err := f.rep.Activities.List("all", "login").StartTime("2026-11-21T00:00:00Z").EndTime("2026-11-20T00:00:00Z").Context(ctx).Do()
			return err
		}, "invalid"},
		"bad time": {func() error {
			_, err := f.rep.Activities.List("all", "login").StartTime("yesterday").Context(ctx).Do()
			return err
		}, "invalidParameter"},
		"bad page token": {func() error {
			_, err := f.rep.Activities.List("all", "login").PageToken("garbage").Context(ctx).Do()
			return err
		}, "invalid"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) { gerror(t, c.call(), 400, c.reason) })
	}

	// Events older than the 180-day retention are gone.
	f.clock.advance(181 * 24 * time.Hour)
	old, err := f.rep.Activities.List(ada, "login").Context(ctx).Do()
	if err != nil || len(old.Items) != 0 {
		t.Errorf("after retention: %d %v", len(old.Items), err)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opts       googleemu.Options
		code       int
		reason     string
		retryAfter string
	}{
		"classic 403":  {googleemu.Options{RateLimit: 3}, 403, "userRateLimitExceeded", ""},
		"429":          {googleemu.Options{RateLimit: 3, RateLimitStatus: 429}, 429, "rateLimitExceeded", ""},
		"retry after":  {googleemu.Options{RateLimit: 3, RateLimitRetryAfter: true}, 403, "userRateLimitExceeded", "30"},
		"other status": {googleemu.Options{RateLimit: 3, RateLimitStatus: 503}, 403, "userRateLimitExceeded", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.opts)
			f.clock.advance(30 * time.Second)
			for i := range 3 {
				if _, err := f.dir.Users.Get(ada).Context(t.Context()).Do(); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			_, err := f.dir.Users.Get(ada).Context(t.Context()).Do()
			ge := gerror(t, err, c.code, c.reason)
			if got := ge.Header.Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, c.retryAfter)
			}
			// Another quotaUser has its own bucket.
			if _, err := f.dir.Users.Get(ada).Context(t.Context()).Do(googleapi.QuotaUser("other")); err != nil {
				t.Errorf("other quotaUser: %v", err)
			}
			// The next minute starts a new window.
			f.clock.advance(time.Minute)
			if _, err := f.dir.Users.Get(ada).Context(t.Context()).Do(); err != nil {
				t.Errorf("next window: %v", err)
			}
		})
	}
}

func TestReadOnlyToken(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{ReadOnlyToken: "read-only"})
	dir, _ := clients(t, f.ts.URL, "read-only")
	if _, err := dir.Users.Get(ada).Context(t.Context()).Do(); err != nil {
		t.Fatalf("read: %v", err)
	}
	_, err := dir.Users.Patch(ada, &directory.User{Suspended: true}).Context(t.Context()).Do()
	ge := gerror(t, err, 403, "insufficientPermissions")
	if ge.Message != "Request had insufficient authentication scopes." {
		t.Errorf("message %q", ge.Message)
	}
	if f.user(t, ada).Suspended {
		t.Error("suspended with a read-only token")
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fault      emu.Fault
		path       string
		reason     string
		retryAfter string
	}{
		"503 with wait":  {emu.Fault{Path: "/tokens$", Status: 503, RetryAfter: 5}, "/admin/directory/v1/users/" + ada + "/tokens", "backendError", "5"},
		"500":            {emu.Fault{Path: "/tokens$", Status: 500}, "/admin/directory/v1/users/" + ada + "/tokens", "backendError", ""},
		"429":            {emu.Fault{Path: "/tokens$", Status: 429, RetryAfter: 7}, "/admin/directory/v1/users/" + ada + "/tokens", "rateLimitExceeded", "7"},
		"403":            {emu.Fault{Path: "/asps$", Status: 403}, "/admin/directory/v1/users/" + ada + "/asps", "forbidden", ""},
		"404 of member":  {emu.Fault{Path: "/members/", Status: 404}, "/admin/directory/v1/groups/x/members/" + ada, "notFound", ""},
		"401":            {emu.Fault{Path: "/users/", Status: 401}, "/admin/directory/v1/users/" + ada, "authError", ""},
		"400 of reports": {emu.Fault{Path: "^/admin/reports/", Status: 400}, "/admin/reports/v1/activity/users/all/applications/login", "badRequest", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, googleemu.Options{})
			c.fault.Times = 1
			if err := f.srv.Emulator().AddFault(c.fault); err != nil {
				t.Fatal(err)
			}
			status, h, m := f.raw(t, http.MethodGet, c.path, googleemu.DefaultToken, nil)
			if status != c.fault.Status || h.Get("Retry-After") != c.retryAfter {
				t.Errorf("status %d Retry-After %q", status, h.Get("Retry-After"))
			}
			e, _ := m["error"].(map[string]any)
			items, _ := e["errors"].([]any)
			if e["code"] != float64(c.fault.Status) || len(items) != 1 || items[0].(map[string]any)["reason"] != c.reason {
				t.Errorf("body %v", m)
			}
			if c.reason == "notFound" && e["message"] != "Resource Not Found: memberKey" {
				t.Errorf("404 message %v", e["message"])
			}
			// Times: 1 clears the fault.
			if status, _, _ := f.raw(t, http.MethodGet, "/admin/directory/v1/users/"+ada+"/tokens", googleemu.DefaultToken, nil); status != 200 {
				t.Errorf("after the fault: %d", status)
			}
			reqs := f.srv.Emulator().Requests()
			if len(reqs) != 2 || reqs[0].Status != c.fault.Status {
				t.Errorf("request log %+v", reqs)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/admin/directory/v1/nothing"},
		{http.MethodDelete, "/admin/directory/v1/users/" + ada},
		{http.MethodGet, "/admin/directory/v1/users/" + ada + "/signOut"},
		{http.MethodGet, "/elsewhere"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, f.ts.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+googleemu.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(b), "was not found on this server") {
			t.Errorf("%s %s: %d %q", c.method, c.path, resp.StatusCode, b)
		}
	}
	if u := f.user(t, ada); u.Suspended || len(u.Tokens) != 2 {
		t.Errorf("state changed: %+v", u)
	}
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

func TestStateEndpoint(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	if err := f.dir.Tokens.Delete(ada, acmeCLI).Context(t.Context()).Do(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(f.ts.URL + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if emailRE.Match(b) || strings.Contains(string(b), "Lovelace") || strings.Contains(string(b), "Acme CLI") {
		t.Errorf("state carries names or emails: %s", b)
	}
	var st googleemu.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Customer != customer || len(st.Users) != 9 || len(st.Groups) != 3 || st.EventCount != 20 {
		t.Errorf("state: customer %s, %d users, %d groups, %d events", st.Customer, len(st.Users), len(st.Groups), st.EventCount)
	}
	i := slices.IndexFunc(st.Users, func(u googleemu.UserState) bool { return u.ID == ada })
	if i < 0 || st.Users[i].EmployeeID != "E1001" || !slices.Equal(st.Users[i].Tokens, []string{calSync}) || st.Users[i].BackupCodes != 10 {
		t.Errorf("ada: %+v", st.Users)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := setup(t, googleemu.Options{}), setup(t, googleemu.Options{})
	var sa, sb bytes.Buffer
	if err := a.srv.SaveState(&sa); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.SaveState(&sb); err != nil {
		t.Fatal(err)
	}
	if sa.String() != sb.String() {
		t.Error("two emulators from one seed differ")
	}
	if u := a.user(t, radia); len(u.Tokens) != 2 || len(u.AppPasswords) != 2 || u.BackupCodes != 10 || len(u.Groups) != 2 {
		t.Errorf("E1011: %+v", u)
	}
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	ctx := t.Context()
	if _, err := f.dir.Users.Patch(ada, &directory.User{Suspended: true}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.Members.Delete(groupAll, ada).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()

	g := setup(t, googleemu.Options{})
	if err := g.srv.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if a, b := f.srv.State(), g.srv.State(); !jsonEqual(t, a, b) {
		t.Errorf("state after load differs:\n%+v\n%+v", a, b)
	}
	if n := len(g.adminEvents(t, adaEmail, "SUSPEND_USER")); n != 1 {
		t.Errorf("loaded log has %d SUSPEND_USER events", n)
	}
	u, err := g.dir.Users.Get(ada).Context(ctx).Do()
	if err != nil || !u.Suspended || u.PrimaryEmail != adaEmail {
		t.Errorf("loaded user %+v %v", u, err)
	}

	before := g.srv.State()
	for name, bad := range map[string]string{
		"not JSON":      "{",
		"wrong version": strings.Replace(saved, `"version": 1`, `"version": 9`, 1),
		"unknown field": strings.Replace(saved, `"version": 1`, `"version": 1, "extra": true`, 1),
		"user twice":    `{"version":1,"domain":"example.com","customer":"C1","users":[{"id":"1"},{"id":"1"}]}`,
	} {
		if err := g.srv.LoadState(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if !jsonEqual(t, before, g.srv.State()) {
		t.Error("a failed load changed the state")
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	f := setup(t, googleemu.Options{})
	var wg sync.WaitGroup
	for _, id := range []string{ada, radia, ken} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_ = f.dir.Users.SignOut(id).Context(t.Context()).Do()
		}()
		go func() {
			defer wg.Done()
			_, _ = f.rep.Activities.List("all", "admin").Context(t.Context()).Do()
		}()
	}
	wg.Wait()
	for _, id := range []string{ada, radia, ken} {
		if f.user(t, id).Sessions != 0 {
			t.Errorf("%s still has sessions", id)
		}
	}
}
