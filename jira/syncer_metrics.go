package jira

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"privilege/models"
)

// SyncMetrics counts reconcile outcomes. A nil *SyncMetrics records nothing.
type SyncMetrics struct {
	jobs     *prometheus.CounterVec
	duration prometheus.Histogram
}

// NewSyncMetrics registers the syncer's collectors with reg, plus gauges read
// from the outbox on every scrape (backlog, failures, parked, oldest age).
func NewSyncMetrics(reg prometheus.Registerer, stats func(ctx context.Context) (models.SyncStats, error)) *SyncMetrics {
	m := &SyncMetrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sync_job_attempts_total", Help: "Sync job runs by result (done, retry, fail, park).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sync_job_duration_seconds", Help: "Time to reconcile one request with Jira.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.jobs, m.duration)
	gauge := func(name, help string, pick func(models.SyncStats) float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			st, err := stats(ctx)
			if err != nil {
				return -1
			}
			return pick(st)
		})
	}
	reg.MustRegister(
		gauge("sync_backlog_jobs", "Sync jobs pending or running.", func(s models.SyncStats) float64 { return float64(s.Backlog) }),
		gauge("sync_failed_requests", "Requests whose Jira sync failed and waits for an admin.", func(s models.SyncStats) float64 { return float64(s.Failed) }),
		gauge("sync_parked_requests", "Requests waiting for a Jira integration to be reconnected.", func(s models.SyncStats) float64 { return float64(s.Parked) }),
		gauge("sync_oldest_pending_age_seconds", "Age of the oldest pending sync job.", func(s models.SyncStats) float64 { return s.OldestPendingAge.Seconds() }),
	)
	return m
}

func (m *SyncMetrics) observeJob(k resultKind, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues([...]string{"done", "retry", "fail", "park"}[k]).Inc()
	m.duration.Observe(d.Seconds())
}
