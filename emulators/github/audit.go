package github

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// auditEvent is one org audit log entry: one the emulator wrote, or one
// given to POST /_emulator/events (see events.go).
type auditEvent struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	DocumentID string    `json:"documentId"`
	Action     string    `json:"action"`
	Actor      string    `json:"actor"`
	ActorID    int64     `json:"actorId"`
	Org        string    `json:"org"`
	OrgID      int64     `json:"orgId"`
	User       string    `json:"user,omitempty"`
	UserID     int64     `json:"userId,omitempty"`
	// Fields holds the action-specific fields (repo, transport, token
	// names...), served at the top level of the entry as GitHub does.
	Fields map[string]any `json:"fields"`
}

// isGit reports whether an action is a Git event, which the audit log
// returns only with include=git or include=all.
func isGit(action string) bool { return strings.HasPrefix(action, "git.") }

func (st *state) newEvent(at time.Time, o *org, action, actor string, actorID int64, subject *user, fields map[string]any) *auditEvent {
	seq := st.next()
	d := digest("audit", o.Login, seq, action)
	e := &auditEvent{
		Seq:        seq,
		At:         at.UTC().Truncate(time.Millisecond),
		DocumentID: base64.RawURLEncoding.EncodeToString(d[:16]),
		Action:     action,
		Actor:      actor,
		ActorID:    actorID,
		Org:        o.Login,
		OrgID:      o.ID,
		Fields:     fields,
	}
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	if subject != nil {
		e.User, e.UserID = subject.Login, subject.ID
	}
	return e
}

// seedEvent turns one of a person's seeded events into an audit entry in
// the org it concerns: a Git event's repository owner, else the person's
// first org.
func (st *state) seedEvent(u *user, orgs []string, ev seed.Event) *auditEvent {
	var o *org
	if owner, _, ok := strings.Cut(ev.Target, "/"); ok {
		o = st.org(owner)
	}
	if o == nil && len(orgs) > 0 {
		o = st.org(orgs[0])
	}
	if o == nil {
		return nil
	}
	fields := map[string]any{"actor_location": map[string]any{"country_code": "US"}}
	if ev.IP != "" {
		fields["actor_ip"] = ev.IP
	}
	var subject *user
	if isGit(ev.Type) {
		fields["repo"] = ev.Target
		fields["repository"] = ev.Target
		fields["repository_public"] = false
		fields["transport_protocol"] = 1
		fields["transport_protocol_name"] = "http"
		fields["operation_type"] = "access"
		fields["programmatic_access_type"] = "Personal access token (classic)"
	} else {
		subject = u
		if ev.Target != "" {
			fields["repo"] = ev.Target
		}
	}
	return st.newEvent(ev.At, o, ev.Type, u.Login, u.ID, subject, fields)
}

// render is the entry as the audit log API serves it.
func (e *auditEvent) render() map[string]any {
	m := make(map[string]any, len(e.Fields)+10)
	for k, v := range e.Fields {
		m[k] = v
	}
	ms := e.At.UnixMilli()
	m["@timestamp"] = ms
	m["created_at"] = ms
	m["_document_id"] = e.DocumentID
	m["action"] = e.Action
	if e.Actor != "" {
		m["actor"] = e.Actor
	}
	if e.ActorID != 0 {
		m["actor_id"] = e.ActorID
	}
	m["org"] = e.Org
	m["org_id"] = e.OrgID
	if e.User != "" {
		m["user"] = e.User
		m["user_id"] = e.UserID
	}
	if _, ok := m["actor_location"]; !ok {
		m["actor_location"] = map[string]any{"country_code": "US"}
	}
	return m
}

// term is one qualifier of a search phrase, like actor:octocat or
// created:>=2024-01-01. An empty key is a bare word.
type term struct {
	neg      bool
	key, val string
	// from and to bound created: qualifiers (to is exclusive).
	from, to time.Time
}

// splitPhrase splits a phrase on spaces outside double quotes.
func splitPhrase(p string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range p {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// parseWhen reads a date (the whole UTC day) or an RFC 3339 time (that
// instant) and returns the interval it names.
func parseWhen(s string) (time.Time, time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, t.Add(24 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, t.Add(time.Millisecond), nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("invalid date %q", s)
}

func parseCreated(v string) (from, to time.Time, err error) {
	if a, b, ok := strings.Cut(v, ".."); ok {
		lo, _, err := parseWhen(a)
		if err != nil {
			return from, to, err
		}
		_, hi, err := parseWhen(b)
		return lo, hi, err
	}
	for _, op := range []string{">=", "<=", ">", "<", "="} {
		rest, ok := strings.CutPrefix(v, op)
		if !ok {
			continue
		}
		lo, hi, err := parseWhen(rest)
		if err != nil {
			return from, to, err
		}
		switch op {
		case ">=":
			return lo, time.Time{}, nil
		case ">":
			return hi, time.Time{}, nil
		case "<=":
			return time.Time{}, hi, nil
		case "<":
			return time.Time{}, lo, nil
		}
		return lo, hi, nil
	}
	return parseWhen(v)
}

func parsePhrase(p string) ([]term, error) {
	var terms []term
	for _, tok := range splitPhrase(p) {
		var t term
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			t.neg, tok = true, tok[1:]
		}
		k, v, ok := strings.Cut(tok, ":")
		if !ok {
			t.val = strings.Trim(tok, `"`)
			terms = append(terms, t)
			continue
		}
		t.key, t.val = strings.ToLower(k), strings.Trim(v, `"`)
		if t.key == "created" {
			var err error
			if t.from, t.to, err = parseCreated(t.val); err != nil {
				return nil, err
			}
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func (t term) match(e *auditEvent, m map[string]any) bool {
	var ok bool
	switch t.key {
	case "":
		w := strings.ToLower(t.val)
		for _, k := range []string{"action", "actor", "user", "repo", "org"} {
			if s, isStr := m[k].(string); isStr && strings.Contains(strings.ToLower(s), w) {
				ok = true
			}
		}
	case "created":
		ok = (t.from.IsZero() || !e.At.Before(t.from)) && (t.to.IsZero() || e.At.Before(t.to))
	case "user":
		// The user the action was done to, not the actor.
		ok = e.User != "" && strings.EqualFold(e.User, t.val)
	case "actor_ip":
		ip, _ := e.Fields["actor_ip"].(string)
		ok = sameIP(ip, t.val)
	case "action":
		v := strings.ToLower(t.val)
		a := strings.ToLower(e.Action)
		switch {
		case strings.HasSuffix(v, "*"):
			ok = strings.HasPrefix(a, strings.TrimSuffix(v, "*"))
		case strings.Contains(v, "."):
			ok = a == v
		default:
			ok = a == v || strings.HasPrefix(a, v+".")
		}
	default:
		if x, present := m[t.key]; present && x != nil {
			ok = strings.EqualFold(fieldText(x), t.val)
		}
	}
	return ok != t.neg
}

// sameIP reports whether two IP addresses are the same, however written
// (2001:db8::1 is 2001:DB8:0:0:0:0:0:1); a value that is not an IP address
// is compared as text.
func sameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	if x == nil || y == nil {
		return a != "" && strings.EqualFold(a, b)
	}
	return x.Equal(y)
}

// cursor is an opaque position in the audit log: the entry's time and
// sequence number.
func cursor(e *auditEvent) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d|%d", e.At.UnixMilli(), e.Seq))
}

type position struct{ ms, seq int64 }

func parseCursor(s string) (position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return position{}, false
	}
	a, c, ok := strings.Cut(string(b), "|")
	if !ok {
		return position{}, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(c, 10, 64)
	return position{ms, seq}, err1 == nil && err2 == nil
}

// less orders entries ascending by time, then sequence.
func less(a, b position) bool {
	if a.ms != b.ms {
		return a.ms < b.ms
	}
	return a.seq < b.seq
}

func pos(e *auditEvent) position { return position{e.At.UnixMilli(), e.Seq} }

// serveAuditLog serves GET /orgs/{org}/audit-log: phrase, include, order,
// per_page and after/before cursors, with a Link header carrying the
// cursors as GitHub does.
//
// The phrase is space-separated key:value qualifiers, each negated by a
// leading "-", that an entry must all match: action (an action such as
// org.add_member, a category such as org, or a prefix ending in *), actor
// (the login that acted), user (the login acted on: user:ada finds who
// invited, added or removed ada, not what ada did), actor_ip (the actor's
// IP address, however written), created (a date, an RFC 3339 time, a >=,
// >, <= or < bound, or a from..to range), and any other field of the entry
// (repo, operation_type, token_id...) by its value; a bare word matches
// action, actor, user, repo or org by substring. The qualifier names are
// GitHub's audit log search keys:
// https://docs.github.com/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/searching-the-audit-log-for-your-enterprise#search-query-syntax
// (action, actor, user, actor_ip, created, repo, org) and
// https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/reviewing-the-audit-log-for-your-organization#searching-the-audit-log.
//
// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization
func (s *Server) serveAuditLog(w http.ResponseWriter, r *http.Request, c *call) {
	const doc = "https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization"
	q := r.URL.Query()
	terms, err := parsePhrase(q.Get("phrase"))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Invalid search phrase: "+err.Error(), doc)
		return
	}
	include := q.Get("include")
	switch include {
	case "":
		include = "web"
	case "web", "git", "all":
	default:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Invalid value for include: %q (want web, git or all)", include), doc)
		return
	}
	order := q.Get("order")
	switch order {
	case "":
		order = "desc"
	case "asc", "desc":
	default:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Invalid value for order: %q (want asc or desc)", order), doc)
		return
	}
	per := perPage(q.Get("per_page"), s.opts.PageSize)
	var after, before *position
	if v := q.Get("after"); v != "" {
		p, ok := parseCursor(v)
		if !ok {
			writeError(w, http.StatusUnprocessableEntity, "Invalid cursor", doc)
			return
		}
		after = &p
	}
	if v := q.Get("before"); v != "" {
		p, ok := parseCursor(v)
		if !ok {
			writeError(w, http.StatusUnprocessableEntity, "Invalid cursor", doc)
			return
		}
		before = &p
	}

	var items []*auditEvent
	for _, e := range s.St.Events {
		if !strings.EqualFold(e.Org, c.org.Login) {
			continue
		}
		git := isGit(e.Action)
		if (include == "web" && git) || (include == "git" && !git) {
			continue
		}
		m := e.render()
		ok := true
		for _, t := range terms {
			if !t.match(e, m) {
				ok = false
				break
			}
		}
		if ok {
			items = append(items, e)
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if order == "asc" {
			return less(pos(items[i]), pos(items[j]))
		}
		return less(pos(items[j]), pos(items[i]))
	})
	// beyond reports whether e comes strictly after p in the served order.
	beyond := func(e *auditEvent, p position) bool {
		if order == "asc" {
			return less(p, pos(e))
		}
		return less(pos(e), p)
	}
	n := len(items)
	start, end := 0, min(per, n)
	switch {
	case after != nil:
		start = sort.Search(n, func(i int) bool { return beyond(items[i], *after) })
		end = min(start+per, n)
	case before != nil:
		// The entries strictly before the cursor, in the served order.
		end = sort.Search(n, func(i int) bool { return beyond(items[i], *before) || pos(items[i]) == *before })
		start = max(0, end-per)
	}
	page := items[start:end]
	var links []string
	base := c.base + fmt.Sprintf("/organizations/%d/audit-log", c.org.ID)
	link := func(after, before, rel string) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "after" && k != "before" && k != "page" {
				v[k] = vs
			}
		}
		v.Set("after", after)
		v.Set("before", before)
		return "<" + base + "?" + v.Encode() + `>; rel="` + rel + `"`
	}
	if len(page) > 0 && end < n {
		links = append(links, link(cursor(items[end-1]), "", "next"))
	}
	links = append(links, link("", "", "first"))
	if len(page) > 0 && start > 0 {
		links = append(links, link("", cursor(items[start]), "prev"))
	}
	w.Header().Set("Link", strings.Join(links, ", "))
	out := make([]map[string]any, 0, len(page))
	for _, e := range page {
		out = append(out, e.render())
	}
	writeJSON(w, http.StatusOK, out)
}
