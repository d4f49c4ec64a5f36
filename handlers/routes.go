package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/static"
)

// route is one line of the route table.
type route struct {
	Method  string
	Path    string
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
		{http.MethodGet, paths.Healthz, rulePublic, h.healthz},
		{http.MethodGet, paths.Readyz, rulePublic, h.readyz},
		{http.MethodGet, paths.Metrics, rulePublic, h.metrics()},
		{http.MethodGet, paths.StaticFiles, rulePublic, serveStatic()},
		{http.MethodGet, paths.Login, rulePublic, h.showLogin},
		{http.MethodPost, paths.Login, rulePublic, h.login},
		{http.MethodGet, paths.OIDCStart, rulePublic, h.startOIDC},
		{http.MethodGet, paths.OIDCCallback, rulePublic, h.finishOIDC},
		{http.MethodGet, paths.OpenAPI, rulePublic, h.openAPI},
		// Jira's webhook deliveries: verified by signature, not by session (webhooks.go).
		{http.MethodPost, paths.JiraWebhookPattern, ruleJiraSigned, h.receiveJiraWebhook},

		// First run.
		{http.MethodGet, paths.Setup, ruleSetupOnly, h.showSetup},
		{http.MethodPost, paths.Setup, ruleSetupOnly, h.setup},

		// Any signed-in user.
		{http.MethodGet, paths.Home, ruleSignedIn, h.home},
		{http.MethodPost, paths.Logout, ruleSignedIn, h.logout},
		{http.MethodGet, paths.Requests, ruleSignedIn, h.showRequests},
		{http.MethodGet, paths.NewRequest, ruleSignedIn, h.showNewRequest},
		{http.MethodGet, paths.NewRequestResources, ruleSignedIn, h.showRequestResources},
		{http.MethodPost, paths.Requests, ruleSignedIn, h.createRequest},
		{http.MethodGet, paths.Password, ruleSignedIn, h.showPassword},
		{http.MethodPost, paths.Password, ruleSignedIn, h.changePassword},
		{http.MethodGet, paths.RequestPattern, ruleSignedIn, h.showRequest},
		{http.MethodGet, paths.RequestJiraPattern, ruleSignedIn, h.showRequestJira},
		{http.MethodGet, paths.RequestCancelPattern, ruleSignedIn, h.showCancelConfirm},
		{http.MethodPost, paths.RequestCancelPattern, ruleSignedIn, h.cancelRequest},

		// Any signed-in user: their profile and Jira identity (profile.go).
		// The Jira hand-off and callback are shared with the admin's
		// connection, which the handlers keep to admins.
		{http.MethodGet, paths.Profile, ruleSignedIn, h.showProfile},
		{http.MethodPost, paths.ProfileJiraLinkPattern, ruleSignedIn, h.startJiraLink},
		{http.MethodPost, paths.ProfileJiraUnlinkPattern, ruleSignedIn, h.unlinkJira},
		{http.MethodGet, paths.JiraAuthorize, ruleSignedIn, h.showJiraHandoff},
		{http.MethodGet, paths.JiraCallback, ruleSignedIn, h.finishJiraConnect},

		// Approvers and admins: the queue's history and decisions.
		{http.MethodGet, paths.RequestHistory, ruleApprover, h.showRequestHistory},
		{http.MethodPost, paths.RequestDecidePattern, ruleApprover, h.decideRequest},

		// Admin: request actions.
		{http.MethodGet, paths.RequestRevokePattern, ruleAdmin, h.showRevokeConfirm},
		{http.MethodPost, paths.RequestRevokePattern, ruleAdmin, h.revokeRequest},
		{http.MethodPost, paths.RequestRetrySyncPattern, ruleAdmin, h.retryRequestSync},

		// Admin: integrations (Jira screens go here).
		{http.MethodGet, paths.Integrations, ruleAdmin, h.showIntegrations},
		{http.MethodGet, paths.JiraNew, ruleAdmin, h.showJiraConnect},
		{http.MethodPost, paths.JiraConnect, ruleAdmin, h.startJiraConnect},
		{http.MethodPost, paths.JiraSite, ruleAdmin, h.pickSite},
		{http.MethodGet, paths.IntegrationPattern, ruleAdmin, h.showIntegration},
		{http.MethodPost, paths.IntegrationReconnectPattern, ruleAdmin, h.startJiraReconnect},
		{http.MethodPost, paths.IntegrationProjectKeysPattern, ruleAdmin, h.setProjectKeys},
		{http.MethodPost, paths.IntegrationWebhookSecretPattern, ruleAdmin, h.rotateWebhookSecret},
		{http.MethodPost, paths.ProjectLinkDecisionsPattern, ruleAdmin, h.saveProjectDecisions},
		{http.MethodGet, paths.IntegrationDisconnectPattern, ruleAdmin, h.showDisconnect},
		{http.MethodPost, paths.IntegrationDisconnectPattern, ruleAdmin, h.disconnectIntegration},
		{http.MethodGet, paths.ProjectLinkPattern, ruleAdmin, h.showProject},
		{http.MethodPost, paths.ProjectLinkPattern, ruleAdmin, h.saveProject},
		{http.MethodGet, paths.ProjectLinkUnlinkPattern, ruleAdmin, h.showUnlinkConfirm},
		{http.MethodPost, paths.ProjectLinkUnlinkPattern, ruleAdmin, h.unlinkProject},
		{http.MethodPost, paths.ProjectLinkPreviewPattern, ruleAdmin, h.previewProject},

		// Admin: cloud accounts.
		{http.MethodGet, paths.Accounts, ruleAdmin, h.showAccounts},
		{http.MethodGet, paths.NewAccount, ruleAdmin, h.showNewAccount},
		{http.MethodPost, paths.Accounts, ruleAdmin, h.createAccount},
		{http.MethodGet, paths.AccountEditPattern, ruleAdmin, h.showEditAccount},
		{http.MethodPost, paths.AccountPattern, ruleAdmin, h.updateAccount},
		{http.MethodGet, paths.AccountDeletePattern, ruleAdmin, h.showDeleteAccount},
		{http.MethodPost, paths.AccountDeletePattern, ruleAdmin, h.deleteAccount},

		// Any signed-in user: their own API tokens (admins see and revoke everyone's).
		{http.MethodGet, paths.Tokens, ruleSignedIn, h.showTokens},
		{http.MethodGet, paths.NewToken, ruleSignedIn, h.showNewToken},
		{http.MethodPost, paths.Tokens, ruleSignedIn, h.createToken},
		{http.MethodPost, paths.TokenRevokePattern, ruleSignedIn, h.revokeToken},

		// Admin: users.
		{http.MethodGet, paths.Users, ruleAdmin, h.showUsers},
		{http.MethodGet, paths.NewUser, ruleAdmin, h.showNewUser},
		{http.MethodPost, paths.Users, ruleAdmin, h.createUser},
		{http.MethodPost, paths.UserDisablePattern, ruleAdmin, h.disableUser},
		{http.MethodPost, paths.UserEnablePattern, ruleAdmin, h.enableUser},
		{http.MethodPost, paths.UserJiraLinkRemovePattern, ruleAdmin, h.removeUserJiraLink},

		// Admin: audit log.
		{http.MethodGet, paths.Audit, ruleAdmin, h.showAudit},
		{http.MethodGet, paths.AuditCSV, ruleAdmin, h.exportAudit},

		// JSON API (bearer tokens only; no cookies, no CSRF).
		{http.MethodGet, paths.APIAccounts, ruleAPIAny, h.apiListAccounts},
		{http.MethodPost, paths.APIAccounts, ruleAPIAdmin, h.apiCreateAccount},
		{http.MethodPost, paths.APIRequests, ruleAPIAny, h.apiCreateRequest},
		{http.MethodGet, paths.APIRequestPattern, ruleAPIAny, h.apiGetRequest},
		{http.MethodPost, paths.APIRequestApprovePattern, ruleAPIDecide, h.apiApproveRequest},
		{http.MethodPost, paths.APIRequestDenyPattern, ruleAPIDecide, h.apiDenyRequest},
		{http.MethodPost, paths.APIRequestCancelPattern, ruleAPIAny, h.apiCancelRequest},
	}
}

// addRoutes registers the table, each route behind its rule.
func addRoutes(e *echo.Echo, h *handler) {
	for _, r := range h.routeTable() {
		e.Add(r.Method, r.Path, r.Handler, h.enforce(r.Rule))
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
