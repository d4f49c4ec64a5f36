package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"privilege/handlers"
)

// serveOptions are the hooks `demo` and the tests use; serve works without them.
type serveOptions struct {
	rootCAs  *x509.CertPool    // extra roots for outbound TLS (demo simulator)
	onListen func(addr string) // called with the bound address
	onReady  func(a *app)      // called once the app is open (demo seeding)
	syncGate <-chan struct{}   // when set, the syncer starts once it is closed (make bench)
	listener net.Listener      // already bound (demo binds first to print the real URL)
}

// serve runs the console and the syncer until ctx ends, then shuts down
// gracefully: HTTP first, then the workers, then the database.
func serve(ctx context.Context, cfg Config, stdout io.Writer, opts *serveOptions) error {
	if opts == nil {
		opts = &serveOptions{}
	}
	tuneGC(os.Getenv)
	logger := newLogger(stdout, cfg.LogLevel)
	ln := opts.listener
	if ln == nil {
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		ln = l
	}
	defer ln.Close()
	cfg = cfg.WithListenAddr(ln.Addr().String())
	if cfg.BaseURLDerived {
		logger.Info("PRIVILEGE_BASE_URL is not set: using the listen address; set it when people or Jira reach the console by another URL",
			"base_url", cfg.BaseURL.String())
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.resealSecrets(ctx); err != nil {
		return err
	}
	if opts.onReady != nil {
		opts.onReady(a)
	}
	keys, err := sessionKeys(a.cfg.SecretKeys)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	jc := newJiraStack(cfg, a, logger, reg, opts.rootCAs)
	a.syncer, a.poller = jc.syncer, jc.poller
	logSignInConfig(logger, cfg)

	e := handlers.NewServer(handlers.Config{
		BaseURL:            cfg.BaseURL,
		SessionKeys:        keys,
		SessionIdleTimeout: cfg.SessionIdle,
		TrustedProxies:     cfg.TrustedProxies,
		LocalLogin:         cfg.LocalLogin,
	}, handlers.Deps{
		Logger:  logger,
		Store:   a.store,
		Metrics: reg,
		Ready:   a.ready,

		JiraOAuth:      jc.oauth,
		JiraClients:    jc.clients,
		PendingTimeout: cfg.PendingTimeout,
		SSO:            newSSOClient(cfg, opts.rootCAs),

		JiraDecisions:    jc.notices,
		JiraPollInterval: cfg.JiraPollInterval,
	})

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	logger.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "database", string(a.db.Dialect))
	if opts.onListen != nil {
		opts.onListen(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	syncCtx, stopSync := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSync()
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		if opts.syncGate != nil {
			select {
			case <-opts.syncGate:
			case <-syncCtx.Done():
				return
			}
		}
		pollDone := make(chan struct{}) // decisions from Jira; stops with the syncer
		go func() {
			defer close(pollDone)
			jc.poller.Run(syncCtx)
		}()
		lifeDone := make(chan struct{}) // expiry; stops with the syncer
		go func() {
			defer close(lifeDone)
			newLifecycle(logger, a.store, lifecycleConfig{}).Run(syncCtx)
		}()
		jc.syncer.Run(syncCtx)
		<-pollDone
		<-lifeDone
	}()

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			stopSync()
			<-syncDone // the database closes after the syncer stops
			return fmt.Errorf("http server: %w", err)
		}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopSync()
	<-syncDone
	if err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// tuneGC sets GOGC to 200 unless the operator chose a value, and a soft
// memory limit unless GOMEMLIMIT is set (the runtime reads that itself).
// The server keeps a small heap and allocates briskly (JSON, SQL rows,
// templates); at the default 100 a sync burst spent about 15 % of its CPU in
// the collector, and 200 bought about 10 % more throughput (make bench). The
// soft limit keeps that headroom from growing the footprint: the collector
// runs more often only when the process nears it.
func tuneGC(getenv func(string) string) {
	gogc, limit := gcSettings(getenv, cgroupMemoryMax)
	if gogc > 0 {
		debug.SetGCPercent(gogc)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}

// defaultMemoryLimit is the soft limit of the Go runtime's memory when
// neither GOMEMLIMIT nor a smaller container limit says otherwise: a burst
// of 400 requests peaks well below it (make bench prints the peak RSS).
const defaultMemoryLimit = 48 << 20

// gcSettings decides the GC percent and soft memory limit to set (0: leave
// the runtime's). Under a cgroup memory limit smaller than the default, the
// soft limit is three quarters of it, leaving room for memory outside the Go
// heap (the SQLite page cache, thread stacks).
func gcSettings(getenv func(string) string, containerMax func() (int64, bool)) (gogc int, memLimit int64) {
	if getenv("GOGC") == "" {
		gogc = 200
	}
	if getenv("GOMEMLIMIT") == "" {
		memLimit = defaultMemoryLimit
		if max, ok := containerMax(); ok && max*3/4 < memLimit {
			memLimit = max * 3 / 4
		}
	}
	return gogc, memLimit
}

// cgroupMemoryMax reads the cgroup v2 memory limit of this process's
// container ("max" or no cgroup v2: none).
func cgroupMemoryMax() (int64, bool) {
	raw, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return n, err == nil && n > 0
}

// ready is the readiness check: database reachable and schema current.
func (a *app) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// /readyz is public: the reason names the problem, the log has the detail.
	if err := a.store.Ping(ctx); err != nil {
		a.log.Error("readiness: database unreachable", "err", err)
		return errors.New("database unreachable")
	}
	ok, err := a.db.MigrationsCurrent(ctx)
	if err != nil {
		a.log.Error("readiness: schema version unreadable", "err", err)
		return errors.New("database schema version unreadable")
	}
	if !ok {
		return errors.New("database schema is behind this binary; run privilege migrate")
	}
	if a.syncer != nil && !a.syncer.HealthyWithin(3*syncPollInterval) {
		return errors.New("the Jira syncer has not reported in time")
	}
	return nil
}
