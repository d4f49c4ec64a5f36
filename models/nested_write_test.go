package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"privilege/models"
	"privilege/models/modeltest"
)

// A write started from inside a write transaction's callback fails at once
// with ErrNestedWrite (on SQLite it would wait forever for the writer lock
// its own transaction holds), and the store writes normally afterwards.
func TestNestedWriteFailsFast(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		nested := map[string]func(tx *gorm.DB) error{
			"transaction": func(tx *gorm.DB) error {
				return s.WriteTx(tx.Statement.Context, func(*gorm.DB) error { return nil })
			},
			"statement": func(tx *gorm.DB) error {
				return s.WriteStatement(tx.Statement.Context, func(db *gorm.DB) *gorm.DB {
					return db.Model(&models.AuditEvent{}).Where("id = ?", 0).Update("ip", "")
				})
			},
			"store method": func(tx *gorm.DB) error {
				return s.RecordAudit(tx.Statement.Context, models.SystemActor, models.AuditAction("test"), "test", 1, "nested")
			},
		}
		for name, write := range nested {
			t.Run(name, func(t *testing.T) {
				var inner error
				done := make(chan error, 1)
				go func() {
					done <- s.WriteTx(ctx, func(tx *gorm.DB) error {
						inner = write(tx)
						return inner
					})
				}()
				select {
				case err := <-done:
					if !errors.Is(inner, models.ErrNestedWrite) || !errors.Is(err, models.ErrNestedWrite) {
						t.Fatalf("nested write: %v, transaction: %v; want ErrNestedWrite", inner, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the nested write deadlocked")
				}
				if err := s.RecordAudit(ctx, models.SystemActor, models.AuditAction("test"), "test", 1, "after"); err != nil {
					t.Fatalf("write after the refused nesting: %v", err)
				}
			})
		}
	})
}
