package google

import (
	"time"

	"github.com/offboard/offboard/connectors"
)

// Buckets are the Admin SDK's default quota: 2,400 queries a minute per
// user per project (developers.google.com/workspace/admin/directory/v1/limits);
// offboard's calls all act as the one admin it impersonates.
var Buckets = []connectors.Bucket{
	{Name: "queries", Limit: 2400, Window: time.Minute,
		Doc: "2,400 queries a minute per user per project"},
}
