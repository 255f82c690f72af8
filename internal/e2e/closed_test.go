package e2e

import (
	"slices"
	"strings"
	"testing"

	awsemu "github.com/offboard/offboard/emulators/aws"
	githubemu "github.com/offboard/offboard/emulators/github"
	googleemu "github.com/offboard/offboard/emulators/google"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	slackemu "github.com/offboard/offboard/emulators/slack"
	"github.com/offboard/offboard/internal/dev"
	"github.com/offboard/offboard/workflows"
)

// emulators are a stack's emulators with their vendor types, for tests
// that read vendor state.
type emulators struct {
	Okta   *oktaemu.Server
	GitHub *githubemu.Server
	Slack  *slackemu.Server
	AWS    *awsemu.Server
	Google *googleemu.Server
}

func typed(e *dev.Emulators) emulators {
	return emulators{
		Okta:   e.Get("okta").(*oktaemu.Server),
		GitHub: e.Get("github").(*githubemu.Server),
		Slack:  e.Get("slack").(*slackemu.Server),
		AWS:    e.Get("aws").(*awsemu.Server),
		Google: e.Get("google").(*googleemu.Server),
	}
}

// assertClosed checks, in every emulator, that a person has no way in left:
// the vendor state itself, not what offboard reports.
func assertClosed(t *testing.T, emus emulators, employee string) {
	t.Helper()
	p := person(t, employee)
	if p.Okta != nil {
		u, ok := emus.Okta.User(p.Okta.ID)
		if !ok || (u.Status != "SUSPENDED" && u.Status != "DEPROVISIONED") || u.Sessions != 0 || len(u.Grants) != 0 || u.OAuthTokens != 0 || len(u.Roles) != 0 || len(u.Factors) != 0 {
			t.Errorf("okta: %s still has access: %+v", employee, u)
		}
		for _, g := range u.Groups {
			if strings.HasPrefix(g, "00gPROJ") || g == "00gENGINEERING000001" || g == "00gADMINS00000000001" {
				t.Errorf("okta: %s still in editable group %s", employee, g)
			}
		}
	}
	if p.GitHub != nil {
		u, _ := emus.GitHub.User(p.GitHub.Login)
		for _, o := range p.GitHub.Orgs {
			s := u.Org(o.Org)
			if s.Role != "" || len(s.Invitations) != 0 || len(s.CredentialAuthorizations) != 0 || len(s.FineGrainedPATs) != 0 || len(s.PATRequests) != 0 {
				t.Errorf("github: %s still has access to %s: %+v", employee, o.Org, s)
			}
		}
	}
	if p.Slack != nil {
		u, ok := emus.Slack.User(p.Slack.ID)
		if !ok || u.Active || u.Sessions != 0 {
			t.Errorf("slack: %s still has access: %+v", employee, u)
		}
	}
	if p.AWS != nil {
		for _, iu := range p.AWS.IAMUsers {
			u, ok := emus.AWS.IAMUser(iu.Account, iu.UserName)
			if !ok {
				t.Errorf("aws: IAM user of %s is gone: offboard must not delete users", employee)
				continue
			}
			for _, k := range u.AccessKeys {
				t.Errorf("aws: %s still has access key %s (%s)", employee, k.ID, k.Status)
			}
			if u.LoginProfile || len(u.MFADevices)+len(u.SSHKeys)+len(u.ServiceCredentials)+len(u.SigningCertificates)+len(u.Groups)+len(u.ManagedPolicies) != 0 {
				t.Errorf("aws: %s still has IAM access: %+v", employee, u)
			}
			// Only the deny on older sessions may remain inline.
			if len(u.InlinePolicies) != 1 {
				t.Errorf("aws: %s inline policies %v, want only the session deny", employee, u.InlinePolicies)
			}
		}
		if ic := p.AWS.IdentityCenter; ic != nil {
			u, ok := emus.AWS.SSOUser(ic.UserID)
			if !ok || len(u.Groups) != 0 || len(u.Assignments) != 0 {
				t.Errorf("aws: %s still has Identity Center access: %+v", employee, u)
			}
			for _, ps := range []string{"AdministratorAccess", "ReadOnlyAccess"} {
				st, _ := emus.AWS.PermissionSet(ps)
				if !strings.Contains(st.InlinePolicy, ic.UserID) || len(st.NotProvisioned) != 0 {
					t.Errorf("aws: permission set %s does not deny %s's sessions (or is not provisioned): %+v", ps, employee, st)
				}
			}
		}
	}
	if p.Google != nil {
		u, ok := emus.Google.User(p.Google.ID)
		if !ok || !u.Suspended || len(u.Tokens) != 0 || len(u.AppPasswords) != 0 || u.BackupCodes != 0 || u.Sessions != 0 || len(u.Groups) != 0 {
			t.Errorf("google: %s still has access: %+v", employee, u)
		}
	}
}

// assertPlanned checks that every system where the person has an account
// planned steps, and every other system planned none.
func assertPlanned(t *testing.T, st workflows.Case, systems map[string]bool) {
	t.Helper()
	for _, s := range st.Systems {
		if s.Found != systems[s.System] {
			t.Errorf("system %s: found %v, want %v", s.System, s.Found, systems[s.System])
		}
	}
}

// vendorPaths are the path prefixes each vendor's real API serves.
var vendorPaths = map[string][]string{
	"okta":   {"/api/v1/"},
	"github": {"/orgs/", "/users/", "/user", "/organizations/", "/rate_limit"},
	"slack":  {"/api/", "/scim/v2/", "/audit/v1/"},
	"google": {"/admin/directory/v1/", "/admin/reports/v1/"},
	// Every AWS call is POST / on the wire; the emulator logs it as
	// /<service>/<Action>.
	"aws": {"/iam/", "/sts/", "/identitystore/", "/sso/", "/cloudtrail/"},
}

// assertVendorPaths checks that offboard asked each emulator only for the
// vendor's real API paths.
func assertVendorPaths(t *testing.T, emus *dev.Emulators) {
	t.Helper()
	for _, e := range emus.All() {
		prefixes, ok := vendorPaths[e.Name]
		if !ok {
			t.Errorf("no vendor paths known for %s", e.Name)
			continue
		}
		reqs := e.Emulator.Emulator().Requests()
		if len(reqs) == 0 {
			t.Errorf("%s: no requests", e.Name)
		}
		for _, r := range reqs {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(r.Path, p) }) {
				t.Errorf("%s: request to %s %s is not a %s API path", e.Name, r.Method, r.Path, e.Name)
			}
		}
	}
}
