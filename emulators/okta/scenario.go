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

// DevScenario plays four ordinary weeks into the System Log for everyone
// active — a sign-in each weekday morning from a home ISP — and, for each
// seed person marked emu.ScenarioInsider, the last days of an insider
// instead: a sign-in a day for the three days before now, through
// Astrill VPN, from abroad, and an API token made two days ago.
func (s *Server) DevScenario(now time.Time) error {
	var items []json.RawMessage
	for _, p := range s.org.People {
		if p.Okta == nil || p.Okta.Status != "ACTIVE" {
			continue
		}
		if p.Scenario != emu.ScenarioInsider {
			items = append(items, ordinaryDays(p.Okta.ID, p.Email, now)...)
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

// ordinaryDays is four weeks of weekday sign-ins at 09:00 UTC from a US
// home ISP (AS7922).
func ordinaryDays(id, email string, now time.Time) []json.RawMessage {
	var out []json.RawMessage
	for _, day := range emu.Weekdays(now) {
		at := day.Add(9 * time.Hour)
		out = append(out, emu.JSON(map[string]any{
			"eventType": "user.session.start", "published": at.Format(time.RFC3339),
			"actor":           map[string]any{"id": id, "type": "User", "alternateId": email},
			"client":          map[string]any{"ipAddress": "198.51.100.20", "geographicalContext": map[string]any{"country": "United States"}},
			"securityContext": map[string]any{"asNumber": 7922, "asOrg": "Comcast Cable Communications", "isProxy": false},
			"outcome":         map[string]any{"result": "SUCCESS"}, "displayMessage": "User login to Okta", "severity": "INFO",
		}))
	}
	return out
}
