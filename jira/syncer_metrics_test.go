package jira

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"privilege/models"
)

// The outbox gauges come from one read per scrape; -1 when it fails.
func TestOutboxGauges(t *testing.T) {
	reads := 0
	var fail bool
	reg := prometheus.NewRegistry()
	NewSyncMetrics(reg, func(context.Context) (models.SyncStats, error) {
		reads++
		if fail {
			return models.SyncStats{}, errors.New("database down")
		}
		return models.SyncStats{Backlog: 7, Failed: 2, Parked: 1, OldestPendingAge: 90 * time.Second}, nil
	})
	gauges := func() map[string]float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetType().String() == "GAUGE" {
				out[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return out
	}
	want := map[string]float64{"sync_backlog_jobs": 7, "sync_failed_requests": 2, "sync_parked_requests": 1, "sync_oldest_pending_age_seconds": 90}
	got := gauges()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if reads != 1 {
		t.Errorf("%d outbox reads for one scrape, want 1", reads)
	}
	fail = true
	for k, v := range gauges() {
		if want[k] != 0 && v != -1 {
			t.Errorf("%s = %v while the outbox is unreadable, want -1", k, v)
		}
	}
}
