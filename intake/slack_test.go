package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors/slack"
	"github.com/offboard/offboard/slackapp"
)

const testSigningSecret = "test-signing-secret"

// slackHandler is an intake with a Slack app and no cases API: every
// request here is refused before a case or Slack would be asked.
func slackHandler(t *testing.T) *Handler {
	t.Helper()
	cfg := &config.Config{Systems: []config.System{{Vendor: slack.Vendor, Section: &slack.Section{
		TeamID: "T0ACME0001", AdminToken: "xoxp-test", SigningSecret: testSigningSecret,
		OpsChannel: "C0OPS", Operators: []string{"U0OPS"},
	}}}}
	app, err := slackapp.New(t.Context(), cfg)
	if err != nil || app == nil {
		t.Fatalf("slack app: %v %v", app, err)
	}
	h, err := New(Options{Config: &config.Intake{Listen: config.DefaultListen}, Slack: app})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func postSlack(t *testing.T, h *Handler, body string, ts time.Time, secret string) (int, problem) {
	t.Helper()
	sts := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + sts + ":" + body))
	r := httptest.NewRequest(http.MethodPost, SlackPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", sts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var p problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	return w.Code, p
}

func payload(v map[string]any) string {
	b, _ := json.Marshal(v)
	return url.Values{"payload": {string(b)}}.Encode()
}

func TestSlackRefusesBadRequests(t *testing.T) {
	h := slackHandler(t)
	now := time.Now()
	team := map[string]any{"id": "T0ACME0001"}
	user := map[string]any{"id": "U0OPS"}
	click := func(value string) string {
		return payload(map[string]any{"type": "block_actions", "team": team, "user": user,
			"actions": []any{map[string]any{"type": "button", "block_id": "b", "action_id": slackapp.ActionRetry, "value": value}}})
	}
	good := slackapp.Button{Case: "offboard/E1001", Step: "okta.suspend", Nonce: "n"}.String()
	for _, c := range []struct {
		name   string
		body   string
		ts     time.Time
		secret string
		status int
		want   string
	}{
		{"forged", click(good), now, "another-secret", 401, "does not match"},
		{"stale", click(good), now.Add(-6 * time.Minute), testSigningSecret, 401, "5 minutes"},
		{"from the future", click(good), now.Add(6 * time.Minute), testSigningSecret, 401, "5 minutes"},
		{"no payload", "token=x", now, testSigningSecret, 400, "no payload"},
		{"not JSON", "payload=%7Bnope", now, testSigningSecret, 400, "not valid JSON"},
		{"another team", payload(map[string]any{"type": "block_actions", "team": map[string]any{"id": "T0OTHER"}, "user": user}), now, testSigningSecret, 400, "team"},
		{"no user", payload(map[string]any{"type": "block_actions", "team": team}), now, testSigningSecret, 400, "no Slack user"},
		{"no action", payload(map[string]any{"type": "block_actions", "team": team, "user": user}), now, testSigningSecret, 400, "want one action"},
		{"not our button", click(`{"deploy":"prod"}`), now, testSigningSecret, 400, "not offboard's"},
		{"not a case", click(slackapp.Button{Case: "deploy/prod", Nonce: "n"}.String()), now, testSigningSecret, 400, "not a case ID"},
		{"unknown action", payload(map[string]any{"type": "block_actions", "team": team, "user": user,
			"actions": []any{map[string]any{"type": "button", "block_id": "b", "action_id": "offboard.delete-everything", "value": good}}}), now, testSigningSecret, 400, "not one of offboard's buttons"},
		{"unknown modal", payload(map[string]any{"type": "view_submission", "team": team, "user": user,
			"view": map[string]any{"callback_id": "other", "private_metadata": good}}), now, testSigningSecret, 400, "not one of offboard's modals"},
		{"modal without state", payload(map[string]any{"type": "view_submission", "team": team, "user": user,
			"view": map[string]any{"callback_id": slackapp.CallbackSkip, "private_metadata": "{}"}}), now, testSigningSecret, 400, "not offboard's"},
	} {
		status, p := postSlack(t, h, c.body, c.ts, c.secret)
		if status != c.status || !strings.Contains(p.Error, c.want) {
			t.Errorf("%s: %d %+v, want %d with %q", c.name, status, p, c.status, c.want)
		}
	}
	// A refused click's answer to Slack is 200 with no body; here, no
	// operator: the clicker is not allowed, and nothing is asked of a case.
	body := payload(map[string]any{"type": "block_actions", "team": team, "user": map[string]any{"id": "U0SOMEONE"},
		"actions": []any{map[string]any{"type": "button", "block_id": "b", "action_id": slackapp.ActionRetry, "value": good}}})
	if status, p := postSlack(t, h, body, now, testSigningSecret); status != http.StatusOK || p.Error != "" {
		t.Errorf("a click by a non-operator: %d %+v, want 200 and no body", status, p)
	}
	h.Wait()
}
