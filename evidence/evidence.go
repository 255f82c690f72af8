// Package evidence is what offboard keeps of a person's recent activity at
// the cut: events from every system in one shape, sealed in a bundle that
// anyone can later check was not altered (per-file SHA-256, a hash chain
// over the manifest's entries, an Ed25519 signature over the manifest), in
// a store that keeps it (a local directory, or S3 with Object Lock).
package evidence

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// Event is one thing the person did in one system, normalised. Raw keeps
// the vendor's event whole.
type Event struct {
	Time   time.Time `json:"time"`
	System string    `json:"system"`
	// Actor is the account that acted (the system's account ID).
	Actor  string `json:"actor"`
	Action string `json:"action"`
	// Target is what was acted on: a repository, a file, a bucket, an app.
	Target    string `json:"target,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	Country   string `json:"country,omitempty"`
	ASN       string `json:"asn,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// Outcome is "success" or "failure" ("" when the vendor does not say).
	Outcome string `json:"outcome,omitempty"`
	// Credential is what was used, where known: an access key ID, a token
	// ID, an SSH key fingerprint.
	Credential string          `json:"credential,omitempty"`
	Raw        json.RawMessage `json:"raw"`
}

// Store keeps bundles' files. A stored file is never replaced: Put of a
// name that exists is an error.
type Store interface {
	// Put writes one file of a bundle.
	Put(ctx context.Context, bundle, name string, r io.Reader) error
	// Get reads one file of a bundle.
	Get(ctx context.Context, bundle, name string) (io.ReadCloser, error)
	// List lists a bundle's files, sorted.
	List(ctx context.Context, bundle string) ([]string, error)
}
