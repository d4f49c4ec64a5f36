package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/static"
)

// route is one line of the route table.
type route struct {
	Method  string
	Path    string
	Name    string
	Rule    rule
	Handler echo.HandlerFunc
}

// routeTable is every route of the console, with who may call it.
//
// To add a screen: write its handler method in a file of its own (one file
// per resource), add its line here with a rule, and add its view in views/.
// An /api/v1 route must also be described in openapi.json
// (TestOpenAPIDescribesEveryRoute), and TestRoleMatrix exercises every line
// for every role, so a new line needs nothing else to be tested for access.
func (h *handler) routeTable() []route {
	return []route{
		// Operational and public.
		{http.MethodGet, "/healthz", "healthz", rulePublic, h.healthz},
		{http.MethodGet, "/readyz", "readyz", rulePublic, h.readyz},
		{http.MethodGet, "/metrics", "metrics", rulePublic, h.metrics()},
		{http.MethodGet, "/static/*", "static", rulePublic, serveStatic()},
		{http.MethodGet, "/login", "login", rulePublic, h.showLogin},
		{http.MethodPost, "/login", "login.submit", rulePublic, h.login},
		{http.MethodGet, "/auth/oidc/start", "oidc.start", rulePublic, h.startOIDC},
		{http.MethodGet, "/auth/oidc/callback", "oidc.callback", rulePublic, h.finishOIDC},
		{http.MethodGet, "/api/v1/openapi.json", "api.openapi", rulePublic, h.openAPI},
		// Jira's webhook deliveries: verified by signature, not by session (webhooks.go).
		{http.MethodPost, "/webhooks/jira/:token", "jira.webhook", ruleJiraSigned, h.receiveJiraWebhook},

		// First run.
		{http.MethodGet, "/setup", "setup", ruleSetupOnly, h.showSetup},
		{http.MethodPost, "/setup", "setup.submit", ruleSetupOnly, h.setup},

		// Any signed-in user.
		{http.MethodGet, "/", "home", ruleSignedIn, h.home},
		{http.MethodPost, "/logout", "logout", ruleSignedIn, h.logout},
		{http.MethodGet, "/requests", "requests", ruleSignedIn, h.showRequests},
		{http.MethodGet, "/requests/new", "requests.new", ruleSignedIn, h.showNewRequest},
		{http.MethodGet, "/requests/new/resources", "requests.new.resources", ruleSignedIn, h.showRequestResources},
		{http.MethodPost, "/requests", "requests.create", ruleSignedIn, h.createRequest},
		{http.MethodGet, "/account/password", "account.password", ruleSignedIn, h.showPassword},
		{http.MethodPost, "/account/password", "account.password.change", ruleSignedIn, h.changePassword},
		{http.MethodGet, "/requests/:id", "requests.show", ruleSignedIn, h.showRequest},
		{http.MethodGet, "/requests/:id/jira", "requests.jira", ruleSignedIn, h.showRequestJira},
		{http.MethodGet, "/requests/:id/cancel", "requests.cancel.confirm", ruleSignedIn, h.showCancelConfirm},
		{http.MethodPost, "/requests/:id/cancel", "requests.cancel", ruleSignedIn, h.cancelRequest},

		// Any signed-in user: their profile and Jira identity (profile.go).
		// The Jira hand-off and callback are shared with the admin's
		// connection, which the handlers keep to admins.
		{http.MethodGet, "/profile", "profile", ruleSignedIn, h.showProfile},
		{http.MethodPost, "/profile/jira/:id/link", "profile.jira.link", ruleSignedIn, h.startJiraLink},
		{http.MethodPost, "/profile/jira-links/:id/unlink", "profile.jira.unlink", ruleSignedIn, h.unlinkJira},
		{http.MethodGet, "/integrations/jira/authorize", "jira.authorize", ruleSignedIn, h.showJiraHandoff},
		{http.MethodGet, "/integrations/jira/callback", "jira.callback", ruleSignedIn, h.finishJiraConnect},

		// Approvers and admins: the queue's history and decisions.
		{http.MethodGet, "/requests/history", "requests.history", ruleApprover, h.showRequestHistory},
		{http.MethodPost, "/requests/:id/decide", "requests.decide", ruleApprover, h.decideRequest},

		// Admin: request actions.
		{http.MethodGet, "/requests/:id/revoke", "requests.revoke.confirm", ruleAdmin, h.showRevokeConfirm},
		{http.MethodPost, "/requests/:id/revoke", "requests.revoke", ruleAdmin, h.revokeRequest},
		{http.MethodPost, "/requests/:id/retry-sync", "requests.retry_sync", ruleAdmin, h.retryRequestSync},

		// Admin: integrations (Jira screens go here).
		{http.MethodGet, "/integrations", "integrations", ruleAdmin, h.showIntegrations},
		{http.MethodGet, "/integrations/jira/new", "jira.new", ruleAdmin, h.showJiraConnect},
		{http.MethodPost, "/integrations/jira", "jira.start", ruleAdmin, h.startJiraConnect},
		{http.MethodPost, "/integrations/jira/site", "jira.site", ruleAdmin, h.pickSite},
		{http.MethodGet, "/integrations/:id", "integration", ruleAdmin, h.showIntegration},
		{http.MethodPost, "/integrations/:id/reconnect", "integration.reconnect", ruleAdmin, h.startJiraReconnect},
		{http.MethodPost, "/integrations/:id/project-keys", "integration.project_keys", ruleAdmin, h.setProjectKeys},
		{http.MethodPost, "/integrations/:id/webhook-secret", "integration.webhook_secret", ruleAdmin, h.rotateWebhookSecret},
		{http.MethodPost, "/integrations/:id/projects/:key/decisions", "project.decisions", ruleAdmin, h.saveProjectDecisions},
		{http.MethodGet, "/integrations/:id/disconnect", "integration.disconnect.confirm", ruleAdmin, h.showDisconnect},
		{http.MethodPost, "/integrations/:id/disconnect", "integration.disconnect", ruleAdmin, h.disconnectIntegration},
		{http.MethodGet, "/integrations/:id/projects/:key", "project", ruleAdmin, h.showProject},
		{http.MethodPost, "/integrations/:id/projects/:key", "project.update", ruleAdmin, h.saveProject},
		{http.MethodGet, "/integrations/:id/projects/:key/unlink", "project.unlink.confirm", ruleAdmin, h.showUnlinkConfirm},
		{http.MethodPost, "/integrations/:id/projects/:key/unlink", "project.unlink", ruleAdmin, h.unlinkProject},
		{http.MethodPost, "/integrations/:id/projects/:key/preview", "project.preview", ruleAdmin, h.previewProject},

		// Admin: cloud accounts.
		{http.MethodGet, "/accounts", "accounts", ruleAdmin, h.showAccounts},
		{http.MethodGet, "/accounts/new", "accounts.new", ruleAdmin, h.showNewAccount},
		{http.MethodPost, "/accounts", "accounts.create", ruleAdmin, h.createAccount},
		{http.MethodGet, "/accounts/:id/edit", "accounts.edit", ruleAdmin, h.showEditAccount},
		{http.MethodPost, "/accounts/:id", "accounts.update", ruleAdmin, h.updateAccount},
		{http.MethodGet, "/accounts/:id/delete", "accounts.delete.confirm", ruleAdmin, h.showDeleteAccount},
		{http.MethodPost, "/accounts/:id/delete", "accounts.delete", ruleAdmin, h.deleteAccount},

		// Any signed-in user: their own API tokens (admins see and revoke everyone's).
		{http.MethodGet, "/tokens", "tokens", ruleSignedIn, h.showTokens},
		{http.MethodGet, "/tokens/new", "tokens.new", ruleSignedIn, h.showNewToken},
		{http.MethodPost, "/tokens", "tokens.create", ruleSignedIn, h.createToken},
		{http.MethodPost, "/tokens/:id/revoke", "tokens.revoke", ruleSignedIn, h.revokeToken},

		// Admin: users.
		{http.MethodGet, "/users", "users", ruleAdmin, h.showUsers},
		{http.MethodGet, "/users/new", "users.new", ruleAdmin, h.showNewUser},
		{http.MethodPost, "/users", "users.create", ruleAdmin, h.createUser},
		{http.MethodPost, "/users/:id/disable", "users.disable", ruleAdmin, h.disableUser},
		{http.MethodPost, "/users/:id/enable", "users.enable", ruleAdmin, h.enableUser},
		{http.MethodPost, "/users/:id/jira-links/:link/remove", "users.jira_link.remove", ruleAdmin, h.removeUserJiraLink},

		// Admin: audit log.
		{http.MethodGet, "/audit", "audit", ruleAdmin, h.showAudit},
		{http.MethodGet, "/audit.csv", "audit.export", ruleAdmin, h.exportAudit},

		// JSON API (bearer tokens only; no cookies, no CSRF).
		{http.MethodGet, "/api/v1/accounts", "api.accounts.list", ruleAPIAny, h.apiListAccounts},
		{http.MethodPost, "/api/v1/accounts", "api.accounts.create", ruleAPIAdmin, h.apiCreateAccount},
		{http.MethodPost, "/api/v1/requests", "api.requests.create", ruleAPIAny, h.apiCreateRequest},
		{http.MethodGet, "/api/v1/requests/:id", "api.requests.show", ruleAPIAny, h.apiGetRequest},
		{http.MethodPost, "/api/v1/requests/:id/approve", "api.requests.approve", ruleAPIDecide, h.apiApproveRequest},
		{http.MethodPost, "/api/v1/requests/:id/deny", "api.requests.deny", ruleAPIDecide, h.apiDenyRequest},
		{http.MethodPost, "/api/v1/requests/:id/cancel", "api.requests.cancel", ruleAPIAny, h.apiCancelRequest},
	}
}

// addRoutes registers the table, each route behind its rule.
func addRoutes(e *echo.Echo, h *handler) {
	for _, r := range h.routeTable() {
		e.Add(r.Method, r.Path, r.Handler, h.enforce(r.Rule)).Name = r.Name
	}
}

// serveStatic serves the embedded assets; URLs carry ?v=<content hash>, so
// they may be cached for a year.
func serveStatic() echo.HandlerFunc {
	files := echo.StaticDirectoryHandler(static.FS, false)
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return files(c)
	}
}
