package slackapp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/connectors"
	slackconn "github.com/offboard/offboard/connectors/slack"
)

// Notify posts or updates one message of a case.
func (a *App) Notify(ctx context.Context, n activities.Notice) (activities.NoticeRef, error) {
	switch n.Kind {
	case activities.NoticeApprovalRequest:
		return a.postRequest(ctx, n)
	case activities.NoticeApprovalUpdate:
		return a.update(ctx, n.Ref, "Offboarding approval: "+n.Case.CaseID, requestBlocks(n, a.private(n, n.Ref.Channel)))
	case activities.NoticeApprovalReminder:
		text := fmt.Sprintf("Reminder %d: %s still waits for approval (requested %s ago).", n.Approval.Reminder, esc(n.Case.CaseID), n.Approval.Waited.Round(time.Minute))
		return a.post(ctx, n.Ref.Channel, n.Ref.TS, text, nil)
	case activities.NoticeApprovalEscalation:
		if a.approvals == nil || a.approvals.EscalateTo == "" {
			return activities.NoticeRef{}, a.invalid("escalate", "no approvals.escalateTo is configured")
		}
		text := fmt.Sprintf(":rotating_light: Offboarding %s has waited %s for approval in <#%s> and is still undecided. Nothing is cut until approvers decide.",
			esc(n.Case.CaseID), n.Approval.Waited.Round(time.Minute), a.approvals.Channel)
		return a.post(ctx, a.approvals.EscalateTo, "", text, nil)
	case activities.NoticeParked:
		if a.ops == "" {
			return activities.NoticeRef{}, a.invalid("post parked step", "no slack.opsChannel is configured")
		}
		return a.post(ctx, a.ops, "", fmt.Sprintf("%s: step %s is parked", n.Case.CaseID, n.Step.ID), parkedBlocks(n))
	case activities.NoticeParkedReminder:
		text := fmt.Sprintf("Reminder %d: step `%s` of %s is still parked, waiting for Retry or Skip.", n.Step.Reminder, esc(n.Step.ID), esc(n.Case.CaseID))
		return a.post(ctx, n.Ref.Channel, n.Ref.TS, text, nil)
	case activities.NoticeParkedDecided:
		return a.update(ctx, n.Ref, fmt.Sprintf("%s: step %s", n.Case.CaseID, n.Step.ID), parkedBlocks(n))
	case activities.NoticeSummary:
		if a.ops == "" {
			return activities.NoticeRef{}, a.invalid("post summary", "no slack.opsChannel is configured")
		}
		return a.post(ctx, a.ops, "", fmt.Sprintf("%s is %s", n.Case.CaseID, n.Summary.State), a.summaryBlocks(n))
	case activities.NoticeWatchAlert:
		return a.watchAlert(ctx, n)
	}
	return activities.NoticeRef{}, a.invalid("notify", fmt.Sprintf("unknown notice kind %q", n.Kind))
}

func (a *App) invalid(op, msg string) error {
	return &connectors.Error{Kind: connectors.InvalidInput, System: slackconn.System, Op: op, Msg: msg}
}

// private reports whether a message in channel must leave out who the
// person is: a hostile case, anywhere but the approvals channel.
func (a *App) private(n activities.Notice, channel string) bool {
	return n.Case.Mode == "hostile" && (a.approvals == nil || channel != a.approvals.Channel)
}

// postRequest posts the approval request in the approvals channel, once
// it has checked that the channel is private and that the person is not in
// it. When they are, it goes to the escalation channel instead (if they are
// not in that one either), and the answer's Note says why; when no channel
// is safe, nothing is posted.
func (a *App) postRequest(ctx context.Context, n activities.Notice) (activities.NoticeRef, error) {
	p := a.approvals
	if p == nil {
		return activities.NoticeRef{}, a.invalid("post approval request", "no approval policy is configured")
	}
	if err := a.checkPrivate(ctx, "approvals.channel", p.Channel); err != nil {
		return activities.NoticeRef{}, &connectors.Error{Kind: connectors.PermissionDenied, System: slackconn.System, Op: "post approval request", Msg: err.Error()}
	}
	person := subjectUser(n.Case)
	channel, note := p.Channel, ""
	if person != "" {
		in, err := a.isMember(ctx, p.Channel, person)
		if err != nil {
			return activities.NoticeRef{}, err
		}
		if in {
			note = fmt.Sprintf("the person is a member of the approvals channel %s", p.Channel)
			if p.EscalateTo == "" {
				return activities.NoticeRef{Note: note + " and no approvals.escalateTo is set: the request was not posted"}, nil
			}
			if err := a.checkPrivate(ctx, "approvals.escalateTo", p.EscalateTo); err != nil {
				return activities.NoticeRef{Note: note + "; " + err.Error() + ": the request was not posted"}, nil
			}
			in, err := a.isMember(ctx, p.EscalateTo, person)
			if err != nil {
				return activities.NoticeRef{}, err
			}
			if in {
				return activities.NoticeRef{Note: note + " and of " + p.EscalateTo + ": the request was not posted"}, nil
			}
			channel, note = p.EscalateTo, note+": the request went to "+p.EscalateTo
		}
	}
	ref, err := a.post(ctx, channel, "", "Offboarding approval: "+n.Case.CaseID, requestBlocks(n, a.private(n, channel)))
	ref.Note = note
	return ref, err
}

// subjectUser is the person's Slack user ID from the plan.
func subjectUser(c activities.CaseBrief) string {
	i := slices.IndexFunc(c.Systems, func(s activities.SystemBrief) bool { return s.System == slackconn.System && s.Found })
	if i < 0 {
		return ""
	}
	return c.Systems[i].AccountID
}

func (a *App) isMember(ctx context.Context, channel, user string) (bool, error) {
	ids, err := a.members(ctx, channel)
	if err != nil {
		return false, err
	}
	return slices.Contains(ids, user), nil
}

// post posts a message (in a thread when thread is set).
func (a *App) post(ctx context.Context, channel, thread, text string, blocks []sdk.Block) (activities.NoticeRef, error) {
	opts := []sdk.MsgOption{sdk.MsgOptionText(text, false), sdk.MsgOptionDisableLinkUnfurl()}
	if blocks != nil {
		opts = append(opts, sdk.MsgOptionBlocks(blocks...))
	}
	if thread != "" {
		opts = append(opts, sdk.MsgOptionTS(thread))
	}
	ch, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return activities.NoticeRef{}, slackconn.SDKError("chat.postMessage", err)
	}
	return activities.NoticeRef{Channel: ch, TS: ts}, nil
}

// update replaces a message's text and blocks.
func (a *App) update(ctx context.Context, ref activities.NoticeRef, text string, blocks []sdk.Block) (activities.NoticeRef, error) {
	if ref.Channel == "" || ref.TS == "" {
		return activities.NoticeRef{}, a.invalid("chat.update", "no message to update")
	}
	ch, ts, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, sdk.MsgOptionText(text, false), sdk.MsgOptionBlocks(blocks...))
	if err != nil {
		return activities.NoticeRef{}, slackconn.SDKError("chat.update", err)
	}
	return activities.NoticeRef{Channel: ch, TS: ts}, nil
}

// watchAlert posts a watch's alert: whole in the security channel, paging
// whom the escalation policy names, with a short reply in the case's
// summary thread in the ops channel; without a security channel, the short
// form (with the pages) goes to the ops channel. The answer is the
// security channel's message when there is one.
func (a *App) watchAlert(ctx context.Context, n activities.Notice) (activities.NoticeRef, error) {
	wb := n.Watch
	if wb == nil {
		return activities.NoticeRef{}, a.invalid("post watch alert", "no alert given")
	}
	if a.security == "" && a.ops == "" {
		return activities.NoticeRef{}, a.invalid("post watch alert", "no slack.securityChannel or slack.opsChannel is configured")
	}
	pages := mentions(wb.Paged)
	short := fmt.Sprintf(":rotating_light: Watch %s alert %d: %s", esc(wb.WatchID), wb.AlertID, esc(wb.Kind))
	if wb.System != "" {
		short += " in " + esc(wb.System)
	}
	short += " (watch " + esc(wb.State) + ")"
	if a.security == "" {
		ref, err := a.post(ctx, a.ops, "", strings.TrimSpace(short+" "+pages), nil)
		if err == nil && n.Ref.TS != "" && n.Ref.Channel == a.ops {
			_, err = a.post(ctx, n.Ref.Channel, n.Ref.TS, short, nil)
		}
		return ref, err
	}
	if err := a.checkPrivate(ctx, "slack.securityChannel", a.security); err != nil {
		return activities.NoticeRef{}, &connectors.Error{Kind: connectors.PermissionDenied, System: slackconn.System, Op: "post watch alert", Msg: err.Error()}
	}
	ref, err := a.post(ctx, a.security, "", short, watchBlocks(n, pages))
	if err != nil {
		return ref, err
	}
	if n.Ref.TS != "" {
		if _, err := a.post(ctx, n.Ref.Channel, n.Ref.TS, short+" — details in <#"+a.security+">", nil); err != nil {
			return ref, err
		}
	}
	return ref, nil
}

// mentions are the Slack mentions of user (U…, W…) and user-group (S…)
// IDs.
func mentions(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if strings.HasPrefix(id, "S") {
			b.WriteString("<!subteam^" + id + ">")
		} else {
			b.WriteString("<@" + id + ">")
		}
	}
	return b.String()
}
