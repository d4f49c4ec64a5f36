package models_test

import (
	"context"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

// BenchmarkRequestPath measures the store calls of a request's hot path on
// SQLite: create, approve, and the syncer's read of its work.
func BenchmarkRequestPath(b *testing.B) {
	ctx := context.Background()
	s := modeltest.NewStore(b, models.DialectSQLite)
	f := newFixture(b, s)
	b.Run("CreateRequest", func(b *testing.B) {
		for b.Loop() {
			f.request(b)
		}
	})
	b.Run("CreateRequestParallel", func(b *testing.B) {
		b.SetParallelism(8) // 16 writers on two cores, like the API under load
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f.request(b)
			}
		})
	})
	b.Run("Decide", func(b *testing.B) {
		ids := make([]int64, b.N)
		for i := range ids {
			ids[i] = f.request(b).ID
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			modeltest.Must(s.Decide(ctx, f.approver, ids[i], models.DecisionApprove, "ok"))
		}
	})
	id := f.request(b).ID
	modeltest.Must(s.Decide(ctx, f.approver, id, models.DecisionApprove, "ok"))
	b.Run("LoadSyncWork", func(b *testing.B) {
		for b.Loop() {
			modeltest.Must(s.LoadSyncWork(ctx, id))
		}
	})
	b.Run("Request", func(b *testing.B) {
		for b.Loop() {
			modeltest.Must(s.Request(ctx, id))
		}
	})
}

// BenchmarkRequestReadHandVsGorm is the figure behind the hand-written
// statements of sql_access_requests.go: the same read of a decided request
// (its requester, account, decider, Jira link, resources and events) as
// written by hand and through gorm's Joins and Preload.
func BenchmarkRequestReadHandVsGorm(b *testing.B) {
	ctx := context.Background()
	s := modeltest.NewStore(b, models.DialectSQLite)
	f := newFixture(b, s)
	id := f.request(b).ID
	modeltest.Must(s.Decide(ctx, f.approver, id, models.DecisionApprove, "ok"))
	hand, viaGorm := modeltest.Must(s.ReadRequestHand(ctx, id)), modeltest.Must(s.ReadRequestGorm(ctx, id))
	if hand.Requester.Email != viaGorm.Requester.Email || len(hand.Events) != len(viaGorm.Events) ||
		len(hand.Resources) != len(viaGorm.Resources) || hand.DecidedBy == nil || viaGorm.DecidedBy == nil {
		b.Fatalf("the two reads differ: %+v\n%+v", hand, viaGorm)
	}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			modeltest.Must(s.ReadRequestHand(ctx, id))
		}
	})
	b.Run("gorm", func(b *testing.B) {
		for b.Loop() {
			modeltest.Must(s.ReadRequestGorm(ctx, id))
		}
	})
}

// BenchmarkWriteHandVsGorm is the figure behind the hand-written inserts of
// sql_audit_events.go and sql_sync_jobs.go: the rows every request change
// writes besides the request (an audit event, a sync job) in one SQLite
// write transaction, by hand and through gorm's Create.
func BenchmarkWriteHandVsGorm(b *testing.B) {
	ctx := context.Background()
	s := modeltest.NewStore(b, models.DialectSQLite)
	f := newFixture(b, s)
	id := f.request(b).ID
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			if err := s.WriteRowsHand(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorm", func(b *testing.B) {
		for b.Loop() {
			if err := s.WriteRowsGorm(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
