package slack

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// The scenario's addresses: a US home ISP for ordinary days, Astrill VPN
// (as in the Okta and GitHub scenarios) for the insider.
const (
	ordinaryIP = "198.51.100.20"
	scenarioIP = "45.14.71.9"
	scenarioUA = "Mozilla/5.0 (X11; Linux x86_64)"
)

// DevScenario plays four ordinary weeks into the Audit Logs for every seed
// person whose Slack account is active — a user_login each weekday
// morning (09:00 UTC) from a home ISP, and a file download on Tuesdays and,
// every other week, on Thursdays — and, for each seed person marked
// emu.ScenarioInsider, the last days of an insider instead: 30 downloads
// of distinct files (roadmap-01.pdf …) over the five days before now,
// from a VPN address. Nothing is dated after now. The entries get new
// ids, so playing it never collides with the log it joins.
func (s *Server) DevScenario(now time.Time) error {
	type person struct {
		actor   map[string]any
		insider bool
	}
	s.Lock()
	team, label := s.St.TeamID, s.St.domainLabel()
	var people []person
	for _, p := range s.org.People {
		if p.Slack == nil {
			continue
		}
		u := s.St.user(p.Slack.ID)
		if u == nil || !u.Active {
			continue
		}
		people = append(people, person{
			actor:   map[string]any{"type": "user", "user": map[string]any{"id": u.ID, "name": u.realName(), "email": u.Email, "team": team}},
			insider: p.Scenario == emu.ScenarioInsider,
		})
	}
	s.Unlock()

	location := map[string]any{"type": "workspace", "id": team, "name": label, "domain": label}
	where := func(ip, ua string) map[string]any {
		return map[string]any{"location": location, "ua": ua, "ip_address": ip}
	}
	file := func(id, name, title string) map[string]any {
		return map[string]any{"type": "file", "file": map[string]any{"id": id, "name": name, "filetype": "pdf", "title": title}}
	}
	var items []json.RawMessage
	for _, p := range people {
		user := p.actor["user"].(map[string]any)
		if p.insider {
			for i := range 30 {
				at := now.Add(-time.Duration(i)*4*time.Hour - 30*time.Minute)
				items = append(items, emu.JSON(map[string]any{
					"date_create": at.Unix(), "action": "file_downloaded", "actor": p.actor,
					"entity":  file(fmt.Sprintf("F0ROADMAP%02d", i+1), fmt.Sprintf("roadmap-%02d.pdf", i+1), fmt.Sprintf("Roadmap %02d", i+1)),
					"context": where(scenarioIP, scenarioUA),
				}))
			}
			continue
		}
		id := user["id"].(string)
		n := 0
		for _, day := range emu.Weekdays(now) {
			login := day.Add(9 * time.Hour)
			items = append(items, emu.JSON(map[string]any{
				"date_create": login.Unix(), "action": "user_login", "actor": p.actor,
				"entity": map[string]any{"type": "user", "user": user}, "context": where(ordinaryIP, desktopUA),
			}))
			_, week := day.ISOWeek()
			if wd := day.Weekday(); wd == time.Tuesday || wd == time.Thursday && week%2 == 0 {
				n++
				items = append(items, emu.JSON(map[string]any{
					"date_create": day.Add(14 * time.Hour).Unix(), "action": "file_downloaded", "actor": p.actor,
					"entity":  file(fmt.Sprintf("F0%s%02d", id, n), fmt.Sprintf("team-notes-%02d.pdf", n), fmt.Sprintf("Team notes %02d", n)),
					"context": where(ordinaryIP, desktopUA),
				}))
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.appendEntries(items); err != nil {
		return fmt.Errorf("slack scenario: %w", err)
	}
	return nil
}
