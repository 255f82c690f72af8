// Package google is offboard's Google Workspace connector: it resolves a
// person to their Workspace user, plans and runs the revocation steps
// (backup verification codes, app-specific passwords, OAuth tokens,
// sign-out, suspension, group memberships) and verifies each by reading
// Google back.
//
// The order matters: Google refuses to touch the backup verification codes
// of a suspended user, so they are invalidated first, and everything that
// needs the account active runs before the suspension.
//
// It uses google.golang.org/api's admin/directory/v1 and admin/reports/v1
// clients. Their REST calls are not retried by the library. Below it, reads
// (GETs) that fail with a 5xx, a 429 or a connection error are retried a
// few times (connectors.RetryingTransport, honouring Retry-After); writes
// never are. What remains comes back as an error: a throttled call as a
// RateLimited error with the wait Google asked for. It never deletes the
// user.
//
// Admin SDK reference: https://developers.google.com/workspace/admin/directory/reference/rest
package google

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
	googleauth "golang.org/x/oauth2/google"
	directory "google.golang.org/api/admin/directory/v1"
	reports "google.golang.org/api/admin/reports/v1"
	"google.golang.org/api/option"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// System is the connector's name, the prefix of its step IDs.
const System = "google"

// Step actions, in plan order. Backup codes come first: Google cannot
// invalidate them once the user is suspended.
const (
	ActionInvalidateBackupCodes = "invalidate-backup-codes"
	ActionDeleteAppPasswords    = "delete-app-passwords"
	ActionRevokeOAuthTokens     = "revoke-oauth-tokens"
	ActionSignOut               = "sign-out"
	ActionSuspend               = "suspend"
	ActionRemoveGroups          = "remove-groups"
)

// Actions lists the step actions in plan order.
var Actions = table.Actions()

// Step IDs ("google.<action>": Google steps have no scope).
var (
	StepInvalidateBackupCodes = connectors.StepID(System, ActionInvalidateBackupCodes, "")
	StepDeleteAppPasswords    = connectors.StepID(System, ActionDeleteAppPasswords, "")
	StepRevokeOAuthTokens     = connectors.StepID(System, ActionRevokeOAuthTokens, "")
	StepSignOut               = connectors.StepID(System, ActionSignOut, "")
	StepSuspend               = connectors.StepID(System, ActionSuspend, "")
	StepRemoveGroups          = connectors.StepID(System, ActionRemoveGroups, "")
)

// StepOrder lists the step IDs in the order Plan returns them.
var StepOrder = func() []string {
	ids := make([]string, 0, len(table.Kinds))
	for _, a := range table.Actions() {
		ids = append(ids, connectors.StepID(System, a, ""))
	}
	return ids
}()

// Account statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// DefaultBaseURL is Google's Admin SDK endpoint.
const DefaultBaseURL = "https://admin.googleapis.com/"

// Scopes are the OAuth scopes the connector needs. With domain-wide
// delegation, the service account's client ID must be granted all of them
// in the Admin console (Security > API controls > Domain-wide delegation).
var Scopes = []string{
	directory.AdminDirectoryUserScope,         // get and suspend users
	directory.AdminDirectoryUserSecurityScope, // signOut, tokens, asps, verificationCodes
	directory.AdminDirectoryGroupReadonlyScope,
	directory.AdminDirectoryGroupMemberScope, // remove memberships
	reports.AdminReportsAuditReadonlyScope,   // sign-out evidence
}

// Config configures the connector. Give either Token (a static OAuth access
// token: the emulator, or a short-lived token in development) or
// CredentialsFile and AdminSubject (production: a service account with
// domain-wide delegation impersonating an admin).
type Config struct {
	// Customer is the Workspace customer ID (like C01abc23d). Empty means
	// my_customer. When it is a real ID, Resolve refuses users of another
	// customer.
	Customer string
	// Domain is the Workspace's primary domain (like acme.com). When set,
	// a subject whose email is in another domain is not looked up: Resolve
	// reports NotFound unless a "google" override names the account.
	Domain string
	// BaseURL overrides the Admin SDK endpoint; empty means
	// https://admin.googleapis.com/. Plain http is accepted only for
	// 127.0.0.1 and localhost (the emulator).
	BaseURL string
	// CredentialsFile is the path of a service-account JSON key.
	CredentialsFile string
	// AdminSubject is the admin the service account impersonates. It is
	// required with CredentialsFile; Resolve refuses to offboard it.
	AdminSubject string
	// Token is a static OAuth access token, sent as "Bearer <token>".
	Token config.Secret
}

// Option adjusts a Client.
type Option func(*options)

type options struct {
	httpClient *http.Client
	retry      connectors.RetryPolicy
	now        func() time.Time
	lookback   time.Duration
}

// WithHTTPClient sends every request (and, with a credentials file, every
// token exchange) through hc's transport and timeout. hc is copied, not
// modified.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithRetry bounds the retries of reads (GETs) that fail with a 5xx, a 429
// or a connection error. Without it connectors' defaults apply. Writes
// (and token exchanges, which are POSTs) are never retried.
func WithRetry(p connectors.RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithClock sets the clock used for Reports API time windows.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSignOutLookback sets how far back the Reports API is searched for the
// user's sign-out and sign-ins (default 7 days, at most 180).
func WithSignOutLookback(d time.Duration) Option { return func(o *options) { o.lookback = d } }

// Client is the Google Workspace connector.
type Client struct {
	dir      *directory.Service
	rep      *reports.Service
	customer string
	domain   string
	subject  string
	now      func() time.Time
	lookback time.Duration
}

var (
	_ connectors.Connector = (*Client)(nil)
	_ connectors.Resolver  = (*Client)(nil)
	_ connectors.Planner   = (*Client)(nil)
	_ connectors.Runner    = (*Client)(nil)
	_ connectors.Verifier  = (*Client)(nil)
)

var (
	customerRE = regexp.MustCompile(`^C[0-9A-Za-z]{5,20}$`)
	domainRE   = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	emailRE    = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
)

// New validates cfg and builds the client. It reads the credentials file
// but makes no request.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	o := options{now: time.Now, lookback: 7 * 24 * time.Hour}
	for _, opt := range opts {
		opt(&o)
	}
	if o.lookback <= 0 || o.lookback > 180*24*time.Hour {
		return nil, connectors.InvalidInputf(System, "configure", "sign-out lookback %s: want more than 0 and at most 180 days", o.lookback)
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, "configure", "%v", err)
	}
	customer := strings.TrimSpace(cfg.Customer)
	switch {
	case customer == "":
		customer = "my_customer"
	case customer == "my_customer", customerRE.MatchString(customer):
	default:
		return nil, connectors.InvalidInputf(System, "configure", "Customer %q is not a Workspace customer ID (like C01abc23d) or my_customer", cfg.Customer)
	}
	domain := strings.ToLower(strings.TrimSpace(cfg.Domain))
	if domain != "" && !domainRE.MatchString(domain) {
		return nil, connectors.InvalidInputf(System, "configure", "Domain %q is not a domain name (like acme.com)", cfg.Domain)
	}
	subject := strings.TrimSpace(cfg.AdminSubject)
	if subject != "" && !emailRE.MatchString(subject) {
		// Not quoted back: it is meant to be an email address.
		return nil, connectors.InvalidInputf(System, "configure", "AdminSubject is not an email address")
	}
	token := strings.TrimSpace(cfg.Token.Reveal())
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, connectors.InvalidInputf(System, "configure", "the token contains whitespace")
	}

	// Retries sit under the credentials: a retry resends the same token.
	base0 := connectors.RetryingClient(baseHTTPClient(o.httpClient), o.retry)
	var hc *http.Client
	switch {
	case token != "" && cfg.CredentialsFile != "":
		return nil, connectors.InvalidInputf(System, "configure", "set either Token or CredentialsFile, not both")
	case token != "":
		hc = withTransport(base0, bearer{token: token, base: transportOf(base0)})
	case cfg.CredentialsFile != "":
		if subject == "" {
			return nil, connectors.InvalidInputf(System, "configure", "AdminSubject (the admin to impersonate) is required with CredentialsFile")
		}
		key, err := os.ReadFile(cfg.CredentialsFile)
		if err != nil {
			return nil, connectors.InvalidInputf(System, "configure", "read credentials file: %v", err)
		}
		jwt, err := googleauth.JWTConfigFromJSON(key, Scopes...)
		if err != nil {
			return nil, connectors.InvalidInputf(System, "configure", "credentials file: %s", connectors.Scrub(err.Error()))
		}
		jwt.Subject = subject
		// The token source outlives ctx (it refreshes tokens for every later
		// call); token requests use the same transport and timeout.
		tctx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, base0)
		hc = withTransport(base0, &oauth2.Transport{Source: jwt.TokenSource(tctx), Base: transportOf(base0)})
	default:
		return nil, connectors.InvalidInputf(System, "configure", "credentials are required: Token, or CredentialsFile with AdminSubject")
	}

	// The HTTP client carries the credentials; the library adds none.
	common := []option.ClientOption{option.WithHTTPClient(hc), option.WithoutAuthentication(), option.WithEndpoint(base), option.WithUserAgent("offboard")}
	dir, err := directory.NewService(ctx, common...)
	if err != nil {
		return nil, connectors.InvalidInputf(System, "configure", "directory client: %s", connectors.Scrub(err.Error()))
	}
	rep, err := reports.NewService(ctx, common...)
	if err != nil {
		return nil, connectors.InvalidInputf(System, "configure", "reports client: %s", connectors.Scrub(err.Error()))
	}
	return &Client{dir: dir, rep: rep, customer: customer, domain: domain, subject: strings.ToLower(subject), now: o.now, lookback: o.lookback}, nil
}

// checkBaseURL returns the endpoint with a trailing slash (the library
// resolves its paths against it). Plain http is allowed only to a loopback
// host.
func checkBaseURL(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("BaseURL %q is not an absolute URL (like https://admin.googleapis.com/)", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("BaseURL must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("BaseURL %q must not have a query or fragment", raw)
	}
	host := u.Hostname()
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return "", fmt.Errorf("BaseURL %q must use https (http is allowed only for 127.0.0.1 and localhost)", raw)
		}
	default:
		return "", fmt.Errorf("BaseURL %q must use https", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

// baseHTTPClient is a copy of hc, or a client with a 60 s timeout.
func baseHTTPClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = 60 * time.Second
	}
	return &c
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

func withTransport(c *http.Client, rt http.RoundTripper) *http.Client {
	cp := *c
	cp.Transport = rt
	return &cp
}

// bearer adds a static access token to every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// Name returns "google".
func (c *Client) Name() string { return System }

// Google user IDs are numeric; anything else in an Account is refused
// rather than pasted into a URL path.
var userIDRE = regexp.MustCompile(`^[0-9]{1,30}$`)

func accountID(op string, a connectors.Account) (string, error) {
	if a.System != "" && a.System != System {
		return "", connectors.InvalidInputf(System, op, "account belongs to system %q, not google", a.System)
	}
	if !userIDRE.MatchString(a.ID) {
		// Not quoted back: a wrong ID may be an email address.
		return "", connectors.InvalidInputf(System, op, "account ID is not a Google user ID (a number)")
	}
	return a.ID, nil
}
