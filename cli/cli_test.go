package cli_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/cli"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
)

const token = "cli-test-token"

// setup serves an Okta emulator with the demo org and returns an
// environment pointing the CLI at it and at a Temporal address where nothing
// listens.
func setup(t *testing.T) (*oktaemu.Server, cli.MapEnv) {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	emu := oktaemu.New(org, oktaemu.Options{Token: token})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := filepath.Join(t.TempDir(), "offboard.yaml")
	if err := os.WriteFile(cfg, []byte("okta:\n  orgUrl: "+srv.URL+"\n  token: "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return emu, cli.MapEnv{"OFFBOARD_CONFIG": cfg, "TEMPORAL_ADDRESS": closedAddr(t), "USER": "tester"}
}

// closedAddr is a loopback address with no listener.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func run(t *testing.T, env cli.MapEnv, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Execute(t.Context(), args, cli.Options{Stdout: &out, Stderr: &errb, Env: env, DialTimeout: 2 * time.Second})
	return out.String(), errb.String(), code
}

func onlyReads(t *testing.T, emu *oktaemu.Server) {
	t.Helper()
	for _, r := range emu.Emulator().Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("wrote to Okta: %s %s", r.Method, r.Path)
		}
	}
}

func TestPlanIsADryRun(t *testing.T) {
	t.Parallel()
	emu, env := setup(t)
	out, errs, code := run(t, env, "plan", "E1001", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p cli.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan json: %v\n%s", err, out)
	}
	if len(p.Systems) != 1 || !p.Systems[0].Found || p.Systems[0].Account.ID == "" {
		t.Fatalf("plan: %+v", p)
	}
	var ids []string
	for _, s := range p.Systems[0].Steps {
		ids = append(ids, s.ID)
	}
	want := "okta.remove-admin-roles okta.suspend okta.clear-sessions okta.revoke-grants okta.remove-groups okta.reset-factors"
	if strings.Join(ids, " ") != want {
		t.Errorf("steps %v, want %s", ids, want)
	}
	if len(emu.Emulator().Requests()) == 0 {
		t.Fatal("plan asked Okta nothing")
	}
	onlyReads(t, emu)

	text, _, code := run(t, env, "plan", "E1001")
	if code != 0 || !strings.Contains(text, "nothing was changed") || !strings.Contains(text, "SUPER_ADMIN") {
		t.Errorf("text plan:\n%s", text)
	}
}

func TestErrorsAreOneClearLine(t *testing.T) {
	t.Parallel()
	emu, env := setup(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown employee", []string{"terminate", "E9999"}, "unknown employee E9999: no account in okta"},
		{"unknown employee plan", []string{"plan", "E9999"}, "unknown employee E9999"},
		{"email as id", []string{"status", "someone@example.com"}, "an email address is not an employee ID"},
		{"missing id", []string{"status"}, "status needs exactly one employee ID"},
		{"two ids", []string{"plan", "E1", "E2"}, "plan needs exactly one employee ID"},
		{"bad mode", []string{"terminate", "E1001", "--mode", "angry"}, `mode "angry": want standard or hostile`},
		{"bad at", []string{"terminate", "E1001", "--at", "tomorrow"}, `--at "tomorrow"`},
		{"bad zone", []string{"terminate", "E1001", "--at", "2027-01-01 09:00", "--tz", "Mars/Olympus"}, `time zone "Mars/Olympus" is unknown`},
		{"bad output", []string{"plan", "E1001", "-o", "xml"}, `output format "xml"`},
		{"missing step", []string{"retry", "E1001"}, `required flag(s) "step" not set`},
		{"skip without reason", []string{"skip", "E1001", "--step", "okta.suspend"}, `required flag(s) "reason" not set`},
		{"rescind without reason", []string{"rescind", "E1001"}, `required flag(s) "reason" not set`},
		{"unknown command", []string{"fire", "E1001"}, `unknown command "fire"`},
		{"bad list state", []string{"list", "--state", "zombie"}, `state "zombie"`},
		{"temporal unreachable", []string{"status", "E1001"}, "cannot reach Temporal at"},
		{"temporal unreachable on start", []string{"terminate", "E1001"}, "cannot reach Temporal at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, errs, code := run(t, env, c.args...)
			if code == 0 {
				t.Fatalf("exit 0, stdout %q", out)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q, want %q", errs, c.want)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "offboard: ") {
				t.Errorf("stderr is not one line: %q", errs)
			}
			if strings.Contains(errs, "@example.com") && c.name != "email as id" {
				t.Errorf("an email leaked: %q", errs)
			}
		})
	}
	onlyReads(t, emu)
}

func TestBadConfigIsClear(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "offboard.yaml")
	if err := os.WriteFile(cfg, []byte("okta:\n  orgUrl: https://acme.okta.com\n  tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, cli.MapEnv{"OFFBOARD_CONFIG": cfg}, "plan", "E1001")
	if code == 0 || !strings.Contains(errs, "field tokn not found") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	_, errs, code = run(t, cli.MapEnv{"OFFBOARD_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")}, "plan", "E1001")
	if code == 0 || !strings.Contains(errs, "read config") {
		t.Fatalf("missing config: exit %d stderr %q", code, errs)
	}
}

func TestOktaDownIsClear(t *testing.T) {
	t.Parallel()
	emu, env := setup(t)
	if err := emu.Emulator().AddFault(emuFault("/api/v1/users", http.StatusServiceUnavailable)); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, env, "plan", "E1001")
	if code == 0 || !strings.Contains(errs, "resolve in okta") || !strings.Contains(errs, "503") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
}

func TestDevNeedsAnEmbeddedServer(t *testing.T) {
	t.Parallel()
	_, errs, code := run(t, cli.MapEnv{}, "dev")
	if code == 0 || !strings.Contains(errs, "no embedded dev server") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
}

// TestTemporalThatNeverAnswers is a server that accepts connections and says
// nothing: the CLI must give up after its dial timeout, not hang.
func TestTemporalThatNeverAnswers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	_, env := setup(t)
	env["TEMPORAL_ADDRESS"] = ln.Addr().String()
	_, errs, code := run(t, env, "status", "E1001")
	if code == 0 || !strings.Contains(errs, "cannot reach Temporal at "+ln.Addr().String()) {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
}
