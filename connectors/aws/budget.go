package aws

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offboard/offboard/connectors"
)

// Buckets are per-second limits per service and credentials (so per
// account). AWS documents CloudTrail's LookupEvents at 2 a second per
// account and region; it publishes no fixed rate for IAM, STS, the
// identity store or the Identity Center admin API, which throttle
// adaptively, so those defaults are a cautious 50 a second: lower them if
// the accounts still answer Throttling.
var Buckets = []connectors.Bucket{
	service("iam", 50, "IAM: 50 a second per account (AWS publishes none)"),
	service("sts", 50, "STS: 50 a second per account (AWS publishes none)"),
	service("identitystore", 50, "identity store: 50 a second (AWS publishes none)"),
	service("sso", 50, "Identity Center admin API: 50 a second (AWS publishes none)"),
	service("cloudtrail", 2, "CloudTrail LookupEvents: 2 a second per account and region"),
}

// service counts the signed requests of one service, per access key: the
// service and key are read from the SigV4 credential scope
// (Credential=<key>/<date>/<region>/<service>/aws4_request), which the SDK
// has signed before the request reaches the HTTP client.
func service(name string, limit int, doc string) connectors.Bucket {
	return connectors.Bucket{
		Name: name, Limit: limit, Window: time.Second, Doc: doc,
		Key: func(req *http.Request) (string, bool) {
			key, svc, ok := credentialScope(req.Header.Get("Authorization"))
			return key, ok && svc == name
		},
	}
}

// credentialScope reads the access key and service of a SigV4
// Authorization header.
func credentialScope(auth string) (key, service string, ok bool) {
	_, cred, found := strings.Cut(auth, "Credential=")
	if !found {
		return "", "", false
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", "", false
	}
	return parts[0], parts[3], true
}

// paced is an APIOptions entry: each attempt of every operation, once
// signed (so its credential scope names the service and key), waits for
// the budget its context carries (connectors.Pace).
func paced(s *middleware.Stack) error {
	return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("OffboardBudget",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if err := connectors.Pace(req.Request.WithContext(ctx)); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}
