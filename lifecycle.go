package main

import (
	"context"
	"log/slog"
	"time"
)

// expiryInterval is how often the lifecycle looks for pending requests past
// their deadline and approved access whose window is over.
const expiryInterval = 15 * time.Second

// expiryBatch is how many requests one pass changes per step at most; what
// is left waits for the next pass.
const expiryBatch = 500

// expiryStore is what the lifecycle needs from the database (*models.Store).
// ExpireDue changes each due request once however many replicas sweep at the
// same time, and writes the Jira sync job of a tracked request in the same
// transaction.
type expiryStore interface {
	ExpireDue(ctx context.Context, limit int) (int, error)
}

// tickFunc is the lifecycle's clock: a channel that ticks every d, and a
// stop for it. The server uses time.NewTicker; tests tick by hand.
type tickFunc func(d time.Duration) (ticks <-chan time.Time, stop func())

func realTicks(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// lifecycleConfig tunes the lifecycle; zero values take the defaults.
type lifecycleConfig struct {
	Interval time.Duration // between passes (default expiryInterval)
	Batch    int           // requests per step and pass (default expiryBatch)
	Ticks    tickFunc      // default realTicks
}

// lifecycle applies the request rules that run on the clock, whether or not
// any Jira is integrated: a pending request past its deadline expires and
// approved access past its window ends. Every replica runs one.
type lifecycle struct {
	log   *slog.Logger
	store expiryStore
	cfg   lifecycleConfig
}

func newLifecycle(log *slog.Logger, store expiryStore, cfg lifecycleConfig) *lifecycle {
	if cfg.Interval <= 0 {
		cfg.Interval = expiryInterval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = expiryBatch
	}
	if cfg.Ticks == nil {
		cfg.Ticks = realTicks
	}
	return &lifecycle{log: log, store: store, cfg: cfg}
}

// Run makes a pass at once, then one per tick, until ctx ends.
func (l *lifecycle) Run(ctx context.Context) {
	ticks, stop := l.cfg.Ticks(l.cfg.Interval)
	defer stop()
	for {
		l.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// pass expires what is due; a failure is logged and retried at the next tick.
func (l *lifecycle) pass(ctx context.Context) {
	n, err := l.store.ExpireDue(ctx, l.cfg.Batch)
	switch {
	case err != nil && ctx.Err() == nil:
		l.log.Error("expire requests", "err", err)
	case n > 0:
		l.log.Info("requests expired or ended", "count", n)
	}
}
