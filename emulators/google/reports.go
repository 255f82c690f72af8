package google

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/list

// applications are the applicationName values the Reports API accepts, in
// the order of its discovery document's pattern (revision 20260227).
var applications = []string{
	"access_evaluation", "access_transparency", "admin", "admin_data_action", "assignments",
	"calendar", "chat", "chrome", "classroom", "cloud_search", "contacts",
	"context_aware_access", "data_studio", "data_migration", "directory_sync", "drive",
	"gcp", "gmail", "gplus", "graduation", "groups", "groups_enterprise", "jamboard",
	"keep", "ldap", "login", "meet", "meet_hardware", "mobile", "profile", "rules", "saml",
	"token", "user_accounts", "vault", "gemini_in_workspace_apps", "tasks", "takeout",
}

var applicationPattern = func() string {
	parts := make([]string, len(applications))
	for i, a := range applications {
		parts[i] = "(" + a + ")"
	}
	return strings.Join(parts, "|")
}()

// retention is how far back the Reports API keeps activities.
const retention = 180 * 24 * time.Hour

// condition is one term of the filters parameter.
type condition struct {
	name, op, value string
}

var conditionRE = regexp.MustCompile(`^([A-Za-z0-9_]+)(==|<>|<=|>=|<|>)(.*)$`)

func parseFilters(s string) ([]condition, bool) {
	if s == "" {
		return nil, true
	}
	var out []condition
	for _, term := range strings.Split(s, ",") {
		m := conditionRE.FindStringSubmatch(strings.TrimSpace(term))
		if m == nil {
			return nil, false
		}
		out = append(out, condition{m[1], m[2], m[3]})
	}
	return out, true
}

func compare(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

func (c condition) holds(e *event) bool {
	for _, p := range e.Parameters {
		if p.Name != c.name {
			continue
		}
		v := p.value()
		cmp := compare(v, c.value)
		if multi := p.multi(); len(multi) > 0 && (c.op == "==" || c.op == "<>") {
			found := false
			for _, m := range multi {
				if m == c.value {
					found = true
				}
			}
			cmp = 1
			if found {
				cmp = 0
			}
		}
		switch c.op {
		case "==":
			return cmp == 0
		case "<>":
			return cmp != 0
		case "<":
			return cmp < 0
		case "<=":
			return cmp <= 0
		case ">":
			return cmp > 0
		case ">=":
			return cmp >= 0
		}
	}
	return false
}

// activityToken is the pageToken of activities.list: the position of the
// last activity served, so events logged between pages do not shift it.
func activityToken(r *record) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "A:%d:%d", r.At.UnixNano(), r.Qualifier))
}

func parseActivityToken(tok string) (at int64, qual int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "A" {
		return 0, 0, false
	}
	at, err1 := strconv.ParseInt(parts[1], 10, 64)
	qual, err2 := strconv.ParseInt(parts[2], 10, 64)
	return at, qual, err1 == nil && err2 == nil
}

// newer orders records newest first, as the Reports API returns them.
func newer(a, b *record) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	return a.Qualifier > b.Qualifier
}

func badParam(name, value, pattern string) gerr {
	return gerr{code: http.StatusBadRequest, message: fmt.Sprintf("Invalid value '%s'. Values must match the following regular expression: '%s'", value, pattern), reason: "invalidParameter"}
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// listActivities serves activities.list for one user (by profile ID or
// primary email; "all" for everyone) and one application. The user key
// matches the activity's actor, as in Google: admin events about a user
// are found with userKey=all and filters=USER_EMAIL==<address>.
func (s *Server) listActivities(q *request, userKey, app string) {
	known := false
	for _, a := range applications {
		if a == app {
			known = true
		}
	}
	if !known {
		writeError(q.w, badParam("applicationName", app, applicationPattern))
		return
	}
	var actorID string
	switch {
	case userKey == "all":
	case userKey == s.St.Admin.ProfileID || strings.EqualFold(userKey, s.St.Admin.Email):
		actorID = s.St.Admin.ProfileID
	default:
		u, ok := s.userFor(q, userKey)
		if !ok {
			return
		}
		actorID = u.ID
	}
	v := q.r.URL.Query()
	now := q.now.UTC()
	from, to := now.Add(-retention), now
	if st := v.Get("startTime"); st != "" {
		t, ok := parseTime(st)
		if !ok {
			writeError(q.w, badParam("startTime", st, `(\d\d\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([-+])(\d\d):(\d\d))`))
			return
		}
		if t.After(now) {
			writeError(q.w, invalid("Start time must be less than or equal to the current time."))
			return
		}
		if t.After(from) {
			from = t
		}
	}
	if et := v.Get("endTime"); et != "" {
		t, ok := parseTime(et)
		if !ok {
			writeError(q.w, badParam("endTime", et, `(\d\d\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([-+])(\d\d):(\d\d))`))
			return
		}
		if v.Get("startTime") != "" && t.Before(from) {
			writeError(q.w, invalid("Start time must be less than or equal to the end time."))
			return
		}
		if t.Before(to) {
			to = t
		}
	}
	conds, ok := parseFilters(v.Get("filters"))
	if !ok {
		writeError(q.w, invalid(""))
		return
	}
	size, ok := maxResults(v.Get("maxResults"), s.defaultPage(1000), 1000)
	if !ok {
		writeError(q.w, badParam("maxResults", v.Get("maxResults"), "[1-9][0-9]*"))
		return
	}
	var after *record
	if tok := v.Get("pageToken"); tok != "" {
		at, qual, ok := parseActivityToken(tok)
		if !ok {
			writeError(q.w, invalid("Invalid page token."))
			return
		}
		after = &record{At: time.Unix(0, at).UTC(), Qualifier: qual}
	}
	eventName, ip := v.Get("eventName"), v.Get("actorIpAddress")

	var matched []*record
	for _, r := range s.St.Events {
		if r.App != app || r.At.Before(from) || r.At.After(to) {
			continue
		}
		if actorID != "" && r.Actor.ProfileID != actorID {
			continue
		}
		if ip != "" && r.IP != ip {
			continue
		}
		var evs []*event
		for _, e := range r.Events {
			if eventName != "" && e.Name != eventName {
				continue
			}
			ok := true
			for _, c := range conds {
				if !c.holds(e) {
					ok = false
					break
				}
			}
			if ok {
				evs = append(evs, e)
			}
		}
		if len(evs) == 0 {
			continue
		}
		cp := *r
		cp.Events = evs
		matched = append(matched, &cp)
	}
	sort.SliceStable(matched, func(i, j int) bool { return newer(matched[i], matched[j]) })
	start := 0
	if after != nil {
		start = sort.Search(len(matched), func(i int) bool { return newer(after, matched[i]) })
	}
	end := min(start+size, len(matched))
	items := []any{}
	for _, r := range matched[start:end] {
		items = append(items, s.St.wire(r))
	}
	body := listBody("admin#reports#activities", "items", items)
	if end < len(matched) {
		body["nextPageToken"] = activityToken(matched[end-1])
	}
	writeJSON(q.w, http.StatusOK, body)
}
