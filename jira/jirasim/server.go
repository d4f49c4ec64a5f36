package jirasim

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"privilege/internal/loopcert"
)

// Options configure a Sim. The zero value is usable.
type Options struct {
	// Now is the simulator's clock; nil means time.Now. A *Clock's Now method
	// is the usual choice in tests.
	Now func() time.Time

	// CloudClientID and CloudClientSecret identify the operator's single
	// Atlassian 3LO app. Empty values default to "privilege-demo-client" and
	// "privilege-demo-secret".
	CloudClientID, CloudClientSecret string
	// CloudRedirectURIs are the callback URLs registered on the app; the
	// authorize and token endpoints require an exact match.
	CloudRedirectURIs []string
	// CloudScopes are the scopes configured on the app (offline_access is
	// always allowed). nil means read:jira-work write:jira-work read:jira-user
	// manage:jira-webhook read:me offline_access.
	CloudScopes []string
	// CloudTLS serves the Cloud auth, gateway and site servers over HTTPS
	// (trusted by CertPool) instead of plain HTTP.
	CloudTLS bool

	// RefreshReuseLeeway is how long a rotated refresh token may still be
	// used (Cloud and DC). 0 means 10 minutes; negative means no leeway.
	RefreshReuseLeeway time.Duration

	// Logf, if set, receives one line per request and server errors.
	Logf func(format string, args ...any)
}

// Stats are request counters; see Sim.Stats.
type Stats struct {
	Requests       int // every request to any simulator server
	RateLimited    int // 429 responses sent (faults and the rate limiter)
	FaultsApplied  int // requests hit by an injected Fault
	IssuesCreated  int
	Comments       int // comments added (POST comment and transition update.comment)
	Transitions    int // successful transitions
	TokenExchanges int // successful authorization_code grants (Cloud and DC)
	TokenRefreshes int // successful refresh_token grants (Cloud and DC)
	// Paths counts REST requests by "METHOD /rest/..." (the gateway prefix
	// /ex/jira/{cloudId} and any DC context path are stripped).
	Paths map[string]int
	// IssueCalls counts REST requests per issue key: its create and every
	// call whose path names it (/issue/{key}/...), whatever the answer.
	// Searches are not counted against any issue.
	IssueCalls map[string]int
}

// Sim is the simulator. All methods are safe for concurrent use.
type Sim struct {
	opts   Options
	leeway time.Duration

	cert    tls.Certificate
	certPEM []byte
	pool    *x509.CertPool

	authSrv, apiSrv, siteSrv *httptest.Server
	adf                      *adfValidator

	mu             sync.Mutex // guards everything below and all instance state
	offset         time.Duration
	cloudRedirects []string
	cloudScopes    []string
	sites          []*Site
	cloudUsers     []*simUser // Atlassian accounts; the first is the consenting admin
	dcs            []*DataCenter
	tokens         tokenStore
	faults         []*Fault
	bucket         *bucket
	latency        time.Duration // SetLatency
	stats          Stats
}

// New starts a simulator with no sites and no Data Center instances.
func New(opts Options) *Sim {
	if opts.CloudClientID == "" {
		opts.CloudClientID = "privilege-demo-client"
	}
	if opts.CloudClientSecret == "" {
		opts.CloudClientSecret = "privilege-demo-secret"
	}
	s := &Sim{
		opts:           opts,
		leeway:         opts.RefreshReuseLeeway,
		cloudRedirects: append([]string(nil), opts.CloudRedirectURIs...),
		cloudScopes:    opts.CloudScopes,
		tokens:         newTokenStore(),
		stats:          Stats{Paths: map[string]int{}, IssueCalls: map[string]int{}},
		adf:            newADFValidator(),
		cloudUsers:     []*simUser{defaultCloudUser()},
	}
	if s.leeway == 0 {
		s.leeway = 10 * time.Minute
	}
	if s.cloudScopes == nil {
		s.cloudScopes = []string{"read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-webhook", "read:me", "offline_access"}
	}
	s.cert, s.certPEM = loopcert.New("Privilege Jira simulator")
	s.pool = x509.NewCertPool()
	s.pool.AppendCertsFromPEM(s.certPEM)

	s.authSrv = s.startServer(s.authRoutes(), opts.CloudTLS)
	s.apiSrv = s.startServer(s.gatewayRoutes(), opts.CloudTLS)
	s.siteSrv = s.startServer(http.HandlerFunc(s.serveSite), opts.CloudTLS)
	return s
}

// startServer starts a loopback server counting every request.
func (s *Sim) startServer(h http.Handler, useTLS bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(s.logRequests(h))
	srv.Config.ErrorLog = log.New(logWriter{s}, "jirasim: ", 0)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	if useTLS {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}

// Close shuts every simulator server down.
func (s *Sim) Close() {
	s.mu.Lock()
	dcs := append([]*DataCenter(nil), s.dcs...)
	s.mu.Unlock()
	for _, srv := range []*httptest.Server{s.authSrv, s.apiSrv, s.siteSrv} {
		srv.CloseClientConnections()
		srv.Close()
	}
	for _, d := range dcs {
		d.srv.CloseClientConnections()
		d.srv.Close()
	}
}

// AuthURL is the base of the Cloud authorization server (auth.atlassian.com):
// {AuthURL}/authorize and {AuthURL}/oauth/token.
func (s *Sim) AuthURL() string { return s.authSrv.URL }

// APIURL is the base of the Cloud API gateway (api.atlassian.com):
// {APIURL}/oauth/token/accessible-resources and {APIURL}/ex/jira/{cloudId}/rest/api/3/...
func (s *Sim) APIURL() string { return s.apiSrv.URL }

// CertPool trusts the simulator's TLS servers (DC always, Cloud with CloudTLS).
func (s *Sim) CertPool() *x509.CertPool { return s.pool.Clone() }

// CertPEM is the PEM-encoded self-signed certificate of the TLS servers.
func (s *Sim) CertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// Client returns an HTTP client that trusts CertPool and does not follow
// redirects (handy for driving the consent pages).
func (s *Sim) Client() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CloudClient returns the Cloud app's client id and secret.
func (s *Sim) CloudClient() (clientID, clientSecret string) {
	return s.opts.CloudClientID, s.opts.CloudClientSecret
}

// Advance moves the simulator's view of time forward by d, on top of
// Options.Now (which may itself be a *Clock).
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Now is the simulator's current time (Options.Now plus Advance offsets).
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// now must be called with s.mu held.
func (s *Sim) now() time.Time {
	base := time.Now
	if s.opts.Now != nil {
		base = s.opts.Now
	}
	return base().Add(s.offset)
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Paths = maps.Clone(s.stats.Paths)
	out.IssueCalls = maps.Clone(s.stats.IssueCalls)
	return out
}

func (s *Sim) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// logWriter sends http.Server error logs to Options.Logf.
type logWriter struct{ s *Sim }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// logRequests counts and optionally logs every request.
func (s *Sim) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.Requests++
		s.mu.Unlock()
		s.logf("jirasim: %s %s%s", r.Method, r.Host, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}

// Site is a Jira Cloud site reachable through the gateway at
// /ex/jira/{CloudID}. URL is its human URL, served by the simulator as
// {site server}/{name}: /browse/{key} renders the issue and /rest/* answers
// 401 to bearer tokens, as a real *.atlassian.net host does for 3LO tokens.
type Site struct {
	CloudID, Name, URL string
	AvatarURL          string
	inst               *instance
}

// AddCloudSite adds a Cloud site named name (e.g. "acme").
func (s *Sim) AddCloudSite(name string) *Site {
	id := uuid.NewString()
	site := &Site{
		CloudID:   id,
		Name:      name,
		URL:       s.siteSrv.URL + "/" + name,
		AvatarURL: "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
		inst:      newInstance(s, flavorCloud),
	}
	site.inst.selfBase = s.apiSrv.URL + "/ex/jira/" + id
	site.inst.browseBase = site.URL
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sites = append(s.sites, site)
	return site
}

// siteByID must be called with s.mu held.
func (s *Sim) siteByID(cloudID string) *Site {
	for _, site := range s.sites {
		if site.CloudID == cloudID {
			return site
		}
	}
	return nil
}

// siteByName must be called with s.mu held.
func (s *Sim) siteByName(name string) *Site {
	for _, site := range s.sites {
		if site.Name == name {
			return site
		}
	}
	return nil
}

// AddProject implements Instance.
func (site *Site) AddProject(key, name string, wf Workflow) *Project {
	return site.inst.AddProject(key, name, wf)
}

// Project implements Instance.
func (site *Site) Project(key string) *Project { return site.inst.Project(key) }

// Issues implements Instance.
func (site *Site) Issues() []Issue { return site.inst.Issues() }

// Issue implements Instance.
func (site *Site) Issue(key string) (Issue, bool) { return site.inst.Issue(key) }

// DeleteIssue implements Instance.
func (site *Site) DeleteIssue(key string) { site.inst.DeleteIssue(key) }

// SetSearchLag implements Instance.
func (site *Site) SetSearchLag(n int) { site.inst.SetSearchLag(n) }

// BrowseURL returns {URL}/browse/{key}.
func (site *Site) BrowseURL(key string) string { return site.URL + "/browse/" + key }
