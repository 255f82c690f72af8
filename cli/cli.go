// Package cli is offboard's command tree, and the only place that prints
// for people. It runs in-process: streams, environment and the dev server
// are injected, so tests drive it without a subprocess.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/vendors"
)

// Env is the environment the CLI reads (the same shape envconfig uses).
type Env = envconfig.EnvLookup

// MapEnv is an Env from a map, for tests.
type MapEnv map[string]string

// Environ implements Env.
func (m MapEnv) Environ() []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// LookupEnv implements Env.
func (m MapEnv) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }

// Options inject what the CLI needs from its process.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Env    Env
	// Dev runs `offboard dev`. main injects it so that this package does not
	// link the Temporal server.
	Dev func(ctx context.Context, o devopts.Options, out io.Writer) error
	// DialTimeout bounds reaching Temporal; default 5s.
	DialTimeout time.Duration
	// Now is the clock, for what depends on the current time (whether an
	// effective time has passed); default time.Now.
	Now func() time.Time
}

// Execute runs the CLI with args (without the program name) and returns the
// process exit code. Errors are printed once, to stderr.
func Execute(ctx context.Context, args []string, o Options) int {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Env == nil {
		o.Env = envconfig.EnvLookupOS
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &app{opts: o}
	root := a.root()
	root.SetArgs(args)
	root.SetIn(o.Stdin)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(o.Stderr, "offboard: %s\n", safe(oneLine(err.Error())))
		return 1
	}
	return 0
}

type app struct {
	opts       Options
	configPath string
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "offboard",
		Short: "Close every way a leaver had in, prove it, and keep the record",
		Long: `offboard runs each offboarding as a durable Temporal workflow that revokes
access in every configured system together (` + vendorNames() + `),
verifies every revocation and keeps who did what.`,
		Example: `  offboard plan E1001                       # what would be cut, changing nothing
  offboard terminate E1001 --reason "last day"
  offboard status E1001                     # follow it; retry or skip a parked step
  offboard list --state parked`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default $OFFBOARD_CONFIG, ./offboard.yaml, then .offboard/dev.yaml)")
	root.AddCommand(a.devCmd(), a.workerCmd(), a.terminateCmd(), a.planCmd(), a.statusCmd(), a.listCmd(), a.retryCmd(), a.skipCmd(), a.cutNowCmd(), a.rescindCmd(), a.rescheduleCmd(), a.serveCmd(), a.hrCmd(), a.evidenceCmd(), a.watchCmd())
	return root
}

func (a *app) now() time.Time { return a.opts.Now() }

func (a *app) lookup(k string) (string, bool) { return a.opts.Env.LookupEnv(k) }

func (a *app) loadConfig() (*config.Config, error) {
	return config.Load(a.configPath, a.lookup, vendors.Connectors())
}

func vendorNames() string {
	names := make([]string, len(vendors.All))
	for i, v := range vendors.All {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// casesClient is a cases API over a client this command dialled.
type casesClient struct {
	*cases.Client
	tc client.Client
}

func (c casesClient) close() { c.tc.Close() }

// cases dials Temporal for a command that reads or changes cases. Such
// commands need only the TEMPORAL_* settings: whatever needs vendor
// credentials runs on a worker.
func (a *app) cases(ctx context.Context) (casesClient, error) {
	tc, err := a.dial(ctx)
	if err != nil {
		return casesClient{}, err
	}
	return casesClient{Client: cases.New(tc), tc: tc}, nil
}

// dial connects to Temporal with the standard TEMPORAL_* settings, failing
// within DialTimeout rather than hanging.
func (a *app) dial(ctx context.Context) (client.Client, error) {
	return a.dialWithLogger(ctx, slog.New(slog.DiscardHandler))
}

// dialWithLogger is dial with the SDK logging to log (the worker's log).
func (a *app) dialWithLogger(ctx context.Context, log *slog.Logger) (client.Client, error) {
	return cases.Dial(ctx, a.opts.Env, a.opts.DialTimeout, log)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (a *app) by(flag string) string {
	if flag != "" {
		return flag
	}
	if u, ok := a.lookup("USER"); ok && u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
