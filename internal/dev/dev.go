// Package dev assembles the one-machine stack behind `offboard dev`: the
// embedded Temporal server and Web UI, the vendor emulators seeded with the
// demo org, the config that points offboard at them, and a worker. The
// end-to-end tests start the same stack.
package dev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/emulators/emu"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/intake"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/internal/devopts"
	"github.com/offboard/offboard/internal/devserver"
	"github.com/offboard/offboard/slackapp"
	"github.com/offboard/offboard/vendors"
	"github.com/offboard/offboard/worker"
	"github.com/offboard/offboard/workflows"
)

// Options configure a stack.
type Options struct {
	devopts.Options
	// Emulators are reused across restarts (tests); nil seeds new ones and
	// keeps their state in Dir between runs.
	Emulators *Emulators
	// Quiet discards the server log instead of writing Dir/temporal.log.
	Quiet bool
	// Approvals, when set, adjusts the demo approval policy before the
	// config is written (tests).
	Approvals func(*config.Approvals)
	// Evidence, when set, adjusts the evidence section (tests);
	// NoEvidence leaves it out.
	Evidence   func(*config.Evidence)
	NoEvidence bool
	// Watch, when set, adjusts the watch section (tests); NoWatch leaves
	// it out.
	Watch   func(*config.Watch)
	NoWatch bool
}

// Stack is a running dev stack.
type Stack struct {
	Server *devserver.Server
	Client client.Client
	Worker sdkworker.Worker
	Emu    *Emulators
	// URLs maps a system to its emulator's base URL.
	URLs   map[string]string
	Config *config.Config
	Path   string // the written config file
	// IntakeURL is the intake's base URL (`offboard serve` in the stack).
	IntakeURL string
	servers   []*http.Server
	ownsEmu   bool
	dir       string
	saving    map[string]*sync.Mutex // one per emulator: its saves in turn
}

// persisted serves an emulator and keeps it on disk as it goes, as the
// real vendors keep their state, so that a restarted stack (even after a
// kill -9) finds each vendor as offboard left it. After every request that
// may change the state (all but GET and HEAD, which the vendor APIs use
// only to read) the whole state is saved, before the answer goes out; every
// request is appended to the request log (JSON lines, as
// /_emulator/requests serves them).
func (s *Stack) persisted(e Named) http.Handler {
	mu := &sync.Mutex{}
	s.saving[e.Name] = mu
	logged := len(e.Emulator.Emulator().Requests()) // restored from disk
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		var out http.ResponseWriter = w
		rec := httptest.NewRecorder()
		if write {
			out = rec
		}
		e.Emulator.ServeHTTP(out, r)
		mu.Lock()
		var err error
		if write {
			err = s.saveOne(e)
		}
		var reqs []emu.Request
		reqs, logged = e.Emulator.Emulator().RequestsSince(logged)
		err = errors.Join(err, s.appendRequests(e.Name, reqs))
		mu.Unlock()
		if !write {
			return
		}
		if err != nil {
			http.Error(w, e.Name+" emulator: save state: "+err.Error(), http.StatusInternalServerError)
			return
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (s *Stack) requestsPath(name string) string {
	return filepath.Join(s.dir, "emulators", name+".requests.jsonl")
}

// appendRequests adds requests to an emulator's request log on disk.
func (s *Stack) appendRequests(name string, reqs []emu.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	path := s.requestsPath(name)
	if err := privateDir(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// loadRequests restores an emulator's request log from disk.
func (s *Stack) loadRequests(e Named) error {
	f, err := os.Open(s.requestsPath(e.Name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("emulator request log: %w", err)
	}
	defer f.Close()
	var reqs []emu.Request
	dec := json.NewDecoder(f)
	for {
		var r emu.Request
		// At the end, or at a last line cut short by a kill: keep what was
		// whole.
		if err := dec.Decode(&r); err != nil {
			break
		}
		reqs = append(reqs, r)
	}
	e.Emulator.Emulator().RestoreRequests(reqs)
	return nil
}

// privateDir makes dir, or makes an existing one, readable by its owner
// only.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// privateFile creates path (and its directory) readable by its owner only,
// or makes it so; "" is nothing.
func privateFile(path string) error {
	if path == "" {
		return nil
	}
	if err := privateDir(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(path, 0o600)
}

// privateSQLite makes a database and its -wal and -shm files, where they
// exist, readable by their owner only.
func privateSQLite(db string) error {
	if db == "" {
		return nil
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Start starts the stack. On error everything started is stopped.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	if o.Dir == "" {
		o.Dir = ".offboard"
	}
	if err := privateDir(o.Dir); err != nil {
		return nil, fmt.Errorf("dev directory: %w", err)
	}
	s := &Stack{dir: o.Dir, saving: map[string]*sync.Mutex{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	org, err := seed.Load(o.Seed)
	if err != nil {
		return nil, err
	}
	s.Emu, s.ownsEmu = o.Emulators, o.Emulators == nil
	if s.ownsEmu {
		s.Emu = NewEmulators(org)
		fresh, err := s.loadEmulatorState()
		if err != nil {
			return nil, err
		}
		// A new demo org: its scripted insider's last days happen now.
		now := time.Now()
		for _, e := range s.Emu.All() {
			if sc, ok := e.Emulator.(emu.Scenario); ok && fresh[e.Name] {
				if err := sc.DevScenario(now); err != nil {
					return nil, err
				}
			}
		}
	}
	s.URLs = map[string]string{}
	for _, e := range s.Emu.All() {
		var h http.Handler = e.Emulator
		if s.ownsEmu {
			h = s.persisted(e)
		}
		addr, err := s.serve(e.Name+" emulator", o.EmulatorPort(e.Name), h)
		if err != nil {
			return nil, err
		}
		s.URLs[e.Name] = "http://" + addr
	}

	logPath := filepath.Join(o.Dir, "temporal.log")
	if o.Quiet {
		logPath = ""
	}
	// Private from the start: the log made here, the database (and, with
	// the mode SQLite gives them from it, its -wal and -shm) under a umask
	// while the server creates them; older ones are made private too.
	if err := privateFile(logPath); err != nil {
		return nil, err
	}
	if o.DB != "" {
		if err := privateDir(filepath.Dir(o.DB)); err != nil {
			return nil, err
		}
	}
	old := syscall.Umask(0o077)
	// Before the server's own system workers make the process's cache.
	worker.LimitCache()
	s.Server, err = devserver.Start(devserver.Options{
		DBPath: o.DB, Port: o.Port, UIPort: o.UIPort,
		Namespace: workflows.Namespace, SearchAttributes: workflows.SearchAttributes(), LogPath: logPath,
	})
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	if err := privateSQLite(o.DB); err != nil {
		return nil, err
	}
	s.Client, err = client.DialContext(ctx, client.Options{
		HostPort:  s.Server.FrontendAddr(),
		Namespace: workflows.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to the embedded server: %w", err)
	}
	if err := worker.Bootstrap(ctx, s.Client, workflows.Namespace, slog.New(slog.DiscardHandler)); err != nil {
		return nil, err
	}

	// The intake: its port first, so dev.yaml can name it.
	intakeLn, err := s.listen("intake", o.IntakePort)
	if err != nil {
		return nil, err
	}
	s.IntakeURL = "http://" + intakeLn.Addr().String()
	in, hookSecret, err := s.intakeConfig(intakeLn.Addr().String())
	if err != nil {
		intakeLn.Close()
		return nil, err
	}
	// The chat emulator's buttons click through to the intake.
	var approvals *config.Approvals
	if chat := s.Emu.chat(); chat != nil {
		ui := ""
		if addr := s.Server.UIAddr(); addr != "" {
			ui = "http://" + addr
		}
		approvals = chat.DevChat(s.IntakeURL+intake.SlackPath, ui)
		if o.Approvals != nil {
			o.Approvals(approvals)
		}
	}
	ev, err := s.evidenceConfig()
	if err != nil {
		intakeLn.Close()
		return nil, err
	}
	if o.Evidence != nil {
		o.Evidence(ev)
	}
	if o.NoEvidence {
		ev = nil
	}
	wt := devWatch(approvals)
	if o.Watch != nil {
		o.Watch(wt)
	}
	if o.NoWatch {
		wt = nil
	}
	s.Path = filepath.Join(o.Dir, "dev.yaml")
	if err := s.Emu.writeConfig(s.Path, o.Dir, s.URLs, in, approvals, ev, wt); err != nil {
		intakeLn.Close()
		return nil, err
	}
	s.Config, err = config.Load(s.Path, func(string) (string, bool) { return "", false }, vendors.Connectors())
	if err != nil {
		return nil, err
	}
	acts, err := worker.Activities(ctx, s.Config)
	if err != nil {
		return nil, err
	}
	s.Worker = worker.New(s.Client, acts, worker.Options())
	if err := s.Worker.Start(); err != nil {
		intakeLn.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	worker.Warm(ctx, acts, slog.New(slog.DiscardHandler))
	app, err := slackapp.New(ctx, s.Config)
	if err != nil {
		intakeLn.Close()
		return nil, err
	}
	ih, err := intake.New(intake.Options{
		Cases: cases.New(s.Client), Config: s.Config.Intake, Identity: s.Config.Identity, Slack: app,
		Ready: func(ctx context.Context) error {
			_, err := s.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
	})
	if err != nil {
		intakeLn.Close()
		return nil, err
	}
	s.serveOn(intakeLn, ih)
	// The identity system's emulator delivers its events to the intake, as
	// Okta would once an admin adds the event hook.
	if es := s.Emu.identityEvents(); es != nil {
		if err := es.SetEventHook(s.IntakeURL+"/v1/okta/events", hookSecret, s.Config.Intake.OktaEventHook.Events); err != nil {
			return nil, fmt.Errorf("event hook: %w", err)
		}
	}
	return s, nil
}

// The dev watch's schedule: seconds and minutes where a deployment has
// minutes and days, so a person trying it sees rechecks and polls happen.
var (
	DevWatchPoll     = 10 * time.Second
	DevWatchRechecks = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
)

// devWatch is the dev watch section: 90 days, polled every DevWatchPoll,
// rechecked at DevWatchRechecks, paging the demo's approvers (its security
// team) for every alert when the demo has a chat app.
func devWatch(approvals *config.Approvals) *config.Watch {
	w := &config.Watch{Days: config.DefaultWatchDays, PollInterval: DevWatchPoll, Rechecks: slices.Clone(DevWatchRechecks)}
	if approvals != nil && len(approvals.Approvers) > 0 {
		w.Escalate = map[string][]string{"*": slices.Clone(approvals.Approvers)}
	}
	return w
}

// DevEvidenceAfter is how long after the cut the dev snapshot is taken.
const DevEvidenceAfter = time.Minute

// evidenceConfig is the dev evidence section: bundles under dir/evidence,
// signed with a key made once and kept private under dir/secrets.
func (s *Stack) evidenceConfig() (*config.Evidence, error) {
	key, err := filepath.Abs(filepath.Join(s.dir, "secrets", "evidence.key"))
	if err != nil {
		return nil, err
	}
	if err := privateDir(filepath.Dir(key)); err != nil {
		return nil, err
	}
	if _, err := evidence.LoadOrCreateKey(key); err != nil {
		return nil, fmt.Errorf("dev evidence key: %w", err)
	}
	dir, err := filepath.Abs(filepath.Join(s.dir, "evidence"))
	if err != nil {
		return nil, err
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	after := DevEvidenceAfter
	return &config.Evidence{Days: config.DefaultEvidenceDays, After: &after, KeyFile: key, Dir: dir}, nil
}

// intakeConfig is the dev intake: listening at addr, with an HR signing
// secret and an event hook secret kept under the dev directory, ignoring
// the identity emulator's own (offboard's) changes.
func (s *Stack) intakeConfig(addr string) (*config.Intake, string, error) {
	hrPath, _, err := keptSecret(s.dir, "hr-webhook", func() (string, error) {
		sec, err := webhook.GenerateSecret()
		return sec.Encode(), err
	})
	if err != nil {
		return nil, "", fmt.Errorf("dev HR secret: %w", err)
	}
	hookPath, hook, err := keptSecret(s.dir, "event-hook", func() (string, error) {
		b := make([]byte, 24)
		_, err := rand.Read(b)
		return "Bearer " + hex.EncodeToString(b), err
	})
	if err != nil {
		return nil, "", fmt.Errorf("dev event hook secret: %w", err)
	}
	reportPath, _, err := keptSecret(s.dir, "report-webhook", func() (string, error) {
		sec, err := webhook.GenerateSecret()
		return sec.Encode(), err
	})
	if err != nil {
		return nil, "", fmt.Errorf("dev report secret: %w", err)
	}
	in := &config.Intake{
		Listen:        addr,
		HR:            &config.HRIntake{SecretFile: hrPath},
		OktaEventHook: &config.OktaEventHook{SecretFile: hookPath, Events: config.DefaultOktaEvents},
		Reports:       &config.ReportsIntake{SecretFile: reportPath},
	}
	if es := s.Emu.identityEvents(); es != nil {
		in.OktaEventHook.IgnoreActors = es.OwnActors()
	}
	return in, hook, nil
}

func (s *Stack) serve(name string, port int, h http.Handler) (string, error) {
	ln, err := s.listen(name, port)
	if err != nil {
		return "", err
	}
	s.serveOn(ln, h)
	return ln.Addr().String(), nil
}

// listen claims a loopback port (0: a free one).
func (s *Stack) listen(name string, port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("%s port 127.0.0.1:%d is already in use (or not allowed); stop what holds it or choose another port", name, port)
	}
	return ln, nil
}

// serveOn serves h on ln, answering only to its own loopback Host.
func (s *Stack) serveOn(ln net.Listener, h http.Handler) {
	srv := &http.Server{Addr: ln.Addr().String(), Handler: devserver.LoopbackOnly(ln.Addr().String(), h), ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

func (s *Stack) statePath(name string) string {
	return filepath.Join(s.dir, "emulators", name+".json")
}

// loadEmulatorState restores what the emulators held when dev last stopped,
// so a resumed case finds the vendors as it left them.
// It reports which emulators had no state (a new demo org).
func (s *Stack) loadEmulatorState() (map[string]bool, error) {
	fresh := map[string]bool{}
	for _, e := range s.Emu.All() {
		f, err := os.Open(s.statePath(e.Name))
		if errors.Is(err, os.ErrNotExist) {
			fresh[e.Name] = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("emulator state: %w", err)
		}
		err = e.Emulator.LoadState(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("emulator state %s: %w (delete it to start from the demo org)", s.statePath(e.Name), err)
		}
		if err := s.loadRequests(e); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

func (s *Stack) saveEmulatorState() error {
	if !s.ownsEmu || s.Emu == nil {
		return nil
	}
	var errs []error
	for _, e := range s.Emu.All() {
		if mu := s.saving[e.Name]; mu != nil {
			mu.Lock()
			errs = append(errs, s.saveOne(e))
			mu.Unlock()
			continue
		}
		errs = append(errs, s.saveOne(e))
	}
	return errors.Join(errs...)
}

// saveOne writes one emulator's state through a temporary file, so a crash
// mid-write leaves the previous state.
func (s *Stack) saveOne(e Named) error {
	path := s.statePath(e.Name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := e.Emulator.SaveState(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// Stop stops the worker, the server and the emulators, saving emulator state.
func (s *Stack) Stop() error {
	if s.Worker != nil {
		s.Worker.Stop()
	}
	if s.Client != nil {
		s.Client.Close()
	}
	var errs []error
	if s.Server != nil {
		if err := s.Server.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("temporal server: %w", err))
		}
	}
	for _, srv := range s.servers {
		// Two seconds for answers under way; then whatever still talks (a
		// step's activity the worker's stop abandoned, retrying a vendor)
		// is cut off: the vendors' state is saved below either way.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := srv.Shutdown(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = srv.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop the server on %s: %w", srv.Addr, err))
		}
	}
	errs = append(errs, s.saveEmulatorState())
	return errors.Join(errs...)
}

// Run is `offboard dev`: start the stack, say where everything is, and run
// until ctx ends.
func Run(ctx context.Context, o devopts.Options, out io.Writer) error {
	LimitMemory()
	s, err := Start(ctx, Options{Options: o})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `offboard dev is running (Ctrl-C stops it; state is kept in %s).

  Temporal frontend  %s   namespace offboarding
  Temporal Web UI    http://%s/namespaces/offboarding/workflows
`, o.DB, s.Server.FrontendAddr(), s.Server.UIAddr())
	for _, e := range s.Emu.All() {
		fmt.Fprintf(out, "  %-18s %s   (state: %s/_emulator/state)\n", e.Name+" emulator", s.URLs[e.Name], s.URLs[e.Name])
	}
	fmt.Fprintf(out, "  %-18s %s/v1/hr/events   (Okta event hook: %s/v1/okta/events, Slack: %s%s)\n", "HR intake", s.IntakeURL, s.IntakeURL, s.IntakeURL, intake.SlackPath)
	fmt.Fprintf(out, `  Config             %s

Try, in another terminal:
  bin/offboard plan E1001
  bin/offboard terminate E1001 --reason "demo"
  bin/offboard status E1001
  bin/offboard hr send E1005 --type termination.scheduled --at "2030-01-04 17:00" --tz Europe/Berlin
`, s.Path)
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping...")
	if err := s.Stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Fprintln(out, "stopped; run `make run` again to resume open cases")
	return nil
}

// MemoryLimit is the soft memory limit `offboard dev` gives the Go runtime
// unless GOMEMLIMIT says otherwise. One process holds the Temporal server,
// the worker and five emulators; at a thousand open cases it holds about
// 400 MB with Go's default collector pacing and about 300 MB with this
// limit (BenchmarkOpenCases). It is a soft limit: past it the collector
// runs more often, nothing fails.
const MemoryLimit = 120 << 20

// LimitMemory sets MemoryLimit, unless GOMEMLIMIT is set.
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
