// Package aws is offboard's AWS connector. It resolves a person to their IAM
// users (by the email tag) in every configured account and to their IAM
// Identity Center user, plans and runs the revocation steps, and verifies
// each by reading AWS back.
//
// For each IAM user, in this order: record and deactivate the access keys,
// deny every session issued before now (an inline policy on
// aws:TokenIssueTime, so temporary credentials minted from the keys stop
// working), delete the console password, MFA devices, SSH keys,
// service-specific credentials, signing certificates and access keys,
// remove the groups and detach the policies (keeping the deny). The user
// itself is never deleted. Then for the Identity Center user: remove the
// group memberships and account assignments, and add the user's ID to a
// deny statement in the kill-switch permission sets' inline policies
// (re-provisioned), which ends the role sessions Identity Center already
// handed out. A permission set that fails does not stop the others: the
// step denies the user in every set it can, then fails naming the sets
// still lacking the deny, with the records of what it did.
//
// It uses aws-sdk-go-v2. Writes are tried once (RetryMaxAttempts 1): a
// throttled or failed write returns at once as RateLimited or Unavailable,
// and the caller (the workflow, which records attempts and parks) decides
// when to retry. Reads (List*, Get*, Describe*, LookupEvents, and STS
// GetCallerIdentity and AssumeRole), which are safe to repeat, ride out
// transient failures (5xx, throttling, dropped connections) inside the call
// with the SDK's standard retryer: DefaultReadAttempts attempts in all, with
// its jittered backoff and any Retry-After, each wait at most
// DefaultReadMaxWait (see WithReadRetries).
package aws

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// System is the connector's name, the prefix of its step IDs.
const System = "aws"

// Actions, in plan order. Step IDs are "aws.<action>/<scope>": the scope
// is "<account>:<userId>" for IAM users, with the user's opaque unique ID
// (AIDA…, never the user name, which can be a person's name or email: step
// IDs end up in plaintext search attributes), and the Identity Center user
// ID for the sso-* actions. For example
// aws.deactivate-access-keys/111111111111:AIDAEXAMPLEEXAMPLE123.
const (
	ActionDeactivateAccessKeys = "deactivate-access-keys"
	ActionRevokeSessions       = "revoke-sessions"
	ActionDeleteLoginProfile   = "delete-login-profile"
	ActionRemoveMFA            = "remove-mfa"
	ActionDeleteSSHKeys        = "delete-ssh-keys"
	ActionDeleteServiceCreds   = "delete-service-credentials"
	ActionDeleteSigningCerts   = "delete-signing-certificates"
	ActionDeleteAccessKeys     = "delete-access-keys"
	ActionRemoveGroups         = "remove-groups"
	ActionDetachPolicies       = "detach-policies"
	ActionSSORemoveGroups      = "sso-remove-groups"
	ActionSSORemoveAssignments = "sso-remove-assignments"
	ActionSSOKillSessions      = "sso-kill-sessions"
)

// IAMActions are the per-IAM-user actions, in plan order.
var IAMActions = iamSteps.Actions()

// SSOActions are the Identity Center actions, in plan order.
var SSOActions = ssoSteps.Actions()

// RevokePolicyName is the inline policy that denies sessions issued before
// the revocation.
const RevokePolicyName = "OffboardingRevokeOlderSessions"

// Account attributes the connector sets on a resolved Account.
const (
	// AttrIAMUsers lists the person's IAM users as
	// "account:userId:userName,...": the unique ID (AIDA…) names the user
	// in step IDs, the name is what IAM's API takes. Names cannot contain
	// ':' but may contain ','.
	AttrIAMUsers = "iamUsers"
	// AttrSSOUserID is the Identity Center (identity store) user ID.
	AttrSSOUserID = "ssoUserId"
)

// Account is one AWS account offboard acts in.
type Account struct {
	// ID is the 12-digit account ID.
	ID string `yaml:"id"`
	// RoleARN, when set, is assumed (STS AssumeRole) to act in the
	// account; otherwise the default credentials are used, and they must
	// belong to this account.
	RoleARN string `yaml:"roleArn,omitempty"`
}

// Config configures the connector.
type Config struct {
	// Accounts lists the accounts whose IAM users are searched and
	// revoked, in order.
	Accounts []Account
	// Region signs requests; default us-east-1 (where IAM, and IAM's
	// CloudTrail events, live).
	Region string
	// Endpoint is one base URL for every service (the emulator); empty
	// means real AWS. Plain http is accepted only for loopback hosts.
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials (tests, dev).
	// Empty means the SDK's default credential chain.
	AccessKeyID     string
	SecretAccessKey config.Secret
	// IdentityStoreID (d-…) and InstanceARN (arn:aws:sso:::instance/…)
	// enable IAM Identity Center. The default credentials must reach it
	// (the management or delegated administrator account).
	IdentityStoreID string
	InstanceARN     string
	// IdentityCenterRegion is the region of the Identity Center instance;
	// default Region.
	IdentityCenterRegion string
	// KillSwitchPermissionSets names the permission sets (ARNs or names)
	// whose inline policy gets the deny on the leaver's identity store user
	// ID. Empty means every permission set of the instance.
	KillSwitchPermissionSets []string
}

// Option changes how the client works; tests use them.
type Option func(*options)

type options struct {
	httpClient   *http.Client
	now          func() time.Time
	pollInterval time.Duration
	pollTimeout  time.Duration
	lookupPace   time.Duration
	readAttempts int
	readMaxWait  time.Duration
}

// WithHTTPClient sends every request through hc.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithClock sets the clock used for the revoke-sessions cut-off time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithPolling sets how often and how long Identity Center's asynchronous
// operations are polled within one Run (defaults 1s and 30s). A run that
// times out returns Unavailable and the next run picks up where it was.
func WithPolling(interval, timeout time.Duration) Option {
	return func(o *options) { o.pollInterval, o.pollTimeout = interval, timeout }
}

// WithLookupPace sets the wait between LookupEvents pages (default 500ms,
// CloudTrail's 2 requests per second); 0 or less means no wait.
func WithLookupPace(d time.Duration) Option { return func(o *options) { o.lookupPace = d } }

// WithReadRetries sets how reads retry inside a call: attempts in all
// (default DefaultReadAttempts; 1 or less means no retry, like writes), each
// retry after the SDK's jittered exponential backoff or the Retry-After the
// service sent, whichever is longer, but never more than maxWait (default
// DefaultReadMaxWait). An answer asking for a longer wait is returned at
// once, with its RetryAfter, for the caller to wait.
func WithReadRetries(attempts int, maxWait time.Duration) Option {
	return func(o *options) { o.readAttempts, o.readMaxWait = attempts, maxWait }
}

// Client is the AWS connector.
type Client struct {
	cfg  Config
	base sdkaws.Config
	opts options

	accounts []*accountClient
	ids      *identitystore.Client
	sso      *ssoadmin.Client
	sts      *sts.Client

	mu     sync.Mutex
	psARNs map[string]string // permission set name -> ARN
	// router, when set, applies kill-switch denies one batch per
	// permission set at a time (connectors.Shared).
	router connectors.SharedRouter
}

// accountClient reaches one account.
type accountClient struct {
	id      string
	roleARN string
	creds   sdkaws.CredentialsProvider
	iam     *iam.Client
	trail   *cloudtrail.Client

	mu      sync.Mutex
	checked bool // the credentials were seen to belong to the account

	// tags is the account's email tag index (see usersTagged).
	tags tagIndex
}

var (
	_ connectors.Connector = (*Client)(nil)
	_ connectors.Resolver  = (*Client)(nil)
	_ connectors.Planner   = (*Client)(nil)
	_ connectors.Runner    = (*Client)(nil)
	_ connectors.Verifier  = (*Client)(nil)
)

var (
	accountIDRE  = regexp.MustCompile(`^\d{12}$`)
	roleARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\x21-\x7e]+$`)
	storeIDRE    = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	instanceRE   = regexp.MustCompile(`^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	psARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)
	psNameRE     = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	accessKeyRE  = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	iamUserRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamUserIDRE  = regexp.MustCompile(`^AIDA[A-Z0-9]{12,124}$`)
	ssoUserIDRE  = regexp.MustCompile(`^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	defaultPolls = options{pollInterval: time.Second, pollTimeout: 30 * time.Second, lookupPace: lookupPace, readAttempts: DefaultReadAttempts, readMaxWait: DefaultReadMaxWait}
)

// New validates cfg and builds the client. It makes no request: roles are
// assumed, and default credentials checked against their account, on first
// use.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	const op = "configure"
	o := defaultPolls
	for _, fn := range opts {
		fn(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.pollInterval <= 0 {
		o.pollInterval = time.Millisecond
	}
	if o.pollTimeout <= 0 {
		o.pollTimeout = defaultPolls.pollTimeout
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if !regionRE.MatchString(cfg.Region) {
		return nil, connectors.InvalidInputf(System, op, "region %q is not an AWS region (like us-east-1)", cfg.Region)
	}
	if cfg.IdentityCenterRegion == "" {
		cfg.IdentityCenterRegion = cfg.Region
	}
	if !regionRE.MatchString(cfg.IdentityCenterRegion) {
		return nil, connectors.InvalidInputf(System, op, "Identity Center region %q is not an AWS region (like eu-west-1)", cfg.IdentityCenterRegion)
	}
	sso := cfg.IdentityStoreID != "" || cfg.InstanceARN != ""
	if len(cfg.Accounts) == 0 && !sso {
		return nil, connectors.InvalidInputf(System, op, "configure at least one account or IAM Identity Center (IdentityStoreID and InstanceARN)")
	}
	seen := map[string]bool{}
	for i, a := range cfg.Accounts {
		if !accountIDRE.MatchString(a.ID) {
			return nil, connectors.InvalidInputf(System, op, "accounts[%d]: ID %q is not a 12-digit AWS account ID", i, a.ID)
		}
		if seen[a.ID] {
			return nil, connectors.InvalidInputf(System, op, "account %s is configured twice", a.ID)
		}
		seen[a.ID] = true
		if a.RoleARN != "" {
			m := roleARNRE.FindStringSubmatch(a.RoleARN)
			if m == nil {
				return nil, connectors.InvalidInputf(System, op, "account %s: RoleARN %q is not an IAM role ARN (like arn:aws:iam::%s:role/Offboarding)", a.ID, a.RoleARN, a.ID)
			}
			if m[1] != a.ID {
				return nil, connectors.InvalidInputf(System, op, "account %s: RoleARN %q is a role in account %s", a.ID, a.RoleARN, m[1])
			}
		}
	}
	if sso {
		if !storeIDRE.MatchString(cfg.IdentityStoreID) {
			return nil, connectors.InvalidInputf(System, op, "IdentityStoreID %q is not an identity store ID (like d-1234567890)", cfg.IdentityStoreID)
		}
		if !instanceRE.MatchString(cfg.InstanceARN) {
			return nil, connectors.InvalidInputf(System, op, "InstanceARN %q is not an Identity Center instance ARN (like arn:aws:sso:::instance/ssoins-1234567890abcdef)", cfg.InstanceARN)
		}
	}
	for _, ps := range cfg.KillSwitchPermissionSets {
		if !sso {
			return nil, connectors.InvalidInputf(System, op, "KillSwitchPermissionSets needs IAM Identity Center (IdentityStoreID and InstanceARN)")
		}
		if !psARNRE.MatchString(ps) && !psNameRE.MatchString(ps) {
			return nil, connectors.InvalidInputf(System, op, "kill-switch permission set %q is neither a permission set ARN nor a name", ps)
		}
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, connectors.InvalidInputf(System, op, "set both AccessKeyID and SecretAccessKey, or neither (for the default credential chain)")
	}
	if cfg.AccessKeyID != "" && !accessKeyRE.MatchString(cfg.AccessKeyID) {
		return nil, connectors.InvalidInputf(System, op, "AccessKeyID is not an access key ID")
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			return nil, connectors.InvalidInputf(System, op, "%v", err)
		}
	}

	lo := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithRetryMaxAttempts(1),
		awsconfig.WithAppID("offboard"),
	}
	if o.httpClient != nil {
		lo = append(lo, awsconfig.WithHTTPClient(o.httpClient))
	}
	if cfg.AccessKeyID != "" {
		lo = append(lo, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), "")))
	}
	if cfg.Endpoint != "" {
		lo = append(lo, awsconfig.WithBaseEndpoint(strings.TrimSuffix(cfg.Endpoint, "/")))
	}
	base, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, connectors.InvalidInputf(System, op, "load AWS configuration: %s", connectors.Scrub(err.Error()))
	}
	// No retries inside a write, whatever the shared config says; reads
	// get their own retryer.
	base.RetryMaxAttempts = 1
	// Every attempt, once signed, waits for the budget its context carries.
	base.APIOptions = append(base.APIOptions, paced)
	if o.readAttempts > 1 {
		if o.readMaxWait <= 0 {
			o.readMaxWait = DefaultReadMaxWait
		}
		base.APIOptions = append(base.APIOptions, readRetries(newReadRetryer(o.readAttempts, o.readMaxWait)))
	}

	c := &Client{cfg: cfg, base: base, opts: o, psARNs: map[string]string{}}
	c.sts = sts.NewFromConfig(base)
	for _, a := range cfg.Accounts {
		ac := &accountClient{id: a.ID, roleARN: a.RoleARN, creds: base.Credentials}
		if a.RoleARN != "" {
			ac.creds = sdkaws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.sts, a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = "offboard"
			}))
		}
		acfg := base.Copy()
		acfg.Credentials = ac.creds
		ac.iam = iam.NewFromConfig(acfg)
		ac.trail = cloudtrail.NewFromConfig(acfg)
		c.accounts = append(c.accounts, ac)
	}
	if sso {
		scfg := base.Copy()
		scfg.Region = cfg.IdentityCenterRegion
		c.ids = identitystore.NewFromConfig(scfg)
		c.sso = ssoadmin.NewFromConfig(scfg)
	}
	return c, nil
}

func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q must be a plain base URL", raw)
	}
	host := u.Hostname()
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return fmt.Errorf("endpoint %q must use https (http is allowed only for 127.0.0.1 and localhost)", raw)
		}
	default:
		return fmt.Errorf("endpoint %q must use https", raw)
	}
	return nil
}

// Name returns "aws".
func (c *Client) Name() string { return System }

// account returns the client of a configured account, ready to use: the
// role assumed, or the default credentials seen to belong to the account.
func (c *Client) account(ctx context.Context, id string) (*accountClient, error) {
	i := slices.IndexFunc(c.accounts, func(a *accountClient) bool { return a.id == id })
	if i < 0 {
		return nil, connectors.InvalidInputf(System, "find account", "account %s is not configured", id)
	}
	ac := c.accounts[i]
	if _, err := ac.creds.Retrieve(ctx); err != nil {
		op := "get credentials"
		if ac.roleARN != "" {
			op = "assume role " + ac.roleARN
		}
		return nil, apiError(op, err)
	}
	if ac.roleARN != "" {
		return ac, nil
	}
	ac.mu.Lock()
	checked := ac.checked
	ac.mu.Unlock()
	if checked {
		return ac, nil
	}
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, apiError("get caller identity", err)
	}
	if got := sdkaws.ToString(out.Account); got != id {
		return nil, connectors.InvalidInputf(System, "get caller identity", "the default credentials belong to account %s, not %s; set a RoleARN for account %s", got, id, id)
	}
	ac.mu.Lock()
	ac.checked = true
	ac.mu.Unlock()
	return ac, nil
}

func (c *Client) ssoEnabled() bool { return c.ids != nil }
