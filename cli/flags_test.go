package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/offboard/offboard/workflows"
)

func TestFlagsAndHelp(t *testing.T) {
	t.Parallel()
	env := setup(t)
	help := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, append(args, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d %q", args, code, errs)
		}
		return out
	}
	t.Run("examples", func(t *testing.T) {
		for _, c := range []string{"dev", "worker", "terminate", "plan", "status", "list", "retry", "skip", "cut-now", "rescind"} {
			if out := help(t, c); !strings.Contains(out, "Examples:\n  offboard ") && !strings.Contains(out, "Examples:\n  TEMPORAL_ADDRESS=") {
				t.Errorf("%s --help has no example:\n%s", c, out)
			}
		}
	})
	t.Run("every state", func(t *testing.T) {
		out := help(t, "list")
		line := regexp.MustCompile(`--state string\s+(.*)`).FindStringSubmatch(out)
		if line == nil {
			t.Fatalf("no --state in:\n%s", out)
		}
		for _, s := range workflows.CaseStates {
			if !strings.Contains(line[1], string(s)) {
				t.Errorf("--state help lacks %s: %s", s, line[1])
			}
		}
	})
	t.Run("required", func(t *testing.T) {
		for _, c := range []struct {
			cmd  string
			want []string
		}{
			{"retry", []string{`--step string\s+step ID, as offboard status shows it \(required\)\n`}},
			{"skip", []string{`--step string\s+step ID, as offboard status shows it \(required\)\n`, `--reason string\s+why \(kept in the case\) \(required\)\n`}},
			{"rescind", []string{`--reason string\s+why \(kept in the case\) \(required\)\n`}},
			{"cut-now", []string{`--reason string\s+why \(kept in the case\)\n`}},
		} {
			out := help(t, c.cmd)
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("%s --help lacks %s:\n%s", c.cmd, w, out)
				}
			}
			if strings.Contains(out, "--step offboard") {
				t.Errorf("%s --help: --step takes a value named after the command:\n%s", c.cmd, out)
			}
		}
	})
	t.Run("blank reason or by", func(t *testing.T) {
		for _, args := range [][]string{
			{"terminate", "E1001"},
			{"retry", "E1001", "--step", "okta.suspend"},
			{"skip", "E1001", "--step", "okta.suspend"},
			{"cut-now", "E1001"},
			{"rescind", "E1001"},
		} {
			for _, c := range []struct {
				flags []string
				want  string
			}{
				{[]string{"--reason", "   "}, "--reason is empty"},
				{[]string{"--reason", " \t "}, "--reason is empty"},
				{[]string{"--reason", "ok", "--by", "  "}, "--by is empty"},
				{[]string{"--reason", "ok", "--by", ""}, "--by is empty"},
			} {
				_, errs, code := run(t, env, append(args, c.flags...)...)
				if code == 0 || errs != "offboard: "+c.want+"\n" {
					t.Errorf("%v %q: exit %d stderr %q, want %q", args, c.flags, code, errs, c.want)
				}
			}
		}
	})
}

func TestJSONEverywhereCommands(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, args := range [][]string{
		{"terminate", "E1001"},
		{"retry", "E1001", "--step", "okta.suspend"},
		{"skip", "E1001", "--step", "okta.suspend", "--reason", "r"},
		{"cut-now", "E1001"},
		{"rescind", "E1001", "--reason", "r"},
	} {
		_, errs, code := run(t, env, append(args, "-o", "xml")...)
		if code == 0 || !strings.Contains(errs, `output format "xml": want text or json`) {
			t.Errorf("%v -o xml: exit %d %q", args, code, errs)
		}
		// -o json is taken; what fails is reaching Temporal.
		_, errs, code = run(t, env, append(args, "-o", "json")...)
		if code == 0 || !strings.Contains(errs, "cannot reach Temporal at") {
			t.Errorf("%v -o json: exit %d %q", args, code, errs)
		}
	}
}
