package views

import (
	"net/url"
	"strings"

	"privilege/internal/paths"
	"privilege/models"
)

// Tracker names where an account's (or a request's) Jira tasks live:
// the integration and the project, since two sites may both have OPS.
type Tracker struct {
	IntegrationID   int64
	IntegrationName string
	ProjectKey      string
	ProjectName     string
	JiraURL         string // the site or Data Center base URL
}

// TrackerFrom converts the store's description.
func TrackerFrom(t models.ProjectTracker) *Tracker {
	return &Tracker{IntegrationID: t.IntegrationID, IntegrationName: t.IntegrationName, ProjectKey: t.ProjectKey,
		ProjectName: t.ProjectName, JiraURL: t.JiraURL}
}

// Label is "Acme Jira · OPS (Operations)".
func (t Tracker) Label() string {
	s := t.IntegrationName + " · " + t.ProjectKey
	if t.ProjectName != "" && t.ProjectName != t.ProjectKey {
		s += " (" + t.ProjectName + ")"
	}
	return s
}

// ProjectURL opens the project in Jira ({site}/browse/KEY), or "".
func (t Tracker) ProjectURL() string {
	if t.JiraURL == "" || t.ProjectKey == "" {
		return ""
	}
	return strings.TrimRight(t.JiraURL, "/") + "/browse/" + url.PathEscape(t.ProjectKey)
}

// ManageURL is the project's page in the console (admins).
func (t Tracker) ManageURL() string {
	return paths.ProjectLink(t.IntegrationID, t.ProjectKey)
}

// JiraTaskBox is the "Jira task" box of a request page: one status line,
// refreshed by htmx every second while the task is being written.
type JiraTaskBox struct {
	RequestID  int64
	Account    string
	Link       models.JiraIssueLink // zero when not tracked
	State      models.SyncState
	Tracker    *Tracker // where the task lives or will be created; nil when not tracked
	IsAdmin    bool
	CanRetry   bool
	CSRFToken  string
	PollMillis int // 0: no polling
	// Error says why the sync failed: Jira's message for admins, a plain
	// sentence for everyone else (see SyncErrorFor).
	Error string
}

// Polling reports whether the box asks htmx to refresh it.
func (b JiraTaskBox) Polling() bool { return b.State == models.SyncPending }

// PollURL is the fragment the box refreshes from.
func (b JiraTaskBox) PollURL() string { return paths.RequestJira(b.RequestID) }

// Headline is the one status line.
func (b JiraTaskBox) Headline() string {
	key := b.Link.IssueKey
	switch b.State {
	case models.SyncPending:
		if key == "" {
			return "Creating the Jira task…"
		}
		return "Updating " + key + " in Jira…"
	case models.SyncSynced:
		if b.Link.JiraStatus != "" {
			return key + " is " + b.Link.JiraStatus + " in Jira, in step with this request."
		}
		return key + " is in step with this request."
	case models.SyncFailed:
		return "Jira refused the last update; the task is not in step."
	case models.SyncParked:
		return "Waiting for an admin to reconnect Jira; updates resume then."
	case models.SyncDetached:
		if key != "" {
			return key + " is no longer updated: its Jira project or integration went away."
		}
		return "No Jira task: the account's Jira project was unlinked."
	}
	return "Not tracked in Jira: " + b.Account + " is linked to no Jira project."
}
