package handlers

import (
	"net/http"
	"strings"
	"testing"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/models/modeltest"
)

// pathCase is one link the console builds and the route it must reach.
type pathCase struct {
	method, link, route string
}

// pathCases is every route of the table reached through its builder (or
// its constant), so a builder and its route cannot drift apart.
func pathCases() []pathCase {
	get, post := http.MethodGet, http.MethodPost
	const id, other, key = 12, 34, "OPS"
	return []pathCase{
		{get, paths.Healthz, paths.Healthz},
		{get, paths.Readyz, paths.Readyz},
		{get, paths.Metrics, paths.Metrics},
		{get, paths.StaticPrefix + "css/app.css", paths.StaticFiles},
		{get, paths.Login, paths.Login},
		{post, paths.Login, paths.Login},
		{get, paths.OIDCStart + "?next=%2Frequests", paths.OIDCStart},
		{get, paths.OIDCCallback, paths.OIDCCallback},
		{get, paths.OpenAPI, paths.OpenAPI},
		{post, paths.JiraWebhook("abc123"), paths.JiraWebhookPattern},
		{get, paths.Setup, paths.Setup},
		{post, paths.Setup, paths.Setup},
		{get, paths.Home, paths.Home},
		{post, paths.Logout, paths.Logout},
		{get, paths.Requests, paths.Requests},
		{post, paths.Requests, paths.Requests},
		{get, paths.NewRequest, paths.NewRequest},
		{get, paths.NewRequestResources, paths.NewRequestResources},
		{get, paths.RequestHistory, paths.RequestHistory},
		{get, paths.Password, paths.Password},
		{post, paths.Password, paths.Password},
		{get, paths.Request(id), paths.RequestPattern},
		{get, paths.RequestJira(id), paths.RequestJiraPattern},
		{get, paths.RequestCancel(id), paths.RequestCancelPattern},
		{post, paths.RequestCancel(id), paths.RequestCancelPattern},
		{post, paths.RequestDecide(id), paths.RequestDecidePattern},
		{get, paths.RequestRevoke(id), paths.RequestRevokePattern},
		{post, paths.RequestRevoke(id), paths.RequestRevokePattern},
		{post, paths.RequestRetrySync(id), paths.RequestRetrySyncPattern},
		{get, paths.Profile, paths.Profile},
		{post, paths.ProfileJiraLink(id), paths.ProfileJiraLinkPattern},
		{post, paths.ProfileJiraUnlink(id), paths.ProfileJiraUnlinkPattern},
		{get, paths.JiraAuthorize, paths.JiraAuthorize},
		{get, paths.JiraCallback, paths.JiraCallback},
		{get, paths.Integrations, paths.Integrations},
		{get, paths.IntegrationsConfigured, paths.Integrations},
		{get, paths.JiraNew, paths.JiraNew},
		{post, paths.JiraConnect, paths.JiraConnect},
		{post, paths.JiraSite, paths.JiraSite},
		{get, paths.Integration(id), paths.IntegrationPattern},
		{post, paths.IntegrationReconnect(id), paths.IntegrationReconnectPattern},
		{post, paths.IntegrationProjectKeys(id), paths.IntegrationProjectKeysPattern},
		{post, paths.IntegrationWebhookSecret(id), paths.IntegrationWebhookSecretPattern},
		{get, paths.IntegrationDisconnect(id), paths.IntegrationDisconnectPattern},
		{post, paths.IntegrationDisconnect(id), paths.IntegrationDisconnectPattern},
		{get, paths.ProjectLink(id, key), paths.ProjectLinkPattern},
		{post, paths.ProjectLink(id, key), paths.ProjectLinkPattern},
		{post, paths.ProjectLinkDecisions(id, key), paths.ProjectLinkDecisionsPattern},
		{get, paths.ProjectLinkUnlink(id, key), paths.ProjectLinkUnlinkPattern},
		{post, paths.ProjectLinkUnlink(id, key), paths.ProjectLinkUnlinkPattern},
		{post, paths.ProjectLinkPreview(id, key), paths.ProjectLinkPreviewPattern},
		{get, paths.Accounts, paths.Accounts},
		{post, paths.Accounts, paths.Accounts},
		{get, paths.NewAccount, paths.NewAccount},
		{post, paths.Account(id), paths.AccountPattern},
		{get, paths.AccountEdit(id), paths.AccountEditPattern},
		{get, paths.AccountDelete(id), paths.AccountDeletePattern},
		{post, paths.AccountDelete(id), paths.AccountDeletePattern},
		{get, paths.Tokens, paths.Tokens},
		{post, paths.Tokens, paths.Tokens},
		{get, paths.NewToken, paths.NewToken},
		{post, paths.TokenRevoke(id), paths.TokenRevokePattern},
		{get, paths.Users, paths.Users},
		{post, paths.Users, paths.Users},
		{get, paths.NewUser, paths.NewUser},
		{post, paths.UserDisable(id), paths.UserDisablePattern},
		{post, paths.UserEnable(id), paths.UserEnablePattern},
		{post, paths.UserJiraLinkRemove(id, other), paths.UserJiraLinkRemovePattern},
		{get, paths.Audit, paths.Audit},
		{get, paths.AuditCSV, paths.AuditCSV},
		{get, paths.APIAccounts, paths.APIAccounts},
		{post, paths.APIAccounts, paths.APIAccounts},
		{post, paths.APIRequests, paths.APIRequests},
		{get, paths.APIRequest(id), paths.APIRequestPattern},
		{post, paths.APIRequestApprove(id), paths.APIRequestApprovePattern},
		{post, paths.APIRequestDeny(id), paths.APIRequestDenyPattern},
		{post, paths.APIRequestCancel(id), paths.APIRequestCancelPattern},
	}
}

// TestPathBuildersMatchRoutes resolves every builder's link through the
// Echo router: it must reach the route it is built from, and every
// registered route must be reached by one of them.
func TestPathBuildersMatchRoutes(t *testing.T) {
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	registered := map[string]bool{}
	for _, r := range app.e.Routes() {
		registered[r.Method+" "+r.Path] = true
	}
	reached := map[string]bool{}
	for _, tc := range pathCases() {
		c := app.e.NewContext(nil, nil)
		p, _, _ := strings.Cut(tc.link, "?")
		app.e.Router().Find(tc.method, p, c)
		got := tc.method + " " + c.Path()
		switch {
		case c.Path() != tc.route:
			t.Errorf("%s %s reaches route %q, want %q", tc.method, tc.link, c.Path(), tc.route)
		case !registered[got]:
			t.Errorf("%s %s: no %s route is registered", tc.method, tc.link, got)
		}
		reached[got] = true
	}
	for r := range registered {
		if !reached[r] {
			t.Errorf("route %s has no case in pathCases(): add its builder there", r)
		}
	}
}
