// Package intake is `offboard serve`: the HTTP front door for HR systems
// (a Standard Webhooks-signed termination feed) and Okta (its event hook),
// with health and metrics. Every handler is a thin caller of the cases
// API: it never talks to a vendor, and keeps nothing in memory that
// matters, so any number of replicas can run behind a load balancer.
package intake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/slackapp"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Server timeouts.
const (
	ReadTimeout  = 10 * time.Second
	WriteTimeout = 30 * time.Second
	IdleTimeout  = 2 * time.Minute
)

// Options configure a Handler.
type Options struct {
	// Cases is the cases API; Ready checks that Temporal answers.
	Cases *cases.Client
	Ready func(ctx context.Context) error
	// Config is the intake section of the config file.
	Config *config.Intake
	// Identity is the identity system whose account IDs Okta events carry.
	Identity string
	Log      *slog.Logger
	// Now is the clock for signature timestamps (default time.Now).
	Now func() time.Time
	// Slack is the Slack app whose clicks the intake takes; nil serves no
	// interactivity endpoint.
	Slack *slackapp.App
}

// Handler serves the intake.
type Handler struct {
	o       Options
	mux     *http.ServeMux
	hr      *webhook.Verifier
	reports *webhook.Verifier
	metrics *metrics
	// pending is the work left after an answer (ephemeral messages).
	pending sync.WaitGroup
}

// New builds the handler, refusing a configuration it cannot serve (an
// unreadable HR secret).
func New(o Options) (*Handler, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o, mux: http.NewServeMux(), metrics: newMetrics()}
	if hr := o.Config.HR; hr != nil {
		v, err := verifier(o.Now, "intake.hr", hr.Secrets)
		if err != nil {
			return nil, err
		}
		h.hr = v
		h.mux.Handle("POST /v1/hr/events", h.endpoint("hr", h.serveHR))
	}
	if rp := o.Config.Reports; rp != nil {
		v, err := verifier(o.Now, "intake.reports", rp.Secrets)
		if err != nil {
			return nil, err
		}
		h.reports = v
		h.mux.Handle("POST "+ReportsPath, h.endpoint("reports", h.serveReport))
	}
	if o.Config.OktaEventHook != nil {
		h.mux.Handle("GET /v1/okta/events", h.endpoint("okta", h.serveOktaVerification))
		h.mux.Handle("POST /v1/okta/events", h.endpoint("okta", h.serveOktaEvents))
	}
	if o.Slack != nil {
		h.mux.Handle("POST "+SlackPath, h.endpoint("slack", h.serveSlack))
	}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("GET /readyz", h.serveReady)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{}))
	return h, nil
}

// verifier checks Standard Webhooks signatures with secrets.
func verifier(now func() time.Time, key string, secrets []config.Secret) (*webhook.Verifier, error) {
	v := &webhook.Verifier{Now: now}
	for i, s := range secrets {
		sec, err := webhook.ParseSecret(s.Reveal())
		if err != nil {
			return nil, fmt.Errorf("%s secret %d: %w", key, i+1, err)
		}
		v.Secrets = append(v.Secrets, sec)
	}
	return v, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := int64(MaxBody)
	if r.URL.Path == ReportsPath {
		limit = MaxReportBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	h.mux.ServeHTTP(w, r)
}

// Server is an http.Server for the handler with the intake's timeouts.
func Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: ReadTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout,
		MaxHeaderBytes: 64 << 10,
	}
}

func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if h.o.Ready != nil {
		if err := h.o.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "temporal unreachable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// answer is what an endpoint says: a status and a JSON body.
type answer struct {
	status int
	body   any
}

// problem is an error answer: what went wrong, the field at fault, and a
// case's state where that explains it.
type problem struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	Case  string `json:"caseId,omitempty"`
	State string `json:"state,omitempty"`
}

func fail(status int, field, format string, args ...any) answer {
	return answer{status, problem{Error: fmt.Sprintf(format, args...), Field: field}}
}

// endpoint wraps a handler with metrics and the one way answers are
// written. A panic in a handler answers 500 without its stack.
func (h *Handler) endpoint(name string, f func(r *http.Request) answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := func() (a answer) {
			defer func() {
				if p := recover(); p != nil {
					h.o.Log.Error("intake handler panicked", "endpoint", name)
					a = fail(http.StatusInternalServerError, "", "internal error")
				}
			}()
			return f(r)
		}()
		h.metrics.requests.WithLabelValues(name, fmt.Sprint(a.status)).Inc()
		writeJSON(w, a.status, a.body)
	})
}

// readBody reads a request body within MaxBody.
func readBody(r *http.Request) ([]byte, *answer) {
	b, err := io.ReadAll(r.Body)
	if err == nil {
		return b, nil
	}
	a := fail(http.StatusBadRequest, "", "the body could not be read")
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		a = fail(http.StatusRequestEntityTooLarge, "", "the body is over %d bytes", mbe.Limit)
	}
	return nil, &a
}

// sameSecret compares a presented secret in constant time.
func sameSecret(got string, want config.Secret) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want.Reveal())) == 1
}

// writeJSON writes v as the answer; a nil v answers with no body (what
// Slack wants for an acknowledged click).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	if v == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// metrics are the intake's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	sigFailures *prometheus.CounterVec
	started     *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	refused     prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_intake_requests_total", Help: "Intake requests by endpoint and HTTP status.",
		}, []string{"endpoint", "status"}),
		sigFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_intake_signature_failures_total", Help: "Requests refused for a missing, bad or stale signature or secret, by endpoint.",
		}, []string{"endpoint"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_intake_cases_started_total", Help: "Cases started, by source (hr, okta).",
		}, []string{"source"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_intake_slack_decisions_total", Help: "Decisions taken from Slack clicks, by action (approve, reject, retry, skip).",
		}, []string{"action"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offboard_intake_slack_refused_total", Help: "Slack clicks refused (not allowed, or refused by the case).",
		}),
	}
	m.reg.MustRegister(m.requests, m.sigFailures, m.started, m.decisions, m.refused, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
