package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
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
	// Every account and Identity Center at once; the results in the
	// configured order, or the first error in it.
	found := make([][]iamRef, len(c.accounts)+1)
	err := connectors.Each(len(found), func(i int) error {
		if i < len(c.accounts) {
			var err error
			found[i], err = c.usersTagged(ctx, c.accounts[i].id, s.Email)
			return err
		}
		if !c.ssoEnabled() {
			return nil
		}
		id, err := c.ssoUserByEmail(ctx, s.Email)
		if err != nil || id == "" {
			return err
		}
		st, err := c.describeSSOUser(ctx, id)
		if err != nil {
			return err
		}
		ssoID, status = id, st
		return nil
	})
	if err != nil {
		return connectors.Account{}, err
	}
	refs = slices.Concat(found...)
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

// TagIndexTTL bounds how old a user's email tag may be when a person is
// looked up by it. Reading every IAM user's tags for each person would make
// a layoff of N people in an account of M users N×M calls; with the index
// it is M calls per TTL. Every lookup still lists the users, so a user
// made since is read at once; only a tag changed on an existing user
// within the TTL goes unseen until the entry is read again.
const TagIndexTTL = 5 * time.Minute

// tagIndex is one account's IAM users' email tags, as last read.
type tagIndex struct {
	// lock is held while tags are read, so that cases looking up people
	// at once read each user's tags once; a channel, so a wait ends
	// with its context.
	lock  chan struct{}
	users map[string]taggedUser // user ID → entry
}

type taggedUser struct {
	name   string
	email  string // the email tag's value, trimmed; "" for none
	readAt time.Time
}

var _ connectors.Warmer = (*Client)(nil)

// Warm reads what every case's resolve and plan begin with: each
// account's email tag index, and the kill-switch permission sets' names.
// Later lookups list the users again, and re-read stale tags and names.
func (c *Client) Warm(ctx context.Context) error {
	errs := make([]error, len(c.accounts)+1)
	var wg sync.WaitGroup
	for i, ac := range c.accounts {
		wg.Go(func() { _, _, errs[i] = c.refreshTags(ctx, ac.id) })
	}
	if c.ssoEnabled() {
		_, errs[len(c.accounts)] = c.killSets(ctx)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// usersTagged lists the account's IAM users whose email tag is email, from
// the index as refreshTags leaves it.
func (c *Client) usersTagged(ctx context.Context, acct, email string) ([]iamRef, error) {
	listed, fresh, err := c.refreshTags(ctx, acct)
	if err != nil {
		return nil, err
	}
	var out []iamRef
	for _, u := range listed {
		id := sdkaws.ToString(u.UserId)
		if e, ok := fresh[id]; ok && e.email != "" && strings.EqualFold(e.email, email) {
			ref, err := newRef("list users", acct, id, e.name)
			if err != nil {
				return nil, err
			}
			out = append(out, ref)
		}
	}
	return out, nil
}

// refreshTags lists the account's IAM users and reads the tags of those
// the index does not hold fresh (new users, and entries older than
// TagIndexTTL), EachAtOnce at a time. It returns the users as listed and
// the index's entries for them.
func (c *Client) refreshTags(ctx context.Context, acct string) ([]iamtypes.User, map[string]taggedUser, error) {
	ac, err := c.account(ctx, acct)
	if err != nil {
		return nil, nil, err
	}
	var listed []iamtypes.User
	users := iam.NewListUsersPaginator(ac.iam, &iam.ListUsersInput{MaxItems: sdkaws.Int32(1000)})
	for users.HasMorePages() {
		pg, err := users.NextPage(ctx)
		if err != nil {
			return nil, nil, apiError("list users", err)
		}
		listed = append(listed, pg.Users...)
	}
	ix := &ac.tags
	ac.mu.Lock()
	if ix.lock == nil {
		ix.lock = make(chan struct{}, 1)
	}
	lock := ix.lock
	ac.mu.Unlock()
	select {
	case lock <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, connectors.Unavailablef(System, "list user tags", "gave up waiting for another lookup in account %s: %v", acct, ctx.Err())
	}
	defer func() { <-lock }()

	now := c.opts.now()
	fresh := make(map[string]taggedUser, len(listed))
	var stale []iamtypes.User
	for _, u := range listed {
		id := sdkaws.ToString(u.UserId)
		if e, ok := ix.users[id]; ok && e.name == sdkaws.ToString(u.UserName) && now.Sub(e.readAt) < TagIndexTTL {
			fresh[id] = e
			continue
		}
		stale = append(stale, u)
	}
	read := make([]taggedUser, len(stale))
	gone := make([]bool, len(stale))
	err = connectors.Each(len(stale), func(i int) error {
		u := stale[i]
		name := sdkaws.ToString(u.UserName)
		hidden := iamRef{Account: acct, ID: sdkaws.ToString(u.UserId), Name: name}
		read[i] = taggedUser{name: name, readAt: now}
		tags := iam.NewListUserTagsPaginator(ac.iam, &iam.ListUserTagsInput{UserName: u.UserName})
		for tags.HasMorePages() {
			tp, err := tags.NextPage(ctx)
			if err != nil {
				err = hidden.hideErr(apiError("list user tags", err))
				if connectors.IsNotFound(err) {
					gone[i] = true // deleted while listing
					return nil
				}
				return err
			}
			for _, t := range tp.Tags {
				if strings.EqualFold(sdkaws.ToString(t.Key), EmailTag) {
					read[i].email = strings.TrimSpace(sdkaws.ToString(t.Value))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i, u := range stale {
		if !gone[i] {
			fresh[sdkaws.ToString(u.UserId)] = read[i]
		}
	}
	ix.users = fresh // users no longer listed drop out
	return listed, fresh, nil
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
