package okta

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// Okta event hooks, as the emulator delivers them.
//
// A hook is set with SetEventHook or POST /_emulator/okta/event-hook. Setting
// it performs Okta's one-time verification: a GET of the hook URL with the
// header X-Okta-Verification-Challenge, which must be answered 200 with the
// JSON {"verification": "<the same value>"}. Only then is the hook active.
//
// From then on every System Log event an API call appends whose eventType
// the hook subscribes to is POSTed to the hook URL, after the API call has
// been answered, in a com.okta.event_hook envelope whose data.events holds
// the very LogEvent objects GET /api/v1/logs serves (same uuid). Events are
// sent in the order they happened, one delivery at a time; the events of one
// API call, and any that queue while a delivery is in flight, go together in
// one delivery (at most maxBatch). A delivery that fails (no answer within
// the timeout, a network error, or any status but 2xx or 4xx) is retried
// once after the retry wait; a 4xx is not retried, as Okta does not. A
// delivery that fails for good is logged as an event_hook.delivery FAILURE
// event in the System Log.
//
// Events appended with POST /_emulator/events are history, not changes
// made through the API: they go to the System Log only and are never
// delivered to the hook.
//
// The hook is not part of the saved state: it must be set again after a
// restart.

// EventHookPath is the emulator's own control endpoint for the event hook:
//
//	POST   {"url": "...", "authorization": "...", "events": ["user.lifecycle.deactivate"]}
//	       verifies and sets the hook; 200 with the EventHookStatus, 400 for a
//	       bad body, 502 when the verification failed ({"error": why}).
//	GET    200 with the EventHookStatus ({"active": false} when none is set).
//	DELETE removes the hook; 204.
const EventHookPath = "/_emulator/okta/event-hook"

// Event hook defaults.
const (
	// DefaultEventHookTimeout is how long a delivery (and the verification
	// GET) may take: Okta's 3 seconds.
	DefaultEventHookTimeout = 3 * time.Second
	// DefaultEventHookRetryWait is the wait before the one retry of a failed
	// delivery.
	DefaultEventHookRetryWait = 2 * time.Second
	// VerificationHeader is the header Okta's one-time verification GET
	// carries the challenge in.
	VerificationHeader = "X-Okta-Verification-Challenge"
	// maxBatch is the most events one delivery carries.
	maxBatch = 50
)

// EventHookRequest is the body of POST /_emulator/okta/event-hook.
type EventHookRequest struct {
	URL string `json:"url"`
	// Authorization is sent as the Authorization header of every delivery
	// (and of the verification GET), verbatim.
	Authorization string `json:"authorization"`
	// Events are the subscribed event types, e.g. user.lifecycle.deactivate.
	Events []string `json:"events"`
}

// EventHookStatus is what GET /_emulator/okta/event-hook serves: the active
// hook (its authorization value left out) and the delivery attempts made.
type EventHookStatus struct {
	Active     bool       `json:"active"`
	ID         string     `json:"id,omitempty"`
	URL        string     `json:"url,omitempty"`
	Events     []string   `json:"events,omitempty"`
	Verified   *time.Time `json:"verified,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
}

// Delivery is one attempt to deliver a batch of events to a hook.
type Delivery struct {
	Time    time.Time `json:"time"`
	HookID  string    `json:"hookId"`
	EventID string    `json:"eventId"` // the envelope's eventId
	Attempt int       `json:"attempt"` // 1, or 2 for the retry
	// UUIDs are the uuids of the LogEvents the attempt carried.
	UUIDs []string `json:"uuids"`
	// Status is the receiver's HTTP status, 0 when it did not answer.
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	OK     bool   `json:"ok"`
}

// hook is an active, verified event hook.
type hook struct {
	id, url, auth string
	events        []string
	verified      time.Time

	mu      sync.Mutex
	queue   []queued
	running bool
}

// queued is one event waiting for delivery, encoded when its API call ended.
type queued struct {
	uuid string
	body json.RawMessage
	base string // org URL of the API call that caused it
}

// hooks is the Server's event hook state. Lock order: the Store lock, then
// hooks.mu, then hook.mu.
type hooks struct {
	mu         sync.Mutex
	active     *hook
	deliveries []Delivery
	pending    atomic.Int64 // events queued or being delivered
}

func (s *Server) hookClient() *http.Client {
	if s.opts.EventHookClient != nil {
		c := *s.opts.EventHookClient
		c.CheckRedirect = noRedirects
		return &c
	}
	return &http.Client{CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SetEventHook verifies url the way Okta verifies a new event hook and, when
// the answer is right, makes it the active hook, delivering the given event
// types with the authorization header value. It replaces an active hook
// (whose queued deliveries still go out); on any error the active hook is
// left as it was. The URL may be http or https (Okta requires https).
func (s *Server) SetEventHook(hookURL, authorization string, events []string) error {
	_, err := s.setEventHook(context.Background(), EventHookRequest{URL: hookURL, Authorization: authorization, Events: events})
	return err
}

// errVerification marks a failed verification (as opposed to a bad request).
type errVerification struct{ error }

func (s *Server) setEventHook(ctx context.Context, req EventHookRequest) (EventHookStatus, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return EventHookStatus{}, fmt.Errorf("event hook url %q: want an absolute http or https URL", req.URL)
	}
	if len(req.Events) == 0 {
		return EventHookStatus{}, errors.New("event hook: no events to subscribe to")
	}
	var events []string
	for _, e := range req.Events {
		if strings.TrimSpace(e) == "" || strings.ContainsAny(e, " \t\"") {
			return EventHookStatus{}, fmt.Errorf("event hook: bad event type %q", e)
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if err := s.verifyHook(ctx, req.URL, req.Authorization); err != nil {
		return EventHookStatus{}, errVerification{err}
	}
	s.Lock()
	id := s.St.newID("who")
	verified := s.opts.Now().UTC()
	s.Unlock()
	h := &hook{id: id, url: req.URL, auth: req.Authorization, events: events, verified: verified}
	s.hooks.mu.Lock()
	s.hooks.active = h
	s.hooks.mu.Unlock()
	return s.EventHookStatus(), nil
}

// verifyHook is Okta's one-time verification request.
func (s *Server) verifyHook(ctx context.Context, hookURL, authorization string) error {
	challenge := randomToken(32)
	ctx, cancel := context.WithTimeout(ctx, s.opts.EventHookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hookURL, nil)
	if err != nil {
		return fmt.Errorf("event hook verification: %w", err)
	}
	req.Header.Set(VerificationHeader, challenge)
	req.Header.Set("Accept", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := s.hookClient().Do(req)
	if err != nil {
		return fmt.Errorf("event hook verification: GET %s: %w", hookURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return fmt.Errorf("event hook verification: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event hook verification: GET %s answered %d, want 200 with {\"verification\": <challenge>}", hookURL, resp.StatusCode)
	}
	var answer struct {
		Verification *string `json:"verification"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("event hook verification: the answer is not JSON {\"verification\": <challenge>}: %v", err)
	}
	if answer.Verification == nil {
		return errors.New("event hook verification: the answer has no \"verification\" field")
	}
	if *answer.Verification != challenge {
		return fmt.Errorf("event hook verification: the answer's verification %q is not the challenge %q sent in %s", *answer.Verification, challenge, VerificationHeader)
	}
	return nil
}

// ClearEventHook removes the active hook. Deliveries already queued still
// go out.
func (s *Server) ClearEventHook() {
	s.hooks.mu.Lock()
	s.hooks.active = nil
	s.hooks.mu.Unlock()
}

// EventHookStatus returns the active hook and every delivery attempt so far.
func (s *Server) EventHookStatus() EventHookStatus {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	st := EventHookStatus{Deliveries: slices.Clone(s.hooks.deliveries)}
	if st.Deliveries == nil {
		st.Deliveries = []Delivery{}
	}
	if h := s.hooks.active; h != nil {
		v := h.verified
		st.Active, st.ID, st.URL, st.Events, st.Verified = true, h.id, h.url, slices.Clone(h.events), &v
	}
	return st
}

// EventHookDeliveries returns every delivery attempt so far, oldest first.
func (s *Server) EventHookDeliveries() []Delivery { return s.EventHookStatus().Deliveries }

// DrainEventHook waits until every event queued for delivery has been
// delivered or given up on (retry included), or ctx ends.
func (s *Server) DrainEventHook(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.hooks.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// queueHookEvents hands the events an API call appended to the active hook.
// It runs with the Store lock held, after the handler, so the events are
// final.
func (s *Server) queueHookEvents(r *http.Request, events []*logEvent) {
	if len(events) == 0 {
		return
	}
	s.hooks.mu.Lock()
	h := s.hooks.active
	s.hooks.mu.Unlock()
	if h == nil {
		return
	}
	base := baseURL(r)
	var add []queued
	for _, e := range events {
		if !slices.Contains(h.events, e.EventType) {
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e.wire()); err != nil {
			continue
		}
		add = append(add, queued{uuid: e.UUID, body: bytes.TrimSpace(buf.Bytes()), base: base})
	}
	if len(add) == 0 {
		return
	}
	s.hooks.pending.Add(int64(len(add)))
	h.mu.Lock()
	h.queue = append(h.queue, add...)
	if !h.running {
		h.running = true
		go s.runHook(h)
	}
	h.mu.Unlock()
}

// runHook delivers a hook's queue in order until it is empty.
func (s *Server) runHook(h *hook) {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		n := min(len(h.queue), maxBatch)
		batch := slices.Clone(h.queue[:n])
		h.queue = slices.Delete(h.queue, 0, n)
		h.mu.Unlock()
		s.deliver(h, batch)
		s.hooks.pending.Add(-int64(len(batch)))
	}
}

// envelope is Okta's com.okta.event_hook request body.
type envelope struct {
	EventType          string       `json:"eventType"`
	EventTypeVersion   string       `json:"eventTypeVersion"`
	CloudEventsVersion string       `json:"cloudEventsVersion"`
	Source             string       `json:"source"`
	EventID            string       `json:"eventId"`
	Data               envelopeData `json:"data"`
	EventTime          string       `json:"eventTime"`
	ContentType        string       `json:"contentType"`
}

type envelopeData struct {
	Events []json.RawMessage `json:"events"`
}

// deliver sends one batch, retrying once.
func (s *Server) deliver(h *hook, batch []queued) {
	env := envelope{
		EventType:          "com.okta.event_hook",
		EventTypeVersion:   "1.0",
		CloudEventsVersion: "0.1",
		Source:             batch[0].base + "/api/v1/eventHooks/" + h.id,
		EventID:            randomUUID(),
		EventTime:          s.opts.Now().UTC().Format(oktaLayout),
		ContentType:        "application/json",
	}
	uuids := make([]string, len(batch))
	for i, q := range batch {
		env.Data.Events = append(env.Data.Events, q.body)
		uuids[i] = q.uuid
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return
	}
	body := buf.Bytes()
	var last Delivery
	for attempt := 1; attempt <= 2; attempt++ {
		if attempt == 2 {
			time.Sleep(s.opts.EventHookRetryWait)
		}
		last = s.post(h, body)
		last.HookID, last.EventID, last.Attempt, last.UUIDs = h.id, env.EventID, attempt, uuids
		s.hooks.mu.Lock()
		s.hooks.deliveries = append(s.hooks.deliveries, last)
		s.hooks.mu.Unlock()
		if last.OK || (last.Status >= 400 && last.Status < 500) {
			break
		}
	}
	if !last.OK {
		s.logDeliveryFailure(h, last)
	}
}

// post makes one delivery attempt.
func (s *Server) post(h *hook, body []byte) Delivery {
	d := Delivery{Time: time.Now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.EventHookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		d.Error = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if h.auth != "" {
		req.Header.Set("Authorization", h.auth)
	}
	resp, err := s.hookClient().Do(req)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	d.Status = resp.StatusCode
	d.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	if !d.OK {
		d.Error = "answered " + resp.Status
	}
	return d
}

// The principal Okta's own, system-made events name as their actor.
const (
	systemActorID   = "system@okta.com"
	systemActorName = "Okta System"
)

// logDeliveryFailure appends the System Log event Okta writes when a
// delivery fails for good.
func (s *Server) logDeliveryFailure(h *hook, d Delivery) {
	s.Lock()
	defer s.Unlock()
	st := s.St
	e := st.baseEvent("event_hook.delivery", s.opts.Now())
	e.Actor = logActor{ID: systemActorID, Type: "SystemPrincipal", AlternateID: systemActorID, DisplayName: systemActorName}
	e.Client = logClient{Zone: "null", Device: "Unknown"}
	e.Transaction.Type = "JOB"
	e.Severity = "WARN"
	reason := d.Error
	e.Outcome = logOutcome{Result: "FAILURE", Reason: &reason}
	e.DebugContext.DebugData = map[string]string{"eventHookId": h.id, "eventId": d.EventID, "url": h.url}
	e.Target = append(e.Target, logTarget{ID: h.id, Type: "EventHook", AlternateID: h.url, DisplayName: h.url})
	st.Events = append(st.Events, e)
}

// serveEventHook serves EventHookPath.
func (s *Server) serveEventHook(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		emu.WriteJSON(w, http.StatusOK, s.EventHookStatus())
	case http.MethodPost:
		var req EventHookRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			emu.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad event hook: " + err.Error()})
			return
		}
		st, err := s.setEventHook(r.Context(), req)
		var verr errVerification
		switch {
		case errors.As(err, &verr):
			emu.WriteJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		case err != nil:
			emu.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		default:
			emu.WriteJSON(w, http.StatusOK, st)
		}
	case http.MethodDelete:
		s.ClearEventHook()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		emu.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET, POST or DELETE"})
	}
}

var _ emu.EventSource = (*Server)(nil)

// OwnActors is the actor of what the dev token (offboard's) does: the
// intake ignores events it caused.
func (s *Server) OwnActors() []string { return []string{AdminActorID} }
