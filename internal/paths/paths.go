// Package paths is every path of the console in one place: the patterns the
// route table registers (handlers/routes.go) and the typed builders that
// handlers, views and jira link with, so a link cannot drift from its route
// (handlers' TestPathBuildersMatchRoutes resolves every builder through the
// router). It imports only the standard library.
//
// A pattern's parameters (":id", ":key") are filled in order by the
// builders; a path without parameters is one constant, both the route and
// the link.
package paths

import (
	"net/url"
	"strconv"
	"strings"
)

// Operational and public.
const (
	Home         = "/"
	Healthz      = "/healthz"
	Readyz       = "/readyz"
	Metrics      = "/metrics"
	StaticPrefix = "/static/"
	StaticFiles  = StaticPrefix + "*"
	Login        = "/login"
	Logout       = "/logout"
	Setup        = "/setup"
	OIDCStart    = "/auth/oidc/start"
	OIDCCallback = "/auth/oidc/callback"
	Password     = "/account/password"
	Profile      = "/profile"
	Audit        = "/audit"
	AuditCSV     = "/audit.csv"
)

// Jira's webhook deliveries.
const (
	WebhooksPrefix     = "/webhooks/"
	JiraWebhookPattern = WebhooksPrefix + "jira/:token"
)

// Access requests.
const (
	Requests                 = "/requests"
	NewRequest               = Requests + "/new"
	NewRequestResources      = NewRequest + "/resources"
	RequestHistory           = Requests + "/history"
	RequestPattern           = Requests + "/:id"
	RequestJiraPattern       = RequestPattern + "/jira"
	RequestCancelPattern     = RequestPattern + "/cancel"
	RequestDecidePattern     = RequestPattern + "/decide"
	RequestRevokePattern     = RequestPattern + "/revoke"
	RequestRetrySyncPattern  = RequestPattern + "/retry-sync"
	ProfileJiraLinkPattern   = Profile + "/jira/:id/link"
	ProfileJiraUnlinkPattern = Profile + "/jira-links/:id/unlink"
)

// Integrations and the Jira projects they link.
const (
	Integrations                    = "/integrations"
	IntegrationsConfigured          = Integrations + "?tab=configured"
	JiraConnect                     = Integrations + "/jira"
	JiraNew                         = JiraConnect + "/new"
	JiraSite                        = JiraConnect + "/site"
	JiraAuthorize                   = JiraConnect + "/authorize"
	JiraCallback                    = JiraConnect + "/callback"
	IntegrationPattern              = Integrations + "/:id"
	IntegrationReconnectPattern     = IntegrationPattern + "/reconnect"
	IntegrationProjectKeysPattern   = IntegrationPattern + "/project-keys"
	IntegrationWebhookSecretPattern = IntegrationPattern + "/webhook-secret"
	IntegrationDisconnectPattern    = IntegrationPattern + "/disconnect"
	ProjectLinkPattern              = IntegrationPattern + "/projects/:key"
	ProjectLinkDecisionsPattern     = ProjectLinkPattern + "/decisions"
	ProjectLinkUnlinkPattern        = ProjectLinkPattern + "/unlink"
	ProjectLinkPreviewPattern       = ProjectLinkPattern + "/preview"
)

// Cloud accounts, API tokens and users.
const (
	Accounts                  = "/accounts"
	NewAccount                = Accounts + "/new"
	AccountPattern            = Accounts + "/:id"
	AccountEditPattern        = AccountPattern + "/edit"
	AccountDeletePattern      = AccountPattern + "/delete"
	Tokens                    = "/tokens"
	NewToken                  = Tokens + "/new"
	TokenRevokePattern        = Tokens + "/:id/revoke"
	Users                     = "/users"
	NewUser                   = Users + "/new"
	UserDisablePattern        = Users + "/:id/disable"
	UserEnablePattern         = Users + "/:id/enable"
	UserJiraLinkRemovePattern = Users + "/:id/jira-links/:link/remove"
)

// The JSON API.
const (
	API                      = "/api"
	APIPrefix                = API + "/"
	OpenAPI                  = API + "/v1/openapi.json"
	APIAccounts              = API + "/v1/accounts"
	APIRequests              = API + "/v1/requests"
	APIRequestPattern        = APIRequests + "/:id"
	APIRequestApprovePattern = APIRequestPattern + "/approve"
	APIRequestDenyPattern    = APIRequestPattern + "/deny"
	APIRequestCancelPattern  = APIRequestPattern + "/cancel"
)

// Request is a request's page (its approval page).
func Request(id int64) string { return fill(RequestPattern, itoa(id)) }

// RequestJira is the request page's Jira task box, which htmx refreshes.
func RequestJira(id int64) string { return fill(RequestJiraPattern, itoa(id)) }

// RequestCancel confirms (GET) and cancels (POST) a request.
func RequestCancel(id int64) string { return fill(RequestCancelPattern, itoa(id)) }

// RequestDecide approves or denies a request.
func RequestDecide(id int64) string { return fill(RequestDecidePattern, itoa(id)) }

// RequestRevoke confirms (GET) and revokes (POST) a request's access.
func RequestRevoke(id int64) string { return fill(RequestRevokePattern, itoa(id)) }

// RequestRetrySync queues a failed Jira sync again.
func RequestRetrySync(id int64) string { return fill(RequestRetrySyncPattern, itoa(id)) }

// ProfileJiraLink starts linking the viewer's Jira account on an integration.
func ProfileJiraLink(integrationID int64) string {
	return fill(ProfileJiraLinkPattern, itoa(integrationID))
}

// ProfileJiraUnlink removes one of the viewer's Jira identities.
func ProfileJiraUnlink(identityID int64) string {
	return fill(ProfileJiraUnlinkPattern, itoa(identityID))
}

// Integration is an integration's page.
func Integration(id int64) string { return fill(IntegrationPattern, itoa(id)) }

// IntegrationReconnect asks Jira for a new consent.
func IntegrationReconnect(id int64) string { return fill(IntegrationReconnectPattern, itoa(id)) }

// IntegrationProjectKeys saves the project keys offered for linking.
func IntegrationProjectKeys(id int64) string { return fill(IntegrationProjectKeysPattern, itoa(id)) }

// IntegrationWebhookSecret rotates the webhook secret.
func IntegrationWebhookSecret(id int64) string {
	return fill(IntegrationWebhookSecretPattern, itoa(id))
}

// IntegrationDisconnect confirms (GET) and disconnects (POST) an integration.
func IntegrationDisconnect(id int64) string { return fill(IntegrationDisconnectPattern, itoa(id)) }

// ProjectLink is the page of a Jira project linked on an integration.
func ProjectLink(integrationID int64, key string) string {
	return fill(ProjectLinkPattern, itoa(integrationID), key)
}

// ProjectLinkDecisions saves where a project's decisions are made.
func ProjectLinkDecisions(integrationID int64, key string) string {
	return fill(ProjectLinkDecisionsPattern, itoa(integrationID), key)
}

// ProjectLinkUnlink confirms (GET) and removes (POST) a project link.
func ProjectLinkUnlink(integrationID int64, key string) string {
	return fill(ProjectLinkUnlinkPattern, itoa(integrationID), key)
}

// ProjectLinkPreview renders a project's task preview.
func ProjectLinkPreview(integrationID int64, key string) string {
	return fill(ProjectLinkPreviewPattern, itoa(integrationID), key)
}

// Account saves an account (the edit form's action).
func Account(id int64) string { return fill(AccountPattern, itoa(id)) }

// AccountEdit is an account's edit form.
func AccountEdit(id int64) string { return fill(AccountEditPattern, itoa(id)) }

// AccountDelete confirms (GET) and deletes (POST) an account.
func AccountDelete(id int64) string { return fill(AccountDeletePattern, itoa(id)) }

// TokenRevoke revokes an API token.
func TokenRevoke(id int64) string { return fill(TokenRevokePattern, itoa(id)) }

// UserDisable disables a user.
func UserDisable(id int64) string { return fill(UserDisablePattern, itoa(id)) }

// UserEnable enables a user.
func UserEnable(id int64) string { return fill(UserEnablePattern, itoa(id)) }

// UserJiraLinkRemove removes one of a user's Jira identities (admins).
func UserJiraLinkRemove(userID, linkID int64) string {
	return fill(UserJiraLinkRemovePattern, itoa(userID), itoa(linkID))
}

// APIRequest is a request in the JSON API.
func APIRequest(id int64) string { return fill(APIRequestPattern, itoa(id)) }

// APIRequestApprove approves a request through the JSON API.
func APIRequestApprove(id int64) string { return fill(APIRequestApprovePattern, itoa(id)) }

// APIRequestDeny denies a request through the JSON API.
func APIRequestDeny(id int64) string { return fill(APIRequestDenyPattern, itoa(id)) }

// APIRequestCancel cancels a request through the JSON API.
func APIRequestCancel(id int64) string { return fill(APIRequestCancelPattern, itoa(id)) }

// JiraWebhook is where Jira delivers an integration's notices.
func JiraWebhook(token string) string { return fill(JiraWebhookPattern, token) }

// RequestURL is a request's approval page at base ({BASE_URL}/requests/{id}),
// the link of every Jira task and the API's approval_url.
func RequestURL(base string, id int64) string { return Absolute(base, Request(id)) }

// JiraWebhookURL is the webhook URL Jira is given for an integration.
func JiraWebhookURL(base, token string) string { return Absolute(base, JiraWebhook(token)) }

// Absolute is path p at base, an absolute URL with or without a trailing slash.
func Absolute(base, p string) string { return strings.TrimRight(base, "/") + p }

// WithQuery is p with q's encoded query, or p alone when q is empty.
func WithQuery(p string, q url.Values) string {
	if e := q.Encode(); e != "" {
		return p + "?" + e
	}
	return p
}

// fill puts segs, path-escaped, in the pattern's parameters in order. Every
// builder passes exactly its pattern's parameters (the router test proves it).
func fill(pattern string, segs ...string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") && len(segs) > 0 {
			parts[i], segs = url.PathEscape(segs[0]), segs[1:]
		}
	}
	return strings.Join(parts, "/")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
