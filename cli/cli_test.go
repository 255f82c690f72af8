package cli_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/cli"
)

// setup returns an environment with nothing but a Temporal address where
// nothing listens: the CLI needs no vendor settings.
func setup(t *testing.T) cli.MapEnv {
	t.Helper()
	return cli.MapEnv{"TEMPORAL_ADDRESS": closedAddr(t), "USER": "tester"}
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

func TestErrorsAreOneClearLine(t *testing.T) {
	t.Parallel()
	env := setup(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
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
		{"temporal unreachable on plan", []string{"plan", "E1001"}, "cannot reach Temporal at"},
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
}

func TestBadConfigIsClear(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "offboard.yaml")
	if err := os.WriteFile(cfg, []byte("okta:\n  orgUrl: https://acme.okta.com\n  tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, cli.MapEnv{"OFFBOARD_CONFIG": cfg}, "worker")
	if code == 0 || !strings.Contains(errs, "field tokn not found") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	_, errs, code = run(t, cli.MapEnv{"OFFBOARD_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")}, "worker")
	if code == 0 || !strings.Contains(errs, "read config") {
		t.Fatalf("missing config: exit %d stderr %q", code, errs)
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
	env := setup(t)
	env["TEMPORAL_ADDRESS"] = ln.Addr().String()
	_, errs, code := run(t, env, "status", "E1001")
	if code == 0 || !strings.Contains(errs, "cannot reach Temporal at "+ln.Addr().String()) {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
}
