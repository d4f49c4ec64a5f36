package models

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

func newSQLiteStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "write.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sealer, err := NewSealer([][]byte{make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return NewStore(db, sealer)
}

// Concurrent SQLite transactions each keep their own outcome: a failing or
// panicking one leaves no trace and does not hold the writer lock, the others
// are saved.
func TestConcurrentWritesIsolateFailures(t *testing.T) {
	s := newSQLiteStore(t)
	ctx := context.Background()
	errBoom := errors.New("boom")
	const n = 300
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			results[i] = s.tx(ctx, func(tx *gorm.DB) error {
				if err := s.audit(tx, SystemActor, AuditAction("test"), "test", int64(i+1), fmt.Sprint(i)); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errBoom
				case 2:
					if i%2 == 0 {
						panic("bad fn")
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	var saved []string
	if err := s.db.Model(&AuditEvent{}).Where("action = ?", "test").Order("detail").Pluck("detail", &saved).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range n {
		switch {
		case i%3 == 1:
			if !errors.Is(results[i], errBoom) {
				t.Errorf("tx %d: %v, want its own error", i, results[i])
			}
		case i%3 == 2 && i%2 == 0:
			if panics[i] != "bad fn" {
				t.Errorf("tx %d: panic %v, want it re-raised in its caller", i, panics[i])
			}
		default:
			if results[i] != nil || panics[i] != nil {
				t.Errorf("tx %d: %v %v", i, results[i], panics[i])
			}
			want[fmt.Sprint(i)] = true
		}
	}
	if len(saved) != len(want) {
		t.Fatalf("%d rows saved, want %d", len(saved), len(want))
	}
	for _, d := range saved {
		if !want[d] {
			t.Errorf("row of tx %s saved, but it failed", d)
		}
	}
}

// A caller whose context is over before its turn is not run.
func TestWriteSkipsCancelled(t *testing.T) {
	s := newSQLiteStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.tx(ctx, func(tx *gorm.DB) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err %v, ran %v", err, ran)
	}
}

// A panic after fn, in the commit path (here the OnEnqueue hook), reaches the
// caller as a panic and leaves the writer lock free: the next writes go
// through.
func TestPanicInCommitPathReleasesWriter(t *testing.T) {
	s := newSQLiteStore(t)
	ctx := context.Background()
	var armed atomic.Bool
	armed.Store(true)
	s.OnEnqueue(func() {
		if armed.Swap(false) {
			panic("hook")
		}
	})
	writeAudit := func(detail string) error {
		return s.tx(ctx, func(tx *gorm.DB) error {
			s.enqueued.Add(1) // as if fn wrote a sync job: the hook runs after the commit
			return s.audit(tx, SystemActor, AuditAction("test"), "test", 1, detail)
		})
	}
	recovered := withDeadline(t, "the write whose commit panics", func() (err error) {
		defer func() {
			if v := recover(); v != "hook" {
				err = fmt.Errorf("recovered %v, want the hook's panic", v)
			}
		}()
		return writeAudit("first")
	})
	if recovered != nil {
		t.Fatal(recovered)
	}
	if err := withDeadline(t, "the next transaction", func() error { return writeAudit("second") }); err != nil {
		t.Fatal(err)
	}
	err := withDeadline(t, "the next single statement", func() error {
		return s.write(ctx, func(db *gorm.DB) *gorm.DB {
			return db.Model(&AuditEvent{}).Where("detail = ?", "second").Update("ip", "127.0.0.1")
		}).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

// withDeadline runs fn and returns its error, failing the test if fn has not
// returned within 10 s (a write waiting on a lock that was never released).
func withDeadline(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not finish in 10 s: a lock was left held", what)
		return nil
	}
}
