package aws

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// IAM Identity Center: the identity store (AWSIdentityStore.*,
// https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/)
// and the admin API (SWBExternalService.*,
// https://docs.aws.amazon.com/singlesignon/latest/APIReference/).

func decodeJSON(c *call, v any) *apiError {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errf(400, "SerializationException", "Unable to parse the request body.")
	}
	return nil
}

func jsonValidation(format string, args ...any) *apiError {
	return errf(400, "ValidationException", format, args...)
}

func notFound(resourceType, id, format string, args ...any) *apiError {
	e := errf(404, "ResourceNotFoundException", format, args...)
	if resourceType != "" {
		e.extra = map[string]any{"ResourceType": resourceType, "ResourceId": id}
	}
	return e
}

func conflictErr(format string, args ...any) *apiError {
	return errf(409, "ConflictException", format, args...)
}

// jsonPaging reads MaxResults (1..max) and NextToken for a list.
func (s *Server) jsonPaging(maxResults *int, token, scope string, max int) (offset, size int, e *apiError) {
	size = min(s.opts.PageSize, max)
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > max {
			return 0, 0, jsonValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *maxResults, max)
		}
		size = *maxResults
	}
	off, ok := parsePageToken(token, scope)
	if !ok {
		return 0, 0, jsonValidation("The pagination token is invalid.")
	}
	return off, size, nil
}

func nextToken(scope string, off, n int, more bool) string {
	if !more {
		return ""
	}
	return pageToken(scope, off+n)
}

// --- identity store ---------------------------------------------------------

func (s *Server) identityStoreHandlers() map[string]handler {
	return map[string]handler{
		"GetUserId":                     s.getUserID,
		"DescribeUser":                  s.describeUser,
		"DescribeGroup":                 s.describeGroup,
		"ListGroupMembershipsForMember": s.listGroupMembershipsForMember,
		"DeleteGroupMembership":         s.deleteGroupMembership,
	}
}

func (s *Server) checkStore(id string) *apiError {
	if id == "" {
		return jsonValidation("1 validation error detected: Value null at 'identityStoreId' failed to satisfy constraint: Member must not be null")
	}
	if id != s.St.IdentityStoreID {
		return notFound("IDENTITY_STORE", id, "IDENTITY_STORE not found.")
	}
	return nil
}

func (s *Server) getUserID(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		IdentityStoreId     string
		AlternateIdentifier struct {
			UniqueAttribute *struct {
				AttributePath  string
				AttributeValue json.RawMessage
			}
			ExternalId *struct{ Issuer, Id string }
		}
	}
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkStore(in.IdentityStoreId) }) {
		return
	}
	ua := in.AlternateIdentifier.UniqueAttribute
	if ua == nil {
		if in.AlternateIdentifier.ExternalId != nil {
			writeError(w, c, notFound("USER", "", "USER not found."))
			return
		}
		writeError(w, c, jsonValidation("1 validation error detected: Value null at 'alternateIdentifier' failed to satisfy constraint: Member must not be null"))
		return
	}
	var val string
	if err := json.Unmarshal(ua.AttributeValue, &val); err != nil || val == "" {
		writeError(w, c, jsonValidation("The attribute value must be a non-empty string."))
		return
	}
	var found *ssoUser
	switch strings.ToLower(ua.AttributePath) {
	case "username":
		for _, u := range s.St.SSOUsers {
			if strings.EqualFold(u.UserName, val) {
				found = u
			}
		}
	case "emails.value":
		for _, u := range s.St.SSOUsers {
			if slices.ContainsFunc(u.Emails, func(e string) bool { return strings.EqualFold(e, val) }) {
				found = u
			}
		}
	default:
		writeError(w, c, jsonValidation("Invalid attribute path %s: only userName and emails.value are unique attributes.", ua.AttributePath))
		return
	}
	if found == nil {
		writeError(w, c, notFound("USER", "", "USER not found."))
		return
	}
	writeJSON(w, c, 200, map[string]any{"IdentityStoreId": s.St.IdentityStoreID, "UserId": found.ID})
}

func (s *Server) describeUser(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ IdentityStoreId, UserId string }
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkStore(in.IdentityStoreId) }) {
		return
	}
	u := s.St.ssoUser(in.UserId)
	if u == nil {
		writeError(w, c, notFound("USER", in.UserId, "USER not found."))
		return
	}
	emails := []map[string]any{}
	for i, e := range u.Emails {
		emails = append(emails, map[string]any{"Value": e, "Type": "work", "Primary": i == 0})
	}
	writeJSON(w, c, 200, map[string]any{
		"IdentityStoreId": s.St.IdentityStoreID,
		"UserId":          u.ID,
		"UserName":        u.UserName,
		"DisplayName":     u.DisplayName,
		"Name":            map[string]any{"GivenName": u.GivenName, "FamilyName": u.FamilyName, "Formatted": u.DisplayName},
		"Emails":          emails,
		"UserStatus":      u.Status,
		"CreatedAt":       epoch(u.Created),
		"UpdatedAt":       epoch(u.Created),
	})
}

func (s *Server) describeGroup(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ IdentityStoreId, GroupId string }
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkStore(in.IdentityStoreId) }) {
		return
	}
	g := s.St.ssoGroup(in.GroupId)
	if g == nil {
		writeError(w, c, notFound("GROUP", in.GroupId, "GROUP not found."))
		return
	}
	writeJSON(w, c, 200, map[string]any{"IdentityStoreId": s.St.IdentityStoreID, "GroupId": g.ID, "DisplayName": g.Name, "CreatedAt": epoch(g.Created)})
}

func (s *Server) listGroupMembershipsForMember(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		IdentityStoreId string
		MemberId        struct{ UserId string }
		MaxResults      *int
		NextToken       string
	}
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkStore(in.IdentityStoreId) }) {
		return
	}
	if in.MemberId.UserId == "" {
		writeError(w, c, jsonValidation("1 validation error detected: Value null at 'memberId' failed to satisfy constraint: Member must not be null"))
		return
	}
	if s.St.ssoUser(in.MemberId.UserId) == nil {
		writeError(w, c, notFound("USER", in.MemberId.UserId, "USER not found."))
		return
	}
	scope := "memberships/" + in.MemberId.UserId
	off, size, e := s.jsonPaging(in.MaxResults, in.NextToken, scope, 100)
	if e != nil {
		writeError(w, c, e)
		return
	}
	var ms []*membership
	for _, m := range s.St.Memberships {
		if m.UserID == in.MemberId.UserId {
			ms = append(ms, m)
		}
	}
	pg, more := page(ms, off, size)
	out := map[string]any{}
	list := []map[string]any{}
	for _, m := range pg {
		list = append(list, map[string]any{
			"IdentityStoreId": s.St.IdentityStoreID, "MembershipId": m.ID, "GroupId": m.GroupID,
			"MemberId": map[string]any{"UserId": m.UserID}, "CreatedAt": epoch(m.Created),
		})
	}
	out["GroupMemberships"] = list
	if t := nextToken(scope, off, len(pg), more); t != "" {
		out["NextToken"] = t
	}
	writeJSON(w, c, 200, out)
}

func (s *Server) deleteGroupMembership(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	var in struct{ IdentityStoreId, MembershipId string }
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkStore(in.IdentityStoreId) }) {
		return
	}
	i := slices.IndexFunc(s.St.Memberships, func(m *membership) bool { return m.ID == in.MembershipId })
	if i < 0 {
		writeError(w, c, notFound("GROUP_MEMBERSHIP", in.MembershipId, "GROUP_MEMBERSHIP not found."))
		return
	}
	m := s.St.Memberships[i]
	s.St.Memberships = slices.Delete(s.St.Memberships, i, i+1)
	s.audit(c, p, now, map[string]any{"identityStoreId": s.St.IdentityStoreID, "membershipId": m.ID},
		resource{Type: "AWS::IdentityStore::GroupMembership", Name: m.ID}, resource{Type: "AWS::IdentityStore::Group", Name: m.GroupID})
	writeJSON(w, c, 200, map[string]any{})
}

// --- admin API (ssoadmin) ---------------------------------------------------

func (s *Server) ssoAdminHandlers() map[string]handler {
	return map[string]handler{
		"ListAccountAssignmentsForPrincipal":      s.listAssignmentsForPrincipal,
		"ListAccountAssignments":                  s.listAssignments,
		"DeleteAccountAssignment":                 s.deleteAssignment,
		"DescribeAccountAssignmentDeletionStatus": s.describeDeletion,
		"ListPermissionSets":                      s.listPermissionSets,
		"DescribePermissionSet":                   s.describePermissionSet,
		"GetInlinePolicyForPermissionSet":         s.getInlinePolicy,
		"PutInlinePolicyToPermissionSet":          s.putInlinePolicy,
		"ListAccountsForProvisionedPermissionSet": s.listProvisionedAccounts,
		"ProvisionPermissionSet":                  s.provisionPermissionSet,
		"DescribePermissionSetProvisioningStatus": s.describeProvisioning,
		"ListPermissionSetProvisioningStatus":     s.listProvisioning,
	}
}

// decodeChecked decodes a JSON request into v and runs check on it (the
// instance or identity store it names); when either fails it answers the
// error and returns false.
func decodeChecked(w http.ResponseWriter, c *call, v any, check func() *apiError) bool {
	e := decodeJSON(c, v)
	if e == nil {
		e = check()
	}
	if e != nil {
		writeError(w, c, e)
		return false
	}
	return true
}

func (s *Server) checkInstance(arn string) *apiError {
	if arn == "" {
		return jsonValidation("1 validation error detected: Value null at 'instanceArn' failed to satisfy constraint: Member must not be null")
	}
	if arn != s.St.InstanceARN {
		return notFound("", "", "Instance %s does not exist.", arn)
	}
	return nil
}

func (s *Server) psOrError(w http.ResponseWriter, c *call, instance, arn string) *permissionSet {
	if e := s.checkInstance(instance); e != nil {
		writeError(w, c, e)
		return nil
	}
	if arn == "" {
		writeError(w, c, jsonValidation("1 validation error detected: Value null at 'permissionSetArn' failed to satisfy constraint: Member must not be null"))
		return nil
	}
	ps := s.St.permissionSet(arn)
	if ps == nil {
		writeError(w, c, notFound("", "", "Could not find PermissionSet with id %s", arn))
		return nil
	}
	return ps
}

func assignmentJSON(a *assignment) map[string]any {
	return map[string]any{"AccountId": a.Account, "PermissionSetArn": a.PermissionSetARN, "PrincipalId": a.PrincipalID, "PrincipalType": a.PrincipalType}
}

func (s *Server) listAssignmentsForPrincipal(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		InstanceArn   string
		PrincipalId   string
		PrincipalType string
		Filter        *struct{ AccountId string }
		MaxResults    *int
		NextToken     string
	}
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkInstance(in.InstanceArn) }) {
		return
	}
	if in.PrincipalId == "" || (in.PrincipalType != "USER" && in.PrincipalType != "GROUP") {
		writeError(w, c, jsonValidation("PrincipalId and PrincipalType (USER or GROUP) are required."))
		return
	}
	filter := ""
	if in.Filter != nil {
		filter = in.Filter.AccountId
	}
	scope := "assignments/" + in.PrincipalType + "/" + in.PrincipalId + "/" + filter
	off, size, e := s.jsonPaging(in.MaxResults, in.NextToken, scope, 100)
	if e != nil {
		writeError(w, c, e)
		return
	}
	var as []*assignment
	for _, a := range s.St.Assignments {
		if a.PrincipalID == in.PrincipalId && a.PrincipalType == in.PrincipalType && (filter == "" || a.Account == filter) {
			as = append(as, a)
		}
	}
	pg, more := page(as, off, size)
	list := []map[string]any{}
	for _, a := range pg {
		list = append(list, assignmentJSON(a))
	}
	out := map[string]any{"AccountAssignments": list}
	if t := nextToken(scope, off, len(pg), more); t != "" {
		out["NextToken"] = t
	}
	writeJSON(w, c, 200, out)
}

func (s *Server) listAssignments(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		InstanceArn, AccountId, PermissionSetArn string
		MaxResults                               *int
		NextToken                                string
	}
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	if s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn) == nil {
		return
	}
	scope := "account-assignments/" + in.AccountId + "/" + in.PermissionSetArn
	off, size, e := s.jsonPaging(in.MaxResults, in.NextToken, scope, 100)
	if e != nil {
		writeError(w, c, e)
		return
	}
	var as []*assignment
	for _, a := range s.St.Assignments {
		if a.Account == in.AccountId && a.PermissionSetARN == in.PermissionSetArn {
			as = append(as, a)
		}
	}
	pg, more := page(as, off, size)
	list := []map[string]any{}
	for _, a := range pg {
		list = append(list, assignmentJSON(a))
	}
	out := map[string]any{"AccountAssignments": list}
	if t := nextToken(scope, off, len(pg), more); t != "" {
		out["NextToken"] = t
	}
	writeJSON(w, c, 200, out)
}

func (r *asyncRequest) deletionJSON() map[string]any {
	m := map[string]any{
		"Status": r.Status, "RequestId": r.ID, "TargetId": r.Account, "TargetType": "AWS_ACCOUNT",
		"PermissionSetArn": r.PermissionSetARN, "PrincipalType": r.PrincipalType, "PrincipalId": r.PrincipalID,
		"CreatedDate": epoch(r.Created),
	}
	if r.Failure != "" {
		m["FailureReason"] = r.Failure
	}
	return m
}

func (r *asyncRequest) provisioningJSON() map[string]any {
	m := map[string]any{"Status": r.Status, "RequestId": r.ID, "PermissionSetArn": r.PermissionSetARN, "CreatedDate": epoch(r.Created)}
	if len(r.Accounts) == 1 {
		m["AccountId"] = r.Accounts[0]
	}
	if r.Failure != "" {
		m["FailureReason"] = r.Failure
	}
	return m
}

func (s *Server) deleteAssignment(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	var in struct {
		InstanceArn, TargetId, TargetType, PermissionSetArn, PrincipalType, PrincipalId string
	}
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	if s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn) == nil {
		return
	}
	if in.TargetType != "AWS_ACCOUNT" || in.TargetId == "" || in.PrincipalId == "" || (in.PrincipalType != "USER" && in.PrincipalType != "GROUP") {
		writeError(w, c, jsonValidation("TargetId, TargetType AWS_ACCOUNT, PrincipalId and PrincipalType (USER or GROUP) are required."))
		return
	}
	match := func(a *assignment) bool {
		return a.Account == in.TargetId && a.PermissionSetARN == in.PermissionSetArn && a.PrincipalType == in.PrincipalType && a.PrincipalID == in.PrincipalId
	}
	if !slices.ContainsFunc(s.St.Assignments, match) {
		writeError(w, c, notFound("", "", "Could not find the account assignment."))
		return
	}
	for _, r := range s.St.Requests {
		if r.Kind == "deletion" && r.Status == "IN_PROGRESS" && r.Account == in.TargetId && r.PermissionSetARN == in.PermissionSetArn && r.PrincipalID == in.PrincipalId {
			writeError(w, c, conflictErr("An account assignment deletion for this principal, account and permission set is already in progress (request %s).", r.ID))
			return
		}
	}
	r := &asyncRequest{
		ID: hashUUID("request", s.St.next("request")), Kind: "deletion", Status: "IN_PROGRESS", Created: now,
		Account: in.TargetId, PermissionSetARN: in.PermissionSetArn, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalId,
	}
	s.addRequest(r)
	s.audit(c, p, now, map[string]any{"instanceArn": in.InstanceArn, "targetId": in.TargetId, "targetType": in.TargetType,
		"permissionSetArn": in.PermissionSetArn, "principalType": in.PrincipalType, "principalId": in.PrincipalId},
		resource{Type: "AWS::SSO::PermissionSet", Name: in.PermissionSetArn}, resource{Type: "AWS::Account", Name: in.TargetId})
	writeJSON(w, c, 200, map[string]any{"AccountAssignmentDeletionStatus": r.deletionJSON()})
}

// maxRequests bounds how many finished async requests are kept.
const maxRequests = 1000

func (s *Server) addRequest(r *asyncRequest) {
	s.St.Requests = append(s.St.Requests, r)
	if len(s.St.Requests) > maxRequests {
		s.St.Requests = slices.Clone(s.St.Requests[len(s.St.Requests)-maxRequests:])
	}
}

// settle completes the async requests whose time has come.
func (s *Server) settle(now time.Time) {
	for _, r := range s.St.Requests {
		if r.Status == "IN_PROGRESS" && !now.Before(r.Created.Add(s.opts.AsyncDelay)) {
			s.complete(r)
		}
	}
}

func (s *Server) complete(r *asyncRequest) {
	r.Status = "SUCCEEDED"
	switch r.Kind {
	case "deletion":
		s.St.Assignments = slices.DeleteFunc(s.St.Assignments, func(a *assignment) bool {
			return a.Account == r.Account && a.PermissionSetARN == r.PermissionSetARN && a.PrincipalType == r.PrincipalType && a.PrincipalID == r.PrincipalID
		})
	case "provision":
		ps := s.St.permissionSet(r.PermissionSetARN)
		if ps == nil {
			r.Status, r.Failure = "FAILED", "The permission set no longer exists."
			return
		}
		for _, a := range r.Accounts {
			if ps.Provisioned[a] < r.PSVersion {
				ps.Provisioned[a] = r.PSVersion
			}
		}
	}
}

// describe answers a Describe of r: the first answers IN_PROGRESS, later
// ones find it done.
func (s *Server) describe(r *asyncRequest) {
	if r.Status != "IN_PROGRESS" {
		return
	}
	if r.Described == 0 {
		r.Described++
		return
	}
	s.complete(r)
}

func (s *Server) describeDeletion(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ InstanceArn, AccountAssignmentDeletionRequestId string }
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkInstance(in.InstanceArn) }) {
		return
	}
	r := s.St.request(in.AccountAssignmentDeletionRequestId)
	if r == nil || r.Kind != "deletion" {
		writeError(w, c, notFound("", "", "Could not find the account assignment deletion request %s.", in.AccountAssignmentDeletionRequestId))
		return
	}
	s.describe(r)
	writeJSON(w, c, 200, map[string]any{"AccountAssignmentDeletionStatus": r.deletionJSON()})
}

func (s *Server) listPermissionSets(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		InstanceArn string
		MaxResults  *int
		NextToken   string
	}
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkInstance(in.InstanceArn) }) {
		return
	}
	off, size, e := s.jsonPaging(in.MaxResults, in.NextToken, "permission-sets", 100)
	if e != nil {
		writeError(w, c, e)
		return
	}
	arns := make([]string, 0, len(s.St.PermissionSets))
	for _, p := range s.St.PermissionSets {
		arns = append(arns, p.ARN)
	}
	pg, more := page(arns, off, size)
	out := map[string]any{"PermissionSets": pg}
	if t := nextToken("permission-sets", off, len(pg), more); t != "" {
		out["NextToken"] = t
	}
	writeJSON(w, c, 200, out)
}

func (s *Server) describePermissionSet(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ InstanceArn, PermissionSetArn string }
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	ps := s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn)
	if ps == nil {
		return
	}
	writeJSON(w, c, 200, map[string]any{"PermissionSet": map[string]any{
		"Name": ps.Name, "PermissionSetArn": ps.ARN, "CreatedDate": epoch(ps.Created), "SessionDuration": "PT1H",
	}})
}

func (s *Server) getInlinePolicy(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ InstanceArn, PermissionSetArn string }
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	ps := s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn)
	if ps == nil {
		return
	}
	out := map[string]any{}
	if ps.Inline != "" {
		out["InlinePolicy"] = ps.Inline
	}
	writeJSON(w, c, 200, out)
}

func (s *Server) putInlinePolicy(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	var in struct{ InstanceArn, PermissionSetArn, InlinePolicy string }
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	ps := s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn)
	if ps == nil {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(in.InlinePolicy), &doc); err != nil || doc["Statement"] == nil {
		writeError(w, c, jsonValidation("The inline policy is not a valid policy document."))
		return
	}
	if len(in.InlinePolicy) > 32768 {
		writeError(w, c, jsonValidation("The inline policy exceeds the maximum size of 32768 characters."))
		return
	}
	ps.Inline = in.InlinePolicy
	ps.Version++
	s.audit(c, p, now, map[string]any{"instanceArn": in.InstanceArn, "permissionSetArn": ps.ARN, "inlinePolicy": in.InlinePolicy},
		resource{Type: "AWS::SSO::PermissionSet", Name: ps.ARN})
	writeJSON(w, c, 200, map[string]any{})
}

func (s *Server) listProvisionedAccounts(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		InstanceArn, PermissionSetArn, ProvisioningStatus string
		MaxResults                                        *int
		NextToken                                         string
	}
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	ps := s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn)
	if ps == nil {
		return
	}
	switch in.ProvisioningStatus {
	case "", "LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED":
	default:
		writeError(w, c, jsonValidation("Invalid ProvisioningStatus %s.", in.ProvisioningStatus))
		return
	}
	scope := "provisioned/" + ps.ARN + "/" + in.ProvisioningStatus
	off, size, e := s.jsonPaging(in.MaxResults, in.NextToken, scope, 100)
	if e != nil {
		writeError(w, c, e)
		return
	}
	accts := []string{}
	for _, a := range s.St.Accounts {
		v, ok := ps.Provisioned[a.ID]
		if !ok {
			continue
		}
		latest := v == ps.Version
		if in.ProvisioningStatus == "LATEST_PERMISSION_SET_PROVISIONED" && !latest || in.ProvisioningStatus == "LATEST_PERMISSION_SET_NOT_PROVISIONED" && latest {
			continue
		}
		accts = append(accts, a.ID)
	}
	pg, more := page(accts, off, size)
	out := map[string]any{"AccountIds": pg}
	if t := nextToken(scope, off, len(pg), more); t != "" {
		out["NextToken"] = t
	}
	writeJSON(w, c, 200, out)
}

func (s *Server) provisionPermissionSet(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	var in struct{ InstanceArn, PermissionSetArn, TargetId, TargetType string }
	if e := decodeJSON(c, &in); e != nil {
		writeError(w, c, e)
		return
	}
	ps := s.psOrError(w, c, in.InstanceArn, in.PermissionSetArn)
	if ps == nil {
		return
	}
	var accts []string
	switch in.TargetType {
	case "ALL_PROVISIONED_ACCOUNTS":
		for _, a := range s.St.Accounts {
			if _, ok := ps.Provisioned[a.ID]; ok {
				accts = append(accts, a.ID)
			}
		}
	case "AWS_ACCOUNT":
		if s.St.account(in.TargetId) == nil {
			writeError(w, c, jsonValidation("TargetId %s is not an account of the organization.", in.TargetId))
			return
		}
		accts = []string{in.TargetId}
	default:
		writeError(w, c, jsonValidation("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]", in.TargetType))
		return
	}
	for _, r := range s.St.Requests {
		if r.Kind == "provision" && r.Status == "IN_PROGRESS" && r.PermissionSetARN == ps.ARN {
			writeError(w, c, conflictErr("Could not provision PermissionSet %s: another provisioning of it is in progress.", ps.ARN))
			return
		}
	}
	r := &asyncRequest{
		ID: hashUUID("request", s.St.next("request")), Kind: "provision", Status: "IN_PROGRESS", Created: now,
		PermissionSetARN: ps.ARN, Accounts: accts, PSVersion: ps.Version,
	}
	s.addRequest(r)
	s.audit(c, p, now, map[string]any{"instanceArn": in.InstanceArn, "permissionSetArn": ps.ARN, "targetType": in.TargetType, "targetId": in.TargetId},
		resource{Type: "AWS::SSO::PermissionSet", Name: ps.ARN})
	writeJSON(w, c, 200, map[string]any{"PermissionSetProvisioningStatus": r.provisioningJSON()})
}

// listProvisioning answers ListPermissionSetProvisioningStatus: the
// instance's provisioning requests, oldest first, optionally only those of
// one status (Filter.Status), without their permission sets (Describe has
// them), in one page.
func (s *Server) listProvisioning(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct {
		InstanceArn string
		Filter      struct{ Status string }
	}
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkInstance(in.InstanceArn) }) {
		return
	}
	out := []map[string]any{}
	for _, r := range s.St.Requests {
		if r.Kind == "provision" && (in.Filter.Status == "" || r.Status == in.Filter.Status) {
			out = append(out, map[string]any{"Status": r.Status, "RequestId": r.ID, "CreatedDate": epoch(r.Created)})
		}
	}
	writeJSON(w, c, 200, map[string]any{"PermissionSetsProvisioningStatus": out})
}

func (s *Server) describeProvisioning(w http.ResponseWriter, c *call, _ *principal, _ time.Time) {
	var in struct{ InstanceArn, ProvisionPermissionSetRequestId string }
	if !decodeChecked(w, c, &in, func() *apiError { return s.checkInstance(in.InstanceArn) }) {
		return
	}
	r := s.St.request(in.ProvisionPermissionSetRequestId)
	if r == nil || r.Kind != "provision" {
		writeError(w, c, notFound("", "", "Could not find the provisioning request %s.", in.ProvisionPermissionSetRequestId))
		return
	}
	s.describe(r)
	writeJSON(w, c, 200, map[string]any{"PermissionSetProvisioningStatus": r.provisioningJSON()})
}
