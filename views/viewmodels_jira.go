package views

import (
	"net/url"
	"strconv"
	"time"

	"privilege/internal/paths"
	"privilege/models"
)

// IntegrationsTab is a tab of the Integrations screen.
type IntegrationsTab string

// Tabs of the Integrations screen.
const (
	TabAllIntegrations IntegrationsTab = "all"
	TabConfigured      IntegrationsTab = "configured"
)

// IntegrationsPage is the Integrations screen: the tiles ("All
// Integrations") and the configured integrations with their health.
type IntegrationsPage struct {
	Meta         PageMeta
	Tab          IntegrationsTab
	Integrations []IntegrationRow
	Sync         SyncHealth
}

// IntegrationRow is one configured Jira integration.
type IntegrationRow struct {
	ID            int64
	Name          string
	Deployment    models.Deployment
	URL           string
	Status        models.IntegrationStatus
	StatusReason  string
	ConnectedBy   string
	ConnectedAt   time.Time
	TokenExpiry   *time.Time
	LastSuccessAt *time.Time
	Sync          models.IntegrationSyncCounts
}

// ManageURL is the integration's Manage page.
func (r IntegrationRow) ManageURL() string { return paths.Integration(r.ID) }

// NeedsReconnect reports whether the grant is dead.
func (r IntegrationRow) NeedsReconnect() bool { return r.Status == models.IntegrationReconnectRequired }

// SelfHosted reports a Data Center / Server integration.
func (r IntegrationRow) SelfHosted() bool { return r.Deployment == models.DeploymentDataCenter }

// SyncHealth summarises the sync outbox (it is shared by all integrations).
type SyncHealth struct {
	Backlog       int64
	Failed        int64
	Parked        int64
	OldestPending time.Duration
	Failures      []models.JiraIssueLink
}

// OldestPendingText is the age of the oldest queued job in words.
func (s SyncHealth) OldestPendingText() string {
	if s.Backlog == 0 {
		return "—"
	}
	return s.OldestPending.Round(time.Second).String()
}

// DeploymentLabel names a deployment for people.
func DeploymentLabel(d models.Deployment) string {
	if d == models.DeploymentDataCenter {
		return "Data Center / Server"
	}
	return "Cloud"
}

// IntegrationBadge maps an integration status to its badge.
func IntegrationBadge(s models.IntegrationStatus) Badge {
	switch s {
	case models.IntegrationConnected:
		return Badge{"Connected", ToneOK}
	case models.IntegrationReconnectRequired:
		return Badge{"Reconnect required", ToneWarn}
	case models.IntegrationError:
		return Badge{"Error", ToneError}
	}
	return Badge{string(s), ToneNeutral}
}

// JiraConnectForm is the Integrate form.
type JiraConnectForm struct {
	Meta         PageMeta
	Name         string
	SelfHosted   bool
	BaseURL      string
	ClientID     string
	RedirectURL  string
	CloudEnabled bool // PRIVILEGE_ATLASSIAN_CLIENT_ID is set
	Available    bool // the Jira OAuth machinery is wired at all
	Errors       FormErrors
}

// JiraHandoffPage sends the browser on to the Jira consent page. It is a
// page of its own (not a redirect of the form POST) so the CSP form-action
// 'self' of every page can stay as it is.
type JiraHandoffPage struct {
	Meta         PageMeta
	AuthorizeURL string
	Product      string // "Atlassian" or "your Jira"
}

// SitePickerPage lets the admin choose one of several Cloud sites.
type SitePickerPage struct {
	Meta  PageMeta
	Name  string
	Grant string // the sealed pending grant, posted back
	Sites []SiteOption
}

// SiteOption is one Cloud site the grant covers.
type SiteOption struct {
	CloudID     string
	Name        string
	URL         string
	ConnectedAs string // the integration already on this site, if any: not selectable
	Checked     bool   // the first selectable site
}

// IntegrationPage is an integration's Manage page: its Jira projects.
type IntegrationPage struct {
	Meta        PageMeta
	Integration IntegrationRow
	Query       string
	Projects    []ProjectRow
	Total       int    // projects fetched before the search filter
	JiraError   string // plain words when Jira could not be asked
	ProjectKeys string
	Errors      FormErrors
	// PeopleProblems: what Jira refused on tasks (reporter, assignee, watchers).
	PeopleProblems []PeopleProblem
	Decisions      IntegrationDecisions // decisions from Jira
	LinkedOnly     bool                 // ?linked=1: only projects that track accounts
	Matched        int                  // projects after the search and linked filters
	Pager          Pager                // the list is paged (a site may have hundreds)
}

// PageURL is page n of the list with the current filters.
func (p IntegrationPage) PageURL(n int) string {
	q := url.Values{}
	if p.Query != "" {
		q.Set("q", p.Query)
	}
	if p.LinkedOnly {
		q.Set("linked", "1")
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return p.Integration.ManageURL()
	}
	return p.Integration.ManageURL() + "?" + q.Encode()
}

// ProjectRow is one Jira project on the Manage page.
type ProjectRow struct {
	Key          string
	Name         string
	Linked       bool
	Accounts     int
	AccountNames []string // the accounts it tracks
}

// ManageURL is the project's Manage page.
func (p IntegrationPage) ManageURL(key string) string {
	return paths.ProjectLink(p.Integration.ID, key)
}

// DisconnectPage confirms disconnecting an integration.
type DisconnectPage struct {
	Meta        PageMeta
	Integration IntegrationRow
	Links       int
	Accounts    int
}

// ProjectPage is a project's Manage page: accounts, issue type, statuses.
type ProjectPage struct {
	Meta          PageMeta
	IntegrationID int64
	Integration   string
	ProjectKey    string
	ProjectName   string
	Linked        bool
	Accounts      []AccountChoice
	MoveAccounts  bool
	IssueTypes    []Option
	Outcomes      []OutcomeChoice
	Problems      []string // workflow check: blocking problems
	Notices       []string // workflow check: worth knowing, not blocking
	JiraError     string
	Errors        FormErrors
	People        ProjectPeople
	Shaping       ProjectShaping   // required fields and templates (viewmodels_shaping.go)
	Decisions     ProjectDecisions // "Approve and deny in Jira" (linked projects)
}

// Action is where the form posts.
func (p ProjectPage) Action() string {
	return paths.ProjectLink(p.IntegrationID, p.ProjectKey)
}

// UnlinkAction is where "Unlink project" posts.
func (p ProjectPage) UnlinkAction() string {
	return paths.ProjectLinkUnlink(p.IntegrationID, p.ProjectKey)
}

// BackURL is the integration's Manage page.
func (p ProjectPage) BackURL() string { return paths.Integration(p.IntegrationID) }

// CanSave reports whether the workflow check found no blocking problem.
func (p ProjectPage) CanSave() bool { return len(p.Problems) == 0 && p.JiraError == "" }

// AccountChoice is one account checkbox.
type AccountChoice struct {
	ID        int64
	Name      string
	Provider  models.Provider
	Checked   bool
	Elsewhere string // integration and project tracking it elsewhere, if any
}

// InputID is the checkbox's id.
func (a AccountChoice) InputID() string { return "account-" + strconv.FormatInt(a.ID, 10) }

// Value is the checkbox's value.
func (a AccountChoice) Value() string { return strconv.FormatInt(a.ID, 10) }

// OutcomeChoice is the status select of one request outcome.
type OutcomeChoice struct {
	Outcome models.Outcome
	Label   string
	Options []Option
}

// FieldName is the select's form name.
func (o OutcomeChoice) FieldName() string { return "status_" + string(o.Outcome) }
