package aws_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/emutest"
)

var day = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

const trailEventID = "3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b"

func at(d time.Duration) string { return day.Add(d).Format("2006-01-02T15:04:05Z") }

// scenario is five CloudTrail records: in prod an IAM user's access key
// creation (with a field CloudTrail does not have), an assumed role's
// read, a failed console sign-in and an S3 data event; in staging a trail
// deletion with its own eventID.
func scenario() []map[string]any {
	mallory := map[string]any{"type": "IAMUser", "principalId": "AIDAMALLORY0000000001", "arn": "arn:aws:iam::" + prod + ":user/mallory",
		"accountId": prod, "accessKeyId": "AKIAMALLORY000000001", "userName": "mallory"}
	return []map[string]any{
		{
			"eventVersion": "1.09", "eventTime": at(0), "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
			"awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.66", "userAgent": "aws-cli/2.15.0", "userIdentity": mallory,
			"requestParameters": map[string]any{"userName": "backdoor"},
			"responseElements":  map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIABACKDOOR00000001", "status": "Active", "userName": "backdoor"}},
			"eventType":         "AwsApiCall", "managementEvent": true, "recipientAccountId": prod, "eventCategory": "Management",
			"x_scenario": map[string]any{"step": 1},
		},
		{
			"eventTime": at(time.Minute), "eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "readOnly": true,
			"userIdentity": map[string]any{"type": "AssumedRole", "principalId": "AROAADMIN:mallory-session",
				"arn": "arn:aws:sts::" + prod + ":assumed-role/Admin/mallory-session", "accountId": prod, "accessKeyId": "ASIAMALLORY000000001",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "userName": "Admin"}}},
			"sourceIPAddress": "192.0.2.66", "userAgent": "Boto3/1.34", "requestParameters": nil, "recipientAccountId": prod,
		},
		{
			"eventTime": at(2 * time.Minute), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "userIdentity": mallory,
			"sourceIPAddress": "192.0.2.66", "userAgent": "Mozilla/5.0", "errorMessage": "Failed authentication",
			"responseElements": map[string]any{"ConsoleLogin": "Failure"}, "eventType": "AwsConsoleSignIn", "recipientAccountId": prod,
			"resources": []any{map[string]any{"ARN": "arn:aws:iam::" + prod + ":user/mallory", "accountId": prod, "type": "AWS::IAM::User"}},
		},
		{
			"eventTime": at(3 * time.Minute), "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": mallory,
			"requestParameters": map[string]any{"bucketName": "payroll", "key": "2026.csv"}, "managementEvent": false, "eventCategory": "Data",
			"recipientAccountId": prod,
		},
		{
			"eventID": trailEventID, "eventTime": at(4 * time.Minute), "eventSource": "cloudtrail.amazonaws.com", "eventName": "DeleteTrail",
			"userIdentity":      map[string]any{"type": "Root", "principalId": staging, "arn": "arn:aws:iam::" + staging + ":root", "accountId": staging},
			"requestParameters": map[string]any{"name": "org-trail"}, "errorCode": "AccessDenied", "recipientAccountId": staging,
		},
	}
}

// find is LookupEvents in the scenario's day, by one attribute (or none).
func find(t *testing.T, c *cloudtrail.Client, key cttypes.LookupAttributeKey, value string, pageSize int32) []cttypes.Event {
	t.Helper()
	in := &cloudtrail.LookupEventsInput{StartTime: sdkaws.Time(day), EndTime: sdkaws.Time(day.Add(time.Hour)), MaxResults: sdkaws.Int32(pageSize)}
	if key != "" {
		in.LookupAttributes = []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: sdkaws.String(value)}}
	}
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		pg, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pg.Events...)
	}
	return out
}

func names(evs []cttypes.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, sdkaws.ToString(e.EventName))
	}
	return out
}

func TestInjectedCloudTrailEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	before := e.srv.State().EventCount
	given := scenario()
	emutest.MustPostEvents(t, e.ts.URL, map[string]any{"events": given}, 5)
	if n := e.srv.State().EventCount; n != before+4 {
		t.Errorf("%d management events, want %d (the data event is not one)", n, before+4)
	}
	ct := cloudtrail.NewFromConfig(e.admin())

	all := find(t, ct, "", "", 1)
	if got := names(all); !slices.Equal(got, []string{"ConsoleLogin", "ListUsers", "CreateAccessKey"}) {
		t.Fatalf("prod's day, paged by one, newest first: %v", got)
	}
	// The record comes back whole: as given, plus the eventID it lacked.
	created := all[2]
	var rec map[string]any
	if err := json.Unmarshal([]byte(sdkaws.ToString(created.CloudTrailEvent)), &rec); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	b, _ := json.Marshal(given[0])
	json.Unmarshal(b, &want)
	want["eventID"] = sdkaws.ToString(created.EventId)
	if !reflect.DeepEqual(rec, want) || created.EventId == nil || *created.EventId == "" {
		t.Errorf("CloudTrailEvent\n%s\nwant as given plus eventID\n%s", sdkaws.ToString(created.CloudTrailEvent), b)
	}
	if sdkaws.ToString(created.Username) != "mallory" || sdkaws.ToString(created.AccessKeyId) != "AKIAMALLORY000000001" ||
		!created.EventTime.Equal(day) || sdkaws.ToString(created.EventSource) != "iam.amazonaws.com" || sdkaws.ToString(created.ReadOnly) != "false" ||
		len(created.Resources) != 1 || sdkaws.ToString(created.Resources[0].ResourceType) != "AWS::IAM::User" || sdkaws.ToString(created.Resources[0].ResourceName) != "backdoor" {
		t.Errorf("CreateAccessKey as LookupEvents lists it: %+v", created)
	}

	cases := map[string]struct {
		key   cttypes.LookupAttributeKey
		value string
		want  []string
	}{
		"Username":                {cttypes.LookupAttributeKeyUsername, "mallory", []string{"ConsoleLogin", "CreateAccessKey"}},
		"Username, assumed role":  {cttypes.LookupAttributeKeyUsername, "mallory-session", []string{"ListUsers"}},
		"AccessKeyId":             {cttypes.LookupAttributeKeyAccessKeyId, "AKIAMALLORY000000001", []string{"ConsoleLogin", "CreateAccessKey"}},
		"EventName":               {cttypes.LookupAttributeKeyEventName, "CreateAccessKey", []string{"CreateAccessKey"}},
		"EventSource":             {cttypes.LookupAttributeKeyEventSource, "signin.amazonaws.com", []string{"ConsoleLogin"}},
		"ReadOnly":                {cttypes.LookupAttributeKeyReadOnly, "true", []string{"ListUsers"}},
		"ResourceName, parameter": {cttypes.LookupAttributeKeyResourceName, "backdoor", []string{"CreateAccessKey"}},
		"ResourceName, resources": {cttypes.LookupAttributeKeyResourceName, "arn:aws:iam::" + prod + ":user/mallory", []string{"ConsoleLogin"}},
		"ResourceType":            {cttypes.LookupAttributeKeyResourceType, "AWS::IAM::User", []string{"ConsoleLogin", "CreateAccessKey"}},
		"data event not listed":   {cttypes.LookupAttributeKeyEventName, "GetObject", nil},
		"other account's event":   {cttypes.LookupAttributeKeyEventId, trailEventID, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := names(find(t, ct, c.key, c.value, 50)); !slices.Equal(got, c.want) {
				t.Errorf("%v, want %v", got, c.want)
			}
		})
	}

	// Staging's event is in staging's history.
	key, secret, ok := e.srv.AccountCredentials(staging)
	if !ok {
		t.Fatal("no staging key")
	}
	st := cloudtrail.NewFromConfig(e.cfg(key, secret, ""))
	trail := find(t, st, cttypes.LookupAttributeKeyEventId, trailEventID, 50)
	if len(trail) != 1 || sdkaws.ToString(trail[0].Username) != "root" || !strings.Contains(sdkaws.ToString(trail[0].CloudTrailEvent), `"errorCode":"AccessDenied"`) {
		t.Errorf("staging's DeleteTrail %+v", trail)
	}
}

func TestInjectedCloudTrailEventsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	emutest.MustPostEvents(t, e.ts.URL, map[string]any{"events": scenario()[4:]}, 1)
	before := len(e.srv.Events(prod)) + len(e.srv.Events(staging))
	good := func() map[string]any {
		return map[string]any{"eventTime": at(0), "eventSource": "iam.amazonaws.com", "eventName": "DeleteUser", "recipientAccountId": prod}
	}
	with := func(k string, v any) map[string]any { return emutest.With(good(), k, v) }
	cases := map[string]struct {
		ev    map[string]any
		field string
		words []string
	}{
		"no eventTime":            {with("eventTime", nil), "eventTime", []string{"events[1].eventTime", "required"}},
		"bad eventTime":           {with("eventTime", "24/11/2026"), "eventTime", []string{"ISO 8601"}},
		"no eventName":            {with("eventName", nil), "eventName", []string{"required"}},
		"no eventSource":          {with("eventSource", nil), "eventSource", []string{"required"}},
		"no account":              {with("recipientAccountId", nil), "recipientAccountId", []string{"required"}},
		"unknown account":         {with("recipientAccountId", "999999999999"), "recipientAccountId", []string{"999999999999"}},
		"userName a number":       {with("userIdentity", map[string]any{"type": "IAMUser", "userName": 7}), "userIdentity.userName", []string{"want a string"}},
		"readOnly a string":       {with("readOnly", "true"), "readOnly", []string{"want a boolean"}},
		"resources an object":     {with("resources", map[string]any{"ARN": "x"}), "resources", []string{"want an array"}},
		"parameter not a string":  {with("requestParameters", map[string]any{"userName": 5}), "requestParameters.userName", []string{"want a string"}},
		"requestParameters array": {with("requestParameters", []any{"x"}), "requestParameters", []string{"want an object"}},
		"eventID taken":           {with("eventID", trailEventID), "eventID", []string{"already"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			emutest.WantRefused(t, e.ts.URL, map[string]any{"events": []any{good(), c.ev}}, 1, c.field, c.words...)
		})
	}
	if n := len(e.srv.Events(prod)) + len(e.srv.Events(staging)); n != before {
		t.Errorf("refused requests appended: %d events, want %d", n, before)
	}
}

func TestInjectedCloudTrailEventsSavedAndLoaded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, awsemu.Options{})
	emutest.MustPostEvents(t, e.ts.URL, map[string]any{"events": scenario()}, 5)
	other := newEnv(t, awsemu.Options{})
	saved := emutest.CopyState(t, e.srv, other.srv)
	a := find(t, cloudtrail.NewFromConfig(e.admin()), cttypes.LookupAttributeKeyUsername, "mallory", 50)
	b := find(t, cloudtrail.NewFromConfig(other.admin()), cttypes.LookupAttributeKeyUsername, "mallory", 50)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if len(b) != 2 || !bytes.Equal(ja, jb) || !strings.Contains(string(jb), "x_scenario") {
		t.Errorf("after load:\n%s\nbefore:\n%s", jb, ja)
	}
	var again bytes.Buffer
	if err := other.srv.SaveState(&again); err != nil || !bytes.Equal(again.Bytes(), saved) {
		t.Errorf("save after load differs (%v)", err)
	}
}
