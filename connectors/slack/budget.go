package slack

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/offboard/offboard/connectors"
)

// Buckets are Slack's rate limits on the calls offboard makes
// (docs.slack.dev/apis/web-api/rate-limits, /reference/scim-api/rate-limits).
// Web API tiers count per method, so each method has its own counter; the
// SCIM and Audit Logs limits are org-wide.
var Buckets = []connectors.Bucket{
	tier("tier2", 20, "admin.users.session.list", "admin.users.session.reset", "users.list"),
	tier("tier3", 50, "users.lookupByEmail", "chat.update"),
	tier("tier4", 100, "users.info", "auth.test"),
	{Name: "scimRead", Limit: 1000, Window: time.Minute, Key: scim(http.MethodGet), Doc: "SCIM reads: 1,000 a minute"},
	{Name: "scimWrite", Limit: 600, Window: time.Minute, Key: scim(http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodPost), Doc: "SCIM writes: 600 a minute"},
	{Name: "scimDelete", Limit: 180, Window: time.Minute, Key: scim(http.MethodDelete), Doc: "SCIM deletes (deactivations): 180 a minute, within the writes"},
	{Name: "auditLogs", Limit: 50, Window: time.Minute, Doc: "Audit Logs API: Tier 3, 50 a minute",
		Key: func(req *http.Request) (string, bool) { return "", strings.Contains(req.URL.Path, "/audit/v1/") }},
}

// tier counts each of methods on its own counter, at limit a minute.
func tier(name string, limit int, methods ...string) connectors.Bucket {
	return connectors.Bucket{
		Name: name, Limit: limit, Window: time.Minute,
		Doc: strings.Join(methods, ", ") + ": Tier " + strings.TrimPrefix(name, "tier") + ", per method",
		Key: func(req *http.Request) (string, bool) {
			if !strings.Contains(req.URL.Path, "/api/") {
				return "", false
			}
			m := path.Base(req.URL.Path)
			for _, x := range methods {
				if m == x {
					return m, true
				}
			}
			return "", false
		},
	}
}

func scim(methods ...string) func(*http.Request) (string, bool) {
	return func(req *http.Request) (string, bool) {
		if !strings.Contains(req.URL.Path, "/scim/") {
			return "", false
		}
		for _, m := range methods {
			if req.Method == m {
				return "", true
			}
		}
		return "", false
	}
}
