package okta

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const userTypeID = "otyDEFAULT0000000001"

type link struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

type userJSON struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Created         oktaTime       `json:"created"`
	Activated       *oktaTime      `json:"activated"`
	StatusChanged   *oktaTime      `json:"statusChanged"`
	LastLogin       *oktaTime      `json:"lastLogin"`
	LastUpdated     oktaTime       `json:"lastUpdated"`
	PasswordChanged *oktaTime      `json:"passwordChanged"`
	Type            map[string]any `json:"type"`
	Profile         map[string]any `json:"profile"`
	Credentials     map[string]any `json:"credentials"`
	Links           map[string]any `json:"_links"`
}

func renderUser(r *http.Request, u *user) userJSON {
	base := baseURL(r) + "/api/v1/users/" + u.ID
	profile := map[string]any{"mobilePhone": nil, "secondEmail": nil}
	for k, v := range u.Profile {
		profile[k] = v
	}
	links := map[string]any{
		"self":   link{Href: base},
		"schema": link{Href: baseURL(r) + "/api/v1/meta/schemas/user/osc" + userTypeID[3:]},
		"type":   link{Href: baseURL(r) + "/api/v1/meta/types/user/" + userTypeID},
	}
	post := func(name, op string) { links[name] = link{Href: base + "/lifecycle/" + op, Method: "POST"} }
	switch u.Status {
	case "ACTIVE":
		post("suspend", "suspend")
		post("deactivate", "deactivate")
		post("resetPassword", "reset_password")
		post("expirePassword", "expire_password")
		links["changePassword"] = link{Href: base + "/credentials/change_password", Method: "POST"}
	case "SUSPENDED":
		post("unsuspend", "unsuspend")
		post("deactivate", "deactivate")
	case "DEPROVISIONED":
		post("activate", "activate")
		links["delete"] = link{Href: base, Method: "DELETE"}
	default:
		post("deactivate", "deactivate")
	}
	if len(u.Factors) > 0 && u.Status != "DEPROVISIONED" {
		post("resetFactors", "reset_factors")
	}
	return userJSON{
		ID: u.ID, Status: u.Status, Created: u.Created, Activated: u.Activated, StatusChanged: u.StatusChanged,
		LastLogin: u.LastLogin, LastUpdated: u.LastUpdated, PasswordChanged: u.PasswordChanged,
		Type:    map[string]any{"id": userTypeID},
		Profile: profile,
		Credentials: map[string]any{
			"password": map[string]any{},
			"provider": map[string]any{"type": "OKTA", "name": "OKTA"},
		},
		Links: links,
	}
}

// notFound writes Okta's 404 for an unknown resource.
func notFound(w http.ResponseWriter, key, kind string) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+key+" ("+kind+")")
}

// userOr404 finds the user a sub-resource path names, by ID.
func (s *Server) userOr404(w http.ResponseWriter, id string) *user {
	u := s.St.user(id)
	if u == nil {
		notFound(w, id, "User")
	}
	return u
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.St.userByIDOrLogin(seg[1])
	if u == nil {
		notFound(w, seg[1], "User")
		return
	}
	writeJSON(w, http.StatusOK, renderUser(r, u))
}

var userTimeAttrs = map[string]bool{"created": true, "activated": true, "statusChanged": true, "lastUpdated": true, "lastLogin": true, "passwordChanged": true}

func userSearchAttrOK(a string) bool {
	if p, ok := strings.CutPrefix(a, "profile."); ok {
		return p != ""
	}
	return a == "id" || a == "status" || a == "type.id" || userTimeAttrs[a]
}

// userFilterAttrOK is the subset Okta's filter parameter supports.
func userFilterAttrOK(a string) bool {
	switch a {
	case "id", "status", "lastUpdated", "profile.login", "profile.email", "profile.firstName", "profile.lastName":
		return true
	}
	return false
}

func (u *user) get(a string) ([]string, bool) {
	if p, ok := strings.CutPrefix(a, "profile."); ok {
		v, ok := u.Profile[p]
		return []string{v}, ok
	}
	var t *oktaTime
	switch a {
	case "id":
		return []string{u.ID}, true
	case "status":
		return []string{u.Status}, true
	case "type.id":
		return []string{userTypeID}, true
	case "created":
		t = &u.Created
	case "lastUpdated":
		t = &u.LastUpdated
	case "activated":
		t = u.Activated
	case "statusChanged":
		t = u.StatusChanged
	case "lastLogin":
		t = u.LastLogin
	case "passwordChanged":
		t = u.PasswordChanged
	}
	if t == nil {
		return nil, false
	}
	return []string{t.String()}, true
}

// page cuts a slice sorted by ID at the after cursor and limit, and writes
// the Link headers Okta sends: rel="self" for the request and rel="next"
// (with after and limit) while more remain.
func page[T any](w http.ResponseWriter, r *http.Request, items []T, id func(T) string, limit int) []T {
	q := r.URL.Query()
	start := 0
	if after := q.Get("after"); after != "" {
		start = sort.Search(len(items), func(i int) bool { return id(items[i]) > after })
	}
	end := min(start+limit, len(items))
	base := baseURL(r) + r.URL.Path
	w.Header().Add("Link", linkHeader(base, q, "self"))
	if end < len(items) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", id(items[end-1]))
		next.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", linkHeader(base, next, "next"))
	}
	return items[start:end]
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ time.Time, _ []string) {
	q := r.URL.Query()
	search, filter, kw := q.Get("search"), q.Get("filter"), q.Get("q")
	if search != "" && (filter != "" || kw != "") {
		writeError(w, http.StatusBadRequest, "E0000033", "Bad request. Can't specify a search query and filter in the same request.")
		return
	}
	limit, ok := parseLimit(q.Get("limit"), s.opts.PageSize, 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive number")
		return
	}
	// Plain lists and q= leave DEPROVISIONED users out, as Okta does;
	// search= and filter= return every status they match.
	match := func(u *user) bool { return u.Status != "DEPROVISIONED" }
	switch {
	case search != "" || filter != "":
		text, ok := search, userSearchAttrOK
		if search == "" {
			text, ok = filter, userFilterAttrOK
		}
		e, err := parseExpr(text, ok, true)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.")
			return
		}
		match = func(u *user) bool { return e.eval(u.get) }
	case kw != "":
		k := strings.ToLower(kw)
		match = func(u *user) bool {
			if u.Status == "DEPROVISIONED" {
				return false
			}
			for _, f := range []string{"firstName", "lastName", "email"} {
				if strings.HasPrefix(strings.ToLower(u.Profile[f]), k) {
					return true
				}
			}
			return false
		}
	}
	var hits []*user
	for _, u := range s.St.Users {
		if match(u) {
			hits = append(hits, u)
		}
	}
	hits = page(w, r, hits, func(u *user) string { return u.ID }, limit)
	out := make([]userJSON, 0, len(hits))
	for _, u := range hits {
		out = append(out, renderUser(r, u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	setStatus := func(status string) {
		u.Status = status
		u.StatusChanged = stamp(now)
		u.LastUpdated = oktaTime{now.UTC()}
	}
	switch op := seg[3]; op {
	case "suspend":
		if u.Status != "ACTIVE" {
			writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: suspend", "Cannot suspend a user that is not active")
			return
		}
		setStatus("SUSPENDED")
		s.adminEvent(r, now, "user.lifecycle.suspend", u)
	case "unsuspend":
		if u.Status != "SUSPENDED" {
			writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: unsuspend", "Cannot unsuspend a user that is not suspended")
			return
		}
		setStatus("ACTIVE")
		s.adminEvent(r, now, "user.lifecycle.unsuspend", u)
	case "deactivate":
		// Okta answers a deactivate of a DEPROVISIONED user with a 404, as
		// if the user were gone (okta-sdk-java#721 shows it).
		if u.Status == "DEPROVISIONED" {
			notFound(w, u.ID, "User")
			return
		}
		if v := r.URL.Query().Get("sendEmail"); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: sendEmail", "sendEmail: must be true or false")
				return
			}
		}
		setStatus("DEPROVISIONED")
		u.Sessions = 0
		u.Grants = nil
		u.Tokens = map[string]int{}
		s.adminEvent(r, now, "user.lifecycle.deactivate", u)
	case "reset_factors":
		u.Factors = nil
		s.adminEvent(r, now, "user.mfa.factor.reset_all", u)
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) clearSessions(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	u.Sessions = 0
	s.adminEvent(r, now, "user.session.clear", u)
	if v, _ := strconv.ParseBool(r.URL.Query().Get("oauthTokens")); v && u.tokenCount() > 0 {
		u.Tokens = map[string]int{}
		s.adminEvent(r, now, "app.oauth2.as.token.revoke", u)
	}
	w.WriteHeader(http.StatusNoContent)
}

type grantJSON struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Created     oktaTime       `json:"created"`
	CreatedBy   map[string]any `json:"createdBy"`
	LastUpdated oktaTime       `json:"lastUpdated"`
	Issuer      string         `json:"issuer"`
	ClientID    string         `json:"clientId"`
	UserID      string         `json:"userId"`
	ScopeID     string         `json:"scopeId"`
	Source      string         `json:"source"`
	Links       map[string]any `json:"_links"`
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	limit, ok := parseLimit(r.URL.Query().Get("limit"), s.opts.PageSize, 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive number")
		return
	}
	grants := slices.Clone(u.Grants)
	slices.SortFunc(grants, func(a, b *grant) int { return strings.Compare(a.ID, b.ID) })
	grants = page(w, r, grants, func(g *grant) string { return g.ID }, limit)
	base := baseURL(r)
	out := make([]grantJSON, 0, len(grants))
	for _, g := range grants {
		out = append(out, grantJSON{
			ID: g.ID, Status: "ACTIVE", Created: g.Created, LastUpdated: g.Created,
			CreatedBy: map[string]any{"id": u.ID, "type": "User"},
			Issuer:    base + "/oauth2/default", ClientID: g.ClientID, UserID: u.ID, ScopeID: g.ScopeID, Source: "END_USER",
			Links: map[string]any{
				"self":   link{Href: base + "/api/v1/users/" + u.ID + "/grants/" + g.ID, Method: "GET"},
				"client": link{Href: base + "/oauth2/v1/clients/" + g.ClientID},
				"user":   link{Href: base + "/api/v1/users/" + u.ID},
			},
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeGrants(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	for _, g := range u.Grants {
		var extra []logTarget
		if c := s.St.client(g.ClientID); c != nil {
			extra = append(extra, logTarget{ID: c.ID, Type: "AppInstance", AlternateID: c.Name, DisplayName: c.Name})
		}
		s.adminEvent(r, now, "app.oauth2.as.consent.revoke", u, extra...)
	}
	u.Grants = nil
	w.WriteHeader(http.StatusNoContent)
}

type clientJSON struct {
	ClientID   string         `json:"client_id"`
	ClientName string         `json:"client_name"`
	ClientURI  *string        `json:"client_uri"`
	LogoURI    *string        `json:"logo_uri"`
	Links      map[string]any `json:"_links"`
}

// listClients lists the clients the user holds grants or tokens for.
func (s *Server) listClients(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	ids := map[string]bool{}
	for _, g := range u.Grants {
		ids[g.ClientID] = true
	}
	for c, n := range u.Tokens {
		if n > 0 {
			ids[c] = true
		}
	}
	keys := make([]string, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	base := baseURL(r) + "/api/v1/users/" + u.ID + "/clients/"
	out := make([]clientJSON, 0, len(keys))
	for _, id := range keys {
		name := id
		if c := s.St.client(id); c != nil {
			name = c.Name
		}
		out = append(out, clientJSON{ClientID: id, ClientName: name, Links: map[string]any{
			"grants": link{Href: base + id + "/grants"},
			"tokens": link{Href: base + id + "/tokens"},
		}})
	}
	writeJSON(w, http.StatusOK, out)
}

type groupJSON struct {
	ID                    string         `json:"id"`
	Created               oktaTime       `json:"created"`
	LastUpdated           oktaTime       `json:"lastUpdated"`
	LastMembershipUpdated oktaTime       `json:"lastMembershipUpdated"`
	ObjectClass           []string       `json:"objectClass"`
	Type                  string         `json:"type"`
	Profile               map[string]any `json:"profile"`
	Links                 map[string]any `json:"_links"`
}

func renderGroup(r *http.Request, g *group) groupJSON {
	base := baseURL(r) + "/api/v1/groups/" + g.ID
	out := groupJSON{
		ID: g.ID, Created: g.Created, LastUpdated: g.Created, LastMembershipUpdated: g.Created,
		ObjectClass: []string{"okta:user_group"}, Type: g.Type,
		Profile: map[string]any{"name": g.Name, "description": nil},
		Links: map[string]any{
			"users": link{Href: base + "/users"},
			"apps":  link{Href: base + "/apps"},
		},
	}
	switch g.Type {
	case "BUILT_IN":
		out.Profile["description"] = "All users in your organization"
	case "APP_GROUP":
		out.ObjectClass = []string{"okta:windows_security_principal"}
		out.Profile["description"] = "Imported from an application"
		out.Profile["externalId"] = "ext-" + strings.ToLower(g.ID[3:])
	}
	return out
}

func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	limit, ok := parseLimit(r.URL.Query().Get("limit"), s.opts.PageSize, 10000)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive number")
		return
	}
	ids := slices.Clone(u.Groups)
	slices.Sort(ids)
	ids = page(w, r, ids, func(id string) string { return id }, limit)
	out := make([]groupJSON, 0, len(ids))
	for _, id := range ids {
		if g := s.St.group(id); g != nil {
			out = append(out, renderGroup(r, g))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	g := s.St.group(seg[1])
	if g == nil {
		notFound(w, seg[1], "UserGroup")
		return
	}
	writeJSON(w, http.StatusOK, renderGroup(r, g))
}

// removeMember serves DELETE /api/v1/groups/{gid}/users/{uid}. Okta refuses
// to change APP_GROUP (directory or app mastered) and BUILT_IN (Everyone)
// memberships with a 403 E0000006, even for a super admin. Removing a
// non-member succeeds with 204.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	g := s.St.group(seg[1])
	if g == nil {
		notFound(w, seg[1], "UserGroup")
		return
	}
	u := s.userOr404(w, seg[3])
	if u == nil {
		return
	}
	if g.Type != "OKTA_GROUP" {
		writeError(w, http.StatusForbidden, "E0000006", msgForbidden)
		return
	}
	if i := slices.Index(u.Groups, g.ID); i >= 0 {
		u.Groups = slices.Delete(u.Groups, i, i+1)
		s.adminEvent(r, now, "group.user_membership.remove", u, logTarget{ID: g.ID, Type: "UserGroup", AlternateID: "unknown", DisplayName: g.Name})
	}
	w.WriteHeader(http.StatusNoContent)
}

type roleJSON struct {
	ID             string         `json:"id"`
	Label          string         `json:"label"`
	Type           string         `json:"type"`
	Status         string         `json:"status"`
	Created        oktaTime       `json:"created"`
	LastUpdated    oktaTime       `json:"lastUpdated"`
	AssignmentType string         `json:"assignmentType"`
	Links          map[string]any `json:"_links"`
}

func roleLabel(t string) string {
	if l, ok := roleLabels[t]; ok {
		return l
	}
	return t
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	out := make([]roleJSON, 0, len(u.Roles))
	for _, ro := range u.Roles {
		out = append(out, roleJSON{
			ID: ro.ID, Label: roleLabel(ro.Type), Type: ro.Type, Status: "ACTIVE",
			Created: ro.Created, LastUpdated: ro.Created, AssignmentType: "USER",
			Links: map[string]any{"assignee": link{Href: baseURL(r) + "/api/v1/users/" + u.ID}},
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) removeRole(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	i := slices.IndexFunc(u.Roles, func(ro *role) bool { return ro.ID == seg[3] })
	if i < 0 {
		notFound(w, seg[3], "Role")
		return
	}
	ro := u.Roles[i]
	u.Roles = slices.Delete(u.Roles, i, i+1)
	e := s.adminEvent(r, now, "user.account.privilege.revoke", u)
	e.DebugContext.DebugData["privilegeRevoked"] = roleLabel(ro.Type)
	w.WriteHeader(http.StatusNoContent)
}

type factorJSON struct {
	ID          string         `json:"id"`
	FactorType  string         `json:"factorType"`
	Provider    string         `json:"provider"`
	VendorName  string         `json:"vendorName"`
	Status      string         `json:"status"`
	Created     oktaTime       `json:"created"`
	LastUpdated oktaTime       `json:"lastUpdated"`
	Profile     map[string]any `json:"profile"`
	Links       map[string]any `json:"_links"`
}

func (s *Server) listFactors(w http.ResponseWriter, r *http.Request, _ time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	base := baseURL(r) + "/api/v1/users/" + u.ID
	out := make([]factorJSON, 0, len(u.Factors))
	for _, f := range u.Factors {
		out = append(out, factorJSON{
			ID: f.ID, FactorType: f.Type, Provider: f.Provider, VendorName: f.Provider, Status: "ACTIVE",
			Created: f.Created, LastUpdated: f.Created, Profile: map[string]any{},
			Links: map[string]any{
				"self": link{Href: base + "/factors/" + f.ID},
				"user": link{Href: base},
			},
		})
	}
	writeJSON(w, http.StatusOK, out)
}
