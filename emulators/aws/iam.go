package aws

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IAM, query protocol: https://docs.aws.amazon.com/IAM/latest/APIReference/

func (s *Server) iamHandlers() map[string]handler {
	return map[string]handler{
		"ListUsers":                       s.listUsers,
		"GetUser":                         s.getUser,
		"ListUserTags":                    s.listUserTags,
		"ListAccessKeys":                  s.listAccessKeys,
		"GetAccessKeyLastUsed":            s.getAccessKeyLastUsed,
		"UpdateAccessKey":                 s.updateAccessKey,
		"DeleteAccessKey":                 s.deleteAccessKey,
		"PutUserPolicy":                   s.putUserPolicy,
		"GetUserPolicy":                   s.getUserPolicy,
		"ListUserPolicies":                s.listUserPolicies,
		"DeleteUserPolicy":                s.deleteUserPolicy,
		"GetLoginProfile":                 s.getLoginProfile,
		"DeleteLoginProfile":              s.deleteLoginProfile,
		"ListMFADevices":                  s.listMFADevices,
		"DeactivateMFADevice":             s.deactivateMFADevice,
		"DeleteVirtualMFADevice":          s.deleteVirtualMFADevice,
		"ListSSHPublicKeys":               s.listSSHPublicKeys,
		"DeleteSSHPublicKey":              s.deleteSSHPublicKey,
		"ListServiceSpecificCredentials":  s.listServiceCredentials,
		"DeleteServiceSpecificCredential": s.deleteServiceCredential,
		"ListSigningCertificates":         s.listSigningCertificates,
		"DeleteSigningCertificate":        s.deleteSigningCertificate,
		"ListGroupsForUser":               s.listGroupsForUser,
		"RemoveUserFromGroup":             s.removeUserFromGroup,
		"ListAttachedUserPolicies":        s.listAttachedUserPolicies,
		"DetachUserPolicy":                s.detachUserPolicy,
	}
}

// XML shapes.

type xTag struct {
	Key   string
	Value string
}

type xUser struct {
	Path             string
	UserName         string
	UserId           string
	Arn              string
	CreateDate       string
	PasswordLastUsed string `xml:",omitempty"`
	Tags             []xTag `xml:"Tags>member,omitempty"`
}

type xAccessKey struct {
	UserName    string
	AccessKeyId string
	Status      string
	CreateDate  string
}

type xMFA struct {
	UserName     string
	SerialNumber string
	EnableDate   string
}

type xSSHKey struct {
	UserName       string
	SSHPublicKeyId string
	Status         string
	UploadDate     string
}

type xServiceCred struct {
	UserName                    string
	Status                      string
	ServiceUserName             string
	CreateDate                  string
	ServiceSpecificCredentialId string
	ServiceName                 string
}

type xCert struct {
	UserName        string
	CertificateId   string
	CertificateBody string
	Status          string
	UploadDate      string
}

type xGroup struct {
	Path       string
	GroupName  string
	GroupId    string
	Arn        string
	CreateDate string
}

type xAttached struct {
	PolicyName string
	PolicyArn  string
}

// validation is IAM's answer to a missing or malformed parameter.
func validation(format string, args ...any) *apiError {
	return errf(400, "ValidationError", format, args...)
}

func required(c *call, name string) (string, *apiError) {
	v := c.params.Get(name)
	if v == "" {
		field := strings.ToLower(name[:1]) + name[1:]
		return "", validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return v, nil
}

func noSuchUser(name string) *apiError {
	return errf(404, "NoSuchEntity", "The user with name %s cannot be found.", name)
}

// targetUser is the user a call names, or the calling IAM user when the
// call names none (as IAM does for its user-scoped operations).
func (s *Server) targetUser(c *call, p *principal) (*iamUser, *apiError) {
	name := c.params.Get("UserName")
	if name == "" {
		if p.kind == "user" {
			return s.St.user(p.account, p.name), nil
		}
		return nil, validation("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	u := s.St.user(p.account, name)
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

// paging reads MaxItems and Marker for a list identified by scope.
func (s *Server) paging(c *call, scope string) (offset, size int, e *apiError) {
	size = s.opts.PageSize
	if v := c.params.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		size = n
	}
	off, ok := parsePageToken(c.params.Get("Marker"), scope)
	if !ok {
		return 0, 0, validation("Invalid Marker.")
	}
	return off, size, nil
}

// listPage pages items and writes the result built from the page.
func listPage[T any](s *Server, w http.ResponseWriter, c *call, scope string, items []T, build func(page []T, truncated bool, marker string) any) {
	off, size, e := s.paging(c, scope)
	if e != nil {
		writeError(w, c, e)
		return
	}
	pg, more := page(items, off, size)
	marker := ""
	if more {
		marker = pageToken(scope, off+len(pg))
	}
	writeResult(w, c, build(pg, more, marker))
}

func (s *Server) listUsers(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	prefix := c.params.Get("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	var users []*iamUser
	for _, u := range s.St.Users {
		if u.Account == p.account && strings.HasPrefix(u.Path, prefix) {
			users = append(users, u)
		}
	}
	sort.SliceStable(users, func(i, j int) bool { return strings.ToLower(users[i].UserName) < strings.ToLower(users[j].UserName) })
	type result struct {
		Users       []xUser `xml:"Users>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listPage(s, w, c, "users/"+p.account+"/"+prefix, users, func(pg []*iamUser, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, u := range pg {
			x := userXML(u)
			x.Tags = nil // ListUsers does not return tags
			r.Users = append(r.Users, x)
		}
		return r
	})
}

func userXML(u *iamUser) xUser {
	x := xUser{Path: u.Path, UserName: u.UserName, UserId: u.UserID, Arn: u.arn(), CreateDate: isoTime(u.Created)}
	if u.PasswordUsed != nil {
		x.PasswordLastUsed = isoTime(*u.PasswordUsed)
	}
	for _, t := range u.Tags {
		x.Tags = append(x.Tags, xTag(t))
	}
	return x
}

func (s *Server) getUser(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u, e := s.targetUser(c, p)
	if e != nil {
		writeError(w, c, e)
		return
	}
	if u == nil {
		writeError(w, c, validation("Must specify userName when calling with non-User credentials"))
		return
	}
	writeResult(w, c, struct{ User xUser }{userXML(u)})
}

func (s *Server) listUserTags(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	name, e := required(c, "UserName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	u := s.St.user(p.account, name)
	if u == nil {
		writeError(w, c, noSuchUser(name))
		return
	}
	type result struct {
		Tags        []xTag `xml:"Tags>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listPage(s, w, c, "tags/"+u.UserID, u.Tags, func(pg []tag, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, t := range pg {
			r.Tags = append(r.Tags, xTag(t))
		}
		return r
	})
}

// userOrError resolves the user a call names and writes the error if any.
func (s *Server) userOrError(w http.ResponseWriter, c *call, p *principal) *iamUser {
	u, e := s.targetUser(c, p)
	if e != nil {
		writeError(w, c, e)
		return nil
	}
	if u == nil {
		writeError(w, c, validation("Must specify userName when calling with non-User credentials"))
		return nil
	}
	return u
}

func (s *Server) listAccessKeys(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		AccessKeyMetadata []xAccessKey `xml:"AccessKeyMetadata>member"`
		IsTruncated       bool
		Marker            string `xml:",omitempty"`
	}
	listPage(s, w, c, "keys/"+u.UserID, u.AccessKeys, func(pg []*accessKey, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, k := range pg {
			r.AccessKeyMetadata = append(r.AccessKeyMetadata, xAccessKey{UserName: u.UserName, AccessKeyId: k.ID, Status: k.Status, CreateDate: isoTime(k.Created)})
		}
		return r
	})
}

func noSuchKey(id string) *apiError {
	return errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

func (s *Server) getAccessKeyLastUsed(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	id, e := required(c, "AccessKeyId")
	if e != nil {
		writeError(w, c, e)
		return
	}
	u, k := s.St.keyOwner(id)
	if k == nil || u.Account != p.account {
		writeError(w, c, noSuchKey(id))
		return
	}
	type lastUsed struct {
		LastUsedDate string `xml:",omitempty"`
		ServiceName  string
		Region       string
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if k.LastUsed != nil {
		lu = lastUsed{LastUsedDate: isoTime(*k.LastUsed), ServiceName: k.LastService, Region: k.LastRegion}
	}
	writeResult(w, c, struct {
		UserName          string
		AccessKeyLastUsed lastUsed
	}{u.UserName, lu})
}

func (s *Server) userKey(w http.ResponseWriter, c *call, p *principal) (*iamUser, *accessKey, int) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return nil, nil, -1
	}
	id, e := required(c, "AccessKeyId")
	if e != nil {
		writeError(w, c, e)
		return nil, nil, -1
	}
	i := slices.IndexFunc(u.AccessKeys, func(k *accessKey) bool { return k.ID == id })
	if i < 0 {
		writeError(w, c, noSuchKey(id))
		return nil, nil, -1
	}
	return u, u.AccessKeys[i], i
}

func (s *Server) updateAccessKey(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	status := c.params.Get("Status")
	if status != "Active" && status != "Inactive" {
		writeError(w, c, validation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status))
		return
	}
	u, k, _ := s.userKey(w, c, p)
	if k == nil {
		return
	}
	k.Status = status
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "accessKeyId": k.ID, "status": status}, accessKeyRes(u, k.ID)...)
	writeResult(w, c, nil)
}

func accessKeyRes(u *iamUser, keyID string) []resource {
	return []resource{{Type: "AWS::IAM::AccessKey", Name: keyID}, {Type: "AWS::IAM::User", Name: u.UserName}}
}

func userRes(u *iamUser) resource { return resource{Type: "AWS::IAM::User", Name: u.UserName} }

func (s *Server) deleteAccessKey(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u, k, i := s.userKey(w, c, p)
	if k == nil {
		return
	}
	u.AccessKeys = slices.Delete(u.AccessKeys, i, i+1)
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "accessKeyId": k.ID}, accessKeyRes(u, k.ID)...)
	writeResult(w, c, nil)
}

func (s *Server) putUserPolicy(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	name, e := required(c, "PolicyName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	doc, e := required(c, "PolicyDocument")
	if e != nil {
		writeError(w, c, e)
		return
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil || parsed["Statement"] == nil {
		writeError(w, c, errf(400, "MalformedPolicyDocument", "Syntax errors in policy."))
		return
	}
	u.Inline[name] = doc
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "policyName": name, "policyDocument": doc}, userRes(u))
	writeResult(w, c, nil)
}

func noSuchPolicy(name string) *apiError {
	return errf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", name)
}

func (s *Server) getUserPolicy(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	name, e := required(c, "PolicyName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	doc, ok := u.Inline[name]
	if !ok {
		writeError(w, c, noSuchPolicy(name))
		return
	}
	// IAM returns policy documents URL-encoded (RFC 3986).
	writeResult(w, c, struct {
		UserName       string
		PolicyName     string
		PolicyDocument string
	}{u.UserName, name, strictEscape(doc)})
}

func (s *Server) listUserPolicies(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	names := make([]string, 0, len(u.Inline))
	for n := range u.Inline {
		names = append(names, n)
	}
	sort.Strings(names)
	type result struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listPage(s, w, c, "inline/"+u.UserID, names, func(pg []string, more bool, marker string) any {
		return result{PolicyNames: pg, IsTruncated: more, Marker: marker}
	})
}

func (s *Server) deleteUserPolicy(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	name, e := required(c, "PolicyName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	if _, ok := u.Inline[name]; !ok {
		writeError(w, c, noSuchPolicy(name))
		return
	}
	delete(u.Inline, name)
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "policyName": name}, userRes(u))
	writeResult(w, c, nil)
}

func noLoginProfile(name string) *apiError {
	return errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", name)
}

func (s *Server) getLoginProfile(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	if u.LoginProfile == nil {
		writeError(w, c, noLoginProfile(u.UserName))
		return
	}
	type lp struct {
		UserName              string
		CreateDate            string
		PasswordResetRequired bool
	}
	writeResult(w, c, struct{ LoginProfile lp }{lp{u.UserName, isoTime(u.LoginProfile.Created), u.LoginProfile.ResetRequired}})
}

func (s *Server) deleteLoginProfile(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	if u.LoginProfile == nil {
		writeError(w, c, noLoginProfile(u.UserName))
		return
	}
	u.LoginProfile = nil
	s.audit(c, p, now, map[string]any{"userName": u.UserName}, userRes(u))
	writeResult(w, c, nil)
}

func (s *Server) userDevices(u *iamUser) []*mfaDevice {
	var out []*mfaDevice
	for _, d := range s.St.MFADevices {
		if d.Account == u.Account && d.User == u.UserName {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) listMFADevices(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		MFADevices  []xMFA `xml:"MFADevices>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listPage(s, w, c, "mfa/"+u.UserID, s.userDevices(u), func(pg []*mfaDevice, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, d := range pg {
			r.MFADevices = append(r.MFADevices, xMFA{UserName: u.UserName, SerialNumber: d.Serial, EnableDate: isoTime(d.Enabled)})
		}
		return r
	})
}

func noSuchDevice(serial string) *apiError {
	return errf(404, "NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
}

func (s *Server) deactivateMFADevice(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	serial, e := required(c, "SerialNumber")
	if e != nil {
		writeError(w, c, e)
		return
	}
	i := slices.IndexFunc(s.St.MFADevices, func(d *mfaDevice) bool {
		return d.Account == u.Account && d.Serial == serial && d.User == u.UserName
	})
	if i < 0 {
		writeError(w, c, noSuchDevice(serial))
		return
	}
	if d := s.St.MFADevices[i]; d.Virtual {
		d.User = "" // a virtual device stays in the account, unassigned
	} else {
		s.St.MFADevices = slices.Delete(s.St.MFADevices, i, i+1)
	}
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "serialNumber": serial}, userRes(u))
	writeResult(w, c, nil)
}

func (s *Server) deleteVirtualMFADevice(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	serial, e := required(c, "SerialNumber")
	if e != nil {
		writeError(w, c, e)
		return
	}
	i := slices.IndexFunc(s.St.MFADevices, func(d *mfaDevice) bool { return d.Account == p.account && d.Serial == serial && d.Virtual })
	if i < 0 {
		writeError(w, c, errf(404, "NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial))
		return
	}
	if s.St.MFADevices[i].User != "" {
		writeError(w, c, errf(409, "DeleteConflict", "MFA Device is still in use."))
		return
	}
	s.St.MFADevices = slices.Delete(s.St.MFADevices, i, i+1)
	s.audit(c, p, now, map[string]any{"serialNumber": serial}, resource{Type: "AWS::IAM::VirtualMFADevice", Name: serial})
	writeResult(w, c, nil)
}

func (s *Server) listSSHPublicKeys(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		SSHPublicKeys []xSSHKey `xml:"SSHPublicKeys>member"`
		IsTruncated   bool
		Marker        string `xml:",omitempty"`
	}
	listPage(s, w, c, "ssh/"+u.UserID, u.SSHKeys, func(pg []*sshKey, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, k := range pg {
			r.SSHPublicKeys = append(r.SSHPublicKeys, xSSHKey{UserName: u.UserName, SSHPublicKeyId: k.ID, Status: k.Status, UploadDate: isoTime(k.Uploaded)})
		}
		return r
	})
}

func (s *Server) deleteSSHPublicKey(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	deleteCredential(s, w, c, p, now, "SSHPublicKeyId", "sSHPublicKeyId", "The Public Key with id %s cannot be found.", func(u *iamUser) *[]*sshKey { return &u.SSHKeys })
}

func (s *Server) listServiceCredentials(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	svc := c.params.Get("ServiceName")
	var creds []*serviceCred
	for _, sc := range u.ServiceCreds {
		if svc == "" || sc.ServiceName == svc {
			creds = append(creds, sc)
		}
	}
	type result struct {
		ServiceSpecificCredentials []xServiceCred `xml:"ServiceSpecificCredentials>member"`
		IsTruncated                bool
		Marker                     string `xml:",omitempty"`
	}
	listPage(s, w, c, "svc/"+u.UserID+"/"+svc, creds, func(pg []*serviceCred, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, sc := range pg {
			r.ServiceSpecificCredentials = append(r.ServiceSpecificCredentials, xServiceCred{
				UserName: u.UserName, Status: sc.Status, ServiceUserName: sc.ServiceUserName, CreateDate: isoTime(sc.Created),
				ServiceSpecificCredentialId: sc.ID, ServiceName: sc.ServiceName,
			})
		}
		return r
	})
}

func (s *Server) deleteServiceCredential(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	deleteCredential(s, w, c, p, now, "ServiceSpecificCredentialId", "serviceSpecificCredentialId", "No such credential %s exists.", func(u *iamUser) *[]*serviceCred { return &u.ServiceCreds })
}

func (s *Server) listSigningCertificates(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		Certificates []xCert `xml:"Certificates>member"`
		IsTruncated  bool
		Marker       string `xml:",omitempty"`
	}
	listPage(s, w, c, "certs/"+u.UserID, u.Certs, func(pg []*signingCert, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, k := range pg {
			r.Certificates = append(r.Certificates, xCert{UserName: u.UserName, CertificateId: k.ID, CertificateBody: k.Body, Status: k.Status, UploadDate: isoTime(k.Uploaded)})
		}
		return r
	})
}

func (s *Server) deleteSigningCertificate(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	deleteCredential(s, w, c, p, now, "CertificateId", "certificateId", "The Certificate with id %s cannot be found.", func(u *iamUser) *[]*signingCert { return &u.Certs })
}

func (s *Server) listGroupsForUser(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		Groups      []xGroup `xml:"Groups>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listPage(s, w, c, "groups/"+u.UserID, u.Groups, func(pg []string, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, n := range pg {
			g := s.St.group(u.Account, n)
			x := xGroup{Path: "/", GroupName: n, Arn: "arn:aws:iam::" + u.Account + ":group/" + n}
			if g != nil {
				x.GroupId, x.CreateDate = g.ID, isoTime(g.Created)
			}
			r.Groups = append(r.Groups, x)
		}
		return r
	})
}

func (s *Server) removeUserFromGroup(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	group, e := required(c, "GroupName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	if s.St.group(u.Account, group) == nil {
		writeError(w, c, errf(404, "NoSuchEntity", "The group with name %s cannot be found.", group))
		return
	}
	i := slices.IndexFunc(u.Groups, func(g string) bool { return strings.EqualFold(g, group) })
	if i < 0 {
		writeError(w, c, errf(404, "NoSuchEntity", "The user with name %s cannot be found in group %s.", u.UserName, group))
		return
	}
	u.Groups = slices.Delete(u.Groups, i, i+1)
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "groupName": group}, userRes(u), resource{Type: "AWS::IAM::Group", Name: group})
	writeResult(w, c, nil)
}

func policyName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (s *Server) listAttachedUserPolicies(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	type result struct {
		AttachedPolicies []xAttached `xml:"AttachedPolicies>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}
	listPage(s, w, c, "attached/"+u.UserID, u.Managed, func(pg []string, more bool, marker string) any {
		r := result{IsTruncated: more, Marker: marker}
		for _, arn := range pg {
			r.AttachedPolicies = append(r.AttachedPolicies, xAttached{PolicyName: policyName(arn), PolicyArn: arn})
		}
		return r
	})
}

func (s *Server) detachUserPolicy(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	arn, e := required(c, "PolicyArn")
	if e != nil {
		writeError(w, c, e)
		return
	}
	i := slices.Index(u.Managed, arn)
	if i < 0 {
		writeError(w, c, errf(404, "NoSuchEntity", "Policy %s was not found.", arn))
		return
	}
	u.Managed = slices.Delete(u.Managed, i, i+1)
	s.audit(c, p, now, map[string]any{"userName": u.UserName, "policyArn": arn}, userRes(u), resource{Type: "AWS::IAM::Policy", Name: arn})
	writeResult(w, c, nil)
}

// identified is a per-user credential removed by its ID.
type identified interface{ credentialID() string }

func (k *sshKey) credentialID() string      { return k.ID }
func (k *serviceCred) credentialID() string { return k.ID }
func (k *signingCert) credentialID() string { return k.ID }

// deleteCredential removes the credential named by the request parameter
// param from the list that field picks on the calling user, answering
// NoSuchEntity (with notFound, formatted with the ID) when there is none.
func deleteCredential[T identified](s *Server, w http.ResponseWriter, c *call, p *principal, now time.Time, param, auditKey, notFound string, field func(*iamUser) *[]T) {
	u := s.userOrError(w, c, p)
	if u == nil {
		return
	}
	id, e := required(c, param)
	if e != nil {
		writeError(w, c, e)
		return
	}
	list := field(u)
	i := slices.IndexFunc(*list, func(k T) bool { return k.credentialID() == id })
	if i < 0 {
		writeError(w, c, errf(404, "NoSuchEntity", notFound, id))
		return
	}
	*list = slices.Delete(*list, i, i+1)
	s.audit(c, p, now, map[string]any{"userName": u.UserName, auditKey: id}, userRes(u))
	writeResult(w, c, nil)
}
