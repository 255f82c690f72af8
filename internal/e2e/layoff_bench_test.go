package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/workflows"
)

// layoffOrg is the demo org with n more people, each shaped like E1001 (in
// all five systems, with the same kinds of groups, roles, keys and tokens)
// under IDs of their own: employee IDs L00001…, emails
// layoff.00001@example.com, and so on.
func layoffOrg(tb testing.TB, n int) *seed.Org {
	tb.Helper()
	org, err := seed.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	tmpl, ok := org.Person("E1001")
	if !ok {
		tb.Fatal("the demo has no E1001")
	}
	for i := 1; i <= n; i++ {
		p := tmpl
		num := fmt.Sprintf("%05d", i)
		login := "layoff" + num
		p.EmployeeID, p.FirstName, p.LastName = "L"+num, "Layoff", num
		p.Email = "layoff." + num + "@example.com"
		p.Manager, p.Note, p.Scenario = "", "", ""

		okta := *tmpl.Okta
		okta.ID = fmt.Sprintf("00u%017d", 2_000_000+i)
		okta.Profile = map[string]string{"githubUsername": login, "slackUserId": fmt.Sprintf("U%08d", 2_000_000+i)}
		okta.Events = nil
		p.Okta = &okta

		gh := *tmpl.GitHub
		gh.Login, gh.ID, gh.Events = login, int64(600_000+i), nil
		p.GitHub = &gh

		sl := *tmpl.Slack
		sl.ID, sl.Events = okta.Profile["slackUserId"], nil
		p.Slack = &sl

		aws := *tmpl.AWS
		aws.IAMUsers = append([]seed.IAMUser(nil), tmpl.AWS.IAMUsers...)
		for j := range aws.IAMUsers {
			aws.IAMUsers[j].UserName = login
		}
		ic := *tmpl.AWS.IdentityCenter
		ic.UserID = fmt.Sprintf("90672%03d-aaaa-4bbb-8ccc-%012d", i/100000, i)
		ic.UserName = p.Email
		aws.IdentityCenter, aws.Events = &ic, nil
		p.AWS = &aws

		g := *tmpl.Google
		g.ID, g.Events = fmt.Sprintf("2%017d", i), nil
		p.Google = &g
		org.People = append(org.People, p)
	}
	return org
}

// startLayoff starts the cases of layoffOrg's n people, eight at a time
// (as terminate --file does), effective at at (zero: now).
func startLayoff(b *testing.B, cs *cases.Client, n int, at time.Time) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := 1; i <= n; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			in := workflows.Input{EmployeeID: fmt.Sprintf("L%05d", i), Mode: workflows.ModeStandard, RequestedBy: "bench", EffectiveAt: at}
			if _, err := cs.Start(b.Context(), in); err != nil {
				errs <- fmt.Errorf("L%05d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// rssMB is this process's resident set, in MB.
func rssMB(tb testing.TB) float64 { return statusMB(tb)["VmRSS"] }

// statusMB reads the memory lines of /proc/self/status (VmRSS, RssAnon,
// RssFile, ...) in MB.
func statusMB(tb testing.TB) map[string]float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		if err == nil {
			out[k] = float64(kb) / 1024
		}
	}
	if _, ok := out["VmRSS"]; !ok {
		tb.Fatal("no VmRSS in /proc/self/status")
	}
	return out
}

// memLine says what the resident set is made of: file-backed pages (the
// binary's code, mostly), anonymous ones, and of those the Go heap in use,
// heap the runtime holds but does not use, and goroutine stacks; the rest
// of the anonymous pages are outside the Go heap.
func memLine(tb testing.TB) string {
	st := statusMB(tb)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("RSS %.0f MB: file %.0f, anonymous %.0f (Go heap in use %.0f, held idle %.0f, stacks %.0f, other runtime %.0f)",
		st["VmRSS"], st["RssFile"], st["RssAnon"], mb(ms.HeapInuse), mb(ms.HeapIdle-ms.HeapReleased), mb(ms.StackInuse), mb(ms.Sys-ms.HeapSys-ms.StackSys))
}

// BenchmarkOpenCases starts 1,000 generated people's cases with an
// effective time a day away, so every one waits, and prints the process's
// resident set (the embedded server, the worker and the emulators: what
// `offboard dev` holds, with its memory limit) before and after, how long
// the starts took, and how long listing every case takes. With
// OFFBOARD_HEAP_PROFILE set it writes the heap profile there once the
// cases wait, and to that path with ".before" before they start.
func BenchmarkOpenCases(b *testing.B) {
	const n = 1000
	for b.Loop() {
		b.StopTimer()
		dev.LimitMemory() // as offboard dev does
		org := layoffOrg(b, n)
		// A database file, as `offboard dev` keeps (an in-memory one would
		// hold every page of history in the process).
		dir := b.TempDir()
		s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: dir, DB: filepath.Join(dir, "temporal.db")}, Emulators: dev.NewEmulators(org), Quiet: true, NoEvidence: true, NoWatch: true})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		before, beforeMem := rssMB(b), memLine(b)
		heapProfile(os.Getenv("OFFBOARD_HEAP_PROFILE"), ".before")
		cs := cases.New(s.Client)
		at := time.Now().Add(24 * time.Hour).UTC()
		start := time.Now()
		startLayoff(b, cs, n, at)
		started := time.Since(start)
		// Let the cases reach their wait, then measure.
		time.Sleep(5 * time.Second)
		runtime.GC()
		after := rssMB(b)
		heapProfile(os.Getenv("OFFBOARD_HEAP_PROFILE"), "")
		b.StartTimer()
		t0 := time.Now()
		list, err := cs.List(b.Context(), "")
		listed := time.Since(t0)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		waiting := 0
		for _, c := range list {
			if c.State == string(workflows.CaseScheduled) {
				waiting++
			}
		}
		fmt.Printf("%d open cases (%d listed, %d scheduled): started in %.1f s (%.0f a second); listed in %.2f s; RSS %.0f MB before, %.0f MB after (%.0f KB per open case)\n  before: %s\n  after:  %s\n",
			n, len(list), waiting, started.Seconds(), float64(n)/started.Seconds(), listed.Seconds(), before, after, (after-before)*1024/n, beforeMem, memLine(b))
		b.ReportMetric(after, "MB-rss")
		b.ReportMetric(listed.Seconds(), "s-list")
		_ = s.Stop()
		b.StartTimer()
	}
}

// heapProfile writes the heap profile to path+suffix, unless path is "".
// What the cases hold: go tool pprof -sample_index=inuse_space -base
// path.before path.
func heapProfile(path, suffix string) {
	if path == "" {
		return
	}
	if f, err := os.Create(path + suffix); err == nil {
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
}

// throttledAnswer reports whether an emulator's answer is its vendor's
// rate-limit answer: 429 everywhere, 403 for GitHub's and Google's rate
// limits, 400 (Throttling) for IAM and STS.
func throttledAnswer(system string, r emu.Request) bool {
	switch {
	case r.Status == http.StatusTooManyRequests:
		return true
	case r.Status == http.StatusForbidden && (system == "github" || system == "google"):
		return true
	case r.Status == http.StatusBadRequest && system == "aws" && (strings.HasPrefix(r.Path, "/iam/") || strings.HasPrefix(r.Path, "/sts/")):
		return true
	}
	return false
}

// BenchmarkLayoff terminates OFFBOARD_LAYOFF generated people (default
// 50, which `make bench` can wait for: 200 make about 5,800 GitHub calls,
// past its 5,000 an hour, so they wait for the hour's reset; the wait ends
// after OFFBOARD_LAYOFF_WAIT, default 45 minutes, and prints where the
// cases are), each in all five systems, at once through the emulators' real
// rate limits, and prints the makespan, each system's last access-ending
// call, calls and rate-limit answers per vendor, how many cases needed an
// operator (parked), and the bound the two tightest limits set, from the
// calls offboard made (rate-limit answers left out): every Okta call under
// /api/v1/users shares one bucket of 600 a minute; GitHub's secondary
// limit allows 900 points a minute (a read 1, a write 5) and its primary
// one 5,000 calls an hour. C calls (points) at L a window need at least
// ceil(C/L)−1 more windows after the first.
func BenchmarkLayoff(b *testing.B) {
	n := 50
	if v := os.Getenv("OFFBOARD_LAYOFF"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("OFFBOARD_LAYOFF=%q: want a number of people", v)
		}
	}
	wait := 45 * time.Minute
	if v := os.Getenv("OFFBOARD_LAYOFF_WAIT"); v != "" {
		var err error
		if wait, err = time.ParseDuration(v); err != nil || wait <= 0 {
			b.Fatalf("OFFBOARD_LAYOFF_WAIT=%q: want a duration such as 90m", v)
		}
	}
	for b.Loop() {
		b.StopTimer()
		org := layoffOrg(b, n)
		s, err := dev.Start(b.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: b.TempDir()}, Emulators: dev.NewEmulators(org), Quiet: true, NoEvidence: true, NoWatch: true})
		if err != nil {
			b.Fatal(err)
		}
		cs := cases.New(s.Client)
		b.StartTimer()
		start := time.Now()
		startLayoff(b, cs, n, time.Time{})
		// Wait until every case has ended, or some wait for an operator.
		var counts map[string]int
		var list []cases.Summary
		for {
			list, err = cs.List(b.Context(), "")
			if err != nil {
				b.Fatal(err)
			}
			counts = map[string]int{}
			for _, c := range list {
				counts[c.State]++
			}
			open := counts[string(workflows.CaseRunning)] + counts[string(workflows.CaseScheduled)]
			if open == 0 || time.Since(start) > wait {
				break
			}
			time.Sleep(2 * time.Second)
		}
		makespan := time.Since(start)
		b.StopTimer()
		var lines []string
		totalCalls, totalThrottled, oktaUsers, githubCalls, githubPoints := 0, 0, 0, 0, 0
		for _, e := range s.Emu.All() {
			calls, throttled := 0, 0
			var lastCut time.Duration
			for _, r := range e.Emulator.Emulator().Requests() {
				if r.Time.Before(start) || strings.HasPrefix(r.Path, "/_emulator") {
					continue
				}
				calls++
				if throttledAnswer(e.Name, r) {
					throttled++
					continue
				}
				switch {
				case e.Name == "okta" && strings.HasPrefix(r.Path, "/api/v1/users"):
					oktaUsers++
				case e.Name == "github" && r.Method == http.MethodGet:
					githubCalls++
					githubPoints++
				case e.Name == "github":
					githubCalls++
					githubPoints += 5
				}
				if re := cutCalls[e.Name]; re != nil && re.MatchString(r.Method+" "+r.Path) {
					lastCut = max(lastCut, r.Time.Sub(start))
				}
			}
			totalCalls += calls
			totalThrottled += throttled
			lines = append(lines, fmt.Sprintf("  %-7s last cut %6.1f s   %6d calls, %5d rate-limited (%.1f%%)", e.Name, lastCut.Seconds(), calls, throttled, 100*float64(throttled)/float64(max(calls, 1))))
		}
		windows := func(calls, limit int, window time.Duration) time.Duration {
			return time.Duration(max((calls+limit-1)/limit-1, 0)) * window
		}
		oktaBound, githubBound := windows(oktaUsers, 600, time.Minute), windows(githubPoints, 900, time.Minute)
		githubHourly := windows(githubCalls, 5000, time.Hour)
		bound := max(oktaBound, githubBound, githubHourly, time.Second)
		parked := counts[string(workflows.CaseParked)]
		// What the operator would be asked about: each parked step, with
		// its error.
		why := map[string]int{}
		var cutAt []time.Duration // each person's, as their case recorded it
		for _, c := range list {
			var st workflows.Case
			if v, err := s.Client.QueryWorkflow(b.Context(), c.CaseID, "", workflows.QueryStatus); err != nil || v.Get(&st) != nil {
				continue
			}
			if !st.CutAt.IsZero() {
				cutAt = append(cutAt, st.CutAt.Sub(start))
			}
			for _, x := range st.Steps {
				if x.State == workflows.StepParked {
					why[x.Action+": "+x.ErrorKind+": "+x.LastError]++
				}
			}
		}
		slices.Sort(cutAt)
		if len(cutAt) > 0 {
			fmt.Printf("  people cut (their cases' own record): %d of %d, median %.1f s, last %.1f s\n", len(cutAt), n, cutAt[len(cutAt)/2].Seconds(), cutAt[len(cutAt)-1].Seconds())
		}
		for w, k := range why {
			fmt.Printf("  parked %d× %s\n", k, w)
		}
		fmt.Printf("layoff of %d: makespan %.0f s; states %v; operator actions needed: %d parked cases\n%s\n  all     %6d calls, %5d rate-limited (%.1f%%)\n"+
			"  bound %.0f s (makespan %.2fx): Okta's users bucket %d calls (%.1f a person) at 600 a minute: %.0f s; GitHub's secondary limit %d points (%.1f a person) at 900 a minute: %.0f s; GitHub's %d calls at 5,000 an hour: %.0f s\n",
			n, makespan.Seconds(), counts, parked, strings.Join(lines, "\n"), totalCalls, totalThrottled, 100*float64(totalThrottled)/float64(max(totalCalls, 1)),
			bound.Seconds(), makespan.Seconds()/bound.Seconds(), oktaUsers, float64(oktaUsers)/float64(n), oktaBound.Seconds(), githubPoints, float64(githubPoints)/float64(n), githubBound.Seconds(),
			githubCalls, githubHourly.Seconds())
		b.ReportMetric(makespan.Seconds()/bound.Seconds(), "x-bound")
		b.ReportMetric(makespan.Seconds(), "s-makespan")
		b.ReportMetric(float64(parked), "parked")
		_ = s.Stop()
		b.StartTimer()
	}
}
