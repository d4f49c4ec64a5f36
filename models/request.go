package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// RequestStatus is where an access request is in its lifecycle.
type RequestStatus string

const (
	RequestPending   RequestStatus = "pending"
	RequestApproved  RequestStatus = "approved"
	RequestDenied    RequestStatus = "denied"
	RequestCancelled RequestStatus = "cancelled"
	RequestExpired   RequestStatus = "expired"
	RequestEnded     RequestStatus = "ended"
	RequestRevoked   RequestStatus = "revoked"
)

// RequestStatuses lists every status.
var RequestStatuses = []RequestStatus{RequestPending, RequestApproved, RequestDenied, RequestCancelled, RequestExpired, RequestEnded, RequestRevoked}

// Valid reports whether s is a known status.
func (s RequestStatus) Valid() bool {
	for _, v := range RequestStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether nothing more can happen to the request.
func (s RequestStatus) Final() bool { return s != RequestPending && s != RequestApproved }

// EventKind is a lifecycle event of a request.
type EventKind string

const (
	EventCreated   EventKind = "created"
	EventApproved  EventKind = "approved"
	EventDenied    EventKind = "denied"
	EventCancelled EventKind = "cancelled"
	EventExpired   EventKind = "expired"
	EventEnded     EventKind = "ended"
	EventRevoked   EventKind = "revoked"
)

// Outcome is the outcome whose status mapping the event applies ("" = comment only).
func (k EventKind) Outcome() Outcome {
	switch k {
	case EventApproved:
		return OutcomeApproved
	case EventDenied:
		return OutcomeDenied
	case EventCancelled:
		return OutcomeCancelled
	case EventExpired:
		return OutcomeExpired
	}
	return ""
}

// AccessRequest asks for time-boxed access to resources of one account.
type AccessRequest struct {
	ID              int64 `gorm:"primaryKey"`
	RequesterID     int64
	Requester       User `gorm:"foreignKey:RequesterID"`
	AccountID       int64
	Account         CloudAccount `gorm:"foreignKey:AccountID"`
	DurationMinutes int
	Justification   string
	Status          RequestStatus
	DecidedByID     *int64
	DecidedBy       *User `gorm:"foreignKey:DecidedByID"`
	DecidedAt       *time.Time
	DecisionReason  string
	PendingUntil    time.Time
	AccessEndsAt    *time.Time
	Resources       []RequestResource `gorm:"foreignKey:RequestID"`
	Events          []RequestEvent    `gorm:"foreignKey:RequestID"`
	Issue           *JiraIssueLink    `gorm:"foreignKey:RequestID"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// RequestResource is a resource asked for, copied at request time.
type RequestResource struct {
	ID        int64 `gorm:"primaryKey"`
	RequestID int64
	Name      string
	Kind      string
}

// RequestEvent records who did what to a request, when and why.
type RequestEvent struct {
	ID         int64 `gorm:"primaryKey"`
	RequestID  int64
	Kind       EventKind
	ActorID    *int64
	ActorEmail string
	Reason     string
	At         time.Time
	// APITokenID is the API token the event came with (nil: a browser session).
	APITokenID *int64
	Via        string // "" or ViaJira: the decision was made by moving the Jira task
}

// ResourceNames lists the requested resource names.
func (r AccessRequest) ResourceNames() []string {
	out := make([]string, len(r.Resources))
	for i, x := range r.Resources {
		out[i] = x.Name
	}
	return out
}

// Duration is the requested access window.
func (r AccessRequest) Duration() time.Duration {
	return time.Duration(r.DurationMinutes) * time.Minute
}

// SyncState is how far the request's Jira task is in step with it:
// SyncNotTracked when the request has no task link (or one without a state).
func (r AccessRequest) SyncState() SyncState {
	if r.Issue == nil || r.Issue.SyncState == "" {
		return SyncNotTracked
	}
	return r.Issue.SyncState
}

// MaxJustificationLength bounds a justification.
const MaxJustificationLength = 2000

// NewRequest is the input of a new access request.
type NewRequest struct {
	AccountID       int64
	Resources       []string
	DurationMinutes int
	Justification   string
}

func (n *NewRequest) validate(acc *CloudAccount) FieldErrors {
	fe := FieldErrors{}
	n.Justification = strings.TrimSpace(n.Justification)
	if acc == nil {
		fe.Add("account_id", "Choose an account.")
	}
	if len(n.Resources) == 0 {
		fe.Add("resources", "Choose at least one resource.")
	}
	if acc != nil {
		have := map[string]bool{}
		for _, r := range acc.Resources {
			have[r.Name] = true
		}
		seen := map[string]bool{}
		for _, r := range n.Resources {
			switch {
			case !have[r]:
				fe.Add("resources", fmt.Sprintf("%q is not a resource of %s.", r, acc.Name))
			case seen[r]:
				fe.Add("resources", fmt.Sprintf("%q is listed twice.", r))
			}
			seen[r] = true
		}
		if n.DurationMinutes < 5 || n.DurationMinutes > acc.MaxDurationMinutes {
			fe.Add("duration_minutes", fmt.Sprintf("Choose between 5 and %d minutes for this account.", acc.MaxDurationMinutes))
		}
	}
	switch l := utf8.RuneCountInString(n.Justification); {
	case l == 0:
		fe.Add("justification", "Explain why you need this access.")
	case l > MaxJustificationLength:
		fe.Add("justification", fmt.Sprintf("Use at most %d characters.", MaxJustificationLength))
	}
	return fe
}

// CreateRequest stores a pending request, its resources, its "created" event,
// its Jira link and (when the account is tracked) its sync job — in one
// transaction, so the task is created exactly when the request exists. A
// requester past the per-user limit gets a *RateLimitError.
func (s *Store) CreateRequest(ctx context.Context, requester User, n NewRequest, pendingFor time.Duration) (AccessRequest, error) {
	var acc *CloudAccount
	if n.AccountID != 0 {
		if a, err := s.AccountByID(ctx, n.AccountID); err == nil {
			acc = &a
		} else if !isNotFound(err) {
			return AccessRequest{}, err
		}
	}
	if err := n.validate(acc).Err(); err != nil {
		return AccessRequest{}, err
	}
	kinds := map[string]string{}
	for _, r := range acc.Resources {
		kinds[r.Name] = r.Kind
	}
	now := s.Now()
	req := AccessRequest{RequesterID: requester.ID, AccountID: acc.ID, DurationMinutes: n.DurationMinutes,
		Justification: n.Justification, Status: RequestPending, PendingUntil: now.Add(pendingFor), CreatedAt: now, UpdatedAt: now}
	for _, name := range n.Resources {
		req.Resources = append(req.Resources, RequestResource{Name: name, Kind: kinds[name]})
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.checkRequestRate(tx, requester.ID, now); err != nil {
			return err
		}
		// Re-read the account's link inside the transaction: it decides tracking.
		var linkID *int64
		if err := tx.Model(&CloudAccount{}).Where("id = ?", acc.ID).Select("project_link_id").Scan(&linkID).Error; err != nil {
			return translate(err, "read account link")
		}
		var err error
		if req.ID, err = insertID(tx, insertAccessRequest, req.RequesterID, req.AccountID, req.DurationMinutes, req.Justification, req.Status,
			req.DecidedByID, req.DecidedAt, req.DecisionReason, req.PendingUntil, req.AccessEndsAt, req.CreatedAt, req.UpdatedAt); err != nil {
			return translate(err, "create request")
		}
		for i := range req.Resources {
			x := &req.Resources[i]
			x.RequestID = req.ID
			if x.ID, err = insertID(tx, insertRequestResource, x.RequestID, x.Name, x.Kind); err != nil {
				return translate(err, "create request resources")
			}
		}
		state := SyncNotTracked
		if linkID != nil {
			state = SyncPending
		}
		link := JiraIssueLink{RequestID: req.ID, SyncState: state, CreatedAt: now, UpdatedAt: now}
		if err := tx.Exec(insertJiraIssueLink, link.RequestID, link.SyncState, link.CreatedAt, link.UpdatedAt).Error; err != nil {
			return translate(err, "create issue link")
		}
		req.Issue = &link
		return s.recordEvent(tx, &req, Actor{UserID: requester.ID, Email: requester.Email}, EventCreated, "", AuditRequestCreated)
	})
	if err != nil {
		return AccessRequest{}, err
	}
	// Everything the caller shows is at hand: no read-back.
	req.Requester, req.Account = requester, *acc
	return req, nil
}

// recordEvent appends an event, audits it and enqueues a sync job when the
// request's task is tracked.
func (s *Store) recordEvent(tx *gorm.DB, req *AccessRequest, a Actor, kind EventKind, reason string, action AuditAction) error {
	detail := string(kind)
	if reason != "" {
		detail += ": " + reason
	}
	return s.recordEventVia(tx, req, a, kind, reason, action, "", detail)
}

// recordEventVia is recordEvent with how the event came about (via) and the
// audit detail.
func (s *Store) recordEventVia(tx *gorm.DB, req *AccessRequest, a Actor, kind EventKind, reason string, action AuditAction, via, detail string) error {
	ev := RequestEvent{RequestID: req.ID, Kind: kind, ActorEmail: a.Email, Reason: reason, At: s.Now(), Via: via}
	if a.UserID != 0 {
		id := a.UserID
		ev.ActorID = &id
	}
	if a.TokenID != 0 {
		id := a.TokenID
		ev.APITokenID = &id
	}
	var err error
	if ev.ID, err = insertID(tx, insertRequestEvent, ev.RequestID, ev.Kind, ev.ActorID, ev.ActorEmail, ev.Reason, ev.At, ev.APITokenID, ev.Via); err != nil {
		return translate(err, "record request event")
	}
	req.Events = append(req.Events, ev)
	var state SyncState
	if req.Issue != nil {
		state = req.Issue.SyncState
	} else if err := tx.Model(&JiraIssueLink{}).Where("request_id = ?", req.ID).Select("sync_state").Scan(&state).Error; err != nil {
		return translate(err, "read sync state")
	}
	if state.Tracked() {
		if err := s.enqueue(tx, req.ID); err != nil {
			return err
		}
		if state == SyncSynced {
			now := s.Now()
			if err := tx.Model(&JiraIssueLink{}).Where("request_id = ?", req.ID).
				Updates(map[string]any{"sync_state": SyncPending, "updated_at": now}).Error; err != nil {
				return translate(err, "mark sync pending")
			}
			if req.Issue != nil {
				req.Issue.SyncState, req.Issue.UpdatedAt = SyncPending, now
			}
		}
	}
	return s.audit(tx, a, action, "request", req.ID, detail)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
