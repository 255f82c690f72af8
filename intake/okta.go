package intake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/workflows"
)

// OktaRequester is who an Okta event hook's cases are requested by.
const OktaRequester = "okta-event-hook"

// oktaDelivery is an Okta event hook delivery (com.okta.event_hook).
type oktaDelivery struct {
	Data struct {
		Events []oktaEvent `json:"events"`
	} `json:"data"`
}

type oktaEvent struct {
	UUID      string `json:"uuid"`
	EventType string `json:"eventType"`
	Actor     struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"actor"`
	Outcome struct {
		Result string `json:"result"`
	} `json:"outcome"`
	Target []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"target"`
}

var (
	oktaUUIDRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	oktaIDRE   = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
)

// serveOktaVerification answers Okta's one-time verification of the hook.
func (h *Handler) serveOktaVerification(r *http.Request) answer {
	ch := r.Header.Get("X-Okta-Verification-Challenge")
	if ch == "" || len(ch) > 512 {
		return fail(http.StatusBadRequest, "X-Okta-Verification-Challenge", "no verification challenge")
	}
	return answer{http.StatusOK, map[string]string{"verification": ch}}
}

// oktaResult is the answer to a delivery.
type oktaResult struct {
	Started    int `json:"started"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// serveOktaEvents takes a delivery: every configured event about a user,
// by anyone but offboard itself, becomes that person's case, found and
// started on a worker. It answers as soon as each event is durably handed
// over, within Okta's three seconds.
func (h *Handler) serveOktaEvents(r *http.Request) answer {
	cfg := h.o.Config.OktaEventHook
	if !sameSecret(r.Header.Get("Authorization"), cfg.Secret) {
		h.metrics.sigFailures.WithLabelValues("okta").Inc()
		return fail(http.StatusUnauthorized, "Authorization", "the Authorization value is not the hook's")
	}
	body, bad := readBody(r)
	if bad != nil {
		return *bad
	}
	var d oktaDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		return fail(http.StatusBadRequest, jsonField(err), "malformed JSON: %s", jsonProblem(err))
	}
	var res oktaResult
	for _, ev := range d.Data.Events {
		user := ""
		for _, t := range ev.Target {
			if t.Type == "User" {
				user = t.ID
			}
		}
		switch {
		case !slices.Contains(cfg.Events, ev.EventType),
			ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS",
			slices.Contains(cfg.IgnoreActors, ev.Actor.ID), // offboard's own change
			!oktaUUIDRE.MatchString(ev.UUID), !oktaIDRE.MatchString(user):
			res.Ignored++
			continue
		}
		out, err := h.o.Cases.StartFromEvent(r.Context(), ev.UUID, workflows.EventInput{
			System: h.o.Identity, AccountID: user,
			Case: workflows.Input{Mode: workflows.ModeStandard, RequestedBy: OktaRequester, Source: config.SourceOkta, Reason: fmt.Sprintf("Okta event %s %s", ev.EventType, ev.UUID)},
		})
		if err != nil {
			// Okta delivers again once: say so.
			h.o.Log.Error("intake: could not hand an Okta event over", "event", ev.UUID, "error", err)
			return fail(http.StatusServiceUnavailable, "", "cases cannot be reached now")
		}
		if out.Duplicate {
			res.Duplicates++
			continue
		}
		res.Started++
		h.metrics.started.WithLabelValues("okta").Inc()
	}
	return answer{http.StatusOK, res}
}

var errEOF = io.EOF

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
