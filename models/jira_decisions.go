package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Decisions from Jira (design.md §9): a person moving a request's task to the
// project's approve or deny status decides the request, if that Jira user is
// linked to a Privilege user who may decide it now. Each such move (a Jira
// changelog entry) is handled once, recorded in jira_decision_moves.

// ViaJira marks a request event decided by moving the Jira task.
const ViaJira = "jira"

// Audit actions of decisions from Jira.
const (
	AuditJiraDecisionRefused AuditAction = "request.jira_decision_refused"
	AuditJiraDecisionsSet    AuditAction = "project.jira_decisions"
	AuditWebhookSecretRotate AuditAction = "integration.webhook_secret_rotated"
)

// JiraRefusal is why a move in Jira decided nothing.
type JiraRefusal string

const (
	RefusalNone        JiraRefusal = ""
	RefusalNotLinked   JiraRefusal = "not_linked"
	RefusalNotApprover JiraRefusal = "not_approver"
	RefusalOwnRequest  JiraRefusal = "own_request"
	RefusalDecided     JiraRefusal = "already_decided"
	RefusalExpired     JiraRefusal = "expired"
)

// Explain is the refusal as the Jira comment says it.
func (r JiraRefusal) Explain() string {
	switch r {
	case RefusalNotLinked:
		return "this Jira user is not linked to a Privilege user (link it on the Privilege profile page)"
	case RefusalNotApprover:
		return "the linked Privilege user is not an approver"
	case RefusalOwnRequest:
		return "nobody can decide their own request"
	case RefusalDecided:
		return "the request has already been decided"
	case RefusalExpired:
		return "the request has expired"
	}
	return string(r)
}

// JiraMove is a person's status change of a request's task, as read back from
// Jira's changelog (never from a webhook payload).
type JiraMove struct {
	IntegrationID int64
	RequestID     int64
	ChangelogID   string
	AuthorID      string // Cloud accountId; Data Center user key
	AuthorName    string // display name
	Decision      Decision
	Reason        string
}

// JiraMoveHandled reports whether the move was handled already.
func (s *Store) JiraMoveHandled(ctx context.Context, integrationID int64, changelogID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("jira_decision_moves").Where("integration_id = ? AND changelog_id = ?", integrationID, changelogID).Count(&n).Error
	return n > 0, translate(err, "read handled Jira move")
}

// CheckJiraMove says whether the move may decide the request now, and as whom.
func (s *Store) CheckJiraMove(ctx context.Context, m JiraMove) (User, JiraRefusal, error) {
	db := s.db.WithContext(ctx)
	req, err := s.readRequest(ctx, m.RequestID, nil)
	if err != nil {
		return User{}, RefusalNone, err
	}
	var id JiraIdentity
	err = db.Where("integration_id = ? AND account_id = ?", m.IntegrationID, m.AuthorID).Take(&id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, RefusalNotLinked, nil
	}
	if err != nil {
		return User{}, RefusalNone, translate(err, "find Jira identity")
	}
	u, err := s.UserByID(ctx, id.UserID)
	if err != nil {
		return User{}, RefusalNone, err
	}
	return u, refusalFor(u, req), nil
}

func refusalFor(u User, req AccessRequest) JiraRefusal {
	switch {
	case u.Disabled:
		return RefusalNotLinked
	case req.RequesterID == u.ID:
		return RefusalOwnRequest
	case !u.Role.CanApprove():
		return RefusalNotApprover
	case req.Status == RequestExpired:
		return RefusalExpired
	case req.Status != RequestPending:
		return RefusalDecided
	}
	return RefusalNone
}

// markMove records the move as handled; false when it was already.
func (s *Store) markMove(tx *gorm.DB, m JiraMove, outcome string) (bool, error) {
	res := tx.Table("jira_decision_moves").Clauses(clause.OnConflict{DoNothing: true}).Create(map[string]any{
		"integration_id": m.IntegrationID, "changelog_id": m.ChangelogID, "request_id": m.RequestID, "outcome": outcome, "created_at": s.Now(),
	})
	if res.Error != nil {
		return false, translate(res.Error, "record Jira move")
	}
	return res.RowsAffected == 1, nil
}

// ApplyJiraMove decides the request as u, recording the move in the same
// transaction: a move is applied once, and of a console and a Jira decision
// exactly one wins (the other gets the refusal "already decided", and
// nothing is recorded, so the caller moves the task back and says so).
func (s *Store) ApplyJiraMove(ctx context.Context, m JiraMove, u User) (JiraRefusal, error) {
	reason, err := checkReason(m.Reason, false)
	if err != nil {
		reason = truncateReason(m.Reason)
	}
	kind := "approved"
	if m.Decision == DecisionDeny {
		kind = "denied"
	}
	detail := fmt.Sprintf("%s via Jira by %s (Jira: %s, %s)", kind, u.Email, m.AuthorName, m.AuthorID)
	if reason != "" {
		detail += ": " + reason
	}
	refusal := RefusalNone
	err = s.tx(ctx, func(tx *gorm.DB) error {
		fresh, err := s.markMove(tx, m, "applied")
		if err != nil || !fresh {
			return err
		}
		req, err := readRequestTx(tx, m.RequestID, nil)
		if err != nil {
			return err
		}
		if refusal = refusalFor(u, req); refusal != RefusalNone {
			return errJiraRefused
		}
		_, err = s.decideTx(tx, u, nil, m.RequestID, m.Decision, reason, ViaJira, detail)
		switch {
		case errors.Is(err, ErrAlreadyDecided):
			refusal = RefusalDecided
			return errJiraRefused
		case errors.Is(err, ErrSelfApproval):
			refusal = RefusalOwnRequest
			return errJiraRefused
		}
		return err
	})
	if errors.Is(err, errJiraRefused) {
		return refusal, nil
	}
	return RefusalNone, err
}

var errJiraRefused = errors.New("refused")

func truncateReason(r string) string {
	runes := []rune(strings.TrimSpace(r))
	if len(runes) > MaxReasonLength {
		runes = runes[:MaxReasonLength-1]
		return string(runes) + "…"
	}
	return string(runes)
}

// RecordJiraRefusal records a refused move (after the task was moved back
// and the comment posted) and audits it.
func (s *Store) RecordJiraRefusal(ctx context.Context, m JiraMove, r JiraRefusal) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		fresh, err := s.markMove(tx, m, string(r))
		if err != nil || !fresh {
			return err
		}
		detail := fmt.Sprintf("%s in Jira by %s (%s) refused: %s", m.Decision, m.AuthorName, m.AuthorID, r.Explain())
		return s.audit(tx, SystemActor, AuditJiraDecisionRefused, "request", m.RequestID, detail)
	})
}

// JiraDecisionsInput is the "Approve and deny in Jira" part of a project link.
type JiraDecisionsInput struct {
	On                        bool
	ApproveStatus, DenyStatus string
	Statuses                  []string // the project's statuses, to check the choice against ("" skips)
	ReachableFromInitial      []string // statuses reachable from where new tasks start (nil skips)
}

// SetJiraDecisions turns "Approve and deny in Jira" on or off for a project
// link. The approve and deny statuses must differ, exist, be reachable from
// where new tasks start, and not be a status Privilege moves tasks to for
// another outcome (its own move would look like a person's decision).
func (s *Store) SetJiraDecisions(ctx context.Context, a Actor, linkID int64, in JiraDecisionsInput) (ProjectLink, error) {
	var pl ProjectLink
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&pl, linkID).Error; err != nil {
			return translate(err, "read project link")
		}
		in.ApproveStatus, in.DenyStatus = strings.TrimSpace(in.ApproveStatus), strings.TrimSpace(in.DenyStatus)
		if in.On {
			if err := checkJiraDecisions(pl, in); err != nil {
				return err
			}
		}
		upd := map[string]any{"decide_in_jira": in.On, "jira_approve_status": in.ApproveStatus, "jira_deny_status": in.DenyStatus, "updated_at": s.Now()}
		if in.On && !pl.DecideInJira {
			now := s.Now()
			upd["decide_in_jira_since"] = now
			pl.DecideInJiraSince = &now
		}
		if err := tx.Model(&ProjectLink{}).Where("id = ?", linkID).Updates(upd).Error; err != nil {
			return translate(err, "save Jira decisions")
		}
		pl.DecideInJira, pl.JiraApproveStatus, pl.JiraDenyStatus = in.On, in.ApproveStatus, in.DenyStatus
		detail := fmt.Sprintf("%s: approve and deny in Jira off", pl.ProjectKey)
		if in.On {
			detail = fmt.Sprintf("%s: approve and deny in Jira on (approve %q, deny %q)", pl.ProjectKey, in.ApproveStatus, in.DenyStatus)
		}
		return s.audit(tx, a, AuditJiraDecisionsSet, "project_link", linkID, detail)
	})
	return pl, err
}

func checkJiraDecisions(pl ProjectLink, in JiraDecisionsInput) error {
	fe := FieldErrors{}
	has := func(list []string, v string) bool {
		for _, x := range list {
			if strings.EqualFold(x, v) {
				return true
			}
		}
		return false
	}
	for _, f := range []struct{ field, value, own string }{
		{"jira_approve_status", in.ApproveStatus, pl.StatusApproved},
		{"jira_deny_status", in.DenyStatus, pl.StatusDenied},
	} {
		switch {
		case f.value == "":
			fe.Add(f.field, "Pick a status.")
		case len(in.Statuses) > 0 && !has(in.Statuses, f.value):
			fe.Add(f.field, fmt.Sprintf("The project's workflow has no status %q.", f.value))
		case in.ReachableFromInitial != nil && !has(in.ReachableFromInitial, f.value):
			fe.Add(f.field, fmt.Sprintf("%q cannot be reached from the status new tasks start in.", f.value))
		}
		for _, other := range []struct {
			name, status string
		}{{"approved", pl.StatusApproved}, {"denied", pl.StatusDenied}, {"cancelled", pl.StatusCancelled}, {"expired", pl.StatusExpired}} {
			if f.value != "" && other.status != f.own && strings.EqualFold(other.status, f.value) {
				fe.Add(f.field, fmt.Sprintf("Privilege itself moves %s requests to %q; pick another status.", other.name, f.value))
			}
		}
	}
	if in.ApproveStatus != "" && strings.EqualFold(in.ApproveStatus, in.DenyStatus) {
		fe.Add("jira_deny_status", "Approve and deny need different statuses.")
	}
	return fe.Err()
}

// DecisionProjectLinks lists the project links of an integration with
// "Approve and deny in Jira" on.
func (s *Store) DecisionProjectLinks(ctx context.Context, integrationID int64) ([]ProjectLink, error) {
	var out []ProjectLink
	err := s.db.WithContext(ctx).Where("integration_id = ? AND decide_in_jira", integrationID).Order("project_key").Find(&out).Error
	return out, translate(err, "list decision project links")
}

// EnqueueIssueCheck queues a reconcile of the request whose task is the
// issue (key or id) on the integration: a notice names an issue, nothing
// more. Idempotent: a reconcile already due is not queued twice. False when
// no request has that task.
func (s *Store) EnqueueIssueCheck(ctx context.Context, integrationID int64, issue string) (bool, error) {
	queued := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Model(&JiraIssueLink{}).Where("integration_id = ? AND (issue_key = ? OR issue_id = ?) AND issue_key <> ''", integrationID, strings.ToUpper(issue), issue).
			Limit(1).Pluck("request_id", &ids).Error; err != nil {
			return translate(err, "find the issue's request")
		}
		if len(ids) == 0 {
			// Jira shows a task before its creator has recorded the key (the
			// creating job records it when it completes, after reading the
			// issue's moves): a notice naming an unknown issue re-runs every
			// request of the integration whose task is being created now.
			if err := tx.Model(&JiraIssueLink{}).
				Where("issue_key = '' AND (integration_id = ? OR integration_id IS NULL)", integrationID).
				Where("request_id IN (?)", tx.Model(&SyncJob{}).Select("request_id").Where("state = ?", JobRunning)).
				Pluck("request_id", &ids).Error; err != nil {
				return translate(err, "find tasks being created")
			}
			for _, id := range ids {
				if err := s.enqueue(tx, id); err != nil {
					return err
				}
			}
			queued = len(ids) > 0
			return nil
		}
		queued = true
		// A due pending job will read Jira after this notice's change, unless
		// a running reconcile (which may have read Jira before it) settles
		// that job with its own: then a new job is needed.
		var due, running int64
		if err := tx.Model(&SyncJob{}).Where("request_id = ? AND state = ? AND run_after <= ?", ids[0], JobPending, s.Now()).Count(&due).Error; err != nil {
			return translate(err, "find due job")
		}
		if err := tx.Model(&SyncJob{}).Where("request_id = ? AND state = ?", ids[0], JobRunning).Count(&running).Error; err != nil {
			return translate(err, "find running job")
		}
		if due > 0 && running == 0 {
			return nil
		}
		return s.enqueue(tx, ids[0])
	})
	return queued, err
}

// ----- webhooks and polling, per integration -----

// WebhookToken returns the integration's unguessable webhook URL token,
// making one on first use.
func (s *Store) WebhookToken(ctx context.Context, id int64) (string, error) {
	var in Integration
	if err := s.db.WithContext(ctx).Select("id", "webhook_token").Take(&in, id).Error; err != nil {
		return "", translate(err, "read webhook token")
	}
	if in.WebhookToken != "" {
		return in.WebhookToken, nil
	}
	tok := randomHex(24)
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ? AND webhook_token = ''", id).Update("webhook_token", tok)
	}).Error
	if err != nil {
		return "", translate(err, "save webhook token")
	}
	if err := s.db.WithContext(ctx).Select("id", "webhook_token").Take(&in, id).Error; err != nil {
		return "", translate(err, "read webhook token")
	}
	return in.WebhookToken, nil
}

// IntegrationByWebhookToken finds the integration a webhook URL names.
func (s *Store) IntegrationByWebhookToken(ctx context.Context, token string) (Integration, error) {
	var in Integration
	if token == "" {
		return in, ErrNotFound
	}
	err := s.db.WithContext(ctx).Where("webhook_token = ?", token).Take(&in).Error
	return in, translate(err, "find integration by webhook token")
}

// WebhookSecret returns the Data Center webhook secret, making one on first
// use ("" on Cloud, whose deliveries are signed with the app's secret).
func (s *Store) WebhookSecret(ctx context.Context, id int64) (string, error) {
	in, err := s.IntegrationSettings(ctx, id)
	if err != nil {
		return "", err
	}
	if in.Deployment != DeploymentDataCenter {
		return "", nil
	}
	if in.WebhookSecretEnc != "" {
		return s.sealer.Open(in.WebhookSecretEnc, sealAAD(id, "webhook_secret"))
	}
	return s.rotateWebhookSecret(ctx, nil, id, true)
}

// RotateWebhookSecret replaces the Data Center webhook secret; deliveries
// signed with the old one are refused from then on.
func (s *Store) RotateWebhookSecret(ctx context.Context, a Actor, id int64) (string, error) {
	return s.rotateWebhookSecret(ctx, &a, id, false)
}

func (s *Store) rotateWebhookSecret(ctx context.Context, a *Actor, id int64, onlyIfEmpty bool) (string, error) {
	secret := randomHex(32)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&Integration{}).Where("id = ? AND deployment = ?", id, DeploymentDataCenter)
		if onlyIfEmpty {
			q = q.Where("webhook_secret_enc = ''")
		}
		res := q.Updates(map[string]any{"webhook_secret_enc": s.sealer.Seal(secret, sealAAD(id, "webhook_secret")), "updated_at": s.Now()})
		if res.Error != nil {
			return translate(res.Error, "save webhook secret")
		}
		if res.RowsAffected == 0 && !onlyIfEmpty {
			return ErrNotFound
		}
		if a == nil {
			return nil
		}
		return s.audit(tx, *a, AuditWebhookSecretRotate, "integration", id, "Data Center webhook secret rotated")
	})
	if err != nil {
		return "", err
	}
	if onlyIfEmpty {
		in, err := s.IntegrationSettings(ctx, id)
		if err != nil {
			return "", err
		}
		return s.sealer.Open(in.WebhookSecretEnc, sealAAD(id, "webhook_secret"))
	}
	return secret, nil
}

// WebhookState is a Cloud integration's dynamic webhook registration.
type WebhookState struct {
	IDs       []string
	JQL       string
	ExpiresAt *time.Time
	Error     string
}

// WebhookIDList splits the stored ids.
func (i Integration) WebhookIDList() []string {
	var out []string
	for _, id := range strings.Split(i.WebhookIDs, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// SaveWebhookState records the registration (or its failure).
func (s *Store) SaveWebhookState(ctx context.Context, id int64, st WebhookState) error {
	var exp any
	if st.ExpiresAt != nil {
		exp = st.ExpiresAt.UTC()
	}
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ?", id).Updates(map[string]any{
			"webhook_ids": strings.Join(st.IDs, ","), "webhook_jql": st.JQL, "webhook_expires_at": exp, "webhook_error": st.Error,
		})
	}).Error
	return translate(err, "save webhook state")
}

// ClaimPoll takes the integration's next poll if it is due (one replica per
// interval wins) and returns the watermark to search from.
func (s *Store) ClaimPoll(ctx context.Context, id int64, interval time.Duration) (watermark *time.Time, claimed bool, err error) {
	now := s.Now()
	res := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ? AND (poll_next_at IS NULL OR poll_next_at <= ?)", id, now).
			Update("poll_next_at", now.Add(interval))
	})
	if res.Error != nil {
		return nil, false, translate(res.Error, "claim poll")
	}
	if res.RowsAffected == 0 {
		return nil, false, nil
	}
	var in Integration
	if err := s.db.WithContext(ctx).Select("id", "poll_watermark").Take(&in, id).Error; err != nil {
		return nil, false, translate(err, "read poll watermark")
	}
	return in.PollWatermark, true, nil
}

// SavePoll records a poll's outcome: the new watermark (nil keeps the old
// one) and the error ("" when it worked).
func (s *Store) SavePoll(ctx context.Context, id int64, watermark *time.Time, pollErr string) error {
	upd := map[string]any{"poll_error": pollErr}
	if watermark != nil {
		upd["poll_watermark"] = watermark.UTC()
	}
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB { return db.Model(&Integration{}).Where("id = ?", id).Updates(upd) }).Error
	return translate(err, "save poll")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
