package connectors

import "context"

// Shared is a connector some of whose writes go to a resource every case
// shares (AWS: a kill-switch permission set's inline policy, one document
// listing every leaver). Two cases reading, editing and writing it at once
// lose one's entry, so such writes go through one place a resource: the
// connector sends each item to the router (RouteShared) instead of
// writing it, and the router applies them in batches (ApplyShared), one
// batch of a resource at a time. Without a router the connector writes
// itself (tests, a single case).
type Shared interface {
	RouteShared(r SharedRouter)
	// ApplyShared adds every item of add to resource in one write (and
	// removes those of prune that may go), verifies, and says what it did.
	ApplyShared(ctx context.Context, resource string, add, prune []string) (SharedResult, error)
}

// SharedRouter hands one item for a shared resource to the one place that
// writes it, and returns once it is applied (or could not be).
type SharedRouter func(ctx context.Context, resource, item string) error

// SharedResult is what one batch did.
type SharedResult struct {
	Records []string `json:"records,omitempty"`
	// Pruned are the prune candidates removed.
	Pruned []string `json:"pruned,omitempty"`
}
