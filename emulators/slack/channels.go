package slack

import (
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// The demo conversations and user group the emulator holds when the seed
// names none. Approvers are the seed's security people (see
// SecurityPeople).
const (
	// ApprovalsChannelID is #offboard-approvals: private, the security
	// people and the bot.
	ApprovalsChannelID = "C0APPROVALS"
	// SecurityLeadsChannelID is #security-leads: private, the Slack admins
	// among the security people and their managers, and the bot.
	SecurityLeadsChannelID = "C0SECURITYLEADS"
	// OffboardOpsChannelID is #offboard-ops: public, the security people and
	// the bot.
	OffboardOpsChannelID = "C0OFFBOARDOPS"
	// GeneralChannelID is #general: public, every active seeded user and
	// the bot.
	GeneralChannelID = "C0GENERAL"
	// RandomChannelID is #random: public, every active seeded user, but not
	// the bot (so the bot posting there gets not_in_channel).
	RandomChannelID = "C0RANDOM"
	// SecurityGroupID is the @security-team user group: the security people.
	SecurityGroupID = "S0SECURITY"
)

// channel is a conversation the emulator knows.
type channel struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Private bool      `json:"private"`
	Purpose string    `json:"purpose,omitempty"`
	Creator string    `json:"creator"`
	Created time.Time `json:"created"`
	// Members are user IDs in join order; deactivated users are left out
	// when listed.
	Members []string `json:"members"`
}

// usergroup is a user group (subteam).
type usergroup struct {
	ID          string    `json:"id"`
	Handle      string    `json:"handle"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Users       []string  `json:"users"`
}

// SecurityPeople are the seed's security people, who approve offboarding in
// the demo: people with a Slack account that is not deactivated who are in
// the Okta group named "Security", hold Okta's USER_ADMIN role, or are Slack
// admins. In the demo seed: Margaret Hamilton (U00001005) and Katherine
// Johnson (U00001017). It returns their Slack user IDs in seed order.
func SecurityPeople(org *seed.Org) []string {
	if org == nil {
		return nil
	}
	security := map[string]bool{}
	for _, g := range org.Okta.Groups {
		if strings.EqualFold(g.Name, "Security") {
			security[g.ID] = true
		}
	}
	var out []string
	for _, p := range org.People {
		if p.Slack == nil || p.Slack.ID == "" || p.Slack.Deactivated {
			continue
		}
		in := p.Slack.Admin
		if p.Okta != nil {
			for _, g := range p.Okta.Groups {
				in = in || security[g]
			}
			in = in || slices.Contains(p.Okta.Roles, "USER_ADMIN")
		}
		if in && !slices.Contains(out, p.Slack.ID) {
			out = append(out, p.Slack.ID)
		}
	}
	return out
}

// securityLeads are the Slack admins among the security people and the
// managers of the security people, as Slack user IDs.
func securityLeads(org *seed.Org, sec []string) []string {
	byEmployee := map[string]seed.Person{}
	for _, p := range org.People {
		byEmployee[p.EmployeeID] = p
	}
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, p := range org.People {
		if p.Slack == nil || !slices.Contains(sec, p.Slack.ID) {
			continue
		}
		if m, ok := byEmployee[p.Manager]; ok && m.Slack != nil && !m.Slack.Deactivated {
			add(m.Slack.ID)
		}
	}
	for _, p := range org.People {
		if p.Slack != nil && p.Slack.Admin && slices.Contains(sec, p.Slack.ID) {
			add(p.Slack.ID)
		}
	}
	return out
}

// defaultDirectory is the demo's conversations and user groups, derived
// from the seed's people.
func defaultDirectory(org *seed.Org) ([]*channel, []*usergroup) {
	sec := SecurityPeople(org)
	var everyone []string
	for _, p := range org.People {
		if p.Slack != nil && p.Slack.ID != "" && !p.Slack.Deactivated {
			everyone = append(everyone, p.Slack.ID)
		}
	}
	with := func(ids []string, extra ...string) []string {
		return append(slices.Clone(ids), extra...)
	}
	created := seedTime.Add(-24 * time.Hour)
	chans := []*channel{
		{ID: ApprovalsChannelID, Name: "offboard-approvals", Private: true, Purpose: "Offboarding approvals", Members: with(sec, BotUserID)},
		{ID: SecurityLeadsChannelID, Name: "security-leads", Private: true, Purpose: "Security leads: escalations", Members: with(securityLeads(org, sec), BotUserID)},
		{ID: OffboardOpsChannelID, Name: "offboard-ops", Purpose: "What offboard did", Members: with(sec, BotUserID)},
		{ID: GeneralChannelID, Name: "general", Purpose: "Everyone", Members: with(everyone, BotUserID)},
		{ID: RandomChannelID, Name: "random", Purpose: "Anything", Members: with(everyone)},
	}
	for _, c := range chans {
		c.Creator, c.Created = AdminUserID, created
	}
	groups := []*usergroup{
		{ID: SecurityGroupID, Handle: "security-team", Name: "Security", Description: "Approves offboarding", Created: created, Users: slices.Clone(sec)},
	}
	return chans, groups
}

func (st *state) channel(id string) *channel {
	for _, c := range st.Channels {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (st *state) channelByName(name string) *channel {
	for _, c := range st.Channels {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// activeMembers lists a conversation's members without deactivated users
// (Slack drops them from conversations and groups); IDs that are not seeded
// users (the bot) stay.
func (st *state) activeMembers(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if u := st.user(id); u != nil && !u.Active {
			continue
		}
		out = append(out, id)
	}
	return out
}

func (c *channel) has(userID string) bool { return slices.Contains(c.Members, userID) }

// resolveChannel finds the conversation a channel argument names for the
// caller: a conversation ID, a #name, or a user ID (their DM with the
// caller). It returns the conversation ID, the channel (nil for a DM) and
// Slack's error code. A private channel the caller is not in is not found,
// as Slack hides it; a public one it is not in gives not_in_channel when
// post is set (the caller wants to write there).
func (s *Server) resolveChannel(arg string, id *identity, post bool) (string, *channel, string) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return "", nil, "channel_not_found"
	}
	isID := len(arg) >= 9 && strings.ToUpper(arg) == arg && !strings.ContainsAny(arg, "#-_ ")
	c := s.St.channel(arg)
	switch {
	case c != nil:
	case isID && (arg[0] == 'U' || arg[0] == 'W'):
		if post {
			return s.St.conversationID("D", "dm/"+arg), nil, ""
		}
		return "", nil, "channel_not_found"
	case isID && arg[0] == 'D':
		return arg, nil, ""
	case isID:
	default:
		c = s.St.channelByName(strings.TrimPrefix(arg, "#"))
	}
	if c == nil {
		return "", nil, "channel_not_found"
	}
	// The org admin's token stands in for every channel's owner.
	if !id.admin && !c.has(id.userID) {
		if c.Private {
			return "", nil, "channel_not_found"
		}
		if post && !id.has("chat:write.public") {
			return "", nil, "not_in_channel"
		}
	}
	return c.ID, c, ""
}

// readScope is the scope reading a conversation needs.
func (c *channel) readScope() string {
	if c.Private {
		return "groups:read"
	}
	return "channels:read"
}

func (s *Server) channelJSON(c *channel, id *identity, numMembers bool) map[string]any {
	created := c.Created.Unix()
	body := map[string]any{
		"id": c.ID, "name": c.Name, "name_normalized": c.Name,
		"is_channel": true, "is_group": false, "is_im": false, "is_mpim": false,
		"is_private": c.Private, "created": created, "creator": c.Creator,
		"is_archived": false, "is_general": c.ID == GeneralChannelID, "unlinked": 0,
		"is_shared": false, "is_org_shared": false, "is_ext_shared": false, "is_pending_ext_shared": false,
		"pending_shared": []string{}, "context_team_id": s.St.TeamID, "updated": created * 1000,
		"parent_conversation": nil, "shared_team_ids": []string{s.St.TeamID},
		"is_member":      id.admin || c.has(id.userID),
		"topic":          map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose":        map[string]any{"value": c.Purpose, "creator": c.Creator, "last_set": created},
		"previous_names": []string{},
	}
	if numMembers {
		body["num_members"] = len(s.St.activeMembers(c.Members))
	}
	return body
}

// checkRead finds the conversation and checks the caller may read it.
func (s *Server) readableChannel(cl *call) *channel {
	_, c, bad := s.resolveChannel(cl.v.Get("channel"), cl.id, false)
	if bad == "" && c == nil {
		bad = "channel_not_found"
	}
	if bad != "" {
		webErr(cl.w, bad)
		return nil
	}
	if sc := c.readScope(); !cl.id.has(sc) {
		webErr(cl.w, "missing_scope", "needed", sc, "provided", strings.Join(cl.id.scopes, ","))
		return nil
	}
	return c
}

// https://docs.slack.dev/reference/methods/conversations.info
func (s *Server) conversationsInfo(cl *call) {
	c := s.readableChannel(cl)
	if c == nil {
		return
	}
	ok(cl.w, map[string]any{"channel": s.channelJSON(c, cl.id, truthy(cl.v.Get("include_num_members")))})
}

// https://docs.slack.dev/reference/methods/conversations.members
func (s *Server) conversationsMembers(cl *call) {
	c := s.readableChannel(cl)
	if c == nil {
		return
	}
	lim, okLimit := parseInt(cl.v.Get("limit"), 100)
	if !okLimit || lim < 0 {
		webErr(cl.w, "invalid_limit")
		return
	}
	if lim == 0 || lim > 1000 {
		lim = 1000
	}
	members := s.St.activeMembers(c.Members)
	start, end, next, valid := offsetPage("member", cl.v.Get("cursor"), len(members), lim)
	if !valid {
		webErr(cl.w, "invalid_cursor")
		return
	}
	ok(cl.w, map[string]any{"members": members[start:end], "response_metadata": map[string]any{"next_cursor": next}})
}

func (st *state) usergroup(id string) *usergroup {
	for _, g := range st.UserGroups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *Server) usergroupJSON(g *usergroup, withUsers bool) map[string]any {
	users := s.St.activeMembers(g.Users)
	body := map[string]any{
		"id": g.ID, "team_id": s.St.TeamID, "enterprise_subteam_id": "", "is_usergroup": true, "is_subteam": true,
		"name": g.Name, "description": g.Description, "handle": g.Handle, "is_external": false,
		"date_create": g.Created.Unix(), "date_update": g.Created.Unix(), "date_delete": 0,
		"auto_type": nil, "created_by": AdminUserID, "updated_by": AdminUserID, "deleted_by": nil,
		"prefs": map[string]any{"channels": []string{}, "groups": []string{}}, "user_count": len(users),
	}
	if withUsers {
		body["users"] = users
	}
	return body
}

// https://docs.slack.dev/reference/methods/usergroups.users.list
func (s *Server) usergroupsUsersList(cl *call) {
	id := cl.v.Get("usergroup")
	if id == "" {
		webErr(cl.w, "invalid_arguments")
		return
	}
	g := s.St.usergroup(id)
	if g == nil {
		webErr(cl.w, "no_such_subteam")
		return
	}
	ok(cl.w, map[string]any{"users": s.St.activeMembers(g.Users)})
}

// https://docs.slack.dev/reference/methods/usergroups.list
func (s *Server) usergroupsList(cl *call) {
	groups := []any{}
	for _, g := range s.St.UserGroups {
		groups = append(groups, s.usergroupJSON(g, truthy(cl.v.Get("include_users"))))
	}
	ok(cl.w, map[string]any{"usergroups": groups})
}
