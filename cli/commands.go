package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/worker"
	"github.com/offboard/offboard/workflows"
)

func employeeArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s needs exactly one employee ID", cmd.Name())
	}
	return workflows.ValidateEmployeeID(args[0])
}

func (a *app) devCmd() *cobra.Command {
	var o devopts.Options
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything on this machine: Temporal + Web UI, a worker and vendor emulators",
		Example: `  offboard dev
  offboard dev --dir /tmp/offboard-demo --port 7234`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.opts.Dev == nil {
				return errors.New("this build of offboard has no embedded dev server")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return a.opts.Dev(ctx, o, cmd.OutOrStdout())
		},
	}
	o.Flags(cmd.Flags())
	return cmd
}

func (a *app) workerCmd() *cobra.Command {
	var noBootstrap bool
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker against the Temporal cluster in TEMPORAL_ADDRESS",
		Example: `  TEMPORAL_ADDRESS=temporal.internal:7233 offboard worker --config /etc/offboard.yaml
  offboard worker --no-bootstrap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			acts, err := worker.Activities(ctx, cfg)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			c, err := a.dialWithLogger(ctx, log)
			if err != nil {
				return err
			}
			defer c.Close()
			if !noBootstrap {
				opts, _ := cases.ClientOptions(a.opts.Env) // dial succeeded, so these load
				if err := worker.Bootstrap(ctx, c, opts.Namespace, log); err != nil {
					return err
				}
			}
			w := worker.New(c, acts, worker.Options())
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			worker.Warm(ctx, acts, log)
			fmt.Fprintf(cmd.OutOrStdout(), "worker polling task queue %s; Ctrl-C stops it\n", workflows.TaskQueue)
			<-ctx.Done()
			w.Stop()
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBootstrap, "no-bootstrap", false, "do not create the namespace, retention and search attributes")
	return cmd
}

func (a *app) terminateCmd() *cobra.Command {
	var pr printer
	var reason, mode, email, by, at, tz, file string
	cmd := &cobra.Command{
		Use:   "terminate <employee-id> | --file people.csv",
		Short: "Start (or return) the offboarding case for an employee, or for everyone in a layoff file",
		Example: `  offboard terminate E1001 --reason "last day 2027-01-04"
  offboard terminate E1001 --mode hostile --reason "access to be cut at once"
  offboard terminate E1001 --at "2027-01-04 17:00" --tz America/New_York
  offboard terminate E1001 -o json
  offboard terminate --file layoff.csv --reason "reduction in force"   # employeeId,effectiveAt,reason per row`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				if len(args) > 0 {
					return errors.New("give an employee ID or --file, not both")
				}
				return nil
			}
			return employeeArg(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if err := notBlank(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			if file != "" {
				if email != "" || at != "" {
					return errors.New("--email and --at are per person: put effective times in the file's second column")
				}
				f, err := openLayoff(file)
				if err != nil {
					return err
				}
				people, err := readLayoff(f, file, workflows.Input{Mode: workflows.Mode(mode), Reason: reason, RequestedBy: a.by(by), TimeZone: tz, Source: config.SourceCLI}, tz)
				f.Close()
				if err != nil {
					return err
				}
				c, err := a.cases(ctx)
				if err != nil {
					return err
				}
				defer c.close()
				sum := startLayoff(ctx, c, people, cmd.ErrOrStderr())
				if err := pr.print(cmd.OutOrStdout(), sum, func(w io.Writer) { printLayoff(w, sum) }); err != nil {
					return err
				}
				if sum.Failed > 0 {
					return fmt.Errorf("%d of %d: %w", sum.Failed, len(people), errLayoffFailed)
				}
				return nil
			}
			in := workflows.Input{EmployeeID: args[0], Email: email, Mode: workflows.Mode(mode), Reason: reason, RequestedBy: a.by(by), TimeZone: tz, Source: config.SourceCLI}
			if at != "" {
				t, err := parseAt(at, tz)
				if err != nil {
					return err
				}
				in.EffectiveAt = t
			}
			if err := in.Validate(); err != nil {
				return err
			}
			c, err := a.cases(ctx)
			if err != nil {
				return err
			}
			defer c.close()
			// A worker looks the person up first: an unknown employee
			// changes nothing.
			res, err := c.Start(ctx, in)
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), res, func(w io.Writer) { printStart(w, res, in, a.now()) })
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&mode, "mode", string(workflows.ModeStandard), "standard or hostile")
	cmd.Flags().StringVar(&email, "email", "", "work email, if the identity system should not be asked")
	cmd.Flags().StringVar(&by, "by", "", "who requests it (default $USER)")
	cmd.Flags().StringVar(&at, "at", "", `effective time: RFC 3339, or "2006-01-02 15:04" in --tz (default now)`)
	cmd.Flags().StringVar(&tz, "tz", "", "the person's time zone for --at, e.g. America/New_York (default UTC)")
	cmd.Flags().StringVar(&file, "file", "", "a layoff file (CSV: employee ID, optional effective time, optional reason; - for standard input): every row is checked before any case starts")
	return cmd
}

// show is a command that reads and prints: it checks the output format,
// dials Temporal, reads with fetch, and prints the result as text (with
// text) or JSON.
func show[T any](a *app, cmd *cobra.Command, pr *printer, fetch func(ctx context.Context, c casesClient) (T, error), text func(io.Writer, T)) error {
	if err := pr.validate(); err != nil {
		return err
	}
	c, err := a.cases(cmd.Context())
	if err != nil {
		return err
	}
	defer c.close()
	v, err := fetch(cmd.Context(), c)
	if err != nil {
		return err
	}
	return pr.print(cmd.OutOrStdout(), v, func(w io.Writer) { text(w, v) })
}

// notBlank refuses a --reason or --by that was given but says nothing.
func notBlank(cmd *cobra.Command) error {
	for _, name := range []string{"reason", "by"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			return fmt.Errorf("--%s is empty", name)
		}
	}
	return nil
}

// required marks a flag required, and says so in its usage.
func required(cmd *cobra.Command, name string) {
	_ = cmd.MarkFlagRequired(name)
	f := cmd.Flags().Lookup(name)
	f.Usage += " (required)"
}

// parseAt reads an effective time: RFC 3339, or a wall-clock time in zone.
func parseAt(at, zone string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		return t, nil
	}
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("time zone %q is unknown", zone)
		}
		loc = l
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", at, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf(`--at %q: want RFC 3339 (2006-01-02T15:04:05Z07:00) or "2006-01-02 15:04"`, at)
	}
	return t, nil
}

func (a *app) planCmd() *cobra.Command {
	var pr printer
	var email string
	cmd := &cobra.Command{
		Use:   "plan <employee-id>",
		Short: "Dry run: the accounts found and the steps that would run; writes nothing",
		Example: `  offboard plan E1001
  offboard plan E1001 -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) (workflows.Plan, error) {
				return c.Plan(ctx, connectors.Subject{EmployeeID: args[0], Email: email})
			}, printPlan)
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&email, "email", "", "work email, if the identity system should not be asked")
	return cmd
}

func (a *app) statusCmd() *cobra.Command {
	var pr printer
	cmd := &cobra.Command{
		Use:   "status <employee-id>",
		Short: "Show a case step by step",
		Example: `  offboard status E1001
  offboard status E1001 -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) (cases.Status, error) { return c.Status(ctx, args[0]) }, printStatus)
		},
	}
	pr.flag(cmd)
	return cmd
}

func (a *app) listCmd() *cobra.Command {
	var pr printer
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, newest first, optionally by state",
		Example: `  offboard list
  offboard list --state parked
  offboard list --state scheduled -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if state != "" && !slices.Contains(workflows.CaseStates, workflows.CaseState(state)) {
				return fmt.Errorf("state %q: want one of %v", state, workflows.CaseStates)
			}
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) ([]cases.Summary, error) { return c.List(ctx, state) }, printList)
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&state, "state", "", "only cases in this state: "+caseStates()+" (default all)")
	return cmd
}

func (a *app) retryCmd() *cobra.Command { return a.decisionCmd(workflows.ActionRetry) }

func (a *app) cutNowCmd() *cobra.Command  { return a.scheduleCmd(workflows.UpdateCutNow) }
func (a *app) rescindCmd() *cobra.Command { return a.scheduleCmd(workflows.UpdateRescind) }

func (a *app) scheduleCmd(name string) *cobra.Command {
	var pr printer
	var reason, by, requestID string
	short := "Start a scheduled case's cut now"
	example := `  offboard cut-now E1001 --reason "HR moved the last day up"
  offboard cut-now E1001 --reason "moved up" -o json`
	if name == workflows.UpdateRescind {
		short = "End a scheduled case before anything is cut"
		example = `  offboard rescind E1001 --reason "resignation withdrawn"
  offboard rescind E1001 --reason "resignation withdrawn" --by hr-lead -o json`
	}
	cmd := &cobra.Command{
		Use:     name + " <employee-id>",
		Short:   short,
		Example: example,
		Args:    employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if err := notBlank(cmd); err != nil {
				return err
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			req := workflows.ScheduleRequest{Reason: reason, By: a.by(by), RequestID: requestID}
			do := c.CutNow
			if name == workflows.UpdateRescind {
				do = c.Rescind
			}
			res, err := do(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			out := decisionOutput{CaseID: workflows.WorkflowID(args[0]), DecisionResult: res}
			return pr.print(cmd.OutOrStdout(), out, func(w io.Writer) { printDecision(w, name, out.CaseID, req.By, res.At) })
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&requestID, "request-id", "", "makes repeating this command safe (default: a new ID)")
	if name == workflows.UpdateRescind {
		required(cmd, "reason")
	}
	return cmd
}

func (a *app) rescheduleCmd() *cobra.Command {
	var pr printer
	var at, tz, reason, by, requestID string
	cmd := &cobra.Command{
		Use:   "reschedule <employee-id> --at <time>",
		Short: "Move a scheduled case's effective time",
		Example: `  offboard reschedule E1005 --at "2027-01-08 17:00" --tz Europe/Berlin --reason "notice period extended"
  offboard reschedule E1005 --at 2027-01-08T16:00:00Z -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if err := notBlank(cmd); err != nil {
				return err
			}
			t, err := parseAt(at, tz)
			if err != nil {
				return err
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			req := workflows.RescheduleRequest{EffectiveAt: t, TimeZone: tz, Reason: reason, By: a.by(by), RequestID: requestID}
			res, err := c.Reschedule(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			out := decisionOutput{CaseID: workflows.WorkflowID(args[0]), DecisionResult: res}
			return pr.print(cmd.OutOrStdout(), out, func(w io.Writer) {
				printDecision(w, workflows.UpdateReschedule, out.CaseID, req.By, res.At)
				para(w, "", 2, "the cut now waits until "+when(t))
			})
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&at, "at", "", `new effective time: RFC 3339, or "2006-01-02 15:04" in --tz`)
	cmd.Flags().StringVar(&tz, "tz", "", "the person's time zone for --at, e.g. Europe/Berlin (default UTC)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&requestID, "request-id", "", "makes repeating this command safe (default: a new ID)")
	required(cmd, "at")
	return cmd
}

func (a *app) skipCmd() *cobra.Command { return a.decisionCmd(workflows.ActionSkip) }

func (a *app) decisionCmd(action string) *cobra.Command {
	var pr printer
	var step, reason, by, requestID string
	short := "Run a parked step again"
	example := `  offboard retry E1001 --step okta.suspend --reason "granted the API token the role"
  offboard retry E1001 --step github.remove-membership/acme -o json`
	if action == workflows.ActionSkip {
		short = "Give up on a parked step, with a reason"
		example = `  offboard skip E1001 --step okta.reset-factors --reason "factors are managed by the MDM"
  offboard skip E1001 --step okta.reset-factors --reason "managed by the MDM" --by sec-lead -o json`
	}
	cmd := &cobra.Command{
		Use:     action + " <employee-id> --step <id>",
		Short:   short,
		Example: example,
		Args:    employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if err := notBlank(cmd); err != nil {
				return err
			}
			req := workflows.DecideStepRequest{Step: step, Action: action, Reason: reason, By: a.by(by), RequestID: requestID}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			res, err := c.Decide(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			out := decisionOutput{CaseID: workflows.WorkflowID(args[0]), DecisionResult: res}
			what := safe(res.Action) + " of " + safe(res.Step)
			return pr.print(cmd.OutOrStdout(), out, func(w io.Writer) { printDecision(w, what, out.CaseID, req.By, res.At) })
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&step, "step", "", "step ID, as offboard status shows it")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&requestID, "request-id", "", "makes repeating this command safe (default: a new ID)")
	required(cmd, "step")
	if action == workflows.ActionSkip {
		required(cmd, "reason")
	}
	return cmd
}

// caseStates lists the states list --state takes, for its help.
func caseStates() string {
	names := make([]string, len(workflows.CaseStates))
	for i, s := range workflows.CaseStates {
		names[i] = string(s)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
