package slack

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Kinds of GET /_emulator/messages entries.
const (
	KindMessage   = "message"   // chat.postMessage, or an in_channel response_url answer
	KindUpdate    = "update"    // chat.update, or a response_url answer that replaced a message
	KindEphemeral = "ephemeral" // chat.postEphemeral, or an ephemeral response_url answer
	KindDelete    = "delete"    // a response_url answer that deleted the message
)

// Post is one entry of GET /_emulator/messages: a message posted, updated,
// posted ephemerally or answered through a response_url, in order. User is
// the recipient of an ephemeral message; Author who sent it. Blocks are the
// blocks JSON as received.
type Post struct {
	Seq      int             `json:"seq"`
	Kind     string          `json:"kind"`
	At       time.Time       `json:"at"`
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"threadTs,omitempty"`
	User     string          `json:"user,omitempty"`
	Author   string          `json:"author"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	// Via is "response_url" for an answer posted to a response_url.
	Via             string `json:"via,omitempty"`
	ResponseType    string `json:"responseType,omitempty"`
	ReplaceOriginal bool   `json:"replaceOriginal,omitempty"`
	DeleteOriginal  bool   `json:"deleteOriginal,omitempty"`
}

func (st *state) record(e *Post) {
	st.Seq++
	e.Seq = st.Seq
	e.At = e.At.UTC()
	e.Blocks = slices.Clone(e.Blocks)
	st.Log = append(st.Log, e)
}

// Posts returns every message event in order (what GET /_emulator/messages
// serves).
func (s *Server) Posts() []Post {
	s.Lock()
	defer s.Unlock()
	out := []Post{}
	for _, e := range s.St.Log {
		p := *e
		p.Blocks = slices.Clone(e.Blocks)
		out = append(out, p)
	}
	return out
}

// message finds a channel message (not an ephemeral one).
func (st *state) message(ch, ts string) *message {
	for _, m := range st.Messages {
		if m.Channel == ch && m.TS == ts {
			return m
		}
	}
	return nil
}

func (st *state) ephemeral(ch, ts string) *message {
	for _, m := range st.Ephemerals {
		if m.Channel == ch && m.TS == ts {
			return m
		}
	}
	return nil
}

// https://docs.slack.dev/reference/methods/chat.postEphemeral
func (s *Server) chatPostEphemeral(c *call) {
	if c.v.Get("channel") == "" {
		webErr(c.w, "channel_not_found")
		return
	}
	to := c.v.Get("user")
	if to == "" {
		webErr(c.w, "user_not_found")
		return
	}
	text, rawBlocks := c.v.Get("text"), c.v.Get("blocks")
	blocks, bad := optionalBlocks(rawBlocks)
	if bad != "" {
		webErr(c.w, bad)
		return
	}
	ch, conv, bad := s.resolveChannel(c.v.Get("channel"), c.id, true)
	if bad != "" {
		webErr(c.w, bad)
		return
	}
	u := s.St.user(to)
	if u == nil {
		webErr(c.w, "user_not_found")
		return
	}
	if !u.Active {
		webErr(c.w, "user_not_found")
		return
	}
	if conv != nil && !conv.has(to) {
		webErr(c.w, "user_not_in_channel")
		return
	}
	if text == "" && rawBlocks == "" && c.v.Get("attachments") == "" {
		webErr(c.w, "no_text")
		return
	}
	m := &message{Channel: ch, Text: text, ThreadTS: c.v.Get("thread_ts"), User: c.id.userID, Posted: c.now.UTC(), Blocks: blocks, Recipient: to}
	if !c.id.admin {
		m.BotID = BotID
	}
	m.TS = s.nextTS(c.now)
	s.St.Ephemerals = append(s.St.Ephemerals, m)
	s.St.record(&Post{Kind: KindEphemeral, At: c.now, Channel: ch, TS: m.TS, ThreadTS: m.ThreadTS, User: to, Author: m.User, Text: text, Blocks: blocks})
	ok(c.w, map[string]any{"message_ts": m.TS})
}

// trigger is a trigger_id handed out in an interaction payload: valid for
// 3 s, once.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// triggerTTL is how long Slack honours a trigger_id.
const triggerTTL = 3 * time.Second

// issueTrigger makes a trigger_id shaped like Slack's
// ("12345.98765.abcd2358fdea…").
func (s *Server) issueTrigger(user string, now time.Time) string {
	s.St.Serial++
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := strconv.FormatInt(now.UnixMicro()/1000, 10) + "." + strconv.FormatUint(s.St.Serial, 10) + "." + hex.EncodeToString(b)
	s.triggers[id] = &trigger{user: user, issued: now}
	for k, t := range s.triggers {
		if now.Sub(t.issued) > time.Hour {
			delete(s.triggers, k)
		}
	}
	return id
}

// takeTrigger exchanges a trigger_id, or gives Slack's error code.
func (s *Server) takeTrigger(id string, now time.Time, consume bool) (*trigger, string) {
	t := s.triggers[id]
	switch {
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case now.Sub(t.issued) > triggerTTL || now.Before(t.issued.Add(-time.Minute)):
		return nil, "expired_trigger_id"
	}
	if consume {
		t.used = true
	}
	return t, ""
}

// view is a modal opened by views.open.
type view struct {
	Seq  int    `json:"seq"`
	ID   string `json:"id"`
	User string `json:"user"`
	// Spec is the view object as the app sent it (compacted).
	Spec       json.RawMessage `json:"spec"`
	Hash       string          `json:"hash"`
	RootID     string          `json:"rootId"`
	PreviousID string          `json:"previousId,omitempty"`
	Opened     time.Time       `json:"opened"`
	Updated    time.Time       `json:"updated"`
	// Status is "open" or "closed".
	Status      string            `json:"status"`
	Submissions int               `json:"submissions,omitempty"`
	Errors      map[string]string `json:"errors,omitempty"`
}

// View is one entry of GET /_emulator/views: a modal as the app opened (or
// last updated) it. Spec is the view object the app sent; View is the view
// as Slack shows it to the app (with id, hash, state).
type View struct {
	Seq             int               `json:"seq"`
	ID              string            `json:"id"`
	User            string            `json:"user"`
	Status          string            `json:"status"`
	CallbackID      string            `json:"callbackId,omitempty"`
	ExternalID      string            `json:"externalId,omitempty"`
	PrivateMetadata string            `json:"privateMetadata,omitempty"`
	RootViewID      string            `json:"rootViewId"`
	PreviousViewID  string            `json:"previousViewId,omitempty"`
	Hash            string            `json:"hash"`
	Opened          time.Time         `json:"opened"`
	Updated         time.Time         `json:"updated"`
	Submissions     int               `json:"submissions"`
	Errors          map[string]string `json:"errors,omitempty"`
	Spec            json.RawMessage   `json:"spec"`
	View            json.RawMessage   `json:"view"`
}

// Views returns every modal opened, oldest first (what GET /_emulator/views
// serves).
func (s *Server) Views() []View {
	s.Lock()
	defer s.Unlock()
	out := []View{}
	for _, v := range s.St.Views {
		spec := v.spec()
		str := func(k string) string { x, _ := spec[k].(string); return x }
		rendered, _ := json.Marshal(s.viewJSON(v, nil))
		out = append(out, View{Seq: v.Seq, ID: v.ID, User: v.User, Status: v.Status, CallbackID: str("callback_id"), ExternalID: str("external_id"),
			PrivateMetadata: str("private_metadata"), RootViewID: v.RootID, PreviousViewID: v.PreviousID, Hash: v.Hash, Opened: v.Opened, Updated: v.Updated,
			Submissions: v.Submissions, Errors: v.Errors, Spec: slices.Clone(v.Spec), View: rendered})
	}
	return out
}

func (v *view) spec() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(v.Spec, &m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (st *state) view(id string) *view {
	for _, v := range st.Views {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (st *state) newViewID() string {
	st.Serial++
	return st.conversationID("V", fmt.Sprintf("view/%d", st.Serial))
}

func newHash(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strconv.FormatInt(now.Unix(), 10) + "." + hex.EncodeToString(b)
}

// viewArg checks a view argument the way Slack's schema does for a modal:
// an object of type modal with a plain_text title, blocks, and a submit
// button when it has input blocks. It returns the compacted object, or
// Slack's error code and messages.
func viewArg(raw string) (json.RawMessage, []string) {
	var spec map[string]any
	if raw == "" {
		return nil, []string{"[ERROR] missing required field: view"}
	}
	if err := json.Unmarshal([]byte(raw), &spec); err != nil || spec == nil {
		return nil, []string{"[ERROR] failed to parse view: must be a JSON object"}
	}
	var msgs []string
	if spec["type"] != "modal" {
		msgs = append(msgs, "[ERROR] must be a valid enum value [json-pointer:/view/type]")
	}
	if t, _ := spec["title"].(map[string]any); t == nil || t["type"] != "plain_text" || t["text"] == "" || t["text"] == nil {
		msgs = append(msgs, "[ERROR] missing required field: title [json-pointer:/view]")
	}
	blocks, okBlocks := spec["blocks"].([]any)
	if !okBlocks {
		msgs = append(msgs, "[ERROR] missing required field: blocks [json-pointer:/view]")
	}
	hasInput := false
	for i, b := range blocks {
		bm, _ := b.(map[string]any)
		t, _ := bm["type"].(string)
		if t == "" {
			msgs = append(msgs, fmt.Sprintf("[ERROR] missing required field: type [json-pointer:/view/blocks/%d]", i))
		}
		if t == "input" {
			hasInput = true
		}
	}
	if hasInput && spec["submit"] == nil {
		msgs = append(msgs, "[ERROR] must provide a submit property when an input block is present [json-pointer:/view]")
	}
	if msgs != nil {
		return nil, msgs
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(raw))
	return buf.Bytes(), nil
}

// viewJSON is the view as Slack sends it back: the app's fields with
// Slack's (id, hash, state, block IDs it generated). values is the
// state.values to show (nil: empty).
func (s *Server) viewJSON(v *view, values map[string]any) map[string]any {
	spec := v.spec()
	out := map[string]any{
		"type": "modal", "private_metadata": "", "callback_id": "", "external_id": "",
		"close": nil, "submit": nil, "clear_on_close": false, "notify_on_close": false,
		"submit_disabled": false,
	}
	for k, x := range spec {
		out[k] = x
	}
	blocks, _ := spec["blocks"].([]any)
	if values == nil {
		values = map[string]any{}
	}
	var prev any
	if v.PreviousID != "" {
		prev = v.PreviousID
	}
	out["id"] = v.ID
	out["team_id"] = s.St.TeamID
	out["blocks"] = withIDs(blocks, v.ID)
	out["state"] = map[string]any{"values": values}
	out["hash"] = v.Hash
	out["root_view_id"] = v.RootID
	out["previous_view_id"] = prev
	out["app_id"] = AppID
	out["app_installed_team_id"] = s.St.TeamID
	out["bot_id"] = BotID
	return out
}

// https://docs.slack.dev/reference/methods/views.open
func (s *Server) viewsOpen(c *call) {
	tid := c.v.Get("trigger_id")
	if tid == "" {
		tid = c.v.Get("interactivity_pointer")
	}
	if tid == "" {
		webErr(c.w, "invalid_arguments", "response_metadata", map[string]any{"messages": []string{"[ERROR] missing required field: trigger_id"}})
		return
	}
	t, bad := s.takeTrigger(tid, c.now, false)
	if bad != "" {
		webErr(c.w, bad)
		return
	}
	spec, msgs := viewArg(c.v.Get("view"))
	if msgs != nil {
		webErr(c.w, "invalid_arguments", "response_metadata", map[string]any{"messages": msgs})
		return
	}
	if ext := (&view{Spec: spec}).spec()["external_id"]; ext != nil && ext != "" {
		for _, o := range s.St.Views {
			if o.spec()["external_id"] == ext {
				webErr(c.w, "duplicate_external_id")
				return
			}
		}
	}
	t.used = true
	s.St.Seq++
	v := &view{Seq: s.St.Seq, ID: s.St.newViewID(), User: t.user, Spec: spec, Hash: newHash(c.now), Opened: c.now.UTC(), Updated: c.now.UTC(), Status: "open"}
	v.RootID = v.ID
	s.St.Views = append(s.St.Views, v)
	ok(c.w, map[string]any{"view": s.viewJSON(v, nil)})
}

// https://docs.slack.dev/reference/methods/views.update
func (s *Server) viewsUpdate(c *call) {
	var v *view
	if id := c.v.Get("view_id"); id != "" {
		v = s.St.view(id)
	} else if ext := c.v.Get("external_id"); ext != "" {
		for _, o := range s.St.Views {
			if o.spec()["external_id"] == ext {
				v = o
			}
		}
	} else {
		webErr(c.w, "invalid_arguments", "response_metadata", map[string]any{"messages": []string{"[ERROR] view_id or external_id is required"}})
		return
	}
	if v == nil {
		webErr(c.w, "not_found")
		return
	}
	spec, msgs := viewArg(c.v.Get("view"))
	if msgs != nil {
		webErr(c.w, "invalid_arguments", "response_metadata", map[string]any{"messages": msgs})
		return
	}
	if h := c.v.Get("hash"); h != "" && h != v.Hash {
		webErr(c.w, "hash_conflict")
		return
	}
	v.Spec, v.Hash, v.Updated = spec, newHash(c.now), c.now.UTC()
	ok(c.w, map[string]any{"view": s.viewJSON(v, nil)})
}

// withIDs copies blocks, giving each block without a block_id, and each
// interactive element without an action_id, the stable ID Slack would
// have generated for it (derived from where it is, so every render and
// click agrees).
func withIDs(blocks []any, where string) []any {
	out := make([]any, len(blocks))
	for i, b := range blocks {
		bm, okMap := b.(map[string]any)
		if !okMap {
			out[i] = b
			continue
		}
		c := map[string]any{}
		for k, x := range bm {
			c[k] = x
		}
		if id, _ := c["block_id"].(string); id == "" {
			c["block_id"] = shortID(fmt.Sprintf("%s/%d", where, i))
		}
		bid := c["block_id"].(string)
		fix := func(el any, j int) any {
			em, okEl := el.(map[string]any)
			if !okEl {
				return el
			}
			e := map[string]any{}
			for k, x := range em {
				e[k] = x
			}
			if id, _ := e["action_id"].(string); id == "" {
				e["action_id"] = shortID(fmt.Sprintf("%s/%s/%d", where, bid, j))
			}
			return e
		}
		switch c["type"] {
		case "actions":
			if els, okEls := c["elements"].([]any); okEls {
				n := make([]any, len(els))
				for j, el := range els {
					n[j] = fix(el, j)
				}
				c["elements"] = n
			}
		case "section":
			if a, okA := c["accessory"]; okA {
				c["accessory"] = fix(a, 0)
			}
		case "input":
			if el, okEl := c["element"]; okEl {
				c["element"] = fix(el, 0)
			}
		}
		out[i] = c
	}
	return out
}

// shortID is a five-character ID like Slack's generated block IDs.
func shortID(key string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256Sum(key)
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}
