package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/workflows"
)

// A layoff file is read whole first: a header and blank lines are fine,
// each row's time and reason are its own, and one malformed row refuses
// the file, naming its line.
func TestReadLayoff(t *testing.T) {
	base := workflows.Input{Mode: workflows.ModeStandard, Reason: "reduction in force", RequestedBy: "hr"}
	good := "employeeId,effectiveAt,reason\nE1001\n\nE1002, 2027-01-04 17:00 ,last day\n\"E1005\",,\n"
	people, err := readLayoff(strings.NewReader(good), "layoff.csv", base, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 3 {
		t.Fatalf("%d people: %+v", len(people), people)
	}
	if people[0].EmployeeID != "E1001" || !people[0].EffectiveAt.IsZero() || people[0].Reason != "reduction in force" {
		t.Errorf("row 1: %+v", people[0])
	}
	want := time.Date(2027, 1, 4, 16, 0, 0, 0, time.UTC) // 17:00 in Berlin
	if people[1].Reason != "last day" || !people[1].EffectiveAt.Equal(want) {
		t.Errorf("row 2: %+v (want %s)", people[1], want)
	}
	for name, tc := range map[string]struct{ csv, want string }{
		"bad time":     {"E1001\nE1002,next tuesday\n", "line 2"},
		"duplicate":    {"E1001\ne1001\n", "line 1 too"},
		"bad id":       {"E1001\nE 1002\n", "line 2"},
		"four columns": {"E1001,,,x\n", "4 columns"},
		"empty":        {"employeeId,effectiveAt,reason\n", "no one"},
		"bad quoting":  {"E1001,\"x\n", "layoff.csv"},
	} {
		_, err := readLayoff(strings.NewReader(tc.csv), "layoff.csv", base, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
