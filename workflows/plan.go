package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
)

// PlanInput asks for a dry run.
type PlanInput struct {
	Subject connectors.Subject `json:"subject"`
	// ExistsOnly only resolves, and stops once a system knows the person:
	// what `terminate` checks before it starts a case.
	ExistsOnly bool `json:"existsOnly,omitempty"`
}

// Plan is a dry run's answer: the accounts found and the steps that would run.
type Plan struct {
	// EmployeeID is the employee ID as the identity system holds it, the
	// ID the case is named by; as given when the identity system has no
	// account for the person.
	EmployeeID string       `json:"employeeId"`
	Systems    []SystemPlan `json:"systems"`
}

// SystemPlan is one system in a dry run.
type SystemPlan struct {
	System  string              `json:"system"`
	Found   bool                `json:"found"`
	Account *connectors.Account `json:"account,omitempty"`
	Steps   []connectors.Step   `json:"steps,omitempty"`
}

// Found reports whether any system knows the person.
func (p Plan) Found() bool {
	return slices.ContainsFunc(p.Systems, func(s SystemPlan) bool { return s.Found })
}

// PlanWorkflowID is a dry run's workflow ID: the employee's, and the
// request's, so that dry runs never collide.
func PlanWorkflowID(employeeID, requestID string) string {
	return PlanIDPrefix + employeeID + "/" + requestID
}

// PlanTimeout bounds a dry run, so one that no worker picks up does not
// linger.
const PlanTimeout = 2 * time.Minute

// DryRun resolves and plans every system, on a worker, with the same
// activities and the same identity-first order as a case, and writes
// nothing to any vendor. An activity that keeps failing fails the dry run
// (a case would park the step instead).
func DryRun(ctx workflow.Context, in PlanInput) (Plan, error) {
	// An employee ID, or (an Okta event hook's user) an account to look
	// the person up by.
	if in.Subject.EmployeeID != "" || len(in.Subject.Overrides) == 0 {
		if err := ValidateEmployeeID(in.Subject.EmployeeID); err != nil {
			return Plan{}, temporal.NewNonRetryableApplicationError("invalid input: "+err.Error(), "InvalidInput", nil)
		}
	}
	p, err := planAll(Policy{}.withDefaults().activityOptions(ctx), in)
	if _, ok := errors.AsType[*temporal.ApplicationError](err); err != nil && !ok && ctx.Err() == nil {
		// A system that could not be resolved or planned.
		return p, temporal.NewNonRetryableApplicationError(err.Error(), "DryRunFailed", nil)
	}
	return p, err
}

// planAll resolves and plans every system, reading only: the dry run, and
// what a case's approval request shows. On an error it returns what it
// planned with the first error.
func planAll(ctx workflow.Context, in PlanInput) (Plan, error) {
	systems, err := listSystems(ctx)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{EmployeeID: in.Subject.EmployeeID}
	bySystem := map[string]*SystemPlan{}
	for _, sys := range systems.Systems {
		p.Systems = append(p.Systems, SystemPlan{System: sys})
	}
	for i := range p.Systems {
		bySystem[p.Systems[i].System] = &p.Systems[i]
	}
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	identityFound := false
	// planOne resolves one system and, unless only existence is asked,
	// plans it.
	planOne := func(ctx workflow.Context, sys string, s connectors.Subject) {
		sp := bySystem[sys]
		res, err := resolve(ctx, sys, s)
		if err != nil {
			fail(fmt.Errorf("resolve in %s: %s", sys, failureMessage(err)))
			return
		}
		if !res.Found {
			return
		}
		acc := res.Account
		sp.Found, sp.Account = true, &acc
		if in.ExistsOnly {
			return
		}
		steps, err := planSteps(ctx, acc)
		if err != nil {
			fail(fmt.Errorf("plan %s: %s", sys, failureMessage(err)))
			return
		}
		sp.Steps = steps
	}
	err = identityFirst(ctx, systems, in.Subject,
		func(ctx workflow.Context, sys string, s connectors.Subject) (*connectors.Account, error) {
			planOne(ctx, sys, s)
			identityFound = bySystem[sys].Found
			return bySystem[sys].Account, nil
		},
		func(ctx workflow.Context, sys string, s connectors.Subject) {
			if sys == systems.Identity || firstErr != nil || (in.ExistsOnly && identityFound) {
				return
			}
			planOne(ctx, sys, s)
		})
	if err != nil {
		return p, err
	}
	if id := systems.Identity; id != "" && bySystem[id].Found && bySystem[id].Account.EmployeeID != "" {
		p.EmployeeID = bySystem[id].Account.EmployeeID
	}
	return p, firstErr
}

// identityFirst is the one order of every case and dry run. The identity
// system is resolved and planned first (planIdentity returns its account,
// or nil), because what it reports — the work email, the GitHub username,
// the employee ID as it holds it — is how the other systems find the
// person. Then every system, the identity system included, runs in its own
// goroutine with the subject so enriched (each), and identityFirst waits
// for them all. An error from planIdentity stops it before any other
// system runs.
func identityFirst(ctx workflow.Context, systems activities.SystemsResult, subject connectors.Subject,
	planIdentity func(ctx workflow.Context, sys string, s connectors.Subject) (*connectors.Account, error),
	each func(ctx workflow.Context, sys string, s connectors.Subject),
) error {
	rest := systems.Systems
	wg := workflow.NewWaitGroup(ctx)
	start := func(sys string, s connectors.Subject) {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			each(ctx, sys, s)
		})
	}
	if systems.Identity != "" {
		acc, err := planIdentity(ctx, systems.Identity, subject)
		if err != nil {
			return err
		}
		if acc != nil {
			subject = subject.WithAccount(*acc)
			if acc.EmployeeID != "" {
				subject.EmployeeID = acc.EmployeeID
			}
		}
		start(systems.Identity, subject)
		rest = slices.DeleteFunc(slices.Clone(rest), func(s string) bool { return s == systems.Identity })
	}
	for _, sys := range rest {
		start(sys, subject)
	}
	wg.Wait(ctx)
	return nil
}

// checkCanonical refuses a case whose employee ID the identity system holds
// in another form (e1001 for E1001): a case is named by the identity
// system's form, or one person could have two cases.
func checkCanonical(identity, employeeID string, acc *connectors.Account) error {
	if acc == nil || acc.EmployeeID == "" || acc.EmployeeID == employeeID {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"%s holds employee %s as %s: the case must be %s", identity, employeeID, acc.EmployeeID, WorkflowID(acc.EmployeeID)),
		"InvalidInput", nil)
}
