// Package slack is offboard's Slack connector for an Enterprise Grid org:
// it resolves a person to their Slack user, deactivates the user through
// SCIM and wipes their sessions with admin.users.session.reset, and
// verifies each step by reading Slack back.
//
// Reads of the Web API (users.info, users.lookupByEmail) go through
// slack-go with the bot token; slack-go has no SCIM client and no
// admin.users.session.* methods, so those are plain HTTP with the org
// admin's user token. slack-go's DisableUser is never used (its host is
// hard-coded to the legacy users.admin endpoint). Reads (SCIM GETs, and
// the Web API reads users.info, users.lookupByEmail and
// admin.users.session.list, which are POSTs the connector marks with
// connectors.MarkRead) that fail with a 5xx, a 429 or a connection error
// are retried a few times in the HTTP layer (connectors.RetryingTransport,
// honouring Retry-After); writes never are. What remains comes back as an
// error: a rate limit as RateLimited, carrying the Retry-After Slack sent.
//
// The account itself is never deleted: SCIM DELETE deactivates, and Slack
// keeps the user, who can be reactivated.
package slack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// System is the connector's name, the prefix of its step IDs.
const System = "slack"

// Step actions, in plan order.
const (
	ActionDeactivate    = "deactivate"
	ActionResetSessions = "reset-sessions"
)

// Step IDs of the actions ("slack.<action>"), made by connectors.StepID.
var (
	StepDeactivate    = connectors.StepID(System, ActionDeactivate, "")
	StepResetSessions = connectors.StepID(System, ActionResetSessions, "")
)

// DefaultUserIDAttribute is the subject attribute (an Okta profile
// attribute) that names the person's Slack user ID when
// Config.UserIDAttribute is empty.
const DefaultUserIDAttribute = "slackUserId"

// Account statuses.
const (
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
)

// Default base URLs.
const (
	DefaultAPIURL   = "https://slack.com/api/"
	DefaultSCIMURL  = "https://api.slack.com/scim/v2/"
	DefaultAuditURL = "https://api.slack.com/audit/v1/"
)

// Config configures the connector.
type Config struct {
	// APIURL is the Web API base. Default https://slack.com/api/.
	APIURL string
	// SCIMURL is the SCIM v2 base. Default https://api.slack.com/scim/v2/.
	SCIMURL string
	// AuditURL is the Audit Logs API base, ending in /audit/v1/. Default
	// https://api.slack.com/audit/v1/.
	AuditURL string
	// AdminToken is an org owner's or admin's user token (xoxp-…) with the
	// admin, admin.users:read and admin.users:write scopes, for SCIM and
	// admin.users.*.
	AdminToken config.Secret
	// BotToken is the app's bot token (xoxb-…) with users:read and
	// users:read.email, for users.info and users.lookupByEmail. Empty means
	// the AdminToken is used for those reads too.
	BotToken config.Secret
	// TeamID is the workspace (T…) whose sessions are listed for a user.
	TeamID string
	// UserIDAttribute is the subject attribute that names the person's
	// Slack user ID, as the identity system reports it. Default
	// DefaultUserIDAttribute ("slackUserId").
	UserIDAttribute string
}

// Option adjusts a Client.
type Option func(*options)

type options struct {
	hc    *http.Client
	retry connectors.RetryPolicy
}

// WithHTTPClient sends every request through hc (copied, not modified).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.hc = hc }
}

// WithRetry bounds the retries of reads that fail with a 5xx, a 429 or a
// connection error. Without it connectors' defaults apply. Writes are
// never retried.
func WithRetry(p connectors.RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// Client is the Slack connector.
type Client struct {
	api        *sdk.Client
	hc         *http.Client
	apiURL     string
	scimURL    string
	auditURL   string
	adminToken string
	teamID     string
	// userIDAttr is the subject attribute holding the Slack user ID.
	userIDAttr string
	steps      connectors.Steps[string]
}

var (
	_ connectors.Connector = (*Client)(nil)
	_ connectors.Resolver  = (*Client)(nil)
	_ connectors.Planner   = (*Client)(nil)
	_ connectors.Runner    = (*Client)(nil)
	_ connectors.Verifier  = (*Client)(nil)
)

var teamIDRE = regexp.MustCompile(`^T[A-Z0-9]{2,20}$`)

// New validates cfg and builds the client. It makes no request.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	const op = "configure"
	var o options
	for _, f := range opts {
		f(&o)
	}
	apiURL, err := baseURL("APIURL", cfg.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	scimURL, err := baseURL("SCIMURL", cfg.SCIMURL, DefaultSCIMURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	auditURL, err := baseURL("AuditURL", cfg.AuditURL, DefaultAuditURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	auditBase, ok := strings.CutSuffix(auditURL, "audit/v1/")
	if !ok {
		return nil, connectors.InvalidInputf(System, op, "AuditURL %q must end in /audit/v1/ (like %s)", auditURL, DefaultAuditURL)
	}
	admin, err := checkToken("AdminToken", cfg.AdminToken, "xoxp-")
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	if admin == "" {
		return nil, connectors.InvalidInputf(System, op, "AdminToken is required: an org admin's user token (xoxp-…) with the admin and admin.users:* scopes")
	}
	bot, err := checkToken("BotToken", cfg.BotToken, "xoxb-", "xoxp-")
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	if bot == "" {
		bot = admin
	}
	if !teamIDRE.MatchString(cfg.TeamID) {
		if cfg.TeamID == "" {
			return nil, connectors.InvalidInputf(System, op, "TeamID is required: the workspace ID (T…) whose sessions are listed")
		}
		return nil, connectors.InvalidInputf(System, op, "TeamID %q is not a workspace ID (like T0123ABCD)", cfg.TeamID)
	}
	attr := strings.TrimSpace(cfg.UserIDAttribute)
	if attr == "" {
		attr = DefaultUserIDAttribute
	}
	if strings.ContainsAny(attr, " \t\r\n") {
		return nil, connectors.InvalidInputf(System, op, "UserIDAttribute %q is not an attribute name", cfg.UserIDAttribute)
	}

	var hc http.Client
	if o.hc != nil {
		hc = *o.hc
	} else {
		hc.Timeout = 60 * time.Second
	}
	hc = *connectors.RetryingClient(&hc, o.retry)
	// slack-go reads Retry-After only as seconds; its client gets the
	// header in that form (of the last response, after the retries).
	sdkHC := hc
	base := sdkHC.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	sdkHC.Transport = retryAfterSeconds{base: base}
	api := sdk.New(bot,
		sdk.OptionAPIURL(apiURL),
		sdk.OptionAuditAPIURL(auditBase),
		sdk.OptionHTTPClient(&sdkHC),
	)
	c := &Client{api: api, hc: &hc, apiURL: apiURL, scimURL: scimURL, auditURL: auditURL, adminToken: admin, teamID: cfg.TeamID, userIDAttr: attr}
	c.steps = connectors.Steps[string]{System: System, Kinds: c.stepKinds()}
	return c, nil
}

// API is the connector's slack-go client (bot token, base URL, retries of
// reads), for the Slack app's messages.
func (c *Client) API() *sdk.Client { return c.api }

// retryAfterSeconds rewrites a 429's Retry-After given as an HTTP-date
// into seconds (by connectors.RetryAfter), the only form slack-go reads.
type retryAfterSeconds struct{ base http.RoundTripper }

func (t retryAfterSeconds) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return resp, nil
	}
	if _, err := strconv.Atoi(v); err != nil {
		resp.Header.Set("Retry-After", strconv.Itoa(int(connectors.RetryAfter(resp.Header, time.Now())/time.Second)))
	}
	return resp, nil
}

// baseURL checks a base URL and returns it with a trailing slash. Plain
// http is accepted only for loopback hosts (the emulator).
func baseURL(name, raw, def string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return def, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%s %q is not an absolute URL (like %s)", name, raw, def)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s must not carry credentials", name)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s %q must not have a query or fragment", name, raw)
	}
	host := u.Hostname()
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return "", fmt.Errorf("%s %q must use https (http is allowed only for 127.0.0.1 and localhost)", name, raw)
		}
	default:
		return "", fmt.Errorf("%s %q must use https", name, raw)
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

func checkToken(name string, s config.Secret, prefixes ...string) (string, error) {
	tok := strings.TrimSpace(s.Reveal())
	if tok == "" {
		return "", nil
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s contains whitespace", name)
	}
	for _, p := range prefixes {
		if strings.HasPrefix(tok, p) {
			return tok, nil
		}
	}
	return "", fmt.Errorf("%s must be a Slack token starting with %s", name, strings.Join(prefixes, " or "))
}

// Name returns "slack".
func (c *Client) Name() string { return System }

// Slack user IDs: U… for workspace users, W… for Enterprise Grid users.
// Anything else is refused rather than pasted into a URL path.
var userIDRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

func accountID(op string, a connectors.Account) (string, error) {
	if a.System != "" && a.System != System {
		return "", connectors.InvalidInputf(System, op, "account belongs to system %q, not slack", a.System)
	}
	if !userIDRE.MatchString(a.ID) {
		return "", connectors.InvalidInputf(System, op, "account ID %q is not a Slack user ID", a.ID)
	}
	return a.ID, nil
}

// userInfo reads users.info.
//
// https://docs.slack.dev/reference/methods/users.info
func (c *Client) userInfo(ctx context.Context, op, id string) (*sdk.User, error) {
	u, err := c.api.GetUserInfoContext(connectors.MarkRead(ctx), id, sdk.GetUserInfoOptionIncludeLocale(false))
	if err != nil {
		return nil, sdkError(op, err)
	}
	return u, nil
}

// lookupByEmail reads users.lookupByEmail. Slack does not find deactivated
// users this way.
//
// https://docs.slack.dev/reference/methods/users.lookupByEmail
func (c *Client) lookupByEmail(ctx context.Context, op, email string) (*sdk.User, error) {
	u, err := c.api.GetUserByEmailContext(connectors.MarkRead(ctx), email)
	if err != nil {
		return nil, sdkError(op, err)
	}
	return u, nil
}
