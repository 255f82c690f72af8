package google

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/events (emu.EventsPath) appends Reports API activities
// given as Google serves them:
//
//	{"items": [{"id": {"time": "2026-11-20T08:00:00.000Z", "applicationName": "login"},
//	  "actor": {"email": "ada@example.com"}, "ipAddress": "203.0.113.7",
//	  "events": [{"type": "login", "name": "login_success",
//	    "parameters": [{"name": "login_type", "value": "google_password"}]}]}]}
//
// id.time (RFC 3339), id.applicationName (one activities.list accepts), the
// actor (a user of the emulator, or its admin, by actor.profileId or
// actor.email; both, when given, must name the same one) and at least one
// event with a name are required. id.uniqueQualifier, when given, is an
// int64 as a string, as Google writes it, and must not repeat an activity's
// at the same time; when missing it gets one. id.customerId, when given,
// must be the emulator's customer. Every field given is kept:
// activities.list serves the activity as given, plus what it lacked of
// id.uniqueQualifier, id.customerId, actor.profileId, actor.email, kind
// and etag, with only the events that matched eventName and filters, as
// for any other activity; userKey, startTime, endTime, actorIpAddress and
// pageToken apply to it. As in Google, activities older than 180 days (or
// in the future) are not listed. Fields of the wrong JSON type for an
// activity (intValue a number rather than a string, parameters not an
// array) are refused, naming them.

func (s *Server) eventsEndpoint() emu.Events {
	return emu.Events{Key: "items", Append: s.appendActivities}
}

// appendActivities checks every given activity, then appends them all.
func (s *Server) appendActivities(items []json.RawMessage) error {
	s.Lock()
	defer s.Unlock()
	st := s.St
	type key struct {
		at   int64
		qual int64
	}
	taken := make(map[key]bool, len(st.Events)+len(items))
	for _, r := range st.Events {
		taken[key{r.At.UnixNano(), r.Qualifier}] = true
	}
	type pending struct {
		r              *record
		obj, id, actor *emu.Object
		qualGiven      bool
	}
	add := make([]pending, 0, len(items))
	for i, raw := range items {
		r, qualGiven, err := st.parseActivity(i, raw)
		if err != nil {
			return err
		}
		p := pending{r: r, qualGiven: qualGiven}
		if p.obj, err = emu.ParseObject(raw); err != nil {
			return emu.BadEvent(i, "", "%v", err)
		}
		// parseActivity has checked that both are objects.
		if p.id, err = emu.ParseObject(p.obj.Get("id")); err != nil {
			return emu.BadEvent(i, "id", "%v", err)
		}
		if p.actor, err = emu.ParseObject(p.obj.Get("actor")); err != nil {
			return emu.BadEvent(i, "actor", "%v", err)
		}
		if qualGiven {
			k := key{r.At.UnixNano(), r.Qualifier}
			if taken[k] {
				return emu.BadEvent(i, "id.uniqueQualifier", "%d is already an activity's at %s", r.Qualifier, r.At.Format(timeLayout))
			}
			taken[k] = true
		}
		add = append(add, p)
	}
	for _, p := range add {
		r := p.r
		if !p.qualGiven {
			r.Qualifier = st.newQualifier()
		}
		p.id.SetDefault("uniqueQualifier", strconv.FormatInt(r.Qualifier, 10))
		p.id.SetDefault("customerId", st.Customer)
		p.obj.Set("id", p.id.Raw())
		p.actor.SetDefault("profileId", r.Actor.ProfileID)
		p.actor.SetDefault("email", r.Actor.Email)
		p.obj.Set("actor", p.actor.Raw())
		p.obj.SetDefault("kind", "admin#reports#activity")
		p.obj.SetDefault("etag", etag("activity", r.Qualifier))
		r.Given = p.obj.Raw()
		st.Events = append(st.Events, r)
	}
	sort.SliceStable(st.Events, func(i, j int) bool { return st.Events[i].At.Before(st.Events[j].At) })
	return nil
}

// givenParam is an event parameter, with the JSON types the Reports API
// (and google.golang.org/api) gives them.
type givenParam struct {
	Name              *string                      `json:"name"`
	Value             *string                      `json:"value"`
	BoolValue         *bool                        `json:"boolValue"`
	IntValue          json.RawMessage              `json:"intValue"`
	MultiValue        []string                     `json:"multiValue"`
	MultiIntValue     []json.RawMessage            `json:"multiIntValue"`
	MessageValue      map[string]json.RawMessage   `json:"messageValue"`
	MultiMessageValue []map[string]json.RawMessage `json:"multiMessageValue"`
}

// int64String reads an int64 written as a JSON string, as Google writes
// them.
func int64String(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "", false
	}
	return s, true
}

// parseActivity reads activity i into a record, reporting whether it gave
// its uniqueQualifier (else Qualifier is 0).
func (st *state) parseActivity(i int, raw json.RawMessage) (*record, bool, error) {
	var in struct {
		ID *struct {
			Time            *string         `json:"time"`
			ApplicationName *string         `json:"applicationName"`
			UniqueQualifier json.RawMessage `json:"uniqueQualifier"`
			CustomerID      *string         `json:"customerId"`
		} `json:"id"`
		Actor *struct {
			CallerType string `json:"callerType"`
			Email      string `json:"email"`
			ProfileID  string `json:"profileId"`
			Key        string `json:"key"`
		} `json:"actor"`
		IPAddress   string `json:"ipAddress"`
		OwnerDomain string `json:"ownerDomain"`
		Kind        string `json:"kind"`
		Etag        string `json:"etag"`
		Events      []*struct {
			Type                string           `json:"type"`
			Name                *string          `json:"name"`
			Parameters          []*givenParam    `json:"parameters"`
			ResourceIDs         []string         `json:"resourceIds"`
			Status              map[string]any   `json:"status"`
			SensitiveParameters []map[string]any `json:"sensitiveParameters"`
		} `json:"events"`
		NetworkInfo     map[string]any   `json:"networkInfo"`
		ResourceDetails []map[string]any `json:"resourceDetails"`
	}
	if err := emu.DecodeEvent(i, raw, &in); err != nil {
		return nil, false, err
	}
	if in.ID == nil {
		return nil, false, emu.BadEvent(i, "id", "required")
	}
	if in.ID.Time == nil || *in.ID.Time == "" {
		return nil, false, emu.BadEvent(i, "id.time", "required")
	}
	at, ok := parseTime(*in.ID.Time)
	if !ok {
		return nil, false, emu.BadEvent(i, "id.time", "%q is not an RFC 3339 time like 2026-11-20T08:00:00.000Z", *in.ID.Time)
	}
	if in.ID.ApplicationName == nil || *in.ID.ApplicationName == "" {
		return nil, false, emu.BadEvent(i, "id.applicationName", "required")
	}
	app := *in.ID.ApplicationName
	if !slices.Contains(applications, app) {
		return nil, false, emu.BadEvent(i, "id.applicationName", "%q is not an application the Reports API knows (%s)", app, strings.Join(applications, ", "))
	}
	r := &record{At: at.UTC(), App: app, IP: in.IPAddress, Owner: in.OwnerDomain}
	qualGiven := false
	if q := bytes.TrimSpace(in.ID.UniqueQualifier); len(q) > 0 && string(q) != "null" {
		s, ok := int64String(q)
		if !ok {
			return nil, false, emu.BadEvent(i, "id.uniqueQualifier", "want an int64 as a string, like \"-8744562548613392386\", got %s", q)
		}
		r.Qualifier, _ = strconv.ParseInt(s, 10, 64)
		qualGiven = true
	}
	if c := in.ID.CustomerID; c != nil && *c != st.Customer {
		return nil, false, emu.BadEvent(i, "id.customerId", "%q is not the emulator's customer %s", *c, st.Customer)
	}
	if in.Actor == nil || in.Actor.ProfileID == "" && in.Actor.Email == "" {
		return nil, false, emu.BadEvent(i, "actor", "required: profileId or email of a user")
	}
	a, err := st.givenActor(i, in.Actor.ProfileID, in.Actor.Email)
	if err != nil {
		return nil, false, err
	}
	a.CallerType = in.Actor.CallerType
	r.Actor = a
	if len(in.Events) == 0 {
		return nil, false, emu.BadEvent(i, "events", "required: at least one event")
	}
	var evRaw struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = json.Unmarshal(raw, &evRaw)
	for k, ge := range in.Events {
		field := "events[" + strconv.Itoa(k) + "]"
		if ge == nil {
			return nil, false, emu.BadEvent(i, field, "want an object, got null")
		}
		if ge.Name == nil || *ge.Name == "" {
			return nil, false, emu.BadEvent(i, field+".name", "required")
		}
		e := &event{Type: ge.Type, Name: *ge.Name}
		var compact bytes.Buffer
		_ = json.Compact(&compact, evRaw.Events[k])
		e.Given = compact.Bytes()
		for n, gp := range ge.Parameters {
			pf := field + ".parameters[" + strconv.Itoa(n) + "]"
			if gp == nil || gp.Name == nil || *gp.Name == "" {
				return nil, false, emu.BadEvent(i, pf+".name", "required")
			}
			p := &param{Name: *gp.Name, BoolValue: gp.BoolValue, MultiValue: gp.MultiValue}
			if gp.Value != nil {
				p.Value = *gp.Value
			}
			if len(gp.IntValue) > 0 && string(gp.IntValue) != "null" {
				s, ok := int64String(gp.IntValue)
				if !ok {
					return nil, false, emu.BadEvent(i, pf+".intValue", "want an int64 as a string, like \"42\", got %s", gp.IntValue)
				}
				p.IntValue = s
			}
			for m, v := range gp.MultiIntValue {
				s, ok := int64String(v)
				if !ok {
					return nil, false, emu.BadEvent(i, pf+".multiIntValue["+strconv.Itoa(m)+"]", "want an int64 as a string, like \"42\", got %s", v)
				}
				p.MultiIntValue = append(p.MultiIntValue, s)
			}
			e.Parameters = append(e.Parameters, p)
		}
		r.Events = append(r.Events, e)
	}
	return r, qualGiven, nil
}

// givenActor finds the user (or the admin) an activity's actor names.
func (st *state) givenActor(i int, profileID, email string) (actor, error) {
	find := func(key string) (actor, bool) {
		if key == st.Admin.ProfileID || strings.EqualFold(key, st.Admin.Email) {
			return actor{Email: st.Admin.Email, ProfileID: st.Admin.ProfileID}, true
		}
		if u := st.userByKey(key); u != nil {
			return actor{Email: u.PrimaryEmail, ProfileID: u.ID}, true
		}
		return actor{}, false
	}
	var byID, byEmail actor
	if profileID != "" {
		a, ok := find(profileID)
		if !ok || a.ProfileID != profileID {
			return actor{}, emu.BadEvent(i, "actor.profileId", "no user %s in the emulator", profileID)
		}
		byID = a
	}
	if email != "" {
		a, ok := find(email)
		if !ok || !strings.EqualFold(a.Email, email) {
			return actor{}, emu.BadEvent(i, "actor.email", "no user %s in the emulator", email)
		}
		byEmail = a
	}
	switch {
	case profileID != "" && email != "" && byID.ProfileID != byEmail.ProfileID:
		return actor{}, emu.BadEvent(i, "actor.email", "%s is not the user of profileId %s", email, profileID)
	case profileID != "":
		return byID, nil
	}
	return byEmail, nil
}

// wire is the activity as activities.list serves it, with only events (the
// ones matched): as given, when it was injected.
func (st *state) wire(r *record) any {
	if r.Given == nil {
		return st.activityJSON(r)
	}
	obj, err := emu.ParseObject(r.Given)
	if err != nil {
		return r.Given
	}
	evs := make([]json.RawMessage, 0, len(r.Events))
	for _, e := range r.Events {
		evs = append(evs, e.Given)
	}
	obj.Set("events", evs)
	return obj
}
