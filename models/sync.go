package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SyncState is how far a request's Jira task is in step with the request.
type SyncState string

const (
	SyncNotTracked SyncState = "not_tracked" // the account has no Jira project: no task
	SyncPending    SyncState = "pending"     // work queued
	SyncSynced     SyncState = "synced"      // the task matches the request
	SyncFailed     SyncState = "failed"      // Jira refused; an admin must look (Retry)
	SyncParked     SyncState = "parked"      // the integration needs reconnecting
	SyncDetached   SyncState = "detached"    // the project or integration went away
)

// Tracked reports whether changes to the request should reach Jira.
func (s SyncState) Tracked() bool { return s != SyncNotTracked && s != SyncDetached && s != "" }

// JiraIssueLink is the request ↔ issue mapping and what was applied so far.
type JiraIssueLink struct {
	RequestID         int64 `gorm:"primaryKey;autoIncrement:false"`
	IntegrationID     *int64
	ProjectKey        string
	IssueID           string
	IssueKey          string
	IssueURL          string
	JiraStatus        string // the status the syncer last left the task in
	AppliedEventID    int64
	SyncState         SyncState
	LastError         string
	CreateAttemptedAt *time.Time
	LastSyncedAt      *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// JobState is the state of a sync job.
type JobState string

const (
	JobPending JobState = "pending"
	JobRunning JobState = "running"
	JobFailed  JobState = "failed"
	JobParked  JobState = "parked"
)

// SyncJob says "make the Jira task of request R match R". It is written in
// the same transaction as the change it follows (transactional outbox).
type SyncJob struct {
	ID          int64 `gorm:"primaryKey"`
	RequestID   int64
	State       JobState
	Attempts    int
	RunAfter    time.Time
	LockedBy    string
	LockedUntil *time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (s *Store) enqueue(tx *gorm.DB, requestID int64) error {
	now := s.Now()
	if err := tx.Exec(insertSyncJob, requestID, JobPending, now, now, now).Error; err != nil {
		return translate(err, "enqueue sync job")
	}
	s.enqueued.Add(1)
	return nil
}

// backfill starts tracking the pending requests of newly linked accounts.
func (s *Store) backfill(tx *gorm.DB, accountIDs []int64) error {
	if len(accountIDs) == 0 {
		return nil
	}
	var ids []int64
	err := tx.Model(&AccessRequest{}).Where("account_id IN ? AND status = ?", accountIDs, RequestPending).
		Where("id IN (?)", tx.Model(&JiraIssueLink{}).Select("request_id").Where("sync_state IN ? AND issue_key = ''", []SyncState{SyncNotTracked, SyncDetached})).
		Pluck("id", &ids).Error
	if err != nil {
		return translate(err, "find requests to backfill")
	}
	if len(ids) == 0 {
		return nil
	}
	if err := tx.Model(&JiraIssueLink{}).Where("request_id IN ?", ids).
		Updates(map[string]any{"sync_state": SyncPending, "last_error": "", "updated_at": s.Now()}).Error; err != nil {
		return translate(err, "backfill issue links")
	}
	return s.enqueueMany(tx, ids)
}

// ClaimJobs leases up to n due jobs to owner until now+lease. Only the oldest
// unfinished job of each request is claimable, which keeps per-request order;
// expired leases (a crashed worker) are claimed again. PostgreSQL uses
// FOR UPDATE SKIP LOCKED so replicas share the work. Both lookups ride an
// index (state, run_after / locked_until), so a claim costs the same with a
// long history: settled jobs are deleted.
func (s *Store) ClaimJobs(ctx context.Context, owner string, n int, lease time.Duration) ([]SyncJob, error) {
	now := s.Now()
	var jobs []SyncJob
	err := s.tx(ctx, func(tx *gorm.DB) error {
		due := s.claimable(tx, n).Where("state = ? AND run_after <= ?", JobPending, now).Order("run_after, id")
		var ids []int64
		if err := due.Pluck("id", &ids).Error; err != nil {
			return translate(err, "find due jobs")
		}
		if len(ids) < n {
			var stale []int64
			lost := s.claimable(tx, n-len(ids)).Where("state = ? AND locked_until < ?", JobRunning, now).Order("id")
			if err := lost.Pluck("id", &stale).Error; err != nil {
				return translate(err, "find jobs of crashed workers")
			}
			ids = append(ids, stale...)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Model(&SyncJob{}).Where("id IN ?", ids).Updates(map[string]any{
			"state": JobRunning, "locked_by": owner, "locked_until": now.Add(lease),
			"attempts": gorm.Expr("attempts + 1"), "updated_at": now,
		}).Error; err != nil {
			return translate(err, "claim jobs")
		}
		return translate(tx.Where("id IN ?", ids).Order("id").Find(&jobs).Error, "load claimed jobs")
	})
	return jobs, err
}

// claimable selects up to n job ids whose request has no older unfinished job.
func (s *Store) claimable(tx *gorm.DB, n int) *gorm.DB {
	q := tx.Model(&SyncJob{}).Select("id").
		Where("NOT EXISTS (SELECT 1 FROM sync_jobs o WHERE o.request_id = sync_jobs.request_id AND o.id < sync_jobs.id AND o.state IN ?)",
			[]JobState{JobPending, JobRunning}).
		Limit(n)
	if s.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return q
}

// RenewLeases extends owner's leases on its running jobs ids to now+lease
// (the syncer's heartbeat) and returns the ids it still holds: a job missing
// from the answer was claimed by another worker after the lease ran out, or
// settled, and its worker must stop.
func (s *Store) RenewLeases(ctx context.Context, owner string, ids []int64, lease time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	now := s.Now()
	var renewed []SyncJob // the ids the update returns
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&renewed).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
			Where("id IN ? AND locked_by = ? AND state = ?", ids, owner, JobRunning).UpdateColumn("locked_until", now.Add(lease))
	}).Error
	if err != nil {
		return nil, translate(err, "renew job leases")
	}
	held := make([]int64, len(renewed))
	for i, j := range renewed {
		held[i] = j.ID
	}
	return held, nil
}

// ReleaseJobs hands claimed jobs that never started back to the pool (a
// stopping syncer), so they need not wait for their lease to end.
func (s *Store) ReleaseJobs(ctx context.Context, owner string, jobs []SyncJob) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return translate(tx.Model(&SyncJob{}).Where("id IN ? AND state = ? AND locked_by = ?", ids, JobRunning, owner).Updates(map[string]any{
			"state": JobPending, "locked_by": "", "locked_until": nil, "attempts": gorm.Expr("attempts - 1"), "updated_at": s.Now(),
		}).Error, "release jobs")
	})
}

// SyncWork is what a worker needs to reconcile one request, read before any
// Jira call. Watermark is the newest job of the request when it was read:
// finishing the work settles every job up to it.
type SyncWork struct {
	Request   AccessRequest
	Link      JiraIssueLink
	Watermark int64
}

// LoadSyncWork reads the request with its watermark in one statement, so
// every job up to the watermark is covered by the state read, and its
// resources and events in the same read transaction.
func (s *Store) LoadSyncWork(ctx context.Context, requestID int64) (SyncWork, error) {
	var w SyncWork
	var err error
	if w.Request, err = s.readRequest(ctx, requestID, &w.Watermark); err != nil {
		return w, err
	}
	if w.Request.Issue == nil {
		return w, fmt.Errorf("request %d has no issue link: %w", requestID, ErrNotFound)
	}
	w.Link = *w.Request.Issue
	return w, nil
}

// RecordCreateAttempt notes, before the create call, that an issue may come
// to exist: a later attempt then searches before creating again.
func (s *Store) RecordCreateAttempt(ctx context.Context, requestID, integrationID int64, projectKey string) error {
	now := s.Now()
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Exec(recordCreateAttempt, integrationID, projectKey, now, now, requestID)
	}).Error
	return translate(err, "record create attempt")
}

// SyncProgress is what a reconcile achieved in Jira; it is saved in the same
// transaction as the job's outcome, whatever that outcome is.
type SyncProgress struct {
	IssueID, IssueKey, IssueURL string // the issue the run created or found
	AppliedEventID              int64  // the newest lifecycle event now on the issue
	JiraStatus                  string // the task's status after the run ("" = not known)
	CreateRefused               bool   // Jira refused the create outright: no issue was made, forget the attempt
}

// saveLinkOutcome sets the request's sync state, error and progress
// (updateLinkOutcome).
func saveLinkOutcome(tx *gorm.DB, requestID int64, state SyncState, lastErr string, now time.Time, p SyncProgress) error {
	args := append([]any{state, lastErr, now}, linkProgressArgs(p)...)
	return tx.Exec(updateLinkOutcome, append(args, requestID)...).Error
}

// CompleteJob settles the job and every older job of its request, saves the
// progress and sets the request's sync state, in one transaction.
func (s *Store) CompleteJob(ctx context.Context, job SyncJob, watermark int64, state SyncState, note string, p SyncProgress) error {
	now := s.Now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		// Settled jobs are deleted: the job and every older job of the request
		// not running elsewhere (pending, or failed or parked earlier), whose
		// work the reconcile covered.
		if err := tx.Exec(deleteSettledJobs, job.RequestID, job.ID, watermark, JobPending, JobFailed, JobParked).Error; err != nil {
			return translate(err, "complete job")
		}
		if state != SyncSynced {
			return translate(saveLinkOutcome(tx, job.RequestID, state, note, now, p), "set sync state")
		}
		// A newer job still queued keeps the request pending.
		args := append([]any{job.RequestID, watermark, JobPending, JobRunning, SyncPending, SyncSynced, now, note, now}, linkProgressArgs(p)...)
		return translate(tx.Exec(updateLinkSynced, append(args, job.RequestID)...).Error, "set sync state")
	})
}

// RetryJob releases the job to run again at runAfter, keeping the error.
func (s *Store) RetryJob(ctx context.Context, job SyncJob, runAfter time.Time, lastErr string, p SyncProgress) error {
	now := s.Now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&SyncJob{}).Where("id = ?", job.ID).Updates(map[string]any{
			"state": JobPending, "run_after": runAfter.UTC(), "locked_by": "", "locked_until": nil, "last_error": lastErr, "updated_at": now,
		}).Error; err != nil {
			return translate(err, "reschedule job")
		}
		return translate(saveLinkOutcome(tx, job.RequestID, SyncPending, lastErr, now, p), "set sync error")
	})
}

// FailJob stops retrying: Jira refused the change. An admin can Retry.
func (s *Store) FailJob(ctx context.Context, job SyncJob, lastErr string, p SyncProgress) error {
	return s.settleJob(ctx, job, JobFailed, SyncFailed, lastErr, p)
}

// ParkJob holds the job until the integration is reconnected.
func (s *Store) ParkJob(ctx context.Context, job SyncJob, lastErr string, p SyncProgress) error {
	return s.settleJob(ctx, job, JobParked, SyncParked, lastErr, p)
}

func (s *Store) settleJob(ctx context.Context, job SyncJob, js JobState, ss SyncState, lastErr string, p SyncProgress) error {
	now := s.Now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		// Older pending jobs of the request would only repeat this job's work.
		if err := tx.Model(&SyncJob{}).Where("request_id = ? AND (id = ? OR (id < ? AND state = ?))", job.RequestID, job.ID, job.ID, JobPending).
			Updates(map[string]any{"state": js, "locked_by": "", "locked_until": nil, "last_error": lastErr, "updated_at": now}).Error; err != nil {
			return translate(err, "settle job")
		}
		return translate(saveLinkOutcome(tx, job.RequestID, ss, lastErr, now, p), "set sync state")
	})
}

// linkOwners selects from jira_issue_links (l) joined to where a request's
// integration is found: where its task lives (l.integration_id), or before
// the task exists, the integration of the project its account is linked to
// (p.integration_id); linkOwner is that integration.
func linkOwners(db *gorm.DB) *gorm.DB {
	return db.Table("jira_issue_links l").
		Joins("JOIN access_requests r ON r.id = l.request_id").
		Joins("JOIN cloud_accounts a ON a.id = r.account_id").
		Joins("LEFT JOIN project_links p ON p.id = a.project_link_id")
}

const linkOwner = "COALESCE(l.integration_id, p.integration_id)"

// integrationRequests lists the requests of an integration whose link is in
// one of states.
func integrationRequests(tx *gorm.DB, integrationID int64, states []SyncState) ([]int64, error) {
	var ids []int64
	err := linkOwners(tx).Where("l.sync_state IN ? AND "+linkOwner+" = ?", states, integrationID).Pluck("l.request_id", &ids).Error
	return ids, err
}

func (s *Store) resumeParked(tx *gorm.DB, integrationID int64) error {
	now := s.Now()
	// The requests of this integration: their task lives there, or (before
	// the task exists) their account is linked to one of its projects.
	reqIDs, err := integrationRequests(tx, integrationID, []SyncState{SyncParked})
	if err != nil {
		return translate(err, "find parked requests")
	}
	if len(reqIDs) == 0 {
		return nil
	}
	if err := tx.Model(&SyncJob{}).Where("state = ? AND request_id IN ?", JobParked, reqIDs).
		Updates(map[string]any{"state": JobPending, "run_after": now, "attempts": 0, "updated_at": now}).Error; err != nil {
		return translate(err, "resume parked jobs")
	}
	return translate(tx.Model(&JiraIssueLink{}).Where("request_id IN ? AND sync_state = ?", reqIDs, SyncParked).
		Updates(map[string]any{"sync_state": SyncPending, "last_error": "", "updated_at": now}).Error, "resume parked links")
}

// RetryRequestSync re-queues a failed request's sync (the Retry button).
func (s *Store) RetryRequestSync(ctx context.Context, a Actor, requestID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&JiraIssueLink{}).Where("request_id = ? AND sync_state IN ?", requestID, []SyncState{SyncFailed, SyncParked}).
			Updates(map[string]any{"sync_state": SyncPending, "updated_at": s.Now()})
		if res.Error != nil {
			return translate(res.Error, "retry sync")
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("request %d has no failed sync: %w", requestID, ErrConflict)
		}
		// The failed or parked job is replaced by the new one.
		if err := tx.Where("request_id = ? AND state IN ?", requestID, []JobState{JobFailed, JobParked}).Delete(&SyncJob{}).Error; err != nil {
			return translate(err, "drop settled jobs")
		}
		if err := s.enqueue(tx, requestID); err != nil {
			return err
		}
		return s.audit(tx, a, AuditSyncRetried, "request", requestID, "")
	})
}

// SyncStats is the health of the sync for an integration page and metrics.
type SyncStats struct {
	Backlog          int64 // jobs pending or running
	Failed           int64 // requests whose sync failed
	Parked           int64 // requests waiting for a reconnect
	OldestPendingAge time.Duration
}

// SyncStats counts jobs and failures across integrations (the outbox is global).
func (s *Store) SyncStats(ctx context.Context) (SyncStats, error) {
	var st SyncStats
	db := s.db.WithContext(ctx)
	if err := db.Model(&SyncJob{}).Where("state IN ?", []JobState{JobPending, JobRunning}).Count(&st.Backlog).Error; err != nil {
		return st, translate(err, "count backlog")
	}
	if err := db.Model(&JiraIssueLink{}).Where("sync_state = ?", SyncFailed).Count(&st.Failed).Error; err != nil {
		return st, translate(err, "count failures")
	}
	if err := db.Model(&JiraIssueLink{}).Where("sync_state = ?", SyncParked).Count(&st.Parked).Error; err != nil {
		return st, translate(err, "count parked")
	}
	var oldest SyncJob
	err := db.Where("state IN ?", []JobState{JobPending, JobRunning}).Order("id").Limit(1).Find(&oldest).Error
	if err != nil {
		return st, translate(err, "oldest job")
	}
	if oldest.ID != 0 {
		st.OldestPendingAge = s.Now().Sub(oldest.CreatedAt)
	}
	return st, nil
}

// FailedSyncs lists the requests whose sync failed or is parked, newest first.
func (s *Store) FailedSyncs(ctx context.Context, limit int) ([]JiraIssueLink, error) {
	var out []JiraIssueLink
	err := s.db.WithContext(ctx).Where("sync_state IN ?", []SyncState{SyncFailed, SyncParked}).Order("updated_at DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list failed syncs")
}

// IntegrationSyncCounts is the sync backlog and trouble of one integration.
type IntegrationSyncCounts struct {
	Backlog, Failed, Parked int64
}

// SyncCountsByIntegration attributes each request's sync to the integration
// its task lives in (or, before the task exists, the one its account is
// linked to), for the Integrations page.
func (s *Store) SyncCountsByIntegration(ctx context.Context) (map[int64]IntegrationSyncCounts, error) {
	type row struct {
		IntegrationID int64
		State         string
		N             int64
	}
	var jobs, links []row
	db := s.db.WithContext(ctx)
	err := linkOwners(db).Select(linkOwner+" AS integration_id, '' AS state, COUNT(*) AS n").
		Joins("JOIN sync_jobs j ON j.request_id = l.request_id").
		Where("j.state IN ?", []JobState{JobPending, JobRunning}).Group(linkOwner).Scan(&jobs).Error
	if err != nil {
		return nil, translate(err, "count backlog by integration")
	}
	err = linkOwners(db).Select(linkOwner+" AS integration_id, l.sync_state AS state, COUNT(*) AS n").
		Where("l.sync_state IN ?", []SyncState{SyncFailed, SyncParked}).Group(linkOwner + ", l.sync_state").Scan(&links).Error
	if err != nil {
		return nil, translate(err, "count failures by integration")
	}
	out := map[int64]IntegrationSyncCounts{}
	for _, r := range jobs {
		c := out[r.IntegrationID]
		c.Backlog += r.N
		out[r.IntegrationID] = c
	}
	for _, r := range links {
		c := out[r.IntegrationID]
		if SyncState(r.State) == SyncFailed {
			c.Failed += r.N
		} else {
			c.Parked += r.N
		}
		out[r.IntegrationID] = c
	}
	return out, nil
}

// NextRunAfter is when the earliest pending job becomes due (ok false: none).
func (s *Store) NextRunAfter(ctx context.Context) (time.Time, bool, error) {
	var job SyncJob
	err := s.db.WithContext(ctx).Select("id", "run_after").Where("state = ?", JobPending).Order("run_after").Limit(1).Find(&job).Error
	if err != nil {
		return time.Time{}, false, translate(err, "next due job")
	}
	return job.RunAfter, job.ID != 0, nil
}
