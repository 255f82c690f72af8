package github

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/offboard/offboard/connectors"
)

// Resolve finds the person's GitHub login: the "github" override when set,
// else the subject attribute Config.UsernameAttribute names
// (githubUsername by default). The person has a GitHub account for
// offboard when that login is, in at least one configured org, a member
// (active or invited), an outside collaborator, the addressee of a pending
// invitation (by login or by one of the person's emails), or the owner of
// a credential authorization. Otherwise, or without a login, the answer is
// NotFound. An override naming no GitHub user is InvalidInput: it must not
// read as "no account".
//
// https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user
func (c *Client) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	const op = "resolve"
	emp := s.EmployeeID
	login, fromOverride := strings.TrimSpace(s.Overrides[System]), true
	if login == "" {
		login, fromOverride = strings.TrimSpace(s.Attributes[c.userAttr]), false
	}
	login = strings.TrimPrefix(login, "@")
	if login == "" {
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("employee %s has no GitHub login (no github override and no %s attribute)", emp, c.userAttr)}
	}
	if !loginRE.MatchString(login) {
		src := "the " + c.userAttr + " attribute"
		if fromOverride {
			src = "the github override"
		}
		return connectors.Account{}, connectors.InvalidInputf(System, op, "%s for employee %s is not a GitHub login", src, emp)
	}
	u, err := c.getUser(ctx, login)
	if connectors.IsNotFound(err) {
		if fromOverride {
			return connectors.Account{}, &connectors.Error{Kind: connectors.InvalidInput, System: System, Op: op, Status: connectors.StatusOf(err),
				Msg: fmt.Sprintf("the github override for employee %s names no GitHub user", emp)}
		}
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op, Status: connectors.StatusOf(err),
			Msg: fmt.Sprintf("no GitHub user has the login %s", login)}
	}
	if err != nil {
		return connectors.Account{}, err
	}
	if l := u.GetLogin(); l != "" {
		login = l
	}

	hashes := map[string]bool{}
	var hashList []string
	for _, e := range []string{s.Email, s.Attributes["email"], s.Attributes["secondEmail"]} {
		if !strings.Contains(e, "@") {
			continue
		}
		if h := emailHash(e); !hashes[h] {
			hashes[h] = true
			hashList = append(hashList, h)
		}
	}
	// Every org at once; the answers in the configured order.
	presence := make([]string, len(c.orgs))
	err = connectors.Each(len(c.orgs), func(i int) error {
		var err error
		presence[i], err = c.presence(ctx, c.orgs[i], login, hashes)
		return err
	})
	if err != nil {
		return connectors.Account{}, err
	}
	var orgs, roles []string
	for i, org := range c.orgs {
		if role := presence[i]; role != "" {
			orgs = append(orgs, org)
			roles = append(roles, org+":"+role)
		}
	}
	if len(orgs) == 0 {
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("GitHub user %s is in none of the organizations %s (not a member, invited, outside collaborator or credential holder)", login, strings.Join(c.orgs, ", "))}
	}
	attrs := map[string]string{AttrOrgs: strings.Join(orgs, ","), AttrRoles: strings.Join(roles, ",")}
	if id := u.GetID(); id != 0 {
		attrs[AttrUserID] = strconv.FormatInt(id, 10)
	}
	if len(hashList) > 0 {
		attrs[AttrEmailHashes] = strings.Join(hashList, ",")
	}
	return connectors.Account{System: System, ID: login, Attributes: attrs}, nil
}

// presence says how login is in org: admin, member, invited,
// outside_collaborator, credential, or "" for not at all.
func (c *Client) presence(ctx context.Context, org, login string, hashes map[string]bool) (string, error) {
	m, err := c.getMembership(ctx, org, login)
	if err != nil {
		return "", err
	}
	if m != nil {
		if m.GetState() == "pending" {
			return "invited", nil
		}
		if r := m.GetRole(); r != "" {
			return r, nil
		}
		return "member", nil
	}
	outside, err := c.isOutsideCollaborator(ctx, org, login)
	if err != nil {
		return "", err
	}
	if outside {
		return "outside_collaborator", nil
	}
	invs, err := c.listInvitations(ctx, org, login, hashes)
	if err != nil {
		return "", err
	}
	if len(invs) > 0 {
		return "invited", nil
	}
	creds, err := c.listCredentials(ctx, org, login)
	if err != nil {
		return "", err
	}
	if len(creds) > 0 {
		return "credential", nil
	}
	return "", nil
}
