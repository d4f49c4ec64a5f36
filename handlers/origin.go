package handlers

import (
	"net"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/views"
)

// originMismatch compares the origin a browser used with PRIVILEGE_BASE_URL.
// The base URL is what Jira's OAuth callback and the approval links in Jira
// tasks point at, so an admin browsing from elsewhere is told what to set.
// It returns nil when they match.
func (h *handler) originMismatch(c echo.Context) *views.OriginMismatch {
	seen := normalOrigin(c.Scheme(), c.Request().Host)
	want := normalOrigin(h.cfg.BaseURL.Scheme, h.cfg.BaseURL.Host)
	if seen == want || c.Request().Host == "" {
		return nil
	}
	return &views.OriginMismatch{Seen: seen, BaseURL: h.cfg.BaseURL.String()}
}

// normalOrigin is scheme://host[:port] in lower case, without the scheme's
// default port.
func normalOrigin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host
}
