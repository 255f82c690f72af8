// Package devopts holds the settings of `offboard dev`, apart from the
// stack itself, so that the CLI can take them as flags without linking the
// Temporal server.
package devopts

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/offboard/offboard/vendors"
)

// Options configure `offboard dev`.
type Options struct {
	DB     string
	Dir    string
	Port   int
	UIPort int
	// IntakePort is the intake's (`offboard serve`'s) port.
	IntakePort int
	// Ports maps a vendor to its emulator's port.
	Ports map[string]int
	Seed  string
}

// EmulatorPort is a vendor emulator's port; 0 (also for a vendor not in
// Ports) picks a free one. Flags sets every vendor's default port.
func (o Options) EmulatorPort(name string) int { return o.Ports[name] }

// Flags adds the options as flags, with their defaults: --db, --dir,
// --port, --ui-port, --seed and a --<vendor>-port for every vendor.
func (o *Options) Flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", ".offboard/temporal.db", "SQLite file holding Temporal's state")
	fs.StringVar(&o.Dir, "dir", ".offboard", "directory for the dev config, secrets, logs and emulator state")
	fs.IntVar(&o.Port, "port", 7233, "Temporal frontend port")
	fs.IntVar(&o.UIPort, "ui-port", 8233, "Temporal Web UI port")
	fs.IntVar(&o.IntakePort, "intake-port", 8800, "HTTP intake port (HR webhook, Okta event hook, health, metrics)")
	fs.StringVar(&o.Seed, "seed", "", "demo org fixture (default: the built-in demo)")
	if o.Ports == nil {
		o.Ports = map[string]int{}
	}
	for _, v := range vendors.All {
		o.Ports[v.Name] = v.DevPort
		fs.Var(portFlag{o.Ports, v.Name}, v.Name+"-port", v.Name+" emulator port")
	}
}

// portFlag is one vendor's entry of Options.Ports as a flag.
type portFlag struct {
	ports map[string]int
	name  string
}

func (f portFlag) String() string { return strconv.Itoa(f.ports[f.name]) }
func (f portFlag) Type() string   { return "int" }
func (f portFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("want a port number from 0 to 65535")
	}
	f.ports[f.name] = n
	return nil
}
