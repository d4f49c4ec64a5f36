package views

import (
	"time"

	"privilege/internal/paths"
	"privilege/models"
)

// ProfilePage is the signed-in user's own page: their Jira accounts.
type ProfilePage struct {
	Meta PageMeta
	Jira []JiraLinkRow
}

// JiraLinkRow is one integration on the profile page, linked or not.
type JiraLinkRow struct {
	IntegrationID int64
	Integration   string
	Deployment    models.Deployment
	URL           string
	Linked        bool
	IdentityID    int64
	DisplayName   string
	JiraID        string // Cloud accountId, or DC username
	LinkedAt      time.Time
	Unavailable   string // why linking cannot start (e.g. Cloud app not configured)
}

// LinkAction is where "Link Jira account" posts.
func (r JiraLinkRow) LinkAction() string { return paths.ProfileJiraLink(r.IntegrationID) }

// UnlinkAction is where "Unlink" posts.
func (r JiraLinkRow) UnlinkAction() string {
	return paths.ProfileJiraUnlink(r.IdentityID)
}

// UserJiraLink is one linked Jira account on the Users page.
type UserJiraLink struct {
	ID          int64
	UserID      int64
	Integration string
	DisplayName string
	JiraID      string
}

// RemoveAction is where an admin's "Remove" posts.
func (l UserJiraLink) RemoveAction() string {
	return paths.UserJiraLinkRemove(l.UserID, l.ID)
}

// ProjectPeople is the people section of a project's Manage page.
type ProjectPeople struct {
	Modes        []Option // assignee_mode
	Assignees    []Option // assignee_user: users linked on this integration
	AddWatchers  bool
	Permissions  []PermissionCheck // what mypermissions said (empty when not asked)
	LinkedPeople int
}

// PermissionCheck is one Jira permission the people options need.
type PermissionCheck struct {
	Key, Name, Needed string
	Have              bool
}

// PeopleProblem is one part of the tasks that Jira refused, per project.
type PeopleProblem struct {
	ProjectKey string
	Part       models.PeoplePart
	Message    string
}
