package cases

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"github.com/offboard/offboard/workflows"
)

// ClientOptions reads the standard TEMPORAL_* settings and profile file,
// as the temporal CLI does (envconfig); the namespace defaults to
// workflows.Namespace.
func ClientOptions(env envconfig.EnvLookup) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: env})
	if err != nil {
		return opts, fmt.Errorf("temporal client settings: %w", err)
	}
	if opts.Namespace == "" {
		opts.Namespace = workflows.Namespace
	}
	return opts, nil
}

// Dial connects to Temporal with ClientOptions, failing within timeout
// rather than hanging, with the SDK logging to log. Every front door dials
// this way.
func Dial(ctx context.Context, env envconfig.EnvLookup, timeout time.Duration, log *slog.Logger) (client.Client, error) {
	opts, err := ClientOptions(env)
	if err != nil {
		return nil, err
	}
	opts.Logger = sdklog.NewStructuredLogger(log)
	addr := opts.HostPort
	if addr == "" {
		addr = client.DefaultHostPort
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s, namespace %s (is `make run` running, or TEMPORAL_ADDRESS set?): %s", addr, opts.Namespace, rootCause(err))
	}
	return c, nil
}
