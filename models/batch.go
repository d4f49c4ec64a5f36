package models

import (
	"strconv"

	"gorm.io/gorm"
)

// Set-based writes for the sweeps that touch many requests at once (the
// expiry sweep, the backfill of newly linked accounts): a fixed number of
// statements per batch instead of several per request.

// batchRows bounds the rows of one multi-row INSERT (9 columns × 500 stays
// far below SQLite's and PostgreSQL's parameter limits).
const batchRows = 500

// enqueueMany writes one sync job per request (the batch form of enqueue).
func (s *Store) enqueueMany(tx *gorm.DB, requestIDs []int64) error {
	if len(requestIDs) == 0 {
		return nil
	}
	now := s.Now()
	jobs := make([]SyncJob, len(requestIDs))
	for i, id := range requestIDs {
		jobs[i] = SyncJob{RequestID: id, State: JobPending, RunAfter: now, CreatedAt: now, UpdatedAt: now}
	}
	if err := tx.CreateInBatches(jobs, batchRows).Error; err != nil {
		return translate(err, "enqueue sync jobs")
	}
	s.enqueued.Add(int64(len(requestIDs)))
	return nil
}

// recordEvents is recordEvent for many requests that went through the same
// change: their events, the sync jobs of the tracked ones (whose synced tasks
// turn pending again) and the audit trail, in five statements.
func (s *Store) recordEvents(tx *gorm.DB, requestIDs []int64, a Actor, kind EventKind, reason string, action AuditAction) error {
	if len(requestIDs) == 0 {
		return nil
	}
	now := s.Now()
	var actorID *int64
	if a.UserID != 0 {
		id := a.UserID
		actorID = &id
	}
	events := make([]RequestEvent, len(requestIDs))
	for i, id := range requestIDs {
		events[i] = RequestEvent{RequestID: id, Kind: kind, ActorID: actorID, ActorEmail: a.Email, Reason: reason, At: now}
	}
	if err := tx.CreateInBatches(events, batchRows).Error; err != nil {
		return translate(err, "record request events")
	}
	var tracked []int64
	if err := tx.Model(&JiraIssueLink{}).Where("request_id IN ? AND sync_state NOT IN ?", requestIDs, []SyncState{SyncNotTracked, SyncDetached, ""}).
		Pluck("request_id", &tracked).Error; err != nil {
		return translate(err, "read sync states")
	}
	if err := s.enqueueMany(tx, tracked); err != nil {
		return err
	}
	if len(tracked) > 0 {
		if err := tx.Model(&JiraIssueLink{}).Where("request_id IN ? AND sync_state = ?", tracked, SyncSynced).
			Updates(map[string]any{"sync_state": SyncPending, "updated_at": now}).Error; err != nil {
			return translate(err, "mark sync pending")
		}
	}
	detail := string(kind)
	if reason != "" {
		detail += ": " + reason
	}
	audit := make([]AuditEvent, len(requestIDs))
	for i, id := range requestIDs {
		audit[i] = AuditEvent{At: now, ActorID: actorID, ActorEmail: a.Email, Action: action, TargetType: "request",
			TargetID: strconv.FormatInt(id, 10), Detail: detail, IP: a.IP}
	}
	return translate(tx.CreateInBatches(audit, batchRows).Error, "record audit events")
}
