package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RequestRateLimit bounds the requests one user creates: at most Max per
// Per (a sliding window). Max 0 means no limit.
type RequestRateLimit struct {
	Max int
	Per time.Duration
}

// WithRequestRateLimit sets the per-user limit on new requests.
func WithRequestRateLimit(l RequestRateLimit) StoreOption {
	return func(s *Store) { s.requestLimit = l }
}

// RateLimitError is a new request refused by the per-user limit.
type RateLimitError struct {
	Limit      RequestRateLimit
	RetryAfter time.Duration // until the oldest request in the window leaves it
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("at most %d requests per %s; retry in %s", e.Limit.Max, e.Limit.Per, e.RetryAfter.Round(time.Second))
}

// checkRequestRate refuses a new request from userID past the limit. On
// PostgreSQL the user's row is locked first, so one user's concurrent
// requests are counted one after another (SQLite has one writer anyway).
func (s *Store) checkRequestRate(tx *gorm.DB, userID int64, now time.Time) error {
	l := s.requestLimit
	if l.Max <= 0 {
		return nil
	}
	if s.dialect == DialectPostgres {
		var id int64
		if err := tx.Model(&User{}).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", userID).Select("id").Scan(&id).Error; err != nil {
			return translate(err, "lock requester")
		}
	}
	var times []time.Time
	err := tx.Model(&AccessRequest{}).Where("requester_id = ? AND created_at > ?", userID, now.Add(-l.Per)).
		Order("created_at").Limit(l.Max).Pluck("created_at", &times).Error
	if err != nil {
		return translate(err, "count recent requests")
	}
	if len(times) < l.Max {
		return nil
	}
	return &RateLimitError{Limit: l, RetryAfter: max(times[0].Add(l.Per).Sub(now), time.Second)}
}
