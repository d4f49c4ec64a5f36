package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"privilege/handlers"
)

// Config is the operator's configuration, read from the environment (design.md §5).
type Config struct {
	Addr               string
	BaseURL            *url.URL
	BaseURLDerived     bool // PRIVILEGE_BASE_URL unset: derived from Addr
	DataDir            string
	DatabaseURL        string
	SecretKeys         [][]byte // newest first; empty until resolveSecretKeys
	secretKeyFromEnv   bool
	AtlassianClientID  string
	AtlassianSecret    string
	AtlassianAuthURL   string
	AtlassianAPIURL    string
	OutboundAllowCIDRs []netip.Prefix
	TrustedProxies     []netip.Prefix
	PendingTimeout     time.Duration
	SessionIdle        time.Duration // PRIVILEGE_SESSION_IDLE_TIMEOUT
	RequestsPerHour    int           // PRIVILEGE_REQUEST_RATE_LIMIT; 0 = no limit
	JiraRateLimit      float64       // calls per second per Jira site; 0 = only Retry-After pacing
	JiraPollInterval   time.Duration // decisions from Jira: how often each site is searched
	LogLevel           slog.Level
	OIDC               OIDCConfig // single sign-on (sso_config.go)
	LocalLogin         handlers.LocalLogin
	GC                 GCConfig // GOGC, GOMEMLIMIT and the container's memory limit (serve)
}

// SQLitePath is the database file used when no DATABASE_URL is set.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "privilege.db") }

// loadConfig reads every variable and reports all problems at once.
func loadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:              get("PRIVILEGE_ADDR", ":8080"),
		DataDir:           get("PRIVILEGE_DATA_DIR", "./data"),
		DatabaseURL:       get("PRIVILEGE_DATABASE_URL", ""),
		AtlassianClientID: get("PRIVILEGE_ATLASSIAN_CLIENT_ID", ""),
		AtlassianSecret:   get("PRIVILEGE_ATLASSIAN_CLIENT_SECRET", ""),
	}
	if raw := get("PRIVILEGE_BASE_URL", ""); raw != "" {
		c.BaseURL = parseAbsURL("PRIVILEGE_BASE_URL", raw, &errs)
	} else if u, err := baseURLFromAddr(c.Addr); err != nil {
		errs = append(errs, err)
	} else {
		c.BaseURL, c.BaseURLDerived = u, true
	}
	if u := parseAbsURL("PRIVILEGE_ATLASSIAN_AUTH_URL", get("PRIVILEGE_ATLASSIAN_AUTH_URL", "https://auth.atlassian.com"), &errs); u != nil {
		c.AtlassianAuthURL = strings.TrimRight(u.String(), "/")
	}
	if u := parseAbsURL("PRIVILEGE_ATLASSIAN_API_URL", get("PRIVILEGE_ATLASSIAN_API_URL", "https://api.atlassian.com"), &errs); u != nil {
		c.AtlassianAPIURL = strings.TrimRight(u.String(), "/")
	}
	if (c.AtlassianClientID == "") != (c.AtlassianSecret == "") {
		errs = append(errs, errors.New("PRIVILEGE_ATLASSIAN_CLIENT_ID and PRIVILEGE_ATLASSIAN_CLIENT_SECRET must be set together"))
	}
	if d := c.DatabaseURL; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		errs = append(errs, errors.New("PRIVILEGE_DATABASE_URL must be a postgres:// URL (leave it empty for SQLite in the data dir)"))
	}
	c.OutboundAllowCIDRs = parseCIDRs("PRIVILEGE_OUTBOUND_ALLOW_CIDRS", getenv("PRIVILEGE_OUTBOUND_ALLOW_CIDRS"), &errs)
	c.TrustedProxies = parseCIDRs("PRIVILEGE_TRUSTED_PROXIES", getenv("PRIVILEGE_TRUSTED_PROXIES"), &errs)
	for _, p := range c.OutboundAllowCIDRs {
		if p.Addr().IsLinkLocalUnicast() || netip.MustParsePrefix("169.254.0.0/16").Overlaps(p) {
			errs = append(errs, fmt.Errorf("PRIVILEGE_OUTBOUND_ALLOW_CIDRS: %s covers link-local/metadata addresses, which are never allowed", p))
		}
	}
	pt, err := time.ParseDuration(get("PRIVILEGE_PENDING_TIMEOUT", "24h"))
	if err != nil || pt < time.Minute {
		errs = append(errs, errors.New("PRIVILEGE_PENDING_TIMEOUT must be a duration of at least 1m, like 24h"))
	}
	c.PendingTimeout = pt
	idle, err := time.ParseDuration(get("PRIVILEGE_SESSION_IDLE_TIMEOUT", "30m"))
	if err != nil || idle < time.Minute || idle > 12*time.Hour {
		errs = append(errs, errors.New("PRIVILEGE_SESSION_IDLE_TIMEOUT must be a duration between 1m and 12h (the absolute session limit), like 30m"))
	}
	c.SessionIdle = idle
	if n, err := strconv.Atoi(get("PRIVILEGE_REQUEST_RATE_LIMIT", "30")); err != nil || n < 0 {
		errs = append(errs, errors.New("PRIVILEGE_REQUEST_RATE_LIMIT must be a whole number of requests per user per hour (0 = no limit)"))
	} else {
		c.RequestsPerHour = n
	}
	if rl, err := strconv.ParseFloat(get("PRIVILEGE_JIRA_RATE_LIMIT", "50"), 64); err != nil || rl < 0 {
		errs = append(errs, errors.New("PRIVILEGE_JIRA_RATE_LIMIT must be a number of calls per second (0 = no pacing)"))
	} else {
		c.JiraRateLimit = rl
	}
	if pi, err := time.ParseDuration(get("PRIVILEGE_JIRA_POLL_INTERVAL", "1m")); err != nil || pi < 5*time.Second {
		errs = append(errs, errors.New("PRIVILEGE_JIRA_POLL_INTERVAL must be a duration of at least 5s, like 1m"))
	} else {
		c.JiraPollInterval = pi
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("PRIVILEGE_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, errors.New("PRIVILEGE_LOG_LEVEL must be debug, info, warn or error"))
	}
	if raw := getenv("PRIVILEGE_SECRET_KEY"); strings.TrimSpace(raw) != "" {
		for i, k := range strings.Split(raw, ",") {
			k = strings.TrimSpace(k)
			if len(k) < 32 {
				errs = append(errs, fmt.Errorf("PRIVILEGE_SECRET_KEY: key %d is shorter than 32 characters", i+1))
				continue
			}
			c.SecretKeys = append(c.SecretKeys, []byte(k))
		}
		c.secretKeyFromEnv = true
	}
	c.OIDC, c.LocalLogin = loadOIDCConfig(getenv, &errs)
	c.GC.Percent, c.GC.MemoryLimit = gcSettings(getenv, cgroupMemoryMax)
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  - %w", errors.Join(errs...))
	}
	return c, nil
}

// baseURLFromAddr is the console's URL when PRIVILEGE_BASE_URL is unset: the
// listen address, with a wildcard or missing host read as localhost
// (":8080" → http://localhost:8080, "127.0.0.1:8099" → http://127.0.0.1:8099).
// Port 0 stays 0 until the listener is bound (see Config.WithListenAddr).
func baseURLFromAddr(addr string) (*url.URL, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("PRIVILEGE_ADDR must be host:port or :port, got %q", addr)
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}

// WithListenAddr fixes a derived base URL once the listener is bound (it
// knows the port an ":0" address got). A configured base URL is kept.
func (c Config) WithListenAddr(bound string) Config {
	if !c.BaseURLDerived {
		return c
	}
	_, port, err := net.SplitHostPort(bound)
	if err != nil {
		return c
	}
	host := c.BaseURL.Hostname()
	u := *c.BaseURL
	u.Host = net.JoinHostPort(host, port)
	c.BaseURL = &u
	return c
}

func parseAbsURL(name, raw string, errs *[]error) *url.URL {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		*errs = append(*errs, fmt.Errorf("%s must be an absolute http(s) URL without credentials, got %q", name, raw))
		return nil
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u
}

func parseCIDRs(name, raw string, errs *[]error) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %q is not a CIDR like 10.0.0.0/8", name, f))
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

// resolveSecretKeys loads the generated key from the data dir, creating it
// (mode 0600) on first start, unless PRIVILEGE_SECRET_KEY was given.
func (c *Config) resolveSecretKeys() (generated bool, err error) {
	if c.secretKeyFromEnv {
		return false, nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k := strings.TrimSpace(string(b))
		if len(k) < 32 {
			return false, fmt.Errorf("secret key file %s is too short; delete it to generate a new one (sessions and stored Jira tokens become unreadable)", path)
		}
		c.SecretKeys = [][]byte{[]byte(k)}
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read secret key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("create data dir: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return false, err
	}
	k := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process won the race: use its key
		return c.resolveSecretKeys()
	}
	if err != nil {
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		f.Close()
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write secret key: %w", err)
	}
	c.SecretKeys = [][]byte{[]byte(k)}
	return true, nil
}

// tuneGC sets GOGC to 200 unless the operator chose a value, and a soft
// memory limit unless GOMEMLIMIT is set (the runtime reads that itself), as
// loadConfig decided from the environment (gcSettings).
// The server keeps a small heap and allocates briskly (JSON, SQL rows,
// templates); at the default 100 a sync burst spent about 15 % of its CPU in
// the collector, and 200 bought about 10 % more throughput (make bench). The
// soft limit keeps that headroom from growing the footprint: the collector
// runs more often only when the process nears it.
func tuneGC(gc GCConfig) {
	if gc.Percent > 0 {
		debug.SetGCPercent(gc.Percent)
	}
	if gc.MemoryLimit > 0 {
		debug.SetMemoryLimit(gc.MemoryLimit)
	}
}

// GCConfig is what serve sets in the Go runtime (0: leave the runtime's).
type GCConfig struct {
	Percent     int   // GOGC unset: 200
	MemoryLimit int64 // GOMEMLIMIT unset: defaultMemoryLimit or ¾ of a smaller container limit
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
