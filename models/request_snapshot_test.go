package models_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"privilege/models"
	"privilege/models/modeltest"
)

// A request is read in one snapshot: a decision committed between the read
// of its row and the read of its events is seen by neither (without one
// read transaction the reader pairs the pending row with the approval event,
// and the Jira comment loses "Access ends at").
func TestReadRequestIsOneSnapshot(t *testing.T) {
	reads := map[string]func(ctx context.Context, s *models.Store, id int64) (models.AccessRequest, error){
		"LoadSyncWork": func(ctx context.Context, s *models.Store, id int64) (models.AccessRequest, error) {
			w, err := s.LoadSyncWork(ctx, id)
			return w.Request, err
		},
		"Request": func(ctx context.Context, s *models.Store, id int64) (models.AccessRequest, error) {
			return s.Request(ctx, id)
		},
	}
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
		s := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
		f := newFixture(t, s)
		var between atomic.Pointer[func()] // runs once, just before the next read of request_events
		hook := func(tx *gorm.DB) {
			if tx.Statement.Table != "request_events" && !strings.Contains(tx.Statement.SQL.String(), "FROM request_events") {
				return
			}
			if fn := between.Swap(nil); fn != nil {
				(*fn)()
			}
		}
		if err := db.Gorm.Callback().Row().Before("gorm:row").Register("test:between_reads", hook); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Callback().Query().Before("gorm:query").Register("test:between_reads", hook); err != nil {
			t.Fatal(err)
		}
		for name, read := range reads {
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				r := f.request(t)
				approve := func() { modeltest.Must(s.Decide(ctx, f.approver, r.ID, models.DecisionApprove, "ok")) }
				between.Store(&approve)
				got := modeltest.Must(read(ctx, s, r.ID))
				if between.Load() != nil {
					t.Fatal("the approval did not run between the reads")
				}
				if got.Status != models.RequestPending || got.AccessEndsAt != nil {
					t.Fatalf("read status %s, ends %v; want the request as it was before the approval", got.Status, got.AccessEndsAt)
				}
				for _, ev := range got.Events {
					if ev.Kind == models.EventApproved {
						t.Fatalf("read the pending request with its approval event %+v: two snapshots", ev)
					}
				}
				after := modeltest.Must(read(ctx, s, r.ID))
				if after.Status != models.RequestApproved || after.AccessEndsAt == nil {
					t.Fatalf("after the approval: status %s, ends %v", after.Status, after.AccessEndsAt)
				}
			})
		}
	})
}
