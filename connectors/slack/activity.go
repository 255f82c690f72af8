package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/evidence"
)

var _ connectors.ActivityReader = (*Client)(nil)

// auditPage is how many Audit Logs entries one page asks for.
const auditPage = 200

// Activity reads the Audit Logs API (Enterprise Grid, the admin token with
// auditlogs:read) for entries the user is the actor of between from and to:
// logins, file downloads, exports, with IP and user agent. The raw entries
// are read with plain HTTP, as SCIM is: slack-go's AuditEntry keeps only
// the fields it knows, and evidence keeps the vendor's event whole.
func (c *Client) Activity(ctx context.Context, a connectors.Account, from, to time.Time) ([]evidence.Event, error) {
	const op = "read audit logs"
	id, err := accountID(op, a)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"actor":  {id},
		"oldest": {strconv.FormatInt(from.Unix(), 10)},
		"latest": {strconv.FormatInt(to.Unix(), 10)},
		"limit":  {strconv.Itoa(auditPage)},
	}
	var out []evidence.Event
	seen := map[string]bool{}
	for {
		resp, body, err := c.do(connectors.MarkRead(ctx), op, http.MethodGet, c.auditURL+"logs?"+q.Encode(), nil, "")
		if err != nil {
			return nil, err
		}
		var page struct {
			OK       *bool             `json:"ok"`
			Error    string            `json:"error"`
			Needed   string            `json:"needed"`
			Entries  []json.RawMessage `json:"entries"`
			Metadata struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if resp.StatusCode != http.StatusOK {
			return nil, httpError(op, resp, body)
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, transportError(op, err)
		}
		if page.OK != nil && !*page.OK || page.Error != "" {
			return nil, webError(op, page.Error, page.Needed)
		}
		for _, raw := range page.Entries {
			e, err := auditEntry(raw)
			if err != nil {
				return nil, connectors.Unavailablef(System, op, "an audit entry could not be read: %v", err)
			}
			out = append(out, e)
		}
		next := page.Metadata.NextCursor
		if next == "" {
			break
		}
		if seen[next] {
			return nil, connectors.Unavailablef(System, op, "pagination did not end")
		}
		seen[next] = true
		q.Set("cursor", next)
	}
	// The API answers newest first.
	slices.SortStableFunc(out, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	return out, nil
}

// auditEntry normalises one Audit Logs entry.
func auditEntry(raw json.RawMessage) (evidence.Event, error) {
	var e struct {
		DateCreate int64  `json:"date_create"`
		Action     string `json:"action"`
		Actor      struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"actor"`
		Entity struct {
			Type string `json:"type"`
			File struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"file"`
			Channel struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"channel"`
			App struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"app"`
			Workspace struct {
				ID string `json:"id"`
			} `json:"workspace"`
		} `json:"entity"`
		Context struct {
			UA        string `json:"ua"`
			IPAddress string `json:"ip_address"`
			SessionID any    `json:"session_id"`
		} `json:"context"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return evidence.Event{}, err
	}
	ev := evidence.Event{
		Time: time.Unix(e.DateCreate, 0).UTC(), System: System, Actor: e.Actor.User.ID, Action: e.Action,
		SourceIP: e.Context.IPAddress, UserAgent: e.Context.UA, Raw: raw,
	}
	switch e.Entity.Type {
	case "file":
		ev.Target = first(e.Entity.File.Name, e.Entity.File.ID)
	case "channel":
		ev.Target = first(e.Entity.Channel.Name, e.Entity.Channel.ID)
	case "app":
		ev.Target = first(e.Entity.App.Name, e.Entity.App.ID)
	case "workspace":
		ev.Target = e.Entity.Workspace.ID
	}
	switch e.Action {
	case "user_login", "file_downloaded", "file_downloaded_blocked":
		ev.Outcome = "success"
		if e.Action == "file_downloaded_blocked" {
			ev.Outcome = "failure"
		}
	case "user_login_failed":
		ev.Outcome = "failure"
	}
	return ev, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
