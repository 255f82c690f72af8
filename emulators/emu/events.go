package emu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EventsPath is the control endpoint that appends audit events, given in
// the vendor's own audit format, to the emulator's audit log, so a test or
// a person can script a scenario's history:
//
//	POST /_emulator/events {"<key>": [<event>, ...]}
//
// The key is the vendor's ("events", or "entries" for Slack, "items" for
// Google; see Events.Key). Every event is checked before any is appended:
// one bad event refuses the whole request with 400
// {"error": "<key>[i].<field>: why", "index": i, "field": "<field>"} and
// appends nothing. Otherwise the answer is 200 {"appended": n}. The events
// are then served by the vendor's own audit query, with its filters and
// paging, and saved with the rest of the state. The endpoint is not logged
// or faulted, like the other control endpoints.
const EventsPath = "/_emulator/events"

// MaxEventsBody is the largest POST /_emulator/events body accepted.
const MaxEventsBody = 8 << 20

// Events is what a vendor emulator supplies to serve POST /_emulator/events.
type Events struct {
	// Key names the list in the body: {"<Key>": [...]}.
	Key string
	// Append checks every item (each a JSON object) and, only when all
	// are good, appends them all to the audit log, taking the state lock
	// itself. It reports a bad item with an *EventError (see BadEvent and
	// DecodeEvent); any error refuses the request with 400.
	Append func(items []json.RawMessage) error
}

// SetEvents makes the emulator serve POST /_emulator/events with ev.
func (e *Emulator) SetEvents(ev Events) {
	e.mu.Lock()
	e.events = &ev
	e.mu.Unlock()
}

// EventError is an injected event refused: its index in the list, the
// field at fault as a JSON path within the event ("actor.id",
// "events[0].name"; "" for the event as a whole) and why.
type EventError struct {
	Index int
	Field string
	Msg   string
}

func (e *EventError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("event %d: %s", e.Index, e.Msg)
	}
	return fmt.Sprintf("event %d: %s: %s", e.Index, e.Field, e.Msg)
}

// BadEvent reports event i refused because of field.
func BadEvent(i int, field, format string, args ...any) *EventError {
	return &EventError{Index: i, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// DecodeEvent decodes event i into v, reporting a value of the wrong JSON
// type as an *EventError naming the field. Unknown fields are ignored: the
// vendor keeps them, and so does the emulator, in the event as given.
func DecodeEvent(i int, raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return BadEvent(i, jsonPath(te.Field), "want %s, got a JSON %s", kindName(te.Type), te.Value)
	}
	return BadEvent(i, "", "%v", err)
}

// jsonPath turns encoding/json's "target.1.id" into "target[1].id".
func jsonPath(field string) string {
	var b strings.Builder
	for i, part := range strings.Split(field, ".") {
		if _, err := strconv.Atoi(part); err == nil && i > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

func (e *Emulator) serveEvents(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	ev := e.events
	e.mu.Unlock()
	if ev == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this emulator takes no events"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	want := fmt.Sprintf(`want {%q: [<event>, ...]}`, ev.Key)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventsBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body over %d bytes", MaxEventsBody)})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "could not read the body: " + err.Error()})
		return
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&top); err != nil || top == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad body: " + want})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad body: data after the object; " + want})
		return
	}
	for k := range top {
		if k != ev.Key {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("bad body: unknown field %q; %s", k, want)})
			return
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(top[ev.Key], &items); err != nil || items == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("bad body: %q must be an array; %s", ev.Key, want)})
		return
	}
	for i, it := range items {
		if t := bytes.TrimSpace(it); len(t) == 0 || t[0] != '{' {
			writeEventError(w, ev.Key, BadEvent(i, "", "want a JSON object"))
			return
		}
	}
	if err := ev.Append(items); err != nil {
		var be *EventError
		if errors.As(err, &be) {
			writeEventError(w, ev.Key, be)
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"appended": len(items)})
}

func writeEventError(w http.ResponseWriter, key string, e *EventError) {
	where := fmt.Sprintf("%s[%d]", key, e.Index)
	if e.Field != "" {
		where += "." + e.Field
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": where + ": " + e.Msg, "index": e.Index, "field": e.Field})
}

// Object is a JSON object whose members keep their order, for adding
// defaults to an event as given without disturbing the rest.
type Object struct {
	keys []string
	vals map[string]json.RawMessage
}

// ParseObject reads a JSON object.
func ParseObject(raw []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := &Object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := o.vals[k]; !dup {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return o, nil
}

// Has reports whether the object has key, with any value but null.
func (o *Object) Has(key string) bool {
	v, ok := o.vals[key]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

// Get returns key's value, or nil.
func (o *Object) Get(key string) json.RawMessage { return o.vals[key] }

// Set gives key the value v (JSON-encoded unless a json.RawMessage), in
// its place when the object has it, else last.
func (o *Object) Set(key string, v any) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			panic(fmt.Sprintf("emu: Object.Set %s: %v", key, err))
		}
	}
	if _, had := o.vals[key]; !had {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = raw
}

// SetDefault sets key to v when the object lacks it (or has it null).
func (o *Object) SetDefault(key string, v any) {
	if !o.Has(key) {
		o.Set(key, v)
	}
}

// MarshalJSON writes the object compactly, its members in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if err := json.Compact(&b, o.vals[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Raw is the object as a json.RawMessage.
func (o *Object) Raw() json.RawMessage {
	b, err := o.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("emu: Object: %v", err))
	}
	return b
}

// JSON encodes a value the emulator builds itself (a scenario's event),
// which cannot fail to encode.
func JSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Weekdays are the starts (00:00 UTC) of the weekdays among the 28 days
// before now's, oldest first, for scenarios' ordinary weeks: any time on
// them is before now.
func Weekdays(now time.Time) []time.Time {
	var out []time.Time
	today := now.UTC().Truncate(24 * time.Hour)
	for d := 28; d >= 1; d-- {
		day := today.Add(-time.Duration(d) * 24 * time.Hour)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			out = append(out, day)
		}
	}
	return out
}

// Keyed is how AppendKeyed handles one vendor's events that carry a
// unique ID (Okta's uuid, Slack's id, CloudTrail's eventID).
type Keyed[E any] struct {
	// Field is the ID's JSON field; Log names the log in refusals ("the
	// System Log").
	Field, Log string
	// Existing are the IDs already in the log.
	Existing []string
	// Parse reads item i into the vendor's event, and its ID ("" when the
	// item has none).
	Parse func(i int, raw json.RawMessage) (E, string, error)
	// NewID makes the ID of an item that has none.
	NewID func() string
	// Add appends an event, with its ID and the item as it is kept
	// (Raw, with the ID set).
	Add func(e E, id string, given json.RawMessage)
}

// AppendKeyed checks every item — it parses, it is a JSON object, its ID
// is not in the log nor given twice — and only then appends them all,
// giving an ID to those without one. A bad item refuses them all.
func AppendKeyed[E any](items []json.RawMessage, k Keyed[E]) error {
	ids := make(map[string]bool, len(k.Existing)+len(items))
	for _, id := range k.Existing {
		ids[id] = true
	}
	type pending struct {
		e   E
		id  string
		obj *Object
	}
	add := make([]pending, 0, len(items))
	for i, raw := range items {
		e, id, err := k.Parse(i, raw)
		if err != nil {
			return err
		}
		obj, err := ParseObject(raw)
		if err != nil {
			return BadEvent(i, "", "%v", err)
		}
		if id != "" {
			if ids[id] {
				return BadEvent(i, k.Field, "%s is already in %s", id, k.Log)
			}
			ids[id] = true
		}
		add = append(add, pending{e, id, obj})
	}
	for _, p := range add {
		if p.id == "" {
			p.id = k.NewID()
			p.obj.Set(k.Field, p.id)
		}
		k.Add(p.e, p.id, p.obj.Raw())
	}
	return nil
}
