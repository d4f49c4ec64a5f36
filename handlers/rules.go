package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
)

// rule says who may call a route. Every route has exactly one, in the
// route table (routes.go); the zero value is invalid and denies everyone.
type rule int

const (
	ruleUnset      rule = iota // a forgotten rule: deny, and TestEveryRouteHasARule fails
	rulePublic                 // anyone (login page, health, static assets, OpenAPI)
	ruleSetupOnly              // only while no user exists (first-run setup)
	ruleSignedIn               // any signed-in user (session)
	ruleApprover               // approvers and admins (session)
	ruleAdmin                  // admins (session)
	ruleAPIAny                 // any bearer-token user
	ruleAPIAdmin               // bearer-token admins
	ruleAPIDecide              // bearer-token approvers and admins (deciding requests)
	ruleJiraSigned             // Jira's webhook deliveries: no session, the handler verifies the signature (webhooks.go)
)

func (r rule) String() string {
	switch r {
	case rulePublic:
		return "public"
	case ruleSetupOnly:
		return "setup-only"
	case ruleSignedIn:
		return "signed-in"
	case ruleApprover:
		return "approver+admin"
	case ruleAdmin:
		return "admin"
	case ruleAPIAny:
		return "api-any"
	case ruleAPIAdmin:
		return "api-admin"
	case ruleAPIDecide:
		return "api-approver+admin"
	case ruleJiraSigned:
		return "jira-signed"
	}
	return "unset"
}

// isAPI reports whether the rule authenticates with bearer tokens.
func (r rule) isAPI() bool { return r == ruleAPIAny || r == ruleAPIAdmin || r == ruleAPIDecide }

// allows reports whether a user with role may pass once authenticated.
func (r rule) allows(role models.Role) bool {
	switch r {
	case rulePublic, ruleSignedIn, ruleAPIAny:
		return true
	case ruleApprover, ruleAPIDecide:
		return role.CanApprove()
	case ruleAdmin, ruleAPIAdmin:
		return role == models.RoleAdmin
	}
	return false
}

// enforce returns the middleware that applies r before the handler.
func (h *handler) enforce(r rule) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(routeRuleKey, r)
			switch r {
			case rulePublic, ruleJiraSigned:
				return next(c)
			case ruleSetupOnly:
				if h.setUp.Load() {
					return c.Redirect(http.StatusSeeOther, paths.Login)
				}
				return next(c)
			case ruleSignedIn, ruleApprover, ruleAdmin:
				u := currentUser(c)
				if u == nil {
					return redirectToLogin(c)
				}
				if !r.allows(u.Role) {
					return newProblem(codeForbidden, "Your role does not allow this page or action. Ask an admin if you need it.")
				}
				return next(c)
			case ruleAPIAny, ruleAPIAdmin, ruleAPIDecide:
				u, err := h.authenticateBearer(c)
				if err != nil {
					return err
				}
				if !r.allows(u.Role) {
					return newProblem(codeForbidden, r.needsRole())
				}
				return next(c)
			}
			return newProblem(codeForbidden, "This route has no access rule.")
		}
	}
}

// redirectToLogin sends a signed-out browser to /login, remembering where
// it was going (GET only).
func redirectToLogin(c echo.Context) error {
	to := paths.Login
	if c.Request().Method == http.MethodGet && c.Request().URL.Path != paths.Home {
		to += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// safeNext keeps only local paths, so /login?next= is no open redirect.
// Browsers drop tabs and newlines from URLs and read a backslash as a slash,
// so "/\t/evil.example" would leave the site: any control character or
// backslash is refused.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return next
}

// isInfraPath: operational endpoints and assets, never logged, never gated.
func isInfraPath(p string) bool {
	return p == paths.Healthz || p == paths.Readyz || p == paths.Metrics || strings.HasPrefix(p, paths.StaticPrefix) || strings.HasPrefix(p, paths.WebhooksPrefix)
}

// requireSetup sends every page to /setup (and answers the API with 503)
// while no user exists. Once a user exists it never checks again.
func (h *handler) requireSetup(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if h.setUp.Load() || isInfraPath(p) {
			return next(c)
		}
		has, err := h.store.HasUsers(c.Request().Context())
		if err != nil {
			return err
		}
		if has {
			h.setUp.Store(true)
			return next(c)
		}
		switch {
		case isAPIPath(p):
			return problemFor(codeSetupRequired)
		case p == paths.Setup:
			return next(c)
		}
		return c.Redirect(http.StatusSeeOther, paths.Setup)
	}
}

// needsRole is the 403 message of an API rule the token's user fails.
func (r rule) needsRole() string {
	if r == ruleAPIDecide {
		return "This needs the approver or admin role."
	}
	return "This needs the admin role."
}
