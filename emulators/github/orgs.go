package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ghTime is how GitHub writes timestamps in REST bodies.
func ghTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func ghTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ghTime(*t)
	return &s
}

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

func renderSimpleUser(c *call, login string, id int64, typ string) userJSON {
	u := c.base + "/users/" + login
	return userJSON{
		Login: login, ID: id, NodeID: nodeID(typ, id),
		AvatarURL:         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		URL:               u,
		HTMLURL:           "https://github.com/" + login,
		FollowersURL:      u + "/followers",
		FollowingURL:      u + "/following{/other_user}",
		GistsURL:          u + "/gists{/gist_id}",
		StarredURL:        u + "/starred{/owner}{/repo}",
		SubscriptionsURL:  u + "/subscriptions",
		OrganizationsURL:  u + "/orgs",
		ReposURL:          u + "/repos",
		EventsURL:         u + "/events{/privacy}",
		ReceivedEventsURL: u + "/received_events",
		Type:              typ,
	}
}

// userRef renders a user by login, or the acting app's bot account.
func (s *Server) userRef(c *call, login string) userJSON {
	if u := s.St.user(login); u != nil {
		return renderSimpleUser(c, u.Login, u.ID, "User")
	}
	return renderSimpleUser(c, s.opts.Actor, actorID, "Bot")
}

type fullUserJSON struct {
	userJSON
	Name            *string `json:"name"`
	Company         *string `json:"company"`
	Blog            string  `json:"blog"`
	Location        *string `json:"location"`
	Email           *string `json:"email"`
	Hireable        *bool   `json:"hireable"`
	Bio             *string `json:"bio"`
	TwitterUsername *string `json:"twitter_username"`
	PublicRepos     int     `json:"public_repos"`
	PublicGists     int     `json:"public_gists"`
	Followers       int     `json:"followers"`
	Following       int     `json:"following"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
}

// getUser serves GET /users/{username}. Profiles keep name and email
// private, as most do.
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request, c *call) {
	login := c.seg[1]
	if u := s.St.user(login); u != nil {
		writeJSON(w, http.StatusOK, fullUserJSON{userJSON: renderSimpleUser(c, u.Login, u.ID, "User"), CreatedAt: ghTime(u.Created), UpdatedAt: ghTime(u.Created)})
		return
	}
	if strings.EqualFold(login, s.opts.Actor) {
		writeJSON(w, http.StatusOK, fullUserJSON{userJSON: renderSimpleUser(c, s.opts.Actor, actorID, "Bot"), CreatedAt: ghTime(seedTime), UpdatedAt: ghTime(seedTime)})
		return
	}
	notFound(w, docUser)
}

type orgJSON struct {
	Login            string  `json:"login"`
	ID               int64   `json:"id"`
	NodeID           string  `json:"node_id"`
	URL              string  `json:"url"`
	ReposURL         string  `json:"repos_url"`
	EventsURL        string  `json:"events_url"`
	HooksURL         string  `json:"hooks_url"`
	IssuesURL        string  `json:"issues_url"`
	MembersURL       string  `json:"members_url"`
	PublicMembersURL string  `json:"public_members_url"`
	AvatarURL        string  `json:"avatar_url"`
	Description      *string `json:"description"`
}

func renderOrg(c *call, o *org) orgJSON {
	u := c.base + "/orgs/" + o.Login
	return orgJSON{
		Login: o.Login, ID: o.ID, NodeID: nodeID("Organization", o.ID), URL: u,
		ReposURL: u + "/repos", EventsURL: u + "/events", HooksURL: u + "/hooks", IssuesURL: u + "/issues",
		MembersURL: u + "/members{/member}", PublicMembersURL: u + "/public_members{/member}",
		AvatarURL: fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", o.ID),
	}
}

// getOrg serves GET /orgs/{org}.
func (s *Server) getOrg(w http.ResponseWriter, _ *http.Request, c *call) {
	writeJSON(w, http.StatusOK, renderOrg(c, c.org))
}

// event appends an audit event for a mutation by the acting token.
func (s *Server) event(c *call, action, subject string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["programmatic_access_type"] = "GitHub App server-to-server token"
	fields["request_id"] = c.rid
	var u *user
	if subject != "" {
		u = s.St.user(subject)
	}
	s.St.Events = append(s.St.Events, s.St.newEvent(c.now, c.org, action, s.opts.Actor, actorID, u, fields))
}

func (s *Server) usersByID(logins []string) []*user {
	var us []*user
	for _, l := range logins {
		if u := s.St.user(l); u != nil {
			us = append(us, u)
		}
	}
	sort.Slice(us, func(i, j int) bool { return us[i].ID < us[j].ID })
	return us
}

// listMembers serves GET /orgs/{org}/members (role=all|admin|member).
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *call) {
	role := r.URL.Query().Get("role")
	switch role {
	case "", "all", "admin", "member":
	default:
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docMembers, fieldError{Resource: "Organization", Field: "role", Code: "invalid"})
		return
	}
	var logins []string
	for _, m := range s.St.Members {
		if m.Org == c.org.Login && (role == "" || role == "all" || role == m.Role) {
			logins = append(logins, m.Login)
		}
	}
	out := []userJSON{}
	for _, u := range paginate(w, r, c, s.usersByID(logins)) {
		out = append(out, renderSimpleUser(c, u.Login, u.ID, "User"))
	}
	writeJSON(w, http.StatusOK, out)
}

// checkMember serves GET /orgs/{org}/members/{username}: 204 for a member,
// 404 otherwise.
func (s *Server) checkMember(w http.ResponseWriter, _ *http.Request, c *call) {
	if s.St.member(c.org.Login, c.seg[3]) == nil {
		notFound(w, "https://docs.github.com/rest/orgs/members#check-organization-membership-for-a-user")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeMember serves DELETE /orgs/{org}/members/{username}.
func (s *Server) removeMember(w http.ResponseWriter, _ *http.Request, c *call) {
	login := c.seg[3]
	if s.St.user(login) == nil {
		notFound(w, docRemoveMember)
		return
	}
	var m *member
	s.St.Members, m = removeFirst(s.St.Members, func(m *member) bool { return m.Org == c.org.Login && strings.EqualFold(m.Login, login) })
	if m != nil {
		s.event(c, "org.remove_member", m.Login, map[string]any{"operation_type": "remove"})
	}
	w.WriteHeader(http.StatusNoContent)
}

type membershipJSON struct {
	URL             string   `json:"url"`
	State           string   `json:"state"`
	Role            string   `json:"role"`
	OrganizationURL string   `json:"organization_url"`
	Organization    orgJSON  `json:"organization"`
	User            userJSON `json:"user"`
}

// getMembership serves GET /orgs/{org}/memberships/{username}: active for
// a member, pending for a login invitation, 404 otherwise.
func (s *Server) getMembership(w http.ResponseWriter, _ *http.Request, c *call) {
	login := c.seg[3]
	u := s.St.user(login)
	if u == nil {
		notFound(w, docMembership)
		return
	}
	out := membershipJSON{
		URL:             c.base + "/orgs/" + c.org.Login + "/memberships/" + u.Login,
		OrganizationURL: c.base + "/orgs/" + c.org.Login,
		Organization:    renderOrg(c, c.org),
		User:            renderSimpleUser(c, u.Login, u.ID, "User"),
	}
	if m := s.St.member(c.org.Login, login); m != nil {
		out.State, out.Role = "active", m.Role
	} else if inv := s.St.loginInvitation(c.org.Login, login); inv != nil {
		out.State, out.Role = "pending", "member"
		if inv.Role == "admin" {
			out.Role = "admin"
		}
	} else {
		notFound(w, docMembership)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// setMembership serves PUT /orgs/{org}/memberships/{username} {"role":
// "admin"|"member"} (default member), the call that re-adds a removed
// member. A member's role is set, recording org.update_member when it
// changes. Anyone else is invited by login, as GitHub does: the membership
// is pending until the invitation is accepted (which the emulator does not
// simulate), and the audit log records org.invite_member with the token's
// account as actor, the invitee as user and operation_type create, the
// shape of GitHub's own entries. A PUT while the invitation is pending sets
// its role and records nothing.
//
// https://docs.github.com/rest/orgs/members#set-organization-membership-for-a-user
func (s *Server) setMembership(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.St.user(c.seg[3])
	if u == nil {
		notFound(w, docSetMship)
		return
	}
	var body struct {
		Role *string `json:"role"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		err = json.Unmarshal(b, &body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docSetMship)
		return
	}
	role := "member"
	if body.Role != nil {
		role = *body.Role
	}
	if role != "admin" && role != "member" {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docSetMship, fieldError{Resource: "Membership", Field: "role", Code: "invalid"})
		return
	}
	out := membershipJSON{
		URL:             c.base + "/orgs/" + c.org.Login + "/memberships/" + u.Login,
		State:           "active",
		Role:            role,
		OrganizationURL: c.base + "/orgs/" + c.org.Login,
		Organization:    renderOrg(c, c.org),
		User:            renderSimpleUser(c, u.Login, u.ID, "User"),
	}
	if m := s.St.member(c.org.Login, u.Login); m != nil {
		if m.Role != role {
			m.Role = role
			s.event(c, "org.update_member", m.Login, map[string]any{"operation_type": "modify", "permission": role})
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	invRole := "direct_member"
	if role == "admin" {
		invRole = "admin"
	}
	if inv := s.St.loginInvitation(c.org.Login, u.Login); inv != nil {
		inv.Role = invRole
	} else {
		s.St.Invitations = append(s.St.Invitations, &invitation{ID: invitationIDBase + s.St.next(), Org: c.org.Login, Login: u.Login, Role: invRole, Created: c.now.UTC()})
		s.event(c, "org.invite_member", u.Login, map[string]any{"operation_type": "create"})
	}
	out.State = "pending"
	writeJSON(w, http.StatusOK, out)
}

// removeMembership serves DELETE /orgs/{org}/memberships/{username}: it
// removes a member, or cancels a pending invitation to the login.
func (s *Server) removeMembership(w http.ResponseWriter, _ *http.Request, c *call) {
	login := c.seg[3]
	var m *member
	s.St.Members, m = removeFirst(s.St.Members, func(m *member) bool { return m.Org == c.org.Login && strings.EqualFold(m.Login, login) })
	if m != nil {
		s.event(c, "org.remove_member", m.Login, map[string]any{"operation_type": "remove"})
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var inv *invitation
	s.St.Invitations, inv = removeFirst(s.St.Invitations, func(i *invitation) bool {
		return i.Org == c.org.Login && i.Login != "" && strings.EqualFold(i.Login, login)
	})
	if inv != nil {
		s.event(c, "org.cancel_invitation", inv.Login, map[string]any{"operation_type": "remove", "invitation_id": inv.ID})
		w.WriteHeader(http.StatusNoContent)
		return
	}
	notFound(w, docRemoveMship)
}

// listOutside serves GET /orgs/{org}/outside_collaborators.
func (s *Server) listOutside(w http.ResponseWriter, r *http.Request, c *call) {
	switch r.URL.Query().Get("filter") {
	case "", "all", "2fa_disabled":
	default:
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docOutside, fieldError{Resource: "Organization", Field: "filter", Code: "invalid"})
		return
	}
	var logins []string
	for _, cb := range s.St.Collaborators {
		if cb.Org == c.org.Login {
			logins = append(logins, cb.Login)
		}
	}
	if r.URL.Query().Get("filter") == "2fa_disabled" {
		logins = nil // every demo user has 2FA on
	}
	out := []userJSON{}
	for _, u := range paginate(w, r, c, s.usersByID(logins)) {
		out = append(out, renderSimpleUser(c, u.Login, u.ID, "User"))
	}
	writeJSON(w, http.StatusOK, out)
}

// removeOutside serves DELETE /orgs/{org}/outside_collaborators/{username}:
// 422 for an org member; 204 otherwise, whether or not the user was a
// collaborator.
func (s *Server) removeOutside(w http.ResponseWriter, _ *http.Request, c *call) {
	login := c.seg[3]
	if s.St.user(login) == nil {
		notFound(w, docRemoveOutside)
		return
	}
	if s.St.member(c.org.Login, login) != nil {
		writeError(w, http.StatusUnprocessableEntity, "You cannot specify an organization member to remove as an outside collaborator.", docRemoveOutside)
		return
	}
	var cb *collaborator
	s.St.Collaborators, cb = removeFirst(s.St.Collaborators, func(x *collaborator) bool { return x.Org == c.org.Login && strings.EqualFold(x.Login, login) })
	if cb != nil {
		s.event(c, "org.remove_outside_collaborator", cb.Login, map[string]any{"operation_type": "remove"})
	}
	w.WriteHeader(http.StatusNoContent)
}

type invitationJSON struct {
	ID                 int64    `json:"id"`
	NodeID             string   `json:"node_id"`
	Login              *string  `json:"login"`
	Email              *string  `json:"email"`
	Role               string   `json:"role"`
	CreatedAt          string   `json:"created_at"`
	FailedAt           *string  `json:"failed_at"`
	FailedReason       *string  `json:"failed_reason"`
	Inviter            userJSON `json:"inviter"`
	TeamCount          int      `json:"team_count"`
	InvitationTeamsURL string   `json:"invitation_teams_url"`
	InvitationSource   string   `json:"invitation_source"`
}

// listInvitations serves GET /orgs/{org}/invitations (role,
// invitation_source filters; page numbers).
func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	role, source := q.Get("role"), q.Get("invitation_source")
	switch role {
	case "", "all", "admin", "direct_member", "billing_manager", "hiring_manager":
	default:
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docInvitations, fieldError{Resource: "OrganizationInvitation", Field: "role", Code: "invalid"})
		return
	}
	switch source {
	case "", "all", "member", "scim":
	default:
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docInvitations, fieldError{Resource: "OrganizationInvitation", Field: "invitation_source", Code: "invalid"})
		return
	}
	var invs []*invitation
	for _, inv := range s.St.Invitations {
		if inv.Org == c.org.Login && (role == "" || role == "all" || role == inv.Role) && source != "scim" {
			invs = append(invs, inv)
		}
	}
	sort.Slice(invs, func(i, j int) bool { return invs[i].ID < invs[j].ID })
	out := []invitationJSON{}
	for _, inv := range paginate(w, r, c, invs) {
		j := invitationJSON{
			ID: inv.ID, NodeID: nodeID("OrganizationInvitation", inv.ID), Role: inv.Role, CreatedAt: ghTime(inv.Created),
			Inviter:            renderSimpleUser(c, s.opts.Actor, actorID, "Bot"),
			InvitationTeamsURL: fmt.Sprintf("%s/organizations/%d/invitations/%d/teams", c.base, c.org.ID, inv.ID),
			InvitationSource:   "member",
		}
		if inv.Login != "" {
			l := inv.Login
			j.Login = &l
		}
		if inv.Email != "" {
			e := inv.Email
			j.Email = &e
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// cancelInvitation serves DELETE /orgs/{org}/invitations/{invitation_id}.
func (s *Server) cancelInvitation(w http.ResponseWriter, _ *http.Request, c *call) {
	id, err := strconv.ParseInt(c.seg[3], 10, 64)
	if err != nil {
		notFound(w, docCancelInvite)
		return
	}
	var inv *invitation
	s.St.Invitations, inv = removeFirst(s.St.Invitations, func(i *invitation) bool { return i.Org == c.org.Login && i.ID == id })
	if inv == nil {
		notFound(w, docCancelInvite)
		return
	}
	s.event(c, "org.cancel_invitation", inv.Login, map[string]any{"operation_type": "remove", "invitation_id": inv.ID})
	w.WriteHeader(http.StatusNoContent)
}

type credentialJSON struct {
	Login                         string   `json:"login"`
	CredentialID                  int64    `json:"credential_id"`
	CredentialType                string   `json:"credential_type"`
	TokenLastEight                string   `json:"token_last_eight,omitempty"`
	CredentialAuthorizedAt        string   `json:"credential_authorized_at"`
	Scopes                        []string `json:"scopes,omitempty"`
	Fingerprint                   string   `json:"fingerprint,omitempty"`
	CredentialAccessedAt          *string  `json:"credential_accessed_at"`
	AuthorizedCredentialID        int64    `json:"authorized_credential_id"`
	AuthorizedCredentialTitle     *string  `json:"authorized_credential_title,omitempty"`
	AuthorizedCredentialNote      *string  `json:"authorized_credential_note,omitempty"`
	AuthorizedCredentialExpiresAt *string  `json:"authorized_credential_expires_at,omitempty"`
}

// listCredentials serves GET /orgs/{org}/credential-authorizations (login
// filter; page numbers). Only members' authorizations are listed.
func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request, c *call) {
	login := r.URL.Query().Get("login")
	var creds []*credential
	for _, cr := range s.St.Credentials {
		if cr.Org == c.org.Login && s.St.credentialListed(cr) && (login == "" || strings.EqualFold(cr.Login, login)) {
			creds = append(creds, cr)
		}
	}
	out := []credentialJSON{}
	for _, cr := range paginate(w, r, c, creds) {
		j := credentialJSON{
			Login: cr.Login, CredentialID: cr.ID, CredentialType: cr.Type, TokenLastEight: cr.LastEight,
			CredentialAuthorizedAt: ghTime(cr.AuthorizedAt), Scopes: cr.Scopes, Fingerprint: cr.Fingerprint,
			CredentialAccessedAt: ghTimePtr(cr.AccessedAt), AuthorizedCredentialID: cr.AuthorizedID,
			AuthorizedCredentialExpiresAt: ghTimePtr(cr.ExpiresAt),
		}
		if cr.Title != "" {
			t := cr.Title
			j.AuthorizedCredentialTitle = &t
		}
		if cr.Note != "" {
			n := cr.Note
			j.AuthorizedCredentialNote = &n
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// removeCredential serves DELETE
// /orgs/{org}/credential-authorizations/{credential_id}.
func (s *Server) removeCredential(w http.ResponseWriter, _ *http.Request, c *call) {
	id, err := strconv.ParseInt(c.seg[3], 10, 64)
	if err != nil {
		notFound(w, docRemoveCred)
		return
	}
	i := slices.IndexFunc(s.St.Credentials, func(cr *credential) bool { return cr.Org == c.org.Login && cr.ID == id })
	if i < 0 || !s.St.credentialListed(s.St.Credentials[i]) {
		notFound(w, docRemoveCred)
		return
	}
	cr := s.St.Credentials[i]
	s.St.Credentials = slices.Delete(s.St.Credentials, i, i+1)
	fields := map[string]any{"operation_type": "remove", "credential_type": cr.Type}
	if cr.Fingerprint != "" {
		fields["fingerprint"] = cr.Fingerprint
	}
	s.event(c, "org_credential_authorization.revoke", cr.Login, fields)
	w.WriteHeader(http.StatusNoContent)
}

type tokenJSON struct {
	ID                  int64                        `json:"id"`
	Reason              *string                      `json:"reason,omitempty"`
	Owner               userJSON                     `json:"owner"`
	RepositorySelection string                       `json:"repository_selection"`
	RepositoriesURL     string                       `json:"repositories_url"`
	Permissions         map[string]map[string]string `json:"permissions"`
	AccessGrantedAt     string                       `json:"access_granted_at,omitempty"`
	CreatedAt           string                       `json:"created_at,omitempty"`
	TokenID             int64                        `json:"token_id"`
	TokenName           string                       `json:"token_name"`
	TokenExpired        bool                         `json:"token_expired"`
	TokenExpiresAt      *string                      `json:"token_expires_at"`
	TokenLastUsedAt     *string                      `json:"token_last_used_at"`
}

var tokenPermissions = map[string]map[string]string{
	"organization": {"members": "read"},
	"repository":   {"contents": "read", "metadata": "read"},
	"other":        {},
}

// ownerFilter reads owner[] (up to 10 logins); ok is false when there are
// too many.
func ownerFilter(r *http.Request) (map[string]bool, bool) {
	q := r.URL.Query()
	owners := append(q["owner[]"], q["owner"]...)
	if len(owners) > 10 {
		return nil, false
	}
	if len(owners) == 0 {
		return nil, true
	}
	m := map[string]bool{}
	for _, o := range owners {
		m[strings.ToLower(o)] = true
	}
	return m, true
}

func tokenOrder(r *http.Request) (desc bool, ok bool) {
	q := r.URL.Query()
	if s := q.Get("sort"); s != "" && s != "created_at" {
		return false, false
	}
	switch q.Get("direction") {
	case "", "desc":
		return true, true
	case "asc":
		return false, true
	}
	return false, false
}

// listPATs serves GET /orgs/{org}/personal-access-tokens (owner[],
// repository, sort, direction; page numbers).
func (s *Server) listPATs(w http.ResponseWriter, r *http.Request, c *call) {
	owners, ok := ownerFilter(r)
	desc, ok2 := tokenOrder(r)
	if !ok || !ok2 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docPATs, fieldError{Resource: "PersonalAccessToken", Field: "owner", Code: "invalid"})
		return
	}
	repo := r.URL.Query().Get("repository")
	var pats []*pat
	for _, p := range s.St.PATs {
		if p.Org != c.org.Login || (owners != nil && !owners[strings.ToLower(p.Owner)]) {
			continue
		}
		if repo != "" && !slices.ContainsFunc(p.Repos, func(x string) bool {
			return strings.EqualFold(x, repo) || strings.HasSuffix(strings.ToLower(x), "/"+strings.ToLower(repo))
		}) {
			continue
		}
		pats = append(pats, p)
	}
	sort.SliceStable(pats, func(i, j int) bool {
		if desc {
			return pats[i].GrantedAt.After(pats[j].GrantedAt)
		}
		return pats[i].GrantedAt.Before(pats[j].GrantedAt)
	})
	out := []tokenJSON{}
	for _, p := range paginate(w, r, c, pats) {
		out = append(out, tokenJSON{
			ID: p.ID, Owner: s.userRef(c, p.Owner), RepositorySelection: "subset",
			RepositoriesURL: fmt.Sprintf("%s/organizations/%d/personal-access-tokens/%d/repositories", c.base, c.org.ID, p.ID),
			Permissions:     tokenPermissions, AccessGrantedAt: ghTime(p.GrantedAt), TokenID: p.TokenID, TokenName: p.Name,
			TokenExpired: p.ExpiresAt != nil && !c.now.Before(*p.ExpiresAt), TokenExpiresAt: ghTimePtr(p.ExpiresAt), TokenLastUsedAt: ghTimePtr(p.LastUsedAt),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// readBody decodes a JSON request body; false means an answer was written.
func readBody(w http.ResponseWriter, r *http.Request, doc string, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", doc)
		return false
	}
	return true
}

func (s *Server) revokePAT(c *call, p *pat) {
	s.St.PATs, _ = removeFirst(s.St.PATs, func(x *pat) bool { return x == p })
	s.event(c, "personal_access_token.access_revoked", p.Owner, map[string]any{
		"operation_type": "modify", "user_programmatic_access_name": p.Name, "user_programmatic_access_id": p.TokenID,
	})
}

func (s *Server) findPAT(c *call, id int64) *pat {
	for _, p := range s.St.PATs {
		if p.Org == c.org.Login && p.ID == id {
			return p
		}
	}
	return nil
}

// updatePATs serves POST /orgs/{org}/personal-access-tokens
// {"action":"revoke","pat_ids":[...]}: 202 when every ID is known, 404 and
// no change otherwise.
func (s *Server) updatePATs(w http.ResponseWriter, r *http.Request, c *call) {
	var body struct {
		Action string  `json:"action"`
		PATIDs []int64 `json:"pat_ids"`
	}
	if !readBody(w, r, docUpdatePATs, &body) {
		return
	}
	if body.Action != "revoke" {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docUpdatePATs, fieldError{Resource: "PersonalAccessToken", Field: "action", Code: "invalid"})
		return
	}
	if len(body.PATIDs) < 1 || len(body.PATIDs) > 100 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docUpdatePATs, fieldError{Resource: "PersonalAccessToken", Field: "pat_ids", Code: "invalid"})
		return
	}
	var pats []*pat
	for _, id := range body.PATIDs {
		p := s.findPAT(c, id)
		if p == nil {
			notFound(w, docUpdatePATs)
			return
		}
		if !slices.Contains(pats, p) {
			pats = append(pats, p)
		}
	}
	for _, p := range pats {
		s.revokePAT(c, p)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{})
}

// updatePAT serves POST /orgs/{org}/personal-access-tokens/{pat_id}
// {"action":"revoke"}: 204, or 404 for an unknown ID.
func (s *Server) updatePAT(w http.ResponseWriter, r *http.Request, c *call) {
	var body struct {
		Action string `json:"action"`
	}
	if !readBody(w, r, docUpdatePAT, &body) {
		return
	}
	if body.Action != "revoke" {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docUpdatePAT, fieldError{Resource: "PersonalAccessToken", Field: "action", Code: "invalid"})
		return
	}
	id, err := strconv.ParseInt(c.seg[3], 10, 64)
	p := s.findPAT(c, id)
	if err != nil || p == nil {
		notFound(w, docUpdatePAT)
		return
	}
	s.revokePAT(c, p)
	w.WriteHeader(http.StatusNoContent)
}

// listPATRequests serves GET /orgs/{org}/personal-access-token-requests.
func (s *Server) listPATRequests(w http.ResponseWriter, r *http.Request, c *call) {
	owners, ok := ownerFilter(r)
	desc, ok2 := tokenOrder(r)
	if !ok || !ok2 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docPATRequests, fieldError{Resource: "PersonalAccessTokenRequest", Field: "owner", Code: "invalid"})
		return
	}
	var reqs []*patRequest
	for _, p := range s.St.PATRequests {
		if p.Org == c.org.Login && (owners == nil || owners[strings.ToLower(p.Owner)]) {
			reqs = append(reqs, p)
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool {
		if desc {
			return reqs[i].Created.After(reqs[j].Created)
		}
		return reqs[i].Created.Before(reqs[j].Created)
	})
	out := []tokenJSON{}
	for _, p := range paginate(w, r, c, reqs) {
		reason := p.Reason
		out = append(out, tokenJSON{
			ID: p.ID, Reason: &reason, Owner: s.userRef(c, p.Owner), RepositorySelection: "subset",
			RepositoriesURL: fmt.Sprintf("%s/organizations/%d/personal-access-token-requests/%d/repositories", c.base, c.org.ID, p.ID),
			Permissions:     tokenPermissions, CreatedAt: ghTime(p.Created), TokenID: p.TokenID, TokenName: p.Name,
			TokenExpired: p.ExpiresAt != nil && !c.now.Before(*p.ExpiresAt), TokenExpiresAt: ghTimePtr(p.ExpiresAt),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) findPATRequest(c *call, id int64) *patRequest {
	for _, p := range s.St.PATRequests {
		if p.Org == c.org.Login && p.ID == id {
			return p
		}
	}
	return nil
}

// review approves (granting the token access) or denies a request.
func (s *Server) review(c *call, p *patRequest, action string) {
	s.St.PATRequests, _ = removeFirst(s.St.PATRequests, func(x *patRequest) bool { return x == p })
	fields := map[string]any{"operation_type": "modify", "user_programmatic_access_name": p.Name, "user_programmatic_access_id": p.TokenID}
	if action == "deny" {
		s.event(c, "personal_access_token.request_denied", p.Owner, fields)
		return
	}
	s.St.PATs = append(s.St.PATs, &pat{ID: patIDBase + s.St.next(), Org: p.Org, Owner: p.Owner, TokenID: p.TokenID, Name: p.Name,
		Repos: slices.Clone(p.Repos), GrantedAt: c.now.UTC(), ExpiresAt: p.ExpiresAt})
	s.event(c, "personal_access_token.access_granted", p.Owner, fields)
}

type reviewBody struct {
	PATRequestIDs []int64 `json:"pat_request_ids"`
	Action        string  `json:"action"`
	Reason        *string `json:"reason"`
}

func validReview(w http.ResponseWriter, doc string, b reviewBody) bool {
	if b.Action != "approve" && b.Action != "deny" {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", doc, fieldError{Resource: "PersonalAccessTokenRequest", Field: "action", Code: "invalid"})
		return false
	}
	if b.Reason != nil && len(*b.Reason) > 1024 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", doc, fieldError{Resource: "PersonalAccessTokenRequest", Field: "reason", Code: "invalid"})
		return false
	}
	return true
}

// reviewPATRequests serves POST /orgs/{org}/personal-access-token-requests
// {"pat_request_ids":[...],"action":"approve"|"deny"}: 202.
func (s *Server) reviewPATRequests(w http.ResponseWriter, r *http.Request, c *call) {
	var body reviewBody
	if !readBody(w, r, docReviewReqs, &body) || !validReview(w, docReviewReqs, body) {
		return
	}
	if len(body.PATRequestIDs) < 1 || len(body.PATRequestIDs) > 100 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", docReviewReqs, fieldError{Resource: "PersonalAccessTokenRequest", Field: "pat_request_ids", Code: "invalid"})
		return
	}
	var reqs []*patRequest
	for _, id := range body.PATRequestIDs {
		p := s.findPATRequest(c, id)
		if p == nil {
			notFound(w, docReviewReqs)
			return
		}
		if !slices.Contains(reqs, p) {
			reqs = append(reqs, p)
		}
	}
	for _, p := range reqs {
		s.review(c, p, body.Action)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{})
}

// reviewPATRequest serves POST
// /orgs/{org}/personal-access-token-requests/{pat_request_id}: 204, or 404
// for an unknown (or already reviewed) request.
func (s *Server) reviewPATRequest(w http.ResponseWriter, r *http.Request, c *call) {
	var body reviewBody
	if !readBody(w, r, docReviewReq, &body) || !validReview(w, docReviewReq, body) {
		return
	}
	id, err := strconv.ParseInt(c.seg[3], 10, 64)
	p := s.findPATRequest(c, id)
	if err != nil || p == nil {
		notFound(w, docReviewReq)
		return
	}
	s.review(c, p, body.Action)
	w.WriteHeader(http.StatusNoContent)
}
