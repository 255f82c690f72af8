// Package emutest holds what the emulators' tests share. It is imported
// only by tests.
package emutest

import (
	"net/http/httptest"
	"os"
	"path/filepath"
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
