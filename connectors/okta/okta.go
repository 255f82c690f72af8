// Package okta is offboard's Okta connector: it resolves a person to their
// Okta user, plans and runs the revocation steps (admin roles, suspend or
// deactivate, sessions and OAuth tokens, consent grants, group memberships,
// MFA factors) and verifies each by reading Okta back.
//
// It uses okta-sdk-golang v2 with its GET cache off (a cached user would
// make a verify read stale) and its 429 retries off. Reads (GETs) that fail
// with a 5xx, a 429 or a connection error are retried a few times in the
// HTTP layer (connectors.RetryingTransport, honouring Retry-After); when
// those are spent, or for a write, the error comes back and the caller
// decides when to retry, from the RetryAfter every rate-limit error
// carries. It never
// calls DeactivateOrDeleteUser, which deletes a DEPROVISIONED user for good.
//
// Okta API reference: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// System is the connector's name, the prefix of its step IDs.
const System = "okta"

// Lifecycle values for Config.Lifecycle.
const (
	// LifecycleSuspend suspends the user: sign-in stops, group and app
	// assignments stay, and it can be undone with unsuspend.
	LifecycleSuspend = "suspend"
	// LifecycleDeactivate deactivates the user (DEPROVISIONED): app
	// assignments are removed and provisioning apps may deprovision
	// downstream.
	LifecycleDeactivate = "deactivate"
)

// Step actions, in plan order. Plan lists one of ActionSuspend and
// ActionDeactivate, by Config.Lifecycle; Run and Verify take either.
const (
	ActionRemoveAdminRoles = "remove-admin-roles"
	ActionSuspend          = "suspend"
	ActionDeactivate       = "deactivate"
	ActionClearSessions    = "clear-sessions"
	ActionRevokeGrants     = "revoke-grants"
	ActionRemoveGroups     = "remove-groups"
	ActionResetFactors     = "reset-factors"
)

// Step IDs of the actions ("okta.<action>"), made by connectors.StepID.
var (
	StepRemoveAdminRoles = connectors.StepID(System, ActionRemoveAdminRoles, "")
	StepSuspend          = connectors.StepID(System, ActionSuspend, "")
	StepDeactivate       = connectors.StepID(System, ActionDeactivate, "")
	StepClearSessions    = connectors.StepID(System, ActionClearSessions, "")
	StepRevokeGrants     = connectors.StepID(System, ActionRevokeGrants, "")
	StepRemoveGroups     = connectors.StepID(System, ActionRemoveGroups, "")
	StepResetFactors     = connectors.StepID(System, ActionResetFactors, "")
)

// Okta user statuses the connector acts on.
const (
	statusActive        = "ACTIVE"
	statusSuspended     = "SUSPENDED"
	statusDeprovisioned = "DEPROVISIONED"
)

// Config configures the connector.
type Config struct {
	// OrgURL is the org's base URL, like https://acme.okta.com. Plain http
	// is accepted only for 127.0.0.1 and localhost (the emulator).
	OrgURL string
	// Token is an SSWS API token.
	Token config.Secret
	// Lifecycle is "suspend" (default) or "deactivate". Never
	// DeactivateOrDeleteUser.
	Lifecycle string
	// HTTPClient is used for every request when set; it is copied, not
	// modified.
	HTTPClient *http.Client
	// Retry bounds the retries of reads (GETs) that fail with a 5xx, a 429
	// or a connection error; the zero value takes connectors' defaults.
	// Writes are never retried.
	Retry connectors.RetryPolicy
}

// Client is the Okta connector.
type Client struct {
	api       *sdk.Client
	lifecycle string
	now       func() time.Time
	// steps has every step kind, for Run and Verify; planned has the
	// configured lifecycle's, for Plan.
	steps, planned connectors.Steps[string]
}

var (
	_ connectors.Connector = (*Client)(nil)
	_ connectors.Resolver  = (*Client)(nil)
	_ connectors.Planner   = (*Client)(nil)
	_ connectors.Runner    = (*Client)(nil)
	_ connectors.Verifier  = (*Client)(nil)
)

// New validates cfg and builds the client. It makes no request.
func New(ctx context.Context, cfg Config) (*Client, error) {
	orgURL, plainHTTP, err := checkOrgURL(cfg.OrgURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, "configure", "%v", err)
	}
	token := strings.TrimSpace(cfg.Token.Reveal())
	if token == "" {
		return nil, connectors.InvalidInputf(System, "configure", "an API token is required")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, connectors.InvalidInputf(System, "configure", "the API token contains whitespace")
	}
	lifecycle := cfg.Lifecycle
	switch lifecycle {
	case "":
		lifecycle = LifecycleSuspend
	case LifecycleSuspend, LifecycleDeactivate:
	default:
		return nil, connectors.InvalidInputf(System, "configure", "lifecycle %q: want %q or %q", cfg.Lifecycle, LifecycleSuspend, LifecycleDeactivate)
	}
	opts := []sdk.ConfigSetter{
		sdk.WithOrgUrl(orgURL),
		sdk.WithToken(token),
		sdk.WithAuthorizationMode("SSWS"),
		sdk.WithCache(false),
		sdk.WithRateLimitMaxRetries(0),
		sdk.WithHttpClientPtr(wrapHTTPClient(cfg.HTTPClient, cfg.Retry)),
		sdk.WithUserAgentExtra("offboard"),
	}
	if plainHTTP {
		opts = append(opts, sdk.WithTestingDisableHttpsCheck(true))
	}
	_, api, err := sdk.NewClient(ctx, opts...)
	if err != nil {
		return nil, connectors.InvalidInputf(System, "configure", "%s", connectors.Scrub(err.Error()))
	}
	c := &Client{api: api, lifecycle: lifecycle, now: time.Now}
	c.tables()
	return c, nil
}

// checkOrgURL returns the org URL's origin and whether it is plain http to
// a loopback host.
func checkOrgURL(raw string) (string, bool, error) {
	if strings.TrimSpace(raw) == "" {
		return "", false, fmt.Errorf("OrgURL is required (like https://acme.okta.com)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false, fmt.Errorf("OrgURL %q is not an absolute URL (like https://acme.okta.com)", raw)
	}
	if u.User != nil {
		return "", false, fmt.Errorf("OrgURL must not carry credentials")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("OrgURL %q must be the org's base URL, without a path", raw)
	}
	host := u.Hostname()
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return "", false, fmt.Errorf("OrgURL %q must use https (http is allowed only for 127.0.0.1 and localhost)", raw)
		}
	default:
		return "", false, fmt.Errorf("OrgURL %q must use https", raw)
	}
	if strings.Contains(host, "-admin.") {
		return "", false, fmt.Errorf("OrgURL %q is the admin console; use the org URL without -admin", raw)
	}
	return u.Scheme + "://" + u.Host, u.Scheme == "http", nil
}

// Name returns "okta".
func (c *Client) Name() string { return System }

// okta user IDs are alphanumeric; anything else in an Account is refused
// rather than pasted into a URL path.
var userIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

func accountID(op string, a connectors.Account) (string, error) {
	if a.System != "" && a.System != System {
		return "", connectors.InvalidInputf(System, op, "account belongs to system %q, not okta", a.System)
	}
	if !userIDRE.MatchString(a.ID) {
		return "", connectors.InvalidInputf(System, op, "account ID %q is not an Okta user ID", a.ID)
	}
	return a.ID, nil
}

// collect follows Link rel="next" pages after a first page.
func collect[T any](ctx context.Context, op string, c *capture, items []T, resp *sdk.Response, err error) ([]T, error) {
	if err != nil {
		return nil, apiError(op, c, resp, err)
	}
	seen := map[string]bool{}
	for resp != nil && resp.HasNextPage() {
		if seen[resp.NextPage] || len(seen) >= 1000 {
			return nil, connectors.Unavailablef(System, op, "pagination did not end")
		}
		seen[resp.NextPage] = true
		var page []T
		resp, err = resp.Next(ctx, &page)
		if err != nil {
			return nil, apiError(op, c, resp, err)
		}
		items = append(items, page...)
	}
	return items, nil
}

func (c *Client) getUser(ctx context.Context, key string) (*sdk.User, error) {
	ctx, cp := withCapture(ctx)
	u, resp, err := c.api.User.GetUser(ctx, key)
	if err != nil {
		return nil, apiError("get user", cp, resp, err)
	}
	return u, nil
}

func (c *Client) searchUsers(ctx context.Context, expr string) ([]*sdk.User, error) {
	ctx, cp := withCapture(ctx)
	users, resp, err := c.api.User.ListUsers(ctx, query.NewQueryParams(query.WithSearch(expr)))
	return collect(ctx, "search users", cp, users, resp, err)
}

func (c *Client) listRoles(ctx context.Context, id string) ([]*sdk.Role, error) {
	ctx, cp := withCapture(ctx)
	roles, resp, err := c.api.User.ListAssignedRolesForUser(ctx, id, nil)
	return collect(ctx, "list admin roles", cp, roles, resp, err)
}

func (c *Client) listGroups(ctx context.Context, id string) ([]*sdk.Group, error) {
	ctx, cp := withCapture(ctx)
	groups, resp, err := c.api.User.ListUserGroups(ctx, id)
	return collect(ctx, "list groups", cp, groups, resp, err)
}

func (c *Client) listGrants(ctx context.Context, id string) ([]*sdk.OAuth2ScopeConsentGrant, error) {
	ctx, cp := withCapture(ctx)
	grants, resp, err := c.api.User.ListUserGrants(ctx, id, nil)
	return collect(ctx, "list grants", cp, grants, resp, err)
}

func (c *Client) listClients(ctx context.Context, id string) ([]*sdk.OAuth2Client, error) {
	ctx, cp := withCapture(ctx)
	clients, resp, err := c.api.User.ListUserClients(ctx, id)
	return collect(ctx, "list OAuth clients", cp, clients, resp, err)
}

// listFactors lists the user's enrolled factors (ACTIVE or pending
// activation).
func (c *Client) listFactors(ctx context.Context, id string) ([]*sdk.UserFactor, error) {
	ctx, cp := withCapture(ctx)
	fs, resp, err := c.api.UserFactor.ListFactors(ctx, id)
	var first []*sdk.UserFactor
	for _, f := range fs {
		if uf, ok := f.(*sdk.UserFactor); ok {
			first = append(first, uf)
		}
	}
	all, err := collect(ctx, "list factors", cp, first, resp, err)
	if err != nil {
		return nil, err
	}
	enrolled := all[:0]
	for _, f := range all {
		if f.Status == "" || f.Status == "ACTIVE" || f.Status == "PENDING_ACTIVATION" {
			enrolled = append(enrolled, f)
		}
	}
	return enrolled, nil
}
