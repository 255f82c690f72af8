// Package devserver runs a Temporal server and its Web UI inside the
// offboard process, on a SQLite file, for `offboard dev` and the end-to-end
// tests. It follows the structure of the Temporal CLI's dev server.
package devserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	// Pin the SQLite driver the server was built with, as the Temporal CLI does.
	_ "modernc.org/sqlite"
)

// Options configure the embedded server. Zero values get the defaults noted.
type Options struct {
	// DBPath is the SQLite file; empty means in memory (tests).
	DBPath string
	// IP to bind; default 127.0.0.1. The dev server has no authentication.
	IP string
	// Port of the frontend; default 7233. -1 picks a free port.
	Port int
	// UIPort of the Web UI; 0 means no UI, -1 picks a free port.
	UIPort int
	// Namespace to create; required.
	Namespace string
	// SearchAttributes to register when the namespace is created.
	SearchAttributes map[string]enumspb.IndexedValueType
	// LogPath receives the server's own log (warn and above); empty discards it.
	LogPath string
}

// Server is a running embedded Temporal server.
type Server struct {
	srv      temporal.Server
	ui       *uiserver.Server
	uiProxy  *http.Server
	frontend string
	uiAddr   string
}

// Start starts the server (and UI) and returns once the frontend serves.
func Start(o Options) (*Server, error) {
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if ip := net.ParseIP(o.IP); ip == nil {
		return nil, fmt.Errorf("devserver: %q is not an IP address", o.IP)
	}
	if o.Port == 0 {
		o.Port = 7233
	}
	if o.Namespace == "" {
		return nil, errors.New("devserver: no namespace to create")
	}
	var err error
	if o.Port, err = claimPort(o.IP, o.Port, "Temporal frontend"); err != nil {
		return nil, err
	}
	if o.UIPort != 0 {
		if o.UIPort, err = claimPort(o.IP, o.UIPort, "Temporal Web UI"); err != nil {
			return nil, err
		}
	}

	sqlCfg, err := sqlConfig(o.DBPath)
	if err != nil {
		return nil, err
	}
	cfg, hosts, err := serverConfig(o, sqlCfg)
	if err != nil {
		return nil, err
	}
	ns, err := sqliteschema.NewNamespaceConfig(cfg.ClusterMetadata.CurrentClusterName, o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("devserver: create namespace: %w", err)
	}

	logger := log.Logger(log.NewNoopLogger())
	if o.LogPath != "" {
		logger = log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", OutputFile: o.LogPath}))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithCustomMetricsHandler(metrics.NoopMetricsHandler),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// New search attributes are visible at once (as in the Temporal CLI).
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      true,
			dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
			// Cases wait for days: the server keeps the state of the few
			// that are working in memory, not of every open one
			// (BenchmarkOpenCases measures it).
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): historyCache,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start: %w", err)
	}
	s := &Server{srv: srv, frontend: net.JoinHostPort(o.IP, strconv.Itoa(o.Port))}
	if o.UIPort != 0 {
		// The UI listens on a port of its own; the UI port is a proxy that
		// refuses Host headers that are not this loopback address.
		inner, err := FreePort(o.IP)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		s.uiAddr = net.JoinHostPort(o.IP, strconv.Itoa(o.UIPort))
		if err := s.proxyUI(net.JoinHostPort(o.IP, strconv.Itoa(inner))); err != nil {
			srv.Stop()
			return nil, err
		}
		s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
			Host:                o.IP,
			Port:                inner,
			TemporalGRPCAddress: s.frontend,
			EnableUI:            true,
			DefaultNamespace:    o.Namespace,
			PublicPath:          "",
			DisableNewsFetch:    true,
			HideLogs:            true,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			// Operators retry and skip through the CLI, which records who and why.
			WorkflowTerminateDisabled: true,
			WorkflowResetDisabled:     true,
		}))
		// Start blocks; a bind failure is fatal inside the UI server, which is
		// why the port was claimed above.
		go func() { _ = s.ui.Start() }()
	}
	return s, nil
}

// proxyUI serves the UI port: a reverse proxy to the UI at inner, behind
// LoopbackOnly.
func (s *Server) proxyUI(inner string) error {
	ln, err := net.Listen("tcp", s.uiAddr)
	if err != nil {
		return fmt.Errorf("Temporal Web UI port %s is already in use (or not allowed); stop what holds it or choose another port", s.uiAddr)
	}
	target := &url.URL{Scheme: "http", Host: inner}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	s.uiProxy = &http.Server{Handler: LoopbackOnly(s.uiAddr, proxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.uiProxy.Serve(ln) }()
	return nil
}

// FrontendAddr is the host:port clients dial.
func (s *Server) FrontendAddr() string { return s.frontend }

// UIAddr is the Web UI's host:port, or "" without a UI.
func (s *Server) UIAddr() string { return s.uiAddr }

// Stop stops the UI, then the server.
func (s *Server) Stop() error {
	if s.uiProxy != nil {
		_ = s.uiProxy.Close()
	}
	if s.ui != nil {
		s.ui.Stop()
	}
	return s.srv.Stop()
}

func sqlConfig(path string) (*config.SQL, error) {
	c := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      path,
	}
	if path == "" {
		c.ConnectAttributes["mode"] = "memory"
		c.ConnectAttributes["cache"] = "shared"
		c.DatabaseName = "offboard-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		return c, nil // the SQLite plugin sets up an in-memory schema itself
	}
	c.ConnectAttributes["mode"] = "rwc"
	c.ConnectAttributes["journal_mode"] = "wal"
	c.ConnectAttributes["synchronous"] = "normal"
	c.ConnectAttributes["busy_timeout"] = "5000"
	c.MaxConns = 2
	c.MaxIdleConns = 2
	if _, err := os.Stat(path); err == nil {
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("devserver: database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("devserver: database directory: %w", err)
	}
	if err := sqliteschema.SetupSchema(c); err != nil {
		return nil, fmt.Errorf("devserver: set up schema in %s: %w", path, err)
	}
	return c, nil
}

func serverConfig(o Options, sqlCfg *config.SQL) (*config.Config, map[primitives.ServiceName]static.Hosts, error) {
	const clusterName = "active"
	frontend := net.JoinHostPort(o.IP, strconv.Itoa(o.Port))
	services := map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		grpc := o.Port
		if name != primitives.FrontendService {
			p, err := FreePort(o.IP)
			if err != nil {
				return nil, nil, err
			}
			grpc = p
		}
		member, err := FreePort(o.IP)
		if err != nil {
			return nil, nil, err
		}
		services[string(name)] = config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: member, BindOnIP: o.IP}}
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(o.IP, strconv.Itoa(grpc)))
	}
	cfg := &config.Config{
		Global: config.Global{Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: o.IP}},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		// The server's internal clients need this; it panics without it.
		PublicClient: config.PublicClient{HostPort: frontend},
	}
	return cfg, hosts, nil
}

// claimPort checks that ip:port is free (or picks a free one for -1), so a
// busy port is a one-line error instead of a failure deep in the server.
func claimPort(ip string, port int, what string) (int, error) {
	if port == -1 {
		return FreePort(ip)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("%s port %s:%d is already in use (or not allowed); stop what holds it or choose another port", what, ip, port)
	}
	_ = ln.Close()
	// Not handed out by FreePort to another of the server's listeners.
	portsMu.Lock()
	portsGiven[port] = true
	portsMu.Unlock()
	return port, nil
}

// FreePort finds a port free on ip for the server to bind later. The
// server binds its ports itself, after FreePort has closed its check, so a
// port the kernel hands out for port 0 could be taken meanwhile by an
// outgoing connection or another listener; and the server, given a port it
// cannot bind, crashes the process. So the ports come from below the
// kernel's ephemeral range, which nothing takes unasked, and none is handed
// out twice in a process. Tests that start `offboard dev --port` take
// theirs from it too.
func FreePort(ip string) (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	lo := ephemeralLow()
	base := max(lo-portSpan, 1024)
	for range portSpan {
		p := base + rand.IntN(lo-base)
		if portsGiven[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = ln.Close()
		portsGiven[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("devserver: no free port on %s between %d and %d", ip, base, lo)
}

// portSpan is how many ports below the ephemeral range FreePort uses.
const portSpan = 8000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768 where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 1024+portSpan/2 {
				return n
			}
		}
	}
	return 32768
}

// historyCache is how many workflows' mutable state the history service
// keeps in memory (Temporal's default is 128,000).
const historyCache = 512
