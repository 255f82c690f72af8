package slack

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// SCIM schema URNs.
const (
	scimUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimListSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// writeSCIMError writes Slack's SCIM error body,
// {"Errors":{"description":"…","code":N}}, with the same HTTP status.
func writeSCIMError(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, map[string]any{"Errors": map[string]any{"description": desc, "code": status}})
}

// serveSCIM serves /scim/v2/Users and /scim/v2/Users/{id}.
//
// https://docs.slack.dev/reference/scim-api
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request, now time.Time) {
	id := s.identify(bearer(r))
	if id == nil {
		writeSCIMError(w, http.StatusUnauthorized, "invalid_authentication")
		return
	}
	if !id.admin {
		writeSCIMError(w, http.StatusForbidden, "not_allowed_token_type")
		return
	}
	if !id.has("admin") {
		writeSCIMError(w, http.StatusForbidden, "insufficient_permissions")
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/scim/v2"), "/")
	seg := strings.Split(rest, "/")
	var allowed []string
	switch {
	case len(seg) == 1 && seg[0] == "Users":
		allowed = []string{http.MethodGet}
	case len(seg) == 2 && seg[0] == "Users" && seg[1] != "":
		allowed = []string{http.MethodGet, http.MethodPatch, http.MethodDelete}
	default:
		writeSCIMError(w, http.StatusNotFound, "bad_endpoint")
		return
	}
	if !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeSCIMError(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	lims := []limit{{"scim-read", s.opts.RateLimits.SCIMRead}}
	switch r.Method {
	case http.MethodPatch:
		lims = []limit{{"scim-write", s.opts.RateLimits.SCIMWrite}}
	case http.MethodDelete:
		lims = []limit{{"scim-write", s.opts.RateLimits.SCIMWrite}, {"scim-delete", s.opts.RateLimits.SCIMDelete}}
	}
	if wait, ok := s.take(now, lims...); !ok {
		w.Header().Set("Retry-After", emu.RetryAfterSeconds(wait))
		writeSCIMError(w, http.StatusTooManyRequests, "too_many_requests")
		return
	}
	if len(seg) == 1 {
		s.scimList(w, r)
		return
	}
	u := s.St.user(seg[1])
	if u == nil {
		writeSCIMError(w, http.StatusNotFound, "user_not_found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.scimUser(u, r))
	case http.MethodDelete:
		// Deactivates; Slack keeps the account. A second DELETE changes
		// nothing and answers the same.
		s.setActive(r, now, u, false)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		s.scimPatch(w, r, now, u)
	}
}

func baseURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// scimUser is Slack's SCIM v2 user resource.
func (s *Server) scimUser(u *user, r *http.Request) map[string]any {
	return map[string]any{
		"schemas":    []string{scimUserSchema, scimEnterpriseSchema},
		"id":         u.ID,
		"externalId": "",
		"meta": map[string]any{
			"created":  u.Created.UTC().Format(time.RFC3339),
			"location": baseURL(r) + "/scim/v2/Users/" + u.ID,
		},
		"userName":    u.UserName,
		"nickName":    u.UserName,
		"name":        map[string]any{"givenName": u.FirstName, "familyName": u.LastName},
		"displayName": u.realName(),
		"profileUrl":  "https://" + s.St.domainLabel() + ".enterprise.slack.com/team/" + u.ID,
		"title":       u.Title,
		"timezone":    "America/New_York",
		"active":      u.Active,
		"emails":      []any{map[string]any{"value": u.Email, "primary": true}},
		"photos":      []any{map[string]any{"value": "https://secure.gravatar.com/avatar/" + u.ID + ".jpg?s=192", "type": "photo"}},
		"groups":      []any{},
		scimEnterpriseSchema: map[string]any{
			"employeeNumber": u.EmployeeID,
		},
	}
}

var filterRE = regexp.MustCompile(`(?i)^\s*([a-z][a-z0-9._]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

// parseFilter reads `<attr> eq "<value>"` for userName, email,
// emails(.value) and id.
func parseFilter(f string) (attr, value string, ok bool) {
	m := filterRE.FindStringSubmatch(f)
	if m == nil {
		return "", "", false
	}
	attr = strings.ToLower(m[1])
	switch attr {
	case "username", "email", "emails", "emails.value", "id":
	default:
		return "", "", false
	}
	value = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[2])
	return attr, value, true
}

func (u *user) matches(attr, value string) bool {
	switch attr {
	case "username":
		return strings.EqualFold(u.UserName, value)
	case "id":
		return u.ID == value
	}
	return strings.EqualFold(u.Email, value)
}

// scimList serves GET /scim/v2/Users with startIndex/count paging and an
// optional eq filter. Deactivated users are listed with active false.
func (s *Server) scimList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	startIndex, ok1 := parseInt(q.Get("startIndex"), 1)
	count, ok2 := parseInt(q.Get("count"), 100)
	if !ok1 || !ok2 || count < 0 {
		writeSCIMError(w, http.StatusBadRequest, "invalid_syntax")
		return
	}
	startIndex = max(startIndex, 1)
	count = min(count, 1000)
	matched := s.St.Users
	if f := q.Get("filter"); f != "" {
		attr, value, ok := parseFilter(f)
		if !ok {
			writeSCIMError(w, http.StatusBadRequest, "invalid_filter")
			return
		}
		matched = nil
		for _, u := range s.St.Users {
			if u.matches(attr, value) {
				matched = append(matched, u)
			}
		}
	}
	from := min(startIndex-1, len(matched))
	to := min(from+count, len(matched))
	res := []any{}
	for _, u := range matched[from:to] {
		res = append(res, s.scimUser(u, r))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":      []string{scimListSchema},
		"totalResults": len(matched),
		"itemsPerPage": len(res),
		"startIndex":   startIndex,
		"Resources":    res,
	})
}

// setActive (de)activates a user. Deactivation signs the user out of every
// session. Only a change is logged.
func (s *Server) setActive(r *http.Request, now time.Time, u *user, active bool) {
	if u.Active == active {
		return
	}
	u.Active = active
	u.Updated = now.UTC()
	action := "user_reactivated"
	if !active {
		u.Sessions = []*session{}
		action = "user_deactivated"
	}
	s.appendAdminEvent(r, now, action, u, nil)
}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// activeValue reads an active value: a boolean, or "true"/"false" as some
// identity providers send it.
func activeValue(raw json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// scimPatch serves PATCH /scim/v2/Users/{id}. The emulator supports the
// active attribute, as {"op":"replace","path":"active","value":false} or
// {"op":"replace","value":{"active":false}}.
func (s *Server) scimPatch(w http.ResponseWriter, r *http.Request, now time.Time, u *user) {
	var body struct {
		Schemas    []string  `json:"schemas"`
		Operations []patchOp `json:"Operations"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil || len(body.Operations) == 0 {
		writeSCIMError(w, http.StatusBadRequest, "invalid_syntax")
		return
	}
	want := u.Active
	for _, op := range body.Operations {
		switch strings.ToLower(op.Op) {
		case "replace", "add":
		default:
			writeSCIMError(w, http.StatusBadRequest, "invalid_syntax")
			return
		}
		raw := op.Value
		if op.Path == "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(op.Value, &obj) != nil {
				writeSCIMError(w, http.StatusBadRequest, "invalid_syntax")
				return
			}
			for k, v := range obj {
				if !strings.EqualFold(k, "active") {
					writeSCIMError(w, http.StatusBadRequest, "unsupported_attribute")
					return
				}
				raw = v
			}
		} else if !strings.EqualFold(op.Path, "active") {
			writeSCIMError(w, http.StatusBadRequest, "unsupported_attribute")
			return
		}
		v, ok := activeValue(raw)
		if !ok {
			writeSCIMError(w, http.StatusBadRequest, "invalid_syntax")
			return
		}
		want = v
	}
	s.setActive(r, now, u, want)
	writeJSON(w, http.StatusOK, s.scimUser(u, r))
}
