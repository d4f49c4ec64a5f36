// Package handlers is Privilege's HTTP layer: the console pages, the JSON API
// and the operational endpoints, on Echo v4. NewServer is its only entry.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"privilege/jira"
	"privilege/models"
	"privilege/sso"
	"privilege/static"
)

// Config is the HTTP layer's configuration.
type Config struct {
	// BaseURL is PRIVILEGE_BASE_URL. When its scheme is https, cookies are
	// Secure and responses carry HSTS.
	BaseURL *url.URL
	// SessionKeys are gorilla/securecookie key pairs, flattened and newest
	// pair first: hash key (64 bytes), block key (32 bytes), older hash key,
	// older block key, … Cookies are written with the first pair and read
	// with any, so prepending a new pair rotates keys without signing
	// everyone out.
	SessionKeys [][]byte
	// SessionMaxAge bounds a signed-in session (default 12h).
	SessionMaxAge time.Duration
	// SessionIdleTimeout signs a session out after this long without a
	// request (default 30m).
	SessionIdleTimeout time.Duration
	// LoginConcurrency bounds the password checks running at once
	// (default: GOMAXPROCS, at least 2); LoginHashWait is how long a sign-in
	// waits for a turn before it is told to retry (default 5s). Failed
	// sign-ins themselves are throttled in the database (models.SignInPolicy).
	LoginConcurrency int
	LoginHashWait    time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	// Empty means the TCP peer is the client (XFF is ignored).
	TrustedProxies []netip.Prefix
	// BodyLimit caps request bodies (default "1M", Echo's syntax).
	BodyLimit string
	// Now is the clock of time-bound flows such as the OAuth state (default time.Now).
	Now func() time.Time
	// LocalLogin says who may sign in with a password (default all).
	LocalLogin LocalLogin
}

// Deps are the HTTP layer's collaborators. Later features add a field here
// (e.g. Jira clients) and a check in NewServer.
type Deps struct {
	Logger  *slog.Logger
	Store   *models.Store
	Metrics *prometheus.Registry
	// Ready reports readiness for /readyz: nil means ready.
	Ready func(ctx context.Context) error
	// JiraOAuth runs the Atlassian / Data Center consent flows.
	JiraOAuth *jira.OAuth
	// JiraClients calls Jira for the admin screens (projects, workflows).
	JiraClients *jira.Clients
	// PendingTimeout is how long a request may wait for a decision (default 24h).
	PendingTimeout time.Duration
	// SSO is the OpenID Connect relying party; nil without single sign-on.
	SSO *sso.Client
	// JiraDecisions counts webhook notices (decisions from Jira); nil counts nothing.
	JiraDecisions *jira.DecisionMetrics
	// JiraPollInterval is how often each Jira site is polled (shown on the integration page).
	JiraPollInterval time.Duration
}

const (
	defaultSessionMaxAge = 12 * time.Hour
	defaultSessionIdle   = 30 * time.Minute
	defaultBodyLimit     = "1M"
)

// handler carries the dependencies every route handler uses.
type handler struct {
	log      *slog.Logger
	store    *models.Store
	cfg      Config
	deps     Deps
	sessions *sessions.CookieStore
	hashGate *hashGate
	assetVer string
	secure   bool // base URL is https
	setUp    atomic.Bool
}

func newHandler(cfg Config, deps Deps) (*handler, error) {
	if deps.Store == nil {
		return nil, errors.New("handlers: Deps.Store is required")
	}
	if len(cfg.SessionKeys) == 0 {
		return nil, errors.New("handlers: Config.SessionKeys is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	if deps.Ready == nil {
		deps.Ready = deps.Store.Ping
	}
	if cfg.BaseURL == nil {
		cfg.BaseURL = &url.URL{Scheme: "http", Host: "localhost:8080"}
	}
	if cfg.SessionMaxAge <= 0 {
		cfg.SessionMaxAge = defaultSessionMaxAge
	}
	if cfg.SessionIdleTimeout <= 0 {
		cfg.SessionIdleTimeout = defaultSessionIdle
	}
	if cfg.LoginConcurrency <= 0 {
		cfg.LoginConcurrency = max(2, runtime.GOMAXPROCS(0))
	}
	if cfg.LoginHashWait <= 0 {
		cfg.LoginHashWait = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LocalLogin == "" {
		cfg.LocalLogin = LocalLoginAll
	}
	if !cfg.LocalLogin.Valid() {
		return nil, fmt.Errorf("handlers: Config.LocalLogin %q is not all, admins or off", cfg.LocalLogin)
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = defaultBodyLimit
	}
	ver, err := static.Version()
	if err != nil {
		return nil, fmt.Errorf("handlers: hash static assets: %w", err)
	}
	h := &handler{
		log: deps.Logger, store: deps.Store, cfg: cfg, deps: deps,
		hashGate: newHashGate(cfg.LoginConcurrency, cfg.LoginHashWait), assetVer: ver,
		secure: cfg.BaseURL.Scheme == "https",
	}
	h.sessions = newCookieStore(cfg, h.secure)
	return h, nil
}

// NewServer builds the console: middleware, error handling and every route.
// It panics only on programmer errors (a missing Store or session key), like
// regexp.MustCompile; main validates configuration before calling it.
func NewServer(cfg Config, deps Deps) *echo.Echo {
	h, err := newHandler(cfg, deps)
	if err != nil {
		panic(err)
	}
	return h.server()
}

// server builds the Echo instance of h.
func (h *handler) server() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(h.cfg.TrustedProxies)
	e.HTTPErrorHandler = h.handleError
	e.Server.ReadHeaderTimeout = 10 * time.Second

	metrics := newHTTPMetrics(h.deps.Metrics)
	e.Use(
		middleware.Recover(),
		middleware.RequestID(),
		metrics.middleware,
		h.requestLogger(),
		h.secureHeaders,
		middleware.BodyLimit(h.cfg.BodyLimit),
		h.loadSession,
		h.requireSetup,
		h.csrf,
	)
	addRoutes(e, h)
	return e
}

// ipExtractor never believes X-Forwarded-For unless the peer is a trusted
// proxy (GHSA-246p-cpwv-v3jq).
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(netipToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
