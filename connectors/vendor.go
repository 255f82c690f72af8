package connectors

import "context"

// Vendor describes one vendor to the rest of offboard. Each vendor package
// exports one (okta.Vendor, ...); the vendors package lists them, and
// config, the worker and `offboard dev` know vendors only through that
// list.
type Vendor struct {
	// Name is the system name: the config file's key, the prefix of step
	// IDs, the name in `offboard status`.
	Name string
	// Identity says the vendor can be the identity system: the one resolved
	// first, whose account reports the person's employee ID and the
	// attributes (work email, GitHub username, ...) others resolve by.
	Identity bool
	// NewSection returns an empty config section, which the config file's
	// key Name decodes into (unknown keys are errors).
	NewSection func() Section
	// Buckets are the vendor's rate limits with their documented
	// defaults: the worker paces the vendor's calls to them (Budget), and
	// the config file's budgets.<vendor>.<bucket> changes a limit.
	Buckets []Bucket
}

// Lookup reads one environment variable.
type Lookup func(name string) (string, bool)

// Section is one vendor's part of the config file, decoded by the vendor's
// own type.
type Section interface {
	// FromEnv applies the vendor's environment variables over what the
	// file said and reads the secret files it names. It reports whether the
	// environment alone configures the vendor, so that a vendor the file
	// does not mention is configured from the environment.
	FromEnv(env Lookup) (bool, error)
	// Validate checks what can be checked without calling the vendor.
	// Messages name keys as "<vendor>.<key>".
	Validate() error
	// Connector builds the connector. It makes no request.
	Connector(ctx context.Context) (Connector, error)
}
