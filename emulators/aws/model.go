package aws

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// stateVersion is the version of the SaveState format.
const stateVersion = 1

// state is everything the emulator holds. It is what SaveState writes.
type state struct {
	Version int `json:"version"`
	// Accounts lists the AWS accounts; the first is the management account
	// (Identity Center, the default key).
	Accounts []*account `json:"accounts"`
	// Credentials are the long-term account keys and the sessions AssumeRole
	// issued. IAM users' own keys live on the users.
	Credentials []*credential `json:"credentials"`
	Users       []*iamUser    `json:"users"`
	Groups      []*iamGroup   `json:"groups"`
	MFADevices  []*mfaDevice  `json:"mfaDevices"`

	IdentityStoreID string           `json:"identityStoreId"`
	InstanceARN     string           `json:"instanceArn"`
	SSOUsers        []*ssoUser       `json:"ssoUsers"`
	SSOGroups       []*ssoGroup      `json:"ssoGroups"`
	Memberships     []*membership    `json:"memberships"`
	PermissionSets  []*permissionSet `json:"permissionSets"`
	Assignments     []*assignment    `json:"assignments"`
	Requests        []*asyncRequest  `json:"requests"`

	Events []*event `json:"events"`
	// Serial feeds the generated IDs so they stay unique across restarts.
	Serial uint64 `json:"serial"`
}

type account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// credential kinds.
const (
	credAccount = "account" // the account's long-term admin key
	credSession = "session" // temporary credentials from AssumeRole
)

type credential struct {
	KeyID        string    `json:"keyId"`
	Secret       string    `json:"secret"`
	Account      string    `json:"account"`
	Kind         string    `json:"kind"`
	ARN          string    `json:"arn"`
	UserID       string    `json:"userId"`
	Name         string    `json:"name"`
	SessionToken string    `json:"sessionToken,omitempty"`
	Issued       time.Time `json:"issued,omitzero"`
	Expires      time.Time `json:"expires,omitzero"`
}

type iamUser struct {
	Account      string            `json:"account"`
	UserName     string            `json:"userName"`
	UserID       string            `json:"userId"`
	Path         string            `json:"path"`
	Created      time.Time         `json:"created"`
	PasswordUsed *time.Time        `json:"passwordUsed,omitempty"`
	Tags         []tag             `json:"tags"`
	AccessKeys   []*accessKey      `json:"accessKeys"`
	LoginProfile *loginProfile     `json:"loginProfile,omitempty"`
	SSHKeys      []*sshKey         `json:"sshKeys"`
	ServiceCreds []*serviceCred    `json:"serviceCreds"`
	Certs        []*signingCert    `json:"certs"`
	Groups       []string          `json:"groups"`          // group names
	Managed      []string          `json:"managedPolicies"` // policy ARNs
	Inline       map[string]string `json:"inlinePolicies"`  // name -> document
}

func (u *iamUser) arn() string {
	return fmt.Sprintf("arn:aws:iam::%s:user%s%s", u.Account, u.Path, u.UserName)
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type accessKey struct {
	ID          string     `json:"id"`
	Secret      string     `json:"secret"`
	Status      string     `json:"status"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"lastUsed,omitempty"`
	LastService string     `json:"lastService,omitempty"`
	LastRegion  string     `json:"lastRegion,omitempty"`
}

type loginProfile struct {
	Created       time.Time `json:"created"`
	ResetRequired bool      `json:"resetRequired"`
}

type sshKey struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Uploaded time.Time `json:"uploaded"`
}

type serviceCred struct {
	ID              string    `json:"id"`
	ServiceName     string    `json:"serviceName"`
	ServiceUserName string    `json:"serviceUserName"`
	Status          string    `json:"status"`
	Created         time.Time `json:"created"`
}

type signingCert struct {
	ID       string    `json:"id"`
	Body     string    `json:"body"`
	Status   string    `json:"status"`
	Uploaded time.Time `json:"uploaded"`
}

type iamGroup struct {
	Account string    `json:"account"`
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// mfaDevice is an MFA device in an account. User is empty when the device
// is not assigned (a virtual device after deactivation).
type mfaDevice struct {
	Account string    `json:"account"`
	Serial  string    `json:"serial"`
	User    string    `json:"user,omitempty"`
	Virtual bool      `json:"virtual"`
	Enabled time.Time `json:"enabled"`
}

type ssoUser struct {
	ID          string    `json:"id"`
	UserName    string    `json:"userName"`
	DisplayName string    `json:"displayName"`
	GivenName   string    `json:"givenName"`
	FamilyName  string    `json:"familyName"`
	Emails      []string  `json:"emails"`
	Status      string    `json:"status"`
	Created     time.Time `json:"created"`
}

type ssoGroup struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

type membership struct {
	ID      string    `json:"id"`
	GroupID string    `json:"groupId"`
	UserID  string    `json:"userId"`
	Created time.Time `json:"created"`
}

type permissionSet struct {
	ARN     string    `json:"arn"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Inline  string    `json:"inlinePolicy"`
	// Version counts changes to the permission set; Provisioned records,
	// per account it is provisioned to, which version is there.
	Version     int            `json:"version"`
	Provisioned map[string]int `json:"provisioned"`
}

type assignment struct {
	Account          string `json:"account"`
	PermissionSetARN string `json:"permissionSetArn"`
	PrincipalType    string `json:"principalType"`
	PrincipalID      string `json:"principalId"`
}

// asyncRequest is an Identity Center operation that completes later:
// an account assignment deletion or a permission set provisioning.
type asyncRequest struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // "deletion" or "provision"
	Status    string    `json:"status"`
	Created   time.Time `json:"created"`
	Described int       `json:"described"`
	Failure   string    `json:"failure,omitempty"`

	Account          string   `json:"account,omitempty"`
	PermissionSetARN string   `json:"permissionSetArn"`
	PrincipalType    string   `json:"principalType,omitempty"`
	PrincipalID      string   `json:"principalId,omitempty"`
	Accounts         []string `json:"accounts,omitempty"`
	PSVersion        int      `json:"psVersion,omitempty"`
}

// event is one CloudTrail event. Management is false for data events (S3
// object reads), which Event history does not show.
type event struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Time        time.Time  `json:"time"`
	Account     string     `json:"account"`
	Username    string     `json:"username,omitempty"`
	AccessKeyID string     `json:"accessKeyId,omitempty"`
	ReadOnly    bool       `json:"readOnly"`
	Management  bool       `json:"management"`
	Resources   []resource `json:"resources,omitempty"`
	Record      string     `json:"record"`
}

type resource struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// --- lookups -----------------------------------------------------------

func (st *state) account(id string) *account {
	for _, a := range st.Accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (st *state) managementAccount() string {
	if len(st.Accounts) == 0 {
		return ""
	}
	return st.Accounts[0].ID
}

func (st *state) user(acct, name string) *iamUser {
	for _, u := range st.Users {
		// IAM user names are unique per account, case-insensitively.
		if u.Account == acct && strings.EqualFold(u.UserName, name) {
			return u
		}
	}
	return nil
}

func (st *state) group(acct, name string) *iamGroup {
	for _, g := range st.Groups {
		if g.Account == acct && strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

// keyOwner finds an IAM user's access key by ID.
func (st *state) keyOwner(keyID string) (*iamUser, *accessKey) {
	for _, u := range st.Users {
		for _, k := range u.AccessKeys {
			if k.ID == keyID {
				return u, k
			}
		}
	}
	return nil, nil
}

func (st *state) credential(keyID string) *credential {
	for _, c := range st.Credentials {
		if c.KeyID == keyID {
			return c
		}
	}
	return nil
}

func (st *state) ssoUser(id string) *ssoUser {
	for _, u := range st.SSOUsers {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (st *state) ssoGroup(id string) *ssoGroup {
	for _, g := range st.SSOGroups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (st *state) permissionSet(arn string) *permissionSet {
	for _, p := range st.PermissionSets {
		if p.ARN == arn {
			return p
		}
	}
	return nil
}

func (st *state) permissionSetByName(name string) *permissionSet {
	for _, p := range st.PermissionSets {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (st *state) request(id string) *asyncRequest {
	for _, r := range st.Requests {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// --- deterministic IDs --------------------------------------------------

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hashID makes an AWS-style identifier: prefix plus n characters of
// [A-Z2-7] derived from the parts, so a given seed always gives the same
// IDs.
func hashID(prefix string, n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return prefix + b32.EncodeToString(sum[:])[:n]
}

// hashSecret makes a 40-character secret access key.
func hashSecret(parts ...string) string {
	sum := sha256.Sum256([]byte("secret/" + strings.Join(parts, "/")))
	return base64.RawStdEncoding.EncodeToString(sum[:])[:40]
}

func hashHex(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])[:n]
}

// hashUUID makes a version-4-shaped UUID from the parts.
func hashUUID(parts ...string) string {
	sum := sha256.Sum256([]byte("uuid/" + strings.Join(parts, "/")))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		binary.BigEndian.Uint32(sum[0:4]), binary.BigEndian.Uint16(sum[4:6]), binary.BigEndian.Uint16(sum[6:8]),
		binary.BigEndian.Uint16(sum[8:10]), sum[10:16])
}

// next returns a new serial-derived string, unique within this state.
func (st *state) next(kind string) string {
	st.Serial++
	return fmt.Sprintf("%s/%d", kind, st.Serial)
}

// accountKey is the long-term admin key of an account.
func accountKey(acct string) (id, secret string) {
	return hashID("AKIA", 16, "account-key", acct), hashSecret("account-key", acct)
}

// --- seeding -------------------------------------------------------------

// seedTime is when the demo org's objects were created.
var seedTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

const (
	defaultStoreID     = "d-0000000000"
	defaultInstanceARN = "arn:aws:sso:::instance/ssoins-0000000000000000"
	managementName     = "management"
)

func instanceID(instanceARN string) string {
	_, id, _ := strings.Cut(instanceARN, "instance/")
	return id
}

// fromSeed builds the initial state from the AWS part of org.
func fromSeed(org *seed.Org) *state {
	st := &state{Version: stateVersion, IdentityStoreID: org.AWS.IdentityStoreID, InstanceARN: org.AWS.InstanceARN}
	if st.IdentityStoreID == "" {
		st.IdentityStoreID = defaultStoreID
	}
	if st.InstanceARN == "" {
		st.InstanceARN = defaultInstanceARN
	}
	addAccount := func(id, name string) {
		if id == "" || st.account(id) != nil {
			return
		}
		st.Accounts = append(st.Accounts, &account{ID: id, Name: name})
		kid, secret := accountKey(id)
		st.Credentials = append(st.Credentials, &credential{
			KeyID: kid, Secret: secret, Account: id, Kind: credAccount,
			ARN: "arn:aws:iam::" + id + ":root", UserID: id, Name: "root",
		})
	}
	for _, a := range org.AWS.Accounts {
		addAccount(a.ID, a.Name)
	}
	for _, p := range org.People {
		if p.AWS == nil {
			continue
		}
		for _, u := range p.AWS.IAMUsers {
			addAccount(u.Account, "")
		}
		if ic := p.AWS.IdentityCenter; ic != nil {
			for _, as := range ic.Assignments {
				addAccount(as.Account, "")
			}
		}
	}
	if len(st.Accounts) == 0 {
		addAccount("000000000000", managementName)
	}

	// IAM groups exist in every account; Identity Center groups once.
	groupNames := slices.Clone(org.AWS.Groups)
	psNames := slices.Clone(org.AWS.PermissionSets)
	for _, p := range org.People {
		if p.AWS == nil {
			continue
		}
		for _, u := range p.AWS.IAMUsers {
			groupNames = appendNew(groupNames, u.Groups...)
		}
		if ic := p.AWS.IdentityCenter; ic != nil {
			groupNames = appendNew(groupNames, ic.Groups...)
			for _, as := range ic.Assignments {
				psNames = appendNew(psNames, as.PermissionSet)
			}
		}
	}
	for _, a := range st.Accounts {
		for i, g := range groupNames {
			st.Groups = append(st.Groups, &iamGroup{Account: a.ID, Name: g, ID: hashID("AGPA", 17, "group", a.ID, g),
				Created: seedTime.Add(-time.Duration(len(groupNames)-i) * time.Hour)})
		}
	}
	for i, g := range groupNames {
		st.SSOGroups = append(st.SSOGroups, &ssoGroup{ID: hashUUID("sso-group", st.IdentityStoreID, g), Name: g,
			Created: seedTime.Add(-time.Duration(len(groupNames)-i) * time.Hour)})
	}
	inst := instanceID(st.InstanceARN)
	for i, n := range psNames {
		st.PermissionSets = append(st.PermissionSets, &permissionSet{
			ARN:         fmt.Sprintf("arn:aws:sso:::permissionSet/%s/ps-%s", inst, hashHex(16, "permission-set", st.InstanceARN, n)),
			Name:        n,
			Created:     seedTime.Add(-time.Duration(len(psNames)-i) * time.Hour),
			Version:     1,
			Provisioned: map[string]int{},
		})
	}

	var seeded []*event
	day := 0
	for _, p := range org.People {
		if p.AWS == nil {
			continue
		}
		created := seedTime.Add(time.Duration(day) * 24 * time.Hour)
		day++
		var lastEvent, lastLogin time.Time
		for _, e := range p.AWS.Events {
			if e.At.After(lastEvent) {
				lastEvent = e.At
			}
			if e.Type == "ConsoleLogin" && (e.Result == "" || e.Result == "Success") && e.At.After(lastLogin) {
				lastLogin = e.At
			}
		}
		for _, su := range p.AWS.IAMUsers {
			u := seedUser(st, p, su, created, lastEvent, lastLogin)
			st.Users = append(st.Users, u)
		}
		if ic := p.AWS.IdentityCenter; ic != nil {
			u := &ssoUser{
				ID: ic.UserID, UserName: ic.UserName, GivenName: p.FirstName, FamilyName: p.LastName,
				DisplayName: strings.TrimSpace(p.FirstName + " " + p.LastName), Status: "ENABLED",
				Created: created,
			}
			if u.ID == "" {
				u.ID = hashUUID("sso-user", st.IdentityStoreID, p.EmployeeID)
			}
			if u.UserName == "" {
				u.UserName = p.Email
			}
			if p.Email != "" {
				u.Emails = []string{p.Email}
			}
			st.SSOUsers = append(st.SSOUsers, u)
			for _, g := range ic.Groups {
				gid := hashUUID("sso-group", st.IdentityStoreID, g)
				st.Memberships = append(st.Memberships, &membership{
					ID: hashUUID("membership", st.IdentityStoreID, gid, u.ID), GroupID: gid, UserID: u.ID, Created: created.Add(time.Hour),
				})
			}
			for _, as := range ic.Assignments {
				ps := st.permissionSetByName(as.PermissionSet)
				st.Assignments = append(st.Assignments, &assignment{Account: as.Account, PermissionSetARN: ps.ARN, PrincipalType: "USER", PrincipalID: u.ID})
				ps.Provisioned[as.Account] = ps.Version
			}
		}
		// The person's history lands in the account of their first IAM
		// user, else of their first assignment, else the management account.
		acct, username, role := st.managementAccount(), "", ""
		switch {
		case len(p.AWS.IAMUsers) > 0:
			acct, username = p.AWS.IAMUsers[0].Account, p.AWS.IAMUsers[0].UserName
		case p.AWS.IdentityCenter != nil:
			// Identity Center sessions act through the permission set's
			// role, with the user name as the session name.
			username = st.SSOUsers[len(st.SSOUsers)-1].UserName
			role = "AWSReservedSSO_" + managementName
			if as := p.AWS.IdentityCenter.Assignments; len(as) > 0 {
				acct = as[0].Account
				role = "AWSReservedSSO_" + as[0].PermissionSet + "_" + hashHex(16, "sso-role", as[0].PermissionSet)
			}
		}
		var keyID string
		if len(st.Users) > 0 && len(p.AWS.IAMUsers) > 0 {
			if u := st.user(acct, username); u != nil && len(u.AccessKeys) > 0 {
				keyID = u.AccessKeys[0].ID
			}
		}
		for _, e := range p.AWS.Events {
			seeded = append(seeded, seedEvent(acct, username, keyID, role, e))
		}
	}
	slices.SortStableFunc(seeded, func(a, b *event) int { return a.Time.Compare(b.Time) })
	st.Events = seeded
	return st
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func seedUser(st *state, p seed.Person, su seed.IAMUser, created, lastEvent, lastLogin time.Time) *iamUser {
	acct, name := su.Account, su.UserName
	u := &iamUser{
		Account: acct, UserName: name, Path: "/", Created: created,
		UserID: hashID("AIDA", 17, "user", acct, name),
		Inline: map[string]string{},
	}
	if p.Email != "" {
		u.Tags = append(u.Tags, tag{Key: "email", Value: p.Email})
	}
	if p.EmployeeID != "" {
		u.Tags = append(u.Tags, tag{Key: "employeeId", Value: p.EmployeeID})
	}
	for i := range su.AccessKeys {
		k := &accessKey{
			ID:      hashID("AKIA", 16, "access-key", acct, name, fmt.Sprint(i)),
			Secret:  hashSecret("access-key", acct, name, fmt.Sprint(i)),
			Status:  "Active",
			Created: created.Add(time.Duration(i+1) * time.Hour),
		}
		if i == 0 && !lastEvent.IsZero() {
			t := lastEvent
			k.LastUsed, k.LastService, k.LastRegion = &t, "s3", "us-east-1"
		}
		u.AccessKeys = append(u.AccessKeys, k)
	}
	if su.LoginProfile {
		u.LoginProfile = &loginProfile{Created: created.Add(10 * time.Minute)}
		if !lastLogin.IsZero() {
			t := lastLogin
			u.PasswordUsed = &t
		}
	}
	if su.MFA {
		st.MFADevices = append(st.MFADevices, &mfaDevice{
			// Virtual devices are named when created; the demo names them
			// without the user name so /_emulator/state stays free of names.
			Account: acct, Serial: fmt.Sprintf("arn:aws:iam::%s:mfa/device-%s", acct, hashHex(12, "mfa", acct, name)), User: name, Virtual: true,
			Enabled: created.Add(20 * time.Minute),
		})
	}
	for i := range su.SSHKeys {
		u.SSHKeys = append(u.SSHKeys, &sshKey{ID: hashID("APKA", 16, "ssh", acct, name, fmt.Sprint(i)), Status: "Active", Uploaded: created.Add(2 * time.Hour)})
	}
	for i := range su.ServiceCredentials {
		u.ServiceCreds = append(u.ServiceCreds, &serviceCred{
			ID: hashID("ACCA", 17, "service-credential", acct, name, fmt.Sprint(i)), ServiceName: "codecommit.amazonaws.com",
			ServiceUserName: fmt.Sprintf("%s-at-%s", name, acct), Status: "Active", Created: created.Add(3 * time.Hour),
		})
		if i > 0 {
			u.ServiceCreds[i].ServiceUserName += fmt.Sprintf("-%d", i)
		}
	}
	for i := range su.SigningCerts {
		id := strings.ToUpper(hashHex(32, "signing-cert", acct, name, fmt.Sprint(i)))
		u.Certs = append(u.Certs, &signingCert{
			ID: id, Status: "Active", Uploaded: created.Add(4 * time.Hour),
			Body: "-----BEGIN CERTIFICATE-----\nMIIB" + hashSecret("cert-body", id) + "\n-----END CERTIFICATE-----\n",
		})
	}
	u.Groups = slices.Clone(su.Groups)
	u.Managed = slices.Clone(su.ManagedPolicies)
	for _, n := range su.InlinePolicies {
		u.Inline[n] = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::%[1]s","arn:aws:s3:::%[1]s/*"]}]}`, n)
	}
	return u
}

// dataEvents are CloudTrail data events: recorded by trails with data event
// selectors, never shown by Event history (LookupEvents).
var dataEvents = map[string]bool{"GetObject": true, "PutObject": true, "DeleteObject": true, "HeadObject": true, "Invoke": true}

func eventSource(name string) string {
	switch {
	case name == "ConsoleLogin":
		return "signin.amazonaws.com"
	case dataEvents[name] || strings.HasSuffix(name, "Bucket"):
		return "s3.amazonaws.com"
	case name == "AssumeRole" || name == "GetSessionToken" || name == "GetFederationToken" || name == "GetCallerIdentity":
		return "sts.amazonaws.com"
	}
	return "iam.amazonaws.com"
}

// seedEvent makes a seeded CloudTrail event. role is the Identity Center
// role the person acted through, or "" for an IAM user.
func seedEvent(acct, username, keyID, role string, e seed.Event) *event {
	src := eventSource(e.Type)
	ev := &event{
		ID:         hashUUID("event", acct, username, e.Type, e.At.String()),
		Name:       e.Type,
		Source:     src,
		Time:       e.At.UTC(),
		Account:    acct,
		Username:   username,
		ReadOnly:   strings.HasPrefix(e.Type, "Get") || strings.HasPrefix(e.Type, "List") || strings.HasPrefix(e.Type, "Describe"),
		Management: !dataEvents[e.Type],
	}
	rec := map[string]any{
		"eventVersion":       "1.09",
		"eventTime":          isoTime(ev.Time),
		"eventSource":        src,
		"eventName":          e.Type,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    e.IP,
		"userAgent":          "Mozilla/5.0",
		"eventID":            ev.ID,
		"readOnly":           ev.ReadOnly,
		"eventType":          "AwsApiCall",
		"managementEvent":    ev.Management,
		"recipientAccountId": acct,
		"eventCategory":      "Management",
		"userIdentity": map[string]any{
			"type": "IAMUser", "accountId": acct, "userName": username,
			"arn": fmt.Sprintf("arn:aws:iam::%s:user/%s", acct, username),
		},
	}
	if role != "" {
		rec["userIdentity"] = map[string]any{
			"type": "AssumedRole", "accountId": acct,
			"arn": fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", acct, role, username),
			"sessionContext": map[string]any{"sessionIssuer": map[string]any{
				"type": "Role", "accountId": acct, "userName": role,
				"arn": fmt.Sprintf("arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/%s", acct, role),
			}},
		}
	}
	if !ev.Management {
		rec["eventCategory"] = "Data"
	}
	if keyID != "" && e.Type != "ConsoleLogin" {
		ev.AccessKeyID = keyID
		rec["userIdentity"].(map[string]any)["accessKeyId"] = keyID
	}
	if e.Type == "ConsoleLogin" {
		rec["eventType"] = "AwsConsoleSignIn"
		result := e.Result
		if result == "" {
			result = "Success"
		}
		rec["responseElements"] = map[string]any{"ConsoleLogin": result}
	}
	if e.Target != "" {
		rtype := "AWS::IAM::User"
		if src == "s3.amazonaws.com" {
			rtype = "AWS::S3::Bucket"
			rec["requestParameters"] = map[string]any{"bucketName": e.Target}
		}
		ev.Resources = append(ev.Resources, resource{Type: rtype, Name: e.Target})
	}
	ev.Record = mustJSON(rec)
	return ev
}

// normalize fills what a decoded state may leave nil and checks it.
func (st *state) normalize() error {
	if st.Version != stateVersion {
		return fmt.Errorf("aws emulator state: version %d, want %d", st.Version, stateVersion)
	}
	if len(st.Accounts) == 0 {
		return fmt.Errorf("aws emulator state: no accounts")
	}
	for i, u := range st.Users {
		if u == nil || u.Account == "" || u.UserName == "" {
			return fmt.Errorf("aws emulator state: IAM user %d has no account or name", i)
		}
		if u.Inline == nil {
			u.Inline = map[string]string{}
		}
	}
	for i, p := range st.PermissionSets {
		if p == nil || p.ARN == "" {
			return fmt.Errorf("aws emulator state: permission set %d has no ARN", i)
		}
		if p.Provisioned == nil {
			p.Provisioned = map[string]int{}
		}
	}
	for _, list := range [][]any{toAny(st.Credentials), toAny(st.Groups), toAny(st.MFADevices), toAny(st.SSOUsers),
		toAny(st.SSOGroups), toAny(st.Memberships), toAny(st.Assignments), toAny(st.Requests), toAny(st.Events)} {
		for _, v := range list {
			if v == nil {
				return fmt.Errorf("aws emulator state: null entry")
			}
		}
	}
	return nil
}

func toAny[T any](s []*T) []any {
	out := make([]any, 0, len(s))
	for _, v := range s {
		if v == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, v)
	}
	return out
}
