package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

var projectKeyRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)

// Outcome is a request outcome that moves its Jira task.
type Outcome string

const (
	OutcomeApproved  Outcome = "approved"
	OutcomeDenied    Outcome = "denied"
	OutcomeCancelled Outcome = "cancelled"
	OutcomeExpired   Outcome = "expired"
)

// Outcomes lists the outcomes in the order the Manage page shows them.
var Outcomes = []Outcome{OutcomeApproved, OutcomeDenied, OutcomeCancelled, OutcomeExpired}

// ProjectLink ties a Jira project to the accounts it tracks.
type ProjectLink struct {
	ID              int64 `gorm:"primaryKey"`
	IntegrationID   int64
	ProjectID       string
	ProjectKey      string
	ProjectName     string
	IssueTypeID     string
	IssueTypeName   string
	StatusApproved  string
	StatusDenied    string
	StatusCancelled string
	StatusExpired   string
	// People (design.md §8): who the task is assigned to, whether eligible
	// approvers watch it, and what Jira last refused ("" = nothing).
	AssigneeMode    AssigneeMode
	AssigneeUserID  *int64
	AddWatchers     bool
	ReporterProblem string
	AssigneeProblem string
	WatchersProblem string
	// Ticket shaping (design.md §10): templates ('' = the defaults), values
	// of required fields, and what Jira last refused of them ('' = nothing).
	SummaryTemplate     string
	DescriptionTemplate string
	FieldValues         FieldValues
	FieldsProblem       string
	ExtraLabels         string // space-separated, added to every task
	DueDateFromExpiry   bool   // due date = when the pending request expires
	// Decisions from Jira (design.md §9): see jira_decisions.go.
	DecideInJira      bool
	JiraApproveStatus string
	JiraDenyStatus    string
	DecideInJiraSince *time.Time
	Accounts          []CloudAccount `gorm:"foreignKey:ProjectLinkID"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// StatusFor is the Jira status name an outcome moves the task to ("" = any done status).
func (p ProjectLink) StatusFor(o Outcome) string {
	switch o {
	case OutcomeApproved:
		return p.StatusApproved
	case OutcomeDenied:
		return p.StatusDenied
	case OutcomeCancelled:
		return p.StatusCancelled
	case OutcomeExpired:
		return p.StatusExpired
	}
	return ""
}

// ProjectLinkInput is what the project's Manage page saves.
type ProjectLinkInput struct {
	IntegrationID int64
	ProjectID     string
	ProjectKey    string
	ProjectName   string
	IssueTypeID   string
	IssueTypeName string
	Statuses      map[Outcome]string
	AccountIDs    []int64
	// MoveAccounts confirms moving accounts that another project tracks.
	MoveAccounts bool
	// People: the assignee rule (zero = nobody) and the watchers option.
	AssigneeMode   AssigneeMode
	AssigneeUserID int64 // AssigneeFixed: a user linked on this integration
	AddWatchers    bool
	// Ticket shaping: templates checked by the caller (jira.ParseTemplates)
	// and the values of required fields.
	SummaryTemplate, DescriptionTemplate string
	FieldValues                          FieldValues
	ExtraLabels                          string // checked by the caller
	DueDateFromExpiry                    bool
}

// SaveProjectLink creates or updates the link of a Jira project and sets the
// accounts it tracks. Pending requests of newly tracked accounts are
// backfilled: they get a sync job, so their task is created.
func (s *Store) SaveProjectLink(ctx context.Context, a Actor, in ProjectLinkInput) (ProjectLink, error) {
	fe := FieldErrors{}
	if !projectKeyRe.MatchString(in.ProjectKey) || in.ProjectID == "" {
		fe.Add("project", "Unknown Jira project.")
	}
	if in.IssueTypeID == "" {
		fe.Add("issue_type", "Choose the issue type of the tasks.")
	}
	if in.AssigneeMode == "" {
		in.AssigneeMode = AssigneeNone
	}
	if !in.AssigneeMode.Valid() {
		fe.Add("assignee_mode", "Choose who the tasks are assigned to.")
	}
	if err := fe.Err(); err != nil {
		return ProjectLink{}, err
	}
	var link ProjectLink
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := checkFixedAssignee(tx, in); err != nil {
			return err
		}
		err := tx.Where("integration_id = ? AND project_key = ?", in.IntegrationID, in.ProjectKey).Take(&link).Error
		isNew := errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !isNew {
			return translate(err, "find project link")
		}
		link.IntegrationID, link.ProjectID, link.ProjectKey, link.ProjectName = in.IntegrationID, in.ProjectID, in.ProjectKey, in.ProjectName
		link.IssueTypeID, link.IssueTypeName = in.IssueTypeID, in.IssueTypeName
		link.StatusApproved, link.StatusDenied = in.Statuses[OutcomeApproved], in.Statuses[OutcomeDenied]
		link.StatusCancelled, link.StatusExpired = in.Statuses[OutcomeCancelled], in.Statuses[OutcomeExpired]
		if link.AssigneeMode != in.AssigneeMode {
			link.AssigneeProblem = "" // a new rule is tried afresh
		}
		if !in.AddWatchers {
			link.WatchersProblem = ""
		}
		link.AssigneeMode, link.AssigneeUserID, link.AddWatchers = in.AssigneeMode, nil, in.AddWatchers
		if in.AssigneeMode == AssigneeFixed {
			link.AssigneeUserID = &in.AssigneeUserID
		}
		if !link.FieldValues.Equal(in.FieldValues) {
			link.FieldsProblem = "" // new values are tried afresh
		}
		link.SummaryTemplate, link.DescriptionTemplate, link.FieldValues = in.SummaryTemplate, in.DescriptionTemplate, in.FieldValues
		link.ExtraLabels, link.DueDateFromExpiry = in.ExtraLabels, in.DueDateFromExpiry
		link.UpdatedAt = now
		if isNew {
			link.CreatedAt = now
		}
		if err := tx.Omit("Accounts").Save(&link).Error; err != nil {
			return translate(err, "save project link")
		}
		added, err := s.setLinkedAccounts(tx, link, in.AccountIDs, in.MoveAccounts)
		if err != nil {
			return err
		}
		if err := s.backfill(tx, added); err != nil {
			return err
		}
		action := AuditProjectUpdated
		if isNew {
			action = AuditProjectLinked
		}
		return s.audit(tx, a, action, "project_link", link.ID, fmt.Sprintf("%s: %d account(s)", link.ProjectKey, len(in.AccountIDs)))
	})
	if err != nil {
		return ProjectLink{}, err
	}
	return s.ProjectLink(ctx, link.ID)
}

// checkFixedAssignee requires a fixed assignee to have linked their Jira
// account on the link's integration.
func checkFixedAssignee(tx *gorm.DB, in ProjectLinkInput) error {
	if in.AssigneeMode != AssigneeFixed {
		return nil
	}
	var n int64
	if in.AssigneeUserID != 0 {
		if err := tx.Model(&JiraIdentity{}).Where("integration_id = ? AND user_id = ?", in.IntegrationID, in.AssigneeUserID).Count(&n).Error; err != nil {
			return translate(err, "check the assignee's Jira link")
		}
	}
	if n == 0 {
		return &ValidationError{Fields: map[string]string{"assignee_user": "Choose a user who has linked their Jira account on this integration."}}
	}
	return nil
}

// setLinkedAccounts makes ids exactly the accounts of link and returns the ones newly tracked.
func (s *Store) setLinkedAccounts(tx *gorm.DB, link ProjectLink, ids []int64, move bool) ([]int64, error) {
	var accs []CloudAccount
	if len(ids) > 0 {
		if err := tx.Where("id IN ?", ids).Find(&accs).Error; err != nil {
			return nil, translate(err, "load accounts")
		}
	}
	if len(accs) != len(uniqueIDs(ids)) {
		return nil, &ValidationError{Fields: map[string]string{"accounts": "One of the chosen accounts no longer exists."}}
	}
	var added []int64
	var elsewhere []string
	for _, acc := range accs {
		switch {
		case acc.ProjectLinkID == nil:
			added = append(added, acc.ID)
		case *acc.ProjectLinkID != link.ID:
			if !move {
				elsewhere = append(elsewhere, acc.Name)
			}
			added = append(added, acc.ID)
		}
	}
	if len(elsewhere) > 0 {
		return nil, &ValidationError{Fields: map[string]string{"accounts": "Already tracked in another Jira project: " +
			strings.Join(elsewhere, ", ") + ". Tick \"Move accounts tracked elsewhere\" to move them here."}}
	}
	clear := tx.Model(&CloudAccount{}).Where("project_link_id = ?", link.ID)
	if len(ids) > 0 {
		clear = clear.Where("id NOT IN ?", ids)
	}
	if err := clear.Update("project_link_id", nil).Error; err != nil {
		return nil, translate(err, "untrack accounts")
	}
	if len(ids) > 0 {
		if err := tx.Model(&CloudAccount{}).Where("id IN ?", ids).Update("project_link_id", link.ID).Error; err != nil {
			return nil, translate(err, "track accounts")
		}
	}
	return added, nil
}

func uniqueIDs(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// ProjectLink loads a link with its accounts.
func (s *Store) ProjectLink(ctx context.Context, id int64) (ProjectLink, error) {
	var l ProjectLink
	err := s.db.WithContext(ctx).Preload("Accounts", func(db *gorm.DB) *gorm.DB { return db.Order("name") }).Take(&l, id).Error
	return l, translate(err, fmt.Sprintf("project link %d", id))
}

// ProjectLinkByKey loads the link of a project of an integration.
func (s *Store) ProjectLinkByKey(ctx context.Context, integrationID int64, key string) (ProjectLink, error) {
	var l ProjectLink
	err := s.db.WithContext(ctx).Preload("Accounts", func(db *gorm.DB) *gorm.DB { return db.Order("name") }).
		Where("integration_id = ? AND project_key = ?", integrationID, key).Take(&l).Error
	return l, translate(err, "project link "+key)
}

// ProjectLinks lists an integration's links with their accounts.
func (s *Store) ProjectLinks(ctx context.Context, integrationID int64) ([]ProjectLink, error) {
	var out []ProjectLink
	err := s.db.WithContext(ctx).Preload("Accounts", func(db *gorm.DB) *gorm.DB { return db.Order("name") }).
		Where("integration_id = ?", integrationID).Order("project_key").Find(&out).Error
	return out, translate(err, "list project links")
}

// UnlinkProject removes a project link; its accounts stop being tracked.
// Tasks already created keep being updated through the integration.
func (s *Store) UnlinkProject(ctx context.Context, a Actor, id int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var l ProjectLink
		if err := tx.Take(&l, id).Error; err != nil {
			return translate(err, fmt.Sprintf("project link %d", id))
		}
		if err := tx.Model(&CloudAccount{}).Where("project_link_id = ?", id).Update("project_link_id", nil).Error; err != nil {
			return translate(err, "untrack accounts")
		}
		if err := tx.Delete(&l).Error; err != nil {
			return translate(err, "delete project link")
		}
		return s.audit(tx, a, AuditProjectUnlinked, "project_link", id, l.ProjectKey)
	})
}

// AllAccounts lists every account (for checkboxes), by name.
func (s *Store) AllAccounts(ctx context.Context) ([]CloudAccount, error) {
	var out []CloudAccount
	err := s.db.WithContext(ctx).Order("name, id").Find(&out).Error
	return out, translate(err, "list accounts")
}

// ProjectLinkSettings loads a link without its accounts (the syncer's read).
func (s *Store) ProjectLinkSettings(ctx context.Context, id int64) (ProjectLink, error) {
	var l ProjectLink
	err := s.db.WithContext(ctx).Take(&l, id).Error
	return l, translate(err, fmt.Sprintf("project link %d", id))
}

// ProjectLinkSettingsByKey loads a project's link without its accounts.
func (s *Store) ProjectLinkSettingsByKey(ctx context.Context, integrationID int64, key string) (ProjectLink, error) {
	var l ProjectLink
	err := s.db.WithContext(ctx).Where("integration_id = ? AND project_key = ?", integrationID, key).Take(&l).Error
	return l, translate(err, "project link "+key)
}

// ProjectTracker names a project link for display: which Jira (integration)
// and which project, since two sites may both have an OPS project.
type ProjectTracker struct {
	LinkID          int64
	IntegrationID   int64
	IntegrationName string
	JiraURL         string // the site (Cloud) or base URL (Data Center)
	ProjectKey      string
	ProjectName     string
}

// ProjectTrackers maps every project link's id to its integration and
// project names (a handful of rows: one per linked project).
func (s *Store) ProjectTrackers(ctx context.Context) (map[int64]ProjectTracker, error) {
	var rows []struct {
		ID, IntegrationID                  int64
		Name, Deployment, SiteURL, BaseURL string
		ProjectKey, ProjectName            string
	}
	err := s.db.WithContext(ctx).Table("project_links p").
		Select("p.id, p.integration_id, i.name, i.deployment, i.site_url, i.base_url, p.project_key, p.project_name").
		Joins("JOIN jira_integrations i ON i.id = p.integration_id").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list project trackers")
	}
	out := make(map[int64]ProjectTracker, len(rows))
	for _, r := range rows {
		in := Integration{Deployment: Deployment(r.Deployment), SiteURL: r.SiteURL, BaseURL: r.BaseURL}
		out[r.ID] = ProjectTracker{LinkID: r.ID, IntegrationID: r.IntegrationID, IntegrationName: r.Name, JiraURL: in.SiteOrBaseURL(),
			ProjectKey: r.ProjectKey, ProjectName: r.ProjectName}
	}
	return out, nil
}

// TrackerOf finds the tracker of a task created in integrationID's project key.
func TrackerOf(trackers map[int64]ProjectTracker, integrationID int64, key string) (ProjectTracker, bool) {
	for _, t := range trackers {
		if t.IntegrationID == integrationID && t.ProjectKey == key {
			return t, true
		}
	}
	return ProjectTracker{}, false
}
