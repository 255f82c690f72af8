// Package worker builds connectors from config, registers the workflows and
// activities, and prepares a namespace. `offboard worker` and `offboard dev`
// both run it; against a real cluster, run as many workers as you like.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/slackapp"
	"github.com/offboard/offboard/workflows"
)

// MinRetention is how long closed cases stay in Temporal at least.
const MinRetention = 30 * 24 * time.Hour

// Connectors builds a connector for every system in cfg.
func Connectors(ctx context.Context, cfg *config.Config) ([]connectors.Connector, error) {
	out := make([]connectors.Connector, 0, len(cfg.Systems))
	for _, sys := range cfg.Systems {
		c, err := sys.Section.Connector(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sys.Vendor.Name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Activities builds the activities over cfg's connectors.
func Activities(ctx context.Context, cfg *config.Config) (*activities.Activities, error) {
	if cfg.Empty() {
		return nil, errors.New("no vendor system is configured: write offboard.yaml or set OFFBOARD_CONFIG (see the README)")
	}
	conns, err := Connectors(ctx, cfg)
	if err != nil {
		return nil, err
	}
	acts, err := activities.New(cfg.Identity, conns...)
	if err != nil {
		return nil, err
	}
	budgets := map[string]*connectors.Budget{}
	for _, sys := range cfg.Systems {
		if budgets[sys.Vendor.Name], err = cfg.Budget(sys); err != nil {
			return nil, fmt.Errorf("budgets.%s: %w", sys.Vendor.Name, err)
		}
	}
	activities.WithBudgets(acts, budgets)
	col, err := Collector(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if col != nil {
		activities.WithEvidence(acts, col)
	}
	if wt := cfg.Watch; wt != nil {
		activities.WithWatch(acts, &activities.WatchPolicy{Days: wt.Days, PollInterval: wt.PollInterval, Rechecks: wt.Rechecks, Escalate: wt.Escalate})
	}
	app, err := slackapp.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("slack app: %w", err)
	}
	if app == nil {
		return acts, nil
	}
	// Refuse to start on a policy Slack contradicts (a public approvals
	// channel), before any case could post there.
	if err := app.Check(ctx); err != nil {
		return nil, fmt.Errorf("slack app: %w", err)
	}
	return activities.WithNotifier(acts, app), nil
}

// New returns a worker on the offboarding task queue with everything
// registered. Run it with Start/Stop or Run.
func New(c client.Client, acts *activities.Activities, opts sdkworker.Options) sdkworker.Worker {
	LimitCache()
	w := sdkworker.New(c, workflows.TaskQueue, opts)
	cs := cases.New(c)
	// New terminations are checked against the open watches' indicators.
	activities.WithWatches(acts, cs)
	// Writes to resources every case shares (AWS's kill-switch policies)
	// go through one workflow a resource, so none is lost to a race.
	activities.RouteShared(acts, cs.SharedRouter)
	Register(w, acts)
	return w
}

// WarmTimeout bounds the warm-up's reads (Warm).
const WarmTimeout = time.Minute

// Warm starts the connectors' warm-up (activities.Warm) beside the worker,
// and logs its failure: a case will meet the same error and report it. It
// does not wait.
func Warm(ctx context.Context, acts *activities.Activities, log *slog.Logger) {
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), WarmTimeout)
		defer cancel()
		if err := acts.Warm(ctx); err != nil {
			log.Warn("warm-up failed; cases will read for themselves", "error", err)
		}
	}()
}

// CacheSize is how many workflows a worker process keeps in memory between
// tasks (the SDK's default is 10,000). Open cases mostly wait, for their
// effective time, an operator or the watch's next poll: keeping every one
// would grow the process by a few hundred KB a case, while a case that
// wakes up out of the cache replays its history, which is short.
const CacheSize = 256

var cacheOnce sync.Once

// LimitCache sets the process's workflow cache to CacheSize. The cache is
// made by the first worker of the process and shared by all, so a process
// that embeds the Temporal server (whose own system workers use the same
// SDK) calls it before the server starts.
func LimitCache() { cacheOnce.Do(func() { sdkworker.SetStickyWorkflowCacheSize(CacheSize) }) }

// Options are the worker settings `offboard worker` and `offboard dev`
// share. On stop, in-flight steps get time to finish and report, so a
// restart does not wait out their timeouts.
func Options() sdkworker.Options {
	return sdkworker.Options{WorkerStopTimeout: 10 * time.Second}
}

// Register registers the workflows and activities on any registry (a
// worker, a replayer, a test environment).
func Register(r interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivity(any)
}, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: workflows.OffboardingName})
	r.RegisterWorkflowWithOptions(workflows.DryRun, workflow.RegisterOptions{Name: workflows.PlanName})
	r.RegisterWorkflowWithOptions(workflows.StartFromEvent, workflow.RegisterOptions{Name: workflows.EventName})
	r.RegisterWorkflowWithOptions(workflows.Watch, workflow.RegisterOptions{Name: workflows.WatchName})
	r.RegisterWorkflowWithOptions(workflows.SharedResource, workflow.RegisterOptions{Name: workflows.SharedName})
	if acts != nil {
		r.RegisterActivity(acts)
	}
}

// Bootstrap makes a namespace ready: it exists, keeps closed cases at least
// MinRetention, and has offboard's search attributes. It is idempotent and
// runs against the embedded server and real clusters alike (Temporal Cloud
// manages namespaces itself; there, create them beforehand).
func Bootstrap(ctx context.Context, c client.Client, namespace string, log *slog.Logger) error {
	ws := c.WorkflowService()
	desc, err := ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound):
		_, err = ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(MinRetention),
		})
		if err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("register namespace %s: %w", namespace, err)
		}
		if err := awaitNamespace(ctx, ws, namespace); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("describe namespace %s: %w", namespace, err)
	default:
		if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() < MinRetention {
			_, err = ws.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
				Namespace: namespace,
				Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(MinRetention)},
			})
			if err != nil {
				return fmt.Errorf("set retention on %s: %w", namespace, err)
			}
			log.Info("namespace retention raised", "namespace", namespace, "retention", MinRetention)
		}
	}
	attrs, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes() {
		have, ok := attrs.GetCustomAttributes()[name]
		if !ok {
			missing[name] = typ
		} else if have != typ {
			return fmt.Errorf("search attribute %s exists with type %s, offboard needs %s", name, have, typ)
		}
	}
	if len(missing) > 0 {
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
		if err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("add search attributes: %w", err)
		}
	}
	return nil
}

// awaitNamespace waits until a namespace just registered can be used: the
// frontend learns of it from its namespace cache, which refreshes every
// few seconds, and until then a worker's start fails with "Namespace ...
// is not found".
func awaitNamespace(ctx context.Context, ws workflowservice.WorkflowServiceClient, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, namespaceWait)
	defer cancel()
	for {
		_, err := ws.DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: workflows.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		})
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s was registered but is still not usable after %s", namespace, namespaceWait)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// namespaceWait bounds awaitNamespace.
const namespaceWait = 30 * time.Second

func isAlreadyExists(err error) bool {
	var ae *serviceerror.AlreadyExists
	var ne *serviceerror.NamespaceAlreadyExists
	return errors.As(err, &ae) || errors.As(err, &ne)
}
