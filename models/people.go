package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// People in Jira (design.md §8): a user's Jira identity per integration,
// made only by the user's own consent in Jira. No token is ever kept.

// JiraIdentity is a user's Jira account on one integration. AccountID is the
// Cloud accountId or the Data Center user key; Name is the Data Center
// username (what DC's REST v2 takes for reporter, assignee and watchers).
type JiraIdentity struct {
	ID            int64 `gorm:"primaryKey"`
	UserID        int64
	IntegrationID int64
	AccountID     string
	Name          string
	DisplayName   string
	LinkedAt      time.Time
}

// TableName is the table of JiraIdentity.
func (JiraIdentity) TableName() string { return "jira_identities" }

// JiraIdentityInput is what a finished consent proved.
type JiraIdentityInput struct {
	AccountID   string
	Name        string
	DisplayName string
}

// ErrJiraIdentityTaken: the Jira account is already linked to another
// Privilege user on that integration.
var ErrJiraIdentityTaken = errors.New("this Jira account is already linked to another Privilege user")

// AssigneeMode is who a project link's tasks are assigned to.
type AssigneeMode string

const (
	AssigneeNone    AssigneeMode = "none"    // nobody (the default)
	AssigneeFixed   AssigneeMode = "fixed"   // one linked user, set on create
	AssigneeDecider AssigneeMode = "decider" // the approver who decides, set on decision
)

// Valid reports whether m is a known mode.
func (m AssigneeMode) Valid() bool {
	return m == AssigneeNone || m == AssigneeFixed || m == AssigneeDecider
}

// PeoplePart is a part of a task that names a person.
type PeoplePart string

const (
	PartReporter PeoplePart = "reporter"
	PartAssignee PeoplePart = "assignee"
	PartWatchers PeoplePart = "watchers"
)

// Problem is what Jira last refused for part on this project's tasks ("" = nothing).
func (p ProjectLink) Problem(part PeoplePart) string {
	switch part {
	case PartReporter:
		return p.ReporterProblem
	case PartAssignee:
		return p.AssigneeProblem
	case PartWatchers:
		return p.WatchersProblem
	}
	return ""
}

// LinkJiraIdentity links the user's Jira identity on an integration,
// replacing the user's earlier one there. A Jira account linked to another
// user is refused with ErrJiraIdentityTaken.
func (s *Store) LinkJiraIdentity(ctx context.Context, a Actor, userID, integrationID int64, in JiraIdentityInput) (JiraIdentity, error) {
	in.AccountID, in.Name, in.DisplayName = strings.TrimSpace(in.AccountID), strings.TrimSpace(in.Name), strings.TrimSpace(in.DisplayName)
	if in.AccountID == "" {
		return JiraIdentity{}, errors.New("link Jira identity: Jira did not name the account")
	}
	id := JiraIdentity{UserID: userID, IntegrationID: integrationID, AccountID: in.AccountID, Name: in.Name, DisplayName: in.DisplayName, LinkedAt: s.Now()}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var integ Integration
		if err := tx.Select("id", "name").Take(&integ, integrationID).Error; err != nil {
			return translate(err, fmt.Sprintf("integration %d", integrationID))
		}
		var other JiraIdentity
		err := tx.Where("integration_id = ? AND account_id = ?", integrationID, in.AccountID).Take(&other).Error
		switch {
		case err == nil && other.UserID != userID:
			return ErrJiraIdentityTaken
		case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
			return translate(err, "find Jira identity")
		}
		var prev []JiraIdentity
		if err := tx.Where("integration_id = ? AND user_id = ?", integrationID, userID).Find(&prev).Error; err != nil {
			return translate(err, "find the user's Jira identity")
		}
		if err := tx.Where("integration_id = ? AND user_id = ?", integrationID, userID).Delete(&JiraIdentity{}).Error; err != nil {
			return translate(err, "replace Jira identity")
		}
		if err := tx.Create(&id).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrJiraIdentityTaken
			}
			return translate(err, "save Jira identity")
		}
		detail := identityDetail(integ.Name, id)
		if len(prev) > 0 {
			detail += " — replacing " + prev[0].DisplayName + " (" + prev[0].AccountID + ")"
		}
		return s.audit(tx, a, AuditJiraLinked, "user", userID, detail)
	})
	if err != nil {
		return JiraIdentity{}, err
	}
	return id, nil
}

func identityDetail(integration string, id JiraIdentity) string {
	who := id.AccountID
	if id.Name != "" {
		who = id.Name + ", key " + id.AccountID
	}
	return fmt.Sprintf("%s: %s (%s)", integration, id.DisplayName, who)
}

// UnlinkJiraIdentity removes one link. ownerID limits it to that user's own
// links (the profile page); 0 lets an admin remove anyone's.
func (s *Store) UnlinkJiraIdentity(ctx context.Context, a Actor, identityID, ownerID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = ?", identityID)
		if ownerID != 0 {
			q = q.Where("user_id = ?", ownerID)
		}
		var id JiraIdentity
		if err := q.Take(&id).Error; err != nil {
			return translate(err, fmt.Sprintf("Jira identity %d", identityID))
		}
		return s.removeJiraIdentities(tx, a, []JiraIdentity{id}, "")
	})
}

// removeJiraIdentities deletes links and audits each, with why when not the owner's own choice.
func (s *Store) removeJiraIdentities(tx *gorm.DB, a Actor, ids []JiraIdentity, why string) error {
	for _, id := range ids {
		var integ Integration
		if err := tx.Select("id", "name").Take(&integ, id.IntegrationID).Error; err != nil {
			return translate(err, fmt.Sprintf("integration %d", id.IntegrationID))
		}
		if err := tx.Delete(&JiraIdentity{}, id.ID).Error; err != nil {
			return translate(err, "remove Jira identity")
		}
		detail := identityDetail(integ.Name, id)
		if why != "" {
			detail += " — " + why
		}
		if err := s.audit(tx, a, AuditJiraUnlinked, "user", id.UserID, detail); err != nil {
			return err
		}
	}
	return nil
}

// removeUserJiraIdentities unlinks every Jira identity of a disabled user.
func (s *Store) removeUserJiraIdentities(tx *gorm.DB, a Actor, userID int64) error {
	var ids []JiraIdentity
	if err := tx.Where("user_id = ?", userID).Order("id").Find(&ids).Error; err != nil {
		return translate(err, "find the user's Jira identities")
	}
	return s.removeJiraIdentities(tx, a, ids, "the user was disabled")
}

// removeIntegrationJiraIdentities unlinks everyone from a disconnected integration.
func (s *Store) removeIntegrationJiraIdentities(tx *gorm.DB, a Actor, integrationID int64) error {
	var ids []JiraIdentity
	if err := tx.Where("integration_id = ?", integrationID).Order("id").Find(&ids).Error; err != nil {
		return translate(err, "find the integration's Jira identities")
	}
	return s.removeJiraIdentities(tx, a, ids, "the integration was disconnected")
}

// JiraIdentitiesOfUsers maps each of userIDs to its links, by integration.
func (s *Store) JiraIdentitiesOfUsers(ctx context.Context, userIDs []int64) (map[int64][]JiraIdentity, error) {
	out := map[int64][]JiraIdentity{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var ids []JiraIdentity
	if err := s.db.WithContext(ctx).Where("user_id IN ?", userIDs).Order("integration_id, id").Find(&ids).Error; err != nil {
		return nil, translate(err, "list Jira identities")
	}
	for _, id := range ids {
		out[id.UserID] = append(out[id.UserID], id)
	}
	return out, nil
}

// IntegrationJiraIdentities lists an integration's links (the Manage page's assignee choice).
func (s *Store) IntegrationJiraIdentities(ctx context.Context, integrationID int64) ([]JiraIdentity, error) {
	var ids []JiraIdentity
	err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).Order("display_name, id").Find(&ids).Error
	return ids, translate(err, "list the integration's Jira identities")
}

// UserJiraIdentity is the user's link on an integration (ErrNotFound: none).
func (s *Store) UserJiraIdentity(ctx context.Context, integrationID, userID int64) (JiraIdentity, error) {
	var id JiraIdentity
	err := s.db.WithContext(ctx).Where("integration_id = ? AND user_id = ?", integrationID, userID).Take(&id).Error
	return id, translate(err, "Jira identity")
}

// ApproverJiraIdentities lists the linked users of an integration who may
// decide a request of requesterID: enabled approvers and admins, not the requester.
func (s *Store) ApproverJiraIdentities(ctx context.Context, integrationID, requesterID int64) ([]JiraIdentity, error) {
	var ids []JiraIdentity
	err := s.db.WithContext(ctx).Table("jira_identities AS j").Select("j.*").
		Joins("JOIN users u ON u.id = j.user_id").
		Where("j.integration_id = ? AND j.user_id <> ? AND u.disabled = ? AND u.role IN ?", integrationID, requesterID, false, []Role{RoleAdmin, RoleApprover}).
		Order("j.id").Find(&ids).Error
	return ids, translate(err, "list approvers' Jira identities")
}

// RecordPeopleProblem saves what Jira refused for part on a project's tasks
// ("" clears it), shown on the integration page.
func (s *Store) RecordPeopleProblem(ctx context.Context, projectLinkID int64, part PeoplePart, problem string) error {
	col := map[PeoplePart]string{PartReporter: "reporter_problem", PartAssignee: "assignee_problem", PartWatchers: "watchers_problem"}[part]
	if col == "" {
		return fmt.Errorf("record people problem: unknown part %q", part)
	}
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&ProjectLink{}).Where("id = ?", projectLinkID).UpdateColumn(col, problem)
	}).Error
	return translate(err, "record what Jira refused")
}
