// Package emutest holds what the emulators' tests share. It is imported
// only by tests.
package emutest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/emulators/emu"
)

// Dev is a dev emulator served for a test, and the config section it gave.
type Dev struct {
	Server  *httptest.Server
	Section connectors.Section
	// Secrets are the secrets it wrote, by name, each to Dir/<name>.
	Secrets map[string]string
	Dir     string
}

// DevSection serves dev on a test server and asks it for the section that
// points offboard at it, with its secrets written to files in a temporary
// directory, as `offboard dev` does.
func DevSection(t testing.TB, dev emu.Dev) Dev {
	t.Helper()
	d := Dev{Server: httptest.NewServer(dev), Secrets: map[string]string{}, Dir: t.TempDir()}
	t.Cleanup(d.Server.Close)
	sec, err := dev.DevSection(d.Server.URL, func(name, value string) (string, error) {
		d.Secrets[name] = value
		p := filepath.Join(d.Dir, name)
		return p, os.WriteFile(p, []byte(value+"\n"), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Section = sec
	return d
}

// EventsAnswer is what POST /_emulator/events answers.
type EventsAnswer struct {
	Appended int    `json:"appended"`
	Error    string `json:"error"`
	Index    *int   `json:"index"`
	Field    string `json:"field"`
}

// PostEvents posts body (JSON-encoded unless a string) to the emulator at
// baseURL's POST /_emulator/events and returns the status and answer.
func PostEvents(t testing.TB, baseURL string, body any) (int, EventsAnswer) {
	t.Helper()
	s, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		s = string(b)
	}
	resp, err := http.Post(baseURL+emu.EventsPath, "application/json", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a EventsAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("POST %s: %d, answer not JSON: %v", emu.EventsPath, resp.StatusCode, err)
	}
	return resp.StatusCode, a
}

// MustPostEvents posts body and fails the test unless all n were appended.
func MustPostEvents(t testing.TB, baseURL string, body any, n int) {
	t.Helper()
	status, a := PostEvents(t, baseURL, body)
	if status != http.StatusOK || a.Appended != n {
		t.Fatalf("POST %s: %d %+v, want 200 with %d appended", emu.EventsPath, status, a, n)
	}
}

// WantRefused posts body and checks it is refused with 400 naming event
// index and field (and the error mentioning each of words).
func WantRefused(t testing.TB, baseURL string, body any, index int, field string, words ...string) {
	t.Helper()
	status, a := PostEvents(t, baseURL, body)
	if status != http.StatusBadRequest || a.Index == nil || *a.Index != index || a.Field != field {
		t.Fatalf("POST %s: %d %+v, want 400 naming event %d field %q", emu.EventsPath, status, a, index, field)
	}
	for _, w := range words {
		if !strings.Contains(a.Error, w) {
			t.Errorf("error %q does not mention %q", a.Error, w)
		}
	}
}

// With sets k to v in an event (deleting k when v is nil) and returns it:
// a good event made bad in one field.
func With(e map[string]any, k string, v any) map[string]any {
	if v == nil {
		delete(e, k)
	} else {
		e[k] = v
	}
	return e
}

// Stateful is an emulator whose state is saved and loaded.
type Stateful interface {
	SaveState(w io.Writer) error
	LoadState(r io.Reader) error
}

// CopyState saves from's state and loads it into to, returning what was
// saved.
func CopyState(t testing.TB, from, to Stateful) []byte {
	t.Helper()
	var saved bytes.Buffer
	if err := from.SaveState(&saved); err != nil {
		t.Fatal(err)
	}
	if err := to.LoadState(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	return saved.Bytes()
}
