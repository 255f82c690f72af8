package github

import (
	"net/http"
	"strings"
	"time"

	"github.com/offboard/offboard/connectors"
)

// Buckets are GitHub's REST rate limits for one token
// (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
// the secondary limit of 900 points a minute, where a GET, HEAD or OPTIONS
// costs 1 and any other request 5; the primary limit of 5,000 requests an
// hour (a GitHub App installation may have more); and the audit log's
// 1,750 queries an hour.
var Buckets = []connectors.Bucket{
	{Name: "points", Limit: 900, Window: time.Minute, Cost: points,
		Doc: "secondary limit: 900 points a minute (a read 1, a write 5)"},
	{Name: "requests", Limit: 5000, Window: time.Hour, Reset: coreReset,
		Doc: "primary limit: 5,000 requests an hour"},
	{Name: "auditLog", Limit: 1750, Window: time.Hour, Key: auditLog,
		Doc: "audit log: 1,750 queries an hour"},
}

func points(req *http.Request) int {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "":
		return 1
	}
	return 5
}

func auditLog(req *http.Request) (string, bool) {
	return "", strings.HasSuffix(req.URL.Path, "/audit-log")
}

// coreReset reads when the primary limit's hour resets, from an answer
// about it (x-ratelimit-resource core; the audit log and search have
// their own).
func coreReset(resp *http.Response) (time.Duration, bool) {
	if r := resp.Header.Get("X-Ratelimit-Resource"); r != "" && r != "core" {
		return 0, false
	}
	return connectors.ResetHeader("X-Ratelimit-Reset")(resp)
}
