package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/worker"
	"github.com/offboard/offboard/workflows"
)

func (a *app) evidenceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "The snapshot of what a person touched, sealed at the cut: show, verify, export",
	}
	cmd.AddCommand(a.evidenceShowCmd(), a.evidenceVerifyCmd(), a.evidenceExportCmd())
	return cmd
}

func (a *app) evidenceShowCmd() *cobra.Command {
	var pr printer
	cmd := &cobra.Command{
		Use:   "show <employee-id>",
		Short: "Per system: events and the window; incomplete sources; the insider signals with their top events",
		Example: `  offboard evidence show E1001
  offboard evidence show E1001 -o json`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			caseID := workflows.WorkflowID(args[0])
			return show(a, cmd, &pr, func(ctx context.Context, c casesClient) (*workflows.Evidence, error) {
				st, err := c.Status(ctx, args[0])
				if err != nil {
					return nil, err
				}
				caseID = st.CaseID
				if st.Evidence == nil {
					return nil, fmt.Errorf("case %s has no evidence snapshot (none is configured, or the cut has not started)", st.CaseID)
				}
				return st.Evidence, nil
			}, func(w io.Writer, ev *workflows.Evidence) { printEvidence(w, caseID, ev) })
		},
	}
	pr.flag(cmd)
	return cmd
}

// printEvidence is evidence show's text view.
func printEvidence(w io.Writer, caseID string, ev *workflows.Evidence) {
	para(w, "", 2, fmt.Sprintf("Evidence of %s: %s", safe(caseID), safe(ev.State)))
	if ev.Error != "" {
		labelled(w, 0, "Failed: ", safe(ev.Error), 0)
	}
	if ev.Bundle == "" {
		return
	}
	para(w, "", 2, fmt.Sprintf("Bundle %s, manifest SHA-256 %s", safe(ev.Bundle), safe(ev.Digest)))
	para(w, "", 2, fmt.Sprintf("Window %s to %s", when(ev.Window.From), when(ev.Window.To)))
	systems := slices.Sorted(func(yield func(string) bool) {
		for s := range ev.Counts {
			if !yield(s) {
				return
			}
		}
	})
	for _, s := range systems {
		para(w, "  ", 4, fmt.Sprintf("%-8s %d events", safe(s), ev.Counts[s]))
	}
	for _, in := range ev.Incomplete {
		labelled(w, 2, "incomplete: ", safe(in.System)+": "+safe(in.Reason), 0)
	}
	as := ev.Assessment
	if as == nil {
		return
	}
	fmt.Fprintln(w)
	para(w, "", 2, "Risk: "+safe(string(as.Level)))
	for _, s := range as.Signals {
		labelled(w, 2, safe(string(s.Severity))+": ", safe(s.Summary), 0)
		for _, r := range s.Events {
			line := when(r.Time) + " " + safe(r.System) + " " + safe(r.Action)
			for _, x := range []string{r.Target, r.SourceIP, r.Country, r.ASN} {
				if x != "" {
					line += " " + safe(x)
				}
			}
			para(w, "      ", 8, line)
		}
	}
	if as.RecommendHostile {
		para(w, "", 2, "A high risk level recommends hostile mode; a person decides.")
	}
}

func (a *app) evidenceVerifyCmd() *cobra.Command {
	var pr printer
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify <bundle-dir>",
		Short: "Re-hash every file of a bundle, check the hash chain and the signature; a changed byte names the file",
		Example: `  offboard evidence verify .offboard/evidence/E1001-<run-id>
  offboard evidence verify ./bundle --key evidence-public.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pr.validate(); err != nil {
				return err
			}
			path := filepath.Clean(args[0])
			if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
				return fmt.Errorf("%s is not a bundle directory (export one with offboard evidence export, then untar it)", path)
			}
			var trusted ed25519.PublicKey
			if keyPath != "" {
				k, err := evidence.LoadPublicKey(keyPath)
				if err != nil {
					return err
				}
				trusted = k
			}
			rep, err := evidence.Verify(cmd.Context(), evidence.NewDir(filepath.Dir(path)), filepath.Base(path), trusted)
			if perr := pr.print(cmd.OutOrStdout(), rep, func(w io.Writer) { printVerify(w, rep) }); perr != nil {
				return perr
			}
			if err != nil {
				return err
			}
			return rep.Err()
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "the deployment's evidence public key (PEM); without it the bundle's own public.key is used, and said so")
	pr.flag(cmd)
	return cmd
}

func printVerify(w io.Writer, r evidence.Report) {
	for _, f := range r.Files {
		state := "ok"
		if !f.OK {
			state = "CHANGED"
		}
		para(w, "  ", 4, fmt.Sprintf("%-7s %s (%d events)", state, safe(f.Name), f.Events))
	}
	for _, p := range r.Problems {
		labelled(w, 0, "problem: ", safe(p.Error()), 0)
	}
	switch {
	case r.OK() && r.TrustedKey:
		para(w, "", 2, "verified: every file matches the manifest, the chain holds, and the signature is the trusted key's ("+safe(r.KeyID)+")")
	case r.OK():
		para(w, "", 2, "verified against the bundle's own public.key ("+safe(r.KeyID)+"): pass --key to check it is your deployment's")
	}
}

func (a *app) evidenceExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "export <employee-id> -o bundle.tar.gz",
		Short:   "Write a case's bundle as a tar.gz, for counsel or law enforcement (reads the worker's evidence store)",
		Example: `  offboard evidence export E1001 -o E1001-evidence.tar.gz`,
		Args:    employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("-o <file.tar.gz> is required")
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
			if st.Evidence == nil || st.Evidence.Bundle == "" {
				return fmt.Errorf("case %s has no sealed evidence bundle", st.CaseID)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			col, err := worker.Collector(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if col == nil {
				return errors.New("the config has no evidence section: export reads the store the workers write to")
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := evidence.Export(cmd.Context(), col.Store, st.Evidence.Bundle, f); err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (bundle %s, manifest SHA-256 %s)\n", out, st.Evidence.Bundle, st.Evidence.Digest)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (must not exist)")
	return cmd
}
