package aws

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// The scenario's addresses: a US home ISP for ordinary days, Astrill VPN
// (as in the Okta and GitHub scenarios) for the insider.
const (
	ordinaryIP = "198.51.100.20"
	scenarioIP = "45.14.71.9"
	browserUA  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)

// DevScenario plays four ordinary weeks into CloudTrail Event history for
// every seed person with an IAM user that has a console password — a
// console sign-in each weekday morning (09:10 UTC) from a home ISP — and, for each seed person marked
// emu.ScenarioInsider, the last days of an insider instead: an access key
// made for themselves from the CLI two days ago, from a VPN address, with
// one of their keys. The events land in the account of the person's first
// IAM user (where fromSeed puts their history); people without an IAM user
// get none. Nothing is dated after now, and the records get new eventIDs,
// so playing it never collides with the history it joins.
func (s *Server) DevScenario(now time.Time) error {
	type person struct {
		acct, name, userID, arn, keyID string
		// console is whether the user can sign in to the console (has a
		// login profile), mfa whether they have an MFA device.
		console, mfa, insider bool
	}
	s.Lock()
	var people []person
	for _, p := range s.org.People {
		if p.AWS == nil || len(p.AWS.IAMUsers) == 0 {
			continue
		}
		su := p.AWS.IAMUsers[0]
		u := s.St.user(su.Account, su.UserName)
		if u == nil {
			continue
		}
		pp := person{acct: u.Account, name: u.UserName, userID: u.UserID, arn: u.arn(), console: u.LoginProfile != nil, mfa: su.MFA, insider: p.Scenario == emu.ScenarioInsider}
		if len(u.AccessKeys) > 0 {
			pp.keyID = u.AccessKeys[0].ID
		}
		people = append(people, pp)
	}
	s.Unlock()

	var items []json.RawMessage
	for _, p := range people {
		identity := map[string]any{"type": "IAMUser", "principalId": p.userID, "arn": p.arn, "accountId": p.acct, "userName": p.name}
		if p.insider {
			// The CLI call is signed with one of their keys.
			if p.keyID != "" {
				identity["accessKeyId"] = p.keyID
			}
			items = append(items, emu.JSON(map[string]any{
				"eventVersion": "1.09", "eventTime": isoTime(now.Add(-48 * time.Hour)),
				"eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "awsRegion": "us-east-1",
				"sourceIPAddress": scenarioIP, "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-27-generic exe/x86_64.ubuntu.22",
				"userIdentity": identity, "requestParameters": map[string]any{"userName": p.name},
				"readOnly": false, "eventType": "AwsApiCall", "managementEvent": true, "eventCategory": "Management",
				"recipientAccountId": p.acct,
			}))
			continue
		}
		if !p.console {
			continue
		}
		login := map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}
		if p.mfa {
			login["MFAUsed"] = "Yes"
		}
		// A console sign-in carries no access key, as CloudTrail logs it.
		for _, day := range emu.Weekdays(now) {
			items = append(items, emu.JSON(map[string]any{
				"eventVersion": "1.09", "eventTime": isoTime(day.Add(9*time.Hour + 10*time.Minute)),
				"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
				"sourceIPAddress": ordinaryIP, "userAgent": browserUA,
				"userIdentity": identity, "requestParameters": nil, "responseElements": map[string]any{"ConsoleLogin": "Success"},
				"readOnly": false, "eventType": "AwsConsoleSignIn", "managementEvent": true, "eventCategory": "Management",
				"additionalEventData": login, "recipientAccountId": p.acct,
			}))
		}
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.appendEvents(items); err != nil {
		return fmt.Errorf("aws scenario: %w", err)
	}
	return nil
}
