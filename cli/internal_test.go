package cli

import (
	"testing"
	"time"
)

func TestParseAt(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		name, at, tz string
		want         time.Time
		wantErr      bool
	}{
		{"rfc3339", "2027-01-04T17:00:00-05:00", "", time.Date(2027, 1, 4, 22, 0, 0, 0, time.UTC), false},
		{"wall clock utc", "2027-01-04 17:00", "", time.Date(2027, 1, 4, 17, 0, 0, 0, time.UTC), false},
		{"wall clock in zone", "2027-01-04 17:00", "America/New_York", time.Date(2027, 1, 4, 17, 0, 0, 0, ny), false},
		{"garbage", "friday 5pm", "", time.Time{}, true},
		{"bad zone", "2027-01-04 17:00", "Nowhere/Town", time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseAt(c.at, c.tz)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !c.wantErr && !got.Equal(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestBrief(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a", "b", "c"}, "a, b, c"},
		{[]string{"a", "b", "c", "d", "e"}, "a, b, c (+2 more)"},
	} {
		if got := brief(c.in, 3); got != c.want {
			t.Errorf("brief(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
