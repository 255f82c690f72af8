package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/offboard/offboard/connectors"
)

// maxBody caps what is read from one answer.
const maxBody = 4 << 20

// do sends one request with the admin token and reads the answer.
func (c *Client) do(ctx context.Context, op, method, u string, body io.Reader, contentType string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, transportError(op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.adminToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "offboard")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, transportError(op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, transportError(op, err)
	}
	return resp, b, nil
}

// --- SCIM v2 --------------------------------------------------------------

// scimUser is what the connector reads of a SCIM user resource.
type scimUser struct {
	ID     string `json:"id"`
	Active *bool  `json:"active"`
}

// active reports SCIM's active; a resource without it counts as active, so
// a deactivation is still attempted.
func (u *scimUser) active() bool { return u.Active == nil || *u.Active }

func (u *scimUser) status() string {
	if u.active() {
		return StatusActive
	}
	return StatusDeactivated
}

type scimList struct {
	TotalResults int        `json:"totalResults"`
	ItemsPerPage int        `json:"itemsPerPage"`
	StartIndex   int        `json:"startIndex"`
	Resources    []scimUser `json:"Resources"`
}

// scim calls the SCIM API. out may be nil. A non-2xx answer is returned as
// a *connectors.Error with the status.
func (c *Client) scim(ctx context.Context, op, method, path string, q url.Values, out any) error {
	u := c.scimURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, body, err := c.do(ctx, op, method, u, nil, "")
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(op, resp, body)
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return transportError(op, err)
	}
	return nil
}

// getSCIMUser reads GET /Users/{id}.
//
// https://docs.slack.dev/reference/scim-api
func (c *Client) getSCIMUser(ctx context.Context, op, id string) (*scimUser, error) {
	var u scimUser
	if err := c.scim(ctx, op, http.MethodGet, "Users/"+url.PathEscape(id), nil, &u); err != nil {
		return nil, err
	}
	if u.ID != id {
		return nil, &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Status: http.StatusOK,
			Msg: fmt.Sprintf("SCIM answered user %q for %s", u.ID, id)}
	}
	return &u, nil
}

var filterQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// findSCIMByEmail lists the SCIM users whose email is the given one, active
// or not, following startIndex/count pages.
func (c *Client) findSCIMByEmail(ctx context.Context, op, email string) ([]scimUser, error) {
	const count = 100
	var all []scimUser
	start := 1
	for page := 0; ; page++ {
		if page >= 100 {
			return nil, &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Msg: "SCIM pagination did not end"}
		}
		q := url.Values{
			"filter":     {`email eq "` + filterQuoter.Replace(email) + `"`},
			"startIndex": {strconv.Itoa(start)},
			"count":      {strconv.Itoa(count)},
		}
		var l scimList
		if err := c.scim(ctx, op, http.MethodGet, "Users", q, &l); err != nil {
			return nil, err
		}
		all = append(all, l.Resources...)
		start += len(l.Resources)
		if len(l.Resources) == 0 || start > l.TotalResults {
			return all, nil
		}
	}
}

// --- admin.* Web API methods ------------------------------------------------

// webEnvelope is the part of every Web API answer that says how it went.
type webEnvelope struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Needed   string `json:"needed"`
	Metadata struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
}

// admin POSTs a form to an admin.* Web API method with the admin token and
// decodes the answer into out (which may be nil).
func (c *Client) admin(ctx context.Context, op, method string, form url.Values, out any) (webEnvelope, error) {
	resp, body, err := c.do(ctx, op, http.MethodPost, c.apiURL+method, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return webEnvelope{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return webEnvelope{}, httpError(op, resp, body)
	}
	var env webEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return webEnvelope{}, transportError(op, err)
	}
	if !env.OK {
		return env, webError(op, env.Error, env.Needed)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return env, transportError(op, err)
		}
	}
	return env, nil
}

// activeSession is one entry of admin.users.session.list.
type activeSession struct {
	UserID    string `json:"user_id"`
	TeamID    string `json:"team_id"`
	SessionID int64  `json:"session_id"`
	Created   struct {
		DeviceHardware string `json:"device_hardware"`
		OS             string `json:"os"`
	} `json:"created"`
}

// listSessions lists the user's active sessions in the configured
// workspace, following cursors.
//
// https://docs.slack.dev/reference/methods/admin.users.session.list
func (c *Client) listSessions(ctx context.Context, op, id string) ([]activeSession, error) {
	var all []activeSession
	cursor := ""
	for page := 0; ; page++ {
		if page >= 100 {
			return nil, &connectors.Error{Kind: connectors.Unavailable, System: System, Op: op, Msg: "session list pagination did not end"}
		}
		form := url.Values{"user_id": {id}, "team_id": {c.teamID}, "limit": {"1000"}}
		if cursor != "" {
			form.Set("cursor", cursor)
		}
		var out struct {
			ActiveSessions []activeSession `json:"active_sessions"`
		}
		// A read, though a POST: it may be retried.
		env, err := c.admin(connectors.MarkRead(ctx), op, "admin.users.session.list", form, &out)
		if err != nil {
			return nil, err
		}
		for _, s := range out.ActiveSessions {
			if s.UserID == "" || s.UserID == id {
				all = append(all, s)
			}
		}
		cursor = env.Metadata.NextCursor
		if cursor == "" {
			return all, nil
		}
	}
}

// resetSessions wipes every session of the user on every device.
//
// https://docs.slack.dev/reference/methods/admin.users.session.reset
func (c *Client) resetSessions(ctx context.Context, op, id string) error {
	_, err := c.admin(ctx, op, "admin.users.session.reset", url.Values{"user_id": {id}}, nil)
	return err
}
