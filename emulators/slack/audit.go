package slack

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// serveAudit serves GET /audit/v1/logs: newest first, filtered by actor,
// entity, action (a comma list), oldest and latest (Unix seconds, both
// inclusive), paged by limit and cursor.
//
// https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference
func (s *Server) serveAudit(w http.ResponseWriter, r *http.Request, now time.Time) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "method_not_allowed"})
		return
	}
	q := r.URL.Query()
	tok := bearer(r)
	if tok == "" {
		tok = q.Get("token")
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
	w.Header().Set("X-Accepted-OAuth-Scopes", "auditlogs:read")
	if wait, ok := s.take(now, limit{"audit", s.opts.RateLimits.Tier3}); !ok {
		writeRateLimited(w, wait)
		return
	}
	if !id.admin {
		webErr(w, "not_allowed_token_type")
		return
	}
	if !id.has("auditlogs:read") {
		webErr(w, "missing_scope", "needed", "auditlogs:read", "provided", strings.Join(id.scopes, ","))
		return
	}
	lim, ok1 := parseInt(q.Get("limit"), 100)
	oldest, ok2 := parseInt(q.Get("oldest"), 0)
	latest, ok3 := parseInt(q.Get("latest"), 0)
	if !ok1 || !ok2 || !ok3 || lim < 1 || lim > 9999 || oldest < 0 || latest < 0 {
		webErr(w, "invalid_arguments")
		return
	}
	if latest != 0 && oldest > latest {
		webErr(w, "invalid_range")
		return
	}
	var actions []string
	if a := q.Get("action"); a != "" {
		for _, x := range strings.Split(a, ",") {
			if x = strings.TrimSpace(x); x != "" {
				actions = append(actions, x)
			}
		}
		if len(actions) > 30 {
			webErr(w, "invalid_arguments")
			return
		}
	}
	actor, entity := q.Get("actor"), q.Get("entity")

	idx := make([]int, 0, len(s.St.Events))
	for i, e := range s.St.Events {
		switch {
		case oldest != 0 && e.DateCreate < int64(oldest):
		case latest != 0 && e.DateCreate > int64(latest):
		case actor != "" && e.Actor.ID != actor:
		case entity != "" && e.entityID() != entity:
		case len(actions) > 0 && !slices.Contains(actions, e.Action):
		default:
			idx = append(idx, i)
		}
	}
	// Newest first; events logged in the same second keep their order,
	// newest first too.
	sort.SliceStable(idx, func(a, b int) bool {
		ea, eb := s.St.Events[idx[a]], s.St.Events[idx[b]]
		if ea.DateCreate != eb.DateCreate {
			return ea.DateCreate > eb.DateCreate
		}
		return idx[a] > idx[b]
	})
	start := 0
	if cur := q.Get("cursor"); cur != "" {
		pos, valid := decodeCursor("event", cur)
		start = -1
		for i, n := range idx {
			if valid && s.St.Events[n].ID == pos {
				start = i
				break
			}
		}
		if start < 0 {
			webErr(w, "invalid_cursor")
			return
		}
	}
	end := min(start+lim, len(idx))
	entries := []any{}
	for _, n := range idx[start:end] {
		entries = append(entries, s.entryJSON(s.St.Events[n]))
	}
	next := ""
	if end < len(idx) {
		next = encodeCursor("event", s.St.Events[idx[end]].ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "response_metadata": map[string]any{"next_cursor": next}})
}

func (e *auditEntry) entityID() string {
	switch {
	case e.EntityUser != nil:
		return e.EntityUser.ID
	case e.EntityFile != nil:
		return e.EntityFile.ID
	}
	return e.EntityID
}

func userJSON(u auditUser) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "email": u.Email, "team": u.Team}
}

// entryJSON is an entry as the Audit Logs API returns it: as given, when
// it was given to POST /_emulator/events.
func (s *Server) entryJSON(e *auditEntry) any {
	if e.Given != nil {
		return e.Given
	}
	entity := map[string]any{"type": e.EntityType}
	switch {
	case e.EntityUser != nil:
		entity["user"] = userJSON(*e.EntityUser)
	case e.EntityFile != nil:
		entity["file"] = map[string]any{"id": e.EntityFile.ID, "name": e.EntityFile.Name, "filetype": e.EntityFile.Filetype, "title": e.EntityFile.Title}
	}
	label := s.St.domainLabel()
	loc := map[string]any{"type": "workspace", "id": s.St.TeamID, "name": label, "domain": label}
	if e.Location == "enterprise" {
		loc = map[string]any{"type": "enterprise", "id": s.St.EnterpriseID, "name": label, "domain": label}
	}
	body := map[string]any{
		"id":          e.ID,
		"date_create": e.DateCreate,
		"action":      e.Action,
		"actor":       map[string]any{"type": "user", "user": userJSON(e.Actor)},
		"entity":      entity,
		"context":     map[string]any{"location": loc, "ua": e.UA, "ip_address": e.IP},
	}
	if len(e.Details) > 0 {
		body["details"] = e.Details
	}
	return body
}
