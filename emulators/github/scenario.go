package github

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// DevScenario plays four ordinary weeks into the audit log — a clone of
// one of the person's repositories twice a week — and, for each seed
// person marked emu.ScenarioInsider, the last days of an insider instead:
// 40 clones of distinct repositories over the five days before now, over
// SSH from a VPN address, and a personal access token made two days ago.
func (s *Server) DevScenario(now time.Time) error {
	var items []json.RawMessage
	for _, p := range s.org.People {
		if p.GitHub == nil || len(p.GitHub.Orgs) == 0 {
			continue
		}
		org := p.GitHub.Orgs[0].Org
		if p.Scenario != emu.ScenarioInsider {
			// Ordinary weeks: a clone of one of their repositories twice a week.
			repos := p.GitHub.Orgs[0].Repos
			for w := range 4 {
				for _, d := range []int{1, 3} {
					if len(repos) == 0 {
						break
					}
					at := now.Add(-time.Duration(w*7+d)*24*time.Hour - 2*time.Hour)
					items = append(items, emu.JSON(map[string]any{
						"action": "git.clone", "actor": p.GitHub.Login, "org": org, "@timestamp": at.UnixMilli(),
						"repo": repos[(w+d)%len(repos)], "transport": "https", "actor_ip": "198.51.100.20",
					}))
				}
			}
			continue
		}
		for i := range 40 {
			at := now.Add(-time.Duration(i+1) * 3 * time.Hour)
			items = append(items, emu.JSON(map[string]any{
				"action": "git.clone", "actor": p.GitHub.Login, "org": org, "@timestamp": at.UnixMilli(),
				"repo": fmt.Sprintf("%s/internal-%02d", org, i), "repository": fmt.Sprintf("%s/internal-%02d", org, i),
				"transport": "ssh", "actor_ip": "45.14.71.9", "actor_location": map[string]any{"country_code": "NL"},
			}))
		}
		items = append(items, emu.JSON(map[string]any{
			"action": "personal_access_token.create", "actor": p.GitHub.Login, "org": org,
			"@timestamp": now.Add(-48 * time.Hour).UnixMilli(), "actor_ip": "45.14.71.9",
		}))
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.appendEvents(items); err != nil {
		return fmt.Errorf("github scenario: %w", err)
	}
	return nil
}
