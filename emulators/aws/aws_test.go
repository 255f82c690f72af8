package aws_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

const (
	prod      = "111111111111"
	staging   = "222222222222"
	storeID   = "d-9067000001"
	inst      = "arn:aws:sso:::instance/ssoins-7223000000000001"
	adaSSO    = "90671001-aaaa-4bbb-8ccc-000000001001"
	francesID = "90671009-aaaa-4bbb-8ccc-000000001009"
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

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func demo(t *testing.T) *seed.Org {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	return org
}

type env struct {
	srv   *awsemu.Server
	ts    *httptest.Server
	clock *clock
}

// newEnv starts an emulator on a standing clock with rates high enough
// that only tests that lower them are throttled.
func newEnv(t *testing.T, opts awsemu.Options) *env {
	t.Helper()
	clk := &clock{t: start}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	for _, r := range []*int{&opts.IAMRate, &opts.STSRate, &opts.IdentityStoreRate, &opts.SSOAdminRate, &opts.LookupEventsRate} {
		if *r == 0 {
			*r = 1 << 20
		}
	}
	srv := awsemu.New(demo(t), opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{srv: srv, ts: ts, clock: clk}
}

func (e *env) cfg(key, secret, token string) sdkaws.Config {
	return sdkaws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, token),
		RetryMaxAttempts: 1,
		BaseEndpoint:     sdkaws.String(e.ts.URL),
	}
}

func (e *env) admin() sdkaws.Config {
	return e.cfg(awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, "")
}

func (e *env) paths() []string {
	var out []string
	for _, r := range e.srv.Emulator().Requests() {
		out = append(out, r.Path)
	}
	return out
}

// apiErr checks err is an AWS API error with the code and HTTP status.
func apiErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is not an API error, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("error %v: want HTTP %d", err, status)
	}
}

// raw sends a request signed (or not) like the SDK does, and returns the
// status, headers and body.
func raw(t *testing.T, e *env, key, secret, service string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if key != "" {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(t.Context(), sdkaws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

const form = "application/x-www-form-urlencoded"

func TestSeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := iam.NewFromConfig(e.admin())
	u, err := c.GetUser(t.Context(), &iam.GetUserInput{UserName: sdkaws.String("alovelace")})
	if err != nil {
		t.Fatal(err)
	}
	if got := sdkaws.ToString(u.User.Arn); got != "arn:aws:iam::111111111111:user/alovelace" {
		t.Errorf("arn %s", got)
	}
	if !slices.ContainsFunc(u.User.Tags, func(tg iamtypes.Tag) bool {
		return sdkaws.ToString(tg.Key) == "email" && sdkaws.ToString(tg.Value) == "ada.lovelace@example.com"
	}) {
		t.Errorf("tags %v lack the email", u.User.Tags)
	}
	st, _ := e.srv.IAMUser(prod, "alovelace")
	if len(st.AccessKeys) != 2 || !st.LoginProfile || len(st.MFADevices) != 1 || len(st.SSHKeys) != 1 || len(st.ServiceCredentials) != 1 ||
		len(st.SigningCertificates) != 1 || len(st.Groups) != 2 || len(st.ManagedPolicies) != 1 || len(st.InlinePolicies) != 1 {
		t.Errorf("E1001's IAM user %+v does not match the seed", st)
	}
	for _, k := range st.AccessKeys {
		if len(k.ID) != 20 || !strings.HasPrefix(k.ID, "AKIA") || k.Status != "Active" {
			t.Errorf("key %+v", k)
		}
	}
	// Deterministic: a second emulator from the same seed has the same IDs.
	again := awsemu.New(demo(t), awsemu.Options{})
	if st2, _ := again.IAMUser(prod, "alovelace"); !slices.Equal(st2.AccessKeys, st.AccessKeys) || st2.UserID != st.UserID {
		t.Errorf("IDs differ between runs: %+v %+v", st2, st)
	}
	if ps, ok := e.srv.PermissionSet("AdministratorAccess"); !ok || !slices.Equal(ps.Provisioned, []string{prod}) {
		t.Errorf("AdministratorAccess %+v, want provisioned to prod", ps)
	}
	if u, _ := e.srv.SSOUser(francesID); len(u.Assignments) != 2 || len(u.Groups) != 1 {
		t.Errorf("E1009 %+v, want 2 assignments and 1 group", u)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	keyB, secretB, _ := e.srv.AccountCredentials(staging)
	iamBody := "Action=ListUsers&Version=2010-05-08"
	isHdr := map[string]string{"X-Amz-Target": "AWSIdentityStore.DescribeUser", "Content-Type": "application/x-amz-json-1.1"}
	isBody := `{"IdentityStoreId":"` + storeID + `","UserId":"` + adaSSO + `"}`
	cases := map[string]struct {
		key, secret, service string
		hdr                  map[string]string
		body                 string
		status               int
		code                 string
		errType              string // XML <Type> for IAM
	}{
		"IAM unsigned":           {"", "", "iam", map[string]string{"Content-Type": form}, iamBody, 403, "MissingAuthenticationToken", "Sender"},
		"IAM unknown key":        {"AKIAUNKNOWNUNKNOWN00", "x", "iam", map[string]string{"Content-Type": form}, iamBody, 403, "InvalidClientTokenId", "Sender"},
		"IAM wrong secret":       {awsemu.DefaultAccessKeyID, "wrong", "iam", map[string]string{"Content-Type": form}, iamBody, 403, "SignatureDoesNotMatch", "Sender"},
		"IAM good":               {awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, "iam", map[string]string{"Content-Type": form}, iamBody, 200, "", ""},
		"IAM other account":      {keyB, secretB, "iam", map[string]string{"Content-Type": form}, iamBody, 200, "", ""},
		"store unknown key":      {"AKIAUNKNOWNUNKNOWN00", "x", "identitystore", isHdr, isBody, 403, "UnrecognizedClientException", ""},
		"store wrong secret":     {awsemu.DefaultAccessKeyID, "wrong", "identitystore", isHdr, isBody, 403, "InvalidSignatureException", ""},
		"store unsigned":         {"", "", "identitystore", isHdr, isBody, 403, "MissingAuthenticationTokenException", ""},
		"store good":             {awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, "identitystore", isHdr, isBody, 200, "", ""},
		"cloudtrail unknown key": {"AKIAUNKNOWNUNKNOWN00", "x", "cloudtrail", map[string]string{"X-Amz-Target": "CloudTrail_20131101.LookupEvents", "Content-Type": "application/x-amz-json-1.1"}, `{}`, 403, "UnrecognizedClientException", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, h, body := raw(t, e, c.key, c.secret, c.service, c.hdr, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if c.code == "" {
				return
			}
			if c.service == "iam" {
				var er struct {
					XMLName xml.Name `xml:"ErrorResponse"`
					Error   struct{ Type, Code, Message string }
					ID      string `xml:"RequestId"`
				}
				if err := xml.Unmarshal(body, &er); err != nil || er.Error.Code != c.code || er.Error.Type != c.errType || er.Error.Message == "" || er.ID == "" {
					t.Errorf("error body %s", body)
				}
				if !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
					t.Errorf("content type %s", h.Get("Content-Type"))
				}
				return
			}
			var er map[string]any
			if err := json.Unmarshal(body, &er); err != nil || er["__type"] != c.code || (er["message"] == nil && er["Message"] == nil) {
				t.Errorf("error body %s", body)
			}
			if h.Get("X-Amzn-Errortype") != c.code || h.Get("X-Amzn-Requestid") == "" {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	ar, err := sts.NewFromConfig(e.admin()).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: sdkaws.String("arn:aws:iam::222222222222:role/OffboardingRole"), RoleSessionName: sdkaws.String("offboard"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cr := ar.Credentials
	if !strings.HasPrefix(sdkaws.ToString(cr.AccessKeyId), "ASIA") || sdkaws.ToString(cr.SessionToken) == "" || !cr.Expiration.Equal(start.Add(time.Hour)) {
		t.Errorf("credentials %+v", cr)
	}
	sess := e.cfg(sdkaws.ToString(cr.AccessKeyId), sdkaws.ToString(cr.SecretAccessKey), sdkaws.ToString(cr.SessionToken))
	id, err := sts.NewFromConfig(sess).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(id.Account) != staging || sdkaws.ToString(id.Arn) != "arn:aws:sts::222222222222:assumed-role/OffboardingRole/offboard" {
		t.Errorf("identity %s %s", sdkaws.ToString(id.Account), sdkaws.ToString(id.Arn))
	}
	// IAM calls act in the session's account: staging has no IAM users.
	users, err := iam.NewFromConfig(sess).ListUsers(t.Context(), &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Errorf("staging users %v %v", users, err)
	}
	// Without its token the session key is not accepted.
	_, err = sts.NewFromConfig(e.cfg(sdkaws.ToString(cr.AccessKeyId), sdkaws.ToString(cr.SecretAccessKey), "")).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	e.clock.Add(time.Hour)
	_, err = sts.NewFromConfig(sess).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	apiErr(t, err, "ExpiredToken", 403)
	// A role in an account the emulator does not know cannot be assumed.
	_, err = sts.NewFromConfig(e.admin()).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: sdkaws.String("arn:aws:iam::999999999999:role/X"), RoleSessionName: sdkaws.String("offboard"),
	})
	apiErr(t, err, "AccessDenied", 403)
}

func TestUserKeyStopsWorkingWhenDeactivated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	st, _ := e.srv.IAMUser(prod, "rperlman")
	key := st.AccessKeys[1].ID
	secret, ok := e.srv.AccessKeySecret(key)
	if !ok {
		t.Fatal("no secret")
	}
	user := sts.NewFromConfig(e.cfg(key, secret, ""))
	id, err := user.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || sdkaws.ToString(id.Arn) != "arn:aws:iam::111111111111:user/rperlman" {
		t.Fatalf("identity %v %v", id, err)
	}
	ic := iam.NewFromConfig(e.admin())
	lu, err := ic.GetAccessKeyLastUsed(t.Context(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: sdkaws.String(key)})
	if err != nil || lu.AccessKeyLastUsed.LastUsedDate == nil || !lu.AccessKeyLastUsed.LastUsedDate.Equal(start) || sdkaws.ToString(lu.AccessKeyLastUsed.ServiceName) != "sts" {
		t.Errorf("last used %+v %v", lu.AccessKeyLastUsed, err)
	}
	if _, err := ic.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("rperlman"), AccessKeyId: sdkaws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = user.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
}

func TestIAMOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := iam.NewFromConfig(e.admin())
	ctx := t.Context()
	u := sdkaws.String("alovelace")
	st, _ := e.srv.IAMUser(prod, "alovelace")

	// Not found answers: 404 NoSuchEntity.
	_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: sdkaws.String("nobody")})
	apiErr(t, err, "NoSuchEntity", 404)
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("%T is not the typed NoSuchEntityException", err)
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: sdkaws.String("AKIANOSUCHKEY0000000")})
	apiErr(t, err, "NoSuchEntity", 404)
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: u, AccessKeyId: sdkaws.String(st.AccessKeys[0].ID), Status: "Paused"})
	apiErr(t, err, "ValidationError", 400)

	// The revoke policy round-trips, URL-encoded on the way out.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-11-25T10:00:00Z"}}}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u, PolicyName: sdkaws.String("OffboardingRevokeOlderSessions"), PolicyDocument: sdkaws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: u, PolicyName: sdkaws.String("OffboardingRevokeOlderSessions")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := url.PathUnescape(sdkaws.ToString(got.PolicyDocument)); dec != doc || strings.Contains(sdkaws.ToString(got.PolicyDocument), "{") {
		t.Errorf("policy document %s", sdkaws.ToString(got.PolicyDocument))
	}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u, PolicyName: sdkaws.String("bad"), PolicyDocument: sdkaws.String("{not json")})
	apiErr(t, err, "MalformedPolicyDocument", 400)

	// MFA: a virtual device must be deactivated before it can be deleted.
	serial := sdkaws.String(st.MFADevices[0])
	if !strings.HasPrefix(*serial, "arn:aws:iam::111111111111:mfa/") {
		t.Fatalf("serial %s", *serial)
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial})
	apiErr(t, err, "DeleteConflict", 409)
	if _, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u, SerialNumber: serial}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial})
	apiErr(t, err, "NoSuchEntity", 404)

	// Every removal works once, then answers NoSuchEntity.
	removals := map[string]func() error{
		"login profile": func() error {
			_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u})
			return err
		},
		"ssh key": func() error {
			_, err := c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u, SSHPublicKeyId: sdkaws.String(st.SSHKeys[0])})
			return err
		},
		"service credential": func() error {
			_, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u, ServiceSpecificCredentialId: sdkaws.String(st.ServiceCredentials[0])})
			return err
		},
		"signing certificate": func() error {
			_, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u, CertificateId: sdkaws.String(st.SigningCertificates[0])})
			return err
		},
		"group": func() error {
			_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: sdkaws.String("oncall")})
			return err
		},
		"managed policy": func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u, PolicyArn: sdkaws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		},
		"inline policy": func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u, PolicyName: sdkaws.String("s3-scratch")})
			return err
		},
		"access key": func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: sdkaws.String(st.AccessKeys[0].ID)})
			return err
		},
	}
	for name, rm := range removals {
		if err := rm(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		apiErr(t, rm(), "NoSuchEntity", 404)
	}
	after, _ := e.srv.IAMUser(prod, "alovelace")
	if after.LoginProfile || len(after.SSHKeys) != 0 || len(after.ServiceCredentials) != 0 || len(after.SigningCertificates) != 0 ||
		!slices.Equal(after.Groups, []string{"developers"}) || len(after.ManagedPolicies) != 0 || len(after.AccessKeys) != 1 || len(after.MFADevices) != 0 ||
		!slices.Equal(after.InlinePolicies, []string{"OffboardingRevokeOlderSessions"}) {
		t.Errorf("state after removals %+v", after)
	}
}

func TestIAMPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{PageSize: 1})
	c := iam.NewFromConfig(e.admin())
	var names []string
	pages := 0
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{})
	for p.HasMorePages() {
		pg, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range pg.Users {
			names = append(names, sdkaws.ToString(u.UserName))
		}
	}
	if want := []string{"alovelace", "bliskov", "nwirth", "rperlman"}; !slices.Equal(names, want) || pages != 4 {
		t.Errorf("%d pages: %v, want %v", pages, names, want)
	}
	first, err := c.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: sdkaws.String("alovelace")})
	if err != nil || !first.IsTruncated || len(first.AccessKeyMetadata) != 1 {
		t.Fatalf("first page %+v %v", first, err)
	}
	// A marker from another list is refused.
	_, err = c.ListUsers(t.Context(), &iam.ListUsersInput{Marker: first.Marker})
	apiErr(t, err, "ValidationError", 400)
	_, err = c.ListUsers(t.Context(), &iam.ListUsersInput{MaxItems: sdkaws.Int32(1001)})
	apiErr(t, err, "ValidationError", 400)
}

func TestIdentityStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{PageSize: 1})
	c := identitystore.NewFromConfig(e.admin())
	ctx := t.Context()
	find := func(path, value string) (string, error) {
		out, err := c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sdkaws.String(storeID),
			AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{AttributePath: sdkaws.String(path), AttributeValue: document.NewLazyDocument(value)}}})
		if err != nil {
			return "", err
		}
		return sdkaws.ToString(out.UserId), nil
	}
	if id, err := find("userName", "frances.allen@example.com"); err != nil || id != francesID {
		t.Errorf("by userName: %s %v", id, err)
	}
	if id, err := find("emails.value", "Ada.Lovelace@example.com"); err != nil || id != adaSSO {
		t.Errorf("by email: %s %v", id, err)
	}
	_, err := find("userName", "nobody@example.com")
	apiErr(t, err, "ResourceNotFoundException", 404)
	var rnf *istypes.ResourceNotFoundException
	if !errors.As(err, &rnf) || rnf.ResourceType != istypes.ResourceTypeUser {
		t.Errorf("%#v is not a typed USER ResourceNotFoundException", err)
	}
	_, err = find("displayName", "x")
	apiErr(t, err, "ValidationException", 400)
	_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sdkaws.String("d-0000000000"), UserId: sdkaws.String(adaSSO)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	u, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sdkaws.String(storeID), UserId: sdkaws.String(adaSSO)})
	if err != nil || u.UserStatus != istypes.UserStatusEnabled || len(u.Emails) != 1 {
		t.Errorf("describe %+v %v", u, err)
	}

	ms, err := c.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sdkaws.String(storeID), MemberId: &istypes.MemberIdMemberUserId{Value: adaSSO}})
	if err != nil || len(ms.GroupMemberships) != 1 || ms.NextToken != nil {
		t.Fatalf("memberships %+v %v", ms, err)
	}
	m := ms.GroupMemberships[0]
	if mid, ok := m.MemberId.(*istypes.MemberIdMemberUserId); !ok || mid.Value != adaSSO {
		t.Errorf("member %#v", m.MemberId)
	}
	g, err := c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sdkaws.String(storeID), GroupId: m.GroupId})
	if err != nil || sdkaws.ToString(g.DisplayName) != "developers" {
		t.Errorf("group %+v %v", g, err)
	}
	del := func() error {
		_, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sdkaws.String(storeID), MembershipId: m.MembershipId})
		return err
	}
	if err := del(); err != nil {
		t.Fatal(err)
	}
	apiErr(t, del(), "ResourceNotFoundException", 404)
	if st, _ := e.srv.SSOUser(adaSSO); len(st.Groups) != 0 {
		t.Errorf("groups left %v", st.Groups)
	}
}

func TestAssignmentDeletionIsAsync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := ssoadmin.NewFromConfig(e.admin())
	ctx := t.Context()
	list, err := c.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: sdkaws.String(inst), PrincipalId: sdkaws.String(francesID), PrincipalType: ssotypes.PrincipalTypeUser, MaxResults: sdkaws.Int32(1),
	})
	if err != nil || len(list.AccountAssignments) != 1 || list.NextToken == nil {
		t.Fatalf("first page %+v %v", list, err)
	}
	all := list.AccountAssignments
	more, err := c.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: sdkaws.String(inst), PrincipalId: sdkaws.String(francesID), PrincipalType: ssotypes.PrincipalTypeUser, NextToken: list.NextToken,
	})
	if err != nil || more.NextToken != nil {
		t.Fatalf("second page %+v %v", more, err)
	}
	all = append(all, more.AccountAssignments...)
	if len(all) != 2 || sdkaws.ToString(all[0].AccountId) == sdkaws.ToString(all[1].AccountId) {
		t.Fatalf("assignments %+v, want one in each account", all)
	}
	del := func(a ssotypes.AccountAssignmentForPrincipal) (*ssoadmin.DeleteAccountAssignmentOutput, error) {
		return c.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: sdkaws.String(inst), TargetId: a.AccountId,
			TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: a.PermissionSetArn, PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: a.PrincipalId})
	}
	out, err := del(all[0])
	if err != nil || out.AccountAssignmentDeletionStatus.Status != ssotypes.StatusValuesInProgress {
		t.Fatalf("delete %+v %v", out, err)
	}
	_, err = del(all[0])
	apiErr(t, err, "ConflictException", 409)
	describe := func(id *string) ssotypes.StatusValues {
		d, err := c.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: sdkaws.String(inst), AccountAssignmentDeletionRequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		return d.AccountAssignmentDeletionStatus.Status
	}
	id := out.AccountAssignmentDeletionStatus.RequestId
	if s := describe(id); s != ssotypes.StatusValuesInProgress {
		t.Errorf("first describe %s", s)
	}
	if u, _ := e.srv.SSOUser(francesID); len(u.Assignments) != 2 {
		t.Errorf("assignment gone before the deletion finished: %v", u.Assignments)
	}
	if s := describe(id); s != ssotypes.StatusValuesSucceeded {
		t.Errorf("second describe %s", s)
	}
	if u, _ := e.srv.SSOUser(francesID); len(u.Assignments) != 1 {
		t.Errorf("assignments %v, want one left", u.Assignments)
	}
	_, err = del(all[0])
	apiErr(t, err, "ResourceNotFoundException", 404)

	// Without a Describe, the deletion finishes when its time has passed.
	if _, err := del(all[1]); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Second)
	if u, _ := e.srv.SSOUser(francesID); len(u.Assignments) != 0 {
		t.Errorf("assignments %v after the async delay", u.Assignments)
	}
}

func TestPermissionSetProvisioning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := ssoadmin.NewFromConfig(e.admin())
	ctx := t.Context()
	ps, _ := e.srv.PermissionSet("ReadOnlyAccess")
	arn := sdkaws.String(ps.ARN)
	d, err := c.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn})
	if err != nil || sdkaws.ToString(d.PermissionSet.Name) != "ReadOnlyAccess" {
		t.Fatalf("describe %+v %v", d, err)
	}
	notProvisioned := func() []string {
		out, err := c.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
			InstanceArn: sdkaws.String(inst), PermissionSetArn: arn, ProvisioningStatus: ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned})
		if err != nil {
			t.Fatal(err)
		}
		return out.AccountIds
	}
	if got := notProvisioned(); len(got) != 0 {
		t.Errorf("not provisioned %v before any change", got)
	}
	_, err = c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn, InlinePolicy: sdkaws.String("nope")})
	apiErr(t, err, "ValidationException", 400)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	if _, err := c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn, InlinePolicy: sdkaws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn}); err != nil || sdkaws.ToString(got.InlinePolicy) != doc {
		t.Errorf("inline policy %v %v", got, err)
	}
	if got := notProvisioned(); !slices.Equal(got, []string{staging}) {
		t.Errorf("not provisioned %v, want staging", got)
	}
	out, err := c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn, TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil || out.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesInProgress {
		t.Fatalf("provision %+v %v", out, err)
	}
	_, err = c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: sdkaws.String(inst), PermissionSetArn: arn, TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	apiErr(t, err, "ConflictException", 409)
	for i, want := range []ssotypes.StatusValues{ssotypes.StatusValuesInProgress, ssotypes.StatusValuesSucceeded} {
		d, err := c.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: sdkaws.String(inst), ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
		if err != nil || d.PermissionSetProvisioningStatus.Status != want {
			t.Errorf("describe %d: %+v %v, want %s", i, d, err, want)
		}
	}
	if got := notProvisioned(); len(got) != 0 {
		t.Errorf("not provisioned %v after provisioning", got)
	}
}

// lookup is LookupEvents on the emulator by one attribute.
func lookup(t *testing.T, c *cloudtrail.Client, key cttypes.LookupAttributeKey, value string) []cttypes.Event {
	t.Helper()
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: sdkaws.String(value)}}})
	for p.HasMorePages() {
		pg, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pg.Events...)
	}
	return out
}

func TestCloudTrailAuditsMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	ct := cloudtrail.NewFromConfig(e.admin())
	before := e.srv.State().EventCount
	seeded := lookup(t, ct, cttypes.LookupAttributeKeyUsername, "alovelace")
	if len(seeded) != 1 || sdkaws.ToString(seeded[0].EventName) != "ConsoleLogin" {
		t.Fatalf("seeded events %+v: want the ConsoleLogin (the GetObject data event is not in Event history)", seeded)
	}
	st, _ := e.srv.IAMUser(prod, "alovelace")
	key := st.AccessKeys[0].ID
	ic := iam.NewFromConfig(e.admin())
	e.clock.Add(time.Minute)
	if _, err := ic.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("alovelace"), AccessKeyId: sdkaws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	if _, err := ic.DeleteLoginProfile(t.Context(), &iam.DeleteLoginProfileInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Fatal(err)
	}
	// A read is not an audited mutation.
	if _, err := ic.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.State().EventCount; got != before+2 {
		t.Errorf("event count %d, want %d", got, before+2)
	}
	byResource := lookup(t, ct, cttypes.LookupAttributeKeyResourceName, "alovelace")
	var names []string
	for _, ev := range byResource {
		names = append(names, sdkaws.ToString(ev.EventName))
	}
	if !slices.Equal(names, []string{"DeleteLoginProfile", "UpdateAccessKey"}) {
		t.Errorf("events about the user, newest first: %v", names)
	}
	ev := lookup(t, ct, cttypes.LookupAttributeKeyResourceName, key)
	if len(ev) != 1 || sdkaws.ToString(ev[0].EventSource) != "iam.amazonaws.com" || sdkaws.ToString(ev[0].Username) != "root" ||
		sdkaws.ToString(ev[0].AccessKeyId) != awsemu.DefaultAccessKeyID || !ev[0].EventTime.Equal(start.Add(time.Minute)) || sdkaws.ToString(ev[0].ReadOnly) != "false" {
		t.Fatalf("UpdateAccessKey event %+v", ev)
	}
	var rec struct {
		EventName         string
		RequestParameters map[string]string
		UserIdentity      struct{ Type string }
	}
	if err := json.Unmarshal([]byte(sdkaws.ToString(ev[0].CloudTrailEvent)), &rec); err != nil || rec.RequestParameters["accessKeyId"] != key ||
		rec.RequestParameters["status"] != "Inactive" || rec.UserIdentity.Type != "Root" {
		t.Errorf("CloudTrailEvent %s", sdkaws.ToString(ev[0].CloudTrailEvent))
	}
	// Identity Center changes are audited in the management account.
	ids := identitystore.NewFromConfig(e.admin())
	ms, _ := ids.ListGroupMembershipsForMember(t.Context(), &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sdkaws.String(storeID), MemberId: &istypes.MemberIdMemberUserId{Value: adaSSO}})
	if _, err := ids.DeleteGroupMembership(t.Context(), &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sdkaws.String(storeID), MembershipId: ms.GroupMemberships[0].MembershipId}); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, ct, cttypes.LookupAttributeKeyEventName, "DeleteGroupMembership"); len(got) != 1 || sdkaws.ToString(got[0].EventSource) != "identitystore.amazonaws.com" {
		t.Errorf("DeleteGroupMembership events %+v", got)
	}
}

func TestLookupEventsRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	ct := cloudtrail.NewFromConfig(e.admin())
	ctx := t.Context()
	attr := func(k cttypes.LookupAttributeKey, v string) cttypes.LookupAttribute {
		return cttypes.LookupAttribute{AttributeKey: k, AttributeValue: sdkaws.String(v)}
	}
	_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		attr(cttypes.LookupAttributeKeyUsername, "alovelace"), attr(cttypes.LookupAttributeKeyEventName, "ConsoleLogin"),
	}})
	apiErr(t, err, "InvalidLookupAttributesException", 400)
	var ile *cttypes.InvalidLookupAttributesException
	if !errors.As(err, &ile) {
		t.Errorf("%T is not the typed exception", err)
	}
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: sdkaws.Int32(51)})
	apiErr(t, err, "InvalidMaxResultsException", 400)
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: sdkaws.String("bogus")})
	apiErr(t, err, "InvalidNextTokenException", 400)
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: sdkaws.Time(start), EndTime: sdkaws.Time(start.Add(-time.Hour))})
	apiErr(t, err, "InvalidTimeRangeException", 400)

	// Pagination: two at a time over the account's management events.
	in := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{attr(cttypes.LookupAttributeKeyEventName, "ConsoleLogin")}, MaxResults: sdkaws.Int32(2)}
	var got []string
	pages := 0
	p := cloudtrail.NewLookupEventsPaginator(ct, in)
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(pg.Events) > 2 {
			t.Errorf("page of %d", len(pg.Events))
		}
		for _, ev := range pg.Events {
			got = append(got, sdkaws.ToString(ev.EventId))
		}
	}
	want := e.srv.Events(prod)
	var wantIDs []string
	for i := len(want) - 1; i >= 0; i-- {
		if want[i].Name == "ConsoleLogin" {
			wantIDs = append(wantIDs, want[i].ID)
		}
	}
	if !slices.Equal(got, wantIDs) || pages != (len(wantIDs)+1)/2 || len(wantIDs) < 3 {
		t.Errorf("%d pages: %v, want %v", pages, got, wantIDs)
	}
	// A token is bound to its query.
	first, err := ct.LookupEvents(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: first.NextToken})
	apiErr(t, err, "InvalidNextTokenException", 400)
	// Time window.
	win, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: sdkaws.Time(time.Date(2026, 11, 20, 9, 5, 0, 0, time.UTC)), EndTime: sdkaws.Time(time.Date(2026, 11, 20, 9, 9, 0, 0, time.UTC))})
	if err != nil || len(win.Events) != 2 {
		t.Errorf("window: %d events %v", len(win.Events), err)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opts   awsemu.Options
		call   func(t *testing.T, e *env) error
		code   string
		status int
	}{
		"IAM": {awsemu.Options{IAMRate: 2}, func(t *testing.T, e *env) error {
			_, err := iam.NewFromConfig(e.admin()).ListUsers(t.Context(), &iam.ListUsersInput{})
			return err
		}, "Throttling", 400},
		"LookupEvents at 2 per second": {awsemu.Options{LookupEventsRate: 2}, func(t *testing.T, e *env) error {
			_, err := cloudtrail.NewFromConfig(e.admin()).LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{})
			return err
		}, "ThrottlingException", 400},
		"admin API": {awsemu.Options{SSOAdminRate: 2}, func(t *testing.T, e *env) error {
			_, err := ssoadmin.NewFromConfig(e.admin()).ListPermissionSets(t.Context(), &ssoadmin.ListPermissionSetsInput{InstanceArn: sdkaws.String(inst)})
			return err
		}, "ThrottlingException", 429},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := c.opts
			if opts.LookupEventsRate == 0 {
				opts.LookupEventsRate = 2 // the default
			}
			e := newEnv(t, opts)
			for i := range 2 {
				if err := c.call(t, e); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			apiErr(t, c.call(t, e), c.code, c.status)
			e.clock.Add(time.Second)
			if err := c.call(t, e); err != nil {
				t.Errorf("next window: %v", err)
			}
		})
	}
}

func TestDefaultLookupEventsRate(t *testing.T) {
	t.Parallel()
	clk := &clock{t: start}
	srv := awsemu.New(demo(t), awsemu.Options{Now: clk.Now})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{srv: srv, ts: ts, clock: clk}
	ct := cloudtrail.NewFromConfig(e.admin())
	var errs []error
	for range 3 {
		_, err := ct.LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{})
		errs = append(errs, err)
	}
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("first two calls: %v", errs)
	}
	apiErr(t, errs[2], "ThrottlingException", 400)
}

func TestFaultsTargetActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	if err := e.srv.Emulator().AddFault(emu.Fault{Path: "^/iam/DeleteLoginProfile$", Status: 429, RetryAfter: 5, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Emulator().AddFault(emu.Fault{Path: "^/identitystore/", Status: 503, RetryAfter: 2, Times: 1}); err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(e.admin())
	if _, err := c.GetLoginProfile(t.Context(), &iam.GetLoginProfileInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Errorf("another action was faulted: %v", err)
	}
	_, err := c.DeleteLoginProfile(t.Context(), &iam.DeleteLoginProfileInput{UserName: sdkaws.String("alovelace")})
	apiErr(t, err, "Throttling", 429)
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response.Header.Get("Retry-After") != "5" || !strings.HasPrefix(re.Response.Header.Get("Content-Type"), "text/xml") {
		t.Errorf("429 answer %v lacks Retry-After 5", err)
	}
	if _, err := c.DeleteLoginProfile(t.Context(), &iam.DeleteLoginProfileInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Errorf("the fault did not clear: %v", err)
	}
	status, h, body := raw(t, e, awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, "identitystore",
		map[string]string{"X-Amz-Target": "AWSIdentityStore.DescribeUser", "Content-Type": "application/x-amz-json-1.1"}, `{}`)
	if status != 503 || h.Get("Retry-After") != "2" || !bytes.Contains(body, []byte(`"__type":"ServiceUnavailable"`)) {
		t.Errorf("identity store fault: %d %v %s", status, h, body)
	}
	log := e.paths()
	want := []string{"/iam/GetLoginProfile", "/iam/DeleteLoginProfile", "/iam/DeleteLoginProfile", "/identitystore/DescribeUser"}
	if !slices.Equal(log, want) {
		t.Errorf("request log %v, want %v", log, want)
	}
	reqs := e.srv.Emulator().Requests()
	if reqs[1].Status != 429 || reqs[2].Status != 200 {
		t.Errorf("logged statuses %d %d", reqs[1].Status, reqs[2].Status)
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	cases := map[string]struct {
		service string
		hdr     map[string]string
		body    string
		status  int
		want    string
	}{
		"unknown IAM action":    {"iam", map[string]string{"Content-Type": form}, "Action=DeleteUser&Version=2010-05-08", 400, "<Code>InvalidAction</Code>"},
		"missing action":        {"iam", map[string]string{"Content-Type": form}, "Version=2010-05-08", 400, "<Code>MissingAction</Code>"},
		"unknown JSON target":   {"sso", map[string]string{"X-Amz-Target": "SWBExternalService.CreatePermissionSet", "Content-Type": "application/x-amz-json-1.1"}, "{}", 400, "UnknownOperationException"},
		"unknown service":       {"s3", map[string]string{"X-Amz-Target": "S3.GetObject"}, "{}", 404, "UnknownOperationException"},
		"old CloudTrail target": {"cloudtrail", map[string]string{"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", "Content-Type": "application/x-amz-json-1.1"}, "{}", 200, `"Events"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, _, body := raw(t, e, awsemu.DefaultAccessKeyID, awsemu.DefaultSecretAccessKey, c.service, c.hdr, c.body)
			if status != c.status || !bytes.Contains(body, []byte(c.want)) {
				t.Errorf("%d %s, want %d with %s", status, body, c.status, c.want)
			}
		})
	}
}

func TestStateHasNoNamesOrEmails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	resp, err := http.Get(e.ts.URL + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st awsemu.State
	if err := json.Unmarshal(b, &st); err != nil || len(st.IAMUsers) != 4 || len(st.SSOUsers) != 2 || len(st.PermissionSets) != 2 || st.EventCount == 0 {
		t.Fatalf("state %s: %v", b, err)
	}
	for _, bad := range []string{"@", "alovelace", "rperlman", "Lovelace"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("state carries %q", bad)
		}
	}
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := iam.NewFromConfig(e.admin())
	if _, err := c.DeleteLoginProfile(t.Context(), &iam.DeleteLoginProfileInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Fatal(err)
	}
	ar, err := sts.NewFromConfig(e.admin()).AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: sdkaws.String("arn:aws:iam::222222222222:role/R"), RoleSessionName: sdkaws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()

	other := newEnv(t, awsemu.Options{})
	if err := other.srv.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	a, b := e.srv.State(), other.srv.State()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("state differs after a round trip:\n%s\n%s", ja, jb)
	}
	if u, _ := other.srv.IAMUser(prod, "alovelace"); u.LoginProfile {
		t.Error("the loaded state lost the deletion")
	}
	// The session issued before the save still works after the load.
	sess := other.cfg(sdkaws.ToString(ar.Credentials.AccessKeyId), sdkaws.ToString(ar.Credentials.SecretAccessKey), sdkaws.ToString(ar.Credentials.SessionToken))
	if _, err := sts.NewFromConfig(sess).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("session after load: %v", err)
	}
	var again bytes.Buffer
	if err := other.srv.SaveState(&again); err != nil || again.String() != saved {
		t.Errorf("saving the loaded state gives different bytes (%v)", err)
	}

	bad := map[string]string{
		"not json":      "{",
		"wrong version": strings.Replace(saved, `"version": 1`, `"version": 99`, 1),
		"unknown field": strings.Replace(saved, `"version": 1`, `"version": 1, "extra": true`, 1),
		"no accounts":   `{"version": 1, "accounts": []}`,
	}
	for name, s := range bad {
		if err := other.srv.LoadState(strings.NewReader(s)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if u, _ := other.srv.IAMUser(prod, "alovelace"); u.LoginProfile || len(u.AccessKeys) != 2 {
		t.Error("a failed load changed the state")
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	c := iam.NewFromConfig(e.admin())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.ListUsers(t.Context(), &iam.ListUsersInput{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(e.paths()); n != 20 {
		t.Errorf("%d requests logged", n)
	}
}
