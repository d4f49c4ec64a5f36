package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// readRequest loads request id with everything its page shows, in one read
// transaction (see readRequestTx); with a watermark, also its newest sync job
// id.
func (s *Store) readRequest(ctx context.Context, id int64, watermark *int64) (AccessRequest, error) {
	var r AccessRequest
	err := s.readTx(ctx, func(tx *gorm.DB) error {
		var err error
		r, err = readRequestTx(tx, id, watermark)
		return err
	})
	return r, err
}

// readRequestTx loads request id with everything its page shows on tx; with
// a watermark, also its newest sync job id. Its three queries (the request,
// its resources, its events) must see one snapshot: on the pool, a decision
// committed between them would pair the request as pending with its
// approval event, and the Jira comment would lose "Access ends at".
func readRequestTx(db *gorm.DB, id int64, watermark *int64) (AccessRequest, error) {
	var r AccessRequest
	found := false
	query, scan := selectRequest, func(rows *sql.Rows) error { return scanRequest(rows, &r) }
	if watermark != nil {
		query, scan = selectRequestWithWatermark, func(rows *sql.Rows) error { return scanRequest(rows, &r, watermark) }
	}
	err := eachRow(db, query, []any{id}, func(rows *sql.Rows) error {
		found = true
		return scan(rows)
	})
	if err != nil {
		return r, fmt.Errorf("request %d: %w", id, err)
	}
	if !found {
		return r, fmt.Errorf("request %d: %w", id, ErrNotFound)
	}
	if r.Resources, err = scanAll(db, selectRequestResources, []any{id},
		func(rows *sql.Rows, x *RequestResource) error {
			x.RequestID = id
			return rows.Scan(&x.ID, &x.Name, &x.Kind)
		}); err != nil {
		return r, fmt.Errorf("request %d resources: %w", id, err)
	}
	if r.Events, err = scanAll(db, selectRequestEvents, []any{id},
		func(rows *sql.Rows, ev *RequestEvent) error {
			ev.RequestID = id
			return rows.Scan(&ev.ID, &ev.Kind, &ev.ActorID, &ev.ActorEmail, &ev.Reason, &ev.At, &ev.APITokenID, &ev.Via)
		}); err != nil {
		return r, fmt.Errorf("request %d events: %w", id, err)
	}
	return r, nil
}

// scanRequest scans one row of selectRequest, after the extra columns.
func scanRequest(rows *sql.Rows, r *AccessRequest, extra ...any) error {
	var (
		decider struct {
			email, name *string
			role        *Role
			disabled    *bool
		}
		link struct {
			requestID, integrationID, appliedEventID *int64
			projectKey, issueID, issueKey, issueURL  *string
			jiraStatus                               *string
			syncState                                *SyncState
			lastError                                *string
			attempted, synced, created, updated      *time.Time
		}
	)
	err := rows.Scan(append(extra, &r.ID, &r.RequesterID, &r.AccountID, &r.DurationMinutes, &r.Justification, &r.Status,
		&r.DecidedByID, &r.DecidedAt, &r.DecisionReason, &r.PendingUntil, &r.AccessEndsAt, &r.CreatedAt, &r.UpdatedAt,
		&r.Requester.Email, &r.Requester.Name, &r.Requester.Role, &r.Requester.Disabled, &r.Requester.CreatedAt, &r.Requester.UpdatedAt,
		&r.Account.Provider, &r.Account.ExternalID, &r.Account.Name, &r.Account.MaxDurationMinutes, &r.Account.ProjectLinkID,
		&r.Account.CreatedAt, &r.Account.UpdatedAt,
		&decider.email, &decider.name, &decider.role, &decider.disabled,
		&link.requestID, &link.integrationID, &link.projectKey, &link.issueID, &link.issueKey, &link.issueURL, &link.jiraStatus, &link.appliedEventID,
		&link.syncState, &link.lastError, &link.attempted, &link.synced, &link.created, &link.updated)...)
	if err != nil {
		return err
	}
	r.Requester.ID, r.Account.ID = r.RequesterID, r.AccountID
	if r.DecidedByID != nil && decider.email != nil {
		r.DecidedBy = &User{ID: *r.DecidedByID, Email: *decider.email, Name: deref(decider.name), Role: deref(decider.role), Disabled: deref(decider.disabled)}
	}
	if link.requestID != nil {
		r.Issue = &JiraIssueLink{RequestID: *link.requestID, IntegrationID: link.integrationID, ProjectKey: deref(link.projectKey),
			IssueID: deref(link.issueID), IssueKey: deref(link.issueKey), IssueURL: deref(link.issueURL), JiraStatus: deref(link.jiraStatus), AppliedEventID: deref(link.appliedEventID),
			SyncState: deref(link.syncState), LastError: deref(link.lastError), CreateAttemptedAt: link.attempted, LastSyncedAt: link.synced,
			CreatedAt: deref(link.created), UpdatedAt: deref(link.updated)}
	}
	return nil
}

// eachRow runs a hand-written query (gorm rewrites ? for the dialect and
// reuses its prepared statement) and calls scan for every row.
func eachRow(db *gorm.DB, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanAll runs a hand-written query and scans every row into a new T.
func scanAll[T any](db *gorm.DB, query string, args []any, scan func(rows *sql.Rows, x *T) error) ([]T, error) {
	var out []T
	err := eachRow(db, query, args, func(rows *sql.Rows) error {
		var x T
		if err := scan(rows, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// insertID runs a hand-written INSERT … RETURNING id and returns the new
// row's id.
func insertID(db *gorm.DB, insert string, args ...any) (int64, error) {
	var id int64
	err := eachRow(db, insert, args, func(rows *sql.Rows) error { return rows.Scan(&id) })
	if err == nil && id == 0 {
		err = errors.New("insert returned no id")
	}
	return id, err
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
