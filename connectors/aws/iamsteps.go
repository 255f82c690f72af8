package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/offboard/offboard/connectors"
)

// maxPages bounds every pagination loop.
const maxPages = 1000

// all collects every page of a list.
func all[T any](ctx context.Context, op string, more func() bool, next func(context.Context) ([]T, error)) ([]T, error) {
	var out []T
	for n := 0; more(); n++ {
		if n >= maxPages {
			return nil, connectors.Unavailablef(System, op, "pagination did not end after %d pages", maxPages)
		}
		items, err := next(ctx)
		if err != nil {
			return nil, apiError(op, err)
		}
		out = append(out, items...)
	}
	return out, nil
}

func listAccessKeys(ctx context.Context, api *iam.Client, user string) ([]types.AccessKeyMetadata, error) {
	p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: sdkaws.String(user)})
	return all(ctx, "list access keys", p.HasMorePages, func(ctx context.Context) ([]types.AccessKeyMetadata, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AccessKeyMetadata, nil
	})
}

func listMFADevices(ctx context.Context, api *iam.Client, user string) ([]types.MFADevice, error) {
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list MFA devices", p.HasMorePages, func(ctx context.Context) ([]types.MFADevice, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.MFADevices, nil
	})
}

func listSSHKeys(ctx context.Context, api *iam.Client, user string) ([]types.SSHPublicKeyMetadata, error) {
	p := iam.NewListSSHPublicKeysPaginator(api, &iam.ListSSHPublicKeysInput{UserName: sdkaws.String(user)})
	return all(ctx, "list SSH public keys", p.HasMorePages, func(ctx context.Context) ([]types.SSHPublicKeyMetadata, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.SSHPublicKeys, nil
	})
}

// listServiceCreds has no SDK paginator; it follows Marker itself.
func listServiceCreds(ctx context.Context, api *iam.Client, user string) ([]types.ServiceSpecificCredentialMetadata, error) {
	var marker *string
	done := false
	return all(ctx, "list service-specific credentials", func() bool { return !done }, func(ctx context.Context) ([]types.ServiceSpecificCredentialMetadata, error) {
		o, err := api.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: sdkaws.String(user), Marker: marker})
		if err != nil {
			return nil, err
		}
		if o.IsTruncated && sdkaws.ToString(o.Marker) != "" && sdkaws.ToString(o.Marker) != sdkaws.ToString(marker) {
			marker = o.Marker
		} else {
			done = true
		}
		return o.ServiceSpecificCredentials, nil
	})
}

func listSigningCerts(ctx context.Context, api *iam.Client, user string) ([]types.SigningCertificate, error) {
	p := iam.NewListSigningCertificatesPaginator(api, &iam.ListSigningCertificatesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list signing certificates", p.HasMorePages, func(ctx context.Context) ([]types.SigningCertificate, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.Certificates, nil
	})
}

func listGroups(ctx context.Context, api *iam.Client, user string) ([]types.Group, error) {
	p := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: sdkaws.String(user)})
	return all(ctx, "list groups", p.HasMorePages, func(ctx context.Context) ([]types.Group, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.Groups, nil
	})
}

func listAttached(ctx context.Context, api *iam.Client, user string) ([]types.AttachedPolicy, error) {
	p := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list attached policies", p.HasMorePages, func(ctx context.Context) ([]types.AttachedPolicy, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.AttachedPolicies, nil
	})
}

func listInline(ctx context.Context, api *iam.Client, user string) ([]string, error) {
	p := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: sdkaws.String(user)})
	return all(ctx, "list inline policies", p.HasMorePages, func(ctx context.Context) ([]string, error) {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return o.PolicyNames, nil
	})
}

// hasLoginProfile reports whether the user has a console password.
func hasLoginProfile(ctx context.Context, api *iam.Client, user string) (bool, time.Time, error) {
	out, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: sdkaws.String(user)})
	if err != nil {
		err = apiError("get login profile", err)
		if connectors.IsNotFound(err) {
			return false, time.Time{}, nil
		}
		return false, time.Time{}, err
	}
	var created time.Time
	if out.LoginProfile != nil && out.LoginProfile.CreateDate != nil {
		created = *out.LoginProfile.CreateDate
	}
	return true, created, nil
}

// revokePolicy is the deny the revoke-sessions step puts, as AWS's console
// writes its AWSRevokeOlderSessions policy.
type revokePolicy struct {
	Version   string
	Statement []revokeStatement
}

type revokeStatement struct {
	Sid       string `json:",omitempty"`
	Effect    string
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func revokeDocument(cutoff time.Time) string {
	doc := revokePolicy{Version: "2012-10-17", Statement: []revokeStatement{{
		Sid:       RevokePolicyName,
		Effect:    "Deny",
		Action:    []string{"*"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{"DateLessThan": {"aws:TokenIssueTime": cutoff.UTC().Format("2006-01-02T15:04:05Z")}},
	}}}
	b, _ := json.Marshal(doc)
	return string(b)
}

// revokeCutoff returns the TokenIssueTime cut-off of a revoke policy
// document, and whether the document is a deny of everything issued before
// it.
func revokeCutoff(doc string) (time.Time, bool) {
	var raw struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &raw) != nil {
		return time.Time{}, false
	}
	for _, st := range statements(raw.Statement) {
		var s struct {
			Effect    string
			Action    json.RawMessage
			Resource  json.RawMessage
			Condition map[string]map[string]json.RawMessage
		}
		if json.Unmarshal(st, &s) != nil || s.Effect != "Deny" || !isStar(s.Action) || !isStar(s.Resource) {
			continue
		}
		for op, kv := range s.Condition {
			if op != "DateLessThan" {
				continue
			}
			for k, v := range kv {
				if !strings.EqualFold(k, "aws:TokenIssueTime") {
					continue
				}
				var ts string
				if json.Unmarshal(v, &ts) != nil {
					var list []string
					if json.Unmarshal(v, &list) != nil || len(list) != 1 {
						continue
					}
					ts = list[0]
				}
				if t, err := time.Parse(time.RFC3339, ts); err == nil {
					return t, true
				}
			}
		}
	}
	return time.Time{}, false
}

// getRevokePolicy reads the user's revoke policy: its cut-off, and whether
// it is present and well-formed.
func getRevokePolicy(ctx context.Context, api *iam.Client, user string) (time.Time, bool, error) {
	out, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: sdkaws.String(user), PolicyName: sdkaws.String(RevokePolicyName)})
	if err != nil {
		err = apiError("get inline policy", err)
		if connectors.IsNotFound(err) {
			return time.Time{}, false, nil
		}
		return time.Time{}, false, err
	}
	// IAM returns policy documents URL-encoded.
	doc, uerr := url.PathUnescape(sdkaws.ToString(out.PolicyDocument))
	if uerr != nil {
		doc = sdkaws.ToString(out.PolicyDocument)
	}
	t, ok := revokeCutoff(doc)
	return t, ok, nil
}

// userGone reports whether err says the IAM user does not exist.
func userGone(err error) bool { return connectors.IsNotFound(err) }

func isVirtualMFA(serial string) bool {
	return strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/")
}

func ts(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// iamUser is what an IAM step acts on: one IAM user and the client of its
// account. plan is set only while planning, where the kinds of one user
// share their reads.
type iamUser struct {
	c    *Client
	ref  iamRef
	ac   *accountClient
	plan *iamReads
	// found is what the step's plan read, for its first run (Step.Found);
	// nil: the run reads.
	found *connectors.Found
}

// iamReads are the reads several kinds plan from, made once per user.
type iamReads struct {
	// A plan's kinds plan concurrently; each read is made once, and the
	// two do not wait for each other.
	keys   onceRead[[]types.AccessKeyMetadata]
	inline onceRead[[]string]
}

// onceRead is a read made at most once, by the first that asks.
type onceRead[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *onceRead[T]) get(read func() (T, error)) (T, error) {
	o.once.Do(func() { o.v, o.err = read() })
	return o.v, o.err
}

func (u *iamUser) api() *iam.Client { return u.ac.iam }

// name is the user's name, as IAM's API takes it.
func (u *iamUser) name() *string { return sdkaws.String(u.ref.Name) }

// verifyOp is the Op of a verify error: the step's ID, which carries the
// user's ID, not its name.
func (u *iamUser) verifyOp(action string) string {
	return "verify " + connectors.StepID(System, action, u.ref.Scope())
}

// plannedKeys lists the access keys, once per plan.
func (u *iamUser) plannedKeys(ctx context.Context) ([]types.AccessKeyMetadata, error) {
	r := u.plan
	if r == nil {
		return listAccessKeys(ctx, u.api(), u.ref.Name)
	}
	return r.keys.get(func() ([]types.AccessKeyMetadata, error) { return listAccessKeys(ctx, u.api(), u.ref.Name) })
}

// plannedInline lists the inline policy names, once per plan.
func (u *iamUser) plannedInline(ctx context.Context) ([]string, error) {
	r := u.plan
	if r == nil {
		return listInline(ctx, u.api(), u.ref.Name)
	}
	return r.inline.get(func() ([]string, error) { return listInline(ctx, u.api(), u.ref.Name) })
}

// plannedKey is an access key as a plan found it: its ID, whether it is
// active, and the record kept of it ("key <id> <status>, created <time>").
type plannedKey struct {
	id     string
	active bool
	record string
}

// foundID is how a plan passes the key to the run: key:<id>:<status>.
func (k plannedKey) foundID() string {
	st := types.StatusTypeInactive
	if k.active {
		st = types.StatusTypeActive
	}
	return "key:" + k.id + ":" + string(st)
}

func plannedKeysOf(keys []types.AccessKeyMetadata) []plannedKey {
	out := make([]plannedKey, len(keys))
	for i, k := range keys {
		id := sdkaws.ToString(k.AccessKeyId)
		out[i] = plannedKey{id: id, active: k.Status == types.StatusTypeActive,
			record: fmt.Sprintf("key %s %s, created %s", id, k.Status, ts(k.CreateDate))}
	}
	return out
}

// keysToDeactivate are the keys the plan found (Step.Found), or, without
// them, the keys listed now. A found key that is not what a plan writes is
// refused, as a step built by hand or tampered with.
func (u *iamUser) keysToDeactivate(ctx context.Context) ([]plannedKey, error) {
	f := u.found
	if f == nil {
		keys, err := listAccessKeys(ctx, u.api(), u.ref.Name)
		if err != nil {
			return nil, err
		}
		return plannedKeysOf(keys), nil
	}
	op := "run " + connectors.StepID(System, ActionDeactivateAccessKeys, u.ref.Scope())
	if len(f.Records) != len(f.IDs) {
		return nil, connectors.InvalidInputf(System, op, "found %d access keys with %d records", len(f.IDs), len(f.Records))
	}
	out := make([]plannedKey, len(f.IDs))
	for i, v := range f.IDs {
		kind, rest, _ := strings.Cut(v, ":")
		id, status, _ := strings.Cut(rest, ":")
		if kind != "key" || !accessKeyID.MatchString(id) || (status != string(types.StatusTypeActive) && status != string(types.StatusTypeInactive)) {
			return nil, connectors.InvalidInputf(System, op, "found access key %q is not key:<access key ID>:<Active|Inactive>", v)
		}
		out[i] = plannedKey{id: id, active: status == string(types.StatusTypeActive), record: f.Records[i]}
	}
	return out, nil
}

// loginProfile is whether the user has a console password and when it was
// made: as the plan found it (Step.Found), or else as read now.
func (u *iamUser) loginProfile(ctx context.Context) (bool, time.Time, error) {
	f := u.found
	if f == nil {
		return hasLoginProfile(ctx, u.api(), u.ref.Name)
	}
	switch {
	case len(f.IDs) == 0:
		return false, time.Time{}, nil
	case len(f.IDs) == 1 && f.IDs[0] == "login-profile" && len(f.Records) == 1:
		created, err := time.Parse(time.RFC3339, f.Records[0])
		if err == nil {
			return true, created, nil
		}
	}
	return false, time.Time{}, connectors.InvalidInputf(System, "run "+connectors.StepID(System, ActionDeleteLoginProfile, u.ref.Scope()), "found login profile %q is not what a plan writes", f.IDs)
}

// iamKinds finishes the IAM step kinds. Planning a user that no longer
// exists (its access keys cannot be listed) finds nothing to do in any
// step, whatever the kind's own reads answered. The user's name is hidden
// in targets, records and errors (see iamRef.hide).
func iamKinds(kinds ...connectors.StepKind[*iamUser]) []connectors.StepKind[*iamUser] {
	out := make([]connectors.StepKind[*iamUser], len(kinds))
	for i, k := range kinds {
		out[i] = connectors.StepKind[*iamUser]{
			Action: k.Action,
			After:  k.After,
			Cuts:   k.Cuts,
			Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
				// The kind's own reads go at once with the keys' list (read
				// once per plan), which says whether the user still exists;
				// when it does not, what the kind read is dropped.
				var keysErr error
				var wg sync.WaitGroup
				wg.Go(func() { _, keysErr = u.plannedKeys(ctx) })
				p, err := k.Plan(ctx, u)
				wg.Wait()
				if userGone(keysErr) {
					return connectors.Planned{Description: "The IAM user no longer exists; nothing to do"}, nil
				}
				if keysErr != nil {
					return connectors.Planned{}, u.ref.hideErr(keysErr)
				}
				if err != nil {
					return connectors.Planned{}, u.ref.hideErr(err)
				}
				p.Targets = u.ref.hideAll(p.Targets)
				return p, nil
			},
			Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
				out, err := k.Run(ctx, u)
				if err != nil {
					return connectors.Outcome{}, u.ref.hideErr(err)
				}
				out.Records = u.ref.hideAll(out.Records)
				return out, nil
			},
			Verify: func(ctx context.Context, u *iamUser) error {
				return u.ref.hideErr(k.Verify(ctx, u))
			},
		}
	}
	return out
}

// iamCutFirst are the IAM steps that end the user's access: keys off, the
// session deny in place, the console password gone. The other steps clean
// up after them, at once.
var iamCutFirst = []string{ActionDeactivateAccessKeys, ActionRevokeSessions, ActionDeleteLoginProfile}

// iamSteps are the steps for each IAM user, in plan order. Verify finds a
// user that no longer exists to hold every step's desired state.
var iamSteps = connectors.Steps[*iamUser]{System: System, ScopeKind: "IAM user", Kinds: iamKinds(
	connectors.StepKind[*iamUser]{
		Action: ActionDeactivateAccessKeys,
		Cuts:   true,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			keys, err := u.plannedKeys(ctx)
			if err != nil {
				return connectors.Planned{}, err
			}
			var keyIDs []string
			found := &connectors.Found{}
			active := 0
			for _, k := range plannedKeysOf(keys) {
				keyIDs = append(keyIDs, k.id)
				found.IDs = append(found.IDs, k.foundID())
				found.Records = append(found.Records, k.record)
				if k.active {
					active++
				}
			}
			return connectors.Planned{
				Description: fmt.Sprintf("Record %s with their last use, then deactivate %d active", connectors.Plural(len(keys), "access key", "access keys"), active),
				Targets:     keyIDs,
				Found:       found,
			}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			api := u.api()
			keys, err := u.keysToDeactivate(ctx)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			// Record every key, as listed, and its last use: the IDs are
			// what CloudTrail and the watch look for later. Deactivating
			// does not change a key's last use, so the reads and the
			// deactivations go at once: the cut does not wait for them.
			n := len(keys)
			recs := make([]string, 2*n)
			changed := make([]bool, n)
			err = connectors.Each(2*n, func(i int) error {
				if i < n {
					k := keys[i]
					lu, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: sdkaws.String(k.id)})
					last := "last used: unknown"
					switch {
					case err == nil && lu.AccessKeyLastUsed != nil:
						l := lu.AccessKeyLastUsed
						last = fmt.Sprintf("last used %s (service %s, region %s)", ts(l.LastUsedDate), sdkaws.ToString(l.ServiceName), sdkaws.ToString(l.Region))
					case err != nil:
						if err = apiError("get access key last used", err); !connectors.IsNotFound(err) {
							return err
						}
					}
					recs[i] = k.record + ", " + last
					return nil
				}
				k := keys[i-n]
				if !k.active {
					return nil
				}
				_, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: u.name(), AccessKeyId: sdkaws.String(k.id), Status: types.StatusTypeInactive})
				gone, err := removed("deactivate access key", err)
				switch {
				case err != nil:
					return err
				case gone:
					recs[i] = "key " + k.id + " was deleted meanwhile"
				default:
					changed[i-n] = true
					recs[i] = "deactivated key " + k.id
				}
				return nil
			})
			if err != nil {
				return connectors.Outcome{}, err
			}
			return outcome(slices.Contains(changed, true), slices.DeleteFunc(recs, func(r string) bool { return r == "" }))
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			keys, err := listAccessKeys(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return nil
			}
			if err != nil {
				return err
			}
			var active []string
			for _, k := range keys {
				if k.Status == types.StatusTypeActive {
					active = append(active, sdkaws.ToString(k.AccessKeyId))
				}
			}
			if len(active) > 0 {
				return connectors.Conflictf(System, u.verifyOp(ActionDeactivateAccessKeys), "%s still active: %s", connectors.Plural(len(active), "access key", "access keys"), strings.Join(active, ", "))
			}
			return nil
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionRevokeSessions,
		Cuts:   true,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			inline, err := u.plannedInline(ctx)
			if err != nil {
				return connectors.Planned{}, err
			}
			if slices.Contains(inline, RevokePolicyName) {
				// The run reads the policy: it may not deny what it should.
				return connectors.Planned{Description: "The inline policy " + RevokePolicyName + " is already in place"}, nil
			}
			// None: the run puts it without reading again.
			return connectors.Planned{
				Description: "Deny every request made with temporary credentials issued before now (inline policy " + RevokePolicyName + " on aws:TokenIssueTime)",
				Found:       &connectors.Found{},
			}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			api := u.api()
			if u.found == nil {
				cutoff, ok, err := getRevokePolicy(ctx, api, u.ref.Name)
				if userGone(err) {
					return connectors.Already(userMissing...)
				}
				if err != nil {
					return connectors.Outcome{}, err
				}
				if ok {
					return connectors.Already("sessions issued before " + cutoff.UTC().Format(time.RFC3339) + " are denied")
				}
			}
			// The cut-off is the next whole second, so a token issued in
			// the same second as the revocation is denied too
			// (aws:TokenIssueTime has second precision and DateLessThan is
			// strict).
			now := u.c.opts.now().UTC().Truncate(time.Second).Add(time.Second)
			_, err := api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u.name(), PolicyName: sdkaws.String(RevokePolicyName), PolicyDocument: sdkaws.String(revokeDocument(now))})
			if err != nil {
				err = apiError("put inline policy", err)
				if userGone(err) {
					return connectors.Already(userMissing...)
				}
				return connectors.Outcome{}, err
			}
			return connectors.Done("denied sessions issued before " + now.Format(time.RFC3339) + " (policy " + RevokePolicyName + ")")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			_, ok, err := getRevokePolicy(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if !ok {
				return connectors.Conflictf(System, u.verifyOp(ActionRevokeSessions), "the inline policy %s is missing or does not deny sessions by aws:TokenIssueTime", RevokePolicyName)
			}
			return nil
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDeleteLoginProfile,
		Cuts:   true,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			has, created, err := hasLoginProfile(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			if !has {
				return connectors.Planned{Description: "The IAM user has no console password", Found: &connectors.Found{}}, nil
			}
			return connectors.Planned{Description: "Delete the console password", Found: &connectors.Found{IDs: []string{"login-profile"}, Records: []string{created.UTC().Format(time.RFC3339)}}}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			has, created, err := u.loginProfile(ctx)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if !has {
				return connectors.Already()
			}
			_, err = u.api().DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u.name()})
			gone, err := removed("delete login profile", err)
			if err != nil {
				return connectors.Outcome{}, err
			}
			if gone {
				return connectors.Already("the console password was deleted meanwhile")
			}
			return connectors.Done("deleted the console password (created " + created.UTC().Format(time.RFC3339) + ")")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			has, _, err := hasLoginProfile(ctx, u.api(), u.ref.Name)
			if err != nil {
				return err
			}
			if has {
				return connectors.Conflictf(System, u.verifyOp(ActionDeleteLoginProfile), "the user still has a console password")
			}
			return nil
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionRemoveMFA,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			devs, err := listMFADevices(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			var serials []string
			for _, d := range devs {
				serials = append(serials, sdkaws.ToString(d.SerialNumber))
			}
			return connectors.Planned{Description: "Deactivate (and delete, when virtual) " + connectors.Plural(len(serials), "MFA device", "MFA devices"), Targets: serials}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			api := u.api()
			devs, err := listMFADevices(ctx, api, u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			var recs []string
			changed := false
			for _, d := range devs {
				serial := sdkaws.ToString(d.SerialNumber)
				recs = append(recs, fmt.Sprintf("MFA device %s enabled %s", serial, ts(d.EnableDate)))
				_, err := api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u.name(), SerialNumber: d.SerialNumber})
				gone, err := removed("deactivate MFA device", err)
				if err != nil {
					return connectors.Outcome{}, err
				}
				if !gone {
					changed = true
					recs = append(recs, "deactivated MFA device "+serial)
				}
				if !isVirtualMFA(serial) {
					continue
				}
				_, err = api.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: d.SerialNumber})
				gone, err = removed("delete virtual MFA device", err)
				if err != nil {
					return connectors.Outcome{}, err
				}
				if !gone {
					changed = true
					recs = append(recs, "deleted virtual MFA device "+serial)
				}
			}
			return outcome(changed, recs)
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			devs, err := listMFADevices(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if len(devs) > 0 {
				return connectors.Conflictf(System, u.verifyOp(ActionRemoveMFA), "%s still assigned", connectors.Plural(len(devs), "MFA device", "MFA devices"))
			}
			return nil
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDeleteSSHKeys,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			keys, err := listSSHKeys(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, sdkaws.ToString(k.SSHPublicKeyId))
			}
			return connectors.Planned{Description: "Delete " + connectors.Plural(len(ids), "SSH public key", "SSH public keys"), Targets: ids}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			keys, err := listSSHKeys(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(keys, func(k types.SSHPublicKeyMetadata) string { return sdkaws.ToString(k.SSHPublicKeyId) }, "SSH key",
				func(k types.SSHPublicKeyMetadata) error {
					_, err := u.api().DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u.name(), SSHPublicKeyId: k.SSHPublicKeyId})
					return err
				}, "delete SSH public key")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			keys, err := listSSHKeys(ctx, u.api(), u.ref.Name)
			return remains(u.verifyOp(ActionDeleteSSHKeys), keys, err, "SSH public key", "SSH public keys")
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDeleteServiceCreds,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			creds, err := listServiceCreds(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			var ids []string
			for _, k := range creds {
				ids = append(ids, sdkaws.ToString(k.ServiceSpecificCredentialId))
			}
			return connectors.Planned{Description: "Delete " + connectors.Plural(len(ids), "service-specific credential", "service-specific credentials"), Targets: ids}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			creds, err := listServiceCreds(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(creds, func(k types.ServiceSpecificCredentialMetadata) string {
				return sdkaws.ToString(k.ServiceSpecificCredentialId) + " (" + sdkaws.ToString(k.ServiceName) + ")"
			}, "service-specific credential", func(k types.ServiceSpecificCredentialMetadata) error {
				_, err := u.api().DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: u.name(), ServiceSpecificCredentialId: k.ServiceSpecificCredentialId})
				return err
			}, "delete service-specific credential")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			creds, err := listServiceCreds(ctx, u.api(), u.ref.Name)
			return remains(u.verifyOp(ActionDeleteServiceCreds), creds, err, "service-specific credential", "service-specific credentials")
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDeleteSigningCerts,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			certs, err := listSigningCerts(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			var ids []string
			for _, k := range certs {
				ids = append(ids, sdkaws.ToString(k.CertificateId))
			}
			return connectors.Planned{Description: "Delete " + connectors.Plural(len(ids), "signing certificate", "signing certificates"), Targets: ids}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			certs, err := listSigningCerts(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(certs, func(k types.SigningCertificate) string { return sdkaws.ToString(k.CertificateId) }, "signing certificate",
				func(k types.SigningCertificate) error {
					_, err := u.api().DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u.name(), CertificateId: k.CertificateId})
					return err
				}, "delete signing certificate")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			certs, err := listSigningCerts(ctx, u.api(), u.ref.Name)
			return remains(u.verifyOp(ActionDeleteSigningCerts), certs, err, "signing certificate", "signing certificates")
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDeleteAccessKeys,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			keys, err := u.plannedKeys(ctx)
			if err != nil {
				return connectors.Planned{}, err
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, sdkaws.ToString(k.AccessKeyId))
			}
			return connectors.Planned{Description: "Delete " + connectors.Plural(len(ids), "access key", "access keys") + " (their IDs are recorded first)", Targets: ids}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			keys, err := listAccessKeys(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(keys, func(k types.AccessKeyMetadata) string {
				return sdkaws.ToString(k.AccessKeyId) + " (" + string(k.Status) + ", created " + ts(k.CreateDate) + ")"
			}, "access key", func(k types.AccessKeyMetadata) error {
				_, err := u.api().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u.name(), AccessKeyId: k.AccessKeyId})
				return err
			}, "delete access key")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			keys, err := listAccessKeys(ctx, u.api(), u.ref.Name)
			return remains(u.verifyOp(ActionDeleteAccessKeys), keys, err, "access key", "access keys")
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionRemoveGroups,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			groups, err := listGroups(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			var names []string
			for _, g := range groups {
				names = append(names, sdkaws.ToString(g.GroupName))
			}
			return connectors.Planned{Description: "Remove the user from " + connectors.Plural(len(names), "IAM group", "IAM groups"), Targets: names}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			groups, err := listGroups(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			return deleteEach(groups, func(g types.Group) string { return sdkaws.ToString(g.GroupName) }, "group membership",
				func(g types.Group) error {
					_, err := u.api().RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u.name(), GroupName: g.GroupName})
					return err
				}, "remove from group")
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			groups, err := listGroups(ctx, u.api(), u.ref.Name)
			return remains(u.verifyOp(ActionRemoveGroups), groups, err, "group membership", "group memberships")
		},
	},
	connectors.StepKind[*iamUser]{
		Action: ActionDetachPolicies,
		After:  iamCutFirst,
		Plan: func(ctx context.Context, u *iamUser) (connectors.Planned, error) {
			attached, err := listAttached(ctx, u.api(), u.ref.Name)
			if err != nil {
				return connectors.Planned{}, err
			}
			inline, err := u.plannedInline(ctx)
			if err != nil {
				return connectors.Planned{}, err
			}
			var policies []string
			for _, p := range attached {
				policies = append(policies, sdkaws.ToString(p.PolicyArn))
			}
			for _, n := range inline {
				if n != RevokePolicyName {
					policies = append(policies, "inline:"+n)
				}
			}
			return connectors.Planned{Description: "Detach " + connectors.Plural(len(policies), "policy", "policies") + " (managed and inline), keeping " + RevokePolicyName, Targets: policies}, nil
		},
		Run: func(ctx context.Context, u *iamUser) (connectors.Outcome, error) {
			api := u.api()
			attached, err := listAttached(ctx, api, u.ref.Name)
			if userGone(err) {
				return connectors.Already(userMissing...)
			}
			if err != nil {
				return connectors.Outcome{}, err
			}
			inline, err := listInline(ctx, api, u.ref.Name)
			if err != nil {
				return connectors.Outcome{}, err
			}
			out1, err := deleteEach(attached, func(p types.AttachedPolicy) string { return sdkaws.ToString(p.PolicyArn) }, "managed policy",
				func(p types.AttachedPolicy) error {
					_, err := api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u.name(), PolicyArn: p.PolicyArn})
					return err
				}, "detach policy")
			if err != nil {
				return connectors.Outcome{}, err
			}
			inline = slices.DeleteFunc(inline, func(n string) bool { return n == RevokePolicyName })
			out2, err := deleteEach(inline, func(n string) string { return n }, "inline policy",
				func(n string) error {
					_, err := api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u.name(), PolicyName: sdkaws.String(n)})
					return err
				}, "delete inline policy")
			if err != nil {
				return connectors.Outcome{}, err
			}
			recs := append(out1.Records, out2.Records...)
			return outcome(out1.Result == connectors.ResultDone || out2.Result == connectors.ResultDone, recs)
		},
		Verify: func(ctx context.Context, u *iamUser) error {
			attached, err := listAttached(ctx, u.api(), u.ref.Name)
			if userGone(err) {
				return nil
			}
			if err != nil {
				return err
			}
			inline, err := listInline(ctx, u.api(), u.ref.Name)
			if err != nil {
				return err
			}
			inline = slices.DeleteFunc(inline, func(n string) bool { return n == RevokePolicyName })
			if n := len(attached) + len(inline); n > 0 {
				return connectors.Conflictf(System, u.verifyOp(ActionDetachPolicies), "%s still on the user", connectors.Plural(n, "policy", "policies"))
			}
			return nil
		},
	},
)}

// outcome is done when something changed, else already.
func outcome(changed bool, records []string) (connectors.Outcome, error) {
	if changed {
		return connectors.Done(records...)
	}
	return connectors.Already(records...)
}

// removed runs one removal: a NotFound answer means it was already gone.
func removed(op string, err error) (gone bool, _ error) {
	if err == nil {
		return false, nil
	}
	err = apiError(op, err)
	if connectors.IsNotFound(err) {
		return true, nil
	}
	return false, err
}

var userMissing = []string{"the IAM user does not exist"}

// deleteEach records every item, then removes them (connectors.RemoveEach);
// NotFound counts as already removed.
func deleteEach[T any](items []T, name func(T) string, what string, remove func(T) error, op string) (connectors.Outcome, error) {
	recs := make([]string, 0, 2*len(items))
	for _, it := range items {
		recs = append(recs, what+" "+name(it))
	}
	out, err := connectors.RemoveEach(recs, items, func(it T) (string, bool, error) {
		gone, err := removed(op, remove(it))
		if gone {
			return what + " " + name(it) + " was already gone", false, nil
		}
		return "removed " + what + " " + name(it), true, err
	})
	if err != nil {
		return connectors.Outcome{}, err
	}
	return out, nil
}

func remains[T any](op string, items []T, err error, one, many string) error {
	if userGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(items) > 0 {
		return connectors.Conflictf(System, op, "%s remain", connectors.Plural(len(items), one, many))
	}
	return nil
}
