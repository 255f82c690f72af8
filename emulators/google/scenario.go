package google

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// The scenario's addresses: a US home ISP for ordinary days, Astrill VPN
// (as in the Okta and GitHub scenarios) for the insider.
const (
	ordinaryIP = "198.51.100.20"
	scenarioIP = "45.14.71.9"
)

// DevScenario plays four ordinary weeks into the Reports API for every seed
// person whose Google account is not suspended — a login_success each
// weekday morning (09:05 UTC) from a home ISP, and a Drive view of one of
// their own documents on Tuesdays and Thursdays — and, for each seed
// person marked emu.ScenarioInsider, the last days of an insider instead:
// 40 Drive downloads of distinct documents ("Roadmap 01" …) over the five
// days before now, from a VPN address. Nothing is dated after now (nor
// older than the 180 days the Reports API keeps), and the activities get
// new uniqueQualifiers, so playing it never collides with the log it
// joins.
func (s *Server) DevScenario(now time.Time) error {
	type person struct {
		email, profileID, name string
		insider                bool
	}
	s.Lock()
	domain := s.St.Domain
	var people []person
	for _, p := range s.org.People {
		if p.Google == nil {
			continue
		}
		var u *user
		for _, su := range s.St.Users {
			if su.EmployeeID == p.EmployeeID {
				u = su
				break
			}
		}
		if u == nil || u.Suspended {
			continue
		}
		people = append(people, person{email: u.PrimaryEmail, profileID: u.ID,
			name: strings.TrimSpace(u.GivenName + " " + u.FamilyName), insider: p.Scenario == emu.ScenarioInsider})
	}
	s.Unlock()

	var items []json.RawMessage
	activity := func(p person, at time.Time, app, ip string, ev map[string]any) {
		a := map[string]any{
			"kind":  "admin#reports#activity",
			"id":    map[string]any{"time": at.UTC().Format(timeLayout), "applicationName": app},
			"actor": map[string]any{"callerType": "USER", "email": p.email, "profileId": p.profileID}, "ipAddress": ip,
			"events": []any{ev},
		}
		if app == "drive" {
			a["ownerDomain"] = domain
		}
		items = append(items, emu.JSON(a))
	}
	for _, p := range people {
		if p.insider {
			for i := range 40 {
				at := now.Add(-time.Duration(i)*3*time.Hour - 15*time.Minute)
				activity(p, at, "drive", scenarioIP, map[string]any{"type": "access", "name": "download",
					"parameters": driveParams(p.email, fmt.Sprintf("Roadmap %02d", i+1))})
			}
			continue
		}
		docs := []string{p.name + " - 1:1 notes", p.name + " - weekly plan"}
		for _, day := range emu.Weekdays(now) {
			activity(p, day.Add(9*time.Hour+5*time.Minute), "login", ordinaryIP, map[string]any{"type": "login", "name": "login_success",
				"parameters": []*param{strParam("login_type", "google_password"), boolParam("is_suspicious", false)}})
			if wd := day.Weekday(); wd == time.Tuesday || wd == time.Thursday {
				activity(p, day.Add(11*time.Hour), "drive", ordinaryIP, map[string]any{"type": "access", "name": "view",
					"parameters": driveParams(p.email, docs[int(wd)%2])})
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.appendActivities(items); err != nil {
		return fmt.Errorf("google scenario: %w", err)
	}
	return nil
}
