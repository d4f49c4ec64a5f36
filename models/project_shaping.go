package models

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// Ticket shaping (design.md §10): what a project link adds to its tasks.

// FieldValue is the value a project link gives a field its issue type
// requires and Privilege cannot fill itself.
type FieldValue struct {
	Name  string          `json:"name"`  // the field's name in Jira, e.g. "Cost centre"
	Label string          `json:"label"` // the value as the Manage page shows it
	Value json.RawMessage `json:"value"` // the value as sent to Jira on create
	// Choice is what the admin chose (option ids, text, a user id), to show
	// the form again.
	Choice []string `json:"choice,omitempty"`
}

// FieldValues are a link's field values by Jira field id. Stored as JSON
// (” = none).
type FieldValues map[string]FieldValue

// Value implements driver.Valuer.
func (v FieldValues) Value() (driver.Value, error) {
	if len(v) == 0 {
		return "", nil
	}
	b, err := json.Marshal(map[string]FieldValue(v))
	if err != nil {
		return nil, fmt.Errorf("encode field values: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (v *FieldValues) Scan(src any) error {
	var b []byte
	switch s := src.(type) {
	case nil:
	case string:
		b = []byte(s)
	case []byte:
		b = s
	default:
		return fmt.Errorf("field values: unexpected %T", src)
	}
	if len(b) == 0 {
		*v = nil
		return nil
	}
	m := map[string]FieldValue{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decode field values: %w", err)
	}
	*v = m
	return nil
}

// Equal reports whether two sets of values send the same thing to Jira.
func (v FieldValues) Equal(o FieldValues) bool {
	if len(v) != len(o) {
		return false
	}
	for id, fv := range v {
		ov, ok := o[id]
		if !ok || string(ov.Value) != string(fv.Value) {
			return false
		}
	}
	return true
}

// RecordFieldsProblem notes what Jira refused of a link's field values
// ("" = nothing), shown on the integration and Manage pages.
func (s *Store) RecordFieldsProblem(ctx context.Context, projectLinkID int64, problem string) error {
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&ProjectLink{}).Where("id = ? AND fields_problem <> ?", projectLinkID, problem).UpdateColumn("fields_problem", problem)
	}).Error
	return translate(err, "record the field Jira refused")
}

// NewestPendingRequestOfLink is the newest pending request of the accounts a
// project link tracks (the Manage page previews tasks with it);
// ErrNotFound when there is none.
func (s *Store) NewestPendingRequestOfLink(ctx context.Context, projectLinkID int64) (AccessRequest, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Table("access_requests r").Joins("JOIN cloud_accounts a ON a.id = r.account_id").
		Where("a.project_link_id = ? AND r.status = ?", projectLinkID, RequestPending).Order("r.id DESC").Limit(1).Pluck("r.id", &ids).Error
	if err != nil {
		return AccessRequest{}, translate(err, "find a pending request of the project")
	}
	if len(ids) == 0 {
		return AccessRequest{}, fmt.Errorf("pending request of project link %d: %w", projectLinkID, ErrNotFound)
	}
	return s.Request(ctx, ids[0])
}
