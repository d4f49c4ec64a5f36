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
