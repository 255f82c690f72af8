// Package connectors holds what every vendor connector shares: the capability
// interfaces the worker discovers by type assertion, the subject and account
// types that flow between them, and the typed error every connector returns.
//
// Connectors know nothing about Temporal. The activities package adapts them.
package connectors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard/offboard/evidence"
)

// Connector is the one method every vendor connector has.
type Connector interface {
	// Name is the system name used in step IDs ("okta", "github", ...).
	Name() string
}

// Resolver finds the person's account in one system. A person with no
// account there is reported as an error of kind NotFound.
type Resolver interface {
	Resolve(ctx context.Context, s Subject) (Account, error)
}

// Planner lists the steps that would close an account, in the order they
// must run. It only reads vendor state.
type Planner interface {
	Plan(ctx context.Context, a Account) ([]Step, error)
}

// Runner runs one step. It is idempotent: a step whose desired state already
// holds returns ResultAlready, not an error.
type Runner interface {
	Run(ctx context.Context, a Account, step Step) (Outcome, error)
}

// Verifier re-reads vendor state and reports whether the step's desired
// state holds. A step is done only when Verify returns nil.
type Verifier interface {
	Verify(ctx context.Context, a Account, step Step) error
}

// Warmer is a connector whose cases all begin with the same reads, which
// do not depend on the person (AWS: the kill-switch permission sets' names,
// each account's IAM users' email tags). Warm makes them once, when the
// worker starts, so the first case does not wait for them. Nothing depends
// on it: a case makes any read the warm-up did not.
type Warmer interface {
	Warm(ctx context.Context) error
}

// ActivityReader reads what an account did in a time window, for the
// evidence snapshot: the vendor's audit events about the account as actor,
// each normalised with its raw event kept whole, oldest first. It only
// reads vendor state.
type ActivityReader interface {
	Activity(ctx context.Context, a Account, from, to time.Time) ([]evidence.Event, error)
}

// ChangeReader reads what was done to an account in a time window, by
// anyone: the vendor's audit events with the account as target (a user
// re-activated, a member re-added), each normalised with the actor who did
// it, oldest first. The watch asks it who brought back an access it had
// closed. It only reads vendor state.
type ChangeReader interface {
	Changes(ctx context.Context, a Account, from, to time.Time) ([]evidence.Event, error)
}

// Searcher reads the events of the whole system, by any account, that
// carry one of a query's indicators: from one of its IPs, or by one of its
// emails or logins. The watch runs it for a person's known indicators, since
// the same people come back under new accounts. It only reads vendor state.
type Searcher interface {
	Search(ctx context.Context, q Query, from, to time.Time) ([]evidence.Event, error)
}

// Query is what a Searcher looks for; an empty query finds nothing.
type Query struct {
	IPs    []string `json:"ips,omitempty"`
	Emails []string `json:"emails,omitempty"`
	Logins []string `json:"logins,omitempty"`
}

// Empty reports whether q names nothing.
func (q Query) Empty() bool { return len(q.IPs)+len(q.Emails)+len(q.Logins) == 0 }

// AttrCredentials, on an Account given to an ActivityReader, lists
// credential IDs (comma-separated) the cut recorded and that may no longer
// be listed by the vendor, so their use is found too (AWS access key IDs).
const AttrCredentials = "offboard.credentials"

// Subject is the person being offboarded, as far as offboard knows them
// before any system is asked. Attributes gathers what identity systems report
// (for example Okta's githubUsername) so later systems can resolve.
type Subject struct {
	EmployeeID string            `json:"employeeId"`
	Email      string            `json:"email,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Overrides maps a system name to the account identifier to use there,
	// bypassing resolution.
	Overrides map[string]string `json:"overrides,omitempty"`
}

// Account is one person's account in one system.
type Account struct {
	System string `json:"system"`
	// ID is the vendor's own identifier (Okta user ID, GitHub login, ...).
	ID string `json:"id"`
	// Status is the vendor's account status at resolution (ACTIVE, SUSPENDED, ...).
	Status string `json:"status,omitempty"`
	// EmployeeID is the person's employee ID as an identity system holds
	// it (Okta's profile.employeeNumber). Identity systems compare IDs their
	// own way (Okta: case-insensitively), so this is the form a case is
	// named by. Other systems leave it empty.
	EmployeeID string `json:"employeeId,omitempty"`
	// DisplayName is the person's name as an identity system holds it,
	// shown only to approvers. Other systems leave it empty.
	DisplayName string `json:"displayName,omitempty"`
	// Attributes carries what later systems may need to resolve the person
	// (email, githubUsername, ...).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Step is one action in one system. Its ID is made by StepID from
// (system, action, scope) and never parsed.
type Step struct {
	ID     string `json:"id"`
	System string `json:"system"`
	Action string `json:"action"`
	Scope  string `json:"scope,omitempty"`
	// ScopeKind says what the scope names, as the vendor calls it ("org",
	// "IAM user"), for people reading a plan or a case.
	ScopeKind   string `json:"scopeKind,omitempty"`
	Description string `json:"description"`
	// Targets lists what the step will act on, as non-PII references
	// (role types, group IDs, factor types). Informational.
	Targets []string `json:"targets,omitempty"`
	// After lists the IDs of the steps of the same plan that must be done
	// (or skipped) before this one starts; steps with nothing between them
	// run at once. Plans made before steps had it run in order.
	After []string `json:"after,omitempty"`
	// Cuts says the step ends the person's access to the system (a
	// suspension, a sign-out, a membership removed, keys deactivated):
	// the system is cut once the first such step is done.
	Cuts bool `json:"cuts,omitempty"`
	// Urgent says the step cuts or must be done before one that does: its
	// calls go before others when the vendor's budget is short.
	Urgent bool `json:"urgent,omitempty"`
	// Settled says no later step of its system can undo the step once it
	// is verified (GitHub's credential revocations: removing the
	// membership only hides them), so the final pass need not read it
	// again.
	Settled bool `json:"settled,omitempty"`
	// Found is what the plan read for the step to act on. The step's first
	// run acts on it instead of reading again; later runs (an operator's
	// retry, a re-run from the final pass, a run whose verification found
	// the plan stale) are sent without it and read. Nil: read.
	Found *Found `json:"found,omitempty"`
}

// Found is what planning a step read: the vendor IDs its run would act on
// (none: nothing to do) and the records it would keep of them (non-PII,
// as the run's own records).
type Found struct {
	IDs     []string `json:"ids,omitempty"`
	Records []string `json:"records,omitempty"`
}

// Result says how a step reached its desired state.
type Result string

const (
	// ResultDone means the step changed vendor state.
	ResultDone Result = "done"
	// ResultAlready means the desired state already held; nothing changed.
	ResultAlready Result = "already"
)

// Outcome is what running a step did.
type Outcome struct {
	Result Result `json:"result"`
	// Records holds facts worth keeping before they vanish (removed role
	// types, revoked grant client IDs, key IDs), as non-PII strings.
	Records []string `json:"records,omitempty"`
}

// Kind sorts connector errors for retry decisions.
type Kind string

// The error kinds. activities.ToTemporal is the one place that maps them.
const (
	NotFound         Kind = "NotFound"
	RateLimited      Kind = "RateLimited"
	Unavailable      Kind = "Unavailable"
	Unauthenticated  Kind = "Unauthenticated"
	PermissionDenied Kind = "PermissionDenied"
	InvalidInput     Kind = "InvalidInput"
	Conflict         Kind = "Conflict"
)

// Kinds lists every kind, for validation and docs.
var Kinds = []Kind{NotFound, RateLimited, Unavailable, Unauthenticated, PermissionDenied, InvalidInput, Conflict}

// Error is the error every connector returns. Its message must carry no PII:
// use vendor IDs and step IDs, never emails or names.
type Error struct {
	Kind   Kind
	System string
	// Op names what was being done ("suspend user", "list groups").
	Op string
	// Status is the HTTP status the vendor answered, if any.
	Status int
	// RetryAfter is the wait the vendor asked for, if any.
	RetryAfter time.Duration
	// Msg is the vendor's error summary with PII removed.
	Msg string
	Err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s: %s", e.System, e.Op, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a connector error, or "" when err is not one.
func KindOf(err error) Kind {
	if ce, ok := errors.AsType[*Error](err); ok {
		return ce.Kind
	}
	return ""
}

// IsNotFound reports whether err is a connector error of kind NotFound.
func IsNotFound(err error) bool { return KindOf(err) == NotFound }

// KindForStatus sorts an HTTP status into a kind, the way most REST vendors
// mean it. Vendors with their own conventions refine it.
func KindForStatus(status int) Kind {
	switch {
	case status == 400 || status == 422:
		return InvalidInput
	case status == 401:
		return Unauthenticated
	case status == 403:
		return PermissionDenied
	case status == 404 || status == 410:
		return NotFound
	case status == 409:
		return Conflict
	case status == 429:
		return RateLimited
	default:
		return Unavailable
	}
}

var emailLike = regexp.MustCompile(`[^\s"'<>()@,;:]+@[^\s"'<>()@,;:]+`)

// Scrub removes anything that looks like an email address from a vendor
// message, so it can go into an error string.
func Scrub(msg string) string {
	return emailLike.ReplaceAllString(msg, "[redacted]")
}

// WithAccount returns the subject enriched with what an identity system
// reported: its attributes, and its email when none was given. Workflows
// call it; copying maps is deterministic whatever the iteration order.
//
//workflowcheck:ignore
func (s Subject) WithAccount(a Account) Subject {
	attrs := make(map[string]string, len(s.Attributes)+len(a.Attributes))
	maps.Copy(attrs, s.Attributes)
	maps.Copy(attrs, a.Attributes)
	s.Attributes = attrs
	if s.Email == "" {
		s.Email = a.Attributes["email"]
	}
	return s
}

// Already is Run's answer when the desired state already held.
func Already(records ...string) (Outcome, error) {
	return Outcome{Result: ResultAlready, Records: records}, nil
}

// Done is Run's answer when it changed vendor state.
func Done(records ...string) (Outcome, error) {
	return Outcome{Result: ResultDone, Records: records}, nil
}

// RemoveEach is Run's answer for a step that removes items (group
// memberships, app passwords, roles): remove handles one item and says what
// to record for it and whether it removed something (not when the vendor
// says it was already gone, or the item is skipped). Up to EachAtOnce items
// are removed at once. Records follow recs, in item order. Nothing removed
// is ResultAlready. On an error it starts no more items and returns, with
// the first error in item order, the records of every item that was done,
// so nothing removed goes unrecorded.
func RemoveEach[T any](recs []string, items []T, remove func(T) (record string, removed bool, err error)) (Outcome, error) {
	type result struct {
		rec     string
		removed bool
		err     error
		tried   bool
	}
	res := make([]result, len(items))
	_ = Each(len(items), func(i int) error {
		r := &res[i]
		r.tried = true
		r.rec, r.removed, r.err = remove(items[i])
		return r.err
	})
	n := 0
	var first error
	for _, r := range res {
		switch {
		case !r.tried:
		case r.err != nil:
			first = cmp.Or(first, r.err)
		default:
			recs = append(recs, r.rec)
			if r.removed {
				n++
			}
		}
	}
	if first != nil {
		return Outcome{Records: recs}, first
	}
	if n == 0 {
		return Already(recs...)
	}
	return Done(recs...)
}

// EachAtOnce is how many of one step's independent calls run at once:
// enough that a person's ten groups go in a few round trips, few enough
// that one step does not take a vendor's whole burst.
const EachAtOnce = 4

// Each calls fn(0..n-1), up to EachAtOnce at a time, and returns the error
// of the lowest index that failed. Once one has failed it starts no more.
func Each(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var failed atomic.Bool
	sem := make(chan struct{}, EachAtOnce)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		if failed.Load() {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if errs[i] = fn(i); errs[i] != nil {
				failed.Store(true)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Plural counts n things for a step description: "1 group", "3 groups".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
