package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"privilege/handlers"
)

// serveOptions are the hooks `demo` and the tests use; serve works without them.
type serveOptions struct {
	rootCAs  *x509.CertPool    // extra roots for outbound TLS (demo simulator)
	onListen func(addr string) // called with the bound address
	onReady  func(s *server)   // called once the server is built (demo seeding)
	listener net.Listener      // already bound (demo binds first to print the real URL)
}

// serve runs the console, the syncer and the request lifecycle until ctx
// ends, then shuts down gracefully: HTTP first, then the workers, then the
// database.
func serve(ctx context.Context, cfg Config, stdout io.Writer, opts *serveOptions) error {
	if opts == nil {
		opts = &serveOptions{}
	}
	s, err := newServer(ctx, cfg, stdout, *opts)
	if err != nil {
		return err
	}
	defer s.Close()
	if opts.onReady != nil {
		opts.onReady(s)
	}
	stopWorkers := s.startWorkers(ctx)
	err = s.serveHTTP(ctx, opts.onListen)
	stopWorkers() // after the HTTP shutdown, before the database closes
	if err != nil {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// server is everything serve runs, built and not yet started: the listener,
// the app (database open and migrated, secrets resealed), the HTTP server,
// the Jira stack and the request lifecycle.
type server struct {
	log       *slog.Logger
	ln        net.Listener
	app       *app
	http      *http.Server
	jira      *jiraStack
	lifecycle *lifecycle
}

// newServer builds the server; Close releases what it opened.
func newServer(ctx context.Context, cfg Config, stdout io.Writer, opts serveOptions) (_ *server, err error) {
	tuneGC(cfg.GC)
	logger := newLogger(stdout, cfg.LogLevel)
	ln, err := listen(cfg.Addr, opts.listener)
	if err != nil {
		return nil, err
	}
	s := &server{log: logger, ln: ln}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	cfg = cfg.WithListenAddr(ln.Addr().String())
	if cfg.BaseURLDerived {
		logger.Info("PRIVILEGE_BASE_URL is not set: using the listen address; set it when people or Jira reach the console by another URL",
			"base_url", cfg.BaseURL.String())
	}
	if s.app, err = openApp(ctx, cfg, logger); err != nil {
		return nil, err
	}
	if _, err = s.app.resealSecrets(ctx); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.jira = newJiraStack(cfg, s.app, logger, reg, opts.rootCAs)
	s.lifecycle = newLifecycle(logger, s.app.store, lifecycleConfig{})
	logSignInConfig(logger, cfg)
	if s.http, err = s.newHTTPServer(reg, opts.rootCAs); err != nil {
		return nil, err
	}
	return s, nil
}

// listen binds cfg.Addr unless the caller already bound a listener.
func listen(addr string, bound net.Listener) (net.Listener, error) {
	if bound != nil {
		return bound, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// newHTTPServer wires the console's routes to the app and the Jira stack.
func (s *server) newHTTPServer(reg *prometheus.Registry, roots *x509.CertPool) (*http.Server, error) {
	cfg := s.app.cfg
	keys, err := sessionKeys(cfg.SecretKeys)
	if err != nil {
		return nil, err
	}
	e := handlers.NewServer(handlers.Config{
		BaseURL:            cfg.BaseURL,
		SessionKeys:        keys,
		SessionIdleTimeout: cfg.SessionIdle,
		TrustedProxies:     cfg.TrustedProxies,
		LocalLogin:         cfg.LocalLogin,
	}, handlers.Deps{
		Logger:  s.log,
		Store:   s.app.store,
		Metrics: reg,
		Ready:   s.ready,

		JiraOAuth:      s.jira.oauth,
		JiraClients:    s.jira.clients,
		PendingTimeout: cfg.PendingTimeout,
		SSO:            newSSOClient(cfg, roots),

		JiraDecisions:    s.jira.notices,
		JiraPollInterval: cfg.JiraPollInterval,
	})
	return &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}, nil
}

// Close closes the database and the listener (already closed after an HTTP
// shutdown, so its error says nothing).
func (s *server) Close() error {
	_ = s.ln.Close()
	if s.app == nil {
		return nil
	}
	return s.app.Close()
}

// startWorkers runs the syncer, the poller of decisions from Jira and the
// request lifecycle. They outlive ctx, so that HTTP can shut down first:
// the returned stop ends them and waits.
func (s *server) startWorkers(ctx context.Context) (stop func()) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){s.jira.syncer.Run, s.jira.poller.Run, s.lifecycle.Run} {
		wg.Go(func() { run(wctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// serveHTTP serves the console until ctx ends, then shuts HTTP down
// gracefully. onListen, when set, is called with the bound address first.
func (s *server) serveHTTP(ctx context.Context, onListen func(addr string)) error {
	s.log.Info("listening", "addr", s.ln.Addr().String(), "base_url", s.app.cfg.BaseURL.String(), "database", string(s.app.db.Dialect))
	if onListen != nil {
		onListen(s.ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// ready is the readiness check: database reachable, schema current and the
// syncer turning.
func (s *server) ready(ctx context.Context) error {
	a := s.app
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
	if !s.jira.syncer.HealthyWithin(3 * syncPollInterval) {
		return errors.New("the Jira syncer has not reported in time")
	}
	return nil
}
