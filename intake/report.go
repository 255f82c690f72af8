package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/workflows"
)

// ReportsPath takes a message reported on a person's watch, signed like
// the HR webhook (Standard Webhooks headers webhook-id, webhook-timestamp,
// webhook-signature) with intake.reports' secrets:
//
//	{"employeeId": "E1019", "kind": "extortion", "by": "soc@example.com",
//	 "note": "sent to the CEO", "message": "<the raw message, base64>"}
//
// The answer is 200 with the report (hash, sealed bundle, indicators,
// matches against the snapshot); 400 names the bad field, 401 is a
// refused signature, 404 an employee without a watch, 409 a closed watch.
// The message is never logged.
const ReportsPath = "/v1/watch/reports"

// MaxReportBody bounds a report's request: the largest message, base64,
// and the rest.
const MaxReportBody = activities.MaxReportSize/3*4 + 64<<10

// ReportRequest is the body of a report.
type ReportRequest struct {
	EmployeeID string `json:"employeeId"`
	Kind       string `json:"kind"`
	By         string `json:"by"`
	Note       string `json:"note,omitempty"`
	// Message is the message as received, base64 (standard encoding).
	Message []byte `json:"message"`
}

func (h *Handler) serveReport(r *http.Request) answer {
	body, bad := readBody(r)
	if bad != nil {
		return *bad
	}
	if _, err := h.reports.Verify(r.Header, body); err != nil {
		if errors.Is(err, webhook.ErrNoSecrets) || errors.Is(err, webhook.ErrInvalidSecret) {
			h.o.Log.Error("intake: the report signing secrets cannot be used", "error", err)
			return fail(http.StatusInternalServerError, "", "the intake's report secrets are misconfigured")
		}
		h.metrics.sigFailures.WithLabelValues("reports").Inc()
		return fail(http.StatusUnauthorized, "", "signature refused: %s", err)
	}
	var req ReportRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return fail(http.StatusBadRequest, jsonField(err), "malformed JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return fail(http.StatusBadRequest, "", "malformed JSON: more than one value")
	}
	switch {
	case workflows.ValidateEmployeeID(req.EmployeeID) != nil:
		return fail(http.StatusBadRequest, "employeeId", "%s", workflows.ValidateEmployeeID(req.EmployeeID))
	case !slices.Contains(activities.ReportKinds, req.Kind):
		return fail(http.StatusBadRequest, "kind", "kind %q: want one of %s", clip(req.Kind, 32), strings.Join(activities.ReportKinds, ", "))
	case strings.TrimSpace(req.By) == "":
		return fail(http.StatusBadRequest, "by", "by (who reports it) is required")
	case len(req.Message) == 0:
		return fail(http.StatusBadRequest, "message", "message (the raw message, base64) is required")
	case len(req.Message) > activities.MaxReportSize:
		return fail(http.StatusRequestEntityTooLarge, "message", "the message is over %d bytes", activities.MaxReportSize)
	}
	rep, err := h.o.Cases.Report(r.Context(), req.EmployeeID, workflows.ReportRequest{By: req.By, Kind: req.Kind, Note: req.Note, Message: req.Message})
	switch {
	case err == nil:
		return answer{http.StatusOK, rep}
	case errors.Is(err, cases.ErrNoWatch):
		return fail(http.StatusNotFound, "employeeId", "no watch for employee %s", req.EmployeeID)
	case errors.Is(err, cases.ErrEnded), errors.Is(err, cases.ErrRefused):
		return answer{http.StatusConflict, problem{Error: err.Error()}}
	}
	h.o.Log.Error("intake: a report could not be taken", "watch", workflows.WatchID(req.EmployeeID), "error", err)
	return fail(http.StatusServiceUnavailable, "", "the watch cannot be reached now; send again later")
}
