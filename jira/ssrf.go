package jira

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// Outbound address policy
//
// Privilege connects to Atlassian (public addresses) and to self-hosted Jira
// Data Center instances, whose Base URL an admin types in. Self-hosted Jira
// usually lives on a private network, so private ranges (RFC 1918 10/8,
// 172.16/12, 192.168/16 and IPv6 unique-local fc00::/7) are ALLOWED: blocking
// them would break the main use case, and the Base URL is admin-only input.
//
// Refused, whatever the DNS name: loopback, unspecified, multicast, broadcast,
// documentation, benchmarking, CGNAT and other reserved ranges (the IANA
// special-purpose registries, via code.dny.dev/ssrf), unless the operator lists
// the network in OutboundConfig.AllowCIDRs (PRIVILEGE_OUTBOUND_ALLOW_CIDRS),
// e.g. 127.0.0.0/8 for a Jira on the same host.
//
// Never allowed, even when listed: link-local (169.254.0.0/16, fe80::/10),
// which holds the cloud metadata services (169.254.169.254, fd00:ec2::254 on
// AWS IPv6, fd20:ce::254 on Google Cloud IPv6), and the metadata addresses
// themselves. Their credentials must
// never be reachable from an admin-typed URL.
//
// The check runs in the dialer's Control hook, i.e. on the resolved IP at
// connect time: a DNS name that resolves (or re-binds) to a forbidden address
// is refused too, and so is every redirect hop.

// ForbiddenAddressError says which address was refused and why.
// errors.Is(err, ErrForbiddenAddress) is true for it.
type ForbiddenAddressError struct {
	Addr   netip.Addr
	Reason string
}

func (e *ForbiddenAddressError) Error() string {
	return fmt.Sprintf("refusing to connect to %s: %s", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrForbiddenAddress) true.
func (e *ForbiddenAddressError) Is(target error) bool { return target == ErrForbiddenAddress }

// neverAllowed are refused even when an operator lists them in AllowCIDRs.
var neverAllowedPrefixes = [...]string{
	"169.254.0.0/16",    // IPv4 link-local, incl. 169.254.169.254 metadata
	"fe80::/10",         // IPv6 link-local
	"fd00:ec2::254/128", // AWS metadata over IPv6
	"fd20:ce::254/128",  // GCP metadata over IPv6
}

// privatePrefixes are allowed by default: self-hosted Jira lives there.
var privatePrefixes = [...]string{
	"10.0.0.0/8",
	"172.16.0.0/12",
	"192.168.0.0/16",
	"fc00::/7",
}

// addressGuard decides which resolved addresses may be dialled.
type addressGuard struct {
	never    []netip.Prefix
	allowed  []netip.Prefix // operator allow-list, then private ranges
	reserved *ssrf.Guardian // IANA special-purpose ranges
}

func newAddressGuard(allowCIDRs []netip.Prefix) *addressGuard {
	g := &addressGuard{reserved: ssrf.New(ssrf.WithAnyPort())}
	for _, p := range neverAllowedPrefixes {
		g.never = append(g.never, netip.MustParsePrefix(p))
	}
	for _, p := range allowCIDRs {
		g.allowed = append(g.allowed, p.Masked())
	}
	for _, p := range privatePrefixes {
		g.allowed = append(g.allowed, netip.MustParsePrefix(p))
	}
	return g
}

// check returns a *ForbiddenAddressError when addr may not be dialled.
func (g *addressGuard) check(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return &ForbiddenAddressError{Addr: addr, Reason: "it is not a valid IP address"}
	}
	for _, p := range g.never {
		if p.Contains(addr) {
			return &ForbiddenAddressError{Addr: addr, Reason: "it is a link-local address, where cloud metadata services live; this is never allowed"}
		}
	}
	for _, p := range g.allowed {
		if p.Contains(addr) {
			return nil
		}
	}
	switch {
	case addr.IsLoopback():
		return &ForbiddenAddressError{Addr: addr, Reason: "it is a loopback address (this machine); an operator can allow it with PRIVILEGE_OUTBOUND_ALLOW_CIDRS"}
	case addr.IsUnspecified():
		return &ForbiddenAddressError{Addr: addr, Reason: "it is the unspecified address"}
	case addr.IsMulticast():
		return &ForbiddenAddressError{Addr: addr, Reason: "it is a multicast address"}
	}
	if err := g.reserved.SafeAddr(addr); err != nil {
		return &ForbiddenAddressError{Addr: addr, Reason: "it is a reserved, non-routable address; an operator can allow its network with PRIVILEGE_OUTBOUND_ALLOW_CIDRS"}
	}
	return nil
}

// control is a net.Dialer Control hook: address is the resolved "ip:port".
func (g *addressGuard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("refusing to connect over %s: %w", network, ErrForbiddenAddress)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: %w", address, ErrForbiddenAddress)
	}
	return g.check(ap.Addr())
}

// ValidateBaseURL checks and normalizes the Base URL an admin typed for a
// self-hosted Jira: https only, absolute, no user name or password, no query
// or fragment, no trailing slash. A pasted page address (…/secure/…,
// …/browse/KEY-1, …/projects/…, …/rest/…) is cut back to the Base URL.
// It does not resolve the host; the dialer checks addresses at connect time.
func ValidateBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("enter the Base URL of your Jira, for example https://jira.example.com")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return "", errors.New("the Base URL must not contain spaces")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the Base URL is not a valid web address")
	}
	switch {
	case u.Scheme == "" || u.Host == "" && u.Opaque != "":
		return "", errors.New("the Base URL must be a full address starting with https://")
	case !strings.EqualFold(u.Scheme, "https"):
		return "", errors.New("the Base URL must start with https:// (Jira's OAuth 2.0 requires HTTPS)")
	case u.Host == "" || u.Hostname() == "":
		return "", errors.New("the Base URL has no host name")
	case u.User != nil:
		return "", errors.New("the Base URL must not contain a user name or password")
	}
	if port := u.Port(); port != "" {
		if n, ok := parsePort(port); !ok || n == 0 {
			return "", errors.New("the Base URL has an invalid port")
		}
	}
	path, cut := trimPageSuffix(u.Path)
	if !cut && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		return "", errors.New("the Base URL must not contain a query (?…) or fragment (#…)")
	}
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(host, ":443")
	out := url.URL{Scheme: "https", Host: host, Path: strings.TrimRight(path, "/")}
	return out.String(), nil
}

func parsePort(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return n, true
}

// trimPageSuffix cuts a Jira page path from a pasted browser address,
// keeping any context path in front of it.
func trimPageSuffix(path string) (string, bool) {
	for _, marker := range []string{"/secure/", "/browse/", "/projects/", "/rest/", "/plugins/servlet/", "/issues/"} {
		if i := strings.Index(path+"/", marker); i >= 0 {
			return path[:i], true
		}
	}
	return path, false
}
