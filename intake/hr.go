package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/workflows"
)

// HR event types, the `type` of the Standard Webhooks envelope.
const (
	// TypeScheduled starts the case (or returns it), cutting at data.effectiveAt.
	TypeScheduled = "termination.scheduled"
	// TypeUpdated moves a scheduled case's effective time.
	TypeUpdated = "termination.updated"
	// TypeRescinded ends a scheduled case with nothing cut.
	TypeRescinded = "termination.rescinded"
	// TypeImmediate cuts now: starts the case, or cuts a scheduled one now.
	TypeImmediate = "termination.immediate"
)

// HRTypes lists the HR event types.
var HRTypes = []string{TypeScheduled, TypeUpdated, TypeRescinded, TypeImmediate}

// HREvent is the body of an HR delivery: the Standard Webhooks envelope.
type HREvent struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp,omitempty"`
	Data      HRData `json:"data"`
}

// HRData is an HR event's data.
type HRData struct {
	EmployeeID string `json:"employeeId"`
	// EffectiveAt is RFC 3339, or a local time ("2027-01-04T17:00") in
	// TimeZone, an IANA zone.
	EffectiveAt string `json:"effectiveAt,omitempty"`
	TimeZone    string `json:"timeZone,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Mode        string `json:"mode,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

// hrRequester is who a case was requested by when the event names nobody.
const hrRequester = "hr-webhook"

// accepted is the answer to an event that was applied (or had been).
type accepted struct {
	CaseID string `json:"caseId"`
	State  string `json:"state"`
}

var webhookIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func (h *Handler) serveHR(r *http.Request) answer {
	body, bad := readBody(r)
	if bad != nil {
		return *bad
	}
	id, err := h.hr.Verify(r.Header, body)
	if err != nil {
		if errors.Is(err, webhook.ErrNoSecrets) || errors.Is(err, webhook.ErrInvalidSecret) {
			h.o.Log.Error("intake: the HR signing secrets cannot be used", "error", err)
			return fail(http.StatusInternalServerError, "", "the intake's HR secrets are misconfigured")
		}
		h.metrics.sigFailures.WithLabelValues("hr").Inc()
		return fail(http.StatusUnauthorized, "", "signature refused: %s", err)
	}
	if !webhookIDRE.MatchString(id) {
		return fail(http.StatusBadRequest, webhook.HeaderID, "webhook-id must be 1-128 letters, digits, '.', '_', ':' or '-'")
	}
	var ev HREvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return fail(http.StatusBadRequest, jsonField(err), "malformed JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return fail(http.StatusBadRequest, "", "malformed JSON: more than one value")
	}
	if !slices.Contains(HRTypes, ev.Type) {
		return fail(http.StatusBadRequest, "type", "unknown event type %q: want one of %s", clip(ev.Type, 64), strings.Join(HRTypes, ", "))
	}
	d := ev.Data
	if err := workflows.ValidateEmployeeID(d.EmployeeID); err != nil {
		return fail(http.StatusBadRequest, "data.employeeId", "%s", err)
	}
	by := d.RequestedBy
	if by == "" {
		by = hrRequester
	}
	if strings.TrimSpace(by) == "" {
		return fail(http.StatusBadRequest, "data.requestedBy", "requestedBy is blank")
	}
	var at time.Time
	if d.EffectiveAt != "" || ev.Type == TypeScheduled || ev.Type == TypeUpdated {
		var a *answer
		if at, a = effectiveAt(d); a != nil {
			return *a
		}
	}
	ctx := r.Context()
	switch ev.Type {
	case TypeScheduled, TypeImmediate:
		mode := workflows.Mode(d.Mode)
		if mode == "" {
			mode = workflows.ModeStandard
		}
		if mode != workflows.ModeStandard && mode != workflows.ModeHostile {
			return fail(http.StatusBadRequest, "data.mode", "mode %q: want standard or hostile", clip(d.Mode, 32))
		}
		in := workflows.Input{EmployeeID: d.EmployeeID, EffectiveAt: at, TimeZone: d.TimeZone, Mode: mode, Reason: d.Reason, RequestedBy: by, Source: config.SourceHR}
		if ev.Type == TypeImmediate {
			in.EffectiveAt = time.Time{}
		}
		res, err := h.o.Cases.Start(ctx, in)
		if err != nil {
			return h.caseError(ctx, d.EmployeeID, id, err)
		}
		if res.Started {
			h.metrics.started.WithLabelValues("hr").Inc()
		}
		if ev.Type == TypeImmediate && !res.Started {
			// An existing case: cut it now if it waits.
			if st, err := h.o.Cases.Status(ctx, res.EmployeeID); err == nil && st.State == workflows.CaseScheduled {
				req := workflows.ScheduleRequest{Reason: d.Reason, By: by, RequestID: id}
				if _, err := h.o.Cases.CutNow(ctx, res.EmployeeID, req); err != nil {
					return h.caseError(ctx, res.EmployeeID, id, err)
				}
			}
		}
		return h.accepted(ctx, res.EmployeeID)
	case TypeUpdated:
		req := workflows.RescheduleRequest{EffectiveAt: at, TimeZone: d.TimeZone, Reason: d.Reason, By: by, RequestID: id}
		if _, err := h.o.Cases.Reschedule(ctx, d.EmployeeID, req); err != nil {
			return h.caseError(ctx, d.EmployeeID, id, err)
		}
		return h.accepted(ctx, d.EmployeeID)
	default: // TypeRescinded
		if strings.TrimSpace(d.Reason) == "" {
			return fail(http.StatusBadRequest, "data.reason", "a rescind needs a reason")
		}
		req := workflows.ScheduleRequest{Reason: d.Reason, By: by, RequestID: id}
		if _, err := h.o.Cases.Rescind(ctx, d.EmployeeID, req); err != nil {
			return h.caseError(ctx, d.EmployeeID, id, err)
		}
		return h.accepted(ctx, d.EmployeeID)
	}
}

// effectiveAt reads data.effectiveAt: RFC 3339, or a local time in
// data.timeZone.
func effectiveAt(d HRData) (time.Time, *answer) {
	if d.EffectiveAt == "" {
		a := fail(http.StatusBadRequest, "data.effectiveAt", "effectiveAt is required")
		return time.Time{}, &a
	}
	var loc *time.Location
	if d.TimeZone != "" {
		l, err := time.LoadLocation(d.TimeZone)
		if err != nil {
			a := fail(http.StatusBadRequest, "data.timeZone", "time zone %q is unknown", clip(d.TimeZone, 64))
			return time.Time{}, &a
		}
		loc = l
	}
	if t, err := time.Parse(time.RFC3339, d.EffectiveAt); err == nil {
		return t, nil
	}
	if loc != nil {
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
			if t, err := time.ParseInLocation(layout, d.EffectiveAt, loc); err == nil {
				return t, nil
			}
		}
	}
	a := fail(http.StatusBadRequest, "data.effectiveAt", "effectiveAt %q: want RFC 3339, or a local time like 2027-01-04T17:00 with timeZone", clip(d.EffectiveAt, 64))
	return time.Time{}, &a
}

// accepted answers 202 with the case and its state now.
func (h *Handler) accepted(ctx context.Context, employeeID string) answer {
	a := accepted{CaseID: workflows.WorkflowID(employeeID)}
	if st, err := h.o.Cases.Status(ctx, employeeID); err == nil {
		a.State = string(st.State)
	}
	return answer{http.StatusAccepted, a}
}

// caseError answers what the cases API refused. A request that the case
// already applied (a redelivery of an event that ended the case) answers
// as the first delivery did.
func (h *Handler) caseError(ctx context.Context, employeeID, requestID string, err error) answer {
	caseID := workflows.WorkflowID(employeeID)
	switch {
	case errors.Is(err, cases.ErrUnknownEmployee):
		return fail(http.StatusNotFound, "data.employeeId", "%s", err)
	case errors.Is(err, cases.ErrNoCase):
		return fail(http.StatusNotFound, "data.employeeId", "no case for employee %s", employeeID)
	case errors.Is(err, cases.ErrEnded), errors.Is(err, cases.ErrRefused):
		st, serr := h.o.Cases.Status(ctx, employeeID)
		if serr == nil && slices.ContainsFunc(st.Decisions, func(d workflows.Decision) bool { return d.RequestID == requestID }) {
			return answer{http.StatusAccepted, accepted{CaseID: caseID, State: string(st.State)}}
		}
		p := problem{Error: err.Error(), Case: caseID}
		if serr == nil {
			p.State = string(st.State)
		}
		return answer{http.StatusConflict, p}
	}
	h.o.Log.Error("intake: the cases API failed", "case", caseID, "error", err)
	return fail(http.StatusServiceUnavailable, "", "cases cannot be reached now; deliver again later")
}

// jsonField names the JSON field a decoding error is about, if it says.
func jsonField(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return te.Field
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
	}
	return ""
}

// jsonProblem says what is wrong with a body without echoing it.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return "field " + te.Field + " must be a " + te.Type.String()
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return "syntax error at byte " + itoa(se.Offset)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + clip(strings.TrimPrefix(msg, "json: unknown field "), 64)
	}
	if errors.Is(err, errEOF) {
		return "the body is empty"
	}
	return "not a JSON object"
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
