package workflows

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/offboard/offboard/connectors"
)

func TestOffboarding_RefusesAWorkflowIDThatIsNotTheEmployees(t *testing.T) {
	f := &fakeVendors{}
	h := newHarness(t, f)
	// As a plain Temporal client could start it: under another ID.
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID("E9999"), TaskQueue: TaskQueue})

	_, err := h.run(testInput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "workflow ID offboard/E9999 does not name employee "+testEmployee)
	assert.Empty(t, f.resolves, "nothing may be resolved, let alone cut")
	assert.Zero(t, len(f.runCalls))
	assert.Equal(t, string(CaseFailed), f.lastUpsert().State, "list --state failed must find it")
}

func TestOffboarding_RefusesAnEmployeeIDTheIdentitySystemHoldsOtherwise(t *testing.T) {
	f := &fakeVendors{oktaEmployeeID: testEmployee}
	h := newHarness(t, f)
	lower := strings.ToLower(testEmployee)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID(lower), TaskQueue: TaskQueue})
	in := testInput()
	in.EmployeeID = lower

	_, err := h.run(in)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "okta holds employee "+lower+" as "+testEmployee+": the case must be offboard/"+testEmployee)
	assert.Zero(t, len(f.runCalls), "nothing may be cut")
	require.Len(t, f.resolves, 1, "no other system may be resolved")
	assert.Equal(t, string(CaseFailed), f.lastUpsert().State)
}

func TestOffboarding_FailureIsRecordedInTheCase(t *testing.T) {
	f := &fakeVendors{notFound: map[string]bool{"okta": true, "github": true}}
	h := newHarness(t, f)
	h.env.ExecuteWorkflow(Offboarding, testInput())
	require.Error(t, h.env.GetWorkflowError())
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var c Case
	require.NoError(t, v.Get(&c))
	assert.Equal(t, CaseFailed, c.State)
	assert.Equal(t, "employee "+testEmployee+" has no account in any configured system", c.Error)
	assert.Equal(t, string(CaseFailed), f.lastUpsert().State)
}

func runDryRun(t *testing.T, f *fakeVendors, in PlanInput) (Plan, error) {
	t.Helper()
	h := newHarness(t, f)
	h.env.RegisterWorkflow(DryRun)
	h.env.ExecuteWorkflow(DryRun, in)
	require.True(t, h.env.IsWorkflowCompleted())
	if err := h.env.GetWorkflowError(); err != nil {
		return Plan{}, err
	}
	var p Plan
	require.NoError(t, h.env.GetWorkflowResult(&p))
	return p, nil
}

func TestDryRun_PlansIdentityFirstAndWritesNothing(t *testing.T) {
	f := &fakeVendors{oktaEmployeeID: testEmployee}
	p, err := runDryRun(t, f, PlanInput{Subject: subjectOf(strings.ToLower(testEmployee))})
	require.NoError(t, err)

	assert.Equal(t, testEmployee, p.EmployeeID, "the identity system's form names the case")
	require.Len(t, p.Systems, 2)
	assert.Equal(t, "okta", p.Systems[0].System)
	assert.Equal(t, stepIDsOf(fakePlan("okta", nil)), stepIDsOf(p.Systems[0].Steps))
	assert.Equal(t, stepIDsOf(fakePlan("github", nil)), stepIDsOf(p.Systems[1].Steps))
	// Okta first with the input alone; GitHub from what Okta reported, with
	// the employee ID in Okta's form.
	require.Len(t, f.resolves, 2)
	assert.Equal(t, "okta", f.resolves[0].System)
	assert.Equal(t, "github", f.resolves[1].System)
	assert.Equal(t, githubLogin, f.resolves[1].Subject.Attributes["githubUsername"])
	assert.Equal(t, testEmployee, f.resolves[1].Subject.EmployeeID)
	assert.Zero(t, len(f.runCalls), "a dry run runs no step")
	assert.Empty(t, f.upserts, "a dry run is not a case")
}

func TestDryRun_ExistsOnlyStopsAtTheIdentitySystem(t *testing.T) {
	f := &fakeVendors{}
	p, err := runDryRun(t, f, PlanInput{Subject: subjectOf(testEmployee), ExistsOnly: true})
	require.NoError(t, err)
	assert.True(t, p.Found())
	assert.Equal(t, testEmployee, p.EmployeeID)
	require.Len(t, f.resolves, 1)
	assert.Empty(t, f.plans)
}

func TestDryRun_ExistsOnlyAsksTheOthersWhenTheIdentitySystemDoesNotKnow(t *testing.T) {
	f := &fakeVendors{notFound: map[string]bool{"okta": true, "github": true}}
	p, err := runDryRun(t, f, PlanInput{Subject: subjectOf(testEmployee), ExistsOnly: true})
	require.NoError(t, err)
	assert.False(t, p.Found())
	assert.Len(t, f.resolves, 2)
}

func subjectOf(id string) connectors.Subject { return connectors.Subject{EmployeeID: id} }

func stepIDsOf(steps []connectors.Step) []string {
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestStartFromEvent_StartsThePersonsCase(t *testing.T) {
	f := &fakeVendors{oktaEmployeeID: testEmployee}
	h := newHarness(t, f)
	h.env.RegisterWorkflow(StartFromEvent)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: EventWorkflowID("okta", "evt-1"), TaskQueue: TaskQueue})
	h.env.ExecuteWorkflow(StartFromEvent, EventInput{System: "okta", AccountID: oktaUserID,
		Case: Input{Mode: ModeStandard, RequestedBy: "okta-event-hook", Reason: "Okta event user.lifecycle.deactivate evt-1"}})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var res EventResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	assert.Equal(t, EventResult{CaseID: WorkflowID(testEmployee), Started: true}, res)
	require.NotEmpty(t, f.resolves)
	assert.Equal(t, oktaUserID, f.resolves[0].Subject.Overrides["okta"], "the account is looked up by its ID")
}

func TestStartFromEvent_AccountWithoutEmployeeID(t *testing.T) {
	f := &fakeVendors{}
	h := newHarness(t, f)
	h.env.RegisterWorkflow(StartFromEvent)
	h.env.ExecuteWorkflow(StartFromEvent, EventInput{System: "okta", AccountID: oktaUserID, Case: Input{Mode: ModeStandard, RequestedBy: "okta-event-hook"}})
	require.NoError(t, h.env.GetWorkflowError())
	var res EventResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	assert.False(t, res.Started)
	assert.Contains(t, res.Note, "holds no usable employee ID")
	assert.Len(t, f.resolves, 1, "no case was started")
}
