package github

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/events (emu.EventsPath) appends org audit log entries
// given as GitHub serves them:
//
//	{"events": [{"action": "git.clone", "actor": "ada", "org": "acme",
//	  "@timestamp": 1795680000000, "repo": "acme/api", "actor_ip": "203.0.113.7",
//	  "actor_location": {"country_code": "US"}, "transport_protocol_name": "http",
//	  "hashed_token": "...", "token_id": 42, ...}]}
//
// action, org (an org of the emulator) and the time are required: @timestamp
// or created_at, in milliseconds since the epoch (an RFC 3339 string is taken
// too; both, when given, must agree). actor_id and user_id, when missing,
// are the IDs of the actor's and user's logins when they are users of the
// emulator; org_id, when given, must be the org's; a missing _document_id
// gets one. Every other field is kept as given and served back at the top
// level of the entry. GET /orgs/{org}/audit-log serves the entry with both
// @timestamp and created_at in milliseconds, as GitHub does, and its
// phrase, include (git.* actions are Git events), order and cursors apply
// to it. Fields of the wrong JSON type for an audit entry (actor_id a
// string, actor_location not an object) are refused, naming them.

func (s *Server) eventsEndpoint() emu.Events {
	return emu.Events{Key: "events", Append: s.appendEvents}
}

// liftedFields are the fields of a given entry held in auditEvent's own
// fields rather than in Fields.
var liftedFields = []string{"@timestamp", "created_at", "_document_id", "action", "actor", "actor_id", "org", "org_id", "user", "user_id"}

// appendEvents checks every given entry, then appends them all.
func (s *Server) appendEvents(items []json.RawMessage) error {
	s.Lock()
	defer s.Unlock()
	st := s.St
	add := make([]*auditEvent, 0, len(items))
	for i, raw := range items {
		e, err := st.parseEntry(i, raw)
		if err != nil {
			return err
		}
		add = append(add, e)
	}
	for _, e := range add {
		e.Seq = st.next()
		if e.DocumentID == "" {
			d := digest("audit", e.Org, e.Seq, e.Action)
			e.DocumentID = base64.RawURLEncoding.EncodeToString(d[:16])
		}
		st.Events = append(st.Events, e)
	}
	return nil
}

// parseEntry reads entry i into an auditEvent without its Seq.
func (st *state) parseEntry(i int, raw json.RawMessage) (*auditEvent, error) {
	var in struct {
		Action     *string         `json:"action"`
		Actor      *string         `json:"actor"`
		ActorID    *int64          `json:"actor_id"`
		Org        *string         `json:"org"`
		OrgID      *int64          `json:"org_id"`
		User       *string         `json:"user"`
		UserID     *int64          `json:"user_id"`
		Timestamp  json.RawMessage `json:"@timestamp"`
		CreatedAt  json.RawMessage `json:"created_at"`
		DocumentID *string         `json:"_document_id"`
		// Checked only, and kept in Fields: the types GitHub gives them.
		ActorLocation *struct {
			CountryCode *string `json:"country_code"`
		} `json:"actor_location"`
		ActorIP                  *string        `json:"actor_ip"`
		Business                 *string        `json:"business"`
		BusinessID               *int64         `json:"business_id"`
		ExternalIdentityNameID   *string        `json:"external_identity_nameid"`
		ExternalIdentityUsername *string        `json:"external_identity_username"`
		HashedToken              *string        `json:"hashed_token"`
		TokenID                  *int64         `json:"token_id"`
		TokenScopes              *string        `json:"token_scopes"`
		Repo                     *string        `json:"repo"`
		UserAgent                *string        `json:"user_agent"`
		Data                     map[string]any `json:"data"`
	}
	if err := emu.DecodeEvent(i, raw, &in); err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := emu.DecodeEvent(i, raw, &fields); err != nil {
		return nil, err
	}
	if in.Action == nil || *in.Action == "" {
		return nil, emu.BadEvent(i, "action", "required")
	}
	if in.Org == nil || *in.Org == "" {
		return nil, emu.BadEvent(i, "org", "required")
	}
	o := st.org(*in.Org)
	if o == nil {
		return nil, emu.BadEvent(i, "org", "no org %q in the emulator", *in.Org)
	}
	if in.OrgID != nil && *in.OrgID != o.ID {
		return nil, emu.BadEvent(i, "org_id", "%d is not the id of org %s (%d)", *in.OrgID, o.Login, o.ID)
	}
	at, err := entryTime(i, in.Timestamp, in.CreatedAt)
	if err != nil {
		return nil, err
	}
	for _, k := range liftedFields {
		delete(fields, k)
	}
	e := &auditEvent{At: at, Action: *in.Action, Org: o.Login, OrgID: o.ID, Fields: fields}
	if in.DocumentID != nil {
		e.DocumentID = *in.DocumentID
	}
	if in.Actor != nil {
		e.Actor = *in.Actor
	}
	switch {
	case in.ActorID != nil:
		e.ActorID = *in.ActorID
	case e.Actor != "":
		if u := st.user(e.Actor); u != nil {
			e.ActorID = u.ID
		}
	}
	if in.User != nil && *in.User != "" {
		e.User = *in.User
		switch {
		case in.UserID != nil:
			e.UserID = *in.UserID
		case st.user(e.User) != nil:
			e.UserID = st.user(e.User).ID
		}
	} else if in.UserID != nil {
		return nil, emu.BadEvent(i, "user_id", "given without user")
	}
	return e, nil
}

// entryTime reads an entry's @timestamp or created_at: milliseconds since
// the epoch, or an RFC 3339 string.
func entryTime(i int, stamp, created json.RawMessage) (time.Time, error) {
	read := func(field string, raw json.RawMessage) (time.Time, bool, error) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return time.Time{}, false, nil
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return time.Time{}, false, emu.BadEvent(i, field, "%q is neither milliseconds since the epoch nor an RFC 3339 time", s)
			}
			return t.UTC().Truncate(time.Millisecond), true, nil
		}
		var ms json.Number
		if err := json.Unmarshal(raw, &ms); err != nil {
			return time.Time{}, false, emu.BadEvent(i, field, "want milliseconds since the epoch, got %s", raw)
		}
		n, err := ms.Int64()
		if err != nil {
			return time.Time{}, false, emu.BadEvent(i, field, "want whole milliseconds since the epoch, got %s", raw)
		}
		if n < 1e11 && n > -1e11 {
			return time.Time{}, false, emu.BadEvent(i, field, "%d looks like seconds: GitHub's audit log times are milliseconds since the epoch", n)
		}
		return time.UnixMilli(n).UTC(), true, nil
	}
	a, okA, err := read("@timestamp", stamp)
	if err != nil {
		return a, err
	}
	b, okB, err := read("created_at", created)
	if err != nil {
		return b, err
	}
	switch {
	case okA && okB && !a.Equal(b):
		return a, emu.BadEvent(i, "created_at", "%s disagrees with @timestamp %s", b.Format(time.RFC3339Nano), a.Format(time.RFC3339Nano))
	case okA:
		return a, nil
	case okB:
		return b, nil
	}
	return a, emu.BadEvent(i, "@timestamp", "required (or created_at), in milliseconds since the epoch")
}

// fieldText is a field's value as a search qualifier compares it: numbers
// without exponents, as GitHub writes them.
func fieldText(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return ""
	}
	return string(b)
}
