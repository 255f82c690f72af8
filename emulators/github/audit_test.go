package github_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/offboard/offboard/emulators/emutest"
	ghemu "github.com/offboard/offboard/emulators/github"
)

// auditCount is the number of audit entries in every org.
func auditCount(s *ghemu.Server) int {
	n := 0
	for _, o := range s.State().Orgs {
		n += o.AuditEvents
	}
	return n
}

// Re-adding a removed member through the API invites them back, and the
// audit log says who did it: org.invite_member with the token's account as
// actor and the person as user, found by user:<login>.
func TestReAddedMemberIsAudited(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, nil, ghemu.Options{Now: clk.Now})
	c := sdk(t, ts, "")
	ctx := t.Context()
	a, _ := s.User(ada)
	if _, err := c.Organizations.RemoveOrgMembership(ctx, ada, "acme"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	m, _, err := c.Organizations.EditOrgMembership(ctx, ada, "acme", &gh.Membership{Role: gh.String("member")})
	if err != nil {
		t.Fatal(err)
	}
	if m.GetState() != "pending" || m.GetRole() != "member" || m.GetUser().GetLogin() != ada || m.GetOrganization().GetLogin() != "acme" {
		t.Errorf("membership %+v", m)
	}
	if got, _, err := c.Organizations.GetOrgMembership(ctx, ada, "acme"); err != nil || got.GetState() != "pending" {
		t.Errorf("membership after the PUT: %+v %v", got, err)
	}
	u, _ := s.User(ada)
	if o := u.Org("acme"); o.Role != "" || len(o.Invitations) != 1 {
		t.Errorf("ada in acme %+v, want not a member, one invitation", o)
	}

	if got := auditActions(t, c, "acme", "user:"+ada); len(got) < 2 || !slices.Equal(got[len(got)-2:], []string{"org.remove_member", "org.invite_member"}) {
		t.Errorf("entries about ada, oldest first: %v", got)
	}
	es := auditEntries(t, c, "acme", "user:"+ada+" action:org.invite_member", "all", "desc", 10)
	if len(es) != 1 {
		t.Fatalf("%d invitations of ada, want 1", len(es))
	}
	inv := es[0]
	if inv.GetActor() != ghemu.DefaultActor || inv.GetUser() != ada || inv.GetUserID() != a.ID || inv.GetOrg() != "acme" ||
		inv.AdditionalFields["operation_type"] != "create" || !inv.GetCreatedAt().Time.Equal(clk.Now()) {
		t.Errorf("invitation entry %+v", inv)
	}
	// The invitation is about ada, not by her; it is in acme only.
	if got := auditActions(t, c, "acme", "actor:"+ada+" action:org"); len(got) != 0 {
		t.Errorf("ada's own org actions %v", got)
	}
	if got := auditActions(t, c, "acme", "user:"+margaret+" action:org.invite_member"); len(got) != 0 {
		t.Errorf("invitations of margaret %v", got)
	}
	if got := auditActions(t, c, "acme-labs", "user:"+ada+" action:org.invite_member"); len(got) != 0 {
		t.Errorf("invitations in acme-labs %v", got)
	}

	// A PUT while the invitation is pending sets its role, and records
	// nothing.
	before := auditCount(s)
	m, _, err = c.Organizations.EditOrgMembership(ctx, ada, "acme", &gh.Membership{Role: gh.String("admin")})
	if err != nil || m.GetState() != "pending" || m.GetRole() != "admin" {
		t.Errorf("second PUT %+v %v", m, err)
	}
	var invs []ghemu.InvitationState
	for _, o := range s.State().Orgs {
		if o.Login == "acme" {
			for _, i := range o.Invitations {
				if i.Login == ada {
					invs = append(invs, i)
				}
			}
		}
	}
	if len(invs) != 1 || invs[0].Role != "admin" || auditCount(s) != before {
		t.Errorf("ada's invitations %+v, %d entries (was %d)", invs, auditCount(s), before)
	}
}

// A PUT for a member sets the role, recording org.update_member only when
// it changes; bad PUTs change nothing.
func TestSetMembership(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	ctx := t.Context()
	m, _, err := c.Organizations.EditOrgMembership(ctx, margaret, "acme", &gh.Membership{Role: gh.String("member")})
	if err != nil || m.GetState() != "active" || m.GetRole() != "member" {
		t.Fatalf("margaret to member: %+v %v", m, err)
	}
	if u, _ := s.User(margaret); u.Org("acme").Role != "member" || u.Org("acme-labs").Role != "admin" {
		t.Errorf("margaret %+v", u)
	}
	es := auditEntries(t, c, "acme", "user:"+margaret+" action:org.update_member", "all", "asc", 10)
	if len(es) != 1 || es[0].GetActor() != ghemu.DefaultActor || es[0].AdditionalFields["permission"] != "member" {
		t.Fatalf("role change entries %+v", es)
	}
	before := auditCount(s)
	if m, _, err := c.Organizations.EditOrgMembership(ctx, margaret, "acme", &gh.Membership{Role: gh.String("member")}); err != nil || m.GetState() != "active" {
		t.Errorf("same role again: %+v %v", m, err)
	}
	// No body: a member, by invitation for an outside collaborator.
	r := call(t, ts, "PUT", "/orgs/acme/memberships/"+linus, bearer, nil)
	var got struct{ State, Role string }
	r.json(t, &got)
	if r.status != http.StatusOK || got.State != "pending" || got.Role != "member" {
		t.Errorf("PUT without a body: %d %s", r.status, r.body)
	}
	if n := auditCount(s); n != before+1 {
		t.Errorf("%d entries, want %d: the same role again records nothing, the invitation one", n, before+1)
	}
	before = auditCount(s)
	wantError(t, call(t, ts, "PUT", "/orgs/acme/memberships/nobody", bearer, map[string]any{"role": "member"}), 404, "Not Found")
	e := wantError(t, call(t, ts, "PUT", "/orgs/acme/memberships/"+ada, bearer, map[string]any{"role": "owner"}), 422, "Validation Failed")
	if len(e.Errors) != 1 || e.Errors[0].Field != "role" || e.Errors[0].Code != "invalid" {
		t.Errorf("validation errors %+v", e.Errors)
	}
	wantError(t, call(t, ts, "PUT", "/orgs/acme/memberships/"+ada, bearer, `{"role":`), 400, "Problems parsing JSON")
	wantError(t, call(t, ts, "PUT", "/orgs/acme/memberships/"+ada, "", map[string]any{"role": "member"}), 401, "Requires authentication")
	if u, _ := s.User(ada); u.Org("acme").Role != "member" || auditCount(s) != before {
		t.Errorf("a refused PUT changed something: ada %+v, %d entries (was %d)", u.Org("acme"), auditCount(s), before)
	}
}

// user: is the login acted on and actor_ip: the actor's address, however
// written; both negate, and combine with the other qualifiers.
func TestAuditLogUserAndIPQualifiers(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, ghemu.Options{})
	c := sdk(t, ts, "")
	emutest.MustPostEvents(t, ts.URL, map[string]any{"events": []map[string]any{
		{"action": "repo.download_zip", "actor": ada, "org": "acme", "@timestamp": ms(dec1), "repo": "acme/payments", "actor_ip": "198.51.100.7"},
		{"action": "org.add_member", "actor": margaret, "org": "acme", "@timestamp": ms(dec1.Add(time.Hour)), "user": ada, "actor_ip": "2001:db8::1"},
		{"action": "org.remove_member", "actor": margaret, "org": "acme", "@timestamp": ms(dec1.Add(2 * time.Hour)), "user": linus, "actor_ip": "203.0.113.200"},
	}}, 3)
	cases := map[string]struct {
		phrase, include string
		want            []string
	}{
		// The seed's two clones by ada came from 198.51.100.7 too.
		"one address":                {"actor_ip:198.51.100.7", "all", []string{"git.clone", "git.clone", "repo.download_zip"}},
		"one address, web":           {"actor_ip:198.51.100.7", "web", []string{"repo.download_zip"}},
		"not a prefix":               {"actor_ip:198.51.100.70", "all", nil},
		"IPv6, written out":          {"actor_ip:2001:DB8:0:0:0:0:0:1", "all", []string{"org.add_member"}},
		"address and action":         {"actor_ip:198.51.100.7 action:git", "all", []string{"git.clone", "git.clone"}},
		"not from an address":        {"actor:" + ada + " -actor_ip:198.51.100.7", "all", nil},
		"acted on":                   {"user:" + ada + " created:>=2026-12-01", "all", []string{"org.add_member"}},
		"acted on, by whom":          {"user:" + ada + " actor:" + margaret, "all", []string{"org.add_member"}},
		"acted on, case-insensitive": {"user:ALovelace created:>=2026-12-01", "all", []string{"org.add_member"}},
		"not acted on":               {"actor:" + margaret + " -user:" + ada + " created:>=2026-12-01", "all", []string{"org.remove_member"}},
		"actor is not user":          {"user:" + margaret + " created:>=2026-12-01", "all", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, e := range auditEntries(t, c, "acme", tc.phrase, tc.include, "asc", 100) {
				got = append(got, e.GetAction())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
}
