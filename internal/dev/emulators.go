package dev

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/vendors"
)

// Emulators are the vendor emulators of one stack, seeded from one org.
type Emulators struct {
	list []Named
}

// Named is an emulator with its vendor's name, used in ports, URLs and
// state files.
type Named struct {
	Name     string
	Emulator emu.Dev
	// Identity: the vendor can be the identity system.
	Identity bool
}

// NewEmulators seeds every vendor's emulator from org.
func NewEmulators(org *seed.Org) *Emulators {
	e := &Emulators{}
	for _, v := range vendors.All {
		e.list = append(e.list, Named{Name: v.Name, Emulator: v.Emulator(org), Identity: v.Identity})
	}
	return e
}

// All lists the emulators in the vendor list's order.
func (e *Emulators) All() []Named { return e.list }

// Get returns a vendor's emulator, or nil.
func (e *Emulators) Get(name string) emu.Dev {
	for _, n := range e.list {
		if n.Name == name {
			return n.Emulator
		}
	}
	return nil
}

// identityEvents is the identity system's emulator when it delivers event
// hooks (Okta), or nil.
func (e *Emulators) identityEvents() emu.EventSource {
	for _, n := range e.list {
		if n.Identity {
			es, _ := n.Emulator.(emu.EventSource)
			return es
		}
	}
	return nil
}

// chat is the chat app's emulator (Slack), or nil.
func (e *Emulators) chat() emu.Chat {
	for _, n := range e.list {
		if c, ok := n.Emulator.(emu.Chat); ok {
			return c
		}
	}
	return nil
}

// secretFile writes a dev secret to a private file under dir/secrets and
// returns its path.
func secretFile(dir string) emu.SecretFile {
	return func(name, value string) (string, error) {
		p, err := filepath.Abs(filepath.Join(dir, "secrets", name))
		if err != nil {
			return "", err
		}
		return p, writePrivate(p, []byte(value+"\n"))
	}
}

// keptSecret is a dev secret made once and kept in dir/secrets, so the
// same value serves across restarts: new makes it the first time.
func keptSecret(dir, name string, new func() (string, error)) (path, value string, err error) {
	p, err := filepath.Abs(filepath.Join(dir, "secrets", name))
	if err != nil {
		return "", "", err
	}
	if b, err := os.ReadFile(p); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return p, string(bytes.TrimSpace(b)), privateFile(p)
	}
	v, err := new()
	if err != nil {
		return "", "", err
	}
	return p, v, writePrivate(p, []byte(v+"\n"))
}

// writeConfig writes the offboard config that points every connector at
// its emulator, encoded from each vendor's own section type, with the
// emulators' tokens in private files under dir/secrets, and the intake's
// section.
func (e *Emulators) writeConfig(path, dir string, urls map[string]string, in *config.Intake, approvals *config.Approvals, ev *config.Evidence, wt *config.Watch) error {
	secret := secretFile(dir)
	doc := yaml.Node{Kind: yaml.MappingNode}
	for _, top := range []struct {
		key string
		v   any
	}{{"intake", in}, {"approvals", approvals}, {"evidence", ev}, {"watch", wt}} {
		if reflect.ValueOf(top.v).IsNil() {
			continue
		}
		var v yaml.Node
		if err := v.Encode(top.v); err != nil {
			return fmt.Errorf("%s dev config: %w", top.key, err)
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: top.key}, &v)
	}
	for _, n := range e.list {
		sec, err := n.Emulator.DevSection(urls[n.Name], secret)
		if err != nil {
			return fmt.Errorf("%s dev config: %w", n.Name, err)
		}
		var v yaml.Node
		if err := v.Encode(sec); err != nil {
			return fmt.Errorf("%s dev config: %w", n.Name, err)
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: n.Name}, &v)
	}
	doc.HeadComment = "Written by offboard dev: points offboard at the local emulators."
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := writePrivate(path, b.Bytes()); err != nil {
		return fmt.Errorf("write dev config: %w", err)
	}
	return nil
}

// writePrivate writes a file readable by its owner only, also when it
// existed with a looser mode.
func writePrivate(path string, b []byte) error {
	if err := privateFile(path); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
