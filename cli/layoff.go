package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/workflows"
)

// maxLayoffRows bounds a layoff file.
const maxLayoffRows = 100_000

// layoffStarts is how many cases a layoff starts at once.
const layoffStarts = 8

// readLayoff reads a layoff file: CSV, one person a row — employee ID,
// optional effective time (RFC 3339, or "2006-01-02 15:04" in tz), optional
// reason (else reason) — with an optional header row naming the columns.
// Every row is checked before any case starts: a malformed one refuses the
// whole file, naming its line.
func readLayoff(r io.Reader, name string, base workflows.Input, tz string) ([]workflows.Input, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	var out []workflows.Input
	seen := map[string]int{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if line == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "employeeId") {
			continue // the header
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s line %d: %s; nothing was started", name, line, fmt.Sprintf(format, args...))
		}
		if len(rec) > 3 {
			return nil, bad("%d columns: want employee ID, effective time, reason", len(rec))
		}
		in := base
		in.EmployeeID = strings.TrimSpace(rec[0])
		if err := workflows.ValidateEmployeeID(in.EmployeeID); err != nil {
			return nil, bad("%v", err)
		}
		if prev, dup := seen[strings.ToUpper(in.EmployeeID)]; dup {
			return nil, bad("employee %s is on line %d too", in.EmployeeID, prev)
		}
		seen[strings.ToUpper(in.EmployeeID)] = line
		if len(rec) > 1 && strings.TrimSpace(rec[1]) != "" {
			t, err := parseAt(strings.TrimSpace(rec[1]), tz)
			if err != nil {
				return nil, bad("%v", err)
			}
			in.EffectiveAt = t
		}
		if len(rec) > 2 && strings.TrimSpace(rec[2]) != "" {
			in.Reason = strings.TrimSpace(rec[2])
		}
		if err := in.Validate(); err != nil {
			return nil, bad("%v", err)
		}
		if len(out) >= maxLayoffRows {
			return nil, bad("over %d people in one file", maxLayoffRows)
		}
		out = append(out, in)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no one in it", name)
	}
	return out, nil
}

// layoffResult is one person's outcome.
type layoffResult struct {
	EmployeeID string             `json:"employeeId"`
	Case       *cases.StartResult `json:"case,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// layoffSummary is what terminate --file prints.
type layoffSummary struct {
	Started  int            `json:"started"`
	Existing int            `json:"existing"`
	Failed   int            `json:"failed"`
	Results  []layoffResult `json:"results"`
}

// startLayoff starts (or returns) every person's case, layoffStarts at a
// time, reporting progress to progress.
func startLayoff(ctx context.Context, c casesClient, people []workflows.Input, progress io.Writer) layoffSummary {
	out := layoffSummary{Results: make([]layoffResult, len(people))}
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, layoffStarts)
	var wg sync.WaitGroup
	last := time.Time{}
	for i, in := range people {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := layoffResult{EmployeeID: in.EmployeeID}
			res, err := c.Start(ctx, in)
			if err != nil {
				r.Error = err.Error()
			} else {
				r.Case = &res
			}
			mu.Lock()
			defer mu.Unlock()
			out.Results[i] = r
			done++
			if now := time.Now(); progress != nil && (done == len(people) || now.Sub(last) > 500*time.Millisecond) {
				last = now
				fmt.Fprintf(progress, "\r%s %d/%d", bar(done, len(people), 30), done, len(people))
				if done == len(people) {
					fmt.Fprintln(progress)
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range out.Results {
		switch {
		case r.Error != "":
			out.Failed++
		case r.Case.Started:
			out.Started++
		default:
			out.Existing++
		}
	}
	return out
}

// bar is a text progress bar.
func bar(done, total, width int) string {
	n := done * width / max(total, 1)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

func printLayoff(w io.Writer, s layoffSummary) {
	for _, r := range s.Results {
		if r.Error != "" {
			labelled(w, 0, safe(r.EmployeeID)+": ", safe(r.Error), 0)
		}
	}
	para(w, "", 2, fmt.Sprintf("%d started, %d already had a case, %d refused (offboard list follows them)", s.Started, s.Existing, s.Failed))
}

// openLayoff opens a layoff file, - for standard input.
func openLayoff(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	return f, nil
}

var errLayoffFailed = errors.New("some cases were not started")
