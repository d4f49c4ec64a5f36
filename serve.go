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
}

// serve runs the console and the syncer until ctx ends, then shuts down
// gracefully: HTTP first, then the workers, then the database.
func serve(ctx context.Context, cfg Config, stdout io.Writer, opts *serveOptions) error {
	if opts == nil {
		opts = &serveOptions{}
	}
	tuneGC(os.Getenv)
	logger := newLogger(stdout, cfg.LogLevel)
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
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
		BaseURL:        cfg.BaseURL,
		SessionKeys:    keys,
		TrustedProxies: cfg.TrustedProxies,
		LocalLogin:     cfg.LocalLogin,
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

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
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
		jc.syncer.Run(syncCtx)
		<-pollDone
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

// tuneGC sets GOGC to 200 unless the operator chose a value. The server keeps
// a small heap and allocates briskly (JSON, SQL rows, templates); at the
// default 100 a sync burst spent about 15 % of its CPU in the collector, and
// 200 bought about 10 % more throughput for a few more MB (make bench).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
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
