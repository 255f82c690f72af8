package okta

import (
	"net/http"
	"strings"
	"time"

	"github.com/offboard/offboard/connectors"
)

// Buckets are Okta's per-minute rate limits on the endpoints offboard
// calls, at the defaults of developer.okta.com/docs/reference/rl-global-mgmt
// (they vary by SKU: the org's X-Rate-Limit-Limit headers say its own).
// Each counts one family of /api/v1 paths, org-wide.
var Buckets = []connectors.Bucket{
	family("users", 600, "/api/v1/users (and a user's sessions, grants, roles, factors): 600 a minute"),
	family("groups", 500, "/api/v1/groups: 500 a minute"),
	family("logs", 120, "/api/v1/logs (the System Log): 120 a minute"),
}

func family(name string, limit int, doc string) connectors.Bucket {
	return connectors.Bucket{
		Name: name, Limit: limit, Window: time.Minute, Doc: doc, Reset: connectors.ResetHeader("X-Rate-Limit-Reset"),
		Key: func(req *http.Request) (string, bool) {
			rest, ok := strings.CutPrefix(req.URL.Path, "/api/v1/")
			head, _, _ := strings.Cut(rest, "/")
			return "", ok && head == name
		},
	}
}
