package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/offboard/offboard/connectors"
)

// iamRef names one IAM user: its account, its unique ID (the opaque
// "AIDA…" UserId), which step IDs, scopes and the Account ID carry, and its
// name, which IAM's API takes and which can be a person's name or email, so
// it stays in the Account's attributes only.
type iamRef struct {
	Account string
	ID      string
	Name    string
}

// Scope is "<account>:<userId>", the scope of the user's steps. It carries
// no user name.
func (r iamRef) Scope() string { return r.Account + ":" + r.ID }

// String is the scope, so that printing a ref never shows the name.
func (r iamRef) String() string { return r.Scope() }

// newRef checks what IAM returned for a user.
func newRef(op, acct, id, name string) (iamRef, error) {
	if !iamUserIDRE.MatchString(id) {
		return iamRef{}, connectors.Unavailablef(System, op, "IAM returned a user in account %s whose user ID is not an IAM unique ID (AIDA…)", acct)
	}
	if !iamUserRE.MatchString(name) {
		return iamRef{}, connectors.Unavailablef(System, op, "IAM returned user %s:%s with a name that is not an IAM user name", acct, id)
	}
	return iamRef{Account: acct, ID: id, Name: name}, nil
}

// EmailTag is the IAM user tag whose value is the person's email.
const EmailTag = "email"

// parseIAMUsers reads the "account:userId:userName,..." attribute. IAM user
// names cannot contain ':' but may contain ',', so a part with no ':'
// continues the previous entry's name. Errors never quote the attribute,
// whose names may be personal.
func parseIAMUsers(s string) ([]iamRef, error) {
	if s == "" {
		return nil, nil
	}
	var out []iamRef
	for i, part := range strings.Split(s, ",") {
		if !strings.Contains(part, ":") {
			if len(out) == 0 {
				return nil, fmt.Errorf("part %d is not account:userId:userName", i+1)
			}
			out[len(out)-1].Name += "," + part
			continue
		}
		f := strings.Split(part, ":")
		if len(f) != 3 || !accountIDRE.MatchString(f[0]) || !iamUserIDRE.MatchString(f[1]) {
			return nil, fmt.Errorf("part %d is not account:userId:userName (an account resolved before IAM user IDs were recorded must be resolved again)", i+1)
		}
		out = append(out, iamRef{Account: f[0], ID: f[1], Name: f[2]})
	}
	seen := map[string]bool{}
	for i, r := range out {
		if !iamUserRE.MatchString(r.Name) {
			return nil, fmt.Errorf("entry %d (%s) does not end in an IAM user name", i+1, r.Scope())
		}
		if seen[r.Scope()] {
			return nil, fmt.Errorf("IAM user %s is listed twice", r.Scope())
		}
		seen[r.Scope()] = true
	}
	return out, nil
}

func formatIAMUsers(refs []iamRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.Account + ":" + r.ID + ":" + r.Name
	}
	return strings.Join(parts, ",")
}

// nameByte reports whether b can sit next to an IAM user name inside a
// longer token: then the name is only part of another word and is left
// alone. ',' and '.', also allowed in names, usually end a sentence or
// separate items, so they count as separators.
func nameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("_+=@-", b) >= 0
}

// hide replaces the user's name, where it stands as a word in s, with its
// ID in brackets. AWS's error messages (user ARNs, "The user with name …")
// and virtual MFA serials (often named after the user) can carry the name.
func (r iamRef) hide(s string) string {
	if r.Name == "" || !strings.Contains(s, r.Name) {
		return s
	}
	repl := "[" + r.ID + "]"
	if r.ID == "" {
		repl = "[redacted]"
	}
	var b strings.Builder
	for {
		i := strings.Index(s, r.Name)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(r.Name)
		if (i == 0 || !nameByte(s[i-1])) && (j == len(s) || !nameByte(s[j])) {
			b.WriteString(s[:i])
			b.WriteString(repl)
			s = s[j:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
}

// hideErr hides the user's name in a connector error's Op and messages.
func (r iamRef) hideErr(err error) error {
	var ce *connectors.Error
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	out := *ce
	out.Op, out.Msg = r.hide(ce.Op), r.hide(ce.Msg)
	var ve *vendorError
	if errors.As(ce.Err, &ve) {
		out.Err = &vendorError{Code: ve.Code, Msg: r.hide(ve.Msg)}
	}
	return &out
}

// hideAll hides the user's name in each string.
func (r iamRef) hideAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.hide(s)
	}
	return out
}

// Resolve finds the person's AWS presence: by the "aws" override when set
// (comma-separated entries: "sso:<userId>", "<account>:<userName>" or a
// bare IAM user name looked up in every configured account), else the IAM
// users whose "email" tag is the subject's email, in every configured
// account, and the Identity Center user whose userName, or else email, it
// is. Neither is NotFound, and so is a subject with no email and no
// override (there is nothing to find an AWS account by); an override that
// matches nothing is InvalidInput.
//
// The Account's ID is the Identity Center user ID or, for IAM users only,
// "iam:<account>:<userId>" of the first one: IAM unique IDs (AIDA…), never
// user names, which can be personal. The names, which IAM's API needs, are
// in the AttrIAMUsers attribute.
func (c *Client) Resolve(ctx context.Context, s connectors.Subject) (connectors.Account, error) {
	const op = "resolve"
	emp := s.EmployeeID
	var refs []iamRef
	var ssoID, status string
	if ov := strings.TrimSpace(s.Overrides[System]); ov != "" {
		for entry := range strings.SplitSeq(ov, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if id, ok := strings.CutPrefix(entry, "sso:"); ok {
				st, err := c.describeSSOUser(ctx, id)
				if connectors.IsNotFound(err) {
					return connectors.Account{}, connectors.InvalidInputf(System, op, "the aws override for employee %s names Identity Center user %s, which does not exist", emp, id)
				}
				if err != nil {
					return connectors.Account{}, err
				}
				ssoID, status = id, st
				continue
			}
			found, err := c.overrideUsers(ctx, entry)
			if err != nil {
				return connectors.Account{}, err
			}
			if len(found) == 0 {
				return connectors.Account{}, connectors.InvalidInputf(System, op, "an IAM user in the aws override for employee %s exists in no configured account", emp)
			}
			refs = append(refs, found...)
		}
		if len(refs) == 0 && ssoID == "" {
			return connectors.Account{}, connectors.InvalidInputf(System, op, "the aws override for employee %s names nothing", emp)
		}
		return account(refs, ssoID, status), nil
	}
	if s.Email == "" {
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op,
			Msg: fmt.Sprintf("employee %s has no email and no aws override: nothing identifies an AWS account", emp)}
	}
	for _, ac := range c.accounts {
		found, err := c.usersTagged(ctx, ac.id, s.Email)
		if err != nil {
			return connectors.Account{}, err
		}
		refs = append(refs, found...)
	}
	if c.ssoEnabled() {
		id, err := c.ssoUserByEmail(ctx, s.Email)
		if err != nil {
			return connectors.Account{}, err
		}
		if id != "" {
			st, err := c.describeSSOUser(ctx, id)
			if err != nil {
				return connectors.Account{}, err
			}
			ssoID, status = id, st
		}
	}
	if len(refs) == 0 && ssoID == "" {
		msg := fmt.Sprintf("employee %s: no IAM user tagged %s with the subject's email in %d configured accounts", emp, EmailTag, len(c.accounts))
		if c.ssoEnabled() {
			msg += ", and no Identity Center user has it as user name or email"
		}
		return connectors.Account{}, &connectors.Error{Kind: connectors.NotFound, System: System, Op: op, Msg: msg}
	}
	return account(refs, ssoID, status), nil
}

func account(refs []iamRef, ssoID, status string) connectors.Account {
	// An override may name one user twice (by name and by account:name).
	var uniq []iamRef
	for _, r := range refs {
		if !slices.ContainsFunc(uniq, func(u iamRef) bool { return u.Scope() == r.Scope() }) {
			uniq = append(uniq, r)
		}
	}
	refs = uniq
	a := connectors.Account{System: System, Status: status, Attributes: map[string]string{}}
	if len(refs) > 0 {
		a.Attributes[AttrIAMUsers] = formatIAMUsers(refs)
	}
	if ssoID != "" {
		a.Attributes[AttrSSOUserID] = ssoID
		a.ID = ssoID
	} else {
		a.ID = "iam:" + refs[0].Scope()
	}
	return a
}

// overrideUsers finds the IAM users an override entry names.
func (c *Client) overrideUsers(ctx context.Context, entry string) ([]iamRef, error) {
	accts := make([]string, 0, len(c.accounts))
	name := entry
	if acct, n, ok := strings.Cut(entry, ":"); ok && accountIDRE.MatchString(acct) {
		name = n
		accts = append(accts, acct)
	} else {
		for _, ac := range c.accounts {
			accts = append(accts, ac.id)
		}
	}
	if !iamUserRE.MatchString(name) {
		return nil, connectors.InvalidInputf(System, "resolve", "an aws override entry is neither sso:<userId>, <account>:<userName> nor an IAM user name")
	}
	var out []iamRef
	for _, acct := range accts {
		ac, err := c.account(ctx, acct)
		if err != nil {
			return nil, err
		}
		u, err := ac.iam.GetUser(ctx, &iam.GetUserInput{UserName: sdkaws.String(name)})
		if err != nil {
			err = iamRef{Account: acct, Name: name}.hideErr(apiError("get user", err))
			if connectors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if u.User == nil {
			return nil, connectors.Unavailablef(System, "get user", "IAM answered GetUser in account %s without a user", acct)
		}
		ref, err := newRef("get user", acct, sdkaws.ToString(u.User.UserId), sdkaws.ToString(u.User.UserName))
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// usersTagged lists the account's IAM users whose email tag is email.
func (c *Client) usersTagged(ctx context.Context, acct, email string) ([]iamRef, error) {
	ac, err := c.account(ctx, acct)
	if err != nil {
		return nil, err
	}
	var out []iamRef
	users := iam.NewListUsersPaginator(ac.iam, &iam.ListUsersInput{})
	for users.HasMorePages() {
		pg, err := users.NextPage(ctx)
		if err != nil {
			return nil, apiError("list users", err)
		}
		for _, u := range pg.Users {
			name := sdkaws.ToString(u.UserName)
			hidden := iamRef{Account: acct, ID: sdkaws.ToString(u.UserId), Name: name}
			tags := iam.NewListUserTagsPaginator(ac.iam, &iam.ListUserTagsInput{UserName: u.UserName})
			match := false
			for tags.HasMorePages() && !match {
				tp, err := tags.NextPage(ctx)
				if err != nil {
					err = hidden.hideErr(apiError("list user tags", err))
					if connectors.IsNotFound(err) {
						break // deleted while listing
					}
					return nil, err
				}
				for _, t := range tp.Tags {
					if strings.EqualFold(sdkaws.ToString(t.Key), EmailTag) && strings.EqualFold(strings.TrimSpace(sdkaws.ToString(t.Value)), email) {
						match = true
					}
				}
			}
			if match {
				ref, err := newRef("list users", acct, sdkaws.ToString(u.UserId), name)
				if err != nil {
					return nil, err
				}
				out = append(out, ref)
			}
		}
	}
	return out, nil
}

// ssoUserByEmail finds the Identity Center user whose userName, or else
// one of whose emails, is email. "" means none.
func (c *Client) ssoUserByEmail(ctx context.Context, email string) (string, error) {
	for _, path := range []string{"userName", "emails.value"} {
		out, err := c.ids.GetUserId(ctx, &identitystore.GetUserIdInput{
			IdentityStoreId: sdkaws.String(c.cfg.IdentityStoreID),
			AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
				AttributePath:  sdkaws.String(path),
				AttributeValue: document.NewLazyDocument(email),
			}},
		})
		if err != nil {
			err = apiError("find Identity Center user", err)
			if connectors.IsNotFound(err) {
				continue
			}
			return "", err
		}
		return sdkaws.ToString(out.UserId), nil
	}
	return "", nil
}

// describeSSOUser reads an Identity Center user and returns its status.
func (c *Client) describeSSOUser(ctx context.Context, id string) (string, error) {
	if !c.ssoEnabled() {
		return "", connectors.InvalidInputf(System, "resolve", "an sso: override needs IAM Identity Center configured")
	}
	if !ssoUserIDRE.MatchString(id) {
		return "", connectors.InvalidInputf(System, "resolve", "%q is not an identity store user ID", id)
	}
	out, err := c.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sdkaws.String(c.cfg.IdentityStoreID), UserId: sdkaws.String(id)})
	if err != nil {
		return "", apiError("describe Identity Center user", err)
	}
	return string(out.UserStatus), nil
}
