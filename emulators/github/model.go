package github

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// stateVersion is the version of the SaveState format.
const stateVersion = 1

// state is everything the emulator holds. It is what SaveState writes.
type state struct {
	Version       int             `json:"version"`
	Orgs          []*org          `json:"orgs"`
	Users         []*user         `json:"users"`
	Members       []*member       `json:"members"`
	Collaborators []*collaborator `json:"collaborators"`
	Invitations   []*invitation   `json:"invitations"`
	Credentials   []*credential   `json:"credentials"`
	PATs          []*pat          `json:"pats"`
	PATRequests   []*patRequest   `json:"patRequests"`
	Events        []*auditEvent   `json:"events"`
	// Serial feeds the generated IDs so they stay unique across restarts.
	Serial int64 `json:"serial"`
}

type org struct {
	Login   string    `json:"login"`
	ID      int64     `json:"id"`
	Created time.Time `json:"created"`
}

type user struct {
	Login      string    `json:"login"`
	ID         int64     `json:"id"`
	EmployeeID string    `json:"employeeId,omitempty"`
	Email      string    `json:"email,omitempty"`
	Created    time.Time `json:"created"`
}

// member is an active org membership. Role is admin or member.
type member struct {
	Org   string `json:"org"`
	Login string `json:"login"`
	Role  string `json:"role"`
}

type collaborator struct {
	Org   string   `json:"org"`
	Login string   `json:"login"`
	Repos []string `json:"repos"`
}

// invitation is a pending org invitation, addressed to a login or (when
// Login is empty) to an email address. Role is direct_member or admin.
type invitation struct {
	ID      int64     `json:"id"`
	Org     string    `json:"org"`
	Login   string    `json:"login,omitempty"`
	Email   string    `json:"email,omitempty"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// Credential types as GitHub names them in credential authorizations.
const (
	credPAT = "personal access token"
	credSSH = "SSH key"
)

// credential is a SAML SSO credential authorization.
type credential struct {
	ID           int64      `json:"id"`
	Org          string     `json:"org"`
	Login        string     `json:"login"`
	Type         string     `json:"type"`
	LastEight    string     `json:"lastEight,omitempty"`
	Fingerprint  string     `json:"fingerprint,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
	AuthorizedID int64      `json:"authorizedId"`
	Title        string     `json:"title,omitempty"`
	Note         string     `json:"note,omitempty"`
	AuthorizedAt time.Time  `json:"authorizedAt"`
	AccessedAt   *time.Time `json:"accessedAt,omitempty"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
}

// pat is a fine-grained personal access token's approved access to an org.
type pat struct {
	ID         int64      `json:"id"`
	Org        string     `json:"org"`
	Owner      string     `json:"owner"`
	TokenID    int64      `json:"tokenId"`
	Name       string     `json:"name"`
	Repos      []string   `json:"repos"`
	GrantedAt  time.Time  `json:"grantedAt"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// patRequest is a pending request for a fine-grained PAT to access an org.
type patRequest struct {
	ID        int64      `json:"id"`
	Org       string     `json:"org"`
	Owner     string     `json:"owner"`
	TokenID   int64      `json:"tokenId"`
	Name      string     `json:"name"`
	Reason    string     `json:"reason"`
	Repos     []string   `json:"repos"`
	Created   time.Time  `json:"created"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// seedTime is when the demo orgs were created.
var seedTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// ID ranges, so every kind of object has recognisable IDs.
const (
	orgIDBase        = 91000000
	invitationIDBase = 42000000
	credentialIDBase = 31000000
	patIDBase        = 22000000
	tokenIDBase      = 61000000
	requestIDBase    = 71000000
)

func (st *state) next() int64 {
	st.Serial++
	return st.Serial
}

// digest derives stable pseudo-random bytes from parts.
func digest(parts ...any) [32]byte {
	return sha256.Sum256([]byte(fmt.Sprint(parts...)))
}

func lastEight(parts ...any) string {
	d := digest(parts...)
	return hex.EncodeToString(d[:])[:8]
}

func fingerprint(parts ...any) string {
	d := digest(parts...)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(d[:])
}

func ptime(t time.Time) *time.Time { return &t }

// fromSeed builds the initial state from the demo org.
func fromSeed(o *seed.Org) *state {
	st := &state{Version: stateVersion}
	for _, name := range o.GitHub.Orgs {
		st.addOrg(name)
	}
	type seeded struct {
		ev   seed.Event
		u    *user
		orgs []string
	}
	var events []seeded
	for i, p := range o.People {
		g := p.GitHub
		if g == nil || g.Login == "" {
			continue
		}
		id := g.ID
		if id == 0 {
			id = 5000 + int64(i)
		}
		created := seedTime.Add(time.Duration(i) * 24 * time.Hour)
		u := &user{Login: g.Login, ID: id, EmployeeID: p.EmployeeID, Email: p.Email, Created: created}
		st.Users = append(st.Users, u)
		var orgs []string
		for _, r := range g.Orgs {
			og := st.addOrg(r.Org)
			orgs = append(orgs, og.Login)
			at := created.Add(time.Hour)
			switch r.Role {
			case "member", "admin":
				st.Members = append(st.Members, &member{Org: og.Login, Login: u.Login, Role: r.Role})
			case "outside_collaborator":
				st.Collaborators = append(st.Collaborators, &collaborator{Org: og.Login, Login: u.Login, Repos: slices.Clone(r.Repos)})
			case "invited":
				inv := &invitation{ID: invitationIDBase + st.next(), Org: og.Login, Role: "direct_member", Created: at}
				if r.EmailInvitation {
					inv.Email = p.Email
				} else {
					inv.Login = u.Login
				}
				st.Invitations = append(st.Invitations, inv)
			}
			if r.EmailInvitation && r.Role != "invited" {
				st.Invitations = append(st.Invitations, &invitation{ID: invitationIDBase + st.next(), Org: og.Login, Email: p.Email, Role: "direct_member", Created: at})
			}
			for k, kind := range r.CredentialAuthorizations {
				c := &credential{ID: credentialIDBase + st.next(), Org: og.Login, Login: u.Login,
					AuthorizedAt: at.Add(time.Duration(k+1) * time.Hour), AccessedAt: ptime(created.Add(30 * 24 * time.Hour))}
				c.AuthorizedID = c.ID + 500000
				switch kind {
				case "ssh":
					c.Type = credSSH
					c.Fingerprint = fingerprint("ssh", og.Login, u.Login, k)
					c.Title = fmt.Sprintf("laptop-%d", k+1)
				default:
					c.Type = credPAT
					c.LastEight = lastEight("pat", og.Login, u.Login, k)
					c.Scopes = []string{"repo", "read:org"}
					c.Note = fmt.Sprintf("cli-%d", k+1)
					c.ExpiresAt = ptime(created.Add(365 * 24 * time.Hour))
				}
				st.Credentials = append(st.Credentials, c)
			}
			for k, name := range r.FineGrainedPATs {
				n := st.next()
				st.PATs = append(st.PATs, &pat{ID: patIDBase + n, Org: og.Login, Owner: u.Login, TokenID: tokenIDBase + n, Name: name,
					Repos: slices.Clone(r.Repos), GrantedAt: at.Add(time.Duration(k+2) * time.Hour),
					ExpiresAt: ptime(created.Add(90 * 24 * time.Hour)), LastUsedAt: ptime(created.Add(40 * 24 * time.Hour))})
			}
			for k, name := range r.PATRequests {
				n := st.next()
				st.PATRequests = append(st.PATRequests, &patRequest{ID: requestIDBase + n, Org: og.Login, Owner: u.Login, TokenID: tokenIDBase + n, Name: name,
					Reason: "needs access for " + name, Repos: slices.Clone(r.Repos), Created: at.Add(time.Duration(k+3) * time.Hour),
					ExpiresAt: ptime(created.Add(90 * 24 * time.Hour))})
			}
		}
		for _, e := range g.Events {
			events = append(events, seeded{e, u, orgs})
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].ev.At.Before(events[j].ev.At) })
	for _, e := range events {
		if ev := st.seedEvent(e.u, e.orgs, e.ev); ev != nil {
			st.Events = append(st.Events, ev)
		}
	}
	return st
}

func (st *state) addOrg(name string) *org {
	if o := st.org(name); o != nil {
		return o
	}
	o := &org{Login: name, ID: orgIDBase + int64(len(st.Orgs)+1), Created: seedTime}
	st.Orgs = append(st.Orgs, o)
	return o
}

// normalize fills what a decoded state may leave nil and checks it.
func (st *state) normalize() error {
	if st.Version != stateVersion {
		return fmt.Errorf("github emulator state: version %d, want %d", st.Version, stateVersion)
	}
	seen := map[string]bool{}
	for i, o := range st.Orgs {
		if o == nil || o.Login == "" {
			return fmt.Errorf("github emulator state: org %d has no login", i)
		}
		if seen[strings.ToLower(o.Login)] {
			return fmt.Errorf("github emulator state: org %s appears twice", o.Login)
		}
		seen[strings.ToLower(o.Login)] = true
	}
	seen = map[string]bool{}
	for i, u := range st.Users {
		if u == nil || u.Login == "" {
			return fmt.Errorf("github emulator state: user %d has no login", i)
		}
		if seen[strings.ToLower(u.Login)] {
			return fmt.Errorf("github emulator state: user %s appears twice", u.Login)
		}
		seen[strings.ToLower(u.Login)] = true
	}
	if slices.Contains(st.Members, nil) || slices.Contains(st.Collaborators, nil) || slices.Contains(st.Invitations, nil) ||
		slices.Contains(st.Credentials, nil) || slices.Contains(st.PATs, nil) || slices.Contains(st.PATRequests, nil) ||
		slices.Contains(st.Events, nil) {
		return fmt.Errorf("github emulator state: null entry")
	}
	for _, e := range st.Events {
		if e.Fields == nil {
			e.Fields = map[string]any{}
		}
	}
	return nil
}

func (st *state) org(name string) *org {
	for _, o := range st.Orgs {
		if strings.EqualFold(o.Login, name) {
			return o
		}
	}
	return nil
}

func (st *state) orgByID(id int64) *org {
	for _, o := range st.Orgs {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (st *state) user(login string) *user {
	for _, u := range st.Users {
		if strings.EqualFold(u.Login, login) {
			return u
		}
	}
	return nil
}

func (st *state) member(orgName, login string) *member {
	for _, m := range st.Members {
		if strings.EqualFold(m.Org, orgName) && strings.EqualFold(m.Login, login) {
			return m
		}
	}
	return nil
}

func (st *state) collaborator(orgName, login string) *collaborator {
	for _, c := range st.Collaborators {
		if strings.EqualFold(c.Org, orgName) && strings.EqualFold(c.Login, login) {
			return c
		}
	}
	return nil
}

// loginInvitation is the pending invitation addressed to login, if any.
func (st *state) loginInvitation(orgName, login string) *invitation {
	for _, inv := range st.Invitations {
		if strings.EqualFold(inv.Org, orgName) && inv.Login != "" && strings.EqualFold(inv.Login, login) {
			return inv
		}
	}
	return nil
}

// credentialListed reports whether GitHub lists a credential
// authorization: only while its owner is a member of the org, since the
// SAML identity link goes with the membership. An unlisted authorization
// stays in the state, so a wrong order of operations is visible there.
func (st *state) credentialListed(c *credential) bool {
	return st.member(c.Org, c.Login) != nil
}

func removeFirst[T any](list []*T, match func(*T) bool) ([]*T, *T) {
	for i, x := range list {
		if match(x) {
			return slices.Delete(list, i, i+1), x
		}
	}
	return list, nil
}
