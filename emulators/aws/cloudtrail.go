package aws

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CloudTrail Event history: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html

var eventSources = map[string]string{
	svcIAM:           "iam.amazonaws.com",
	svcSTS:           "sts.amazonaws.com",
	svcIdentityStore: "identitystore.amazonaws.com",
	svcSSOAdmin:      "sso.amazonaws.com",
}

// readOnlyActions are logged as read events although they are not Get,
// List or Describe calls.
var readOnlyActions = map[string]bool{"AssumeRole": true}

// audit appends the CloudTrail management event for a call p made, in p's
// account.
func (s *Server) audit(c *call, p *principal, now time.Time, params map[string]any, res ...resource) {
	src := eventSources[c.service]
	ev := &event{
		ID:          hashUUID("event", s.St.next("event")),
		Name:        c.action,
		Source:      src,
		Time:        now,
		Account:     p.account,
		Username:    p.name,
		AccessKeyID: p.keyID,
		ReadOnly:    readOnlyActions[c.action] || strings.HasPrefix(c.action, "Get") || strings.HasPrefix(c.action, "List") || strings.HasPrefix(c.action, "Describe"),
		Management:  true,
		Resources:   res,
	}
	identity := map[string]any{"principalId": p.userID, "arn": p.arn, "accountId": p.account, "accessKeyId": p.keyID}
	switch p.kind {
	case credAccount:
		identity["type"] = "Root"
	case credSession:
		identity["type"] = "AssumedRole"
		_, rest, _ := strings.Cut(p.arn, ":assumed-role/")
		role, _, _ := strings.Cut(rest, "/")
		identity["sessionContext"] = map[string]any{
			"sessionIssuer": map[string]any{"type": "Role", "accountId": p.account, "userName": role,
				"arn": "arn:aws:iam::" + p.account + ":role/" + role},
			"attributes": map[string]any{"creationDate": isoTime(p.issued), "mfaAuthenticated": "false"},
		}
	default:
		identity["type"] = "IAMUser"
		identity["userName"] = p.name
	}
	ev.Record = mustJSON(map[string]any{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          isoTime(now),
		"eventSource":        src,
		"eventName":          c.action,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    "198.51.100.1",
		"userAgent":          "aws-sdk-go-v2",
		"requestParameters":  params,
		"responseElements":   nil,
		"requestID":          c.rid,
		"eventID":            ev.ID,
		"readOnly":           ev.ReadOnly,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": p.account,
		"eventCategory":      "Management",
	})
	s.St.Events = append(s.St.Events, ev)
}

// lookupAttributeKeys are the keys LookupEvents accepts.
var lookupAttributeKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

func matchAttribute(e *event, key, val string) bool {
	switch key {
	case "EventId":
		return e.ID == val
	case "EventName":
		return e.Name == val
	case "ReadOnly":
		return (val == "true") == e.ReadOnly
	case "Username":
		return e.Username == val
	case "EventSource":
		return e.Source == val
	case "AccessKeyId":
		return e.AccessKeyID == val
	case "ResourceType", "ResourceName":
		for _, r := range e.Resources {
			if key == "ResourceType" && r.Type == val || key == "ResourceName" && r.Name == val {
				return true
			}
		}
	}
	return false
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func fromEpoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// lookupEvents answers LookupEvents with the caller's account's management
// events, newest first. Only one lookup attribute is allowed per call.
// Event history keeps 90 days; the emulator keeps everything, so the demo
// history does not age out.
func (s *Server) lookupEvents(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	var in struct {
		LookupAttributes []struct {
			AttributeKey   string
			AttributeValue string
		}
		StartTime     *float64
		EndTime       *float64
		EventCategory string
		MaxResults    *int
		NextToken     string
	}
	if len(bytes.TrimSpace(c.body)) > 0 {
		if err := json.Unmarshal(c.body, &in); err != nil {
			writeError(w, c, errf(400, "SerializationException", "Unable to parse the request body."))
			return
		}
	}
	if len(in.LookupAttributes) > 1 {
		writeError(w, c, errf(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute."))
		return
	}
	var key, val string
	if len(in.LookupAttributes) == 1 {
		key, val = in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue
		if !slices.Contains(lookupAttributeKeys, key) {
			writeError(w, c, errf(400, "InvalidLookupAttributesException", "The attribute key %s is not valid.", key))
			return
		}
		if val == "" {
			writeError(w, c, errf(400, "InvalidLookupAttributesException", "The attribute value must not be empty."))
			return
		}
	}
	size := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			writeError(w, c, errf(400, "InvalidMaxResultsException", "Value %d for MaxResults is invalid. Valid range is 1-50.", *in.MaxResults))
			return
		}
		size = *in.MaxResults
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = fromEpoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = fromEpoch(*in.EndTime)
	}
	if !start.IsZero() && !end.IsZero() && start.After(end) {
		writeError(w, c, errf(400, "InvalidTimeRangeException", "Start time must not be after end time."))
		return
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		writeError(w, c, errf(400, "InvalidEventCategoryException", "Event category %s is not valid.", in.EventCategory))
		return
	}
	scope := mustJSON([]any{p.account, key, val, in.StartTime, in.EndTime, in.EventCategory})
	off, ok := parsePageToken(in.NextToken, scope)
	if !ok {
		writeError(w, c, errf(400, "InvalidNextTokenException", "A token you provided is not valid."))
		return
	}
	var matched []*event
	if in.EventCategory == "" {
		for i := len(s.St.Events) - 1; i >= 0; i-- {
			e := s.St.Events[i]
			if !e.Management || e.Account != p.account {
				continue
			}
			if !start.IsZero() && e.Time.Before(start) || !end.IsZero() && e.Time.After(end) {
				continue
			}
			if key != "" && !matchAttribute(e, key, val) {
				continue
			}
			matched = append(matched, e)
		}
		slices.SortStableFunc(matched, func(a, b *event) int { return b.Time.Compare(a.Time) })
	}
	pg, more := page(matched, off, size)
	type xResource struct {
		ResourceType string
		ResourceName string
	}
	type xEvent struct {
		EventId         string
		EventName       string
		ReadOnly        string
		AccessKeyId     string `json:",omitempty"`
		EventTime       float64
		EventSource     string
		Username        string `json:",omitempty"`
		Resources       []xResource
		CloudTrailEvent string
	}
	out := struct {
		Events    []xEvent
		NextToken string `json:",omitempty"`
	}{Events: []xEvent{}}
	for _, e := range pg {
		x := xEvent{EventId: e.ID, EventName: e.Name, ReadOnly: "false", AccessKeyId: e.AccessKeyID, EventTime: epoch(e.Time),
			EventSource: e.Source, Username: e.Username, Resources: []xResource{}, CloudTrailEvent: e.Record}
		if e.ReadOnly {
			x.ReadOnly = "true"
		}
		for _, r := range e.Resources {
			x.Resources = append(x.Resources, xResource{r.Type, r.Name})
		}
		out.Events = append(out.Events, x)
	}
	if more {
		out.NextToken = pageToken(scope, off+len(pg))
	}
	writeJSON(w, c, http.StatusOK, out)
}
