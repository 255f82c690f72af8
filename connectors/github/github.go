// Package github is offboard's GitHub connector: it resolves a person to
// their GitHub login, and in each configured organization plans, runs and
// verifies the steps that cut them off: revoke their SAML SSO credential
// authorizations, revoke their fine-grained personal access tokens' access
// and deny pending requests, remove their membership (which also cancels a
// pending invitation to the login), cancel invitations addressed to their
// email, and remove them as an outside collaborator.
//
// The order matters: GitHub stops listing a user's credential
// authorizations once the membership is gone, so they are recorded and
// revoked first. It never deletes or changes the user account itself.
//
// It uses go-github v60, which never retries or sleeps. Below it, reads
// (GETs) that fail with a 5xx, a 429 or a connection error are retried a
// few times (connectors.RetryingTransport, honouring Retry-After); writes
// never are. Rate limits that remain (primary, secondary, 429, and the
// SDK's own refusal to call while it knows the limit is exhausted) come
// back as RateLimited errors carrying the wait GitHub asked for. Endpoints v60 lacks (fine-grained PAT list
// and revoke, invitation cancel) are called with the SDK's NewRequest and
// Do, so they share its authentication, rate-limit tracking and errors.
//
// GitHub REST reference: https://docs.github.com/rest/orgs
package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// System is the connector's name, the prefix of its step IDs.
const System = "github"

// Step actions, in the order they run within an organization. A step's ID
// is connectors.StepID("github", action, org) and its Scope the org.
const (
	ActionRevokeCredentialAuthorizations = "revoke-credential-authorizations"
	ActionRevokeFineGrainedPATs          = "revoke-fine-grained-pats"
	ActionRemoveMembership               = "remove-membership"
	ActionCancelInvitations              = "cancel-invitations"
	ActionRemoveOutsideCollaborator      = "remove-outside-collaborator"
)

// Actions lists the step actions in run order.
var Actions = table.Actions()

// Account attributes set by Resolve.
const (
	// AttrOrgs is the comma-separated configured orgs the person is in
	// (member, invited, outside collaborator or holding an authorization).
	AttrOrgs = "orgs"
	// AttrRoles is "<org>:<role>" per org in AttrOrgs, comma-separated;
	// role is admin, member, invited, outside_collaborator or credential.
	AttrRoles = "roles"
	// AttrUserID is the numeric GitHub user ID, which survives renames.
	AttrUserID = "githubUserId"
	// AttrEmailHashes is the comma-separated SHA-256 (hex) of the
	// person's lower-cased email addresses, used to match invitations
	// addressed by email without carrying the address.
	AttrEmailHashes = "emailSha256"
)

// DefaultUsernameAttribute is the subject attribute (from Okta's profile)
// that names the person's GitHub login unless Config.UsernameAttribute
// says otherwise.
const DefaultUsernameAttribute = "githubUsername"

// DefaultBaseURL is the API of github.com.
const DefaultBaseURL = "https://api.github.com/"

// Config configures the connector.
type Config struct {
	// Orgs are the organizations to act on, in the order their steps run.
	Orgs []string
	// BaseURL is the REST API root: empty for github.com
	// (https://api.github.com/), https://HOST/api/v3/ for GitHub
	// Enterprise Server, or an emulator's URL. Plain http is accepted only
	// for 127.0.0.1 and localhost.
	BaseURL string
	// Token is a GitHub App installation token (required by the
	// fine-grained PAT endpoints) or a classic PAT with admin:org.
	Token config.Secret
	// UsernameAttribute is the subject attribute that names the person's
	// GitHub login. Default DefaultUsernameAttribute.
	UsernameAttribute string
	// HTTPClient is used for every request when set; it is copied, not
	// modified.
	HTTPClient *http.Client
	// Retry bounds the retries of reads (GETs) that fail with a 5xx, a 429
	// or a connection error; the zero value takes connectors' defaults.
	// Writes are never retried.
	Retry connectors.RetryPolicy
}

// Option changes how the client works.
type Option func(*Client)

// WithClock sets the clock used to turn a rate-limit reset time into a
// wait when the response carries no Date header. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// Client is the GitHub connector.
type Client struct {
	api  *gh.Client
	orgs []string
	// userAttr is the subject attribute holding the login.
	userAttr string
	now      func() time.Time
}

var (
	_ connectors.Connector = (*Client)(nil)
	_ connectors.Resolver  = (*Client)(nil)
	_ connectors.Planner   = (*Client)(nil)
	_ connectors.Runner    = (*Client)(nil)
	_ connectors.Verifier  = (*Client)(nil)
)

// orgRE and loginRE keep what goes into URL paths safe: GitHub org names
// and logins are letters, digits and hyphens (managed users add an
// underscore and a short code).
var (
	orgRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)
	loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9])?$`)
)

// New validates cfg and builds the client. It makes no request.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	const op = "configure"
	if len(cfg.Orgs) == 0 {
		return nil, connectors.InvalidInputf(System, op, "at least one organization is required (Orgs)")
	}
	var orgs []string
	for _, o := range cfg.Orgs {
		o = strings.TrimSpace(o)
		if !orgRE.MatchString(o) || strings.Contains(o, "--") {
			return nil, connectors.InvalidInputf(System, op, "organization %q is not a GitHub organization name", o)
		}
		if slices.ContainsFunc(orgs, func(x string) bool { return strings.EqualFold(x, o) }) {
			return nil, connectors.InvalidInputf(System, op, "organization %q is listed twice", o)
		}
		orgs = append(orgs, o)
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "%v", err)
	}
	token := strings.TrimSpace(cfg.Token.Reveal())
	if token == "" {
		return nil, connectors.InvalidInputf(System, op, "a token is required (a GitHub App installation token or a PAT with admin:org)")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, connectors.InvalidInputf(System, op, "the token contains whitespace (give the token alone, without Bearer or token)")
	}
	userAttr := strings.TrimSpace(cfg.UsernameAttribute)
	if userAttr == "" {
		userAttr = DefaultUsernameAttribute
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Timeout = 60 * time.Second
	}
	c := &Client{orgs: orgs, userAttr: userAttr, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	retry := cfg.Retry
	if retry.Wait == nil {
		retry.Wait = c.retryWait
	}
	c.api = gh.NewClient(connectors.RetryingClient(&hc, retry)).WithAuthToken(token)
	c.api.BaseURL = base
	c.api.UserAgent = "offboard"
	return c, nil
}

// checkBaseURL returns the API root with a trailing slash.
func checkBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("BaseURL %q is not an absolute URL (like https://api.github.com/ or https://HOST/api/v3/)", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("BaseURL must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("BaseURL %q must not have a query or fragment", raw)
	}
	host := strings.ToLower(u.Hostname())
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return nil, fmt.Errorf("BaseURL %q must use https (http is allowed only for 127.0.0.1 and localhost)", raw)
		}
	default:
		return nil, fmt.Errorf("BaseURL %q must use https", raw)
	}
	if host == "github.com" || host == "www.github.com" {
		return nil, fmt.Errorf("BaseURL %q is the web host; the API is https://api.github.com/", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// Name returns "github".
func (c *Client) Name() string { return System }

// Orgs returns the configured organizations, in step order.
func (c *Client) Orgs() []string { return slices.Clone(c.orgs) }

func (c *Client) org(name string) (string, bool) {
	for _, o := range c.orgs {
		if strings.EqualFold(o, name) {
			return o, true
		}
	}
	return "", false
}

// accountLogin checks an Account is a GitHub one with a usable login.
func accountLogin(op string, a connectors.Account) (string, error) {
	if a.System != "" && a.System != System {
		return "", connectors.InvalidInputf(System, op, "account belongs to system %q, not github", a.System)
	}
	if !loginRE.MatchString(a.ID) {
		return "", connectors.InvalidInputf(System, op, "account ID %q is not a GitHub login", a.ID)
	}
	return a.ID, nil
}

// emailHash is how AttrEmailHashes carries an address.
func emailHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// emailHashes collects the hashes an account carries, plus any plain email
// attribute the workflow merged in.
func emailHashes(a connectors.Account) map[string]bool {
	m := map[string]bool{}
	for h := range strings.SplitSeq(a.Attributes[AttrEmailHashes], ",") {
		if h = strings.TrimSpace(h); h != "" {
			m[h] = true
		}
	}
	for _, k := range []string{"email", "secondEmail"} {
		if e := a.Attributes[k]; strings.Contains(e, "@") {
			m[emailHash(e)] = true
		}
	}
	return m
}

// listError is apiError for an org-wide list. A 404 there means the org
// does not exist or the token cannot see it (or, for the fine-grained PAT
// lists, a GitHub Enterprise Server without them): a configuration
// problem, reported as InvalidInput so it cannot read as "no account".
func (c *Client) listError(op, org string, resp *gh.Response, err error) error {
	err = c.apiError(op, resp, err)
	var ce *connectors.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		ce.Kind = connectors.InvalidInput
		ce.Msg += fmt.Sprintf(" (organization %s does not exist, or the token cannot see it or this endpoint)", org)
		ce.Err = errors.New(ce.Msg)
	}
	return err
}

// maxPages stops a list whose pagination never ends.
const maxPages = 1000

// pages calls fetch for page 1, 2, ... until GitHub's Link header has no
// next page.
func pages(op string, fetch func(page int) (*gh.Response, error)) error {
	page := 1
	for range maxPages {
		resp, err := fetch(page)
		if err != nil {
			return err
		}
		if resp == nil || resp.NextPage == 0 {
			return nil
		}
		if resp.NextPage <= page {
			break
		}
		page = resp.NextPage
	}
	return &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Msg: "pagination did not end"}
}

func (c *Client) getUser(ctx context.Context, login string) (*gh.User, error) {
	u, resp, err := c.api.Users.Get(ctx, login)
	if err != nil {
		return nil, c.apiError("get user", resp, err)
	}
	return u, nil
}

// getMembership returns the org membership of login, or nil when GitHub
// answers 404 (not a member, no pending invitation to the login).
func (c *Client) getMembership(ctx context.Context, org, login string) (*gh.Membership, error) {
	// user first, org second: go-github's argument order.
	m, resp, err := c.api.Organizations.GetOrgMembership(ctx, login, org)
	if err != nil {
		err = c.apiError("get membership in "+org, resp, err)
		if connectors.StatusOf(err) == http.StatusNotFound {
			return nil, nil
		}
		return nil, err
	}
	return m, nil
}

func (c *Client) listCredentials(ctx context.Context, org, login string) ([]*gh.CredentialAuthorization, error) {
	op := "list credential authorizations in " + org
	var out []*gh.CredentialAuthorization
	err := pages(op, func(page int) (*gh.Response, error) {
		// GitHub filters by login (one person's credentials, not the org's
		// every page); go-github v60's options have no login, so the
		// request is built here. The login is checked again below.
		q := url.Values{"login": {login}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		req, err := c.api.NewRequest(http.MethodGet, fmt.Sprintf("orgs/%s/credential-authorizations?%s", org, q.Encode()), nil)
		if err != nil {
			return nil, connectors.InvalidInputf(System, op, "%s", connectors.Scrub(err.Error()))
		}
		var creds []*gh.CredentialAuthorization
		resp, err := c.api.Do(ctx, req, &creds)
		if err != nil {
			err = c.apiError(op, resp, err)
			if connectors.StatusOf(err) == http.StatusNotFound {
				// Only orgs on GitHub Enterprise Cloud with SAML SSO have
				// credential authorizations; elsewhere the list is a 404.
				// (A wrong org name shows up in the other lists.)
				return nil, nil
			}
			return nil, err
		}
		for _, cr := range creds {
			if strings.EqualFold(cr.GetLogin(), login) {
				out = append(out, cr)
			}
		}
		return resp, nil
	})
	return out, err
}

// patGrant is a fine-grained PAT's access to an org, or a request for it,
// as GET /orgs/{org}/personal-access-tokens[-requests] lists them.
type patGrant struct {
	ID              int64         `json:"id"`
	Owner           *gh.User      `json:"owner"`
	TokenID         int64         `json:"token_id"`
	TokenExpired    bool          `json:"token_expired"`
	TokenExpiresAt  *gh.Timestamp `json:"token_expires_at"`
	TokenLastUsedAt *gh.Timestamp `json:"token_last_used_at"`
	AccessGrantedAt *gh.Timestamp `json:"access_granted_at"`
	CreatedAt       *gh.Timestamp `json:"created_at"`
}

// listTokens lists, for one owner, the fine-grained PATs with access to
// the org (kind "personal-access-tokens") or the pending requests (kind
// "personal-access-token-requests"). go-github v60 has neither list.
func (c *Client) listTokens(ctx context.Context, org, kind, login string) ([]patGrant, error) {
	op := "list fine-grained PATs in " + org
	if kind == "personal-access-token-requests" {
		op = "list fine-grained PAT requests in " + org
	}
	var out []patGrant
	err := pages(op, func(page int) (*gh.Response, error) {
		q := url.Values{"owner[]": {login}, "per_page": {"100"}, "page": {fmt.Sprint(page)}}
		req, err := c.api.NewRequest(http.MethodGet, fmt.Sprintf("orgs/%s/%s?%s", org, kind, q.Encode()), nil)
		if err != nil {
			return nil, connectors.InvalidInputf(System, op, "%s", connectors.Scrub(err.Error()))
		}
		var list []patGrant
		resp, err := c.api.Do(ctx, req, &list)
		if err != nil {
			return nil, c.listError(op, org, resp, err)
		}
		for _, p := range list {
			if p.Owner == nil || strings.EqualFold(p.Owner.GetLogin(), login) {
				out = append(out, p)
			}
		}
		return resp, nil
	})
	return out, err
}

// listInvitations lists the org's pending invitations addressed to login
// or to one of the email hashes.
func (c *Client) listInvitations(ctx context.Context, org, login string, hashes map[string]bool) ([]*gh.Invitation, error) {
	op := "list invitations in " + org
	var out []*gh.Invitation
	err := pages(op, func(page int) (*gh.Response, error) {
		invs, resp, err := c.api.Organizations.ListPendingOrgInvitations(ctx, org, &gh.ListOptions{Page: page, PerPage: 100})
		if err != nil {
			return nil, c.listError(op, org, resp, err)
		}
		for _, inv := range invs {
			byLogin := inv.GetLogin() != "" && strings.EqualFold(inv.GetLogin(), login)
			byEmail := inv.GetEmail() != "" && hashes[emailHash(inv.GetEmail())]
			if byLogin || byEmail {
				out = append(out, inv)
			}
		}
		return resp, nil
	})
	return out, err
}

// isOutsideCollaborator reports whether login is an outside collaborator
// of the org.
func (c *Client) isOutsideCollaborator(ctx context.Context, org, login string) (bool, error) {
	op := "list outside collaborators in " + org
	found := false
	err := pages(op, func(page int) (*gh.Response, error) {
		users, resp, err := c.api.Organizations.ListOutsideCollaborators(ctx, org, &gh.ListOutsideCollaboratorsOptions{ListOptions: gh.ListOptions{Page: page, PerPage: 100}})
		if err != nil {
			return nil, c.listError(op, org, resp, err)
		}
		for _, u := range users {
			if strings.EqualFold(u.GetLogin(), login) {
				found = true
				return nil, nil // stop paging
			}
		}
		return resp, nil
	})
	return found, err
}
