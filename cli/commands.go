package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/offboard/offboard/cases"
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
		Args:  cobra.NoArgs,
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
		Args:  cobra.NoArgs,
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
	var reason, mode, email, by, at, tz string
	cmd := &cobra.Command{
		Use:   "terminate <employee-id>",
		Short: "Start (or return) the offboarding case for an employee",
		Args:  employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			in := workflows.Input{EmployeeID: args[0], Email: email, Mode: workflows.Mode(mode), Reason: reason, RequestedBy: a.by(by), TimeZone: tz}
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
			out := cmd.OutOrStdout()
			switch {
			case res.Started && !in.EffectiveAt.IsZero():
				fmt.Fprintf(out, "case %s started; the cut waits until %s\n", res.CaseID, when(in.EffectiveAt))
			case res.Started:
				fmt.Fprintf(out, "case %s started\n", res.CaseID)
			default:
				fmt.Fprintf(out, "case %s already exists (%s)\n", res.CaseID, res.State)
			}
			fmt.Fprintf(out, "follow it with: offboard status %s\n", res.EmployeeID)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&mode, "mode", string(workflows.ModeStandard), "standard or hostile")
	cmd.Flags().StringVar(&email, "email", "", "work email, if the identity system should not be asked")
	cmd.Flags().StringVar(&by, "by", "", "who requests it (default $USER)")
	cmd.Flags().StringVar(&at, "at", "", `effective time: RFC 3339, or "2006-01-02 15:04" in --tz (default now)`)
	cmd.Flags().StringVar(&tz, "tz", "", "the person's time zone for --at, e.g. America/New_York (default UTC)")
	return cmd
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
		Args:  employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			p, err := c.Plan(cmd.Context(), connectors.Subject{EmployeeID: args[0], Email: email})
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), p, func(w io.Writer) {
				fmt.Fprintf(w, "Plan for %s (dry run; nothing was changed)\n\n", p.EmployeeID)
				var rows [][]string
				for _, s := range p.Systems {
					if !s.Found {
						rows = append(rows, []string{s.System, "-", "no account: no steps", ""})
						continue
					}
					for i, st := range s.Steps {
						acct := ""
						if i == 0 {
							acct = s.Account.ID + " (" + dash(s.Account.Status) + ")"
						}
						rows = append(rows, []string{s.System, st.ID, st.Description, brief(st.Targets, 3), acct})
					}
				}
				table(w, []string{"SYSTEM", "STEP", "WHAT", "TARGETS", "ACCOUNT"}, rows)
			})
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
		Args:  employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			st, err := c.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), st, func(w io.Writer) { printStatus(w, st) })
		},
	}
	pr.flag(cmd)
	return cmd
}

func printStatus(w io.Writer, st cases.Status) {
	fmt.Fprintf(w, "Case %s: %s (mode %s, requested by %s, started %s", st.CaseID, st.State, st.Mode, st.RequestedBy, when(st.StartedAt))
	if !st.FinishedAt.IsZero() {
		fmt.Fprintf(w, ", finished %s", when(st.FinishedAt))
	}
	fmt.Fprintln(w, ")")
	if st.RunID != "" {
		fmt.Fprintf(w, "Run: %s\n", st.RunID)
	}
	if st.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", st.Reason)
	}
	if st.Error != "" {
		fmt.Fprintf(w, "Failed: %s\n", st.Error)
	}
	fmt.Fprintln(w)
	var rows [][]string
	for _, s := range st.Steps {
		state := string(s.State)
		if s.Result != "" {
			state += " (" + s.Result + ")"
		}
		last := s.LastError
		if s.ErrorKind != "" && !strings.Contains(last, s.ErrorKind) {
			last = s.ErrorKind + ": " + last
		}
		if s.State == workflows.StepSkipped {
			last = "skipped by " + s.SkippedBy + ": " + s.SkipReason
		}
		rows = append(rows, []string{s.System, s.ID, state, strconv.Itoa(s.Attempts), dash(last), when(s.VerifiedAt)})
	}
	table(w, []string{"SYSTEM", "STEP", "STATE", "ATTEMPTS", "LAST ERROR", "VERIFIED AT"}, rows)
	if len(st.Decisions) > 0 {
		fmt.Fprintln(w, "\nDecisions:")
		for _, d := range st.Decisions {
			fmt.Fprintf(w, "  %s  %s %s by %s: %s\n", when(d.At), d.Action, d.Step, d.By, dash(d.Reason))
		}
	}
	if parked := st.ParkedSteps(); len(parked) > 0 {
		fmt.Fprintf(w, "\nParked: %s. Fix the cause, then: offboard retry %s --step <id>  (or skip --reason)\n", strings.Join(parked, ", "), st.EmployeeID)
	}
	if len(st.EarlierRuns) > 0 {
		fmt.Fprintf(w, "\nThis is the latest of %d runs for employee %s. Earlier runs:\n", len(st.EarlierRuns)+1, st.EmployeeID)
		for _, r := range st.EarlierRuns {
			fmt.Fprintf(w, "  %s  %s, started %s, closed %s\n", r.RunID, r.Status, when(r.StartedAt), when(r.ClosedAt))
		}
	}
}

func (a *app) listCmd() *cobra.Command {
	var pr printer
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, newest first, optionally by state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if state != "" && !slices.Contains(workflows.CaseStates, workflows.CaseState(state)) {
				return fmt.Errorf("state %q: want one of %v", state, workflows.CaseStates)
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			list, err := c.List(cmd.Context(), state)
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), list, func(w io.Writer) {
				if len(list) == 0 {
					fmt.Fprintln(w, "no cases")
					return
				}
				var rows [][]string
				for _, cs := range list {
					rows = append(rows, []string{cs.CaseID, dash(cs.State), dash(strings.Join(cs.ParkedSteps, ",")), cs.Status, when(cs.StartedAt), when(cs.ClosedAt)})
				}
				table(w, []string{"CASE", "STATE", "PARKED", "WORKFLOW", "STARTED", "CLOSED"}, rows)
			})
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&state, "state", "", "scheduled, running, parked, done, failed, rescinded or cancelled")
	return cmd
}

func (a *app) retryCmd() *cobra.Command { return a.decisionCmd(workflows.ActionRetry) }

func (a *app) cutNowCmd() *cobra.Command  { return a.scheduleCmd(workflows.UpdateCutNow) }
func (a *app) rescindCmd() *cobra.Command { return a.scheduleCmd(workflows.UpdateRescind) }

func (a *app) scheduleCmd(name string) *cobra.Command {
	var reason, by, requestID string
	short := "Start a scheduled case's cut now"
	if name == workflows.UpdateRescind {
		short = "End a scheduled case before anything is cut"
	}
	cmd := &cobra.Command{
		Use:   name + " <employee-id>",
		Short: short,
		Args:  employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s recorded for case %s by %s at %s\n", name, workflows.WorkflowID(args[0]), req.By, when(res.At))
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&requestID, "request-id", "", "makes repeating this command safe (default: a new ID)")
	if name == workflows.UpdateRescind {
		_ = cmd.MarkFlagRequired("reason")
	}
	return cmd
}
func (a *app) skipCmd() *cobra.Command { return a.decisionCmd(workflows.ActionSkip) }

func (a *app) decisionCmd(action string) *cobra.Command {
	var step, reason, by, requestID string
	short := "Run a parked step again"
	if action == workflows.ActionSkip {
		short = "Give up on a parked step, with a reason"
	}
	cmd := &cobra.Command{
		Use:   action + " <employee-id> --step <id>",
		Short: short,
		Args:  employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s of %s recorded for case %s by %s at %s\n", res.Action, res.Step, workflows.WorkflowID(args[0]), req.By, when(res.At))
			return nil
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "step ID, as `offboard status` shows it")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the case)")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&requestID, "request-id", "", "makes repeating this command safe (default: a new ID)")
	_ = cmd.MarkFlagRequired("step")
	if action == workflows.ActionSkip {
		_ = cmd.MarkFlagRequired("reason")
	}
	return cmd
}
