package emu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// AttemptPath is the control endpoint that simulates the person coming
// back: an attempt to use an account or a credential, which the emulator
// answers the way the vendor would (a suspended user's sign-in fails, a
// deactivated key's call is denied) and records in its audit log as
// exactly the event the vendor records for it:
//
//	POST /_emulator/attempt {"account": "<id, login or email>"} or
//	                        {"credential": "<access key ID>"}
//	  optional: "ip", "userAgent", "action" (what was tried; vendor names)
//
// One of account and credential is required. The answer is 200
// {"outcome": "failure"|"success", "event": <the vendor event recorded>};
// an unknown account or credential is 404, a bad body 400, and nothing is
// recorded then. Like the other control endpoints it is not logged or
// faulted.
const AttemptPath = "/_emulator/attempt"

// Attempt is the body of POST /_emulator/attempt.
type Attempt struct {
	Account    string `json:"account,omitempty"`
	Credential string `json:"credential,omitempty"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
	Action     string `json:"action,omitempty"`
}

// DefaultAttemptIP is the source of an attempt that names none (TEST-NET-3).
const DefaultAttemptIP = "203.0.113.66"

// AttemptResult is what an emulator recorded for an attempt.
type AttemptResult struct {
	// Outcome is "failure" or "success", as the vendor decided.
	Outcome string `json:"outcome"`
	// Event is the audit event recorded, in the vendor's own format.
	Event json.RawMessage `json:"event"`
}

// ErrUnknown is returned (wrapped) by an Attempts func for an account or
// credential the emulator does not have: 404.
var ErrUnknown = errors.New("unknown")

// Attempts records one attempt at now; it takes the state lock itself. An
// error wrapping ErrUnknown is a 404, any other a 400.
type Attempts func(a Attempt, now time.Time) (AttemptResult, error)

// SetAttempts makes the emulator serve POST /_emulator/attempt with f.
func (e *Emulator) SetAttempts(f Attempts) {
	e.mu.Lock()
	e.attempts = f
	e.mu.Unlock()
}

func (e *Emulator) serveAttempt(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	f := e.attempts
	e.mu.Unlock()
	if f == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this emulator simulates no attempts"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	const want = `want {"account": "..."} or {"credential": "..."}, with optional "ip", "userAgent", "action"`
	var a Attempt
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad body: " + err.Error() + "; " + want})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad body: data after the object; " + want})
		return
	}
	if (a.Account == "") == (a.Credential == "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad body: give exactly one of account and credential; " + want})
		return
	}
	if a.IP == "" {
		a.IP = DefaultAttemptIP
	}
	res, err := f(a, time.Now().UTC())
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUnknown) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	if len(bytes.TrimSpace(res.Event)) == 0 {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the emulator recorded no event"})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Unknownf is an attempt's account or credential not found: a 404.
func Unknownf(format string, args ...any) error {
	return fmt.Errorf("%w %s", ErrUnknown, fmt.Sprintf(format, args...))
}
