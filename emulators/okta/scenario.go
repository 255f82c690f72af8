package okta

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

var _ emu.Scenario = (*Server)(nil)

// Astrill VPN's network as the scenario's sign-ins come from it.
const (
	scenarioASN = 58546
	scenarioIP  = "45.14.71.9"
)

// DevScenario plays a scripted insider's last days into the System Log
// for each seed person marked emu.ScenarioInsider: a sign-in a day for
// the three days before now, through Astrill VPN, from abroad, and an
// API token made two days ago.
func (s *Server) DevScenario(now time.Time) error {
	var items []json.RawMessage
	for _, p := range s.org.People {
		if p.Scenario != emu.ScenarioInsider || p.Okta == nil {
			continue
		}
		actor := map[string]any{"id": p.Okta.ID, "type": "User", "alternateId": p.Email, "displayName": p.FirstName + " " + p.LastName}
		client := map[string]any{"ipAddress": scenarioIP, "geographicalContext": map[string]any{"country": "Netherlands", "city": "Amsterdam"},
			"userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0 (X11; Linux x86_64)", "os": "Linux", "browser": "CHROME"}}
		sec := map[string]any{"asNumber": scenarioASN, "asOrg": "Astrill VPN", "isp": "Astrill", "isProxy": true}
		for d := 3; d >= 1; d-- {
			items = append(items, emu.JSON(map[string]any{
				"eventType": "user.session.start", "published": now.Add(-time.Duration(d) * 24 * time.Hour).UTC().Format(time.RFC3339),
				"actor": actor, "client": client, "securityContext": sec, "outcome": map[string]any{"result": "SUCCESS"},
				"displayMessage": "User login to Okta", "severity": "INFO",
			}))
		}
		items = append(items, emu.JSON(map[string]any{
			"eventType": "system.api_token.create", "published": now.Add(-48 * time.Hour).UTC().Format(time.RFC3339),
			"actor": actor, "client": client, "securityContext": sec, "outcome": map[string]any{"result": "SUCCESS"},
			"displayMessage": "Create API token", "severity": "INFO",
		}))
	}
	if len(items) == 0 {
		return nil
	}
	if err := s.appendEvents(items); err != nil {
		return fmt.Errorf("okta scenario: %w", err)
	}
	return nil
}
