package google

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// stateVersion is the version of the SaveState format.
const stateVersion = 1

// state is everything the emulator holds. It is what SaveState writes.
type state struct {
	Version  int    `json:"version"`
	Domain   string `json:"domain"`
	Customer string `json:"customer"`
	// Admin is the actor of the admin audit events the API calls log.
	Admin  actor    `json:"admin"`
	Users  []*user  `json:"users"`
	Groups []*group `json:"groups"`
	// Events is the Reports API's activity log, oldest first.
	Events []*record `json:"events"`
	// Serial feeds the generated IDs so they stay unique across restarts.
	Serial uint64 `json:"serial"`
}

type user struct {
	ID               string    `json:"id"`
	EmployeeID       string    `json:"employeeId,omitempty"`
	PrimaryEmail     string    `json:"primaryEmail"`
	GivenName        string    `json:"givenName"`
	FamilyName       string    `json:"familyName"`
	IsAdmin          bool      `json:"isAdmin"`
	Suspended        bool      `json:"suspended"`
	SuspensionReason string    `json:"suspensionReason,omitempty"`
	CreationTime     time.Time `json:"creationTime"`
	LastLoginTime    time.Time `json:"lastLoginTime"`
	Tokens           []*token  `json:"tokens"`
	ASPs             []*asp    `json:"asps"`
	// BackupCodes are the valid backup verification codes.
	BackupCodes []string `json:"backupCodes"`
	// Sessions counts signed-in web and device sessions.
	Sessions int `json:"sessions"`
}

type token struct {
	ClientID    string   `json:"clientId"`
	DisplayText string   `json:"displayText"`
	Scopes      []string `json:"scopes"`
	NativeApp   bool     `json:"nativeApp"`
	Anonymous   bool     `json:"anonymous"`
}

type asp struct {
	CodeID       int64     `json:"codeId"`
	Name         string    `json:"name"`
	CreationTime time.Time `json:"creationTime"`
	LastTimeUsed time.Time `json:"lastTimeUsed"`
}

type group struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	// Members are user IDs, all with role MEMBER.
	Members []string `json:"members"`
}

// record is one Reports API activity and when it happened.
type record struct {
	At time.Time `json:"at"`
	// Qualifier is the activity's uniqueQualifier.
	Qualifier int64    `json:"qualifier"`
	App       string   `json:"app"`
	Actor     actor    `json:"actor"`
	IP        string   `json:"ip,omitempty"`
	Owner     string   `json:"ownerDomain,omitempty"`
	Events    []*event `json:"events"`
	// Given is the activity as POST /_emulator/events gave it (with the
	// defaults it lacked): what activities.list serves for it, with only
	// the matching events. The fields above are read from it for the
	// queries. Empty for the activities the emulator wrote itself.
	Given json.RawMessage `json:"given,omitempty"`
}

type actor struct {
	CallerType string `json:"callerType"`
	Email      string `json:"email"`
	ProfileID  string `json:"profileId"`
}

type event struct {
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	Parameters []*param `json:"parameters,omitempty"`
	// Given is the event as given, in an activity given to POST
	// /_emulator/events.
	Given json.RawMessage `json:"given,omitempty"`
}

type param struct {
	Name       string   `json:"name"`
	Value      string   `json:"value,omitempty"`
	BoolValue  *bool    `json:"boolValue,omitempty"`
	IntValue   string   `json:"intValue,omitempty"`
	MultiValue []string `json:"multiValue,omitempty"`
	// MultiIntValue holds int64s as strings, as Google writes them.
	MultiIntValue []string `json:"multiIntValue,omitempty"`
}

func strParam(name, v string) *param { return &param{Name: name, Value: v} }

func boolParam(name string, v bool) *param { return &param{Name: name, BoolValue: &v} }

// value is the parameter's value as the Reports filters compare it.
func (p *param) value() string {
	switch {
	case p.BoolValue != nil:
		return strconv.FormatBool(*p.BoolValue)
	case p.IntValue != "":
		return p.IntValue
	case len(p.multi()) > 0:
		return strings.Join(p.multi(), ",")
	}
	return p.Value
}

// multi is the parameter's list of values, if it has one.
func (p *param) multi() []string {
	if len(p.MultiValue) > 0 {
		return p.MultiValue
	}
	return p.MultiIntValue
}

func (st *state) user(id string) *user {
	for _, u := range st.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// userByKey finds a user by ID or primary email (case-insensitive), as
// every Directory API userKey accepts.
func (st *state) userByKey(key string) *user {
	if u := st.user(key); u != nil {
		return u
	}
	for _, u := range st.Users {
		if strings.EqualFold(u.PrimaryEmail, key) {
			return u
		}
	}
	return nil
}

// groupByKey finds a group by ID or email.
func (st *state) groupByKey(key string) *group {
	for _, g := range st.Groups {
		if g.ID == key || strings.EqualFold(g.Email, key) {
			return g
		}
	}
	return nil
}

// inDomain reports whether an email address belongs to the customer's
// domain (or a subdomain of it).
func (st *state) inDomain(email string) bool {
	_, dom, ok := strings.Cut(email, "@")
	if !ok {
		return false
	}
	dom = strings.ToLower(dom)
	d := strings.ToLower(st.Domain)
	return dom == d || strings.HasSuffix(dom, "."+d)
}

func (st *state) groupsOf(userID string) []*group {
	var out []*group
	for _, g := range st.Groups {
		if slices.Contains(g.Members, userID) {
			out = append(out, g)
		}
	}
	return out
}

// next returns the next serial number and a hash derived from it, so a
// given seed always produces the same IDs.
func (st *state) next(kind string) [32]byte {
	st.Serial++
	return sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", st.Domain, kind, st.Serial))
}

// newQualifier makes a positive int64 uniqueQualifier.
func (st *state) newQualifier() int64 {
	sum := st.next("qualifier")
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
}

// newCodeID makes an ASP code ID: Google's are small positive integers.
func (st *state) newCodeID() int64 {
	st.Serial++
	return int64(st.Serial)
}

// newBackupCodes makes ten 8-digit backup verification codes.
func (st *state) newBackupCodes() []string {
	codes := make([]string, 0, 10)
	for range 10 {
		sum := st.next("backup-code")
		codes = append(codes, fmt.Sprintf("%08d", binary.BigEndian.Uint32(sum[:4])%100000000))
	}
	return codes
}

// groupID derives a Google-style group ID (15 lowercase base-36
// characters starting with 0) from the group's email.
func groupID(email string) string {
	sum := sha256.Sum256([]byte("group/" + strings.ToLower(email)))
	s := new(big.Int).SetBytes(sum[:]).Text(36)
	return "0" + s[:14]
}

// profileID derives a 21-digit Google profile ID.
func profileID(seedText string) string {
	sum := sha256.Sum256([]byte("profile/" + seedText))
	n := new(big.Int).SetBytes(sum[:16])
	n.Mod(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil))
	return "1" + fmt.Sprintf("%020s", n.String())
}

func etag(v ...any) string {
	sum := sha256.Sum256(fmt.Append(nil, v...))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// seedTime is when the demo org's accounts were created.
var seedTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// fromSeed builds the initial state from the demo org.
func fromSeed(org *seed.Org, adminEmail string) *state {
	st := &state{Version: stateVersion, Domain: org.Domain, Customer: org.Google.Customer}
	if st.Domain == "" {
		st.Domain = "example.com"
	}
	if st.Customer == "" {
		st.Customer = "C00000000"
	}
	if adminEmail == "" {
		adminEmail = "admin@" + st.Domain
	}
	st.Admin = actor{CallerType: "USER", Email: adminEmail, ProfileID: profileID(adminEmail)}
	addGroup := func(email string) *group {
		if g := st.groupByKey(email); g != nil {
			return g
		}
		local, _, _ := strings.Cut(email, "@")
		g := &group{ID: groupID(email), Email: strings.ToLower(email), Name: local, Members: []string{}}
		st.Groups = append(st.Groups, g)
		return g
	}
	for _, g := range org.Google.Groups {
		addGroup(g)
	}
	type seeded struct {
		ev seed.Event
		u  *user
	}
	var events []seeded
	i := 0
	for _, p := range org.People {
		gu := p.Google
		if gu == nil {
			continue
		}
		id := gu.ID
		if id == "" {
			id = profileID(p.EmployeeID + "/" + p.Email)
		}
		created := seedTime.Add(time.Duration(i) * 24 * time.Hour)
		i++
		u := &user{
			ID:           id,
			EmployeeID:   p.EmployeeID,
			PrimaryEmail: strings.ToLower(p.Email),
			GivenName:    p.FirstName,
			FamilyName:   p.LastName,
			IsAdmin:      gu.Admin,
			Suspended:    gu.Suspended,
			CreationTime: created,
			Tokens:       []*token{},
			ASPs:         []*asp{},
			BackupCodes:  []string{},
		}
		if gu.Suspended {
			u.SuspensionReason = "ADMIN"
		}
		for _, t := range gu.Tokens {
			u.Tokens = append(u.Tokens, &token{ClientID: t.ClientID, DisplayText: t.DisplayText, Scopes: slices.Clone(t.Scopes)})
		}
		for n := range gu.AppPasswords {
			made := created.Add(time.Duration(n+1) * time.Hour)
			u.ASPs = append(u.ASPs, &asp{CodeID: st.newCodeID(), Name: fmt.Sprintf("Mail client %d", n+1), CreationTime: made, LastTimeUsed: made.Add(24 * time.Hour)})
		}
		if gu.BackupCodes {
			u.BackupCodes = st.newBackupCodes()
		}
		for _, ge := range gu.Groups {
			g := addGroup(ge)
			if !slices.Contains(g.Members, u.ID) {
				g.Members = append(g.Members, u.ID)
			}
		}
		for _, e := range gu.Events {
			events = append(events, seeded{e, u})
			if e.Type == "login_success" {
				if !gu.Suspended {
					u.Sessions++
				}
				if e.At.After(u.LastLoginTime) {
					u.LastLoginTime = e.At.UTC()
				}
			}
		}
		st.Users = append(st.Users, u)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].ev.At.Before(events[j].ev.At) })
	for _, e := range events {
		st.Events = append(st.Events, st.seedRecord(e.u, e.ev))
	}
	return st
}

// normalize fills what a decoded state may leave nil and checks it.
func (st *state) normalize() error {
	if st.Version != stateVersion {
		return fmt.Errorf("google emulator state: version %d, want %d", st.Version, stateVersion)
	}
	if st.Domain == "" || st.Customer == "" {
		return fmt.Errorf("google emulator state: domain and customer are required")
	}
	seen := map[string]bool{}
	for i, u := range st.Users {
		if u == nil || u.ID == "" {
			return fmt.Errorf("google emulator state: user %d has no id", i)
		}
		if seen[u.ID] {
			return fmt.Errorf("google emulator state: user %s appears twice", u.ID)
		}
		seen[u.ID] = true
		if u.Tokens == nil {
			u.Tokens = []*token{}
		}
		if u.ASPs == nil {
			u.ASPs = []*asp{}
		}
		if u.BackupCodes == nil {
			u.BackupCodes = []string{}
		}
		if slices.Contains(u.Tokens, nil) || slices.Contains(u.ASPs, nil) {
			return fmt.Errorf("google emulator state: user %s has a null token or app password", u.ID)
		}
	}
	for i, g := range st.Groups {
		if g == nil || g.ID == "" {
			return fmt.Errorf("google emulator state: group %d has no id", i)
		}
		if g.Members == nil {
			g.Members = []string{}
		}
	}
	for i, e := range st.Events {
		if e == nil {
			return fmt.Errorf("google emulator state: event %d is null", i)
		}
	}
	sort.SliceStable(st.Events, func(i, j int) bool { return st.Events[i].At.Before(st.Events[j].At) })
	return nil
}

// appOf maps a seeded event type to its Reports application and event
// type. "app:name" names the application explicitly.
func appOf(name string) (app, typ, ev string) {
	if a, n, ok := strings.Cut(name, ":"); ok {
		return a, eventTypes[a], n
	}
	switch name {
	case "login_success", "login_failure", "logout", "login_challenge", "login_verification",
		"suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login",
		"account_disabled_generic", "account_disabled_spamming", "account_disabled_hijacked":
		return "login", "login", name
	case "authorize", "revoke", "activity", "request":
		return "token", "auth", name
	case "change_user_access", "change_document_visibility", "change_document_access_scope", "change_acl_editors":
		return "drive", "acl_change", name
	}
	if strings.ToUpper(name) == name {
		return "admin", "USER_SETTINGS", name
	}
	return "drive", "access", name
}

// eventTypes is the event type used for "app:name" seed events.
var eventTypes = map[string]string{
	"login": "login", "token": "auth", "drive": "access", "admin": "USER_SETTINGS",
	"saml": "login", "user_accounts": "2sv_change", "takeout": "takeout", "gmail": "email",
}

// seedRecord turns a seeded event into a Reports activity.
func (st *state) seedRecord(u *user, e seed.Event) *record {
	app, typ, name := appOf(e.Type)
	rec := &record{At: e.At.UTC(), Qualifier: st.newQualifier(), App: app, IP: e.IP,
		Actor: actor{CallerType: "USER", Email: u.PrimaryEmail, ProfileID: u.ID}}
	ev := &event{Type: typ, Name: name}
	switch app {
	case "login":
		ev.Parameters = []*param{strParam("login_type", "google_password")}
		if name == "login_failure" {
			reason := e.Result
			if reason == "" {
				reason = "login_failure_invalid_password"
			}
			ev.Parameters = append(ev.Parameters, strParam("login_failure_type", reason))
		}
		ev.Parameters = append(ev.Parameters, boolParam("is_suspicious", name == "suspicious_login"))
	case "drive":
		rec.Owner = st.Domain
		title := e.Target
		if title == "" {
			title = "Untitled document"
		}
		ev.Parameters = driveParams(u.PrimaryEmail, title)
	case "token":
		ev.Parameters = []*param{strParam("client_id", e.Target), strParam("app_name", e.Target)}
	case "admin":
		rec.Actor = st.Admin
		ev.Parameters = []*param{strParam("USER_EMAIL", u.PrimaryEmail)}
	}
	rec.Events = []*event{ev}
	return rec
}

// driveParams are a Drive access event's parameters for a private
// document of owner's, whose ID is derived from its title.
func driveParams(owner, title string) []*param {
	sum := sha256.Sum256([]byte("doc/" + title))
	docID := "1" + new(big.Int).SetBytes(sum[:]).Text(62)[:32]
	return []*param{
		boolParam("primary_event", true),
		boolParam("billable", true),
		strParam("owner", owner),
		strParam("doc_id", docID),
		strParam("doc_type", "document"),
		strParam("doc_title", title),
		strParam("visibility", "private"),
		boolParam("owner_is_shared_drive", false),
	}
}

// logAdmin appends an admin audit event about u.
func (st *state) logAdmin(now time.Time, ip, typ, name string, params ...*param) {
	rec := &record{At: now.UTC(), Qualifier: st.newQualifier(), App: "admin", Actor: st.Admin, IP: ip,
		Events: []*event{{Type: typ, Name: name, Parameters: params}}}
	st.Events = append(st.Events, rec)
}

// logToken appends a token audit event whose actor is the user.
func (st *state) logToken(now time.Time, ip string, u *user, name string, t *token) {
	params := []*param{strParam("client_id", t.ClientID), strParam("app_name", t.DisplayText)}
	if len(t.Scopes) > 0 {
		params = append(params, &param{Name: "scope", MultiValue: slices.Clone(t.Scopes)})
	}
	rec := &record{At: now.UTC(), Qualifier: st.newQualifier(), App: "token", IP: ip,
		Actor:  actor{CallerType: "USER", Email: u.PrimaryEmail, ProfileID: u.ID},
		Events: []*event{{Type: "auth", Name: name, Parameters: params}}}
	st.Events = append(st.Events, rec)
}

// activityJSON is a record the way the Reports API serves it.
func (st *state) activityJSON(r *record) map[string]any {
	events := make([]map[string]any, 0, len(r.Events))
	for _, e := range r.Events {
		m := map[string]any{"type": e.Type, "name": e.Name}
		if len(e.Parameters) > 0 {
			m["parameters"] = e.Parameters
		}
		events = append(events, m)
	}
	out := map[string]any{
		"kind": "admin#reports#activity",
		"id": map[string]any{
			"time":            r.At.UTC().Format(timeLayout),
			"uniqueQualifier": strconv.FormatInt(r.Qualifier, 10),
			"applicationName": r.App,
			"customerId":      st.Customer,
		},
		"etag":   etag("activity", r.Qualifier),
		"actor":  r.Actor,
		"events": events,
	}
	if r.IP != "" {
		out["ipAddress"] = r.IP
	}
	if r.Owner != "" {
		out["ownerDomain"] = r.Owner
	}
	return out
}

// timeLayout is how Google writes timestamps: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// jsonTime formats a time the way the Directory API does, or "" for zero.
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return "1970-01-01T00:00:00.000Z"
	}
	return t.UTC().Format(timeLayout)
}

func (u *user) fullName() string { return strings.TrimSpace(u.GivenName + " " + u.FamilyName) }

// userJSON is a user the way the Directory API serves it.
func (st *state) userJSON(u *user) map[string]any {
	m := map[string]any{
		"kind":         "admin#directory#user",
		"id":           u.ID,
		"etag":         etag("user", u.ID, u.Suspended, u.IsAdmin, u.PrimaryEmail),
		"primaryEmail": u.PrimaryEmail,
		"name": map[string]any{
			"givenName":   u.GivenName,
			"familyName":  u.FamilyName,
			"fullName":    u.fullName(),
			"displayName": u.fullName(),
		},
		"isAdmin":                    u.IsAdmin,
		"isDelegatedAdmin":           false,
		"lastLoginTime":              jsonTime(u.LastLoginTime),
		"creationTime":               jsonTime(u.CreationTime),
		"agreedToTerms":              true,
		"suspended":                  u.Suspended,
		"archived":                   false,
		"changePasswordAtNextLogin":  false,
		"ipWhitelisted":              false,
		"emails":                     []map[string]any{{"address": u.PrimaryEmail, "primary": true}},
		"customerId":                 st.Customer,
		"orgUnitPath":                "/",
		"isMailboxSetup":             true,
		"isEnrolledIn2Sv":            len(u.BackupCodes) > 0,
		"isEnforcedIn2Sv":            false,
		"includeInGlobalAddressList": true,
	}
	if u.Suspended && u.SuspensionReason != "" {
		m["suspensionReason"] = u.SuspensionReason
	}
	if u.EmployeeID != "" {
		m["externalIds"] = []map[string]any{{"value": u.EmployeeID, "type": "organization"}}
	}
	return m
}

func (st *state) groupJSON(g *group) map[string]any {
	return map[string]any{
		"kind":               "admin#directory#group",
		"id":                 g.ID,
		"etag":               etag("group", g.ID, len(g.Members)),
		"email":              g.Email,
		"name":               g.Name,
		"directMembersCount": strconv.Itoa(len(g.Members)),
		"description":        "",
		"adminCreated":       true,
	}
}
