package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// printer writes either text (through a function) or JSON.
type printer struct {
	format string
}

func (p *printer) flag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&p.format, "output", "o", "text", "output format: text or json")
}

func (p *printer) validate() error {
	if p.format != "text" && p.format != "json" {
		return fmt.Errorf("output format %q: want text or json", p.format)
	}
	return nil
}

func (p *printer) print(w io.Writer, v any, text func(w io.Writer)) error {
	if p.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w)
	return nil
}

func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// brief joins at most n items, saying how many more there are (-o json has
// them all).
func brief(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(items[:n], ", "), len(items)-n)
}
