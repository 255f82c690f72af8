package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/indicators"
	"github.com/offboard/offboard/worker"
	"github.com/offboard/offboard/workflows"
)

func (a *app) watchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "The watch after a cut: status, list, indicators, reports of extortion, the incident packet, close",
	}
	cmd.AddCommand(a.watchStatusCmd(), a.watchListCmd(), a.watchCloseCmd(), a.watchAddIndicatorCmd(), a.watchReportCmd(), a.watchExportCmd())
	return cmd
}

func (a *app) watchStatusCmd() *cobra.Command {
	var pr printer
	cmd := &cobra.Command{
		Use:   "status <employee-id>",
		Short: "A watch's state, rechecks, alerts with their evidence, reports and indicators",
		Example: `  offboard watch status E1001
  offboard watch status E1001 -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) (workflows.WatchStatus, error) { return c.Watch(ctx, args[0]) }, printWatch)
		},
	}
	pr.flag(cmd)
	return cmd
}

func printWatch(w io.Writer, st workflows.WatchStatus) {
	para(w, "", 2, fmt.Sprintf("Watch %s (case %s): %s", safe(st.WatchID), safe(st.CaseID), strings.ToUpper(safe(st.State))))
	para(w, "", 2, fmt.Sprintf("Until %s; rechecks done %d, next %s; last poll %s", when(st.Until), st.Rechecked, when(st.NextRecheck), when(st.LastPoll)))
	if st.State == workflows.WatchClosed {
		para(w, "", 2, fmt.Sprintf("Closed %s by %s: %s", when(st.ClosedAt), safe(dash(st.ClosedBy)), safe(st.CloseReason)))
	}
	for _, s := range st.Incomplete {
		labelled(w, 0, "not read: ", safe(s), 0)
	}
	for _, s := range st.Unverified {
		labelled(w, 0, "not verified: ", safe(s), 0)
	}
	if len(st.Alerts) > 0 {
		fmt.Fprintln(w)
		para(w, "", 2, fmt.Sprintf("Alerts (%d):", st.Alerted))
		for _, al := range st.Alerts {
			labelled(w, 2, fmt.Sprintf("%d. %s %s: ", al.ID, when(al.At), safe(al.Kind)), safe(al.Message), 0)
			for _, e := range al.Events {
				para(w, "       ", 9, when(e.Time)+" "+safe(e.System)+" "+safe(eventLine(e)))
			}
			if al.Bundle != "" {
				para(w, "       ", 9, "evidence "+safe(al.Bundle)+" (manifest SHA-256 "+safe(al.Digest)+")")
			}
			if len(al.Paged) > 0 {
				para(w, "       ", 9, "paged "+strings.Join(safeAll(al.Paged), ", "))
			}
			if al.PostError != "" {
				para(w, "       ", 9, "not posted to Slack: "+safe(al.PostError))
			}
		}
	}
	for _, r := range st.Reports {
		fmt.Fprintln(w)
		printReport(w, r)
	}
	if !st.Indicators.Empty() {
		fmt.Fprintln(w)
		para(w, "", 2, "Indicators watched:")
		printIndicators(w, st.Indicators)
	}
}

func eventLine(e evidence.Event) string {
	s := e.Action
	for _, x := range []string{e.Target, e.Outcome, e.SourceIP, e.Credential} {
		if x != "" {
			s += " " + x
		}
	}
	return s
}

func printReport(w io.Writer, r workflows.WatchReport) {
	para(w, "", 2, fmt.Sprintf("Report %d: %s, %s by %s", r.ID, safe(r.Kind), when(r.At), safe(r.By)))
	if r.Note != "" {
		labelled(w, 2, "note: ", safe(r.Note), 0)
	}
	para(w, "  ", 4, fmt.Sprintf("message SHA-256 %s (%d bytes), sealed in %s (manifest SHA-256 %s)", safe(r.SHA256), r.Size, safe(r.Bundle), safe(r.Digest)))
	printIndicators(w, r.Indicators)
	for _, m := range r.Matches {
		labelled(w, 2, "match: ", safe(m.Summary), 0)
	}
	if r.SnapshotError != "" {
		labelled(w, 2, "snapshot: ", safe(r.SnapshotError), 0)
	}
}

func printIndicators(w io.Writer, in indicators.Indicators) {
	var wallets []string
	for _, x := range in.Wallets {
		wallets = append(wallets, x.Chain+" "+x.Address)
	}
	for _, l := range []struct {
		label string
		items []string
	}{{"emails", in.Emails}, {"IPs", in.IPs}, {"wallets", wallets}, {"GitHub logins", in.GitHubLogins}, {"URLs", in.URLs}, {"repositories", in.Repos}, {"files", in.Files}} {
		if len(l.items) > 0 {
			labelled(w, 2, l.label+": ", strings.Join(safeAll(l.items), ", "), 0)
		}
	}
}

func (a *app) watchListCmd() *cobra.Command {
	var pr printer
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List watches, newest first, optionally by state",
		Example: `  offboard watch list
  offboard watch list --state extortion -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if state != "" && !slices.Contains(workflows.WatchStates, state) {
				return fmt.Errorf("state %q: want one of %s", state, strings.Join(workflows.WatchStates, ", "))
			}
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) ([]cases.WatchSummary, error) { return c.Watches(ctx, state) }, printWatches)
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&state, "state", "", "only watches in this state: "+strings.Join(workflows.WatchStates, ", ")+" (default all)")
	return cmd
}

func printWatches(w io.Writer, list []cases.WatchSummary) {
	if len(list) == 0 {
		para(w, "", 2, "No watches.")
		return
	}
	rows := make([][]string, 0, len(list))
	for _, s := range list {
		rows = append(rows, []string{safe(s.WatchID), safe(dash(s.State)), when(s.StartedAt), when(s.ClosedAt)})
	}
	table(w, []string{"WATCH", "STATE", "STARTED", "CLOSED"}, rows)
}

func (a *app) watchCloseCmd() *cobra.Command {
	var pr printer
	var reason, by string
	cmd := &cobra.Command{
		Use:     "close <employee-id>",
		Short:   "End a watch before its days are over; who and why are recorded",
		Example: `  offboard watch close E1001 --reason "counsel closed the matter"`,
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
			req := workflows.CloseWatchRequest{By: a.by(by), Reason: reason}
			res, err := c.CloseWatch(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			id := workflows.WatchID(args[0])
			out := struct {
				WatchID string `json:"watchId"`
				workflows.DecisionResult
			}{id, res}
			return pr.print(cmd.OutOrStdout(), out, func(w io.Writer) {
				para(w, "", 2, fmt.Sprintf("watch %s closed by %s at %s: %s", safe(id), safe(req.By), when(res.At), safe(reason)))
			})
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the watch)")
	cmd.Flags().StringVar(&by, "by", "", "who closes it (default $USER)")
	required(cmd, "reason")
	return cmd
}

func (a *app) watchAddIndicatorCmd() *cobra.Command {
	var pr printer
	var by string
	var in indicators.Indicators
	var wallets []string
	cmd := &cobra.Command{
		Use:   "add-indicator <employee-id>",
		Short: "Add what the watch looks for in every system's activity: emails, IPs, crypto wallets, GitHub logins",
		Example: `  offboard watch add-indicator E1019 --ip 45.14.71.9 --email jt.dev.ops@proton.me
  offboard watch add-indicator E1019 --wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq --github-login jt-dev-99`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			for _, s := range wallets {
				wl, ok := indicators.ParseWallet(s)
				if !ok {
					return fmt.Errorf("--wallet %q is not a valid Bitcoin, Ethereum or TRON address (its checksum fails or its form is unknown)", s)
				}
				in.Wallets = append(in.Wallets, wl)
			}
			for _, ip := range in.IPs {
				if _, err := netip.ParseAddr(ip); err != nil {
					return fmt.Errorf("--ip %q is not an IP address", ip)
				}
			}
			if in.Empty() {
				return errors.New("give at least one of --email, --ip, --wallet, --github-login")
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			all, err := c.AddIndicators(cmd.Context(), args[0], workflows.AddIndicatorRequest{By: a.by(by), Indicators: in})
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), all, func(w io.Writer) {
				para(w, "", 2, "Watch "+safe(workflows.WatchID(args[0]))+" now looks for:")
				printIndicators(w, all)
			})
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringSliceVar(&in.Emails, "email", nil, "an email address (repeat or comma-separate)")
	cmd.Flags().StringSliceVar(&in.IPs, "ip", nil, "an IP address")
	cmd.Flags().StringSliceVar(&wallets, "wallet", nil, "a Bitcoin, Ethereum or TRON address")
	cmd.Flags().StringSliceVar(&in.GitHubLogins, "github-login", nil, "a GitHub login")
	cmd.Flags().StringVar(&by, "by", "", "who adds them (default $USER)")
	return cmd
}

func (a *app) watchReportCmd() *cobra.Command {
	var pr printer
	var kind, file, by, note string
	cmd := &cobra.Command{
		Use:   "report <employee-id> --kind extortion|contact|leak --file message.eml",
		Short: "Report a message (a ransom demand, a contact, a leak): sealed as evidence, its indicators matched against the snapshot",
		Example: `  offboard watch report E1019 --kind extortion --file demand.eml --note "sent to the CEO"
  offboard watch report E1019 --kind leak --file paste.txt -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			if !slices.Contains(activities.ReportKinds, kind) {
				return fmt.Errorf("--kind %q: want one of %s", kind, strings.Join(activities.ReportKinds, ", "))
			}
			msg, err := readMessage(file)
			if err != nil {
				return err
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			rep, err := c.Report(cmd.Context(), args[0], workflows.ReportRequest{By: a.by(by), Kind: kind, Note: note, Message: msg})
			if err != nil {
				return err
			}
			return pr.print(cmd.OutOrStdout(), rep, func(w io.Writer) { printReport(w, rep) })
		},
	}
	pr.flag(cmd)
	cmd.Flags().StringVar(&kind, "kind", "", "extortion, contact or leak")
	cmd.Flags().StringVar(&file, "file", "", "the message as received (.eml, or text); - for standard input")
	cmd.Flags().StringVar(&by, "by", "", "who reports it (default $USER)")
	cmd.Flags().StringVar(&note, "note", "", "how it arrived, who received it")
	required(cmd, "kind")
	required(cmd, "file")
	return cmd
}

// readMessage reads a reported message, refusing one too large to keep.
func readMessage(file string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		r = f
	}
	msg, err := io.ReadAll(io.LimitReader(r, activities.MaxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	switch {
	case len(msg) == 0:
		return nil, fmt.Errorf("--file %s is empty", file)
	case len(msg) > activities.MaxReportSize:
		return nil, fmt.Errorf("--file %s is over %d bytes: report the message without its attachments, and keep them aside", file, activities.MaxReportSize)
	}
	return msg, nil
}

func (a *app) watchExportCmd() *cobra.Command {
	var out, by string
	cmd := &cobra.Command{
		Use:   "export <employee-id> -o packet.json|packet.md",
		Short: "Write the incident packet: the last weeks of the employment, the cut, every attempt and report, with evidence hashes",
		Example: `  offboard watch export E1019 -o E1019-incident.json
  offboard watch export E1019 -o E1019-incident.md`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("-o <file.json or file.md> is required")
			}
			c, err := a.cases(cmd.Context())
			if err != nil {
				return err
			}
			defer c.close()
			ctx := cmd.Context()
			wst, err := c.Watch(ctx, args[0])
			if err != nil {
				return err
			}
			st, err := c.Status(ctx, args[0])
			if err != nil {
				return err
			}
			var notes []string
			var events []evidence.Event
			if ev := st.Evidence; ev != nil && ev.Bundle != "" {
				events, notes = a.snapshotEvents(cmd, ev.Bundle)
			}
			p := cases.BuildPacket(st, wst, events, a.by(by), a.now(), notes...)
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if strings.HasSuffix(out, ".md") {
				err = p.WriteMarkdown(f)
			} else {
				err = writeJSON(f, p)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				_ = os.Remove(out)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d timeline entries, %d evidence bundles\n", out, len(p.Timeline), len(p.Evidence))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (.md for a document, else JSON); never overwritten")
	cmd.Flags().StringVar(&by, "by", "", "who exports it (default $USER)")
	return cmd
}

// snapshotEvents reads a snapshot's events from the evidence store the
// config names, or says why it could not.
func (a *app) snapshotEvents(cmd *cobra.Command, bundle string) ([]evidence.Event, []string) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, []string{"the snapshot's events are not listed: " + err.Error()}
	}
	col, err := worker.Collector(cmd.Context(), cfg)
	if err != nil {
		return nil, []string{"the snapshot's events are not listed: " + err.Error()}
	}
	if col == nil {
		return nil, []string{"the snapshot's events are not listed: the config has no evidence section"}
	}
	evs, err := evidence.ReadEvents(cmd.Context(), col.Store, bundle)
	if err != nil {
		return evs, []string{"the snapshot could not be read whole: " + err.Error()}
	}
	return evs, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
