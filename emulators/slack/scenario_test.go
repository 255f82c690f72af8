package slack_test

import (
	"strings"
	"testing"
	"time"

	sdk "github.com/slack-go/slack"

	slackemu "github.com/offboard/offboard/emulators/slack"
)

const annie = "U00001019" // E1019, the demo insider

func TestDevScenario(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	now := f.clock.Now()
	before := f.srv.State().AuditEventCount
	if err := f.srv.DevScenario(now); err != nil {
		t.Fatal(err)
	}
	if f.srv.State().AuditEventCount == before {
		t.Fatal("the scenario appended nothing")
	}
	month := int(now.UTC().Truncate(24 * time.Hour).Add(-28 * 24 * time.Hour).Unix())
	// The seed's own history (a login and a download or two each, days
	// before the test clock) shares the window; the scenario's entries are
	// the ones from its addresses.
	played := func(e sdk.AuditEntry) bool {
		return e.Context.IPAddress == "198.51.100.20" || e.Context.IPAddress == "45.14.71.9"
	}

	// The insider: 30 distinct roadmap files downloaded from the VPN in the
	// last five days.
	got, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Actor: annie, Action: "file_downloaded", Oldest: int(now.Add(-5 * 24 * time.Hour).Unix()), Limit: 1000})
	files := map[string]bool{}
	n := 0
	for _, e := range got {
		if !played(e) {
			continue
		}
		n++
		if e.Context.IPAddress != "45.14.71.9" || e.Entity.Type != "file" || !strings.HasPrefix(e.Entity.File.Name, "roadmap-") || e.Actor.User.ID != annie {
			t.Errorf("insider download %+v", e)
		}
		files[e.Entity.File.ID] = true
	}
	if n != 30 || len(files) != 30 {
		t.Errorf("insider: %d downloads of %d distinct files in five days, want 30 of 30", n, len(files))
	}
	// Through the entity filter too: one roadmap file, one download.
	if es, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Entity: "F0ROADMAP07"}); len(es) != 1 || es[0].Entity.File.Name != "roadmap-07.pdf" {
		t.Errorf("entity F0ROADMAP07: %+v", es)
	}

	// An ordinary person: a login each weekday at 09:00, a download or two
	// a week, all from home, nothing from the VPN.
	ord, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Actor: ada, Oldest: month, Limit: 1000})
	logins, downloads := map[string]bool{}, map[int]int{}
	for _, e := range ord {
		if !played(e) {
			continue
		}
		at := time.Unix(int64(e.DateCreate), 0).UTC()
		if e.Context.IPAddress == "45.14.71.9" || strings.HasPrefix(e.Entity.File.Name, "roadmap-") {
			t.Errorf("ordinary person has the insider's pattern: %+v", e)
		}
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%s at %s, a weekend", e.Action, at)
		}
		switch e.Action {
		case "user_login":
			if at.Hour() != 9 || e.Context.IPAddress != "198.51.100.20" {
				t.Errorf("login at %s from %s", at, e.Context.IPAddress)
			}
			logins[at.Format(time.DateOnly)] = true
		case "file_downloaded":
			_, w := at.ISOWeek()
			downloads[w]++
		}
	}
	if len(logins) != 20 {
		t.Errorf("ordinary: logins on %d weekdays of four weeks, want 20", len(logins))
	}
	if len(downloads) < 4 {
		t.Errorf("ordinary: downloads in %d weeks, want every week: %v", len(downloads), downloads)
	}
	for w, n := range downloads {
		if n < 1 || n > 2 {
			t.Errorf("ordinary: %d downloads in week %d, want one or two", n, w)
		}
	}

	// A deactivated account gets nothing, and nothing is after now.
	des, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Actor: dennis})
	for _, e := range des {
		if played(e) {
			t.Errorf("deactivated user: %+v", e)
		}
	}
	all, _ := auditEntries(t, f.admin(), sdk.AuditLogParameters{Limit: 1000})
	for _, e := range all {
		if int64(e.DateCreate) > now.Unix() {
			t.Errorf("%s at %d, after now %d", e.Action, e.DateCreate, now.Unix())
		}
	}
}
