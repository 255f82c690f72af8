// Package seed loads the demo organisation that every emulator serves its
// part of. One file describes each person and their accounts in every system.
package seed

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed demo.yaml
var demoYAML []byte

// Org is the whole fixture.
type Org struct {
	Domain string     `yaml:"domain" json:"domain"`
	Okta   OktaOrg    `yaml:"okta" json:"okta"`
	GitHub GitHubOrgs `yaml:"github" json:"github"`
	Slack  SlackOrg   `yaml:"slack" json:"slack"`
	AWS    AWSOrg     `yaml:"aws" json:"aws"`
	Google GoogleOrg  `yaml:"google" json:"google"`
	People []Person   `yaml:"people" json:"people"`
}

// OktaOrg is the org-wide Okta fixture.
type OktaOrg struct {
	Groups  []OktaGroup  `yaml:"groups" json:"groups"`
	Clients []OktaClient `yaml:"clients" json:"clients"`
}

// OktaGroup is a group; Type is OKTA_GROUP, APP_GROUP or BUILT_IN.
type OktaGroup struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	Type string `yaml:"type" json:"type"`
}

// OktaClient is an OAuth client (app) that can hold grants.
type OktaClient struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// GitHubOrgs lists the GitHub organizations in the demo.
type GitHubOrgs struct {
	Orgs []string `yaml:"orgs" json:"orgs"`
}

// SlackOrg is the Slack Enterprise Grid fixture.
type SlackOrg struct {
	EnterpriseID string `yaml:"enterpriseId" json:"enterpriseId"`
	TeamID       string `yaml:"teamId" json:"teamId"`
}

// AWSOrg is the AWS fixture.
type AWSOrg struct {
	Accounts        []AWSAccount `yaml:"accounts" json:"accounts"`
	IdentityStoreID string       `yaml:"identityStoreId" json:"identityStoreId"`
	InstanceARN     string       `yaml:"instanceArn" json:"instanceArn"`
	PermissionSets  []string     `yaml:"permissionSets" json:"permissionSets"`
	Groups          []string     `yaml:"groups" json:"groups"`
}

// AWSAccount is one AWS account.
type AWSAccount struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// GoogleOrg is the Google Workspace fixture.
type GoogleOrg struct {
	Customer string   `yaml:"customer" json:"customer"`
	Groups   []string `yaml:"groups" json:"groups"`
}

// Person is one employee and their accounts. A nil account means the person
// has none in that system.
type Person struct {
	EmployeeID string `yaml:"employeeId" json:"employeeId"`
	FirstName  string `yaml:"firstName" json:"firstName"`
	LastName   string `yaml:"lastName" json:"lastName"`
	Email      string `yaml:"email" json:"email"`
	Title      string `yaml:"title,omitempty" json:"title,omitempty"`
	Manager    string `yaml:"manager,omitempty" json:"manager,omitempty"`
	Note       string `yaml:"note,omitempty" json:"note,omitempty"`
	// Scenario, "insider", has `offboard dev` play a scripted insider's
	// last days for this person when it first starts (emu.Scenario).
	Scenario string      `yaml:"scenario,omitempty" json:"scenario,omitempty"`
	Okta     *OktaUser   `yaml:"okta,omitempty" json:"okta,omitempty"`
	GitHub   *GitHubUser `yaml:"github,omitempty" json:"github,omitempty"`
	Slack    *SlackUser  `yaml:"slack,omitempty" json:"slack,omitempty"`
	AWS      *AWSUser    `yaml:"aws,omitempty" json:"aws,omitempty"`
	Google   *GoogleUser `yaml:"google,omitempty" json:"google,omitempty"`
}

// OktaUser is a person's Okta account.
type OktaUser struct {
	ID     string `yaml:"id" json:"id"`
	Status string `yaml:"status" json:"status"`
	// Profile holds extra profile attributes (githubUsername, slackUserId, ...).
	Profile  map[string]string `yaml:"profile,omitempty" json:"profile,omitempty"`
	Groups   []string          `yaml:"groups,omitempty" json:"groups,omitempty"` // group IDs
	Roles    []string          `yaml:"roles,omitempty" json:"roles,omitempty"`   // role types
	Factors  []string          `yaml:"factors,omitempty" json:"factors,omitempty"`
	Grants   []OktaGrant       `yaml:"grants,omitempty" json:"grants,omitempty"`
	Sessions int               `yaml:"sessions,omitempty" json:"sessions,omitempty"`
	// Events seeds the System Log with this person's history.
	Events []Event `yaml:"events,omitempty" json:"events,omitempty"`
}

// OktaGrant is an OAuth consent grant held by the user.
type OktaGrant struct {
	Client string `yaml:"client" json:"client"`
	Scope  string `yaml:"scope" json:"scope"`
}

// Event is a seeded audit event: what happened, when, from where.
type Event struct {
	Type   string    `yaml:"type" json:"type"`
	At     time.Time `yaml:"at" json:"at"`
	IP     string    `yaml:"ip,omitempty" json:"ip,omitempty"`
	Target string    `yaml:"target,omitempty" json:"target,omitempty"`
	Result string    `yaml:"result,omitempty" json:"result,omitempty"`
}

// GitHubUser is a person's GitHub identity and their place in each org.
type GitHubUser struct {
	Login  string          `yaml:"login" json:"login"`
	ID     int64           `yaml:"id" json:"id"`
	Orgs   []GitHubOrgRole `yaml:"orgs" json:"orgs"`
	Events []Event         `yaml:"events,omitempty" json:"events,omitempty"`
}

// GitHubOrgRole is a person's relation to one org.
type GitHubOrgRole struct {
	Org string `yaml:"org" json:"org"`
	// Role is member, admin, outside_collaborator or invited.
	Role                     string   `yaml:"role" json:"role"`
	Repos                    []string `yaml:"repos,omitempty" json:"repos,omitempty"`
	CredentialAuthorizations []string `yaml:"credentialAuthorizations,omitempty" json:"credentialAuthorizations,omitempty"` // "pat" or "ssh"
	FineGrainedPATs          []string `yaml:"fineGrainedPats,omitempty" json:"fineGrainedPats,omitempty"`                   // token names
	PATRequests              []string `yaml:"patRequests,omitempty" json:"patRequests,omitempty"`
	EmailInvitation          bool     `yaml:"emailInvitation,omitempty" json:"emailInvitation,omitempty"`
}

// SlackUser is a person's Slack account.
type SlackUser struct {
	ID          string  `yaml:"id" json:"id"`
	Deactivated bool    `yaml:"deactivated,omitempty" json:"deactivated,omitempty"`
	Admin       bool    `yaml:"admin,omitempty" json:"admin,omitempty"`
	Sessions    int     `yaml:"sessions,omitempty" json:"sessions,omitempty"`
	Events      []Event `yaml:"events,omitempty" json:"events,omitempty"`
}

// AWSUser is a person's AWS presence: IAM users and an Identity Center user.
type AWSUser struct {
	IAMUsers       []IAMUser           `yaml:"iamUsers,omitempty" json:"iamUsers,omitempty"`
	IdentityCenter *IdentityCenterUser `yaml:"identityCenter,omitempty" json:"identityCenter,omitempty"`
	Events         []Event             `yaml:"events,omitempty" json:"events,omitempty"`
}

// IAMUser is an IAM user in one account.
type IAMUser struct {
	Account            string   `yaml:"account" json:"account"`
	UserName           string   `yaml:"userName" json:"userName"`
	AccessKeys         int      `yaml:"accessKeys,omitempty" json:"accessKeys,omitempty"`
	LoginProfile       bool     `yaml:"loginProfile,omitempty" json:"loginProfile,omitempty"`
	MFA                bool     `yaml:"mfa,omitempty" json:"mfa,omitempty"`
	SSHKeys            int      `yaml:"sshKeys,omitempty" json:"sshKeys,omitempty"`
	ServiceCredentials int      `yaml:"serviceCredentials,omitempty" json:"serviceCredentials,omitempty"`
	SigningCerts       int      `yaml:"signingCerts,omitempty" json:"signingCerts,omitempty"`
	Groups             []string `yaml:"groups,omitempty" json:"groups,omitempty"`
	ManagedPolicies    []string `yaml:"managedPolicies,omitempty" json:"managedPolicies,omitempty"`
	InlinePolicies     []string `yaml:"inlinePolicies,omitempty" json:"inlinePolicies,omitempty"`
}

// IdentityCenterUser is an IAM Identity Center user.
type IdentityCenterUser struct {
	UserID      string       `yaml:"userId" json:"userId"`
	UserName    string       `yaml:"userName" json:"userName"`
	Groups      []string     `yaml:"groups,omitempty" json:"groups,omitempty"`
	Assignments []Assignment `yaml:"assignments,omitempty" json:"assignments,omitempty"`
}

// Assignment is an Identity Center account assignment.
type Assignment struct {
	Account       string `yaml:"account" json:"account"`
	PermissionSet string `yaml:"permissionSet" json:"permissionSet"`
}

// GoogleUser is a person's Google Workspace account.
type GoogleUser struct {
	ID           string        `yaml:"id" json:"id"`
	Suspended    bool          `yaml:"suspended,omitempty" json:"suspended,omitempty"`
	Admin        bool          `yaml:"admin,omitempty" json:"admin,omitempty"`
	Tokens       []GoogleToken `yaml:"tokens,omitempty" json:"tokens,omitempty"`
	AppPasswords int           `yaml:"appPasswords,omitempty" json:"appPasswords,omitempty"`
	BackupCodes  bool          `yaml:"backupCodes,omitempty" json:"backupCodes,omitempty"`
	Groups       []string      `yaml:"groups,omitempty" json:"groups,omitempty"`
	Events       []Event       `yaml:"events,omitempty" json:"events,omitempty"`
}

// GoogleToken is an OAuth token a user granted to an app.
type GoogleToken struct {
	ClientID    string   `yaml:"clientId" json:"clientId"`
	DisplayText string   `yaml:"displayText" json:"displayText"`
	Scopes      []string `yaml:"scopes" json:"scopes"`
}

// Demo returns the built-in demo organisation.
func Demo() (*Org, error) { return Parse(demoYAML) }

// Load reads a fixture file; an empty path means the built-in demo.
func Load(path string) (*Org, error) {
	if path == "" {
		return Demo()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	return Parse(b)
}

// Parse decodes a fixture strictly (unknown fields are errors) and checks it.
func Parse(b []byte) (*Org, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var o Org
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("parse seed: %w", err)
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return &o, nil
}

func (o *Org) validate() error {
	var errs []error
	groups := map[string]bool{}
	for _, g := range o.Okta.Groups {
		if groups[g.ID] {
			errs = append(errs, fmt.Errorf("okta group %s defined twice", g.ID))
		}
		groups[g.ID] = true
		switch g.Type {
		case "OKTA_GROUP", "APP_GROUP", "BUILT_IN":
		default:
			errs = append(errs, fmt.Errorf("okta group %s: unknown type %q", g.ID, g.Type))
		}
	}
	clients := map[string]bool{}
	for _, c := range o.Okta.Clients {
		clients[c.ID] = true
	}
	ids := map[string]bool{}
	oktaIDs := map[string]bool{}
	for i, p := range o.People {
		if p.EmployeeID == "" {
			errs = append(errs, fmt.Errorf("person %d: employeeId is empty", i))
		}
		if ids[p.EmployeeID] {
			errs = append(errs, fmt.Errorf("person %s defined twice", p.EmployeeID))
		}
		ids[p.EmployeeID] = true
		if p.Okta == nil {
			continue
		}
		if oktaIDs[p.Okta.ID] {
			errs = append(errs, fmt.Errorf("person %s: okta id %s used twice", p.EmployeeID, p.Okta.ID))
		}
		oktaIDs[p.Okta.ID] = true
		switch p.Okta.Status {
		case "ACTIVE", "SUSPENDED", "DEPROVISIONED", "LOCKED_OUT", "PASSWORD_EXPIRED", "STAGED", "PROVISIONED", "RECOVERY":
		default:
			errs = append(errs, fmt.Errorf("person %s: unknown okta status %q", p.EmployeeID, p.Okta.Status))
		}
		for _, g := range p.Okta.Groups {
			if !groups[g] {
				errs = append(errs, fmt.Errorf("person %s: unknown okta group %s", p.EmployeeID, g))
			}
		}
		for _, g := range p.Okta.Grants {
			if !clients[g.Client] {
				errs = append(errs, fmt.Errorf("person %s: unknown okta client %s", p.EmployeeID, g.Client))
			}
		}
	}
	return errors.Join(errs...)
}

// Person returns the person with the given employee ID.
func (o *Org) Person(employeeID string) (Person, bool) {
	for _, p := range o.People {
		if p.EmployeeID == employeeID {
			return p, true
		}
	}
	return Person{}, false
}
