package google

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// https://developers.google.com/workspace/admin/directory/reference/rest

// userFor resolves a userKey (ID or primary email) or writes Google's
// answer: 404 for an unknown user of the customer, 403 for an address in a
// domain the customer does not own.
func (s *Server) userFor(q *request, key string) (*user, bool) {
	if u := s.St.userByKey(key); u != nil {
		return u, true
	}
	if strings.Contains(key, "@") && !s.St.inDomain(key) {
		writeError(q.w, errForbidden)
		return nil, false
	}
	writeError(q.w, notFound("userKey"))
	return nil, false
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

func (s *Server) getUser(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	writeJSON(q.w, http.StatusOK, s.St.userJSON(u))
}

// patchUser applies the "suspended" field of a users.patch or users.update
// body; other fields are accepted and ignored.
func (s *Server) patchUser(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(q.r.Body, 1<<20))
	if err != nil {
		writeError(q.w, invalid(""))
		return
	}
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &fields); err != nil {
			writeError(q.w, invalid("Invalid JSON payload received."))
			return
		}
	}
	if raw, ok := fields["suspended"]; ok {
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			writeError(q.w, invalid(fmt.Sprintf("Invalid value at 'suspended' (TYPE_BOOL), %s", raw)))
			return
		}
		if v != u.Suspended {
			u.Suspended = v
			name := "UNSUSPEND_USER"
			u.SuspensionReason = ""
			if v {
				name = "SUSPEND_USER"
				u.SuspensionReason = "ADMIN"
			}
			s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", name, strParam("USER_EMAIL", u.PrimaryEmail))
		}
	}
	writeJSON(q.w, http.StatusOK, s.St.userJSON(u))
}

// signOut ends every web and device session of the user (Admin console:
// "Sign out"; logged as RESET_SIGNIN_COOKIES).
func (s *Server) signOut(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	u.Sessions = 0
	s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", "RESET_SIGNIN_COOKIES", strParam("USER_EMAIL", u.PrimaryEmail))
	noContent(q.w)
}

func tokenJSON(u *user, t *token) map[string]any {
	m := map[string]any{
		"kind":        "admin#directory#token",
		"etag":        etag("token", u.ID, t.ClientID),
		"clientId":    t.ClientID,
		"displayText": t.DisplayText,
		"anonymous":   t.Anonymous,
		"nativeApp":   t.NativeApp,
		"userKey":     u.ID,
	}
	if len(t.Scopes) > 0 {
		m["scopes"] = t.Scopes
	}
	return m
}

// listBody is a list response; Google leaves out an empty items array.
func listBody[T any](kind, itemsKey string, items []T) map[string]any {
	m := map[string]any{"kind": kind, "etag": etag(kind, len(items))}
	if len(items) > 0 {
		m[itemsKey] = items
	}
	return m
}

func (s *Server) listTokens(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	items := []map[string]any{}
	for _, t := range u.Tokens {
		items = append(items, tokenJSON(u, t))
	}
	writeJSON(q.w, http.StatusOK, listBody("admin#directory#tokenList", "items", items))
}

func (s *Server) getToken(q *request, key, clientID string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	for _, t := range u.Tokens {
		if t.ClientID == clientID {
			writeJSON(q.w, http.StatusOK, tokenJSON(u, t))
			return
		}
	}
	writeError(q.w, notFound("clientId"))
}

func (s *Server) deleteToken(q *request, key, clientID string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	i := slices.IndexFunc(u.Tokens, func(t *token) bool { return t.ClientID == clientID })
	if i < 0 {
		writeError(q.w, notFound("clientId"))
		return
	}
	t := u.Tokens[i]
	u.Tokens = slices.Delete(u.Tokens, i, i+1)
	s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", "REVOKE_3LO_TOKEN", strParam("APP_ID", t.ClientID), strParam("USER_EMAIL", u.PrimaryEmail))
	s.St.logToken(q.now, q.ip, u, "revoke", t)
	noContent(q.w)
}

func aspJSON(u *user, a *asp) map[string]any {
	return map[string]any{
		"kind":         "admin#directory#asp",
		"etag":         etag("asp", u.ID, a.CodeID),
		"codeId":       a.CodeID,
		"name":         a.Name,
		"creationTime": strconv.FormatInt(a.CreationTime.UnixMilli(), 10),
		"lastTimeUsed": strconv.FormatInt(a.LastTimeUsed.UnixMilli(), 10),
		"userKey":      u.ID,
	}
}

func (s *Server) listASPs(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	items := []map[string]any{}
	for _, a := range u.ASPs {
		items = append(items, aspJSON(u, a))
	}
	writeJSON(q.w, http.StatusOK, listBody("admin#directory#asps", "items", items))
}

// aspFor resolves an ASP code ID or writes the error.
func (s *Server) aspFor(q *request, u *user, codeID string) (int, bool) {
	id, err := strconv.ParseInt(codeID, 10, 64)
	if err != nil {
		writeError(q.w, gerr{code: http.StatusBadRequest, message: fmt.Sprintf("Invalid value '%s'. Values must match the following regular expression: '-?\\d+'", codeID), reason: "invalidParameter"})
		return 0, false
	}
	i := slices.IndexFunc(u.ASPs, func(a *asp) bool { return a.CodeID == id })
	if i < 0 {
		writeError(q.w, notFound("codeId"))
		return 0, false
	}
	return i, true
}

func (s *Server) getASP(q *request, key, codeID string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	if i, ok := s.aspFor(q, u, codeID); ok {
		writeJSON(q.w, http.StatusOK, aspJSON(u, u.ASPs[i]))
	}
}

func (s *Server) deleteASP(q *request, key, codeID string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	i, ok := s.aspFor(q, u, codeID)
	if !ok {
		return
	}
	a := u.ASPs[i]
	u.ASPs = slices.Delete(u.ASPs, i, i+1)
	s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", "REVOKE_ASP", strParam("ASP_ID", strconv.FormatInt(a.CodeID, 10)), strParam("USER_EMAIL", u.PrimaryEmail))
	noContent(q.w)
}

func (s *Server) listCodes(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	items := []map[string]any{}
	for _, c := range u.BackupCodes {
		items = append(items, map[string]any{
			"kind":             "admin#directory#verificationCode",
			"etag":             etag("code", u.ID, c),
			"userId":           u.ID,
			"verificationCode": c,
		})
	}
	writeJSON(q.w, http.StatusOK, listBody("admin#directory#verificationCodesList", "items", items))
}

// errSuspendedCodes is the answer to changing a suspended user's backup
// codes. Google refuses it (GAM: "User is suspended. You must unsuspend
// to process backupcodes"); GAM handles the refusal as a 400 "invalid",
// which is what the emulator sends.
var errSuspendedCodes = gerr{code: http.StatusBadRequest, message: msgInvalidInput, reason: "invalid"}

func (s *Server) invalidateCodes(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	if u.Suspended {
		writeError(q.w, errSuspendedCodes)
		return
	}
	u.BackupCodes = []string{}
	s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", "DELETE_2SV_SCRATCH_CODES", strParam("USER_EMAIL", u.PrimaryEmail))
	noContent(q.w)
}

func (s *Server) generateCodes(q *request, key string) {
	u, ok := s.userFor(q, key)
	if !ok {
		return
	}
	if u.Suspended {
		writeError(q.w, errSuspendedCodes)
		return
	}
	u.BackupCodes = s.St.newBackupCodes()
	s.St.logAdmin(q.now, q.ip, "USER_SETTINGS", "GENERATE_2SV_SCRATCH_CODES", strParam("USER_EMAIL", u.PrimaryEmail))
	noContent(q.w)
}

// pageToken is an opaque offset token for the Directory API's lists.
func pageToken(kind string, offset int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", kind, offset))
}

func parsePageToken(kind, tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	k, n, ok := strings.Cut(string(b), ":")
	if !ok || k != kind {
		return 0, false
	}
	off, err := strconv.Atoi(n)
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}

// maxResults reads maxResults: empty gives def, above max gives max.
func maxResults(s string, def, max int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, max), true
}

// page cuts one page out of n items and returns its bounds and the next
// page token ("" on the last page).
func page(q *request, kind string, n, def, max int) (lo, hi int, next string, ok bool) {
	v := q.r.URL.Query()
	size, ok := maxResults(v.Get("maxResults"), def, max)
	if !ok {
		writeError(q.w, invalid(""))
		return 0, 0, "", false
	}
	lo, ok = parsePageToken(kind, v.Get("pageToken"))
	if !ok {
		writeError(q.w, invalid(""))
		return 0, 0, "", false
	}
	lo = min(lo, n)
	hi = min(lo+size, n)
	if hi < n {
		next = pageToken(kind, hi)
	}
	return lo, hi, next, true
}

func (s *Server) defaultPage(google int) int {
	if s.opts.PageSize > 0 {
		return s.opts.PageSize
	}
	return google
}

// listGroups serves groups.list: all of the customer's (customer or
// domain) or one user's (userKey) groups, sorted by email.
func (s *Server) listGroups(q *request) {
	v := q.r.URL.Query()
	customer, domain, userKey := v.Get("customer"), v.Get("domain"), v.Get("userKey")
	var groups []*group
	switch {
	case userKey != "" && customer != "":
		writeError(q.w, gerr{code: http.StatusBadRequest, message: msgBadRequest, reason: "badRequest"})
		return
	case userKey != "":
		u, ok := s.userFor(q, userKey)
		if !ok {
			return
		}
		groups = s.St.groupsOf(u.ID)
	case customer != "":
		if customer != "my_customer" && customer != s.St.Customer {
			writeError(q.w, errForbidden)
			return
		}
		groups = slices.Clone(s.St.Groups)
	case domain != "":
		if !strings.EqualFold(domain, s.St.Domain) {
			writeError(q.w, errForbidden)
			return
		}
		groups = slices.Clone(s.St.Groups)
	default:
		writeError(q.w, gerr{code: http.StatusBadRequest, message: msgBadRequest, reason: "badRequest"})
		return
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Email < groups[j].Email })
	lo, hi, next, ok := page(q, "groups", len(groups), s.defaultPage(200), 200)
	if !ok {
		return
	}
	items := []map[string]any{}
	for _, g := range groups[lo:hi] {
		items = append(items, s.St.groupJSON(g))
	}
	body := listBody("admin#directory#groups", "groups", items)
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(q.w, http.StatusOK, body)
}

func (s *Server) groupFor(q *request, key string) (*group, bool) {
	if g := s.St.groupByKey(key); g != nil {
		return g, true
	}
	writeError(q.w, notFound("groupKey"))
	return nil, false
}

func (s *Server) getGroup(q *request, key string) {
	if g, ok := s.groupFor(q, key); ok {
		writeJSON(q.w, http.StatusOK, s.St.groupJSON(g))
	}
}

func (s *Server) memberJSON(g *group, u *user) map[string]any {
	return map[string]any{
		"kind":   "admin#directory#member",
		"etag":   etag("member", g.ID, u.ID),
		"id":     u.ID,
		"email":  u.PrimaryEmail,
		"role":   "MEMBER",
		"type":   "USER",
		"status": "ACTIVE",
	}
}

func (s *Server) listMembers(q *request, key string) {
	g, ok := s.groupFor(q, key)
	if !ok {
		return
	}
	lo, hi, next, ok := page(q, "members", len(g.Members), s.defaultPage(200), 200)
	if !ok {
		return
	}
	items := []map[string]any{}
	for _, id := range g.Members[lo:hi] {
		if u := s.St.user(id); u != nil {
			items = append(items, s.memberJSON(g, u))
		}
	}
	body := listBody("admin#directory#members", "members", items)
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(q.w, http.StatusOK, body)
}

// memberFor resolves a memberKey (user ID or email) among g's members.
func (s *Server) memberFor(q *request, g *group, key string) (*user, int, bool) {
	u := s.St.userByKey(key)
	if u != nil {
		if i := slices.Index(g.Members, u.ID); i >= 0 {
			return u, i, true
		}
	}
	writeError(q.w, notFound("memberKey"))
	return nil, 0, false
}

func (s *Server) getMember(q *request, groupKey, memberKey string) {
	g, ok := s.groupFor(q, groupKey)
	if !ok {
		return
	}
	if u, _, ok := s.memberFor(q, g, memberKey); ok {
		writeJSON(q.w, http.StatusOK, s.memberJSON(g, u))
	}
}

func (s *Server) deleteMember(q *request, groupKey, memberKey string) {
	g, ok := s.groupFor(q, groupKey)
	if !ok {
		return
	}
	u, i, ok := s.memberFor(q, g, memberKey)
	if !ok {
		return
	}
	g.Members = slices.Delete(g.Members, i, i+1)
	s.St.logAdmin(q.now, q.ip, "GROUP_SETTINGS", "REMOVE_GROUP_MEMBER", strParam("USER_EMAIL", u.PrimaryEmail), strParam("GROUP_EMAIL", g.Email))
	noContent(q.w)
}
