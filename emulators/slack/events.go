package slack

import (
	"encoding/json"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/events (emu.EventsPath) appends Audit Logs API entries
// given as Slack serves them:
//
//	{"entries": [{"date_create": 1795680000, "action": "file_downloaded",
//	  "actor": {"type": "user", "user": {"id": "W0001", "name": "Ada", "email": "ada@example.com"}},
//	  "entity": {"type": "file", "file": {"id": "F0001", "name": "plan.pdf"}},
//	  "context": {"ip_address": "203.0.113.7", "ua": "...", "location": {"type": "workspace", "id": "T0001"}}}]}
//
// date_create (Unix seconds), action and actor.user.id are required; a
// missing id gets a new UUID, and an id already in the log is refused.
// entity.type, when entity is given, names the member holding the entity
// ("user", "file", "channel", "app", "workspace", "enterprise", ...), whose
// id the entity filter matches. Every field given is kept: GET
// /audit/v1/logs serves the entry as given (plus the id it lacked), and its
// actor, action, entity, oldest, latest, limit and cursor apply to it. A
// field of the wrong JSON type for an audit entry is refused, naming it.

func (s *Server) eventsEndpoint() emu.Events {
	return emu.Events{Key: "entries", Append: s.appendEntries}
}

// appendEntries checks every given entry, then appends them all.
func (s *Server) appendEntries(items []json.RawMessage) error {
	s.Lock()
	defer s.Unlock()
	st := s.St
	have := make([]string, 0, len(st.Events))
	for _, e := range st.Events {
		have = append(have, e.ID)
	}
	return emu.AppendKeyed(items, emu.Keyed[*auditEntry]{
		Field: "id", Log: "the audit log", Existing: have,
		Parse: func(i int, raw json.RawMessage) (*auditEntry, string, error) {
			e, err := parseEntry(i, raw)
			if err != nil {
				return nil, "", err
			}
			return e, e.ID, nil
		},
		NewID: st.newUUID,
		Add: func(e *auditEntry, id string, given json.RawMessage) {
			e.ID, e.Given = id, given
			st.Events = append(st.Events, e)
		},
	})
}

// givenUser is an audit entry's user, as slack-go's AuditUser reads it.
type givenUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Team  string `json:"team"`
}

// parseEntry reads entry i into the fields the audit log queries use. The
// types checked are those of Slack's entries (and slack-go's AuditEntry).
func parseEntry(i int, raw json.RawMessage) (*auditEntry, error) {
	var in struct {
		ID         *string `json:"id"`
		DateCreate *int64  `json:"date_create"`
		Action     *string `json:"action"`
		Actor      *struct {
			Type string     `json:"type"`
			User *givenUser `json:"user"`
		} `json:"actor"`
		Entity *struct {
			Type    string    `json:"type"`
			User    givenUser `json:"user"`
			Channel struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Privacy     string `json:"privacy"`
				IsShared    bool   `json:"is_shared"`
				IsOrgShared bool   `json:"is_org_shared"`
			} `json:"channel"`
			File struct {
				ID       string `json:"id"`
				Name     string `json:"name"`
				Filetype string `json:"filetype"`
				Title    string `json:"title"`
			} `json:"file"`
			App struct {
				ID                  string   `json:"id"`
				Name                string   `json:"name"`
				IsDistributed       bool     `json:"is_distributed"`
				IsDirectoryApproved bool     `json:"is_directory_approved"`
				IsWorkflowApp       bool     `json:"is_workflow_app"`
				Scopes              []string `json:"scopes"`
			} `json:"app"`
			Workspace struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Domain string `json:"domain"`
			} `json:"workspace"`
			Enterprise struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Domain string `json:"domain"`
			} `json:"enterprise"`
		} `json:"entity"`
		Context struct {
			Location struct {
				Type   string `json:"type"`
				ID     string `json:"id"`
				Name   string `json:"name"`
				Domain string `json:"domain"`
			} `json:"location"`
			UA        string `json:"ua"`
			IPAddress string `json:"ip_address"`
		} `json:"context"`
		Details struct {
			MobileOnly  bool   `json:"mobile_only"`
			WebOnly     bool   `json:"web_only"`
			NonSSOOnly  bool   `json:"non_sso_only"`
			ExportType  string `json:"export_type"`
			ExportStart string `json:"export_start_ts"`
			ExportEnd   string `json:"export_end_ts"`
		} `json:"details"`
	}
	if err := emu.DecodeEvent(i, raw, &in); err != nil {
		return nil, err
	}
	if in.DateCreate == nil || *in.DateCreate == 0 {
		return nil, emu.BadEvent(i, "date_create", "required, in Unix seconds")
	}
	if *in.DateCreate < 0 || *in.DateCreate > 1e11 {
		return nil, emu.BadEvent(i, "date_create", "%d is not Unix seconds (milliseconds?)", *in.DateCreate)
	}
	if in.Action == nil || *in.Action == "" {
		return nil, emu.BadEvent(i, "action", "required")
	}
	if in.Actor == nil || in.Actor.User == nil || in.Actor.User.ID == "" {
		return nil, emu.BadEvent(i, "actor.user.id", "required")
	}
	u := in.Actor.User
	e := &auditEntry{
		DateCreate: *in.DateCreate,
		Action:     *in.Action,
		Actor:      auditUser{ID: u.ID, Name: u.Name, Email: u.Email, Team: u.Team},
		Location:   in.Context.Location.Type,
		UA:         in.Context.UA,
		IP:         in.Context.IPAddress,
	}
	if in.ID != nil {
		e.ID = *in.ID
	}
	if in.Entity != nil {
		if in.Entity.Type == "" {
			return nil, emu.BadEvent(i, "entity.type", "required with entity")
		}
		e.EntityType = in.Entity.Type
		var members map[string]json.RawMessage
		_ = json.Unmarshal(raw, &struct {
			Entity *map[string]json.RawMessage `json:"entity"`
		}{&members})
		var ref struct {
			ID string `json:"id"`
		}
		if m, ok := members[e.EntityType]; ok {
			if err := json.Unmarshal(m, &ref); err != nil {
				return nil, emu.BadEvent(i, "entity."+e.EntityType, "want an object with an id")
			}
		}
		e.EntityID = ref.ID
	}
	return e, nil
}
