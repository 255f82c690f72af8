package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/connectors"
)

// webKind sorts a Web API error code ({"ok":false,"error":"…"}, HTTP 200).
func webKind(code string) connectors.Kind {
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "invalid_authentication":
		return connectors.Unauthenticated
	case "missing_scope", "not_allowed_token_type", "no_permission", "ekm_access_denied", "not_an_admin",
		"access_denied", "insufficient_permissions", "team_access_not_granted", "feature_not_enabled",
		"two_factor_setup_required", "org_login_required", "enterprise_is_restricted",
		"cannot_reset_primary_owner", "cannot_reset_bot",
		"not_in_channel", "is_archived", "restricted_action", "cant_update_message", "edit_window_closed":
		return connectors.PermissionDenied
	case "user_not_found", "users_not_found", "team_not_found", "channel_not_found", "message_not_found", "no_such_subteam":
		return connectors.NotFound
	case "ratelimited", "rate_limited", "too_many_requests":
		return connectors.RateLimited
	case "invalid_arguments", "invalid_user_id", "invalid_cursor", "invalid_limit", "invalid_arg_name",
		"invalid_array_arg", "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
		"invalid_json", "json_not_object", "invalid_range", "invalid_filter", "invalid_syntax", "unknown_method",
		"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "expired_trigger_id", "invalid_trigger_id",
		"exchanged_trigger_id", "invalid_channel":
		return connectors.InvalidInput
	case "fatal_error", "internal_error", "service_unavailable", "request_timeout":
		return connectors.Unavailable
	}
	return connectors.Unavailable
}

// webError is a Web API error answer. Slack sends these with HTTP 200.
func webError(op, code, needed string) error {
	msg := connectors.Scrub(code)
	if needed != "" {
		msg += " (needs scope " + connectors.Scrub(needed) + ")"
	}
	return &connectors.Error{Kind: webKind(code), System: System, Op: op, Status: http.StatusOK, Msg: msg}
}

// sdkError turns a slack-go error into a *connectors.Error.
func sdkError(op string, err error) error {
	if err == nil {
		return nil
	}
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
	}
	var rl *sdk.RateLimitedError
	if errors.As(err, &rl) {
		return &connectors.Error{Kind: connectors.RateLimited, System: System, Op: op, Status: http.StatusTooManyRequests,
			RetryAfter: rl.RetryAfter, Msg: "ratelimited"}
	}
	var sc sdk.StatusCodeError
	if errors.As(err, &sc) {
		ce := &connectors.Error{Kind: statusKind(sc.Code), System: System, Op: op, Status: sc.Code, Msg: connectors.Scrub(sc.Status)}
		if sc.Code == http.StatusNotFound {
			// The Web API reports a missing user with HTTP 200; a 404 is
			// unknown_method, a wrong APIURL.
			ce.Kind = connectors.InvalidInput
			ce.Msg += " (no such method; check the configured APIURL)"
		}
		return ce
	}
	var se sdk.SlackErrorResponse
	if errors.As(err, &se) {
		return webError(op, se.Err, se.Needed)
	}
	return transportError(op, err)
}

// statusKind sorts an HTTP status; every 5xx is Unavailable.
func statusKind(status int) connectors.Kind {
	if status >= 500 {
		return connectors.Unavailable
	}
	return connectors.KindForStatus(status)
}

// transportError describes a failure to get a usable answer. A *url.Error
// names the URL, which can carry an email (a SCIM filter), so only the
// message of its cause is kept (connectors.TransportMessage).
func transportError(op string, err error) error {
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
	}
	ce := &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Msg: connectors.TransportMessage(err)}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		ce.Err = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		ce.Err = context.Canceled
	case errors.As(err, &syn), errors.As(err, &typ):
		ce.Msg = "unreadable response: " + ce.Msg
		ce.Err = errors.New(ce.Msg)
	default:
		ce.Err = errors.New(ce.Msg)
	}
	return ce
}

// scimErrorBody is Slack's SCIM error, {"Errors":{"description","code"}};
// the RFC 7644 form ({"detail","status"}) is read too.
type scimErrorBody struct {
	Errors json.RawMessage `json:"Errors"`
	Detail string          `json:"detail"`
}

type scimErrorItem struct {
	Description string `json:"description"`
	Code        int    `json:"code"`
}

func scimMessage(body []byte) string {
	var b scimErrorBody
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	if len(b.Errors) > 0 {
		var one scimErrorItem
		if json.Unmarshal(b.Errors, &one) == nil && one.Description != "" {
			return one.Description
		}
		var many []scimErrorItem
		if json.Unmarshal(b.Errors, &many) == nil && len(many) > 0 {
			return many[0].Description
		}
	}
	return b.Detail
}

// httpError turns a non-2xx answer from SCIM or a raw Web API call into a
// *connectors.Error.
func httpError(op string, resp *http.Response, body []byte) error {
	ce := &connectors.Error{Kind: statusKind(resp.StatusCode), System: System, Op: op, Status: resp.StatusCode}
	msg := scimMessage(body)
	if msg == "" {
		var web struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &web) == nil {
			msg = web.Error
		}
	}
	if resp.StatusCode == http.StatusNotFound && msg != "user_not_found" && msg != "users_not_found" {
		// Not the user missing: the URL points at no endpoint. NotFound
		// would read as "no Slack account" and leave the real one open.
		ce.Kind = connectors.InvalidInput
		msg = strings.TrimSpace(msg + " (no such endpoint; check the configured URL)")
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	ce.Msg = connectors.Scrub(msg)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		ce.RetryAfter = connectors.RetryAfter(resp.Header, time.Now())
	}
	return ce
}

// SDKError sorts an error from a slack-go call into a connectors.Error of
// the right kind, as the connector's own calls are (the Slack app's
// messages use it).
func SDKError(op string, err error) error { return sdkError(op, err) }
