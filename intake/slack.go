package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/slackapp"
	"github.com/offboard/offboard/workflows"
)

// SlackPath is the Slack app's interactivity Request URL, under the
// intake's base URL.
const SlackPath = "/v1/slack/interactions"

// slackBudget bounds the work done before answering a click: Slack shows
// the clicker an error after three seconds.
const slackBudget = 2500 * time.Millisecond

var slackUserRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// serveSlack takes a click on one of offboard's buttons, or the submission
// of one of its modals. Every request is verified (signature, timestamp,
// team); the clicker must be allowed (an approver for Approve and Reject,
// an operator for Retry and Skip, read from Slack at each click); the case
// then has the last word through its Update validators. A refused click
// changes nothing: the clicker alone is told why, through the click's
// response_url (or in the modal).
func (h *Handler) serveSlack(r *http.Request) answer {
	app := h.o.Slack
	body, bad := readBody(r)
	if bad != nil {
		return *bad
	}
	if err := app.Verify(r.Header, body); err != nil {
		h.metrics.sigFailures.WithLabelValues("slack").Inc()
		return fail(http.StatusUnauthorized, "X-Slack-Signature", "signature refused: %s", err)
	}
	cb, err := app.Parse(body)
	if err != nil {
		h.metrics.sigFailures.WithLabelValues("slack").Inc()
		return fail(http.StatusBadRequest, "payload", "%s", err)
	}
	if !slackUserRE.MatchString(cb.User.ID) {
		return fail(http.StatusBadRequest, "payload.user.id", "the payload names no Slack user")
	}
	ctx, cancel := context.WithTimeout(r.Context(), slackBudget)
	defer cancel()
	switch cb.Type {
	case sdk.InteractionTypeBlockActions:
		return h.slackClick(ctx, cb)
	case sdk.InteractionTypeViewSubmission:
		return h.slackSubmit(ctx, cb)
	}
	return answer{http.StatusOK, nil} // nothing offboard asked for
}

// slackClick takes a button click.
func (h *Handler) slackClick(ctx context.Context, cb sdk.InteractionCallback) answer {
	acts := cb.ActionCallback.BlockActions
	if len(acts) != 1 {
		return fail(http.StatusBadRequest, "payload.actions", "want one action, got %d", len(acts))
	}
	act := acts[0]
	b, employee, err := button(act.Value)
	if err != nil {
		return fail(http.StatusBadRequest, "payload.actions.value", "%s", err)
	}
	user := cb.User.ID
	switch act.ActionID {
	case slackapp.ActionApprove:
		if err := h.approve(ctx, employee, b, user, workflows.ActionApprove, ""); err != nil {
			return h.refuse(cb, err)
		}
	case slackapp.ActionReject:
		return h.askReason(ctx, cb, slackapp.RoleApprover, slackapp.RejectModal(b), "Reject")
	case slackapp.ActionRetry:
		if err := h.decideStep(ctx, employee, b, user, workflows.ActionRetry, ""); err != nil {
			return h.refuse(cb, err)
		}
	case slackapp.ActionSkip:
		return h.askReason(ctx, cb, slackapp.RoleOperator, slackapp.SkipModal(b), "Skip")
	default:
		return fail(http.StatusBadRequest, "payload.actions.action_id", "not one of offboard's buttons")
	}
	return answer{http.StatusOK, nil}
}

// askReason opens the modal that asks a Reject's or a Skip's reason, for a
// clicker allowed in role; the decision comes with its submission.
func (h *Handler) askReason(ctx context.Context, cb sdk.InteractionCallback, role string, modal sdk.ModalViewRequest, button string) answer {
	app := h.o.Slack
	if err := app.Allowed(ctx, role, cb.User.ID); err != nil {
		return h.refuse(cb, err)
	}
	if err := app.OpenModal(ctx, cb.TriggerID, modal); err != nil {
		h.o.Log.Error("intake: could not open the reason modal", "modal", modal.CallbackID, "error", err)
		return h.refuse(cb, fmt.Errorf("the reason dialog could not be opened; click %s again", button))
	}
	return answer{http.StatusOK, nil}
}

// slackSubmit takes a reject or skip modal's reason. A refusal is shown in
// the modal, which stays open.
func (h *Handler) slackSubmit(ctx context.Context, cb sdk.InteractionCallback) answer {
	b, employee, err := button(cb.View.PrivateMetadata)
	if err != nil {
		return fail(http.StatusBadRequest, "payload.view.private_metadata", "%s", err)
	}
	reason := ""
	if st := cb.View.State; st != nil {
		reason = st.Values[slackapp.ReasonBlock][slackapp.ReasonAction].Value
	}
	switch cb.View.CallbackID {
	case slackapp.CallbackReject:
		err = h.approve(ctx, employee, b, cb.User.ID, workflows.ActionReject, reason)
	case slackapp.CallbackSkip:
		err = h.decideStep(ctx, employee, b, cb.User.ID, workflows.ActionSkip, reason)
	default:
		return fail(http.StatusBadRequest, "payload.view.callback_id", "not one of offboard's modals")
	}
	if err != nil {
		h.o.Log.Info("intake: slack decision refused", "case", b.Case, "error", err)
		return answer{http.StatusOK, map[string]any{
			"response_action": "errors",
			"errors":          map[string]string{slackapp.ReasonBlock: clip(refusal(err), 150)},
		}}
	}
	return answer{http.StatusOK, nil}
}

// approve sends an approver's decision to the case.
func (h *Handler) approve(ctx context.Context, employee string, b slackapp.Button, user, action, reason string) error {
	app := h.o.Slack
	if err := app.Allowed(ctx, slackapp.RoleApprover, user); err != nil {
		return err
	}
	email, err := app.Email(ctx, user)
	if err != nil {
		h.o.Log.Error("intake: could not read the clicker's Slack profile", "error", err)
		return errors.New("your Slack profile could not be read, so the decision was not recorded; try again")
	}
	_, err = h.o.Cases.DecideApproval(ctx, employee, workflows.DecideApprovalRequest{
		Nonce: b.Nonce, Action: action, User: user, Email: email, Reason: reason,
	})
	if err == nil {
		h.metrics.decisions.WithLabelValues(action).Inc()
	}
	return err
}

// decideStep sends an operator's retry or skip to the case, as the CLI
// does, with the button's nonce.
func (h *Handler) decideStep(ctx context.Context, employee string, b slackapp.Button, user, action, reason string) error {
	if err := h.o.Slack.Allowed(ctx, slackapp.RoleOperator, user); err != nil {
		return err
	}
	_, err := h.o.Cases.Decide(ctx, employee, workflows.DecideStepRequest{
		Step: b.Step, Nonce: b.Nonce, Action: action, Reason: reason, By: workflows.SlackBy(user),
	})
	if err == nil {
		h.metrics.decisions.WithLabelValues(action).Inc()
	}
	return err
}

// button reads a button's value: offboard's, naming a case.
func button(v string) (slackapp.Button, string, error) {
	b, err := slackapp.ParseButton(v)
	if err != nil {
		return b, "", err
	}
	employee, err := cases.EmployeeOf(b.Case)
	return b, employee, err
}

// refuse answers a refused click: 200 (Slack needs nothing more), and the
// clicker alone is told why, once the answer is out.
func (h *Handler) refuse(cb sdk.InteractionCallback, err error) answer {
	h.metrics.refused.Inc()
	msg := ":no_entry: " + refusal(err)
	h.o.Log.Info("intake: slack click refused", "error", err)
	if cb.ResponseURL != "" {
		h.later(func(ctx context.Context) {
			if err := h.o.Slack.Ephemeral(ctx, cb.ResponseURL, msg); err != nil {
				h.o.Log.Error("intake: could not tell the clicker why", "error", err)
			}
		})
	}
	return answer{http.StatusOK, nil}
}

// refusal is what the clicker is told.
func refusal(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "offboard did not answer in time, so the decision may not have been recorded: check the message before you click again"
	}
	return "Not recorded: " + err.Error()
}

// later runs f after the answer, with its own deadline; Wait waits for it.
func (h *Handler) later(f func(ctx context.Context)) {
	h.pending.Add(1)
	go func() {
		defer h.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f(ctx)
	}()
}

// Wait waits for the work done after answering (ephemeral messages).
func (h *Handler) Wait() { h.pending.Wait() }
