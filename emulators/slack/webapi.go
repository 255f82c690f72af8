package slack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// call is one Web API request being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	v   url.Values
	id  *identity
	now time.Time
}

// Rate-limit tiers. tierSpecial is chat.postMessage's per-channel limit.
const (
	tier1 = iota + 1
	tier2
	tier3
	tier4
	tierSpecial
)

type webMethod struct {
	tier  int
	scope string
	// admin methods need the org admin's user token; a bot token gets
	// not_allowed_token_type.
	admin bool
	h     func(s *Server, c *call)
}

var webMethods map[string]webMethod

func init() {
	webMethods = map[string]webMethod{
		"auth.test":                 {tier4, "", false, (*Server).authTest},
		"users.lookupByEmail":       {tier3, "users:read.email", false, (*Server).usersLookupByEmail},
		"users.info":                {tier4, "users:read", false, (*Server).usersInfo},
		"users.list":                {tier2, "users:read", false, (*Server).usersList},
		"admin.users.session.reset": {tier2, "admin.users:write", true, (*Server).sessionReset},
		"admin.users.session.list":  {tier2, "admin.users:read", true, (*Server).sessionList},
		"chat.postMessage":          {tierSpecial, "chat:write", false, (*Server).chatPostMessage},
		"chat.update":               {tier3, "chat:write", false, (*Server).chatUpdate},
		"chat.postEphemeral":        {tier4, "chat:write", false, (*Server).chatPostEphemeral},
		"views.open":                {tier4, "", false, (*Server).viewsOpen},
		"views.update":              {tier4, "", false, (*Server).viewsUpdate},
		// The read scope (channels:read or groups:read) depends on the
		// conversation; the handlers check it.
		"conversations.info":    {tier3, "", false, (*Server).conversationsInfo},
		"conversations.members": {tier4, "", false, (*Server).conversationsMembers},
		"usergroups.users.list": {tier2, "usergroups:read", false, (*Server).usergroupsUsersList},
		"usergroups.list":       {tier2, "usergroups:read", false, (*Server).usergroupsList},
	}
}

func (s *Server) tierLimit(tier int) int {
	l := s.opts.RateLimits
	switch tier {
	case tier1:
		return l.Tier1
	case tier2:
		return l.Tier2
	case tier3:
		return l.Tier3
	case tierSpecial:
		return l.PostMessage
	}
	return l.Tier4
}

// params gathers a Web API call's arguments the ways Slack accepts them:
// the query string, a urlencoded or multipart form, or a JSON object body.
// It reports whether the body was JSON (whose token field Slack ignores)
// and, on a malformed body, Slack's error code.
func params(r *http.Request) (url.Values, bool, string) {
	v := url.Values{}
	for k, vs := range r.URL.Query() {
		v[k] = append(v[k], vs...)
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return v, false, ""
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var body map[string]json.RawMessage
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		if err := dec.Decode(&body); err != nil {
			return nil, true, "invalid_json"
		}
		if body == nil {
			return nil, true, "json_not_object"
		}
		for k, raw := range body {
			raw = bytes.TrimSpace(raw)
			if k == "token" || len(raw) == 0 || string(raw) == "null" {
				continue
			}
			switch raw[0] {
			case '"':
				var x string
				if json.Unmarshal(raw, &x) != nil {
					return nil, true, "invalid_json"
				}
				v.Set(k, x)
			case '{', '[':
				// Objects and arrays (blocks, a view) stay as sent.
				var buf bytes.Buffer
				if json.Compact(&buf, raw) != nil {
					return nil, true, "invalid_json"
				}
				v.Set(k, buf.String())
			default: // numbers and booleans
				v.Set(k, string(raw))
			}
		}
		return v, true, ""
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, false, "invalid_form_data"
		}
		for k, vs := range r.MultipartForm.Value {
			v[k] = append(v[k], vs...)
		}
		return v, false, ""
	case "application/x-www-form-urlencoded", "":
		if err := r.ParseForm(); err != nil {
			return nil, false, "invalid_form_data"
		}
		for k, vs := range r.PostForm {
			v[k] = append(v[k], vs...)
		}
		return v, false, ""
	}
	return nil, false, "invalid_post_type"
}

// serveWeb serves one Web API method: /api/<method>.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request, now time.Time) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	m, ok := webMethods[name]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown_method", "req_method": name})
		return
	}
	v, isJSON, bad := params(r)
	if bad != "" {
		webErr(w, bad)
		return
	}
	tok := bearer(r)
	if tok == "" && !isJSON {
		tok = v.Get("token")
	}
	if tok == "" {
		webErr(w, "not_authed")
		return
	}
	id := s.identify(tok)
	if id == nil {
		webErr(w, "invalid_auth")
		return
	}
	w.Header().Set("X-OAuth-Scopes", strings.Join(id.scopes, ","))
	w.Header().Set("X-Accepted-OAuth-Scopes", m.scope)
	key := name + "/" + id.userID
	if m.tier == tierSpecial {
		key += "/" + v.Get("channel")
	}
	if wait, ok := s.take(now, limit{key, s.tierLimit(m.tier)}); !ok {
		writeRateLimited(w, wait)
		return
	}
	if m.admin && !id.admin {
		webErr(w, "not_allowed_token_type")
		return
	}
	if !id.has(m.scope) {
		webErr(w, "missing_scope", "needed", m.scope, "provided", strings.Join(id.scopes, ","))
		return
	}
	m.h(s, &call{w: w, r: r, v: v, id: id, now: now})
}

func ok(w http.ResponseWriter, body map[string]any) {
	body["ok"] = true
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) authTest(c *call) {
	label := s.St.domainLabel()
	body := map[string]any{
		"url":                   "https://" + label + ".slack.com/",
		"team":                  label,
		"user":                  "offboard-admin",
		"team_id":               s.St.TeamID,
		"user_id":               c.id.userID,
		"enterprise_id":         s.St.EnterpriseID,
		"is_enterprise_install": false,
	}
	if !c.id.admin {
		body["user"] = "offboard"
		body["bot_id"] = BotID
	}
	ok(c.w, body)
}

// userJSON is Slack's user object. The email is only shown to tokens with
// users:read.email, as Slack does.
func (s *Server) userJSON(u *user, id *identity) map[string]any {
	profile := map[string]any{
		"first_name":              u.FirstName,
		"last_name":               u.LastName,
		"real_name":               u.realName(),
		"real_name_normalized":    u.realName(),
		"display_name":            u.UserName,
		"display_name_normalized": u.UserName,
		"title":                   u.Title,
		"avatar_hash":             "g" + u.ID[1:min(len(u.ID), 12)],
		"image_24":                "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=24",
		"image_32":                "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=32",
		"image_48":                "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=48",
		"image_72":                "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=72",
		"image_192":               "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=192",
		"image_512":               "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=512",
		"team":                    s.St.TeamID,
	}
	if id.has("users:read.email") {
		profile["email"] = u.Email
	}
	body := map[string]any{
		"id":                         u.ID,
		"team_id":                    s.St.TeamID,
		"name":                       u.UserName,
		"deleted":                    !u.Active,
		"color":                      "9f69e7",
		"real_name":                  u.realName(),
		"tz":                         "America/New_York",
		"tz_label":                   "Eastern Standard Time",
		"tz_offset":                  -18000,
		"profile":                    profile,
		"is_admin":                   u.Admin && u.Active,
		"is_owner":                   false,
		"is_primary_owner":           false,
		"is_restricted":              false,
		"is_ultra_restricted":        false,
		"is_bot":                     false,
		"is_app_user":                false,
		"is_email_confirmed":         true,
		"who_can_share_contact_card": "EVERYONE",
		"updated":                    u.Updated.Unix(),
		"locale":                     "en-US",
		"enterprise_user": map[string]any{
			"id":               u.ID,
			"enterprise_id":    s.St.EnterpriseID,
			"enterprise_name":  s.St.domainLabel(),
			"is_admin":         u.Admin && u.Active,
			"is_owner":         false,
			"is_primary_owner": false,
			"teams":            []string{s.St.TeamID},
		},
	}
	return body
}

func (s *Server) usersLookupByEmail(c *call) {
	email := strings.TrimSpace(c.v.Get("email"))
	if email == "" {
		webErr(c.w, "invalid_arguments")
		return
	}
	// Slack does not find deactivated users by email.
	for _, u := range s.St.Users {
		if u.Active && strings.EqualFold(u.Email, email) {
			ok(c.w, map[string]any{"user": s.userJSON(u, c.id)})
			return
		}
	}
	webErr(c.w, "users_not_found")
}

func (s *Server) usersInfo(c *call) {
	id := c.v.Get("user")
	if id == "" {
		webErr(c.w, "invalid_arguments")
		return
	}
	u := s.St.user(id)
	if u == nil {
		webErr(c.w, "user_not_found")
		return
	}
	ok(c.w, map[string]any{"user": s.userJSON(u, c.id)})
}

// Slack's cursors are opaque; users.list's decode to "user:<ID>".
func encodeCursor(kind, pos string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeCursor(kind, cursor string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	pos, found := strings.CutPrefix(string(b), kind+":")
	return pos, found && pos != ""
}

// offsetPage is one page of lim out of total items, from a cursor that
// holds an offset ("" for the first page): the window, and the cursor of
// the next page ("" on the last). ok is false for a cursor that is not
// one of kind's or points past the end.
func offsetPage(kind, cursor string, total, lim int) (start, end int, next string, ok bool) {
	if cursor != "" {
		pos, valid := decodeCursor(kind, cursor)
		n, err := strconv.Atoi(pos)
		if !valid || err != nil || n < 0 || n > total {
			return 0, 0, "", false
		}
		start = n
	}
	end = min(start+lim, total)
	if end < total {
		next = encodeCursor(kind, strconv.Itoa(end))
	}
	return start, end, next, true
}

func (s *Server) usersList(c *call) {
	lim, okLimit := parseInt(c.v.Get("limit"), 0)
	if !okLimit || lim < 0 {
		webErr(c.w, "invalid_limit")
		return
	}
	if lim == 0 || lim > 1000 {
		lim = 1000 // no limit: Slack tries to send everything
	}
	start := 0
	if cur := c.v.Get("cursor"); cur != "" {
		pos, valid := decodeCursor("user", cur)
		if !valid {
			webErr(c.w, "invalid_cursor")
			return
		}
		for start < len(s.St.Users) && s.St.Users[start].ID < pos {
			start++
		}
	}
	end := min(start+lim, len(s.St.Users))
	members := []any{}
	for _, u := range s.St.Users[start:end] {
		members = append(members, s.userJSON(u, c.id))
	}
	next := ""
	if end < len(s.St.Users) {
		next = encodeCursor("user", s.St.Users[end].ID)
	}
	ok(c.w, map[string]any{"members": members, "cache_ts": c.now.Unix(), "response_metadata": map[string]any{"next_cursor": next}})
}

func truthy(s string) bool { return s == "true" || s == "1" }

// adminActor is the owner of the admin token, as audit entries show them.
func (s *Server) adminActor() auditUser {
	return auditUser{ID: AdminUserID, Name: "Offboard Admin", Email: "offboard-admin@" + s.St.Domain, Team: s.St.EnterpriseID}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// appendAdminEvent logs an org admin's action on a user.
func (s *Server) appendAdminEvent(r *http.Request, now time.Time, action string, u *user, details map[string]any) {
	target := s.St.actorOf(u)
	s.St.Events = append(s.St.Events, &auditEntry{
		ID:         s.St.newUUID(),
		DateCreate: now.Unix(),
		Action:     action,
		Actor:      s.adminActor(),
		EntityType: "user",
		EntityUser: &target,
		Location:   "enterprise",
		UA:         r.UserAgent(),
		IP:         remoteIP(r),
		Details:    details,
	})
}

// https://docs.slack.dev/reference/methods/admin.users.session.reset
func (s *Server) sessionReset(c *call) {
	id := c.v.Get("user_id")
	if id == "" {
		webErr(c.w, "invalid_arguments")
		return
	}
	mobileOnly, webOnly := truthy(c.v.Get("mobile_only")), truthy(c.v.Get("web_only"))
	if mobileOnly && webOnly {
		webErr(c.w, "invalid_arguments")
		return
	}
	u := s.St.user(id)
	if u == nil {
		webErr(c.w, "user_not_found")
		return
	}
	kept := []*session{}
	for _, se := range u.Sessions {
		if (mobileOnly && !se.mobile()) || (webOnly && se.mobile()) {
			kept = append(kept, se)
		}
	}
	u.Sessions = kept
	u.Updated = c.now.UTC()
	s.appendAdminEvent(c.r, c.now, "user_session_reset_by_admin", u, map[string]any{"mobile_only": mobileOnly, "web_only": webOnly})
	ok(c.w, map[string]any{})
}

func sessionClient(se *session) map[string]any {
	return map[string]any{
		"device_hardware":      se.Hardware,
		"os":                   se.OS,
		"os_version":           se.OSVersion,
		"slack_client_version": se.ClientVersion,
		"ip":                   se.IP,
	}
}

// https://docs.slack.dev/reference/methods/admin.users.session.list
func (s *Server) sessionList(c *call) {
	userID, teamID := c.v.Get("user_id"), c.v.Get("team_id")
	if (userID == "") != (teamID == "") {
		// Slack wants both or neither.
		webErr(c.w, "invalid_arguments")
		return
	}
	lim, okLimit := parseInt(c.v.Get("limit"), 100)
	if !okLimit || lim < 1 || lim > 1000 {
		webErr(c.w, "invalid_limit")
		return
	}
	users := s.St.Users
	if userID != "" {
		if teamID != s.St.TeamID {
			webErr(c.w, "team_not_found")
			return
		}
		u := s.St.user(userID)
		if u == nil {
			webErr(c.w, "user_not_found")
			return
		}
		users = []*user{u}
	}
	type row struct {
		u  *user
		se *session
	}
	var all []row
	for _, u := range users {
		for _, se := range u.Sessions {
			all = append(all, row{u, se})
		}
	}
	start, end, next, valid := offsetPage("offset", c.v.Get("cursor"), len(all), lim)
	if !valid {
		webErr(c.w, "invalid_cursor")
		return
	}
	list := []any{}
	for _, x := range all[start:end] {
		list = append(list, map[string]any{
			"user_id":    x.u.ID,
			"team_id":    s.St.TeamID,
			"session_id": x.se.ID,
			"created":    sessionClient(x.se),
			"recent":     sessionClient(x.se),
		})
	}
	ok(c.w, map[string]any{"active_sessions": list, "response_metadata": map[string]any{"next_cursor": next}})
}

// optionalBlocks is blocksArg for an argument that may be left out ("").
func optionalBlocks(raw string) (json.RawMessage, string) {
	if raw == "" {
		return nil, ""
	}
	return blocksArg(raw)
}

// blocksArg validates a blocks argument: a JSON array of objects with a
// type. It returns the compacted JSON, or Slack's error code.
func blocksArg(raw string) (json.RawMessage, string) {
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	for _, b := range blocks {
		if t, _ := b["type"].(string); t == "" {
			return nil, "invalid_blocks"
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, "invalid_blocks_format"
	}
	return buf.Bytes(), ""
}

func (s *Server) nextTS(now time.Time) string {
	us := max(now.UnixMicro(), s.St.LastTS+1)
	s.St.LastTS = us
	return strconv.FormatInt(us/1_000_000, 10) + "." + strconv.FormatInt(1_000_000+us%1_000_000, 10)[1:]
}

func (s *Server) messageJSON(m *message) map[string]any {
	body := map[string]any{"type": "message", "text": m.Text, "user": m.User, "ts": m.TS, "team": s.St.TeamID}
	if m.BotID != "" {
		body["bot_id"] = m.BotID
		body["app_id"] = AppID
	}
	if m.Blocks != nil {
		body["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		body["thread_ts"] = m.ThreadTS
	}
	if n := len(m.Edits); n > 0 {
		body["edited"] = map[string]any{"user": m.User, "ts": strconv.FormatInt(m.Edits[n-1].At.Unix(), 10) + ".000000"}
	}
	return body
}

// https://docs.slack.dev/reference/methods/chat.postMessage
func (s *Server) chatPostMessage(c *call) {
	if strings.TrimSpace(c.v.Get("channel")) == "" {
		webErr(c.w, "channel_not_found")
		return
	}
	text, rawBlocks := c.v.Get("text"), c.v.Get("blocks")
	blocks, bad := optionalBlocks(rawBlocks)
	if bad != "" {
		webErr(c.w, bad)
		return
	}
	ch, _, bad := s.resolveChannel(c.v.Get("channel"), c.id, true)
	if bad != "" {
		webErr(c.w, bad)
		return
	}
	if text == "" && rawBlocks == "" && c.v.Get("attachments") == "" {
		webErr(c.w, "no_text")
		return
	}
	threadTS := c.v.Get("thread_ts")
	m := &message{Channel: ch, Text: text, ThreadTS: threadTS, User: c.id.userID, Posted: c.now.UTC(), Blocks: blocks}
	if !c.id.admin {
		m.BotID = BotID
	}
	m.TS = s.nextTS(c.now)
	s.St.Messages = append(s.St.Messages, m)
	s.St.record(&Post{Kind: KindMessage, At: c.now, Channel: ch, TS: m.TS, ThreadTS: m.ThreadTS, Author: m.User, Text: m.Text, Blocks: m.Blocks})
	ok(c.w, map[string]any{"channel": ch, "ts": m.TS, "message": s.messageJSON(m)})
}

// https://docs.slack.dev/reference/methods/chat.update
func (s *Server) chatUpdate(c *call) {
	ch, ts := c.v.Get("channel"), c.v.Get("ts")
	if ch == "" {
		webErr(c.w, "channel_not_found")
		return
	}
	if ts == "" {
		webErr(c.w, "message_not_found")
		return
	}
	if ch[0] != 'D' && s.St.channel(ch) == nil {
		webErr(c.w, "channel_not_found")
		return
	}
	m := s.St.message(ch, ts)
	if m == nil {
		webErr(c.w, "message_not_found")
		return
	}
	if m.User != c.id.userID {
		webErr(c.w, "cant_update_message")
		return
	}
	_, hasText := c.v["text"]
	rawBlocks, hasBlocks := c.v.Get("blocks"), c.v.Has("blocks")
	if !hasText && !hasBlocks && !c.v.Has("attachments") {
		webErr(c.w, "no_text")
		return
	}
	e := &edit{At: c.now.UTC(), Text: m.Text, Blocks: m.Blocks}
	if hasBlocks {
		blocks, bad := blocksArg(rawBlocks)
		if bad != "" {
			webErr(c.w, bad)
			return
		}
		e.Blocks = blocks
	}
	if hasText {
		e.Text = c.v.Get("text")
	}
	m.Text, m.Blocks = e.Text, e.Blocks
	m.Edits = append(m.Edits, e)
	s.St.record(&Post{Kind: KindUpdate, At: c.now, Channel: ch, TS: m.TS, ThreadTS: m.ThreadTS, Author: m.User, Text: m.Text, Blocks: m.Blocks})
	ok(c.w, map[string]any{"channel": ch, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)})
}
