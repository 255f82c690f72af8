package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/offboard/offboard/cli"
	"github.com/offboard/offboard/emulators/emu"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/internal/devserver"
	"github.com/offboard/offboard/workflows"
)

// Issue 8, item 2 (and 1): someone unsuspends a person's Okta user while a
// later step is parked; the retry first redoes the suspension, and the case
// ends done only after a full verification after that.
func TestIssue8_UnsuspendBetweenStepsIsRedone(t *testing.T) {
	h := start(t, dev.Options{})
	id := oktaID(t, "E1001")
	em := h.emu.Okta.Emulator()
	if err := em.AddFault(emu.Fault{Method: http.MethodDelete, Path: "^/api/v1/users/" + id + "/sessions$", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("terminate", "E1001")
	h.waitFor("E1001", "okta.clear-sessions parked", func(s workflows.Case) bool {
		return stepState(s, "okta.clear-sessions") == workflows.StepParked
	})
	// The undo, through Okta's own API.
	req, _ := http.NewRequest(http.MethodPost, h.stack.URLs["okta"]+"/api/v1/users/"+id+"/lifecycle/unsuspend", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DevToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("unsuspend: %v %v", resp, err)
	}
	resp.Body.Close()
	if u, _ := h.emu.Okta.User(id); u.Status != "ACTIVE" {
		t.Fatalf("after unsuspend: %s", u.Status)
	}
	em.ClearFaults()
	h.mustCLI("retry", "E1001", "--step", "okta.clear-sessions", "--reason", "granted")
	st := h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	assertAllVerified(t, st)
	if s, _ := st.Step("okta.suspend"); s.Attempts != 2 {
		t.Errorf("okta.suspend attempts %d, want 2 (redone before the retry)", s.Attempts)
	}
	if s, _ := st.Step("okta.clear-sessions"); s.Attempts != 2 {
		t.Errorf("okta.clear-sessions attempts %d, want 2", s.Attempts)
	}
	if u, _ := h.emu.Okta.User(id); u.Status != "SUSPENDED" {
		t.Errorf("okta user is %s at the end", u.Status)
	}
	// The last verification of every step came after the last decision.
	decided := st.Decisions[len(st.Decisions)-1].At
	for _, s := range st.Steps {
		if s.State == workflows.StepDone && s.Action != workflows.ActionPlan && s.VerifiedAt.Before(decided) {
			t.Errorf("%s last verified %s, before the retry at %s", s.ID, s.VerifiedAt, decided)
		}
	}
}

// Issue 8, item 6: a decision on a case that has ended says so.
func TestIssue8_DecisionsOnAnEndedCaseSayItEnded(t *testing.T) {
	h := start(t, dev.Options{})
	h.mustCLI("terminate", "E1014")
	h.waitFor("E1014", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	for _, args := range [][]string{
		{"retry", "E1014", "--step", "okta.suspend"},
		{"cut-now", "E1014"},
		{"rescind", "E1014", "--reason", "changed our minds"},
	} {
		_, errs, code := h.cli(args...)
		if code == 0 || !strings.Contains(errs, "case offboard/E1014 is done") {
			t.Errorf("offboard %v: exit %d %q", args, code, errs)
		}
	}
}

// Issue 8, item 11: `offboard worker` against a namespace it has just
// registered starts on the first try.
func TestIssue8_WorkerStartsOnANamespaceItJustRegistered(t *testing.T) {
	h := start(t, dev.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	env := cli.MapEnv{"OFFBOARD_CONFIG": h.stack.Path, "TEMPORAL_ADDRESS": h.env["TEMPORAL_ADDRESS"], "TEMPORAL_NAMESPACE": "fresh-offboarding"}
	out := &syncBuffer{}
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- cli.Execute(ctx, []string{"worker"}, cli.Options{Stdout: out, Stderr: errb, Env: env}) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "worker polling task queue") {
		select {
		case code := <-done:
			t.Fatalf("worker exited %d before polling: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never started: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("worker exit %d: %s", code, errb.String())
	}
}

// Issue 8, item 13: everything offboard dev writes is private, also in a
// directory that existed with a looser mode.
func TestIssue8_DevFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := dev.Start(t.Context(), dev.Options{Options: devopts.Options{Port: -1, Dir: dir, DB: filepath.Join(dir, "temporal.db")}})
	if err != nil {
		t.Fatal(err)
	}
	tc := s.Client
	in := workflows.Input{EmployeeID: "E1014", Mode: workflows.ModeStandard, RequestedBy: "e2e"}
	if _, err := tc.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: workflows.WorkflowID("E1014"), TaskQueue: workflows.TaskQueue}, workflows.OffboardingName, in); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var files int
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %o, want %o", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"temporal.db", "temporal.db-wal", "temporal.db-shm", "temporal.log", "dev.yaml", "emulators/okta.json", "secrets/okta-token"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if files < 7 {
		t.Errorf("only %d files written", files)
	}
}

// Issue 8, item 15: the Web UI and every emulator refuse a Host header that
// is not the loopback address they serve (DNS rebinding).
func TestIssue8_DevListenersRefuseOtherHosts(t *testing.T) {
	h := start(t, dev.Options{Options: devopts.Options{UIPort: -1}})
	targets := []string{"http://" + h.stack.Server.UIAddr() + "/api/v1/namespaces/offboarding/workflows"}
	for _, n := range h.stack.Emu.All() {
		targets = append(targets, h.stack.URLs[n.Name]+"/_emulator/state")
	}
	for _, u := range targets {
		for host, want := range map[string]int{"attacker.example": http.StatusMisdirectedRequest, "": http.StatusOK} {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s with Host %q: %d, want %d", u, host, resp.StatusCode, want)
			}
			if host != "" && strings.Contains(string(body), "offboard/") {
				t.Errorf("%s answered Host %q with case data", u, host)
			}
		}
	}
}

// Issue 8, item 16: plan and status of the demo's widest person fit a
// 120-column terminal.
func TestIssue8_PlanAndStatusFit120Columns(t *testing.T) {
	h := start(t, dev.Options{})
	plan := h.mustCLI("plan", "E1001")
	h.mustCLI("terminate", "E1001")
	h.waitFor("E1001", "done", func(s workflows.Case) bool { return s.State == workflows.CaseDone })
	status := h.mustCLI("status", "E1001")
	for name, out := range map[string]string{"plan": plan, "status": status} {
		for i, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 120 {
				t.Errorf("%s line %d is %d columns: %s", name, i+1, n, line)
			}
		}
	}
}

// syncBuffer is a bytes buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Issue 8, item 14: kill -9 of `offboard dev` mid-case, then a restart:
// the case finishes, and the emulators kept what offboard had done (no
// finished step had to be redone because a vendor forgot it).
func TestIssue8_KillDashNineMidCase(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "offboard")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/offboard")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build offboard: %v", err)
	}
	dir := t.TempDir()
	port := freePort(t)
	startDev := func() (*exec.Cmd, map[string]string) {
		cmd := exec.Command(bin, "dev", "--dir", dir, "--db", filepath.Join(dir, "temporal.db"),
			"--port", strconv.Itoa(port), "--ui-port", "0",
			"--okta-port", "0", "--github-port", "0", "--slack-port", "0", "--aws-port", "0", "--google-port", "0")
		cmd.Dir = dir
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		urls := map[string]string{}
		line := regexp.MustCompile(`^\s+(\w+) emulator\s+(http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := line.FindStringSubmatch(sc.Text()); m != nil {
				urls[m[1]] = m[2]
			}
			if strings.Contains(sc.Text(), "Config") {
				break
			}
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		if len(urls) != 5 {
			t.Fatalf("offboard dev did not start: %v", urls)
		}
		return cmd, urls
	}
	env := cli.MapEnv{"TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", port), "USER": "e2e"}
	run := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := cli.Execute(t.Context(), args, cli.Options{Stdout: &out, Stderr: &errb, Env: env}); code != 0 {
			t.Fatalf("offboard %v: %s", args, errb.String())
		}
		return out.String()
	}
	status := func() workflows.Case {
		var st workflows.Case
		_ = json.Unmarshal([]byte(run("status", "E1005", "-o", "json")), &st)
		return st
	}

	first, urls := startDev()
	// Slow Okta down so the kill lands mid-case.
	cfg, _ := json.Marshal(emu.Config{LatencyMS: 300})
	resp, err := http.Post(urls["okta"]+"/_emulator/config", "application/json", bytes.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	run("terminate", "E1005")
	deadline := time.Now().Add(60 * time.Second)
	var before workflows.Case
	for {
		before = status()
		if stepState(before, "okta.remove-admin-roles") == workflows.StepDone && stepState(before, "okta.suspend") == workflows.StepDone && before.State != workflows.CaseDone {
			break
		}
		if time.Now().After(deadline) || before.State == workflows.CaseDone {
			t.Fatalf("never caught the case mid-way: %s", before.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: nothing is saved on the way out
		t.Fatal(err)
	}
	_ = first.Wait()

	_, urls = startDev()
	deadline = time.Now().Add(3 * time.Minute) // an activity the killed worker held times out first
	var st workflows.Case
	for st = status(); st.State != workflows.CaseDone; st = status() {
		if time.Now().After(deadline) {
			t.Fatalf("case never finished after the restart: %s", st.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
	assertAllVerified(t, st)
	for _, s := range before.Steps {
		if s.State != workflows.StepDone || s.Action == workflows.ActionPlan {
			continue
		}
		after, _ := st.Step(s.ID)
		if after.Attempts != s.Attempts {
			t.Errorf("%s was redone after the restart (%d attempts, %d before): the vendor forgot it", s.ID, after.Attempts, s.Attempts)
		}
	}
	// What the Okta emulator keeps on disk, written as it changed.
	body, err := os.ReadFile(filepath.Join(dir, "emulators", "okta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Users []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"users"`
	}
	if err := json.Unmarshal(body, &state); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range state.Users {
		if u.ID == oktaID(t, "E1005") {
			found = true
			if u.Status != "SUSPENDED" {
				t.Errorf("okta user of E1005 is %s after the restart", u.Status)
			}
		}
	}
	if !found {
		t.Errorf("okta state lacks E1005's user: %.300s", body)
	}
	// The request log kept what happened before the kill.
	resp, err = http.Get(urls["okta"] + "/_emulator/requests")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(log), "/api/v1/users/"+oktaID(t, "E1005")+"/lifecycle/suspend") {
		t.Errorf("the okta request log lost the suspension made before the kill")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	// Not port 0's answer: a port from the ephemeral range could be taken
	// by an outgoing connection before `offboard dev` binds it.
	p, err := devserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
