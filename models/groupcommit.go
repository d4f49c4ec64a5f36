package models

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"gorm.io/gorm"
)

// SQLite runs one writer at a time and each commit writes every page the
// transaction touched to the WAL (two system calls a page). So concurrent
// transactions are committed together, group-commit style: a committer takes
// the queued transactions, runs each under its own savepoint inside one SQLite
// transaction (a failing one rolls back alone), commits once and answers them
// all. Pages several of them touch (the tail of a table, an index leaf) are
// written once.
//
// The writer lock (Store.writeMu) is held from the group's BEGIN to its
// COMMIT and released on every path: a panic in a caller's fn is recovered
// and re-raised in that caller; a panic in the commit path itself (gorm, the
// driver, the OnEnqueue hook) is recovered too, reaches every caller of the
// group as a panic in its own goroutine, and leaves the committer free for
// the next group.
//
// No nesting: fn must do all its work on the tx it is given and never start
// another write (Store.tx or Store.write) from inside, because the committer
// running fn holds the writer lock and would wait for itself. The context of
// the tx handed to fn is marked, and a write started with it (or a context
// derived from it) fails at once with ErrNestedWrite, on both databases,
// instead of deadlocking. Reverting to a plain serialized transaction is
// Store.tx taking writeMu around s.db.Transaction on SQLite, as Store.write
// does for single statements.

// maxGroup bounds one group commit.
const maxGroup = 64

type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupedTx
	running bool
}

// groupedTx is one caller's transaction waiting for a group commit.
type groupedTx struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error
}

// txPanic carries a panic in fn, or in the commit of fn's group, back to the
// caller's goroutine.
type txPanic struct{ value any }

func (p *txPanic) Error() string { return fmt.Sprintf("panic in transaction: %v", p.value) }

// txGrouped runs fn in the next group commit and waits for its outcome. A
// caller that finds no committer running commits its own group (no
// goroutine hop for a lone transaction) and leaves whatever queued up
// meanwhile to a committer goroutine.
func (s *Store) txGrouped(ctx context.Context, fn func(tx *gorm.DB) error) error {
	t := &groupedTx{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, t)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		s.commitNext() // the queue was empty: t is first in this group
		g.mu.Lock()
		more := len(g.queue) > 0
		g.running = more
		g.mu.Unlock()
		if more {
			go s.commitGroups()
		}
	}
	err := <-t.done
	if p, ok := err.(*txPanic); ok {
		panic(p.value)
	}
	return err
}

// commitGroups commits queued transactions until the queue is empty.
func (s *Store) commitGroups() {
	for s.commitNext() {
	}
}

// commitNext commits the next group, or reports an empty queue (and that no
// committer runs any more).
func (s *Store) commitNext() bool {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	if n == 0 {
		g.running = false
		g.queue = nil
		g.mu.Unlock()
		return false
	}
	batch := make([]*groupedTx, n)
	copy(batch, g.queue)
	g.queue = g.queue[n:]
	g.mu.Unlock()
	s.commitGroup(batch)
	return true
}

// commitGroup commits batch and answers every caller in it, whatever
// happens: it never panics, so the committer and the writer lock stay
// usable.
func (s *Store) commitGroup(batch []*groupedTx) {
	errs := make([]error, len(batch))
	err := s.commitBatch(batch, errs)
	for i, t := range batch {
		if errs[i] == nil {
			errs[i] = err // the commit itself failed: nothing of the group was saved
		}
		t.done <- errs[i]
	}
}

// commitBatch runs batch in one transaction under the writer lock, filling
// errs with each caller's own outcome, and returns the commit's. A panic
// outside the callers' fns is returned as a *txPanic.
func (s *Store) commitBatch(batch []*groupedTx, errs []error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &txPanic{value: v}
		}
	}()
	before := s.enqueued.Load()
	err = s.commitLocked(batch, errs)
	s.notifyEnqueued(before, err)
	return err
}

// commitLocked is the group's transaction, with the writer lock held until
// it returns or panics.
func (s *Store) commitLocked(batch []*groupedTx, errs []error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.WithContext(context.Background()).Transaction(func(tx *gorm.DB) error {
		if len(batch) == 1 {
			errs[0] = batch[0].run(tx)
			return errs[0]
		}
		for i, t := range batch {
			sp := "group_" + strconv.Itoa(i)
			if err := tx.SavePoint(sp).Error; err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if errs[i] = t.run(tx); errs[i] != nil {
				if err := tx.RollbackTo(sp).Error; err != nil {
					return fmt.Errorf("roll back to savepoint: %w", err)
				}
			}
		}
		return nil
	})
}

// run runs the caller's fn unless its context is already over. Once started
// it is not interrupted: interrupting SQLite mid-statement would roll back
// the whole group's transaction.
func (t *groupedTx) run(tx *gorm.DB) (err error) {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = &txPanic{value: v}
		}
	}()
	return t.fn(tx.WithContext(markWriting(context.WithoutCancel(t.ctx))))
}
