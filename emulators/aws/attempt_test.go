package aws_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	awsconn "github.com/offboard/offboard/connectors/aws"
	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
)

// attemptAnswer is the body of a POST /_emulator/attempt answer.
type attemptAnswer struct {
	Outcome string          `json:"outcome"`
	Event   json.RawMessage `json:"event"`
	Error   string          `json:"error"`
}

// attemptRecord is the part of an attempt's CloudTrail record the tests read.
type attemptRecord struct {
	EventID            string `json:"eventID"`
	EventTime          string `json:"eventTime"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	EventType          string `json:"eventType"`
	SourceIPAddress    string `json:"sourceIPAddress"`
	UserAgent          string `json:"userAgent"`
	ErrorCode          string `json:"errorCode"`
	ErrorMessage       string `json:"errorMessage"`
	RecipientAccountID string `json:"recipientAccountId"`
	ReadOnly           bool   `json:"readOnly"`
	ManagementEvent    bool   `json:"managementEvent"`
	UserIdentity       struct {
		Type        string  `json:"type"`
		PrincipalID string  `json:"principalId"`
		ARN         string  `json:"arn"`
		AccountID   string  `json:"accountId"`
		AccessKeyID *string `json:"accessKeyId"`
		UserName    string  `json:"userName"`
	} `json:"userIdentity"`
	ResponseElements    map[string]any    `json:"responseElements"`
	AdditionalEventData map[string]string `json:"additionalEventData"`
}

func postAttempt(t *testing.T, e *env, method, body string) (int, http.Header, attemptAnswer) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.ts.URL+emu.AttemptPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a attemptAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %d %s: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, resp.Header, a
}

// mustAttempt posts an attempt that must be recorded with the outcome, and
// returns the record, decoded and as compact JSON.
func mustAttempt(t *testing.T, e *env, body map[string]any, outcome string) (attemptRecord, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	status, _, a := postAttempt(t, e, http.MethodPost, string(b))
	if status != http.StatusOK || a.Outcome != outcome {
		t.Fatalf("attempt %s: %d %+v, want 200 %s", b, status, a, outcome)
	}
	var rec attemptRecord
	if err := json.Unmarshal(a.Event, &rec); err != nil || rec.EventID == "" {
		t.Fatalf("event %s: %v", a.Event, err)
	}
	// The answer is indented; the record CloudTrail keeps is not.
	var compact bytes.Buffer
	if err := json.Compact(&compact, a.Event); err != nil {
		t.Fatal(err)
	}
	return rec, compact.String()
}

// userKey is one of an IAM user's access keys and its secret.
func userKey(t *testing.T, e *env, user string, i int) (string, string) {
	t.Helper()
	st, ok := e.srv.IAMUser(prod, user)
	if !ok || len(st.AccessKeys) <= i {
		t.Fatalf("%s has no access key %d: %+v", user, i, st)
	}
	secret, _ := e.srv.AccessKeySecret(st.AccessKeys[i].ID)
	return st.AccessKeys[i].ID, secret
}

func saved(t *testing.T, e *env) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.srv.SaveState(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A deactivated key's attempt is the failure AWS answers it with, recorded
// with the key, the user and the source, and found by LookupEvents by the
// key and by the user.
func TestAttemptWithDeactivatedKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, secret := userKey(t, e, "rperlman", 1)
	ic := iam.NewFromConfig(e.admin())
	if _, err := ic.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("rperlman"), AccessKeyId: sdkaws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	rec, raw := mustAttempt(t, e, map[string]any{"credential": key, "ip": "198.51.100.4", "userAgent": "curl/8.5.0"}, "failure")
	if rec.ErrorCode != "InvalidClientTokenId" || rec.ErrorMessage != "The security token included in the request is invalid." ||
		rec.EventSource != "sts.amazonaws.com" || rec.EventName != "GetCallerIdentity" || rec.EventType != "AwsApiCall" || !rec.ReadOnly || !rec.ManagementEvent {
		t.Errorf("record %s", raw)
	}
	id := rec.UserIdentity
	if id.AccessKeyID == nil || *id.AccessKeyID != key || id.UserName != "rperlman" || id.Type != "IAMUser" || id.ARN != "arn:aws:iam::"+prod+":user/rperlman" ||
		!strings.HasPrefix(id.PrincipalID, "AIDA") || id.AccountID != prod || rec.RecipientAccountID != prod {
		t.Errorf("userIdentity %+v", id)
	}
	if rec.SourceIPAddress != "198.51.100.4" || rec.UserAgent != "curl/8.5.0" || rec.EventTime != start.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("source %s %s at %s", rec.SourceIPAddress, rec.UserAgent, rec.EventTime)
	}
	// The recorded error is what the emulator answers a call with the key.
	_, err := sts.NewFromConfig(e.cfg(key, secret, "")).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	apiErr(t, err, rec.ErrorCode, 403)

	ct := cloudtrail.NewFromConfig(e.admin())
	for _, by := range []struct {
		key cttypes.LookupAttributeKey
		val string
	}{{cttypes.LookupAttributeKeyAccessKeyId, key}, {cttypes.LookupAttributeKeyUsername, "rperlman"}} {
		var found []cttypes.Event
		for _, ev := range lookup(t, ct, by.key, by.val) {
			if sdkaws.ToString(ev.EventId) == rec.EventID {
				found = append(found, ev)
			}
		}
		if len(found) != 1 {
			t.Fatalf("LookupEvents by %s %s: %d events %s", by.key, by.val, len(found), rec.EventID)
		}
		ev := found[0]
		if sdkaws.ToString(ev.CloudTrailEvent) != raw || sdkaws.ToString(ev.AccessKeyId) != key || sdkaws.ToString(ev.Username) != "rperlman" ||
			sdkaws.ToString(ev.EventName) != "GetCallerIdentity" || sdkaws.ToString(ev.EventSource) != "sts.amazonaws.com" || !ev.EventTime.Equal(start.Add(time.Hour)) {
			t.Errorf("LookupEvents by %s: %+v", by.key, ev)
		}
	}
	// A failed call is no use of the key.
	lu, err := ic.GetAccessKeyLastUsed(t.Context(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: sdkaws.String(key)})
	if err != nil || lu.AccessKeyLastUsed.LastUsedDate != nil {
		t.Errorf("last used %+v %v, want never", lu.AccessKeyLastUsed, err)
	}
}

// The error recorded is the named service's; an S3 object read is a data
// event, recorded but not in Event history.
func TestAttemptServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, _ := userKey(t, e, "alovelace", 0)
	ic := iam.NewFromConfig(e.admin())
	if _, err := ic.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("alovelace"), AccessKeyId: sdkaws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		action, source, name, code string
		management                 bool
	}{
		{"s3:ListBuckets", "s3.amazonaws.com", "ListBuckets", "InvalidAccessKeyId", true},
		{"ListBuckets", "s3.amazonaws.com", "ListBuckets", "InvalidAccessKeyId", true},
		{"ec2:DescribeInstances", "ec2.amazonaws.com", "DescribeInstances", "AuthFailure", true},
		{"CreateAccessKey", "iam.amazonaws.com", "CreateAccessKey", "InvalidClientTokenId", true},
		{"identitystore:ListUsers", "identitystore.amazonaws.com", "ListUsers", "UnrecognizedClientException", true},
		{"AssumeRole", "sts.amazonaws.com", "AssumeRole", "InvalidClientTokenId", true},
		{"GetObject", "s3.amazonaws.com", "GetObject", "InvalidAccessKeyId", false},
	}
	ct := cloudtrail.NewFromConfig(e.admin())
	for _, c := range cases {
		rec, raw := mustAttempt(t, e, map[string]any{"credential": key, "action": c.action}, "failure")
		if rec.EventSource != c.source || rec.EventName != c.name || rec.ErrorCode != c.code || rec.ErrorMessage == "" || rec.ManagementEvent != c.management {
			t.Errorf("%s: record %s", c.action, raw)
		}
		if rec.SourceIPAddress != emu.DefaultAttemptIP || !strings.HasPrefix(rec.UserAgent, "aws-cli/") {
			t.Errorf("%s: default source %s %s", c.action, rec.SourceIPAddress, rec.UserAgent)
		}
		n := 0
		for _, ev := range lookup(t, ct, cttypes.LookupAttributeKeyEventId, rec.EventID) {
			if sdkaws.ToString(ev.AccessKeyId) == key {
				n++
			}
		}
		want := 0
		if c.management {
			want = 1
		}
		if n != want {
			t.Errorf("%s: %d events in Event history, want %d", c.action, n, want)
		}
	}
}

// An Active key's call succeeds: recorded without an error, and it is the
// key's last use.
func TestAttemptWithActiveKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, _ := userKey(t, e, "rperlman", 0)
	e.clock.Add(2 * time.Hour)
	rec, raw := mustAttempt(t, e, map[string]any{"credential": key, "action": "s3:ListBuckets", "ip": "2001:db8::7"}, "success")
	if rec.ErrorCode != "" || rec.ErrorMessage != "" || rec.EventSource != "s3.amazonaws.com" || rec.EventName != "ListBuckets" ||
		rec.UserIdentity.AccessKeyID == nil || *rec.UserIdentity.AccessKeyID != key || rec.UserIdentity.UserName != "rperlman" || rec.SourceIPAddress != "2001:db8::7" {
		t.Errorf("record %s", raw)
	}
	lu, err := iam.NewFromConfig(e.admin()).GetAccessKeyLastUsed(t.Context(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: sdkaws.String(key)})
	if err != nil || lu.AccessKeyLastUsed.LastUsedDate == nil || !lu.AccessKeyLastUsed.LastUsedDate.Equal(start.Add(2*time.Hour)) ||
		sdkaws.ToString(lu.AccessKeyLastUsed.ServiceName) != "s3" {
		t.Errorf("last used %+v %v", lu.AccessKeyLastUsed, err)
	}
	evs := lookup(t, cloudtrail.NewFromConfig(e.admin()), cttypes.LookupAttributeKeyAccessKeyId, key)
	if len(evs) == 0 || sdkaws.ToString(evs[0].EventId) != rec.EventID || sdkaws.ToString(evs[0].ReadOnly) != "true" {
		t.Errorf("newest event by the key %+v, want %s", evs, rec.EventID)
	}
}

// A key deleted through the API still names its user: the attempt fails
// as for a deactivated key.
func TestAttemptWithDeletedKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, _ := userKey(t, e, "nwirth", 0)
	if _, err := iam.NewFromConfig(e.admin()).DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: sdkaws.String("nwirth"), AccessKeyId: sdkaws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.AccessKeySecret(key); ok {
		t.Fatal("the key was not deleted")
	}
	rec, raw := mustAttempt(t, e, map[string]any{"credential": key}, "failure")
	if rec.ErrorCode != "InvalidClientTokenId" || rec.UserIdentity.UserName != "nwirth" || *rec.UserIdentity.AccessKeyID != key ||
		rec.UserIdentity.ARN != "arn:aws:iam::"+prod+":user/nwirth" || rec.RecipientAccountID != prod {
		t.Errorf("record %s", raw)
	}
	if evs := lookup(t, cloudtrail.NewFromConfig(e.admin()), cttypes.LookupAttributeKeyAccessKeyId, key); len(evs) != 1 || sdkaws.ToString(evs[0].EventId) != rec.EventID {
		t.Errorf("events by the deleted key %+v", evs)
	}
}

// An account's attempt is a console sign-in: it succeeds while the user
// has a console password and fails, as AWS records it, once that is gone.
func TestAttemptSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	ic := iam.NewFromConfig(e.admin())
	e.clock.Add(time.Minute)
	ok, raw := mustAttempt(t, e, map[string]any{"account": "alovelace", "ip": "203.0.113.99"}, "success")
	if ok.EventSource != "signin.amazonaws.com" || ok.EventName != "ConsoleLogin" || ok.EventType != "AwsConsoleSignIn" || ok.ErrorMessage != "" ||
		ok.ResponseElements["ConsoleLogin"] != "Success" || ok.AdditionalEventData["MFAUsed"] != "Yes" || ok.UserIdentity.UserName != "alovelace" ||
		ok.UserIdentity.ARN != "arn:aws:iam::"+prod+":user/alovelace" || ok.SourceIPAddress != "203.0.113.99" || !strings.HasPrefix(ok.UserAgent, "Mozilla/") {
		t.Errorf("sign-in %s", raw)
	}
	u, err := ic.GetUser(t.Context(), &iam.GetUserInput{UserName: sdkaws.String("alovelace")})
	if err != nil || u.User.PasswordLastUsed == nil || !u.User.PasswordLastUsed.Equal(start.Add(time.Minute)) {
		t.Errorf("password last used %+v %v", u, err)
	}
	if _, err := ic.DeleteLoginProfile(t.Context(), &iam.DeleteLoginProfileInput{UserName: sdkaws.String("alovelace")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	// By ARN, and with the action named.
	bad, raw := mustAttempt(t, e, map[string]any{"account": "arn:aws:iam::" + prod + ":user/alovelace", "action": "ConsoleLogin"}, "failure")
	if bad.ErrorMessage != "Failed authentication" || bad.ErrorCode != "" || bad.ResponseElements["ConsoleLogin"] != "Failure" ||
		bad.UserIdentity.UserName != "alovelace" || bad.UserIdentity.AccessKeyID == nil || *bad.UserIdentity.AccessKeyID != "" || bad.RecipientAccountID != prod {
		t.Errorf("failed sign-in %s", raw)
	}
	var names []string
	for _, ev := range lookup(t, cloudtrail.NewFromConfig(e.admin()), cttypes.LookupAttributeKeyUsername, "alovelace") {
		names = append(names, sdkaws.ToString(ev.EventName)+"/"+sdkaws.ToString(ev.EventId))
	}
	// The seeded sign-in, then the two attempts (DeleteLoginProfile is
	// root's event).
	if len(names) != 3 || names[0] != "ConsoleLogin/"+bad.EventID || names[1] != "ConsoleLogin/"+ok.EventID {
		t.Errorf("alovelace's events, newest first: %v", names)
	}
	// By user ID.
	st, _ := e.srv.IAMUser(prod, "rperlman")
	if rec, raw := mustAttempt(t, e, map[string]any{"account": st.UserID, "action": "signin:ConsoleLogin"}, "success"); rec.UserIdentity.UserName != "rperlman" {
		t.Errorf("sign-in by user ID %s", raw)
	}
}

// Unknown keys and users are 404, bad bodies 400, other methods 405; none
// of them changes anything.
func TestAttemptRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, _ := userKey(t, e, "rperlman", 0)
	acctKey, _, _ := e.srv.AccountCredentials(staging)
	ar, err := sts.NewFromConfig(e.admin()).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: sdkaws.String("arn:aws:iam::" + staging + ":role/OffboardingRole"), RoleSessionName: sdkaws.String("offboard"),
	})
	if err != nil {
		t.Fatal(err)
	}
	before := saved(t, e)
	cases := map[string]struct {
		body   string
		status int
		words  string
	}{
		"unknown key":             {`{"credential":"AKIAUNKNOWNUNKNOWN00"}`, 404, "AKIAUNKNOWNUNKNOWN00"},
		"unknown user":            {`{"account":"nobody"}`, 404, "nobody"},
		"unknown user ARN":        {`{"account":"arn:aws:iam::` + prod + `:user/nobody"}`, 404, "nobody"},
		"not JSON":                {`credential=` + key, 400, "bad body"},
		"unknown field":           {`{"credential":"` + key + `","keyId":"x"}`, 400, "keyId"},
		"neither":                 {`{"ip":"198.51.100.4"}`, 400, "exactly one"},
		"both":                    {`{"credential":"` + key + `","account":"rperlman"}`, 400, "exactly one"},
		"bad ip":                  {`{"credential":"` + key + `","ip":"not-an-ip"}`, 400, "not-an-ip"},
		"bad action":              {`{"credential":"` + key + `","action":"list buckets"}`, 400, "list buckets"},
		"unknown service":         {`{"credential":"` + key + `","action":"lambda:Invoke"}`, 400, "lambda"},
		"empty action name":       {`{"credential":"` + key + `","action":"s3:"}`, 400, "s3:"},
		"sign-in with a key":      {`{"credential":"` + key + `","action":"ConsoleLogin"}`, 400, "console sign-in"},
		"call with an account":    {`{"account":"rperlman","action":"GetCallerIdentity"}`, 400, "console sign-in"},
		"management account key":  {`{"credential":"` + awsemu.DefaultAccessKeyID + `"}`, 400, "not an IAM user's access key"},
		"another account's key":   {`{"credential":"` + acctKey + `"}`, 400, staging},
		"session key":             {`{"credential":"` + sdkaws.ToString(ar.Credentials.AccessKeyId) + `"}`, 400, "session"},
		"unknown key, bad action": {`{"credential":"AKIAUNKNOWNUNKNOWN00","action":"x y"}`, 400, "x y"},
	}
	for name, c := range cases {
		status, _, a := postAttempt(t, e, http.MethodPost, c.body)
		if status != c.status || !strings.Contains(a.Error, c.words) || a.Outcome != "" || len(a.Event) != 0 {
			t.Errorf("%s: %d %+v, want %d naming %q", name, status, a, c.status, c.words)
		}
	}
	status, h, a := postAttempt(t, e, http.MethodGet, "")
	if status != http.StatusMethodNotAllowed || h.Get("Allow") != http.MethodPost || a.Error == "" {
		t.Errorf("GET: %d %v %+v", status, h, a)
	}
	if after := saved(t, e); !bytes.Equal(after, before) {
		t.Error("a refused attempt changed the state")
	}
	for _, r := range e.srv.Emulator().Requests() {
		if r.Path == emu.AttemptPath {
			t.Errorf("the attempt endpoint is in the request log: %+v", r)
		}
	}
}

// A user name held in two accounts must be named by user ID or ARN.
func TestAttemptAmbiguousUser(t *testing.T) {
	t.Parallel()
	org := &seed.Org{AWS: seed.AWSOrg{Accounts: []seed.AWSAccount{{ID: prod, Name: "prod"}, {ID: staging, Name: "staging"}}}}
	for _, acct := range []string{prod, staging} {
		org.People = append(org.People, seed.Person{EmployeeID: "E" + acct[:4], AWS: &seed.AWSUser{IAMUsers: []seed.IAMUser{{Account: acct, UserName: "ops", LoginProfile: true}}}})
	}
	srv := awsemu.New(org, awsemu.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{srv: srv, ts: ts}
	status, _, a := postAttempt(t, e, http.MethodPost, `{"account":"ops"}`)
	if status != 400 || !strings.Contains(a.Error, prod) || !strings.Contains(a.Error, staging) {
		t.Errorf("ambiguous name: %d %+v", status, a)
	}
	rec, raw := mustAttempt(t, e, map[string]any{"account": "arn:aws:iam::" + staging + ":user/ops"}, "success")
	if rec.RecipientAccountID != staging || rec.UserIdentity.AccountID != staging {
		t.Errorf("sign-in by ARN %s", raw)
	}
}

// The connector's activity read sees the attempt as a failure with the
// key that was tried, from where.
func TestAttemptReadByConnector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	key, _ := userKey(t, e, "rperlman", 1)
	c, err := awsconn.New(t.Context(), awsconn.Config{
		Accounts: []awsconn.Account{{ID: prod}}, Endpoint: e.ts.URL,
		AccessKeyID: awsemu.DefaultAccessKeyID, SecretAccessKey: config.Secret(awsemu.DefaultSecretAccessKey),
		IdentityStoreID: storeID, InstanceARN: inst,
	}, awsconn.WithLookupPace(0), awsconn.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := demo(t).Person("E1011")
	a, err := c.Resolve(t.Context(), connectors.Subject{EmployeeID: "E1011", Email: p.Email})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(e.admin()).UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: sdkaws.String("rperlman"), AccessKeyId: sdkaws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	rec, _ := mustAttempt(t, e, map[string]any{"credential": key, "ip": "198.51.100.4"}, "failure")
	evs, err := c.Activity(t.Context(), a, start, start.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if strings.Contains(string(ev.Raw), rec.EventID) {
			got = append(got, ev.Outcome+" "+ev.Credential+" "+ev.SourceIP+" "+ev.Action)
		}
	}
	if want := "failure " + key + " 198.51.100.4 sts.amazonaws.com:GetCallerIdentity"; len(got) != 1 || got[0] != want {
		t.Errorf("connector read %v, want [%s]", got, want)
	}
}
