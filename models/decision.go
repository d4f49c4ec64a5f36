package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Decision errors, shown to the user as they are.
var (
	ErrSelfApproval   = errors.New("you cannot decide your own request")
	ErrNotApprover    = errors.New("only approvers and admins can decide requests")
	ErrAlreadyDecided = errors.New("this request has already been decided")
	ErrNotRequester   = errors.New("only the requester can cancel a request")
	ErrNotCancellable = errors.New("only a pending request can be cancelled")
	ErrNotRevocable   = errors.New("only approved access can be revoked")
)

// Decision is approve or deny.
type Decision string

const (
	DecisionApprove Decision = "approve"
	DecisionDeny    Decision = "deny"
)

// MaxReasonLength bounds a decision reason.
const MaxReasonLength = 1000

func checkReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	if required && reason == "" {
		return "", &ValidationError{Fields: map[string]string{"reason": "Write why in the reason box: the requester reads it on the request page and in the Jira task's comment."}}
	}
	if utf8.RuneCountInString(reason) > MaxReasonLength {
		return "", &ValidationError{Fields: map[string]string{"reason": fmt.Sprintf("Use at most %d characters.", MaxReasonLength)}}
	}
	return reason, nil
}

// Decide approves or denies a pending request. A requester never decides their
// own request; of two concurrent decisions exactly one wins, the other gets
// ErrAlreadyDecided.
func (s *Store) Decide(ctx context.Context, approver User, id int64, d Decision, reason string) (AccessRequest, error) {
	return s.decide(ctx, approver, nil, id, d, reason)
}

// DecideWithToken is Decide through the API: tok.User decides, the
// decision records the token, and separation of duties also holds against
// whoever minted the token (a token minted by the requester, for instance
// by an admin before users could only mint their own, cannot decide the
// requester's request).
func (s *Store) DecideWithToken(ctx context.Context, tok APIToken, id int64, d Decision, reason string) (AccessRequest, error) {
	return s.decide(ctx, tok.User, &tok, id, d, reason)
}

func (s *Store) decide(ctx context.Context, approver User, tok *APIToken, id int64, d Decision, reason string) (AccessRequest, error) {
	if !approver.Role.CanApprove() {
		return AccessRequest{}, ErrNotApprover
	}
	reason, err := checkReason(reason, d == DecisionDeny)
	if err != nil {
		return AccessRequest{}, err
	}
	var req AccessRequest
	err = s.tx(ctx, func(tx *gorm.DB) error {
		req, err = s.decideTx(tx, approver, tok, id, d, reason, "", "")
		return err
	})
	if err != nil {
		return AccessRequest{}, err
	}
	return req, nil
}

// decideTx is Decide inside a transaction; tok is the API token it came
// with (nil: a session or Jira); via and detail (the audit line, "" for the
// usual one) tell a decision made in Jira.
func (s *Store) decideTx(tx *gorm.DB, approver User, tok *APIToken, id int64, d Decision, reason, via, detail string) (AccessRequest, error) {
	status, kind, action := RequestApproved, EventApproved, AuditRequestApproved
	if d == DecisionDeny {
		status, kind, action = RequestDenied, EventDenied, AuditRequestDenied
	}
	if detail == "" {
		detail = string(kind)
		if reason != "" {
			detail += ": " + reason
		}
	}
	req, err := readRequestTx(tx, id, nil)
	if err != nil {
		return AccessRequest{}, err
	}
	if req.RequesterID == approver.ID || tok != nil && tok.CreatedByID != nil && *tok.CreatedByID == req.RequesterID {
		return AccessRequest{}, ErrSelfApproval
	}
	now := s.Now()
	upd := map[string]any{"status": status, "decided_by_id": approver.ID, "decided_at": now, "decision_reason": reason, "updated_at": now}
	var endsAt *time.Time
	if status == RequestApproved {
		t := now.Add(req.Duration())
		endsAt, upd["access_ends_at"] = &t, t
	}
	if err := s.transition(tx, &req, RequestPending, upd, ErrAlreadyDecided); err != nil {
		return AccessRequest{}, err
	}
	// The request as committed, without reading it back.
	decider := User{ID: approver.ID, Email: approver.Email, Name: approver.Name, Role: approver.Role, CreatedAt: approver.CreatedAt, UpdatedAt: approver.UpdatedAt}
	req.Status, req.DecidedByID, req.DecidedBy, req.DecidedAt, req.DecisionReason, req.UpdatedAt = status, &decider.ID, &decider, &now, reason, now
	if endsAt != nil {
		req.AccessEndsAt = endsAt
	}
	a := Actor{UserID: approver.ID, Email: approver.Email}
	if tok != nil {
		a.TokenID = tok.ID
	}
	return req, s.recordEventVia(tx, &req, a, kind, reason, action, via, detail)
}

// transition applies upd only if the request is still in from (compare-and-set).
func (s *Store) transition(tx *gorm.DB, req *AccessRequest, from RequestStatus, upd map[string]any, conflict error) error {
	res := tx.Model(&AccessRequest{}).Where("id = ? AND status = ?", req.ID, from).Updates(upd)
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("update request %d", req.ID))
	}
	if res.RowsAffected == 0 {
		return conflict
	}
	return nil
}

// Cancel withdraws a pending request; only its requester may.
func (s *Store) Cancel(ctx context.Context, requester User, id int64, reason string) (AccessRequest, error) {
	reason, err := checkReason(reason, false)
	if err != nil {
		return AccessRequest{}, err
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		req, err := readRequestTx(tx, id, nil)
		if err != nil {
			return err
		}
		if req.RequesterID != requester.ID {
			return ErrNotRequester
		}
		now := s.Now()
		if err := s.transition(tx, &req, RequestPending, map[string]any{"status": RequestCancelled, "decision_reason": reason, "decided_at": now, "updated_at": now}, ErrNotCancellable); err != nil {
			return err
		}
		return s.recordEvent(tx, &req, Actor{UserID: requester.ID, Email: requester.Email}, EventCancelled, reason, AuditRequestCancelled)
	})
	if err != nil {
		return AccessRequest{}, err
	}
	return s.Request(ctx, id)
}

// Revoke ends approved access early; admins only.
func (s *Store) Revoke(ctx context.Context, admin User, id int64, reason string) (AccessRequest, error) {
	if admin.Role != RoleAdmin {
		return AccessRequest{}, ErrNotApprover
	}
	reason, err := checkReason(reason, true)
	if err != nil {
		return AccessRequest{}, err
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		req, err := readRequestTx(tx, id, nil) // a missing request is ErrNotFound, not ErrNotRevocable
		if err != nil {
			return err
		}
		now := s.Now()
		if err := s.transition(tx, &req, RequestApproved, map[string]any{"status": RequestRevoked, "access_ends_at": now, "updated_at": now}, ErrNotRevocable); err != nil {
			return err
		}
		return s.recordEvent(tx, &req, Actor{UserID: admin.ID, Email: admin.Email}, EventRevoked, reason, AuditRequestRevoked)
	})
	if err != nil {
		return AccessRequest{}, err
	}
	return s.Request(ctx, id)
}

// ExpireDue expires pending requests past their deadline and ends approved
// access whose window is over. Safe to run on every replica at once.
func (s *Store) ExpireDue(ctx context.Context, limit int) (int, error) {
	now := s.Now()
	n := 0
	for _, step := range []struct {
		from   RequestStatus
		to     RequestStatus
		due    string // the condition on the deadline, against now
		kind   EventKind
		action AuditAction
		reason string
	}{
		{RequestPending, RequestExpired, "pending_until <= ?", EventExpired, AuditRequestExpired, "not decided in time"},
		{RequestApproved, RequestEnded, "access_ends_at <= ?", EventEnded, AuditRequestEnded, "access window is over"},
	} {
		// One transaction per step: the due requests change status in one
		// statement (which re-checks the status, so a decision racing the
		// sweep wins or loses as a whole), then their events, jobs and audit.
		var due []int64
		if err := s.db.WithContext(ctx).Model(&AccessRequest{}).Where("status = ?", step.from).Where(step.due, now).
			Limit(1).Pluck("id", &due).Error; err != nil {
			return n, translate(err, "find due requests")
		}
		if len(due) == 0 {
			continue // the usual case: no write transaction
		}
		var ids []int64
		err := s.tx(ctx, func(tx *gorm.DB) error {
			var changed []AccessRequest // the ids the update returns
			batch := tx.Model(&AccessRequest{}).Select("id").Where("status = ?", step.from).Where(step.due, now).Order("id").Limit(limit)
			err := tx.Model(&changed).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
				Where("status = ?", step.from).Where(step.due, now).Where("id IN (?)", batch).
				Updates(map[string]any{"status": step.to, "updated_at": now}).Error
			if err != nil {
				return translate(err, "expire due requests")
			}
			ids = make([]int64, len(changed))
			for i, r := range changed {
				ids[i] = r.ID
			}
			return s.recordEvents(tx, ids, SystemActor, step.kind, step.reason, step.action)
		})
		if err != nil {
			return n, err
		}
		n += len(ids)
	}
	return n, nil
}

// Request loads a request with everything its page shows.
func (s *Store) Request(ctx context.Context, id int64) (AccessRequest, error) {
	return s.readRequest(ctx, id, nil)
}

// RequestQuery filters the request history.
type RequestQuery struct {
	PageQuery
	Status      RequestStatus
	AccountID   int64
	RequesterID int64
	Requester   string // email substring
	Sort        Sort   // -id (default, newest first), id, status, duration, account, requester
}

// ListRequests lists requests, newest first.
func (s *Store) ListRequests(ctx context.Context, q RequestQuery) (Page[AccessRequest], error) {
	q.PageQuery = q.normalize()
	p := Page[AccessRequest]{Page: q.Page, PerPage: q.PerPage}
	db := s.db.WithContext(ctx).Model(&AccessRequest{})
	if q.Status != "" {
		db = db.Where("access_requests.status = ?", q.Status)
	}
	if q.AccountID != 0 {
		db = db.Where("access_requests.account_id = ?", q.AccountID)
	}
	if q.RequesterID != 0 {
		db = db.Where("access_requests.requester_id = ?", q.RequesterID)
	}
	if t := strings.TrimSpace(q.Requester); t != "" {
		db = db.Where("access_requests.requester_id IN (?)", s.db.Model(&User{}).Select("id").
			Where("email LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(t))+"%"))
	}
	if err := db.Count(&p.Total).Error; err != nil {
		return p, translate(err, "count requests")
	}
	err := db.Preload("Requester").Preload("Account").Preload("Resources").Preload("Issue").
		Order(q.Sort.orderBy(requestSorts, "access_requests.id DESC", "access_requests.id DESC")).Limit(q.PerPage).Offset(q.offset()).Find(&p.Items).Error
	return p, translate(err, "list requests")
}
