package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultVerificationToken is the token field of interaction payloads when
// Options.VerificationToken is empty.
const DefaultVerificationToken = "emulator-verification-token"

// DevSigningSecret is the signing secret the emulator signs interaction
// payloads with under `offboard dev`.
const DevSigningSecret = "offboard-dev-signing-secret"

// responsePath is where the emulator serves the response_urls it hands out:
// <base>/_emulator/response/<token>.
const responsePath = "/_emulator/response/"

// A response_url takes five answers within 30 minutes, as Slack's does.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

func sha256Sum(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// Interactivity is where clicks are delivered: the app's Request URL and
// signing secret, and optionally the team ID the payloads name (default the
// seed's). It is what POST /_emulator/interactivity sets and GET shows
// (without the secret).
type Interactivity struct {
	URL           string `json:"url"`
	SigningSecret string `json:"signingSecret,omitempty"`
	TeamID        string `json:"teamId,omitempty"`
}

// SetInteractivity sets where clicks go.
func (s *Server) SetInteractivity(in Interactivity) {
	s.Lock()
	s.hook = in
	s.Unlock()
}

// responseURL is a response_url handed out in a click payload.
type responseURL struct {
	Token     string    `json:"token"`
	Channel   string    `json:"channel"`
	TS        string    `json:"ts"`
	Ephemeral bool      `json:"ephemeral,omitempty"`
	ThreadTS  string    `json:"threadTs,omitempty"`
	User      string    `json:"user"`
	Issued    time.Time `json:"issued"`
	Uses      int       `json:"uses"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serveControl serves the interactivity control endpoints; it reports
// whether the path was one of them.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/_emulator/messages":
		if !only(w, r, http.MethodGet) {
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.Posts()})
	case "/_emulator/views":
		if !only(w, r, http.MethodGet) {
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"views": s.Views()})
	case "/_emulator/interactivity":
		switch r.Method {
		case http.MethodGet:
			s.Lock()
			in := s.hook
			s.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"url": in.URL, "teamId": in.TeamID, "signingSecretSet": in.SigningSecret != ""})
		case http.MethodPost:
			var in Interactivity
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad interactivity config: " + err.Error()})
				return true
			}
			if in.URL != "" {
				if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": "url must be an absolute http(s) URL"})
					return true
				}
			}
			s.SetInteractivity(in)
			writeJSON(w, http.StatusOK, map[string]any{"url": in.URL, "teamId": in.TeamID, "signingSecretSet": in.SigningSecret != ""})
		default:
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET or POST"})
		}
	case "/_emulator/click":
		if !only(w, r, http.MethodPost) {
			return true
		}
		var c Click
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad click: " + err.Error()})
			return true
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		res, err := s.Click(r.Context(), scheme+"://"+r.Host, c)
		var ce *ClickError
		if errors.As(err, &ce) {
			writeJSON(w, ce.Status, map[string]string{"error": ce.Msg})
			return true
		}
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return true
		}
		if ct := res.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("X-Emulator-Delivered", "true")
		w.Header().Set("X-Emulator-Payload-Type", res.Type)
		if res.TriggerID != "" {
			w.Header().Set("X-Emulator-Trigger-Id", res.TriggerID)
		}
		if res.ResponseURL != "" {
			w.Header().Set("X-Emulator-Response-Url", res.ResponseURL)
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
	default:
		return false
	}
	return true
}

func only(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use " + method})
	return false
}

// Click is what POST /_emulator/click takes. Channel and TS (with ActionID)
// click a button in a message; ViewID submits a modal (with Values), or,
// with ActionID, clicks a button in it. Values are input values by block_id
// and action_id: a string, or a list of strings for multi-selects and
// checkboxes. Timestamp, SigningSecret and TeamID forge a bad request: a
// signature timestamp (Unix seconds) other than now, another secret, another
// team.
type Click struct {
	Channel  string                                `json:"channel,omitempty"`
	TS       string                                `json:"ts,omitempty"`
	ActionID string                                `json:"actionId,omitempty"`
	BlockID  string                                `json:"blockId,omitempty"`
	User     string                                `json:"user"`
	ViewID   string                                `json:"viewId,omitempty"`
	Values   map[string]map[string]json.RawMessage `json:"values,omitempty"`

	Timestamp     *int64 `json:"timestamp,omitempty"`
	SigningSecret string `json:"signingSecret,omitempty"`
	TeamID        string `json:"teamId,omitempty"`
}

// ClickResult is the app's answer to a delivered payload.
type ClickResult struct {
	// Type is the payload type: block_actions or view_submission.
	Type   string
	Status int
	Header http.Header
	Body   []byte
	// Payload is the JSON that was delivered (form field payload).
	Payload     json.RawMessage
	TriggerID   string
	ResponseURL string
}

// ClickError is a click the emulator refused before delivering anything;
// Status is the HTTP status /_emulator/click answers with.
type ClickError struct {
	Status int
	Msg    string
}

func (e *ClickError) Error() string { return e.Msg }

func clickErr(status int, format string, args ...any) error {
	return &ClickError{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// prepared is a payload ready to deliver.
type prepared struct {
	hook     Interactivity
	payload  map[string]any
	typ      string
	trigger  string
	response string
	view     *view // for a view_submission
}

// Click plays a user's click (or modal submission) the way Slack does: it
// builds the interaction payload, form-encodes it as payload=<JSON>, signs
// it with the signing secret and POSTs it to the interactivity URL, then
// returns the app's answer. baseURL is where this emulator is served (for
// the response_url). A view_submission's answer is applied to the view:
// errors keep it open, update replaces it, push stacks a new one, and
// anything else closes it.
func (s *Server) Click(ctx context.Context, baseURL string, c Click) (*ClickResult, error) {
	p, err := s.prepare(baseURL, c)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p.payload)
	if err != nil {
		return nil, err
	}
	body := url.Values{"payload": {string(raw)}}.Encode()
	ts := time.Now().Unix()
	if c.Timestamp != nil {
		ts = *c.Timestamp
	}
	secret := p.hook.SigningSecret
	if c.SigningSecret != "" {
		secret = c.SigningSecret
	}
	sts := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = io.WriteString(mac, "v0:"+sts+":"+body)
	ctx, cancel := context.WithTimeout(ctx, s.opts.InteractivityTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.hook.URL, strings.NewReader(body))
	if err != nil {
		return nil, clickErr(http.StatusConflict, "interactivity url: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", sts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, clickErr(http.StatusGatewayTimeout, "the app did not answer within %s (Slack shows the user an error)", s.opts.InteractivityTimeout)
		}
		return nil, clickErr(http.StatusBadGateway, "delivering to %s: %v", p.hook.URL, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, clickErr(http.StatusBadGateway, "reading the app's answer: %v", err)
	}
	res := &ClickResult{Type: p.typ, Status: resp.StatusCode, Header: resp.Header, Body: answer, Payload: raw, TriggerID: p.trigger, ResponseURL: p.response}
	if p.view != nil && resp.StatusCode == http.StatusOK {
		s.Lock()
		s.applyViewAnswer(p.view, answer, s.opts.Now())
		s.Unlock()
	}
	return res, nil
}

func (s *Server) prepare(baseURL string, c Click) (*prepared, error) {
	s.Lock()
	defer s.Unlock()
	now := s.opts.Now()
	p := &prepared{hook: s.hook}
	if p.hook.URL == "" {
		return nil, clickErr(http.StatusConflict, "no interactivity URL: POST /_emulator/interactivity first")
	}
	if c.User == "" {
		return nil, clickErr(http.StatusBadRequest, "user is required")
	}
	u := s.St.user(c.User)
	if u == nil {
		return nil, clickErr(http.StatusNotFound, "no user %s", c.User)
	}
	if !u.Active {
		return nil, clickErr(http.StatusForbidden, "user %s is deactivated and cannot click", c.User)
	}
	team := s.St.TeamID
	if p.hook.TeamID != "" {
		team = p.hook.TeamID
	}
	if c.TeamID != "" {
		team = c.TeamID
	}
	base := map[string]any{
		"team":                  map[string]any{"id": team, "domain": s.St.domainLabel()},
		"user":                  map[string]any{"id": u.ID, "username": u.UserName, "name": u.UserName, "team_id": team},
		"api_app_id":            AppID,
		"token":                 s.opts.VerificationToken,
		"enterprise":            map[string]any{"id": s.St.EnterpriseID, "name": s.St.domainLabel()},
		"is_enterprise_install": false,
	}
	if c.ViewID != "" {
		return s.prepareView(p, base, c, now)
	}
	if c.Channel == "" || c.TS == "" || c.ActionID == "" {
		return nil, clickErr(http.StatusBadRequest, "channel, ts and actionId are required (or viewId)")
	}
	m, eph := s.St.message(c.Channel, c.TS), false
	if m == nil {
		m, eph = s.St.ephemeral(c.Channel, c.TS), true
	}
	if m == nil || m.Deleted {
		return nil, clickErr(http.StatusNotFound, "no message %s in %s", c.TS, c.Channel)
	}
	if eph && m.Recipient != c.User {
		return nil, clickErr(http.StatusForbidden, "the ephemeral message %s is only shown to %s", c.TS, m.Recipient)
	}
	ch := s.St.channel(c.Channel)
	if ch != nil && ch.Private && !ch.has(c.User) {
		return nil, clickErr(http.StatusForbidden, "%s is not in the private channel %s and cannot see the message", c.User, c.Channel)
	}
	var blocks []any
	_ = json.Unmarshal(m.Blocks, &blocks)
	blocks = withIDs(blocks, m.Channel+"/"+m.TS)
	bid, el := findElement(blocks, c.BlockID, c.ActionID)
	if el == nil {
		return nil, clickErr(http.StatusNotFound, "no element with action_id %q in message %s", c.ActionID, c.TS)
	}
	action, err := buttonAction(bid, el, now)
	if err != nil {
		return nil, err
	}
	p.typ = "block_actions"
	p.trigger = s.issueTrigger(c.User, now)
	tok := randomHex(12)
	s.St.ResponseURLs = append(s.St.ResponseURLs, &responseURL{Token: tok, Channel: m.Channel, TS: m.TS, Ephemeral: eph, ThreadTS: m.ThreadTS, User: c.User, Issued: now.UTC()})
	p.response = strings.TrimSuffix(baseURL, "/") + responsePath + tok
	chName := "directmessage"
	if ch != nil {
		chName = ch.Name
	}
	container := map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": eph}
	if m.ThreadTS != "" {
		container["thread_ts"] = m.ThreadTS
	}
	pl := base
	pl["type"] = "block_actions"
	pl["container"] = container
	pl["trigger_id"] = p.trigger
	pl["channel"] = map[string]any{"id": m.Channel, "name": chName}
	pl["response_url"] = p.response
	pl["actions"] = []any{action}
	if !eph {
		// Slack sends the message only for messages everyone sees.
		msg := s.messageJSON(m)
		if m.Blocks != nil {
			msg["blocks"] = blocks
		}
		pl["message"] = msg
	}
	if c.Values != nil {
		values, err := stateValues(blocks, c.Values, false)
		if err != nil {
			return nil, err
		}
		pl["state"] = map[string]any{"values": values}
	}
	p.payload = pl
	return p, nil
}

func (s *Server) prepareView(p *prepared, base map[string]any, c Click, now time.Time) (*prepared, error) {
	v := s.St.view(c.ViewID)
	if v == nil {
		return nil, clickErr(http.StatusNotFound, "no view %s", c.ViewID)
	}
	if v.User != c.User {
		return nil, clickErr(http.StatusForbidden, "view %s is open for %s, not %s", v.ID, v.User, c.User)
	}
	if v.Status != "open" {
		return nil, clickErr(http.StatusConflict, "view %s is %s", v.ID, v.Status)
	}
	blocks, _ := v.spec()["blocks"].([]any)
	blocks = withIDs(blocks, v.ID)
	values, err := stateValues(blocks, c.Values, c.ActionID == "")
	if err != nil {
		return nil, err
	}
	p.trigger = s.issueTrigger(c.User, now)
	pl := base
	pl["trigger_id"] = p.trigger
	pl["view"] = s.viewJSON(v, values)
	if c.ActionID != "" {
		bid, el := findElement(blocks, c.BlockID, c.ActionID)
		if el == nil {
			return nil, clickErr(http.StatusNotFound, "no element with action_id %q in view %s", c.ActionID, v.ID)
		}
		action, err := buttonAction(bid, el, now)
		if err != nil {
			return nil, err
		}
		p.typ = "block_actions"
		pl["type"] = p.typ
		pl["container"] = map[string]any{"type": "view", "view_id": v.ID}
		pl["actions"] = []any{action}
	} else {
		if sp := v.spec(); sp["submit"] == nil {
			return nil, clickErr(http.StatusConflict, "view %s has no submit button", v.ID)
		}
		p.typ = "view_submission"
		pl["type"] = p.typ
		pl["response_urls"] = []any{}
		v.Submissions++
		p.view = v
	}
	p.payload = pl
	return p, nil
}

// findElement finds the interactive element with actionID (in blockID when
// given) among blocks that carry IDs.
func findElement(blocks []any, blockID, actionID string) (string, map[string]any) {
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		bid, _ := bm["block_id"].(string)
		if blockID != "" && bid != blockID {
			continue
		}
		var els []any
		switch bm["type"] {
		case "actions":
			els, _ = bm["elements"].([]any)
		case "section":
			els = []any{bm["accessory"]}
		case "input":
			els = []any{bm["element"]}
		}
		for _, el := range els {
			em, _ := el.(map[string]any)
			if em != nil && em["action_id"] == actionID {
				return bid, em
			}
		}
	}
	return "", nil
}

// buttonAction is the actions[] entry for a click on a button.
func buttonAction(blockID string, el map[string]any, now time.Time) (map[string]any, error) {
	if el["type"] != "button" {
		return nil, clickErr(http.StatusBadRequest, "element %v is a %v; the emulator clicks buttons", el["action_id"], el["type"])
	}
	a := map[string]any{
		"action_id": el["action_id"], "block_id": blockID, "type": "button",
		"action_ts": strconv.FormatInt(now.Unix(), 10) + "." + fmt.Sprintf("%06d", now.Nanosecond()/1000),
	}
	for _, k := range []string{"text", "value", "style"} {
		if x, ok := el[k]; ok {
			a[k] = x
		}
	}
	return a, nil
}

// inputTypes are the elements whose values a view's state carries, with the
// field their value goes in.
var inputTypes = map[string]string{
	"plain_text_input": "value", "email_text_input": "value", "url_text_input": "value", "number_input": "value",
	"static_select": "selected_option", "radio_buttons": "selected_option", "external_select": "selected_option",
	"multi_static_select": "selected_options", "checkboxes": "selected_options", "multi_external_select": "selected_options",
	"users_select": "selected_user", "multi_users_select": "selected_users",
	"conversations_select": "selected_conversation", "multi_conversations_select": "selected_conversations",
	"channels_select": "selected_channel", "multi_channels_select": "selected_channels",
	"datepicker": "selected_date", "timepicker": "selected_time", "datetimepicker": "selected_date_time",
	"rich_text_input": "rich_text_value",
}

// stateValues builds state.values for blocks from the given values: every
// input element is there (unset ones null, as Slack sends them). With
// required set (a submission), a required input left empty is refused, as
// Slack's client would not submit.
func stateValues(blocks []any, given map[string]map[string]json.RawMessage, required bool) (map[string]any, error) {
	out := map[string]any{}
	used := 0
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		bid, _ := bm["block_id"].(string)
		var els []any
		switch bm["type"] {
		case "input":
			els = []any{bm["element"]}
		case "actions":
			els, _ = bm["elements"].([]any)
		case "section":
			els = []any{bm["accessory"]}
		}
		for _, el := range els {
			em, _ := el.(map[string]any)
			typ, _ := em["type"].(string)
			field, isInput := inputTypes[typ]
			if em == nil || !isInput {
				continue
			}
			aid, _ := em["action_id"].(string)
			raw, has := given[bid][aid]
			if has {
				used++
			}
			val, err := inputValue(em, field, raw, has)
			if err != nil {
				return nil, clickErr(http.StatusBadRequest, "%s/%s: %v", bid, aid, err)
			}
			if required && bm["type"] == "input" && bm["optional"] != true && (val == nil || val == "" || isEmptyList(val)) {
				return nil, clickErr(http.StatusBadRequest, "the required input %s/%s is empty: Slack would not submit", bid, aid)
			}
			if out[bid] == nil {
				out[bid] = map[string]any{}
			}
			entry := map[string]any{"type": typ, field: val}
			out[bid].(map[string]any)[aid] = entry
		}
	}
	n := 0
	for _, m := range given {
		n += len(m)
	}
	if used != n {
		return nil, clickErr(http.StatusBadRequest, "values name an input that is not there (have %v)", keys(out))
	}
	return out, nil
}

func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

func keys(m map[string]any) []string {
	var out []string
	for b, x := range m {
		for a := range x.(map[string]any) {
			out = append(out, b+"/"+a)
		}
	}
	slices.Sort(out)
	return out
}

// inputValue turns a given value into what state.values holds for the
// element: a string, an option object, a user or conversation ID, or lists
// of them.
func inputValue(el map[string]any, field string, raw json.RawMessage, has bool) (any, error) {
	multi := field == "selected_options" || field == "selected_users" || field == "selected_conversations" || field == "selected_channels"
	if !has {
		if multi {
			return []any{}, nil
		}
		return nil, nil
	}
	var one string
	var many []string
	if json.Unmarshal(raw, &one) != nil {
		if json.Unmarshal(raw, &many) != nil {
			return nil, errors.New("a value is a string or a list of strings")
		}
	} else {
		many = []string{one}
	}
	option := func(v string) (any, error) {
		opts, _ := el["options"].([]any)
		for _, o := range opts {
			om, _ := o.(map[string]any)
			if om["value"] == v {
				return om, nil
			}
		}
		if el["type"] == "external_select" || el["type"] == "multi_external_select" {
			return map[string]any{"text": map[string]any{"type": "plain_text", "text": v}, "value": v}, nil
		}
		return nil, fmt.Errorf("no option with value %q", v)
	}
	switch field {
	case "selected_option":
		return option(one)
	case "selected_options":
		out := []any{}
		for _, v := range many {
			o, err := option(v)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	case "rich_text_value":
		return map[string]any{"type": "rich_text", "elements": []any{map[string]any{"type": "rich_text_section",
			"elements": []any{map[string]any{"type": "text", "text": one}}}}}, nil
	}
	if multi {
		out := []any{}
		for _, v := range many {
			out = append(out, v)
		}
		return out, nil
	}
	return one, nil
}

// applyViewAnswer applies the app's answer to a view_submission.
// https://docs.slack.dev/surfaces/modals#interactions
func (s *Server) applyViewAnswer(v *view, answer []byte, now time.Time) {
	var a struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(bytes.TrimSpace(answer)) > 0 {
		_ = json.Unmarshal(answer, &a)
	}
	switch a.ResponseAction {
	case "errors":
		v.Errors = a.Errors
		return
	case "update":
		if spec, msgs := viewArg(string(a.View)); msgs == nil {
			v.Spec, v.Hash, v.Updated, v.Errors = spec, newHash(now), now.UTC(), nil
		}
		return
	case "push":
		if spec, msgs := viewArg(string(a.View)); msgs == nil {
			s.St.Seq++
			n := &view{Seq: s.St.Seq, ID: s.St.newViewID(), User: v.User, Spec: spec, Hash: newHash(now), RootID: v.RootID, PreviousID: v.ID,
				Opened: now.UTC(), Updated: now.UTC(), Status: "open"}
			s.St.Views = append(s.St.Views, n)
		}
		return
	case "clear":
		for _, o := range s.St.Views {
			if o.RootID == v.RootID && o.Status == "open" {
				o.Status, o.Updated = "closed", now.UTC()
			}
		}
		return
	}
	v.Status, v.Updated, v.Errors = "closed", now.UTC(), nil
}

// serveResponseURL takes an answer to a response_url, as Slack does: JSON
// with text or blocks, response_type (ephemeral, the default, or
// in_channel), replace_original and delete_original.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request, now time.Time) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "method_not_allowed"})
		return
	}
	tok := strings.TrimPrefix(r.URL.Path, responsePath)
	var ru *responseURL
	for _, x := range s.St.ResponseURLs {
		if x.Token == tok {
			ru = x
		}
	}
	if ru == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "no_such_url"})
		return
	}
	if now.Sub(ru.Issued) > responseURLTTL {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "expired_url"})
		return
	}
	if ru.Uses >= responseURLUses {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "used_url"})
		return
	}
	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal json.RawMessage `json:"replace_original"`
		DeleteOriginal  json.RawMessage `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_payload"})
		return
	}
	flag := func(raw json.RawMessage) bool {
		s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
		return s == "true" || s == "1"
	}
	replace, del := flag(body.ReplaceOriginal), flag(body.DeleteOriginal)
	var blocks json.RawMessage
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		var bad string
		if blocks, bad = blocksArg(string(body.Blocks)); bad != "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": bad})
			return
		}
	}
	if !del && body.Text == "" && blocks == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	orig := s.St.message(ru.Channel, ru.TS)
	if ru.Ephemeral {
		orig = s.St.ephemeral(ru.Channel, ru.TS)
	}
	if (replace || del) && (orig == nil || orig.Deleted) {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	ru.Uses++
	entry := &Post{At: now, Channel: ru.Channel, Author: BotUserID, Text: body.Text, Blocks: blocks, Via: "response_url",
		ResponseType: body.ResponseType, ReplaceOriginal: replace, DeleteOriginal: del}
	switch {
	case del:
		orig.Deleted = true
		entry.Kind, entry.TS, entry.ThreadTS, entry.Text, entry.Blocks = KindDelete, orig.TS, orig.ThreadTS, "", nil
		if ru.Ephemeral {
			entry.User = orig.Recipient
		}
	case replace:
		orig.Edits = append(orig.Edits, &edit{At: now.UTC(), Text: body.Text, Blocks: blocks})
		orig.Text, orig.Blocks = body.Text, blocks
		entry.Kind, entry.TS, entry.ThreadTS = KindUpdate, orig.TS, orig.ThreadTS
		if ru.Ephemeral {
			entry.Kind, entry.User = KindEphemeral, orig.Recipient
		}
	case body.ResponseType == "in_channel":
		m := &message{Channel: ru.Channel, Text: body.Text, Blocks: blocks, ThreadTS: body.ThreadTS, User: BotUserID, BotID: BotID, Posted: now.UTC()}
		m.TS = s.nextTS(now)
		s.St.Messages = append(s.St.Messages, m)
		entry.Kind, entry.TS, entry.ThreadTS = KindMessage, m.TS, m.ThreadTS
	default:
		m := &message{Channel: ru.Channel, Text: body.Text, Blocks: blocks, ThreadTS: ru.ThreadTS, User: BotUserID, BotID: BotID, Posted: now.UTC(), Recipient: ru.User}
		m.TS = s.nextTS(now)
		s.St.Ephemerals = append(s.St.Ephemerals, m)
		entry.Kind, entry.TS, entry.ThreadTS, entry.User = KindEphemeral, m.TS, m.ThreadTS, ru.User
		if entry.ResponseType == "" {
			entry.ResponseType = "ephemeral"
		}
	}
	s.St.record(entry)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// cloneJSON deep-copies v through JSON.
func cloneJSON[T any](v T) T {
	var out T
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &out)
	return out
}
