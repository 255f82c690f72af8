// Package config reads offboard's configuration: one YAML file, then the
// environment over it. Each vendor's section is decoded and validated by
// the vendor's own type (connectors.Section); this package knows vendors
// only through the list it is given.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/offboard/offboard/connectors"
)

// Config is offboard's configuration: which vendor systems to close and how
// to reach them. Temporal connection settings are not here; they come from
// the standard TEMPORAL_* environment (see the README).
type Config struct {
	// Identity is the system resolved first; others resolve from what it
	// reports. Default: the first configured vendor that can be one.
	Identity string
	// Systems are the configured vendors, in the vendor list's order.
	Systems []System
	// Intake configures `offboard serve`; nil when the file has no intake.
	Intake *Intake
	// Approvals is the approval policy; nil when no case needs approval.
	Approvals *Approvals
	// Evidence configures the snapshot at the cut; nil takes none.
	Evidence *Evidence
	// Watch configures the watch a done case opens; nil opens none.
	Watch *Watch
	// Budgets changes how fast each vendor may be called; nil keeps the
	// vendors' documented limits.
	Budgets *Budgets
	// Path is where the config was read from ("" for none).
	Path string
}

// System is one configured vendor and its section.
type System struct {
	Vendor  connectors.Vendor
	Section connectors.Section
}

// EnvConfig names the config file. Each vendor's own variables
// (OFFBOARD_OKTA_TOKEN, ...) are its section's.
const EnvConfig = "OFFBOARD_CONFIG"

// DefaultPaths are tried in order when no path is given: a config in the
// working directory, then the one `offboard dev` writes.
var DefaultPaths = []string{"offboard.yaml", ".offboard/dev.yaml"}

// The file's keys that are not vendors.
const (
	keyIdentity  = "identity"
	keyIntake    = "intake"
	keyApprovals = "approvals"
	keyEvidence  = "evidence"
	keyWatch     = "watch"
	keyBudgets   = "budgets"
)

// Load reads the config. path is the --config flag; empty means
// $OFFBOARD_CONFIG, then DefaultPaths. lookup reads the environment;
// vendors are the vendors the file may configure.
func Load(path string, lookup func(string) (string, bool), vendors []connectors.Vendor) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if path == "" {
		if p, ok := lookup(EnvConfig); ok && p != "" {
			path = p
		}
	}
	if path == "" {
		for _, p := range DefaultPaths {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	c := &Config{Path: path}
	nodes := map[string]yaml.Node{}
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		// An empty file decodes as io.EOF: it configures nothing.
		if err := dec.Decode(&nodes); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		var more yaml.Node
		if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: more than one YAML document (a second --- ...); put everything in one", path)
		}
	}
	var errs []error
	known := []string{keyIdentity, keyIntake, keyApprovals, keyEvidence, keyWatch, keyBudgets}
	for _, v := range vendors {
		known = append(known, v.Name)
	}
	for k := range nodes {
		if !slices.Contains(known, k) {
			errs = append(errs, fmt.Errorf("unknown key %q: want one of %s", k, strings.Join(known, ", ")))
		}
	}
	if n, ok := nodes[keyIdentity]; ok {
		if err := n.Decode(&c.Identity); err != nil {
			errs = append(errs, fmt.Errorf("identity: %w", err))
		}
	}
	if n, ok := nodes[keyIntake]; ok {
		c.Intake = &Intake{}
		if err := decodeStrict(&n, c.Intake); err != nil {
			errs = append(errs, fmt.Errorf("intake: %w", err))
		} else {
			errs = append(errs, c.Intake.fromEnv(lookup))
		}
	}
	if n, ok := nodes[keyApprovals]; ok {
		c.Approvals = &Approvals{}
		if err := decodeStrict(&n, c.Approvals); err != nil {
			errs = append(errs, fmt.Errorf("approvals: %w", err))
		} else {
			c.Approvals.fill()
		}
	}
	if n, ok := nodes[keyEvidence]; ok {
		c.Evidence = &Evidence{}
		if err := decodeStrict(&n, c.Evidence); err != nil {
			errs = append(errs, fmt.Errorf("evidence: %w", err))
		} else {
			c.Evidence.fill()
		}
	}
	if n, ok := nodes[keyWatch]; ok {
		c.Watch = &Watch{}
		if err := decodeStrict(&n, c.Watch); err != nil {
			errs = append(errs, fmt.Errorf("watch: %w", err))
		} else {
			c.Watch.fill()
		}
	}
	if n, ok := nodes[keyBudgets]; ok {
		c.Budgets = &Budgets{}
		if err := decodeStrict(&n, c.Budgets); err != nil {
			errs = append(errs, fmt.Errorf("budgets: %w", err))
		} else {
			errs = append(errs, c.Budgets.check(vendors))
		}
	}
	for _, v := range vendors {
		sec := v.NewSection()
		n, inFile := nodes[v.Name]
		if inFile {
			if err := decodeStrict(&n, sec); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", v.Name, err))
				continue
			}
		}
		fromEnv, err := sec.FromEnv(lookup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if inFile || fromEnv {
			c.Systems = append(c.Systems, System{Vendor: v, Section: sec})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, c.wrap(err)
	}
	if c.Identity == "" {
		if i := slices.IndexFunc(c.Systems, func(s System) bool { return s.Vendor.Identity }); i >= 0 {
			c.Identity = c.Systems[i].Vendor.Name
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxFileSize bounds a config file.
const MaxFileSize = 1 << 20

// readFile reads a config file, refusing what is not a regular file (a
// device, a FIFO, a directory) or is larger than MaxFileSize.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("config %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("config %s is larger than %d KiB", path, MaxFileSize>>10)
	}
	return b, nil
}

// decodeStrict decodes a section, refusing keys its type does not have.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate checks what can be checked without calling a vendor.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range c.Systems {
		errs = append(errs, s.Section.Validate())
	}
	if c.Intake != nil {
		errs = append(errs, c.Intake.validate())
	}
	if c.Approvals != nil {
		errs = append(errs, c.Approvals.validate())
	}
	if c.Evidence != nil {
		errs = append(errs, c.Evidence.validate())
	}
	if c.Watch != nil {
		errs = append(errs, c.Watch.validate())
	}
	if c.Identity != "" {
		i := slices.IndexFunc(c.Systems, func(s System) bool { return s.Vendor.Name == c.Identity })
		switch {
		case i < 0:
			errs = append(errs, fmt.Errorf("identity %s is not configured: add a %s section", c.Identity, c.Identity))
		case !c.Systems[i].Vendor.Identity:
			errs = append(errs, fmt.Errorf("identity %q: %s cannot be the identity system", c.Identity, c.Identity))
		}
	}
	return c.wrap(errors.Join(errs...))
}

func (c *Config) wrap(err error) error {
	if err == nil {
		return nil
	}
	where := ""
	if c.Path != "" {
		where = " (" + c.Path + ")"
	}
	return fmt.Errorf("config%s: %w", where, err)
}

// Empty reports whether no vendor system is configured.
func (c *Config) Empty() bool { return len(c.Systems) == 0 }

// ReadSecret fills s from the environment variable env (which wins; "" for
// none), else from file when s is empty, trimming surrounding white space.
// what names the secret in errors ("okta token").
func ReadSecret(s *Secret, file, env, what string, lookup connectors.Lookup) error {
	if env != "" {
		if v, ok := lookup(env); ok && v != "" {
			*s = Secret(v)
			return nil
		}
	}
	if *s != "" || file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s file: %w", what, err)
	}
	*s = Secret(bytes.TrimSpace(b))
	return nil
}

// AbsoluteURL reports whether raw is an absolute URL (a scheme and a host).
func AbsoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme != "" && u.Host != ""
}
