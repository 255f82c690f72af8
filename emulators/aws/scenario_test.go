package aws_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	awsemu "github.com/offboard/offboard/emulators/aws"
	"github.com/offboard/offboard/emulators/seed"
)

// lookupWindow is LookupEvents between from and to, by one attribute (or none),
// every page.
func lookupWindow(t *testing.T, c *cloudtrail.Client, key cttypes.LookupAttributeKey, value string, from, to time.Time) []cttypes.Event {
	t.Helper()
	in := &cloudtrail.LookupEventsInput{StartTime: sdkaws.Time(from), EndTime: sdkaws.Time(to)}
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

// trailRecord is the part of a CloudTrail record the scenario test reads.
type trailRecord struct {
	EventTime       time.Time `json:"eventTime"`
	SourceIPAddress string    `json:"sourceIPAddress"`
	UserIdentity    struct {
		Type        string `json:"type"`
		UserName    string `json:"userName"`
		AccessKeyID string `json:"accessKeyId"`
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
	RequestParameters struct {
		UserName string `json:"userName"`
	} `json:"requestParameters"`
	RecipientAccountID string `json:"recipientAccountId"`
}

func record(t *testing.T, e cttypes.Event) trailRecord {
	t.Helper()
	var r trailRecord
	if err := json.Unmarshal([]byte(sdkaws.ToString(e.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("record of %s: %v", sdkaws.ToString(e.EventName), err)
	}
	return r
}

func TestDevScenario(t *testing.T) {
	t.Parallel()
	// The demo insider, E1019, has no IAM user in the demo seed (so
	// nothing of hers is played there); this test gives her one in prod.
	org := demo(t)
	insider := ""
	for i, p := range org.People {
		if p.EmployeeID != "E1019" {
			continue
		}
		if p.AWS == nil || len(p.AWS.IAMUsers) == 0 {
			org.People[i].AWS = &seed.AWSUser{IAMUsers: []seed.IAMUser{{Account: prod, UserName: "aeasley", AccessKeys: 1, LoginProfile: true}}}
		}
		insider = org.People[i].AWS.IAMUsers[0].UserName
	}
	if insider == "" {
		t.Fatal("no E1019 in the demo seed")
	}
	clk := &clock{t: start}
	srv := awsemu.New(org, awsemu.Options{Now: clk.Now, LookupEventsRate: 1 << 20})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{srv: srv, ts: ts, clock: clk}
	now := clk.Now()
	before := srv.State().EventCount
	if err := srv.DevScenario(now); err != nil {
		t.Fatal(err)
	}
	if srv.State().EventCount == before {
		t.Fatal("the scenario appended nothing")
	}
	ct := cloudtrail.NewFromConfig(e.admin())
	month := now.UTC().Truncate(24 * time.Hour).Add(-28 * 24 * time.Hour)

	// The insider: an access key made for herself two days ago, from the
	// VPN, with her own key; found by user name and by that key.
	evs := lookupWindow(t, ct, cttypes.LookupAttributeKeyUsername, insider, now.Add(-5*24*time.Hour), now)
	var made []trailRecord
	for _, ev := range evs {
		if sdkaws.ToString(ev.EventName) == "CreateAccessKey" {
			made = append(made, record(t, ev))
			if sdkaws.ToString(ev.EventSource) != "iam.amazonaws.com" {
				t.Errorf("CreateAccessKey from %s", sdkaws.ToString(ev.EventSource))
			}
		}
	}
	if len(made) != 1 {
		t.Fatalf("insider: %d CreateAccessKey in five days, want 1 (%d events)", len(made), len(evs))
	}
	r := made[0]
	if r.SourceIPAddress != "45.14.71.9" || r.RequestParameters.UserName != insider || r.RecipientAccountID != prod ||
		r.UserIdentity.Type != "IAMUser" || r.UserIdentity.UserName != insider || !r.EventTime.Equal(now.Add(-48*time.Hour)) {
		t.Errorf("insider's CreateAccessKey: %+v", r)
	}
	if _, ok := srv.AccessKeySecret(r.UserIdentity.AccessKeyID); !ok {
		t.Errorf("signed with %q, not a key of the emulator", r.UserIdentity.AccessKeyID)
	}
	if byKey := lookupWindow(t, ct, cttypes.LookupAttributeKeyAccessKeyId, r.UserIdentity.AccessKeyID, month, now); len(byKey) != 1 {
		t.Errorf("by the insider's access key: %d events, want 1", len(byKey))
	}

	// An ordinary person: a console sign-in each weekday from home, no
	// key made, nothing from the VPN.
	days := map[string]bool{}
	for _, ev := range lookupWindow(t, ct, cttypes.LookupAttributeKeyUsername, "alovelace", month, now) {
		r := record(t, ev)
		if r.SourceIPAddress == "45.14.71.9" || sdkaws.ToString(ev.EventName) == "CreateAccessKey" {
			t.Errorf("ordinary person has the insider's pattern: %s %+v", sdkaws.ToString(ev.EventName), r)
		}
		if r.SourceIPAddress != "198.51.100.20" {
			continue // the seed's own history
		}
		at := sdkaws.ToTime(ev.EventTime).UTC()
		if sdkaws.ToString(ev.EventName) != "ConsoleLogin" || sdkaws.ToString(ev.EventSource) != "signin.amazonaws.com" ||
			at.Hour() != 9 || at.Weekday() == time.Saturday || at.Weekday() == time.Sunday || r.UserIdentity.UserName != "alovelace" {
			t.Errorf("ordinary event %s at %s: %+v", sdkaws.ToString(ev.EventName), at, r)
		}
		days[at.Format(time.DateOnly)] = true
	}
	if len(days) != 20 {
		t.Errorf("ordinary: console sign-ins on %d weekdays of four weeks, want 20", len(days))
	}

	// Nothing is after now.
	for _, ev := range lookupWindow(t, ct, "", "", month.Add(-365*24*time.Hour), now.Add(365*24*time.Hour)) {
		if at := sdkaws.ToTime(ev.EventTime); at.After(now) {
			t.Errorf("%s at %s, after now", sdkaws.ToString(ev.EventName), at)
		}
	}

	// The demo seed as it is plays too.
	plain := newEnv(t, awsemu.Options{})
	if err := plain.srv.DevScenario(now); err != nil {
		t.Fatal(err)
	}
	if n := len(lookupWindow(t, cloudtrail.NewFromConfig(plain.admin()), cttypes.LookupAttributeKeyEventName, "ConsoleLogin", month, now)); n < 20 {
		t.Errorf("demo seed: %d console sign-ins in four weeks", n)
	}
}
