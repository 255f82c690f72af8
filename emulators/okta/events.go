package okta

import (
	"bytes"
	"encoding/json"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/events (emu.EventsPath) appends System Log events given
// as Okta's own LogEvent objects:
//
//	{"events": [{"eventType": "user.session.start",
//	  "published": "2026-11-20T08:00:00.000Z",
//	  "actor": {"id": "00u...", "type": "User", "alternateId": "ada@example.com"},
//	  "client": {"ipAddress": "203.0.113.7"}, "outcome": {"result": "SUCCESS"}, ...}]}
//
// eventType, published (an ISO 8601 time) and actor.id are required; a
// missing uuid gets a new one, and a uuid already in the log is refused.
// Every field given is kept: GET /api/v1/logs serves the event exactly as
// given, plus the uuid when it lacked one, and its filters, q, since/until
// and paging apply to it like to any other event. A field of the wrong
// JSON type for a LogEvent (actor.id a number, target not an array) is
// refused, naming it.
//
// Injected events are history, not live changes: they are never delivered
// to the event hook, whatever their eventType.

func (s *Server) eventsEndpoint() emu.Events {
	return emu.Events{Key: "events", Append: s.appendEvents}
}

// appendEvents checks every given LogEvent, then appends them all.
func (s *Server) appendEvents(items []json.RawMessage) error {
	s.Lock()
	defer s.Unlock()
	st := s.St
	have := make([]string, 0, len(st.Events))
	for _, e := range st.Events {
		have = append(have, e.UUID)
	}
	return emu.AppendKeyed(items, emu.Keyed[*logEvent]{
		Field: "uuid", Log: "the System Log", Existing: have,
		Parse: func(i int, raw json.RawMessage) (*logEvent, string, error) {
			e, err := parseLogEvent(i, raw)
			if err != nil {
				return nil, "", err
			}
			return e, e.UUID, nil
		},
		NewID: st.newUUID,
		Add: func(e *logEvent, id string, given json.RawMessage) {
			e.UUID, e.Given = id, given
			st.Events = append(st.Events, e)
		},
	})
}

// parseLogEvent reads event i into the fields the System Log queries use.
func parseLogEvent(i int, raw json.RawMessage) (*logEvent, error) {
	in := struct {
		*logEvent
		// These shadow the logEvent fields of the same names, to check
		// the time and to take debugData values of any JSON type.
		Published    *string `json:"published"`
		DebugContext *struct {
			DebugData map[string]json.RawMessage `json:"debugData"`
		} `json:"debugContext"`
	}{logEvent: &logEvent{}}
	if err := emu.DecodeEvent(i, raw, &in); err != nil {
		return nil, err
	}
	e := in.logEvent
	if e.EventType == "" {
		return nil, emu.BadEvent(i, "eventType", "required")
	}
	if in.Published == nil || *in.Published == "" {
		return nil, emu.BadEvent(i, "published", "required")
	}
	t, ok := parseLogTime(*in.Published)
	if !ok {
		return nil, emu.BadEvent(i, "published", "%q is not an ISO 8601 time like 2026-11-20T08:00:00.000Z", *in.Published)
	}
	e.Published = oktaTime{t.UTC()}
	if e.Actor.ID == "" {
		return nil, emu.BadEvent(i, "actor.id", "required")
	}
	e.DebugContext.DebugData = map[string]string{}
	if in.DebugContext != nil {
		for k, v := range in.DebugContext.DebugData {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(bytes.TrimSpace(v)) // a number, a boolean or an object: its JSON
			}
			e.DebugContext.DebugData[k] = s
		}
	}
	return e, nil
}

// wire is the event as GET /api/v1/logs serves it: as given when it was
// injected.
func (e *logEvent) wire() any {
	if e.Given != nil {
		return e.Given
	}
	return e
}
