package github

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// DevScenario plays a scripted insider's last days into the audit log for
// each seed person marked emu.ScenarioInsider: 40 clones of distinct
// repositories over the five days before now, over SSH from a VPN
// address, and a personal access token made two days ago.
func (s *Server) DevScenario(now time.Time) error {
	var items []json.RawMessage
	for _, p := range s.org.People {
		if p.Scenario != emu.ScenarioInsider || p.GitHub == nil || len(p.GitHub.Orgs) == 0 {
			continue
		}
		org := p.GitHub.Orgs[0].Org
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
