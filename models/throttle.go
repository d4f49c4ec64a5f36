package models

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SignInPolicy bounds failed sign-ins. Only failures count: a correct
// password is never counted, and it clears its account's failures.
type SignInPolicy struct {
	// AccountFreeFailures failures on one account are answered at once;
	// after that the account is locked for AccountBaseDelay, doubled with
	// every further failure up to AccountMaxDelay (backoff). An account's
	// failures are forgotten after AccountMemory without one.
	AccountFreeFailures int
	AccountBaseDelay    time.Duration
	AccountMaxDelay     time.Duration
	AccountMemory       time.Duration
	// AddressFailures failures from one client address (IPv4 address, IPv6
	// /64) within AddressWindow lock that address until the window ends.
	AddressFailures int
	AddressWindow   time.Duration
}

// DefaultSignInPolicy: 5 free failures per account, then 30s, 1m, 2m, … up
// to 15m; 50 failures per address per 15 minutes. An attack on one account
// makes about 15 failures in 15 minutes, so it never locks the address its
// colleagues sign in from; spraying passwords over many accounts does.
var DefaultSignInPolicy = SignInPolicy{
	AccountFreeFailures: 5, AccountBaseDelay: 30 * time.Second, AccountMaxDelay: 15 * time.Minute, AccountMemory: 24 * time.Hour,
	AddressFailures: 50, AddressWindow: 15 * time.Minute,
}

// WithSignInPolicy sets the sign-in throttling policy.
func WithSignInPolicy(p SignInPolicy) StoreOption { return func(s *Store) { s.signIn = p } }

// signInThrottle is one counter of failed sign-ins.
type signInThrottle struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

func (signInThrottle) TableName() string { return "sign_in_throttles" }

func accountKey(email string) string { return "account:" + NormalizeEmail(email) }

// AddressKey is the throttling key of a client IP: the address itself for
// IPv4, its /64 for IPv6 (one host usually owns a whole /64). An
// unparsable address is its own key.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "address:" + ip
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.WithZone("").Prefix(bits)
	return "address:" + p.String()
}

// SignInWait is how long a sign-in for email from address must wait: zero
// when it may go ahead.
func (s *Store) SignInWait(ctx context.Context, email, address string) (time.Duration, error) {
	var rows []signInThrottle
	err := s.db.WithContext(ctx).Where("key IN ?", []string{accountKey(email), address}).Find(&rows).Error
	if err != nil {
		return 0, translate(err, "read sign-in throttles")
	}
	now := s.Now()
	var wait time.Duration
	for _, r := range rows {
		if r.LockedUntil != nil && r.LockedUntil.After(now) {
			wait = max(wait, r.LockedUntil.Sub(now))
		}
	}
	return wait, nil
}

// RecordSignInFailure counts a wrong password (or unknown or disabled
// account) against the account and the address.
func (s *Store) RecordSignInFailure(ctx context.Context, email, address string) error {
	p := s.signIn
	if err := s.pruneSignInThrottlesEvery(ctx, p.AddressWindow); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		// Account first, then address: every transaction locks in this order.
		if err := s.bumpThrottle(tx, accountKey(email), now, func(r *signInThrottle) {
			if now.Sub(r.UpdatedAt) > p.AccountMemory {
				r.Failures, r.WindowStart = 0, now
			}
			r.Failures++
			if n := r.Failures - p.AccountFreeFailures; n >= 0 {
				d := p.AccountMaxDelay
				if n < 20 {
					d = min(p.AccountBaseDelay<<n, p.AccountMaxDelay)
				}
				until := now.Add(d)
				r.LockedUntil = &until
			}
		}); err != nil {
			return err
		}
		return s.bumpThrottle(tx, address, now, func(r *signInThrottle) {
			if now.Sub(r.WindowStart) >= p.AddressWindow {
				r.Failures, r.WindowStart, r.LockedUntil = 0, now, nil
			}
			r.Failures++
			if r.Failures >= p.AddressFailures {
				until := r.WindowStart.Add(p.AddressWindow)
				r.LockedUntil = &until
			}
		})
	})
}

// bumpThrottle reads key's counter under a row lock (created if missing),
// lets update change it and writes it back.
func (s *Store) bumpThrottle(tx *gorm.DB, key string, now time.Time, update func(*signInThrottle)) error {
	r := signInThrottle{Key: key, WindowStart: now, UpdatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return translate(err, "create sign-in throttle")
	}
	q := tx
	if s.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("key = ?", key).Take(&r).Error; err != nil {
		return translate(err, "read sign-in throttle")
	}
	update(&r)
	r.UpdatedAt = now
	err := tx.Model(&signInThrottle{}).Where("key = ?", key).Updates(map[string]any{
		"failures": r.Failures, "window_start": r.WindowStart, "locked_until": r.LockedUntil, "updated_at": r.UpdatedAt}).Error
	return translate(err, fmt.Sprintf("update sign-in throttle %s", key))
}

// RecordSignInSuccess forgets the account's failures. The address keeps
// its count: one good password must not buy a sprayer a fresh budget.
func (s *Store) RecordSignInSuccess(ctx context.Context, email string) error {
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Where("key = ?", accountKey(email)).Delete(&signInThrottle{})
	}).Error
	return translate(err, "clear sign-in throttle")
}

// pruneSignInThrottlesEvery prunes at most once per interval per process,
// from the failure path: the table only grows when sign-ins fail, so that
// is where it is kept small (a failure for a new email adds a row).
func (s *Store) pruneSignInThrottlesEvery(ctx context.Context, interval time.Duration) error {
	now := s.Now().UnixNano()
	last := s.lastThrottlePrune.Load()
	if now-last < int64(interval) || !s.lastThrottlePrune.CompareAndSwap(last, now) {
		return nil
	}
	_, err := s.PruneSignInThrottles(ctx)
	return err
}

// PruneSignInThrottles deletes counters that no longer lock anything and
// would be forgotten anyway.
func (s *Store) PruneSignInThrottles(ctx context.Context) (int64, error) {
	now := s.Now()
	cutoff := now.Add(-max(s.signIn.AccountMemory, s.signIn.AddressWindow))
	res := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Where("updated_at < ? AND (locked_until IS NULL OR locked_until < ?)", cutoff, now).Delete(&signInThrottle{})
	})
	return res.RowsAffected, translate(res.Error, "prune sign-in throttles")
}
