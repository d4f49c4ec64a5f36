package jira

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// OutboundConfig configures the HTTP client used for every call to Atlassian
// and to self-hosted Jira.
type OutboundConfig struct {
	// AllowCIDRs are extra networks Jira may live on (e.g. 127.0.0.0/8).
	// Link-local and metadata addresses stay refused even when listed.
	AllowCIDRs []netip.Prefix
	// RootCAs to trust; nil means the system roots (plus SSL_CERT_FILE,
	// Go's default behaviour).
	RootCAs *x509.CertPool
	// Timeout bounds a whole request; 0 means 30s. Calls also carry their own
	// per-call context deadline.
	Timeout time.Duration
}

const (
	defaultOutboundTimeout = 30 * time.Second
	maxRedirects           = 5
	// maxResponseBytes bounds every response body we read.
	maxResponseBytes = 10 << 20
)

// NewHTTPClient returns an http.Client whose dialer refuses forbidden
// addresses at connect time (see the policy in ssrf.go), that follows at most
// 5 redirects, never to plain http from https, and never forwards the
// Authorization header to another host.
//
// Environment proxies (HTTPS_PROXY) are deliberately not used: the address
// check would then only see the proxy's address, not Jira's.
func NewHTTPClient(cfg OutboundConfig) *http.Client {
	guard := newAddressGuard(cfg.AllowCIDRs)
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   guard.control,
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		// As many as the pacer lets be in flight to one site, so that a
		// burst's connections are reused rather than dialled (and, over
		// TLS, handshaken) again each time.
		MaxIdleConnsPerHost: MaxInFlight,
		IdleConnTimeout:     90 * time.Second,
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultOutboundTimeout
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}
}

var errRedirectDowngrade = errors.New("refusing to follow a redirect from https to http")

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := via[0]
	if first.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errRedirectDowngrade
	}
	if req.URL.Host != first.URL.Host {
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	return nil
}
