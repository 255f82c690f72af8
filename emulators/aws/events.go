package aws

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/events (emu.EventsPath) appends CloudTrail events given
// as CloudTrail records (what LookupEvents serves as CloudTrailEvent):
//
//	{"events": [{"eventTime": "2026-11-20T08:00:00Z", "eventSource": "iam.amazonaws.com",
//	  "eventName": "CreateAccessKey", "recipientAccountId": "111111111111",
//	  "userIdentity": {"type": "IAMUser", "principalId": "AIDA...", "arn": "arn:aws:iam::111111111111:user/ada",
//	    "accountId": "111111111111", "accessKeyId": "AKIA...", "userName": "ada"},
//	  "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15",
//	  "requestParameters": {"userName": "ada"}, "errorCode": "AccessDenied", ...}]}
//
// eventTime (ISO 8601), eventSource, eventName and recipientAccountId (an
// account of the emulator, whose Event history the event joins) are
// required; a missing eventID gets a new one, and an eventID already in the
// history is refused. The record is kept whole, as given plus the eventID
// it lacked, and LookupEvents returns it as CloudTrailEvent. LookupEvents
// finds it:
//
//   - by Username: userIdentity.userName, else the session name of an
//     AssumedRole's ARN, else "root" for Root;
//   - by AccessKeyId: userIdentity.accessKeyId;
//   - by EventName, EventSource, EventId;
//   - by ReadOnly: readOnly, else whether eventName starts with Get, List
//     or Describe;
//   - by ResourceType and ResourceName: each resources[] entry (type, ARN),
//     and the resources requestParameters names (userName AWS::IAM::User,
//     roleName AWS::IAM::Role, groupName AWS::IAM::Group, policyArn
//     AWS::IAM::Policy, accessKeyId AWS::IAM::AccessKey,
//     instanceProfileName AWS::IAM::InstanceProfile, bucketName
//     AWS::S3::Bucket).
//
// A data event (managementEvent false, or eventCategory Data or
// NetworkActivity) is kept but, as in CloudTrail, not in Event history.
// Fields of the wrong JSON type for a record are refused, naming them.

func (s *Server) eventsEndpoint() emu.Events {
	return emu.Events{Key: "events", Append: s.appendEvents}
}

// appendEvents checks every given record, then appends them all.
func (s *Server) appendEvents(items []json.RawMessage) error {
	s.Lock()
	defer s.Unlock()
	st := s.St
	have := make([]string, 0, len(st.Events))
	for _, e := range st.Events {
		have = append(have, e.ID)
	}
	return emu.AppendKeyed(items, emu.Keyed[*event]{
		Field: "eventID", Log: "the event history", Existing: have,
		Parse: func(i int, raw json.RawMessage) (*event, string, error) {
			e, err := st.parseRecord(i, raw)
			if err != nil {
				return nil, "", err
			}
			return e, e.ID, nil
		},
		NewID: func() string { return hashUUID("event", st.next("event")) },
		Add: func(e *event, id string, given json.RawMessage) {
			e.ID, e.Record = id, string(given)
			st.Events = append(st.Events, e)
		},
	})
}

// resourceParams are the requestParameters that name a resource, and its
// CloudTrail resource type.
var resourceParams = []struct{ param, typ string }{
	{"userName", "AWS::IAM::User"},
	{"roleName", "AWS::IAM::Role"},
	{"groupName", "AWS::IAM::Group"},
	{"policyArn", "AWS::IAM::Policy"},
	{"accessKeyId", "AWS::IAM::AccessKey"},
	{"instanceProfileName", "AWS::IAM::InstanceProfile"},
	{"bucketName", "AWS::S3::Bucket"},
}

// parseRecord reads record i into an event (without Record, and without
// an ID when it has no eventID).
func (st *state) parseRecord(i int, raw json.RawMessage) (*event, error) {
	var in struct {
		EventTime          *string `json:"eventTime"`
		EventSource        *string `json:"eventSource"`
		EventName          *string `json:"eventName"`
		EventID            *string `json:"eventID"`
		RecipientAccountID *string `json:"recipientAccountId"`
		UserIdentity       *struct {
			Type        string `json:"type"`
			PrincipalID string `json:"principalId"`
			ARN         string `json:"arn"`
			AccountID   string `json:"accountId"`
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
			InvokedBy   string `json:"invokedBy"`
		} `json:"userIdentity"`
		RequestParameters map[string]any `json:"requestParameters"`
		Resources         []struct {
			ARN       string `json:"ARN"`
			AccountID string `json:"accountId"`
			Type      string `json:"type"`
		} `json:"resources"`
		ReadOnly        *bool  `json:"readOnly"`
		ManagementEvent *bool  `json:"managementEvent"`
		EventCategory   string `json:"eventCategory"`
		// Checked only: the types CloudTrail gives them.
		EventVersion    string `json:"eventVersion"`
		EventType       string `json:"eventType"`
		AWSRegion       string `json:"awsRegion"`
		SourceIPAddress string `json:"sourceIPAddress"`
		UserAgent       string `json:"userAgent"`
		ErrorCode       string `json:"errorCode"`
		ErrorMessage    string `json:"errorMessage"`
		RequestID       string `json:"requestID"`
	}
	if err := emu.DecodeEvent(i, raw, &in); err != nil {
		return nil, err
	}
	required := func(field string, v *string) (string, error) {
		if v == nil || *v == "" {
			return "", emu.BadEvent(i, field, "required")
		}
		return *v, nil
	}
	when, err := required("eventTime", in.EventTime)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339Nano, when)
	if err != nil {
		return nil, emu.BadEvent(i, "eventTime", "%q is not an ISO 8601 time like 2026-11-20T08:00:00Z", when)
	}
	src, err := required("eventSource", in.EventSource)
	if err != nil {
		return nil, err
	}
	name, err := required("eventName", in.EventName)
	if err != nil {
		return nil, err
	}
	acct, err := required("recipientAccountId", in.RecipientAccountID)
	if err != nil {
		return nil, err
	}
	if st.account(acct) == nil {
		return nil, emu.BadEvent(i, "recipientAccountId", "no account %s in the emulator", acct)
	}
	e := &event{Name: name, Source: src, Time: t.UTC(), Account: acct, Management: true,
		ReadOnly: strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe")}
	if in.EventID != nil {
		e.ID = *in.EventID
	}
	if in.ReadOnly != nil {
		e.ReadOnly = *in.ReadOnly
	}
	switch {
	case in.ManagementEvent != nil:
		e.Management = *in.ManagementEvent
	case in.EventCategory == "Data" || in.EventCategory == "NetworkActivity":
		e.Management = false
	}
	if id := in.UserIdentity; id != nil {
		e.AccessKeyID = id.AccessKeyID
		switch {
		case id.UserName != "":
			e.Username = id.UserName
		case id.Type == "AssumedRole":
			if k := strings.LastIndex(id.ARN, "/"); k >= 0 {
				e.Username = id.ARN[k+1:]
			}
		case id.Type == "Root":
			e.Username = "root"
		}
	}
	seen := map[resource]bool{}
	addRes := func(r resource) {
		if r.Name != "" && !seen[r] {
			seen[r] = true
			e.Resources = append(e.Resources, r)
		}
	}
	for _, r := range in.Resources {
		addRes(resource{Type: r.Type, Name: r.ARN})
	}
	for _, rp := range resourceParams {
		if v, ok := in.RequestParameters[rp.param]; ok {
			switch v := v.(type) {
			case string:
				addRes(resource{Type: rp.typ, Name: v})
			case nil:
			default:
				return nil, emu.BadEvent(i, "requestParameters."+rp.param, "want a string, got %s", fmt.Sprint(v))
			}
		}
	}
	return e, nil
}
