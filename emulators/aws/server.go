// Package aws is a stateful stand-in for the parts of AWS that offboard
// uses: IAM users and their credentials (query protocol, XML), STS
// AssumeRole and GetCallerIdentity (query protocol, XML), the IAM Identity
// Center identity store (AWSIdentityStore.*) and admin API
// (SWBExternalService.*), and CloudTrail Event history (LookupEvents), the
// last three over JSON 1.1 with X-Amz-Target. Everything is served on one
// listener, dispatched by the request itself, with AWS's real wire shapes,
// status codes and error bodies, so the aws-sdk-go-v2 clients work against
// it with only BaseEndpoint changed.
//
// Accounts and credentials: every account in the seed has a long-term key
// pair (AccountCredentials); Options.AccessKeyID belongs to the first
// (management) account. STS AssumeRole on arn:aws:iam::<account>:role/<any>
// returns temporary credentials (ASIA…, with a session token) for that
// account. An IAM call acts on the account of the key that signed it, so a
// connector reaches each account by assuming a role there, or with that
// account's key. IAM users' own access keys authenticate too while Active,
// which shows a deactivated key failing. Identity Center and CloudTrail
// calls are accepted from any account (a simplification; real Identity
// Center answers only the management or delegated administrator account).
// Requests must be SigV4-signed with a known key; the signature is verified
// unless Options.SkipSignatureCheck is set.
//
// Request log and faults: every AWS request is POST / on the wire, so the
// emulator hands the shared emu wrapper a virtual path /<service>/<Action>
// (/iam/UpdateAccessKey, /sts/AssumeRole, /identitystore/GetUserId,
// /sso/DeleteAccountAssignment, /cloudtrail/LookupEvents). The request log
// shows it and emu.Fault.Path matches it, so a fault can target one action.
//
// POST /_emulator/events appends Event history given as CloudTrail records
// (see emu.EventsPath and events.go). POST /_emulator/attempt simulates
// the person coming back, an API call with an IAM user's access key or a
// console sign-in, and records it in CloudTrail (see emu.AttemptPath and
// attempt.go).
//
// The emulator logs nothing; what it did is visible through
// /_emulator/requests and /_emulator/state (which carries no names or
// emails: IAM users appear by account and user ID).
package aws

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// AccessKeyID and SecretAccessKey are a key pair of the management
	// account (the first in the seed) that the emulator accepts, like an
	// API token. Defaults DefaultAccessKeyID and DefaultSecretAccessKey.
	AccessKeyID     string
	SecretAccessKey string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// PageSize is the default page size of every paged list (IAM MaxItems,
	// Identity Center MaxResults). Default 100 (IAM's default).
	PageSize int
	// Rates are requests per second per account, in one-second windows on
	// the emulator's clock; above them the answer is Throttling (IAM, STS,
	// HTTP 400) or ThrottlingException (HTTP 429 for the identity store and
	// admin API, 400 for CloudTrail). Defaults: 100, except LookupEvents at
	// CloudTrail's real 2 per second.
	IAMRate           int
	STSRate           int
	IdentityStoreRate int
	SSOAdminRate      int
	LookupEventsRate  int
	// AsyncDelay is how long an Identity Center assignment deletion or
	// permission set provisioning takes on the emulator's clock. Whatever
	// the clock says, the first Describe of a request answers IN_PROGRESS
	// and the next SUCCEEDED. Default 2s.
	AsyncDelay time.Duration
	// SessionDuration is how long AssumeRole credentials last when the
	// request does not say. Default 1h.
	SessionDuration time.Duration
	// SkipSignatureCheck accepts any signature from a known key.
	SkipSignatureCheck bool
}

// The management account's default key pair.
const (
	DefaultAccessKeyID     = "AKIAOFFBOARDEMULATOR"
	DefaultSecretAccessKey = "offboard/emulator/secret/access/key/0000"
)

// Server is the AWS emulator. It implements http.Handler.
type Server struct {
	// Store holds the state; handlers Lock it, use St, and Unlock. Its
	// lock also guards buckets.
	*emu.Store[state]
	opts Options
	emu  *emu.Emulator
	// seed is the AWS part of the org the emulator was made with, for
	// DevSection.
	seed    seed.AWSOrg
	buckets map[string]*bucket
	// org is the seed, for DevScenario.
	org *seed.Org
}

type bucket struct {
	window time.Time
	used   int
}

// New returns an emulator seeded with the AWS part of org. A nil org gives
// one empty account.
func New(org *seed.Org, opts Options) *Server {
	if opts.AccessKeyID == "" {
		opts.AccessKeyID = DefaultAccessKeyID
	}
	if opts.SecretAccessKey == "" {
		opts.SecretAccessKey = DefaultSecretAccessKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	for _, r := range []*int{&opts.IAMRate, &opts.STSRate, &opts.IdentityStoreRate, &opts.SSOAdminRate} {
		if *r <= 0 {
			*r = 100
		}
	}
	if opts.LookupEventsRate <= 0 {
		opts.LookupEventsRate = 2
	}
	if opts.AsyncDelay <= 0 {
		opts.AsyncDelay = 2 * time.Second
	}
	if opts.SessionDuration <= 0 {
		opts.SessionDuration = time.Hour
	}
	if org == nil {
		org = &seed.Org{}
	}
	s := &Server{Store: emu.NewStore("aws", fromSeed(org), (*state).normalize), opts: opts, seed: org.AWS, buckets: map[string]*bucket{}, org: org}
	s.emu = emu.New(http.HandlerFunc(s.serveAPI), func() any { return s.State() }, s.writeFault)
	s.emu.SetEvents(s.eventsEndpoint())
	s.emu.SetAttempts(s.attempt)
	return s
}

// Emulator returns the wrapper that injects faults and latency and keeps the
// request log.
func (s *Server) Emulator() *emu.Emulator { return s.emu }

// AccountCredentials returns the long-term key pair the emulator accepts
// for an account.
func (s *Server) AccountCredentials(acct string) (keyID, secret string, ok bool) {
	s.Lock()
	defer s.Unlock()
	for _, c := range s.St.Credentials {
		if c.Kind == credAccount && c.Account == acct {
			return c.KeyID, c.Secret, true
		}
	}
	return "", "", false
}

// AccessKeySecret returns the secret of an IAM user's access key, so a test
// can sign with the user's own key.
func (s *Server) AccessKeySecret(keyID string) (string, bool) {
	s.Lock()
	defer s.Unlock()
	_, k := s.St.keyOwner(keyID)
	if k == nil {
		return "", false
	}
	return k.Secret, true
}

// LoadState replaces the state with one written by SaveState (see
// emu.Store.LoadState) and resets the rate windows.
func (s *Server) LoadState(r io.Reader) error {
	if err := s.Store.LoadState(r); err != nil {
		return err
	}
	s.Lock()
	s.buckets = map[string]*bucket{}
	s.Unlock()
	return nil
}

// --- request classification ---------------------------------------------

// Services, as they appear in virtual paths.
const (
	svcIAM           = "iam"
	svcSTS           = "sts"
	svcIdentityStore = "identitystore"
	svcSSOAdmin      = "sso"
	svcCloudTrail    = "cloudtrail"
)

const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
	maxBody    = 1 << 20
)

// call is one classified AWS request.
type call struct {
	service string
	action  string
	// wirePath is the path the request really had.
	wirePath string
	body     []byte
	params   url.Values // query protocol parameters
	// problem is set when the request cannot be an AWS call.
	problem string
	rid     string
}

type callKey struct{}

// ServeHTTP serves the AWS APIs and the /_emulator/ control endpoints. AWS
// requests are classified first, so the request log and faults see the
// virtual path /<service>/<Action>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.emu.ServeHTTP(w, r)
		return
	}
	c := classify(r)
	r2 := r.Clone(context.WithValue(r.Context(), callKey{}, c))
	r2.Body = io.NopCloser(bytes.NewReader(c.body))
	if c.service != "" && c.action != "" {
		r2.URL.Path, r2.URL.RawPath = "/"+c.service+"/"+c.action, ""
	}
	s.emu.ServeHTTP(w, r2)
}

func classify(r *http.Request) *call {
	c := &call{wirePath: r.URL.Path, rid: newRequestID()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		c.problem = "could not read the request body"
		return c
	}
	if len(body) > maxBody {
		c.problem = "request body too large"
		return c
	}
	c.body = body
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, action, ok := cutLast(target, ".")
		if !ok {
			c.problem = "unknown X-Amz-Target " + target
			return c
		}
		switch prefix {
		case "AWSIdentityStore":
			c.service = svcIdentityStore
		case "SWBExternalService":
			c.service = svcSSOAdmin
		case "CloudTrail_20131101", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101":
			c.service = svcCloudTrail
		default:
			c.problem = "unknown X-Amz-Target " + target
			return c
		}
		c.action = action
		return c
	}
	var params url.Values
	switch r.Method {
	case http.MethodPost:
		params, err = url.ParseQuery(string(body))
		if err != nil {
			c.problem = "malformed form body"
			return c
		}
	case http.MethodGet:
		params = r.URL.Query()
	}
	c.params = params
	switch params.Get("Version") {
	case iamVersion:
		c.service = svcIAM
	case stsVersion:
		c.service = svcSTS
	default:
		// Without a Version, tell IAM and STS apart by the signing scope.
		if sig, err := parseAuthorization(r.Header.Get("Authorization")); err == nil && (sig.Service == svcIAM || sig.Service == svcSTS) {
			c.service = sig.Service
		} else {
			c.problem = "the request is neither a query-protocol call (Action, Version) nor a JSON call (X-Amz-Target)"
			return c
		}
	}
	c.action = params.Get("Action")
	return c
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func callOf(r *http.Request) *call {
	if c, ok := r.Context().Value(callKey{}).(*call); ok {
		return c
	}
	return &call{rid: newRequestID(), problem: "unclassified request"}
}

// --- errors ----------------------------------------------------------------

// apiError is an AWS error answer.
type apiError struct {
	status int
	code   string
	msg    string
	// retryAfter, in seconds, is sent as Retry-After when set.
	retryAfter int
	// extra holds modeled JSON error members (ResourceType, Reason, ...).
	extra map[string]any
}

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

var namespaces = map[string]string{
	svcIAM: "https://iam.amazonaws.com/doc/2010-05-08/",
	svcSTS: "https://sts.amazonaws.com/doc/2011-06-15/",
}

func isQuery(service string) bool { return service == svcIAM || service == svcSTS || service == "" }

// writeError writes e in the protocol of the call's service: an XML
// ErrorResponse for IAM and STS, a JSON body with __type for the others.
func writeError(w http.ResponseWriter, c *call, e *apiError) {
	h := w.Header()
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if isQuery(c.service) {
		ns := namespaces[c.service]
		if ns == "" {
			ns = namespaces[svcIAM]
		}
		typ := "Sender"
		if e.status >= 500 {
			typ = "Receiver"
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>`, ns, typ, e.code)
		_ = xml.EscapeText(&b, []byte(e.msg))
		fmt.Fprintf(&b, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, c.rid)
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", c.rid)
		w.WriteHeader(e.status)
		_, _ = w.Write(b.Bytes())
		return
	}
	body := map[string]any{"__type": e.code, "message": e.msg}
	if c.service == svcCloudTrail {
		body = map[string]any{"__type": e.code, "Message": e.msg}
	}
	for k, v := range e.extra {
		body[k] = v
	}
	h.Set("X-Amzn-Errortype", e.code)
	writeJSON(w, c, e.status, body)
}

func writeJSON(w http.ResponseWriter, c *call, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", c.rid)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeResult writes a query-protocol success: <ActionResponse><ActionResult>
// with v's fields (no result element when v is nil), and the request ID.
func writeResult(w http.ResponseWriter, c *call, v any) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, c.action, namespaces[c.service])
	if v != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: c.action + "Result"}}); err != nil {
			writeError(w, c, errf(500, "InternalFailure", "could not encode the response"))
			return
		}
		_ = enc.Flush()
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, c.rid, c.action)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", c.rid)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// writeFault is the emu.ErrorWriter: an injected failure, written the way
// the addressed service writes that status.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	c := callOf(r)
	e := &apiError{status: status}
	if retryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		e.retryAfter = int((retryAfter + time.Second - 1) / time.Second)
	}
	query := isQuery(c.service)
	pick := func(q, j string) string {
		if query {
			return q
		}
		return j
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.code, e.msg = pick("Throttling", "ThrottlingException"), "Rate exceeded"
	case status == http.StatusUnauthorized:
		e.code, e.msg = pick("InvalidClientTokenId", "UnrecognizedClientException"), "The security token included in the request is invalid."
	case status == http.StatusForbidden:
		e.code = pick("AccessDenied", "AccessDeniedException")
		e.msg = fmt.Sprintf("User: arn:aws:iam::%s:root is not authorized to perform: %s:%s", s.managementAccount(), c.service, c.action)
	case status == http.StatusNotFound:
		e.code, e.msg = pick("NoSuchEntity", "ResourceNotFoundException"), "The requested resource cannot be found."
	case status == http.StatusConflict:
		e.code = pick("EntityTemporarilyUnmodifiable", "ConflictException")
		e.msg = "The request was rejected because it referenced an entity that is temporarily unmodifiable."
	case status == http.StatusServiceUnavailable:
		e.code, e.msg = "ServiceUnavailable", "Service is unavailable. Please try again later."
	case status >= 500:
		e.code, e.msg = pick("ServiceFailure", "InternalServerException"), "The request processing has failed because of an unknown error, exception or failure."
		if c.service == svcSTS || c.service == svcCloudTrail {
			e.code = "InternalFailure"
		}
	default:
		e.code, e.msg = pick("InvalidInput", "ValidationException"), "The request was rejected (emulator fault injection)."
	}
	writeError(w, c, e)
}

func (s *Server) managementAccount() string {
	s.Lock()
	defer s.Unlock()
	return s.St.managementAccount()
}

// --- authentication -------------------------------------------------------

// principal is who signed a request.
type principal struct {
	account string
	arn     string
	userID  string
	name    string // CloudTrail's userName: root, the IAM user, the session
	keyID   string
	kind    string // "account", "session", "user"
	issued  time.Time
}

func (s *Server) authenticate(r *http.Request, c *call, now time.Time) (*principal, *apiError) {
	query := isQuery(c.service)
	pick := func(q, j string) string {
		if query {
			return q
		}
		return j
	}
	sig, err := parseAuthorization(r.Header.Get("Authorization"))
	if err == errNoAuth {
		return nil, errf(403, pick("MissingAuthenticationToken", "MissingAuthenticationTokenException"), "Request is missing Authentication Token")
	}
	if err != nil {
		return nil, errf(403, pick("IncompleteSignature", "IncompleteSignatureException"), "%s", err.Error())
	}
	invalid := errf(403, pick("InvalidClientTokenId", "UnrecognizedClientException"), "The security token included in the request is invalid.")
	var p *principal
	var secret, token string
	switch {
	case sig.KeyID == s.opts.AccessKeyID:
		acct := s.St.managementAccount()
		p = &principal{account: acct, arn: "arn:aws:iam::" + acct + ":root", userID: acct, name: "root", keyID: sig.KeyID, kind: credAccount}
		secret = s.opts.SecretAccessKey
	case s.St.credential(sig.KeyID) != nil:
		cr := s.St.credential(sig.KeyID)
		p = &principal{account: cr.Account, arn: cr.ARN, userID: cr.UserID, name: cr.Name, keyID: cr.KeyID, kind: cr.Kind, issued: cr.Issued}
		secret, token = cr.Secret, cr.SessionToken
		if cr.Kind == credSession && !now.Before(cr.Expires) {
			return nil, errf(403, pick("ExpiredToken", "ExpiredTokenException"), "The security token included in the request is expired")
		}
	default:
		u, k := s.St.keyOwner(sig.KeyID)
		if k == nil || k.Status != "Active" {
			return nil, invalid
		}
		p = &principal{account: u.Account, arn: u.arn(), userID: u.UserID, name: u.UserName, keyID: k.ID, kind: "user"}
		secret = k.Secret
	}
	if r.Header.Get("X-Amz-Security-Token") != token {
		return nil, invalid
	}
	if !s.opts.SkipSignatureCheck && !verifySigV4(r, c.wirePath, c.body, sig, secret) {
		if query {
			return nil, errf(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
		}
		return nil, errf(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	if p.kind == "user" {
		_, k := s.St.keyOwner(p.keyID)
		t := now
		k.LastUsed, k.LastService, k.LastRegion = &t, c.service, sig.Region
	}
	return p, nil
}

// --- rate limits -------------------------------------------------------------

func (s *Server) rate(c *call, acct string, now time.Time) bool {
	limit, name := 0, c.service
	switch c.service {
	case svcIAM:
		limit = s.opts.IAMRate
	case svcSTS:
		limit = s.opts.STSRate
	case svcIdentityStore:
		limit = s.opts.IdentityStoreRate
	case svcSSOAdmin:
		limit = s.opts.SSOAdminRate
	case svcCloudTrail:
		limit, name = s.opts.LookupEventsRate, "cloudtrail/"+c.action
	}
	key := name + "/" + acct
	win := now.Truncate(time.Second)
	b := s.buckets[key]
	if b == nil || !b.window.Equal(win) {
		b = &bucket{window: win}
		s.buckets[key] = b
	}
	if b.used >= limit {
		return false
	}
	b.used++
	return true
}

func throttled(c *call) *apiError {
	switch c.service {
	case svcIAM, svcSTS:
		return errf(400, "Throttling", "Rate exceeded")
	case svcIdentityStore:
		// The identity store models Retry-After on ThrottlingException.
		e := errf(429, "ThrottlingException", "Rate exceeded")
		e.retryAfter = 1
		return e
	case svcSSOAdmin:
		return errf(429, "ThrottlingException", "Rate exceeded")
	}
	return errf(400, "ThrottlingException", "Rate exceeded")
}

// --- dispatch -----------------------------------------------------------------

type handler func(w http.ResponseWriter, c *call, p *principal, now time.Time)

// serveAPI serves one classified AWS call: authentication, rate limit, then
// the action.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	c := callOf(r)
	if c.problem != "" {
		writeError(w, c, errf(404, "UnknownOperationException", "%s", c.problem))
		return
	}
	if c.wirePath != "/" {
		writeError(w, c, errf(404, "UnknownOperationException", "AWS APIs are served at /, not %s", c.wirePath))
		return
	}
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now().UTC()
	s.settle(now)
	p, e := s.authenticate(r, c, now)
	if e != nil {
		writeError(w, c, e)
		return
	}
	if !s.rate(c, p.account, now) {
		writeError(w, c, throttled(c))
		return
	}
	var h handler
	switch c.service {
	case svcIAM:
		h = s.iamHandlers()[c.action]
	case svcSTS:
		h = s.stsHandlers()[c.action]
	case svcIdentityStore:
		h = s.identityStoreHandlers()[c.action]
	case svcSSOAdmin:
		h = s.ssoAdminHandlers()[c.action]
	case svcCloudTrail:
		if c.action == "LookupEvents" {
			h = s.lookupEvents
		}
	}
	if h == nil {
		if isQuery(c.service) {
			if c.action == "" {
				writeError(w, c, errf(400, "MissingAction", "Missing Action"))
				return
			}
			writeError(w, c, errf(400, "InvalidAction", "Could not find operation %s for version %s", c.action, c.params.Get("Version")))
			return
		}
		writeError(w, c, errf(400, "UnknownOperationException", "Unknown operation %s", c.action))
		return
	}
	h(w, c, p, now)
}

// --- paging ---------------------------------------------------------------------

// pageToken is an opaque marker: the offset into a list, bound to what is
// listed so a marker from another list is refused.
func pageToken(scope string, offset int) string {
	return b32.EncodeToString(fmt.Appendf(nil, "%d|%s", offset, hashHex(12, scope)))
}

func parsePageToken(tok, scope string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	raw, err := b32.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, h, ok := strings.Cut(string(raw), "|")
	if !ok || h != hashHex(12, scope) {
		return 0, false
	}
	off, err := strconv.Atoi(n)
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}

// page cuts items[offset:offset+size] and says whether more follow.
func page[T any](items []T, offset, size int) ([]T, bool) {
	if offset > len(items) {
		offset = len(items)
	}
	end := min(offset+size, len(items))
	return items[offset:end], end < len(items)
}

// --- state snapshot ---------------------------------------------------------------

// State is what GET /_emulator/state serves: per IAM user, Identity Center
// user and permission set the facts offboard changes, and how many
// CloudTrail events exist. It holds no names or emails: IAM users appear by
// account and user ID.
type State struct {
	IAMUsers       []IAMUserState       `json:"iamUsers"`
	SSOUsers       []SSOUserState       `json:"ssoUsers"`
	PermissionSets []PermissionSetState `json:"permissionSets"`
	EventCount     int                  `json:"eventCount"`
}

// IAMUserState is one IAM user's revocable state.
type IAMUserState struct {
	Account             string     `json:"account"`
	UserID              string     `json:"userId"`
	AccessKeys          []KeyState `json:"accessKeys"`
	LoginProfile        bool       `json:"loginProfile"`
	MFADevices          []string   `json:"mfaDevices"` // serial numbers
	SSHKeys             []string   `json:"sshKeys"`
	ServiceCredentials  []string   `json:"serviceCredentials"`
	SigningCertificates []string   `json:"signingCertificates"`
	Groups              []string   `json:"groups"`
	ManagedPolicies     []string   `json:"managedPolicies"`
	InlinePolicies      []string   `json:"inlinePolicies"`
}

// KeyState is an access key and its status.
type KeyState struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// SSOUserState is one Identity Center user's group memberships and account
// assignments.
type SSOUserState struct {
	UserID      string            `json:"userId"`
	Groups      []string          `json:"groups"` // group IDs
	Assignments []AssignmentState `json:"assignments"`
}

// AssignmentState is one account assignment.
type AssignmentState struct {
	Account          string `json:"account"`
	PermissionSetARN string `json:"permissionSetArn"`
}

// PermissionSetState is a permission set's inline policy and where its
// latest version is not provisioned yet.
type PermissionSetState struct {
	ARN            string   `json:"arn"`
	Name           string   `json:"name"`
	InlinePolicy   string   `json:"inlinePolicy"`
	Version        int      `json:"version"`
	Provisioned    []string `json:"provisioned"`    // accounts
	NotProvisioned []string `json:"notProvisioned"` // accounts with an older version
}

func (s *Server) iamSnapshot(u *iamUser) IAMUserState {
	us := IAMUserState{
		Account: u.Account, UserID: u.UserID, LoginProfile: u.LoginProfile != nil,
		AccessKeys: []KeyState{}, MFADevices: []string{}, SSHKeys: []string{}, ServiceCredentials: []string{},
		SigningCertificates: []string{}, Groups: slices.Clone(u.Groups), ManagedPolicies: slices.Clone(u.Managed), InlinePolicies: []string{},
	}
	for _, k := range u.AccessKeys {
		us.AccessKeys = append(us.AccessKeys, KeyState{ID: k.ID, Status: k.Status})
	}
	for _, d := range s.St.MFADevices {
		if d.Account == u.Account && d.User == u.UserName {
			us.MFADevices = append(us.MFADevices, d.Serial)
		}
	}
	for _, k := range u.SSHKeys {
		us.SSHKeys = append(us.SSHKeys, k.ID)
	}
	for _, k := range u.ServiceCreds {
		us.ServiceCredentials = append(us.ServiceCredentials, k.ID)
	}
	for _, k := range u.Certs {
		us.SigningCertificates = append(us.SigningCertificates, k.ID)
	}
	for n := range u.Inline {
		us.InlinePolicies = append(us.InlinePolicies, n)
	}
	sort.Strings(us.InlinePolicies)
	if us.Groups == nil {
		us.Groups = []string{}
	}
	if us.ManagedPolicies == nil {
		us.ManagedPolicies = []string{}
	}
	return us
}

func (s *Server) ssoSnapshot(u *ssoUser) SSOUserState {
	us := SSOUserState{UserID: u.ID, Groups: []string{}, Assignments: []AssignmentState{}}
	for _, m := range s.St.Memberships {
		if m.UserID == u.ID {
			us.Groups = append(us.Groups, m.GroupID)
		}
	}
	for _, a := range s.St.Assignments {
		if a.PrincipalType == "USER" && a.PrincipalID == u.ID {
			us.Assignments = append(us.Assignments, AssignmentState{Account: a.Account, PermissionSetARN: a.PermissionSetARN})
		}
	}
	return us
}

func psSnapshot(p *permissionSet) PermissionSetState {
	ps := PermissionSetState{ARN: p.ARN, Name: p.Name, InlinePolicy: p.Inline, Version: p.Version, Provisioned: []string{}, NotProvisioned: []string{}}
	for a, v := range p.Provisioned {
		ps.Provisioned = append(ps.Provisioned, a)
		if v != p.Version {
			ps.NotProvisioned = append(ps.NotProvisioned, a)
		}
	}
	sort.Strings(ps.Provisioned)
	sort.Strings(ps.NotProvisioned)
	return ps
}

// State returns a snapshot of every user's and permission set's state.
func (s *Server) State() State {
	s.Lock()
	defer s.Unlock()
	s.settle(s.opts.Now().UTC())
	out := State{IAMUsers: []IAMUserState{}, SSOUsers: []SSOUserState{}, PermissionSets: []PermissionSetState{}}
	for _, u := range s.St.Users {
		out.IAMUsers = append(out.IAMUsers, s.iamSnapshot(u))
	}
	for _, u := range s.St.SSOUsers {
		out.SSOUsers = append(out.SSOUsers, s.ssoSnapshot(u))
	}
	for _, p := range s.St.PermissionSets {
		out.PermissionSets = append(out.PermissionSets, psSnapshot(p))
	}
	for _, e := range s.St.Events {
		if e.Management {
			out.EventCount++
		}
	}
	return out
}

// IAMUser returns a snapshot of one IAM user, by account and user name.
func (s *Server) IAMUser(acct, userName string) (IAMUserState, bool) {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(acct, userName)
	if u == nil {
		return IAMUserState{}, false
	}
	return s.iamSnapshot(u), true
}

// SetUserTag sets (or, with value "", removes) one tag of an IAM user, as
// IAM's TagUser and UntagUser would; false when there is no such user.
func (s *Server) SetUserTag(acct, userName, key, value string) bool {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(acct, userName)
	if u == nil {
		return false
	}
	u.Tags = slices.DeleteFunc(u.Tags, func(t tag) bool { return t.Key == key })
	if value != "" {
		u.Tags = append(u.Tags, tag{Key: key, Value: value})
	}
	return true
}

// RemoveUser removes an IAM user and what it holds, as an administrator's
// cleanup and IAM's DeleteUser would (its MFA devices are deactivated
// first, so they stay in the account unassigned); false when there is no
// such user.
func (s *Server) RemoveUser(acct, userName string) bool {
	s.Lock()
	defer s.Unlock()
	u := s.St.user(acct, userName)
	if u == nil {
		return false
	}
	for _, d := range s.userDevices(u) {
		d.User = ""
	}
	s.St.Users = slices.DeleteFunc(s.St.Users, func(o *iamUser) bool { return o == u })
	return true
}

// SSOUser returns a snapshot of one Identity Center user, by user ID.
func (s *Server) SSOUser(userID string) (SSOUserState, bool) {
	s.Lock()
	defer s.Unlock()
	s.settle(s.opts.Now().UTC())
	u := s.St.ssoUser(userID)
	if u == nil {
		return SSOUserState{}, false
	}
	return s.ssoSnapshot(u), true
}

// PermissionSet returns a snapshot of one permission set, by name or ARN.
func (s *Server) PermissionSet(nameOrARN string) (PermissionSetState, bool) {
	s.Lock()
	defer s.Unlock()
	s.settle(s.opts.Now().UTC())
	p := s.St.permissionSet(nameOrARN)
	if p == nil {
		p = s.St.permissionSetByName(nameOrARN)
	}
	if p == nil {
		return PermissionSetState{}, false
	}
	return psSnapshot(p), true
}

// Events returns the CloudTrail management events of an account, oldest
// first, as LookupEvents would return them (without the JSON record).
func (s *Server) Events(acct string) []EventState {
	s.Lock()
	defer s.Unlock()
	var out []EventState
	for _, e := range s.St.Events {
		if e.Management && e.Account == acct {
			out = append(out, EventState{ID: e.ID, Name: e.Name, Source: e.Source, Time: e.Time, AccessKeyID: e.AccessKeyID})
		}
	}
	return out
}

// EventState is a CloudTrail event, without who did it.
type EventState struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Source      string    `json:"source"`
	Time        time.Time `json:"time"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
