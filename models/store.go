package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Store is the only way the rest of Privilege reaches the database.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	sealer  *Sealer
	now     func() time.Time
	kdf     PasswordParams
	signIn  SignInPolicy

	requestLimit RequestRateLimit

	// writeMu serialises this process's SQLite writers in Go. SQLite allows
	// one writer at a time; without this, writers queue in SQLite's busy
	// handler, which sleeps up to 100 ms per retry and wrecks throughput.
	// Other processes still wait through busy_timeout.
	writeMu sync.Mutex

	// readSlots bounds the SQLite read transactions open at once (see
	// readTx); nil on PostgreSQL.
	readSlots chan struct{}

	enqueued atomic.Int64 // sync jobs written by this process
	// lastThrottlePrune is when this process last pruned sign_in_throttles (unix ns).
	lastThrottlePrune atomic.Int64
	onEnqueue         atomic.Pointer[func()] // called after a commit that wrote jobs
}

// OnEnqueue registers fn to run after every commit that wrote a sync job, so
// the syncer of this process starts at once instead of at its next poll.
func (s *Store) OnEnqueue(fn func()) { s.onEnqueue.Store(&fn) }

// StoreOption adjusts a Store.
type StoreOption func(*Store)

// WithClock sets the clock used for timestamps and deadlines.
func WithClock(now func() time.Time) StoreOption { return func(s *Store) { s.now = now } }

// WithPasswordParams sets the Argon2id cost (tests use a cheap one).
func WithPasswordParams(p PasswordParams) StoreOption { return func(s *Store) { s.kdf = p } }

// NewStore wraps an open database.
func NewStore(db *DB, sealer *Sealer, opts ...StoreOption) *Store {
	s := &Store{db: db.Gorm, dialect: db.Dialect, sealer: sealer, now: time.Now, kdf: DefaultPasswordParams, signIn: DefaultSignInPolicy}
	for _, o := range opts {
		o(s)
	}
	if db.Dialect == DialectSQLite {
		s.readSlots = make(chan struct{}, sqliteReadSlots(db.SQL.Stats().MaxOpenConnections))
	}
	return s
}

// sqliteReadSlots is how many SQLite read transactions may be open at once
// on a pool of maxOpen connections: each holds a connection, and a
// transaction that meets a query for the first time prepares it on the pool
// (see stmtPool), so one connection stays for the writer and one for
// preparing.
func sqliteReadSlots(maxOpen int) int {
	if maxOpen <= 0 {
		return 64 // an unbounded pool: any bound that keeps readers from piling up
	}
	return max(1, maxOpen-2)
}

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Ping checks the database connection.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// tx runs fn in a write transaction; on SQLite one at a time under the
// writer lock (writeMu), released on every path (an error, a panic in fn or
// in the OnEnqueue hook).
//
// No nesting: fn does all its work on the tx it is given and never starts
// another write (Store.tx or Store.write) from inside, because on SQLite it
// would wait for the writer lock its own transaction holds. The context of
// the tx handed to fn is marked, and a write started with it (or a context
// derived from it) fails at once with ErrNestedWrite, on both databases,
// instead of deadlocking (TestNestedWriteFailsFast).
//
// A group commit of concurrent SQLite transactions was tried and removed: it
// cut the store's parallel create by about a quarter (BenchmarkRequestPath)
// but moved no end-to-end figure (BenchmarkSyncThroughput) by 10 %.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if err := checkNotWriting(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock := s.lockWrites()
	defer unlock()
	before := s.enqueued.Load()
	err := s.db.WithContext(markWriting(ctx)).Transaction(fn)
	s.notifyEnqueued(before, err)
	return err
}

// readTx runs fn in one read-only transaction, so all its queries read one
// snapshot of the database: on PostgreSQL at REPEATABLE READ (READ COMMITTED
// would take a snapshot per statement), on SQLite a deferred transaction,
// whose snapshot is the WAL as of its first read (it takes no writer lock).
func (s *Store) readTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	if s.readSlots != nil {
		opts.Isolation = sql.LevelDefault // modernc ignores the level; ReadOnly makes it deferred
		select {
		case s.readSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.readSlots }()
	}
	return s.db.WithContext(ctx).Transaction(fn, opts)
}

// writingKey marks the context of the tx a write transaction hands its
// callback.
type writingKey struct{}

// markWriting marks ctx as inside a write transaction's callback.
func markWriting(ctx context.Context) context.Context {
	return context.WithValue(ctx, writingKey{}, true)
}

// checkNotWriting refuses a write started from inside a write transaction's
// callback: on SQLite it would wait for the writer lock its own transaction
// holds.
func checkNotWriting(ctx context.Context) error {
	if ctx.Value(writingKey{}) != nil {
		return ErrNestedWrite
	}
	return nil
}

// notifyEnqueued runs the OnEnqueue hook after a successful commit that
// wrote sync jobs (the counter moved past before).
func (s *Store) notifyEnqueued(before int64, err error) {
	if err == nil && s.enqueued.Load() != before {
		if hook := s.onEnqueue.Load(); hook != nil {
			(*hook)()
		}
	}
}

// lockWrites takes the SQLite writer lock (a no-op on PostgreSQL).
func (s *Store) lockWrites() func() {
	if s.dialect != DialectSQLite {
		return func() {}
	}
	s.writeMu.Lock()
	return s.writeMu.Unlock
}

// write runs a single autocommit write statement under the writer lock; not
// from inside a write transaction's callback (ErrNestedWrite).
func (s *Store) write(ctx context.Context, fn func(db *gorm.DB) *gorm.DB) *gorm.DB {
	if err := checkNotWriting(ctx); err != nil {
		db := s.db.WithContext(ctx)
		_ = db.AddError(err)
		return db
	}
	unlock := s.lockWrites()
	defer unlock()
	return fn(s.db.WithContext(ctx))
}

// translate maps gorm errors to the package's sentinels.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", what, ErrDuplicate)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Page is one page of a listing.
type Page[T any] struct {
	Items   []T
	Total   int64
	Page    int
	PerPage int
}

// Pages is the number of pages.
func (p Page[T]) Pages() int {
	if p.PerPage <= 0 {
		return 1
	}
	n := int((p.Total + int64(p.PerPage) - 1) / int64(p.PerPage))
	if n < 1 {
		n = 1
	}
	return n
}

// HasPrev reports whether there is a previous page.
func (p Page[T]) HasPrev() bool { return p.Page > 1 }

// HasNext reports whether there is a next page.
func (p Page[T]) HasNext() bool { return p.Page < p.Pages() }

// PageQuery asks for one page.
type PageQuery struct {
	Page    int
	PerPage int
}

func (q PageQuery) normalize() PageQuery {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage <= 0 || q.PerPage > 200 {
		q.PerPage = 50
	}
	return q
}

func (q PageQuery) offset() int { return (q.Page - 1) * q.PerPage }

// Actor is who does something, for the audit log.
type Actor struct {
	UserID int64
	Email  string
	IP     string
	// TokenID is the API token the action came with (0: a browser session
	// or the CLI); audit events and request events record it.
	TokenID int64
}

// SystemActor is the actor of background work.
var SystemActor = Actor{Email: "system"}
