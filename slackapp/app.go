// Package slackapp is offboard's Slack app: it asks approvers in a private
// channel, posts parked steps with Retry and Skip buttons and case
// summaries to the ops channel (the Notify activity, through
// activities.Notifier), and gives the intake what it needs to take clicks:
// signature verification with slack-go's secrets verifier, the payload, who
// may click, modals, and ephemeral answers through response_url.
//
// It uses the Slack connector's slack-go client (the bot token, the
// configured API URL, retries of reads). It never decides a case: clicks
// become the cases API's Updates, and the case's validators have the last
// word.
package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/config"
	slackconn "github.com/offboard/offboard/connectors/slack"
)

// App is the Slack app of one config.
type App struct {
	api           *sdk.Client
	hc            *http.Client
	teamID        string
	secret        config.Secret
	approvals     *config.Approvals
	ops           string
	security      string
	operators     []string
	operatorGroup string
	webUI         string
	// responseHosts are the hosts a response_url may be on.
	responseHosts []string
}

var _ activities.Notifier = (*App)(nil)

// New builds the app from cfg: nil when Slack is not configured or asked
// nothing of (no approvals, no ops channel). It makes no request.
func New(ctx context.Context, cfg *config.Config) (*App, error) {
	var sec *slackconn.Section
	for _, s := range cfg.Systems {
		if s.Vendor.Name == slackconn.System {
			sec, _ = s.Section.(*slackconn.Section)
		}
	}
	if sec == nil {
		if cfg.Approvals != nil {
			return nil, errors.New("approvals are asked in Slack: add a slack section (with signingSecretFile)")
		}
		return nil, nil
	}
	if cfg.Approvals == nil && sec.OpsChannel == "" && sec.SecurityChannel == "" {
		return nil, nil
	}
	if sec.SigningSecret == "" {
		return nil, fmt.Errorf("approvals need the Slack app's signing secret to verify clicks: set slack.signingSecretFile or %s", slackconn.EnvSigningSecret)
	}
	conn, err := sec.Connector(ctx)
	if err != nil {
		return nil, err
	}
	api := conn.(*slackconn.Client).API()
	app := &App{
		api: api, hc: &http.Client{Timeout: 10 * time.Second}, teamID: sec.TeamID, secret: sec.SigningSecret,
		approvals: cfg.Approvals, ops: sec.OpsChannel, security: sec.SecurityChannel, operators: sec.Operators, operatorGroup: sec.OperatorGroup,
		webUI: strings.TrimSuffix(sec.WebUIURL, "/"), responseHosts: []string{"hooks.slack.com"},
	}
	if sec.APIURL != "" {
		if u, err := url.Parse(sec.APIURL); err == nil && u.Host != "slack.com" {
			app.responseHosts = append(app.responseHosts, u.Host) // a Slack stand-in (the emulator)
		}
	}
	return app, nil
}

// Approvals is the approval policy, or nil.
func (a *App) Approvals() *config.Approvals { return a.approvals }

// Check checks against Slack what the config names: the approvals channel
// exists and is private, the escalation channel too, the ops channel
// exists, the user groups exist. A worker runs it before it starts.
func (a *App) Check(ctx context.Context) error {
	var errs []error
	if p := a.approvals; p != nil {
		errs = append(errs, a.checkPrivate(ctx, "approvals.channel", p.Channel))
		if p.EscalateTo != "" {
			errs = append(errs, a.checkPrivate(ctx, "approvals.escalateTo", p.EscalateTo))
		}
		if p.ApproverGroup != "" {
			if _, err := a.groupMembers(ctx, p.ApproverGroup); err != nil {
				errs = append(errs, fmt.Errorf("approvals.approverGroup %s: %w", p.ApproverGroup, err))
			}
		}
	}
	if a.ops != "" {
		if _, err := a.channel(ctx, a.ops); err != nil {
			errs = append(errs, fmt.Errorf("slack.opsChannel %s: %w", a.ops, err))
		}
	}
	if a.security != "" {
		errs = append(errs, a.checkPrivate(ctx, "slack.securityChannel", a.security))
	}
	if a.operatorGroup != "" {
		if _, err := a.groupMembers(ctx, a.operatorGroup); err != nil {
			errs = append(errs, fmt.Errorf("slack.operatorGroup %s: %w", a.operatorGroup, err))
		}
	}
	return errors.Join(errs...)
}

func (a *App) checkPrivate(ctx context.Context, key, id string) error {
	ch, err := a.channel(ctx, id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", key, id, err)
	}
	if !ch.IsPrivate {
		return fmt.Errorf("%s %s is a public channel: approval requests and watch alerts say who the person is and what they did, so offboard posts them only in a private channel", key, id)
	}
	return nil
}

func (a *App) channel(ctx context.Context, id string) (*sdk.Channel, error) {
	ch, err := a.api.GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: id})
	return ch, slackconn.SDKError("conversations.info", err)
}

// members lists a channel's members.
func (a *App) members(ctx context.Context, id string) ([]string, error) {
	var out []string
	p := &sdk.GetUsersInConversationParameters{ChannelID: id, Limit: 200}
	for {
		ids, next, err := a.api.GetUsersInConversationContext(ctx, p)
		if err != nil {
			return nil, slackconn.SDKError("conversations.members", err)
		}
		out = append(out, ids...)
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

func (a *App) groupMembers(ctx context.Context, id string) ([]string, error) {
	ids, err := a.api.GetUserGroupMembersContext(ctx, id)
	return ids, slackconn.SDKError("usergroups.users.list", err)
}

// Settings says whether a case needs approval, whether it reports to the
// ops channel, and whether its watch posts alerts.
func (a *App) Settings(mode, source string) activities.Settings {
	s := activities.Settings{Notices: a.ops != "", WatchAlerts: a.ops != "" || a.security != ""}
	if p := a.approvals; p.Needs(mode, source) {
		s.Approval = &activities.ApprovalPolicy{
			Quorum: p.Quorum, RemindAfter: p.RemindAfter, EscalateAfter: p.EscalateAfter, Escalate: p.EscalateTo != "",
		}
	}
	return s
}

// Who may click which buttons.
const (
	RoleApprover = "approver"
	RoleOperator = "operator"
)

// ErrNotAllowed is a click by someone the config does not allow.
var ErrNotAllowed = errors.New("not allowed")

// Allowed checks that user may act in role: listed, or a member of the
// role's user group now (read from Slack at each click).
func (a *App) Allowed(ctx context.Context, role, user string) error {
	list, group := a.operators, a.operatorGroup
	if role == RoleApprover {
		if a.approvals == nil {
			return fmt.Errorf("%w: no approval policy is configured", ErrNotAllowed)
		}
		list, group = a.approvals.Approvers, a.approvals.ApproverGroup
	}
	if slices.Contains(list, user) {
		return nil
	}
	if group != "" {
		ids, err := a.groupMembers(ctx, group)
		if err != nil {
			return fmt.Errorf("cannot read who may act as %s: %w", role, err)
		}
		if slices.Contains(ids, user) {
			return nil
		}
	}
	return fmt.Errorf("%w: you are not an offboarding %s", ErrNotAllowed, role)
}

// Email is a user's email as Slack holds it ("" when it shows none).
func (a *App) Email(ctx context.Context, user string) (string, error) {
	u, err := a.api.GetUserInfoContext(ctx, user)
	if err != nil {
		return "", slackconn.SDKError("users.info", err)
	}
	return u.Profile.Email, nil
}

// Verify checks a request's v0 signature (X-Slack-Signature over
// v0:timestamp:body with the signing secret) with slack-go's secrets
// verifier, which also refuses a timestamp more than five minutes from now,
// either way.
func (a *App) Verify(h http.Header, body []byte) error {
	return Verify(h, body, a.secret)
}

// Verify checks a Slack request's signature with secret.
func Verify(h http.Header, body []byte, secret config.Secret) error {
	sv, err := sdk.NewSecretsVerifier(h, secret.Reveal())
	switch {
	case errors.Is(err, sdk.ErrMissingHeaders):
		return errors.New("X-Slack-Signature or X-Slack-Request-Timestamp is missing")
	case errors.Is(err, sdk.ErrExpiredTimestamp):
		return errors.New("the request timestamp is more than 5 minutes from now")
	case errors.Is(err, sdk.ErrInvalidConfiguration):
		return errors.New("no signing secret is configured")
	case err != nil:
		return errors.New("the signature is malformed")
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	if err := sv.Ensure(); err != nil {
		return errors.New("the signature does not match")
	}
	return nil
}

// Parse reads an interaction payload (the form field payload) and checks
// that it comes from the configured team.
func (a *App) Parse(body []byte) (sdk.InteractionCallback, error) {
	var cb sdk.InteractionCallback
	q, err := url.ParseQuery(string(body))
	if err != nil || q.Get("payload") == "" {
		return cb, errors.New("the body has no payload field")
	}
	if err := json.Unmarshal([]byte(q.Get("payload")), &cb); err != nil {
		return cb, errors.New("the payload is not valid JSON")
	}
	if cb.Team.ID != a.teamID && cb.Enterprise.ID != a.teamID {
		return cb, fmt.Errorf("the payload is from team %q, not the configured one", clip(cb.Team.ID, 32))
	}
	return cb, nil
}

// Ephemeral tells the clicker alone why a click was refused, through the
// click's response_url (only a Slack host's).
func (a *App) Ephemeral(ctx context.Context, responseURL, text string) error {
	u, err := url.Parse(responseURL)
	if err != nil || !slices.Contains(a.responseHosts, u.Host) || (u.Scheme != "https" && !loopback(u.Hostname())) {
		return errors.New("the response_url is not Slack's")
	}
	return sdk.PostWebhookCustomHTTPContext(ctx, responseURL, a.hc, &sdk.WebhookMessage{
		Text: text, ResponseType: "ephemeral", ReplaceOriginal: false,
	})
}

// OpenModal opens a modal for the click's trigger_id (within 3 seconds of
// the click).
func (a *App) OpenModal(ctx context.Context, triggerID string, v sdk.ModalViewRequest) error {
	_, err := a.api.OpenViewContext(ctx, triggerID, v)
	return slackconn.SDKError("views.open", err)
}

func loopback(host string) bool { return host == "127.0.0.1" || host == "localhost" || host == "::1" }

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
