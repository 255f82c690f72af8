package google_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/option"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/google"
	"github.com/offboard/offboard/emulators/emu"
	googleemu "github.com/offboard/offboard/emulators/google"
	"github.com/offboard/offboard/emulators/seed"
)

const (
	ada      = "100000000000001001" // E1001: in all five systems; tokens, app passwords, backup codes
	adaEmail = "ada.lovelace@example.com"
	ken      = "100000000000001006" // E1006: only one group
	kenEmail = "ken.thompson@example.com"
	radia    = "100000000000001011" // E1011: AWS and Google only
	radiaEm  = "radia.perlman@example.com"
	superID  = "100000000000001017" // E1017: a super admin
	acmeCLI  = "1234567890-abc.apps.googleusercontent.com"
	calSync  = "9876543210-xyz.apps.googleusercontent.com"
	driveURL = "https://www.googleapis.com/auth/drive"
	calURL   = "https://www.googleapis.com/auth/calendar"
	customer = "C01acme00"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
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

type fixture struct {
	emu   *googleemu.Server
	ts    *httptest.Server
	c     *google.Client
	rec   *connectorstest.Recorder
	clock *clock
}

type options struct {
	org    *seed.Org
	emu    googleemu.Options
	cfg    google.Config
	token  string
	before func(*http.Request)
	// retry is the connector's retry policy; nil means connectorstest.FastRetry.
	retry *connectors.RetryPolicy
}

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

var start = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// setup starts an emulator and points the connector, built on the real
// Admin SDK clients, at it. Both share one settable clock.
func setup(t *testing.T, o options) *fixture {
	t.Helper()
	if o.org == nil {
		o.org = demo(t)
	}
	clk := &clock{t: start}
	o.emu.Now = clk.now
	srv := googleemu.New(o.org, o.emu)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if o.token == "" {
		o.token = googleemu.DefaultToken
	}
	rec := &connectorstest.Recorder{Before: o.before}
	cfg := o.cfg
	cfg.BaseURL = ts.URL
	cfg.Token = config.Secret(o.token)
	c, err := google.New(t.Context(), cfg, google.WithHTTPClient(&http.Client{Transport: rec, Timeout: 30 * time.Second}), google.WithClock(clk.now), google.WithRetry(connectorstest.RetryOr(o.retry)))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: srv, ts: ts, c: c, rec: rec, clock: clk}
}

// sdk is a plain Directory client on the emulator, to change state behind
// the connector's back.
func (f *fixture) sdk(t *testing.T) *directory.Service {
	t.Helper()
	hc := &http.Client{Transport: bearerRT{googleemu.DefaultToken}}
	dir, err := directory.NewService(t.Context(), option.WithHTTPClient(hc), option.WithEndpoint(f.ts.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

type bearerRT struct{ token string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func (f *fixture) user(t *testing.T, id string) googleemu.UserState {
	t.Helper()
	u, ok := f.emu.User(id)
	if !ok {
		t.Fatalf("emulator has no user %s", id)
	}
	return u
}

func account(id string) connectors.Account {
	return connectors.Account{System: "google", ID: id, Status: google.StatusActive}
}

func (f *fixture) plan(t *testing.T, id string) []connectors.Step {
	t.Helper()
	steps, err := f.c.Plan(t.Context(), account(id))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return steps
}

func step(t *testing.T, steps []connectors.Step, id string) connectors.Step {
	t.Helper()
	i := slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("plan has no %s", id)
	}
	return steps[i]
}

// stepOf is the step with ID id, as Plan makes it.
func stepOf(id string) connectors.Step {
	for _, a := range google.Actions {
		if connectors.StepID("google", a, "") == id {
			return connectors.NewStep("google", a, "", "", nil)
		}
	}
	panic("no google step " + id)
}

var emailRE = connectorstest.EmailRE

func connErr(t *testing.T, err error, kind connectors.Kind) *connectors.Error {
	t.Helper()
	return connectorstest.ConnErr(t, err, "google", kind)
}

// paths lists the method and path of every logged request.
func (f *fixture) paths() []string {
	var out []string
	for _, r := range f.emu.Emulator().Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "sa.json")
	writeKey(t, key, "https://oauth2.googleapis.com/token")
	notSA := filepath.Join(dir, "user.json")
	if err := os.WriteFile(notSA, []byte(`{"type":"authorized_user"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		cfg  google.Config
		want string // "" means valid
	}{
		"token":                 {google.Config{Token: "t"}, ""},
		"token and emulator":    {google.Config{Token: "t", BaseURL: "http://127.0.0.1:9000", Customer: customer, Domain: "example.com"}, ""},
		"https base with path":  {google.Config{Token: "t", BaseURL: "https://proxy.example.net/google"}, ""},
		"service account":       {google.Config{CredentialsFile: key, AdminSubject: "admin@example.com", Customer: "my_customer"}, ""},
		"no credentials":        {google.Config{}, "credentials are required"},
		"both credentials":      {google.Config{Token: "t", CredentialsFile: key, AdminSubject: "admin@example.com"}, "not both"},
		"no subject":            {google.Config{CredentialsFile: key}, "AdminSubject"},
		"subject not an email":  {google.Config{CredentialsFile: key, AdminSubject: "admin"}, "AdminSubject is not an email address"},
		"missing file":          {google.Config{CredentialsFile: filepath.Join(dir, "nope.json"), AdminSubject: "a@example.com"}, "read credentials file"},
		"not a service account": {google.Config{CredentialsFile: notSA, AdminSubject: "a@example.com"}, "credentials file"},
		"plain http elsewhere":  {google.Config{Token: "t", BaseURL: "http://admin.example.net"}, "must use https"},
		"relative base":         {google.Config{Token: "t", BaseURL: "admin.googleapis.com"}, "not an absolute URL"},
		"base with query":       {google.Config{Token: "t", BaseURL: "https://admin.googleapis.com/?x=1"}, "query"},
		"base with credentials": {google.Config{Token: "t", BaseURL: "https://u:p@admin.googleapis.com/"}, "credentials"},
		"bad customer":          {google.Config{Token: "t", Customer: "acme"}, "customer ID"},
		"bad domain":            {google.Config{Token: "t", Domain: "not a domain"}, "not a domain name"},
		"token with whitespace": {google.Config{Token: "a b"}, "whitespace"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cl, err := google.New(t.Context(), c.cfg)
			if c.want == "" {
				if err != nil || cl == nil || cl.Name() != "google" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			ce := connErr(t, err, connectors.InvalidInput)
			if !strings.Contains(ce.Msg, c.want) {
				t.Errorf("message %q, want it to contain %q", ce.Msg, c.want)
			}
		})
	}
	t.Run("bad lookback", func(t *testing.T) {
		t.Parallel()
		_, err := google.New(t.Context(), google.Config{Token: "t"}, google.WithSignOutLookback(365*24*time.Hour))
		connErr(t, err, connectors.InvalidInput)
	})
}

// writeKey writes a service-account JSON key whose token endpoint is
// tokenURI.
func writeKey(t *testing.T, path, tokenURI string) {
	t.Helper()
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]string{
		"type":           "service_account",
		"project_id":     "offboard-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "offboard@offboard-test.iam.gserviceaccount.com",
		"client_id":      "123456789012345678901",
		"token_uri":      tokenURI,
	}
	b, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServiceAccount runs the production credential path: a JWT assertion
// for the impersonated admin is exchanged at the key's token endpoint, and
// the access token it returns is what the emulator accepts.
func TestServiceAccount(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var claims map[string]any
	refuse := false
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, "bad grant", 400)
			return
		}
		parts := strings.Split(r.Form.Get("assertion"), ".")
		if len(parts) != 3 {
			http.Error(w, "bad assertion", 400)
			return
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			http.Error(w, "bad payload", 400)
			return
		}
		mu.Lock()
		_ = json.Unmarshal(payload, &claims)
		no := refuse
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if no {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, googleemu.DefaultToken)
	}))
	t.Cleanup(tokenSrv.Close)
	key := filepath.Join(t.TempDir(), "sa.json")
	writeKey(t, key, tokenSrv.URL)

	srv := googleemu.New(demo(t), googleemu.Options{Now: func() time.Time { return start }})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := google.New(t.Context(), google.Config{BaseURL: ts.URL, CredentialsFile: key, AdminSubject: "admin@example.com", Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
	if err != nil || a.ID != ada {
		t.Fatalf("resolve: %+v %v", a, err)
	}
	mu.Lock()
	got := claims
	mu.Unlock()
	scopes, _ := got["scope"].(string)
	if got["sub"] != "admin@example.com" || got["iss"] != "offboard@offboard-test.iam.gserviceaccount.com" ||
		!strings.Contains(scopes, "https://www.googleapis.com/auth/admin.directory.user.security") ||
		!strings.Contains(scopes, "https://www.googleapis.com/auth/admin.reports.audit.readonly") {
		t.Errorf("JWT claims %v", got)
	}

	// Resolving the impersonated admin is refused before any request.
	_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E0000", Email: "Admin@example.com"})
	connErr(t, err, connectors.InvalidInput)

	// A refused token exchange is Unauthenticated, without the subject.
	mu.Lock()
	refuse = true
	mu.Unlock()
	c2, err := google.New(t.Context(), google.Config{BaseURL: ts.URL, CredentialsFile: key, AdminSubject: "admin@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
	ce := connErr(t, err, connectors.Unauthenticated)
	if !strings.Contains(ce.Msg, "unauthorized_client") {
		t.Errorf("message %q", ce.Msg)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		cfg     google.Config
		subject connectors.Subject
		suspend bool
		wantID  string
		status  string
		kind    connectors.Kind
		noCalls bool
	}{
		"by email":            {subject: connectors.Subject{EmployeeID: "E1001", Email: adaEmail}, wantID: ada, status: "active"},
		"email any case":      {subject: connectors.Subject{EmployeeID: "E1001", Email: "Ada.Lovelace@Example.com"}, wantID: ada, status: "active"},
		"AWS and Google only": {subject: connectors.Subject{EmployeeID: "E1011", Email: radiaEm}, wantID: radia, status: "active"},
		"suspended":           {subject: connectors.Subject{EmployeeID: "E1001", Email: adaEmail}, suspend: true, wantID: ada, status: "suspended"},
		"override ID":         {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"google": ada}}, wantID: ada, status: "active"},
		"override email":      {subject: connectors.Subject{EmployeeID: "E1011", Email: "elsewhere@other.test", Overrides: map[string]string{"google": radiaEm}}, wantID: radia, status: "active"},
		"customer matches":    {cfg: google.Config{Customer: customer, Domain: "example.com"}, subject: connectors.Subject{EmployeeID: "E1001", Email: adaEmail}, wantID: ada, status: "active"},
		"no Google account":   {subject: connectors.Subject{EmployeeID: "E1002", Email: "grace.hopper@example.com"}, kind: connectors.NotFound},
		"other domain":        {cfg: google.Config{Domain: "example.com"}, subject: connectors.Subject{EmployeeID: "E1001", Email: "ada@other.test"}, kind: connectors.NotFound, noCalls: true},
		"other domain unset":  {subject: connectors.Subject{EmployeeID: "E1001", Email: "ada@other.test"}, kind: connectors.PermissionDenied},
		"wrong override":      {subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"google": "nobody@example.com"}}, kind: connectors.InvalidInput},
		"no email":            {subject: connectors.Subject{EmployeeID: "E1001"}, kind: connectors.NotFound, noCalls: true},
		"not an email":        {subject: connectors.Subject{EmployeeID: "E1001", Email: "ada"}, kind: connectors.InvalidInput, noCalls: true},
		"other customer":      {cfg: google.Config{Customer: "C99other"}, subject: connectors.Subject{EmployeeID: "E1001", Email: adaEmail}, kind: connectors.InvalidInput},
		"other employee":      {subject: connectors.Subject{EmployeeID: "E1006", Email: adaEmail}, kind: connectors.InvalidInput},
		"override wins":       {subject: connectors.Subject{EmployeeID: "1001", Email: adaEmail, Overrides: map[string]string{"google": ada}}, wantID: ada, status: "active"},
		"impersonated admin":  {cfg: google.Config{AdminSubject: adaEmail}, subject: connectors.Subject{EmployeeID: "E1001", Overrides: map[string]string{"google": ada}}, kind: connectors.InvalidInput},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{cfg: c.cfg})
			if c.suspend {
				if _, err := f.sdk(t).Users.Patch(ada, &directory.User{Suspended: true}).Context(t.Context()).Do(); err != nil {
					t.Fatal(err)
				}
			}
			n := len(f.emu.Emulator().Requests())
			a, err := f.c.Resolve(t.Context(), c.subject)
			if c.kind != "" {
				connErr(t, err, c.kind)
				if calls := len(f.emu.Emulator().Requests()) - n; c.noCalls && calls != 0 {
					t.Errorf("%d requests, want none", calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.System != "google" || a.ID != c.wantID || a.Status != c.status || len(a.Attributes) != 0 {
				t.Errorf("account %+v, want %s %s", a, c.wantID, c.status)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	steps := f.plan(t, ada)
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
		if s.System != "google" || s.Action == "" || s.Description == "" || s.Scope != "" || !strings.HasSuffix(s.ID, "."+s.Action) {
			t.Errorf("step %+v", s)
		}
	}
	want := []string{"google.sign-out", "google.invalidate-backup-codes", "google.delete-app-passwords", "google.revoke-oauth-tokens", "google.suspend", "google.remove-groups"}
	if !slices.Equal(ids, want) || !slices.Equal(ids, google.StepOrder) {
		t.Fatalf("plan %v, want %v", ids, want)
	}
	u := f.user(t, ada)
	var asps []string
	for _, id := range u.AppPasswords {
		asps = append(asps, fmt.Sprint(id))
	}
	if got := step(t, steps, google.StepDeleteAppPasswords).Targets; !slices.Equal(got, asps) {
		t.Errorf("app password targets %v, want %v", got, asps)
	}
	if got := step(t, steps, google.StepRevokeOAuthTokens).Targets; !slices.Equal(got, []string{acmeCLI, calSync}) {
		t.Errorf("token targets %v", got)
	}
	if got := step(t, steps, google.StepRemoveGroups).Targets; len(got) != 2 || !slices.Equal(slices.Sorted(slices.Values(got)), u.Groups) {
		t.Errorf("group targets %v, want %v", got, u.Groups)
	}
	if d := step(t, steps, google.StepInvalidateBackupCodes).Description; !strings.Contains(d, "10 valid backup") {
		t.Errorf("backup codes: %q", d)
	}
	// Planning only reads.
	for _, r := range f.emu.Emulator().Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("plan sent %s %s", r.Method, r.Path)
		}
	}

	t.Run("nothing to do is still listed", func(t *testing.T) {
		t.Parallel()
		steps := f.plan(t, ken)
		if len(steps) != 6 {
			t.Fatalf("%d steps", len(steps))
		}
		if s := step(t, steps, google.StepRevokeOAuthTokens); len(s.Targets) != 0 || !strings.Contains(s.Description, "0 OAuth tokens") {
			t.Errorf("tokens step %+v", s)
		}
	})
	t.Run("super admin and suspended", func(t *testing.T) {
		t.Parallel()
		g := setup(t, options{})
		if _, err := g.sdk(t).Users.Patch(ada, &directory.User{Suspended: true}).Context(t.Context()).Do(); err != nil {
			t.Fatal(err)
		}
		steps := g.plan(t, ada)
		if d := step(t, steps, google.StepSuspend).Description; !strings.Contains(d, "already suspended") {
			t.Errorf("suspend: %q", d)
		}
		if d := step(t, steps, google.StepInvalidateBackupCodes).Description; !strings.Contains(d, "unsuspend first") {
			t.Errorf("backup codes: %q", d)
		}
		if d := step(t, g.plan(t, superID), google.StepSuspend).Description; !strings.Contains(d, "super admin") {
			t.Errorf("super admin: %q", d)
		}
	})
}

// TestRunVerifyAndRepeat runs every step of the plan in order for E1001
// (tokens, app passwords, backup codes) and E1011 (AWS and Google only),
// verifies each, then runs and verifies every step again.
func TestRunVerifyAndRepeat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		emp, id, email string
	}{{"E1001", ada, adaEmail}, {"E1011", radia, radiaEm}} {
		t.Run(c.emp, func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{cfg: google.Config{Customer: customer, Domain: "example.com"}})
			ctx := t.Context()
			a, err := f.c.Resolve(ctx, connectors.Subject{EmployeeID: c.emp, Email: c.email})
			if err != nil {
				t.Fatal(err)
			}
			before := f.user(t, c.id)
			steps := f.plan(t, a.ID)
			records := map[string][]string{}
			for _, st := range steps {
				out, err := f.c.Run(ctx, a, st)
				if err != nil {
					t.Fatalf("run %s: %v", st.ID, err)
				}
				if out.Result != connectors.ResultDone {
					t.Errorf("run %s: %s, want done", st.ID, out.Result)
				}
				records[st.ID] = out.Records
				if err := f.c.Verify(ctx, a, st); err != nil {
					t.Errorf("verify %s: %v", st.ID, err)
				}
				// Again as an activity's retry sends it, with what the
				// plan found: safe, and still verified.
				if _, err := f.c.Run(ctx, a, st); err != nil {
					t.Errorf("retried run %s: %v", st.ID, err)
				}
				if err := f.c.Verify(ctx, a, st); err != nil {
					t.Errorf("verify %s after the retried run: %v", st.ID, err)
				}
			}
			after := f.user(t, c.id)
			if !after.Suspended || len(after.Tokens) != 0 || len(after.AppPasswords) != 0 || after.BackupCodes != 0 || after.Sessions != 0 || len(after.Groups) != 0 {
				t.Errorf("emulator state after run: %+v", after)
			}
			// Records keep what was removed, and no secrets or emails.
			recs := strings.Join(slices.Concat(records[google.StepRevokeOAuthTokens], records[google.StepDeleteAppPasswords], records[google.StepRemoveGroups]), "\n")
			for _, want := range []string{acmeCLI, calSync, driveURL, calURL, fmt.Sprint(before.AppPasswords[0]), fmt.Sprint(before.AppPasswords[1]), before.Groups[0], before.Groups[1]} {
				if !strings.Contains(recs, want) {
					t.Errorf("records lack %s:\n%s", want, recs)
				}
			}
			if got := records[google.StepInvalidateBackupCodes]; !slices.Equal(got, []string{"invalidated 10 backup verification codes"}) {
				t.Errorf("backup code records %v", got)
			}
			for id, rs := range records {
				for _, r := range rs {
					if emailRE.MatchString(r) {
						t.Errorf("%s record carries an email: %q", id, r)
					}
				}
			}
			// Every step again as a re-run sends it, reading: nothing
			// left to do.
			for _, st := range steps {
				st.Found = nil
				out, err := f.c.Run(ctx, a, st)
				if err != nil {
					t.Fatalf("second run %s: %v", st.ID, err)
				}
				if out.Result != connectors.ResultAlready {
					t.Errorf("second run %s: %s %v, want already", st.ID, out.Result, out.Records)
				}
				if err := f.c.Verify(ctx, a, st); err != nil {
					t.Errorf("second verify %s: %v", st.ID, err)
				}
			}
			if a2, err := f.c.Resolve(ctx, connectors.Subject{EmployeeID: c.emp, Email: c.email}); err != nil || a2.Status != google.StatusSuspended {
				t.Errorf("resolve after: %+v %v", a2, err)
			}
			// Never deleted: the user is still there.
			for _, p := range f.paths() {
				if strings.HasPrefix(p, "DELETE /admin/directory/v1/users/"+c.id) && !strings.Contains(p, "/tokens/") && !strings.Contains(p, "/asps/") {
					t.Errorf("deleted the user: %s", p)
				}
			}
		})
	}
}

func TestVerifyDetectsMismatch(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	a := account(ada)
	for _, id := range google.StepOrder {
		err := f.c.Verify(t.Context(), a, stepOf(id))
		ce := connErr(t, err, connectors.Conflict)
		if !strings.HasPrefix(ce.Msg, "verify: ") {
			t.Errorf("%s: message %q", id, ce.Msg)
		}
	}
	// A user with nothing to remove passes what it can, but is neither
	// signed out nor suspended.
	for id, want := range map[string]bool{google.StepInvalidateBackupCodes: true, google.StepDeleteAppPasswords: true, google.StepRevokeOAuthTokens: true, google.StepSignOut: false, google.StepSuspend: false} {
		err := f.c.Verify(t.Context(), account(ken), stepOf(id))
		if (err == nil) != want {
			t.Errorf("verify %s for a user with none: %v", id, err)
		}
	}
}

// TestSignOutEvidence: sign-out is "already" only while the Reports API
// shows the sign-out and no sign-in after it.
func TestSignOutEvidence(t *testing.T) {
	t.Parallel()
	org := demo(t)
	for i, p := range org.People {
		if p.EmployeeID == "E1006" {
			g := *p.Google
			g.Events = append(slices.Clone(g.Events), seed.Event{Type: "login_success", At: start.Add(time.Hour), IP: "198.51.100.9"})
			org.People[i].Google = &g
		}
	}
	f := setup(t, options{org: org})
	ctx := t.Context()
	a, st := account(ken), stepOf(google.StepSignOut)
	out, err := f.c.Run(ctx, a, st)
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("first run: %+v %v", out, err)
	}
	if err := f.c.Verify(ctx, a, st); err != nil {
		t.Errorf("verify: %v", err)
	}
	out, err = f.c.Run(ctx, a, st)
	if err != nil || out.Result != connectors.ResultAlready || !strings.Contains(out.Records[0], "2026-11-25T12:00:00Z") {
		t.Errorf("second run: %+v %v", out, err)
	}
	// An hour later the user signs in again (seeded for then).
	f.clock.advance(2 * time.Hour)
	connErr(t, f.c.Verify(ctx, a, st), connectors.Conflict)
	out, err = f.c.Run(ctx, a, st)
	if err != nil || out.Result != connectors.ResultDone {
		t.Errorf("run after a sign-in: %+v %v", out, err)
	}
	if err := f.c.Verify(ctx, a, st); err != nil {
		t.Errorf("verify after the second sign-out: %v", err)
	}
	// Outside the lookback window the old sign-out is no evidence.
	f.clock.advance(8 * 24 * time.Hour)
	connErr(t, f.c.Verify(ctx, a, st), connectors.Conflict)
	// The Reports API failing does not stop the sign-out itself.
	if err := f.emu.Emulator().AddFault(emu.Fault{Path: "^/admin/reports/", Status: 403}); err != nil {
		t.Fatal(err)
	}
	out, err = f.c.Run(ctx, a, st)
	if err != nil || out.Result != connectors.ResultDone {
		t.Errorf("run without reports: %+v %v", out, err)
	}
	connErr(t, f.c.Verify(ctx, a, st), connectors.PermissionDenied)
}

// TestOrdering: backup codes cannot be invalidated once the user is
// suspended, which is why the suspension waits for that step.
func TestOrdering(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ctx := t.Context()
	a := account(ada)
	steps := f.plan(t, ada)
	pos := func(id string) int {
		return slices.IndexFunc(steps, func(s connectors.Step) bool { return s.ID == id })
	}
	for _, id := range []string{google.StepInvalidateBackupCodes, google.StepDeleteAppPasswords, google.StepRevokeOAuthTokens, google.StepSignOut} {
		if pos(id) >= pos(google.StepSuspend) {
			t.Errorf("%s is not before suspend", id)
		}
	}
	if after := step(t, steps, google.StepSuspend).After; !slices.Equal(after, []string{google.StepSignOut, google.StepInvalidateBackupCodes, google.StepDeleteAppPasswords, google.StepRevokeOAuthTokens}) {
		t.Errorf("suspend runs after %v, want sign-out, backup codes, app passwords and tokens", after)
	}
	for _, id := range []string{google.StepSignOut, google.StepInvalidateBackupCodes} {
		if after := step(t, steps, id).After; len(after) != 0 {
			t.Errorf("%s waits for %v; it cuts, so it should wait for nothing", id, after)
		}
	}

	// Out of order: suspend first, as an operator's run sends it (without
	// the plan's Found; a first run follows the codes step's verification,
	// so it does not read the codes again).
	early := step(t, steps, google.StepSuspend)
	early.Found = nil
	out, err := f.c.Run(ctx, a, early)
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("suspend: %+v %v", out, err)
	}
	if !strings.Contains(strings.Join(out.Records, "\n"), "warning: 10 backup codes were still valid") {
		t.Errorf("suspend records lack the warning: %v", out.Records)
	}
	_, err = f.c.Run(ctx, a, step(t, steps, google.StepInvalidateBackupCodes))
	ce := connErr(t, err, connectors.InvalidInput)
	if ce.Status != 400 || !strings.Contains(ce.Msg, "the user is suspended") || !strings.Contains(ce.Msg, "10 codes remain valid") {
		t.Errorf("error %q status %d", ce.Msg, ce.Status)
	}
	if f.user(t, ada).BackupCodes != 10 {
		t.Error("codes changed")
	}
	connErr(t, f.c.Verify(ctx, a, step(t, steps, google.StepInvalidateBackupCodes)), connectors.Conflict)

	// The way out: unsuspend, invalidate, suspend again.
	if _, err := f.sdk(t).Users.Patch(ada, &directory.User{Suspended: false, ForceSendFields: []string{"Suspended"}}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if out, err := f.c.Run(ctx, a, step(t, steps, google.StepInvalidateBackupCodes)); err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("invalidate after unsuspend: %+v %v", out, err)
	}
	if out, err := f.c.Run(ctx, a, step(t, steps, google.StepSuspend)); err != nil || out.Result != connectors.ResultDone || len(out.Records) != 1 {
		t.Fatalf("suspend again: %+v %v", out, err)
	}
}

// TestTokensRecordedBeforeDeletion: the token list, with scopes, is
// recorded before any token is deleted, so a failure part-way still shows
// what the removed token could do.
func TestTokensRecordedBeforeDeletion(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	if err := f.emu.Emulator().AddFault(emu.Fault{Method: http.MethodDelete, Path: "/tokens/" + regexp.QuoteMeta(calSync) + "$", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	a, st := account(ada), stepOf(google.StepRevokeOAuthTokens)
	out, err := f.c.Run(t.Context(), a, st)
	connErr(t, err, connectors.Unavailable)
	if got := f.user(t, ada).Tokens; !slices.Equal(got, []string{calSync}) {
		t.Fatalf("tokens left %v, want the first gone", got)
	}
	recs := strings.Join(out.Records, "\n")
	for _, want := range []string{
		"OAuth token of client " + acmeCLI + " (Acme CLI) scopes: " + driveURL,
		"OAuth token of client " + calSync + " (Calendar Sync) scopes: " + calURL,
		"revoked OAuth token of client " + acmeCLI,
	} {
		if !strings.Contains(recs, want) {
			t.Errorf("records lack %q:\n%s", want, recs)
		}
	}
	// The listing came before the first deletion.
	ps := f.paths()
	list := slices.Index(ps, "GET /admin/directory/v1/users/"+ada+"/tokens")
	del := slices.IndexFunc(ps, func(p string) bool { return strings.HasPrefix(p, "DELETE ") })
	if list < 0 || del < 0 || list > del {
		t.Errorf("requests %v", ps)
	}
	// The rerun finishes the job and records the rest.
	out, err = f.c.Run(t.Context(), a, st)
	if err != nil || out.Result != connectors.ResultDone || !strings.Contains(strings.Join(out.Records, "\n"), "revoked OAuth token of client "+calSync) {
		t.Errorf("rerun: %+v %v", out, err)
	}
	if err := f.c.Verify(t.Context(), a, st); err != nil {
		t.Error(err)
	}
}

func TestGroupsArePaged(t *testing.T) {
	t.Parallel()
	f := setup(t, options{emu: googleemu.Options{PageSize: 1}})
	groups := f.user(t, ada).Groups
	steps := f.plan(t, ada)
	if got := step(t, steps, google.StepRemoveGroups).Targets; len(got) != 2 {
		t.Fatalf("targets %v, want both groups", got)
	}
	out, err := f.c.Run(t.Context(), account(ada), stepOf(google.StepRemoveGroups))
	if err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("run: %+v %v", out, err)
	}
	for _, g := range groups {
		if !slices.Contains(out.Records, "removed from group "+g) {
			t.Errorf("records %v lack %s", out.Records, g)
		}
	}
	paged := 0
	for _, r := range f.emu.Emulator().Requests() {
		if r.Path == "/admin/directory/v1/groups" && strings.Contains(r.Query, "pageToken=") {
			paged++
		}
	}
	if paged < 2 {
		t.Errorf("%d paged group requests, want one per plan and run", paged)
	}
	if err := f.c.Verify(t.Context(), account(ada), stepOf(google.StepRemoveGroups)); err != nil {
		t.Error(err)
	}
}

// TestRemovalNotFoundIsAlready: something else removes the item between
// the connector's listing and its delete; the 404 counts as done.
func TestRemovalNotFoundIsAlready(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		step string
		path string // the DELETE to race
		want string
	}{
		"token":        {google.StepRevokeOAuthTokens, "/tokens/", "was already revoked"},
		"app password": {google.StepDeleteAppPasswords, "/asps/", "was already deleted"},
		"group":        {google.StepRemoveGroups, "/members/", "was already left"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var f *fixture
			var once sync.Once
			f = setup(t, options{before: func(r *http.Request) {
				if r.Method != http.MethodDelete || !strings.Contains(r.URL.Path, c.path) {
					return
				}
				once.Do(func() {
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, f.ts.URL+r.URL.Path, nil)
					req.Header.Set("Authorization", "Bearer "+googleemu.DefaultToken)
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				})
			}})
			out, err := f.c.Run(t.Context(), account(ada), stepOf(c.step))
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != connectors.ResultDone || !strings.Contains(strings.Join(out.Records, "\n"), c.want) {
				t.Errorf("outcome %+v", out)
			}
			if err := f.c.Verify(t.Context(), account(ada), stepOf(c.step)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	type run func(f *fixture) error
	resolve := func(f *fixture) error {
		_, err := f.c.Resolve(context.Background(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
		return err
	}
	planAda := func(f *fixture) error { _, err := f.c.Plan(context.Background(), account(ada)); return err }
	runStep := func(id string) run {
		return func(f *fixture) error { _, err := f.c.Run(context.Background(), account(ada), stepOf(id)); return err }
	}
	verify := func(id string) run {
		return func(f *fixture) error { return f.c.Verify(context.Background(), account(ada), stepOf(id)) }
	}
	cases := map[string]struct {
		opts   options
		fault  *emu.Fault
		call   run
		kind   connectors.Kind
		status int
		wait   time.Duration
		msg    string
		header string // set: a response carried Retry-After, and the wait must equal it
	}{
		"wrong token":          {opts: options{token: "wrong"}, call: resolve, kind: connectors.Unauthenticated, status: 401, msg: "authError"},
		"401 fault":            {fault: &emu.Fault{Path: "/asps$", Status: 401}, call: runStep(google.StepDeleteAppPasswords), kind: connectors.Unauthenticated, status: 401},
		"forbidden":            {fault: &emu.Fault{Path: "/tokens$", Status: 403}, call: runStep(google.StepRevokeOAuthTokens), kind: connectors.PermissionDenied, status: 403, msg: "Not Authorized to access this resource/api (forbidden)"},
		"insufficient scopes":  {opts: options{token: "ro", emu: googleemu.Options{ReadOnlyToken: "ro"}}, call: runStep(google.StepSuspend), kind: connectors.PermissionDenied, status: 403, msg: "insufficientPermissions"},
		"user not found":       {call: func(f *fixture) error { _, err := f.c.Plan(context.Background(), account("42")); return err }, kind: connectors.NotFound, status: 404, msg: "Resource Not Found: userKey (notFound)"},
		"429 with Retry-After": {fault: &emu.Fault{Path: "/verificationCodes$", Status: 429, RetryAfter: 7}, call: runStep(google.StepInvalidateBackupCodes), kind: connectors.RateLimited, status: 429, wait: 7 * time.Second, header: "/admin/directory/v1/users/" + ada + "/verificationCodes"},
		"429 without":          {fault: &emu.Fault{Path: "/signOut$", Status: 429}, call: runStep(google.StepSignOut), kind: connectors.RateLimited, status: 429, wait: time.Second, msg: "rateLimitExceeded"},
		"userRateLimitExceeded": {opts: options{emu: googleemu.Options{RateLimit: 2}}, call: planAda,
			kind: connectors.RateLimited, status: 403, wait: time.Second, msg: "userRateLimitExceeded"},
		"rate limit with header": {opts: options{emu: googleemu.Options{RateLimit: 2, RateLimitRetryAfter: true}}, call: planAda,
			kind: connectors.RateLimited, status: 403, wait: 60 * time.Second, header: "Retry-After"},
		"rate limit 429": {opts: options{emu: googleemu.Options{RateLimit: 2, RateLimitStatus: 429}}, call: planAda,
			kind: connectors.RateLimited, status: 429, wait: time.Second, msg: "rateLimitExceeded"},
		"500":                {fault: &emu.Fault{Path: "/groups$", Status: 500}, call: runStep(google.StepRemoveGroups), kind: connectors.Unavailable, status: 500, msg: "backendError"},
		"503 with wait":      {fault: &emu.Fault{Method: http.MethodPatch, Path: "/users/", Status: 503, RetryAfter: 5}, call: runStep(google.StepSuspend), kind: connectors.Unavailable, status: 503, wait: 5 * time.Second},
		"reports 503":        {fault: &emu.Fault{Path: "^/admin/reports/", Status: 503}, call: verify(google.StepSignOut), kind: connectors.Unavailable, status: 503},
		"delete 403":         {fault: &emu.Fault{Method: http.MethodDelete, Path: "/members/", Status: 403}, call: runStep(google.StepRemoveGroups), kind: connectors.PermissionDenied, status: 403},
		"412 on invalidate":  {fault: &emu.Fault{Method: http.MethodPost, Path: "/invalidate$", Status: 412}, call: runStep(google.StepInvalidateBackupCodes), kind: connectors.InvalidInput, status: 412},
		"404 on resolve get": {fault: &emu.Fault{Path: "/users/", Status: 404}, call: resolve, kind: connectors.NotFound, status: 404},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.opts)
			if c.fault != nil {
				if err := f.emu.Emulator().AddFault(*c.fault); err != nil {
					t.Fatal(err)
				}
			}
			ce := connErr(t, c.call(f), c.kind)
			if ce.Status != c.status || ce.RetryAfter != c.wait {
				t.Errorf("error %q: status %d wait %s, want %d %s", ce, ce.Status, ce.RetryAfter, c.status, c.wait)
			}
			if c.msg != "" && !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("message %q, want %q", ce.Msg, c.msg)
			}
			if c.header != "" {
				// The response that was rate limited (whichever of the
				// plan's concurrent reads it was) said how long to wait.
				found := false
				for _, h := range f.rec.Headers() {
					if got := h.Get("Retry-After"); got != "" {
						found = true
						if got != fmt.Sprint(int(c.wait/time.Second)) {
							t.Errorf("Retry-After %q, wait %s", got, ce.RetryAfter)
						}
					}
				}
				if !found {
					t.Errorf("no response carried Retry-After; wait %s", ce.RetryAfter)
				}
			}
		})
	}
	t.Run("server gone", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{})
		f.ts.Close()
		ce := connErr(t, resolve(f), connectors.Unavailable)
		if ce.Status != 0 || ce.Msg == "" {
			t.Errorf("error %+v", ce)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		f := setup(t, options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := f.c.Resolve(ctx, connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
		ce := connErr(t, err, connectors.Unavailable)
		if ce.Msg != "request canceled" {
			t.Errorf("message %q", ce.Msg)
		}
	})
}

// TestNoRetries: a failing call whose Retry-After is past the retry
// budget (connectorstest.FastRetry's) is sent once; the caller decides when to retry.
func TestNoRetries(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := setup(t, options{})
			if err := f.emu.Emulator().AddFault(emu.Fault{Path: "/tokens$", Status: status, RetryAfter: 1}); err != nil {
				t.Fatal(err)
			}
			_, err := f.c.Run(t.Context(), account(ada), stepOf(google.StepRevokeOAuthTokens))
			if err == nil {
				t.Fatal("no error")
			}
			if reqs := f.emu.Emulator().Requests(); len(reqs) != 1 {
				t.Errorf("%d requests, want 1: %v", len(reqs), f.paths())
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ctx := t.Context()
	cases := map[string]struct {
		a    connectors.Account
		step connectors.Step
	}{
		"other system":        {connectors.Account{System: "okta", ID: ada}, stepOf(google.StepSuspend)},
		"email as ID":         {connectors.Account{System: "google", ID: adaEmail}, stepOf(google.StepSuspend)},
		"path in ID":          {connectors.Account{System: "google", ID: "1/../2"}, stepOf(google.StepSuspend)},
		"unknown step":        {account(ada), connectors.NewStep("google", "delete-user", "", "", nil)},
		"other system step":   {account(ada), connectors.NewStep("okta", "suspend", "", "", nil)},
		"action disagreement": {account(ada), connectors.Step{ID: google.StepSuspend, System: "google", Action: google.ActionSignOut}},
		"no action":           {account(ada), connectors.Step{ID: google.StepSuspend, System: "google"}},
		"scoped step":         {account(ada), connectors.NewStep("google", google.ActionSuspend, "acme", "", nil)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.c.Run(ctx, c.a, c.step)
			connErr(t, err, connectors.InvalidInput)
			connErr(t, f.c.Verify(ctx, c.a, c.step), connectors.InvalidInput)
		})
	}
	_, err := f.c.Plan(ctx, connectors.Account{System: "google", ID: adaEmail})
	connErr(t, err, connectors.InvalidInput)
	if n := len(f.emu.Emulator().Requests()); n != 0 {
		t.Errorf("%d requests for bad input", n)
	}
}

func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ctx := t.Context()
	ids := []string{ada, radia, ken}
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			for _, s := range google.StepOrder {
				if _, err := f.c.Run(ctx, account(id), stepOf(s)); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			t.Errorf("%s: %v", id, errs[i])
		}
		if u := f.user(t, id); !u.Suspended || len(u.Groups) != 0 {
			t.Errorf("%s: %+v", id, u)
		}
	}
}

// A Retry-After in HTTP-date form is read from the response's Date; one
// already past still asks for Google's one-second backoff. The emulator
// sends only seconds, so a plain handler answers.
func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		status int
		after  time.Time
		kind   connectors.Kind
		wait   time.Duration
	}{
		"429":       {429, date.Add(42 * time.Second), connectors.RateLimited, 42 * time.Second},
		"429, past": {429, date.Add(-time.Minute), connectors.RateLimited, time.Second},
		"503":       {503, date.Add(3 * time.Minute), connectors.Unavailable, 3 * time.Minute},
		"503, past": {503, date.Add(-time.Minute), connectors.Unavailable, time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", date.Format(http.TimeFormat))
				w.Header().Set("Retry-After", tc.after.Format(http.TimeFormat))
				w.Header().Set("Content-Type", "application/json; charset=UTF-8")
				w.WriteHeader(tc.status)
				reason := "rateLimitExceeded"
				if tc.status >= 500 {
					reason = "backendError"
				}
				fmt.Fprintf(w, `{"error":{"code":%d,"message":"slow down","errors":[{"reason":%q,"message":"slow down"}]}}`, tc.status, reason)
			}))
			t.Cleanup(ts.Close)
			c, err := google.New(t.Context(), google.Config{BaseURL: ts.URL, Token: "t"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1001", Email: adaEmail})
			ce := connErr(t, err, tc.kind)
			if ce.Status != tc.status || ce.RetryAfter != tc.wait {
				t.Errorf("status %d wait %s, want %d %s", ce.Status, ce.RetryAfter, tc.status, tc.wait)
			}
		})
	}
}

// TestRunActsOnThePlan: a first run, sent with what its plan found, acts
// on it and reads nothing; a plan gone stale is caught by Verify and put
// right by a run that reads.
func TestRunActsOnThePlan(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	ctx := t.Context()
	a := account(ada)
	steps := f.plan(t, ada)
	n := len(f.emu.Emulator().Requests())
	outs := map[string]connectors.Outcome{}
	for _, st := range steps {
		if st.Found == nil {
			t.Fatalf("plan of %s found nothing for its run", st.ID)
		}
		out, err := f.c.Run(ctx, a, st)
		if err != nil || out.Result != connectors.ResultDone {
			t.Fatalf("run %s: %+v %v", st.ID, out, err)
		}
		outs[st.ID] = out
	}
	writes := 0
	for _, r := range f.emu.Emulator().Requests()[n:] {
		if r.Method == http.MethodGet {
			t.Errorf("a first run read %s", r.Path)
		} else {
			writes++
		}
	}
	// Sign-out, invalidate, 2 app passwords, 2 tokens, suspend, 2 groups.
	if writes != 9 {
		t.Errorf("%d writes, want 9", writes)
	}
	for _, st := range steps {
		if err := f.c.Verify(ctx, a, st); err != nil {
			t.Errorf("verify %s: %v", st.ID, err)
		}
	}
	if got := outs[google.StepInvalidateBackupCodes].Records; !slices.Equal(got, []string{"invalidated 10 backup verification codes"}) {
		t.Errorf("backup code records %v", got)
	}
	if recs := strings.Join(outs[google.StepRevokeOAuthTokens].Records, "\n"); !strings.Contains(recs, "OAuth token of client "+acmeCLI+" (Acme CLI) scopes: "+driveURL) {
		t.Errorf("token records lack what the token could do:\n%s", recs)
	}
	// A retry of the codes step after the suspension (its first answer
	// lost): Google refuses a suspended user's codes, and none are valid.
	if out, err := f.c.Run(ctx, a, step(t, steps, google.StepInvalidateBackupCodes)); err != nil || out.Result != connectors.ResultAlready {
		t.Errorf("codes retried after the suspension: %+v %v, want already", out, err)
	}

	// ken has no backup codes when planned; some are made after the plan.
	st := step(t, f.plan(t, ken), google.StepInvalidateBackupCodes)
	if st.Found == nil || len(st.Found.IDs) != 0 {
		t.Fatalf("plan found %+v, want nothing to do", st.Found)
	}
	if err := f.sdk(t).VerificationCodes.Generate(ken).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	b := account(ken)
	if out, err := f.c.Run(ctx, b, st); err != nil || out.Result != connectors.ResultAlready {
		t.Fatalf("run on the stale plan: %+v %v, want already", out, err)
	}
	connErr(t, f.c.Verify(ctx, b, st), connectors.Conflict)
	st.Found = nil
	if out, err := f.c.Run(ctx, b, st); err != nil || out.Result != connectors.ResultDone {
		t.Fatalf("run reading: %+v %v, want done", out, err)
	}
	if err := f.c.Verify(ctx, b, st); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// TestFoundNotAsPlanned: a found value no plan writes (a step built by
// hand or tampered with) is refused before any call.
func TestFoundNotAsPlanned(t *testing.T) {
	t.Parallel()
	f := setup(t, options{})
	for name, c := range map[string]struct {
		step  string
		found connectors.Found
	}{
		"sign-out of another user":  {google.StepSignOut, connectors.Found{IDs: []string{ken}}},
		"sign-out of nobody":        {google.StepSignOut, connectors.Found{Records: []string{"x"}}},
		"codes of another user":     {google.StepInvalidateBackupCodes, connectors.Found{IDs: []string{ken}, Records: []string{"10"}}},
		"codes not counted":         {google.StepInvalidateBackupCodes, connectors.Found{IDs: []string{ada}, Records: []string{"ten"}}},
		"app password not a number": {google.StepDeleteAppPasswords, connectors.Found{IDs: []string{"1/../2"}, Records: []string{"r"}}},
		"app password no record":    {google.StepDeleteAppPasswords, connectors.Found{IDs: []string{"1"}}},
		"token client with a slash": {google.StepRevokeOAuthTokens, connectors.Found{IDs: []string{"a/b"}, Records: []string{"r"}}},
		"group empty":               {google.StepRemoveGroups, connectors.Found{IDs: []string{""}}},
		"suspend another user":      {google.StepSuspend, connectors.Found{IDs: []string{ken}}},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(f.emu.Emulator().Requests())
			st := stepOf(c.step)
			st.Found = &c.found
			_, err := f.c.Run(t.Context(), account(ada), st)
			connErr(t, err, connectors.InvalidInput)
			if got := f.emu.Emulator().Requests()[before:]; len(got) != 0 {
				t.Errorf("calls made: %d", len(got))
			}
		})
	}
	if u := f.user(t, ada); u.Suspended || u.BackupCodes != 10 || len(u.Tokens) != 2 {
		t.Errorf("state changed: %+v", u)
	}
}
