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
	reg.MustRegister(outboxCollector{stats: stats})
	return m
}

// outboxCollector reads the outbox once per scrape for all its gauges, so
// they come from one snapshot.
type outboxCollector struct {
	stats func(ctx context.Context) (models.SyncStats, error)
}

var (
	backlogDesc = prometheus.NewDesc("sync_backlog_jobs", "Sync jobs pending or running.", nil, nil)
	failedDesc  = prometheus.NewDesc("sync_failed_requests", "Requests whose Jira sync failed and waits for an admin.", nil, nil)
	parkedDesc  = prometheus.NewDesc("sync_parked_requests", "Requests waiting for a Jira integration to be reconnected.", nil, nil)
	oldestDesc  = prometheus.NewDesc("sync_oldest_pending_age_seconds", "Age of the oldest pending sync job.", nil, nil)
)

func (outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backlogDesc, failedDesc, parkedDesc, oldestDesc} {
		ch <- d
	}
}

// Collect reports -1 for every gauge when the outbox cannot be read.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	values := []float64{float64(st.Backlog), float64(st.Failed), float64(st.Parked), st.OldestPendingAge.Seconds()}
	for i, d := range []*prometheus.Desc{backlogDesc, failedDesc, parkedDesc, oldestDesc} {
		v := values[i]
		if err != nil {
			v = -1
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
}

func (m *SyncMetrics) observeJob(k resultKind, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues([...]string{"done", "retry", "fail", "park"}[k]).Inc()
	m.duration.Observe(d.Seconds())
}
