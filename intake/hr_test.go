package intake

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEffectiveAt(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		name  string
		d     HRData
		want  time.Time
		field string
	}{
		{"RFC 3339", HRData{EffectiveAt: "2027-01-04T17:00:00-05:00"}, time.Date(2027, 1, 4, 22, 0, 0, 0, time.UTC), ""},
		{"RFC 3339 wins over the zone", HRData{EffectiveAt: "2027-01-04T17:00:00Z", TimeZone: "Europe/Berlin"}, time.Date(2027, 1, 4, 17, 0, 0, 0, time.UTC), ""},
		{"local time in the zone", HRData{EffectiveAt: "2027-01-04T17:00", TimeZone: "Europe/Berlin"}, time.Date(2027, 1, 4, 17, 0, 0, 0, berlin), ""},
		{"local time with seconds", HRData{EffectiveAt: "2027-07-04T17:00:30", TimeZone: "Europe/Berlin"}, time.Date(2027, 7, 4, 17, 0, 30, 0, berlin), ""},
		{"local time without a zone", HRData{EffectiveAt: "2027-01-04T17:00"}, time.Time{}, "data.effectiveAt"},
		{"missing", HRData{}, time.Time{}, "data.effectiveAt"},
		{"unknown zone", HRData{EffectiveAt: "2027-01-04T17:00", TimeZone: "Mars/Olympus"}, time.Time{}, "data.timeZone"},
		{"garbage", HRData{EffectiveAt: "next friday", TimeZone: "UTC"}, time.Time{}, "data.effectiveAt"},
	} {
		got, a := effectiveAt(c.d)
		switch {
		case c.field != "":
			if a == nil || a.status != http.StatusBadRequest || a.body.(problem).Field != c.field {
				t.Errorf("%s: %v %+v, want 400 naming %s", c.name, got, a, c.field)
			}
		case a != nil || !got.Equal(c.want):
			t.Errorf("%s: %v %+v, want %v", c.name, got, a, c.want)
		}
	}
}

// A malformed body is described without being echoed.
func TestJSONProblemNamesTheFieldNotTheValue(t *testing.T) {
	var ev HREvent
	err := json.Unmarshal([]byte(`{"type": "termination.scheduled", "data": {"employeeId": 42}}`), &ev)
	if f := jsonField(err); f != "data.employeeId" {
		t.Errorf("field %q", f)
	}
	if p := jsonProblem(err); !strings.Contains(p, "data.employeeId must be a string") {
		t.Errorf("problem %q", p)
	}
	err = json.Unmarshal([]byte(`{"type": "x", "secret@example.com`), &ev)
	if p := jsonProblem(err); strings.Contains(p, "example.com") {
		t.Errorf("the body was echoed: %q", p)
	}
}
