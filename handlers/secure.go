package handlers

import (
	"net"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
)

// cspDirectives is the Content-Security-Policy of every answer. No inline
// scripts or styles exist anywhere; htmx runs with allowEval off.
//
// form-action 'self': Chrome also applies form-action to the redirects that
// follow a form POST. A flow that ends at another origin (the Jira
// "Continue" button sending the admin to auth.atlassian.com or a Data Center
// authorize URL) must either be a GET link to a local /…/start route that
// redirects (preferred: navigations are not subject to form-action), or call
// allowFormAction(c, origin) in its handler before rendering the page that
// holds the form.
const (
	cspBeforeFormAction = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	hstsValue           = "max-age=63072000; includeSubDomains"
)

// secureHeaders sets the security headers of every answer. Every answer
// but the static assets is no-store: signed-in pages and API answers hold
// personal data and must not stay in a shared computer's browser cache or a
// proxy (the assets set their own long-lived Cache-Control).
func (h *handler) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		if !strings.HasPrefix(c.Request().URL.Path, paths.StaticPrefix) {
			hd.Set("Cache-Control", "no-store")
		}
		hd.Set("Content-Security-Policy", cspBeforeFormAction)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.secure {
			hd.Set("Strict-Transport-Security", hstsValue)
		}
		return next(c)
	}
}

// allowFormAction widens form-action for this answer to extra origins
// ("https://auth.atlassian.com"). Call it in a handler before rendering.
func allowFormAction(c echo.Context, origins ...string) {
	csp := cspBeforeFormAction + " " + strings.Join(origins, " ")
	c.Response().Header().Set("Content-Security-Policy", csp)
}

func netipToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
