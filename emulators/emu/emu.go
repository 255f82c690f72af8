// Package emu is what every vendor emulator shares: the request log, injected
// latency and failures, and the /_emulator/ control endpoints. The vendor
// packages supply the real API handler, their state and their error body.
package emu

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
)

// Request is one logged vendor request, as served by GET /_emulator/requests.
type Request struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	Status int       `json:"status"`
}

// Fault makes matching requests fail. Path is a regular expression matched
// against the URL path (so a user ID or a route can be targeted).
type Fault struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Times is how many requests fail before the fault clears; 0 means until
	// it is cleared by hand. With a Probability it counts the requests the
	// fault actually failed.
	Times int `json:"times,omitempty"`
	// RetryAfter is sent with 429 and 503 answers, in seconds.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Probability, when more than 0 (and at most 1), is the chance that
	// the fault fails each matching request, drawn from the emulator's
	// seeded generator (Config.Seed); a request it spares goes on to the
	// next fault and then the API. 0 means every matching request fails.
	Probability float64 `json:"probability,omitempty"`

	re *regexp.Regexp
}

// Config is what POST /_emulator/config sets and GET /_emulator/config
// shows, as JSON:
//
//	{"latencyMs": 200, "seed": 42, "faults": [{"method": "GET",
//	  "path": "<regexp>", "status": 503, "retryAfter": 1, "times": 2,
//	  "probability": 0.1}]}
//
// A POST replaces every fault and the latency; a bad one (a path that is
// not a regexp, a status outside 400-599, a negative times or retryAfter,
// a probability outside [0, 1]) is refused with 400 and changes nothing.
type Config struct {
	LatencyMS int     `json:"latencyMs"`
	Faults    []Fault `json:"faults"`
	// Seed reseeds the generator that decides the faults with a
	// Probability, so a run of random faults can be repeated. 0 (or
	// absent) in a POST leaves the generator as it is; GET shows the seed
	// last set (a random one until then).
	Seed uint64 `json:"seed,omitempty"`
}

// ErrorWriter writes the vendor's own error body for an injected failure.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration)

// Emulator wraps a vendor handler with logging, latency and faults.
type Emulator struct {
	api      http.Handler
	state    func() any
	writeErr ErrorWriter

	mu      sync.Mutex
	reqs    []Request
	faults  []*Fault
	latency time.Duration
	seed    uint64
	rng     *rand.Rand
	events  *Events
	// attempts serves AttemptPath, once SetAttempts is called.
	attempts Attempts
}

// New wraps api. state returns the JSON-encodable state for
// GET /_emulator/state; writeErr writes an injected failure the vendor's way.
// Its fault generator starts from a random seed (see SetSeed).
func New(api http.Handler, state func() any, writeErr ErrorWriter) *Emulator {
	e := &Emulator{api: api, state: state, writeErr: writeErr}
	e.SetSeed(rand.Uint64() | 1)
	return e
}

// SetSeed reseeds the generator that decides whether a fault with a
// Probability applies, so the same requests meet the same faults.
func (e *Emulator) SetSeed(seed uint64) {
	e.mu.Lock()
	e.seed = seed
	e.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e.mu.Unlock()
}

// compile checks a fault and compiles its path pattern.
func compile(f Fault) (*regexp.Regexp, error) {
	re, err := regexp.Compile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("fault path: %w", err)
	}
	if f.Status < 400 || f.Status > 599 {
		return nil, fmt.Errorf("fault status %d: want 400-599", f.Status)
	}
	if f.Times < 0 {
		return nil, fmt.Errorf("fault times %d: want 0 (until cleared) or more", f.Times)
	}
	if f.RetryAfter < 0 {
		return nil, fmt.Errorf("fault retryAfter %d: want 0 or more seconds", f.RetryAfter)
	}
	if math.IsNaN(f.Probability) || f.Probability < 0 || f.Probability > 1 {
		return nil, fmt.Errorf("fault probability %v: want more than 0 and at most 1 (or 0 for every request)", f.Probability)
	}
	return re, nil
}

// AddFault installs a fault. It fails on an invalid path pattern, status,
// times, retryAfter or probability.
func (e *Emulator) AddFault(f Fault) error {
	re, err := compile(f)
	if err != nil {
		return err
	}
	f.re = re
	e.mu.Lock()
	e.faults = append(e.faults, &f)
	e.mu.Unlock()
	return nil
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	e.faults = nil
	e.mu.Unlock()
}

// SetLatency delays every vendor request by d.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	e.latency = d
	e.mu.Unlock()
}

// Requests returns a copy of the request log.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.reqs...)
}

// RequestsSince returns the requests logged after the first n, and how many
// there are now: what a caller that has kept the first n must add.
func (e *Emulator) RequestsSince(n int) ([]Request, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n > len(e.reqs) {
		n = len(e.reqs)
	}
	return append([]Request(nil), e.reqs[n:]...), len(e.reqs)
}

// RestoreRequests puts back a request log kept from an earlier run, before
// what has been logged since.
func (e *Emulator) RestoreRequests(rs []Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs = append(append([]Request(nil), rs...), e.reqs...)
}

// ServeHTTP serves the control endpoints (state, requests, config and,
// once SetEvents is called, events) and, for everything else, the
// vendor API with faults, latency and logging applied.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_emulator/state":
		writeJSON(w, http.StatusOK, e.state())
		return
	case "/_emulator/requests":
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, q := range e.Requests() {
			_ = enc.Encode(q)
		}
		return
	case "/_emulator/config":
		e.serveConfig(w, r)
		return
	case EventsPath:
		e.serveEvents(w, r)
		return
	case AttemptPath:
		e.serveAttempt(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	fault, latency := e.match(r)
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
		}
	}
	if fault != nil {
		e.writeErr(sw, r, fault.Status, time.Duration(fault.RetryAfter)*time.Second)
	} else {
		e.api.ServeHTTP(sw, r)
	}
	e.mu.Lock()
	e.reqs = append(e.reqs, Request{Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: sw.status})
	e.mu.Unlock()
}

func (e *Emulator) match(r *http.Request) (*Fault, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if !f.re.MatchString(r.URL.Path) {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && e.rng.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return f, e.latency
	}
	return nil, e.latency
}

func (e *Emulator) serveConfig(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		e.mu.Lock()
		c := Config{LatencyMS: int(e.latency / time.Millisecond), Faults: []Fault{}, Seed: e.seed}
		for _, f := range e.faults {
			c.Faults = append(c.Faults, *f)
		}
		e.mu.Unlock()
		writeJSON(w, http.StatusOK, c)
	case http.MethodPost:
		var c Config
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad config: " + err.Error()})
			return
		}
		if c.LatencyMS < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "latencyMs must not be negative"})
			return
		}
		for i, f := range c.Faults {
			// Validate all before applying any, so a bad request changes nothing.
			if _, err := compile(f); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("bad fault %d (%s %q): %v", i, f.Method, f.Path, err)})
				return
			}
		}
		if c.Seed != 0 {
			e.SetSeed(c.Seed)
		}
		e.ClearFaults()
		for _, f := range c.Faults {
			_ = e.AddFault(f)
		}
		e.SetLatency(time.Duration(c.LatencyMS) * time.Millisecond)
		e.mu.Lock()
		c.Seed = e.seed
		e.mu.Unlock()
		writeJSON(w, http.StatusOK, c)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET or POST"})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// RetryAfterSeconds formats d for a Retry-After header, rounding up.
func RetryAfterSeconds(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}

// EncodeState writes an emulator's state (for SaveState) as indented JSON.
func EncodeState(w io.Writer, name string, state any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(state); err != nil {
		return fmt.Errorf("%s emulator: save state: %w", name, err)
	}
	return nil
}

// DecodeState reads state written by EncodeState (for LoadState), refusing
// unknown fields so a state file from another version fails loudly.
func DecodeState(r io.Reader, name string, state any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(state); err != nil {
		return fmt.Errorf("%s emulator: load state: %w", name, err)
	}
	return nil
}

// Store holds an emulator's state under one lock and saves and loads it
// (SaveState/LoadState, for `offboard dev` restarts). Embed it: handlers
// Lock, read and change St, and Unlock.
type Store[S any] struct {
	sync.Mutex
	St *S

	name  string
	check func(*S) error
}

// NewStore holds st. check (may be nil) fixes up and validates a loaded
// state before it replaces the current one.
func NewStore[S any](name string, st *S, check func(*S) error) *Store[S] {
	return &Store[S]{St: st, name: name, check: check}
}

// SaveState writes the whole state as indented JSON.
func (s *Store[S]) SaveState(w io.Writer) error {
	s.Lock()
	defer s.Unlock()
	return EncodeState(w, s.name, s.St)
}

// LoadState replaces the state with one written by SaveState. On error the
// state is left as it was.
func (s *Store[S]) LoadState(r io.Reader) error {
	st := new(S)
	if err := DecodeState(r, s.name, st); err != nil {
		return err
	}
	if s.check != nil {
		if err := s.check(st); err != nil {
			return err
		}
	}
	s.Lock()
	s.St = st
	s.Unlock()
	return nil
}

// Dev is what `offboard dev` needs of a vendor's emulator.
type Dev interface {
	http.Handler
	// Emulator is the shared part: request log, latency, faults.
	Emulator() *Emulator
	SaveState(w io.Writer) error
	LoadState(r io.Reader) error
	// DevSection is the vendor's config section (a value of its connector's
	// Section type) that points offboard at this emulator, served at
	// baseURL. Secrets go through secret, which writes each to a private
	// file and returns the file's path for the section's *File key.
	DevSection(baseURL string, secret SecretFile) (connectors.Section, error)
}

// SecretFile writes a dev secret (a token the emulator accepts) to a private
// file named for name and returns its path.
type SecretFile func(name, value string) (path string, err error)

// Chat is a dev emulator of the chat app offboard asks for approvals in and
// reports to (Slack), so `offboard dev` can wire its buttons to its own
// intake.
type Chat interface {
	// DevChat delivers the emulator's clicks to interactivityURL, has
	// DevSection link messages to webUI, and returns the demo org's
	// approval policy.
	DevChat(interactivityURL, webUI string) *config.Approvals
}

// ScenarioInsider is the seed's scenario of a scripted insider.
const ScenarioInsider = "insider"

// Scenario is a dev emulator that plays the seed's scenarios into its
// audit log, relative to now: for a person marked ScenarioInsider, the
// last days of someone copying what they can on the way out.
type Scenario interface {
	DevScenario(now time.Time) error
}

// EventSource is a dev emulator that delivers event hooks, as Okta does,
// so `offboard dev` can point it at its own intake.
type EventSource interface {
	// SetEventHook verifies url as the vendor would and delivers the given
	// event types to it with the authorization value.
	SetEventHook(url, authorization string, events []string) error
	// OwnActors are the principals whose changes are offboard's own (what
	// the emulator's dev token does), which the intake must ignore.
	OwnActors() []string
}
