package aws

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/attempt (emu.AttemptPath) simulates the person coming
// back to AWS, and appends to CloudTrail the record AWS writes for it. The
// record is served by LookupEvents as CloudTrailEvent and found by
// Username (the IAM user) and, for an API call, by AccessKeyId:
//
//	{"credential": "AKIA...", "action": "s3:ListBuckets", "ip": "198.51.100.4"}
//
// is an API call signed with an IAM user's access key, in the key owner's
// account. action is the call, "<service>:<Action>" (services iam, sts, s3,
// ec2, identitystore, sso, cloudtrail) or a bare action (an STS or S3
// action names its service; any other is IAM); default
// "sts:GetCallerIdentity", what a leaked key is tried with first. An
// Active key's call succeeds: the record has no error, and the key's last
// use is the call. Any other status, and a key the emulator deleted (its
// DeleteAccessKey event names it and its user), fails authentication, and
// the record carries the error the service answers such a request with:
// InvalidClientTokenId "The security token included in the request is
// invalid." from IAM and STS (what the emulator's own authentication
// answers), InvalidAccessKeyId from S3, AuthFailure from EC2,
// UnrecognizedClientException from the JSON services. Not AccessDenied:
// that is an authenticated caller's missing permission. AWS documents that
// CloudTrail logs authenticated requests ("CloudTrail logs all
// authenticated API requests to IAM and AWS STS API operations",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html)
// and does not document a record for a request that fails authentication,
// so real Event history may hold nothing for such an attempt; the emulator
// records it in the shape CloudTrail gives failed calls (errorCode and
// errorMessage, userIdentity with the key's accessKeyId, user name and ARN)
// so that an attempt is observable.
//
//	{"account": "alovelace", "ip": "198.51.100.4"}
//
// is a console sign-in (ConsoleLogin, the only action, also named
// "signin:ConsoleLogin") as the IAM user named by user name, user ID
// (AIDA...) or ARN; a user name held in two accounts must be named by ID or
// ARN. It succeeds while the user has a console password (a login
// profile), and the password's last use is then the sign-in; otherwise it
// fails. Console sign-ins, failed ones included, are logged ("All IAM user
// and root user sign-in events ... generate records in CloudTrail",
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-non-api-events.html),
// as an AwsConsoleSignIn record with responseElements.ConsoleLogin
// "Success" or "Failure" and, on failure, errorMessage "Failed
// authentication" and no errorCode, as in AWS's example sign-in records
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html#cloudtrail-integration_examples-signin).
//
// ip must be an IP address and is the record's sourceIPAddress; userAgent
// defaults to the AWS CLI's for a call and a browser's for a sign-in. The
// record's time is the emulator's clock (Options.Now). An access key the
// emulator never had and an unknown IAM user are 404; the emulator's own
// account keys and AssumeRole sessions, a malformed or unknown action, a
// sign-in tried with a key or a call with an account, and a bad ip are 400;
// nothing is recorded then.

// attemptServices are the services an attempted call may name, with the
// error each answers a request signed with a key it does not accept.
var attemptServices = map[string]struct{ code, msg string }{
	svcIAM:           {"InvalidClientTokenId", "The security token included in the request is invalid."},
	svcSTS:           {"InvalidClientTokenId", "The security token included in the request is invalid."},
	"s3":             {"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."},
	"ec2":            {"AuthFailure", "AWS was not able to validate the provided access credentials"},
	svcIdentityStore: {"UnrecognizedClientException", "The security token included in the request is invalid."},
	svcSSOAdmin:      {"UnrecognizedClientException", "The security token included in the request is invalid."},
	svcCloudTrail:    {"UnrecognizedClientException", "The security token included in the request is invalid."},
}

// stsActions and s3Actions are the bare actions that name their service.
var (
	stsActions = []string{"GetCallerIdentity", "AssumeRole", "GetSessionToken", "GetFederationToken", "GetAccessKeyInfo"}
	s3Actions  = []string{"ListBuckets", "CreateBucket", "DeleteBucket", "GetObject", "PutObject", "DeleteObject", "HeadObject"}
)

var actionNameRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,127}$`)

// Default user agents of an attempt that names none.
const (
	attemptCLIAgent     = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9"
	attemptBrowserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

const consoleLogin = "ConsoleLogin"

// attempt records one attempt (see POST /_emulator/attempt above).
func (s *Server) attempt(a emu.Attempt, _ time.Time) (emu.AttemptResult, error) {
	if net.ParseIP(a.IP) == nil {
		return emu.AttemptResult{}, fmt.Errorf("ip %q is not an IP address", a.IP)
	}
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now().UTC()
	var rec map[string]any
	var outcome string
	var err error
	if a.Credential != "" {
		rec, outcome, err = s.callAttempt(a, now)
	} else {
		rec, outcome, err = s.signInAttempt(a, now)
	}
	if err != nil {
		return emu.AttemptResult{}, err
	}
	st := s.St
	id := hashUUID("event", st.next("event"))
	rec["eventID"] = id
	raw := mustJSON(rec)
	e, err := st.parseRecord(0, json.RawMessage(raw))
	if err != nil {
		return emu.AttemptResult{}, err
	}
	e.ID, e.Record = id, raw
	st.Events = append(st.Events, e)
	return emu.AttemptResult{Outcome: outcome, Event: json.RawMessage(raw)}, nil
}

// attemptAction reads a call's action into its service and name.
func attemptAction(action string) (svc, name string, err error) {
	if action == "" {
		return svcSTS, "GetCallerIdentity", nil
	}
	if p, n, ok := strings.Cut(action, ":"); ok {
		svc, name = p, n
		if _, known := attemptServices[svc]; !known {
			return "", "", fmt.Errorf("action %q: unknown service %q (want one of iam, sts, s3, ec2, identitystore, sso, cloudtrail)", action, svc)
		}
	} else {
		name = action
		switch {
		case slices.Contains(stsActions, name):
			svc = svcSTS
		case slices.Contains(s3Actions, name):
			svc = "s3"
		default:
			svc = svcIAM
		}
	}
	if name == consoleLogin {
		return "", "", fmt.Errorf("action %s is a console sign-in: name the account, not a credential", consoleLogin)
	}
	if !actionNameRE.MatchString(name) {
		return "", "", fmt.Errorf("action %q is not an API action name like GetCallerIdentity", action)
	}
	return svc, name, nil
}

// attemptKey finds the IAM user of an access key: the key's owner, or for
// a key the emulator deleted the user its DeleteAccessKey event names (u is
// nil when that user is gone too). k is nil for a deleted key.
func (st *state) attemptKey(keyID string) (acct, userName string, u *iamUser, k *accessKey, err error) {
	if u, k := st.keyOwner(keyID); k != nil {
		return u.Account, u.UserName, u, k, nil
	}
	if c := st.credential(keyID); c != nil {
		return "", "", nil, nil, fmt.Errorf("credential %s is account %s's %s key, not an IAM user's access key", keyID, c.Account, c.Kind)
	}
	for i := len(st.Events) - 1; i >= 0; i-- {
		e := st.Events[i]
		if e.Name != "DeleteAccessKey" || !slices.Contains(e.Resources, resource{Type: "AWS::IAM::AccessKey", Name: keyID}) {
			continue
		}
		for _, r := range e.Resources {
			if r.Type == "AWS::IAM::User" {
				return e.Account, r.Name, st.user(e.Account, r.Name), nil, nil
			}
		}
	}
	return "", "", nil, nil, emu.Unknownf("access key %s: no IAM user of the emulator has or had it", keyID)
}

// callAttempt is an API call signed with a.Credential.
func (s *Server) callAttempt(a emu.Attempt, now time.Time) (map[string]any, string, error) {
	if a.Credential == s.opts.AccessKeyID {
		return nil, "", fmt.Errorf("credential %s is the emulator's management account key, not an IAM user's access key", a.Credential)
	}
	svc, name, err := attemptAction(a.Action)
	if err != nil {
		return nil, "", err
	}
	acct, userName, u, k, err := s.St.attemptKey(a.Credential)
	if err != nil {
		return nil, "", err
	}
	identity := map[string]any{"type": "IAMUser", "accountId": acct, "accessKeyId": a.Credential, "userName": userName,
		"arn": fmt.Sprintf("arn:aws:iam::%s:user/%s", acct, userName)}
	if u != nil {
		identity["principalId"], identity["arn"] = u.UserID, u.arn()
	}
	data := svc == "s3" && dataEvents[name]
	rec := map[string]any{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          isoTime(now),
		"eventSource":        svc + ".amazonaws.com",
		"eventName":          name,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    a.IP,
		"userAgent":          cmp.Or(a.UserAgent, attemptCLIAgent),
		"requestParameters":  nil,
		"responseElements":   nil,
		"requestID":          newRequestID(),
		"readOnly":           readOnlyActions[name] || hasAnyPrefix(name, "Get", "List", "Describe", "Head"),
		"eventType":          "AwsApiCall",
		"managementEvent":    !data,
		"recipientAccountId": acct,
		"eventCategory":      "Management",
	}
	if data {
		rec["eventCategory"] = "Data"
	}
	if k == nil || k.Status != "Active" {
		fail := attemptServices[svc]
		rec["errorCode"], rec["errorMessage"] = fail.code, fail.msg
		return rec, "failure", nil
	}
	t := now
	k.LastUsed, k.LastService, k.LastRegion = &t, svc, "us-east-1"
	return rec, "success", nil
}

// attemptUser finds the IAM user an account attempt names: by ARN, user
// ID, or user name in whichever account has it.
func (st *state) attemptUser(name string) (*iamUser, error) {
	var found []*iamUser
	for _, u := range st.Users {
		if u.arn() == name || u.UserID == name || strings.EqualFold(u.UserName, name) {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return nil, emu.Unknownf("account %s: no IAM user of the emulator has that name, user ID or ARN", name)
	case 1:
		return found[0], nil
	}
	var accts []string
	for _, u := range found {
		accts = append(accts, u.Account)
	}
	return nil, fmt.Errorf("account %s: IAM users of that name are in accounts %s; name one by user ID or ARN", name, strings.Join(accts, " and "))
}

// signInAttempt is a console sign-in as the IAM user a.Account names.
func (s *Server) signInAttempt(a emu.Attempt, now time.Time) (map[string]any, string, error) {
	if a.Action != "" && a.Action != consoleLogin && a.Action != "signin:"+consoleLogin {
		return nil, "", fmt.Errorf("action %q: an account's attempt is a console sign-in (%s); name the credential to try an API call", a.Action, consoleLogin)
	}
	u, err := s.St.attemptUser(a.Account)
	if err != nil {
		return nil, "", err
	}
	mfa := "No"
	if slices.ContainsFunc(s.St.MFADevices, func(d *mfaDevice) bool { return d.Account == u.Account && d.User == u.UserName }) {
		mfa = "Yes"
	}
	rec := map[string]any{
		"eventVersion":        "1.09",
		"userIdentity":        map[string]any{"type": "IAMUser", "principalId": u.UserID, "arn": u.arn(), "accountId": u.Account, "userName": u.UserName},
		"eventTime":           isoTime(now),
		"eventSource":         "signin.amazonaws.com",
		"eventName":           consoleLogin,
		"awsRegion":           "us-east-1",
		"sourceIPAddress":     a.IP,
		"userAgent":           cmp.Or(a.UserAgent, attemptBrowserAgent),
		"requestParameters":   nil,
		"responseElements":    map[string]any{consoleLogin: "Success"},
		"additionalEventData": map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa},
		"readOnly":            false,
		"eventType":           "AwsConsoleSignIn",
		"managementEvent":     true,
		"recipientAccountId":  u.Account,
		"eventCategory":       "Management",
	}
	if u.LoginProfile == nil {
		// AWS's failed sign-in record: no ARN, an empty accessKeyId.
		rec["userIdentity"] = map[string]any{"type": "IAMUser", "principalId": u.UserID, "accountId": u.Account, "accessKeyId": "", "userName": u.UserName}
		rec["errorMessage"] = "Failed authentication"
		rec["responseElements"] = map[string]any{consoleLogin: "Failure"}
		rec["additionalEventData"].(map[string]any)["MFAUsed"] = "No"
		return rec, "failure", nil
	}
	t := now
	u.PasswordUsed = &t
	return rec, "success", nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}
