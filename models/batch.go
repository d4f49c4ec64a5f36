package models

import (
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Set-based writes for the sweeps that touch many requests at once (the
// expiry sweep, the backfill of newly linked accounts): a fixed number of
// statements per batch instead of several per request.

// batchRows bounds the rows of one multi-row INSERT (6 columns × 500 stays
// far below SQLite's and PostgreSQL's parameter limits).
const batchRows = 500

// insertRows writes rows into table with multi-row INSERTs. VALUES lets
// PostgreSQL type each parameter from its column.
func insertRows(tx *gorm.DB, table string, cols []string, rows [][]any) error {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), batchRows)]
		rows = rows[len(chunk):]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		if err := tx.Exec(b.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// enqueueMany writes one sync job per request (the batch form of enqueue).
func (s *Store) enqueueMany(tx *gorm.DB, requestIDs []int64) error {
	if len(requestIDs) == 0 {
		return nil
	}
	now := s.Now()
	rows := make([][]any, len(requestIDs))
	for i, id := range requestIDs {
		rows[i] = []any{id, JobPending, now, now, now}
	}
	if err := insertRows(tx, "sync_jobs", []string{"request_id", "state", "run_after", "created_at", "updated_at"}, rows); err != nil {
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
	events := make([][]any, len(requestIDs))
	for i, id := range requestIDs {
		events[i] = []any{id, kind, actorID, a.Email, reason, now}
	}
	if err := insertRows(tx, "request_events", []string{"request_id", "kind", "actor_id", "actor_email", "reason", "at"}, events); err != nil {
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
	audit := make([][]any, len(requestIDs))
	for i, id := range requestIDs {
		audit[i] = []any{now, actorID, a.Email, action, "request", strconv.FormatInt(id, 10), detail, a.IP}
	}
	err := insertRows(tx, "audit_events", []string{"at", "actor_id", "actor_email", "action", "target_type", "target_id", "detail", "ip"}, audit)
	return translate(err, "record audit events")
}
