package handlers

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"
)

// csrf protects every state-changing browser route. Fetch metadata decides
// first: a cross-site post is refused, a same-origin one (which no other
// site can make a browser send) passes. Everything else (same-site, or a
// browser without fetch metadata) must send the session's token as the
// _csrf form field or the X-CSRF-Token header (htmx).
//
// The token lives in the signed and encrypted session cookie, not in a
// cookie of its own: an attacker who can set a cookie for the host (a
// sibling subdomain, a man in the middle on plain http) cannot pick the
// token a victim's session expects, as they could with a double-submit
// cookie. /api uses bearer tokens and no cookies, so it has no session here.
func (h *handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s := sessionOf(c)
		if s == nil {
			return next(c)
		}
		token := sessionCSRFToken(s)
		c.Set(ctxCSRF, token)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
		case "cross-site":
			return errCSRF
		case "same-origin":
			return next(c)
		}
		sent := c.Request().Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue(csrfField)
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

var errCSRF = newProblem(codeForbidden, "The form expired or came from another site. Reload the page and try again.")
