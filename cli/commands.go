package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
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
	var o DevOptions
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
	cmd.Flags().StringVar(&o.DB, "db", ".offboard/temporal.db", "SQLite file holding Temporal's state")
	cmd.Flags().StringVar(&o.Dir, "dir", ".offboard", "directory for the dev config, logs and emulator state")
	cmd.Flags().IntVar(&o.Port, "port", 7233, "Temporal frontend port")
	cmd.Flags().IntVar(&o.UIPort, "ui-port", 8233, "Temporal Web UI port")
	cmd.Flags().IntVar(&o.OktaPort, "okta-port", 8801, "Okta emulator port")
	cmd.Flags().IntVar(&o.GitHubPort, "github-port", 8802, "GitHub emulator port")
	cmd.Flags().IntVar(&o.SlackPort, "slack-port", 8803, "Slack emulator port")
	cmd.Flags().IntVar(&o.AWSPort, "aws-port", 8804, "AWS emulator port (IAM, STS, Identity Center, CloudTrail)")
	cmd.Flags().IntVar(&o.GooglePort, "google-port", 8805, "Google Workspace emulator port")
	cmd.Flags().StringVar(&o.Seed, "seed", "", "demo org fixture (default: the built-in demo)")
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
				opts, _ := a.clientOptions() // dial succeeded, so these load
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
			// Check the person exists before anything is written: an unknown
			// employee must change nothing.
			if err := a.checkEmployee(ctx, in); err != nil {
				return err
			}
			c, err := a.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := Start(ctx, c, in)
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
			fmt.Fprintf(out, "follow it with: offboard status %s\n", in.EmployeeID)
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

// StartResult says what Start did.
type StartResult struct {
	CaseID  string
	RunID   string
	Started bool
	State   string
}

// Start starts the offboarding workflow, or returns the case that already
// exists: an open one (USE_EXISTING) or a completed one (a completed case is
// never repeated by accident; a failed one may be started again).
func Start(ctx context.Context, c client.Client, in workflows.Input) (StartResult, error) {
	id := workflows.WorkflowID(in.EmployeeID)
	res := StartResult{CaseID: id}
	if d, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		res.RunID = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		res.State = "open"
		return res, nil
	}
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// Without this the SDK hands back a closed run as if it had started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(workflows.SAState.ValueSet(string(workflows.CaseRunning))),
	}
	if !in.EffectiveAt.IsZero() {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(workflows.SAState.ValueSet(string(workflows.CaseRunning)), workflows.SAEffectiveAt.ValueSet(in.EffectiveAt))
	}
	run, err := c.ExecuteWorkflow(ctx, opts, workflows.OffboardingName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		d, derr := c.DescribeWorkflowExecution(ctx, id, "")
		if derr != nil {
			return res, fmt.Errorf("case %s exists but cannot be read: %w", id, derr)
		}
		res.RunID = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		res.State = "closed: " + strings.ToLower(strings.TrimPrefix(d.GetWorkflowExecutionInfo().GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("start case %s: %w", id, err)
	}
	res.RunID, res.Started = run.GetRunID(), true
	return res, nil
}

// checkEmployee resolves the employee in the identity system, when one is
// configured here, so an unknown ID is refused before anything starts.
func (a *app) checkEmployee(ctx context.Context, in workflows.Input) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Empty() {
		return nil // the workers hold the vendor credentials; they will check
	}
	acts, err := worker.Activities(ctx, cfg)
	if err != nil {
		return err
	}
	p, err := DryRun(ctx, acts, connectors.Subject{EmployeeID: in.EmployeeID, Email: in.Email, Overrides: in.Overrides}, true)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(p.Systems, func(s SystemPlan) bool { return s.Found }) {
		return fmt.Errorf("unknown employee %s: no account in %s", in.EmployeeID, strings.Join(p.systemNames(), ", "))
	}
	return nil
}

// SystemPlan is one system in a dry run.
type SystemPlan struct {
	System  string              `json:"system"`
	Found   bool                `json:"found"`
	Account *connectors.Account `json:"account,omitempty"`
	Steps   []connectors.Step   `json:"steps,omitempty"`
}

// Plan is what `offboard plan` shows.
type Plan struct {
	EmployeeID string       `json:"employeeId"`
	Systems    []SystemPlan `json:"systems"`
}

func (p Plan) systemNames() []string {
	var out []string
	for _, s := range p.Systems {
		out = append(out, s.System)
	}
	return out
}

// DryRun resolves and plans every system with the same activities the
// workflow runs, in the same order (identity first), without writing
// anything. With existsOnly it only resolves, and stops at the first system
// that knows the person.
func DryRun(ctx context.Context, acts *activities.Activities, subject connectors.Subject, existsOnly bool) (Plan, error) {
	p := Plan{EmployeeID: subject.EmployeeID}
	systems, _ := acts.Systems(ctx)
	for _, sys := range systems.Systems {
		res, err := acts.Resolve(ctx, activities.ResolveInput{System: sys, Subject: subject})
		if err != nil {
			return p, fmt.Errorf("resolve in %s: %s", sys, activityMessage(err))
		}
		sp := SystemPlan{System: sys, Found: res.Found}
		if res.Found {
			acc := res.Account
			sp.Account = &acc
			if existsOnly {
				p.Systems = append(p.Systems, sp)
				return p, nil
			}
			if sys == systems.Identity {
				subject = subject.WithAccount(acc)
			}
			steps, err := acts.Plan(ctx, activities.PlanInput{Account: acc})
			if err != nil {
				return p, fmt.Errorf("plan %s: %s", sys, activityMessage(err))
			}
			sp.Steps = steps
		}
		p.Systems = append(p.Systems, sp)
	}
	return p, nil
}

func activityMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
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
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			acts, err := worker.Activities(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			p, err := DryRun(cmd.Context(), acts, connectors.Subject{EmployeeID: args[0], Email: email}, false)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(p.Systems, func(s SystemPlan) bool { return s.Found }) {
				return fmt.Errorf("unknown employee %s: no account in %s", args[0], strings.Join(p.systemNames(), ", "))
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

func (a *app) status(ctx context.Context, c client.Client, employeeID string) (workflows.Status, error) {
	var st workflows.Status
	v, err := c.QueryWorkflow(ctx, workflows.WorkflowID(employeeID), "", workflows.QueryStatus)
	if err != nil {
		return st, noCase(employeeID, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("read status of %s: %w", workflows.WorkflowID(employeeID), err)
	}
	return st, nil
}

func noCase(employeeID string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no case for employee %s (no workflow %s)", employeeID, workflows.WorkflowID(employeeID))
	}
	return fmt.Errorf("case %s: %s", workflows.WorkflowID(employeeID), rootCause(err))
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
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := a.status(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), st, func(w io.Writer) { printStatus(w, st) })
		},
	}
	pr.flag(cmd)
	return cmd
}

func printStatus(w io.Writer, st workflows.Status) {
	fmt.Fprintf(w, "Case %s: %s (mode %s, requested by %s, started %s", st.CaseID, st.State, st.Mode, st.RequestedBy, when(st.StartedAt))
	if !st.FinishedAt.IsZero() {
		fmt.Fprintf(w, ", finished %s", when(st.FinishedAt))
	}
	fmt.Fprintln(w, ")")
	if st.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", st.Reason)
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
}

// CaseSummary is one row of `offboard list`.
type CaseSummary struct {
	CaseID      string   `json:"caseId"`
	State       string   `json:"state"`
	ParkedSteps []string `json:"parkedSteps,omitempty"`
	Status      string   `json:"workflowStatus"`
	StartedAt   string   `json:"startedAt"`
	ClosedAt    string   `json:"closedAt,omitempty"`
}

func (a *app) listCmd() *cobra.Command {
	var pr printer
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, optionally by state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			query := fmt.Sprintf("WorkflowType = '%s'", workflows.OffboardingName)
			if state != "" {
				if !slices.Contains(workflows.CaseStates, workflows.CaseState(state)) {
					return fmt.Errorf("state %q: want one of %v", state, workflows.CaseStates)
				}
				query += fmt.Sprintf(" AND %s = '%s'", workflows.SAState.GetName(), state)
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			var cases []CaseSummary
			var token []byte
			for {
				resp, err := c.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
				if err != nil {
					return fmt.Errorf("list cases: %s", rootCause(err))
				}
				for _, e := range resp.GetExecutions() {
					cs := CaseSummary{
						CaseID:    e.GetExecution().GetWorkflowId(),
						Status:    strings.ToLower(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
						StartedAt: when(e.GetStartTime().AsTime()),
					}
					if e.GetCloseTime() != nil {
						cs.ClosedAt = when(e.GetCloseTime().AsTime())
					}
					fields := e.GetSearchAttributes().GetIndexedFields()
					if p, ok := fields[workflows.SAState.GetName()]; ok {
						_ = converter.GetDefaultDataConverter().FromPayload(p, &cs.State)
					}
					if p, ok := fields[workflows.SAParkedSteps.GetName()]; ok {
						_ = converter.GetDefaultDataConverter().FromPayload(p, &cs.ParkedSteps)
					}
					cases = append(cases, cs)
				}
				token = resp.GetNextPageToken()
				if len(token) == 0 {
					break
				}
			}
			return pr.print(cmd.OutOrStdout(), cases, func(w io.Writer) {
				if len(cases) == 0 {
					fmt.Fprintln(w, "no cases")
					return
				}
				var rows [][]string
				for _, cs := range cases {
					rows = append(rows, []string{cs.CaseID, dash(cs.State), dash(strings.Join(cs.ParkedSteps, ",")), cs.Status, cs.StartedAt, dash(cs.ClosedAt)})
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
			if requestID == "" {
				requestID = newRequestID()
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			req := workflows.ScheduleRequest{Reason: reason, By: a.by(by), RequestID: requestID}
			res, err := update(cmd.Context(), c, args[0], name, requestID, req)
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
			if requestID == "" {
				requestID = newRequestID()
			}
			req := workflows.ResolveStepRequest{Step: step, Action: action, Reason: reason, By: a.by(by), RequestID: requestID}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := ResolveStep(cmd.Context(), c, args[0], req)
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

// ResolveStep sends the resolve-step Update and waits for it to be applied.
// The request ID is the Update ID, so repeating a request is harmless.
func ResolveStep(ctx context.Context, c client.Client, employeeID string, req workflows.ResolveStepRequest) (workflows.ResolveStepResult, error) {
	res, err := update(ctx, c, employeeID, workflows.UpdateResolveStep, req.RequestID, req)
	if err != nil && !errors.Is(err, errNoCase) {
		return res, fmt.Errorf("cannot %s %s: %w", req.Action, req.Step, err)
	}
	return res, err
}

// errNoCase marks an Update sent to an employee with no case.
var errNoCase = errors.New("no case")

// update sends a workflow Update and waits for it to be applied. The request
// ID is the Update ID, so repeating a request is harmless.
func update(ctx context.Context, c client.Client, employeeID, name, requestID string, arg any) (workflows.ResolveStepResult, error) {
	var res workflows.ResolveStepResult
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     requestID,
		WorkflowID:   workflows.WorkflowID(employeeID),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return res, noCaseError{noCase(employeeID, err)}
		}
		return res, errors.New(activityMessage(err))
	}
	return res, nil
}

type noCaseError struct{ error }

func (noCaseError) Is(target error) bool { return target == errNoCase }

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
