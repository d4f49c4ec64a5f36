package jira

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"privilege/models"
)

// leaseKeeper is the syncer's heartbeat: it renews the short leases of the
// jobs this process runs every Lease/4, so a replica that dies (SIGKILL, lost
// host) leaves jobs that others claim within one lease, while a long Jira
// call on a live replica keeps its job. A job whose lease cannot be renewed
// in time (the database is unreachable) is cancelled a margin before the
// lease runs out, before any other worker may claim it; a job another worker
// holds (its lease ran out after all) is cancelled at once and its outcome
// not written. Either way one job never runs on two workers at once.
type leaseKeeper struct {
	store  SyncStore
	owner  string
	lease  time.Duration
	margin time.Duration // a job stops this long before its lease ends
	now    func() time.Time
	log    *slog.Logger

	mu   sync.Mutex
	held map[int64]*heldLease
}

type heldLease struct {
	stop   *time.Timer // cancels the job a margin before its lease ends
	cancel context.CancelFunc
	lost   bool // another worker holds the job now
}

func newLeaseKeeper(store SyncStore, owner string, lease time.Duration, now func() time.Time, log *slog.Logger) *leaseKeeper {
	return &leaseKeeper{store: store, owner: owner, lease: lease, margin: lease / 3, now: now, log: log, held: map[int64]*heldLease{}}
}

// hold registers a job claimed at claimedAt and returns the context it runs
// in and the function to call when it ends, which reports whether the lease
// was lost to another worker.
func (k *leaseKeeper) hold(ctx context.Context, job models.SyncJob, claimedAt time.Time) (context.Context, func() (lost bool)) {
	jctx, cancel := context.WithCancel(ctx)
	h := &heldLease{cancel: cancel}
	k.mu.Lock()
	h.stop = time.AfterFunc(k.stopAfter(claimedAt), cancel)
	k.held[job.ID] = h
	k.mu.Unlock()
	return jctx, func() bool {
		k.mu.Lock()
		delete(k.held, job.ID)
		lost := h.lost
		k.mu.Unlock()
		h.stop.Stop()
		cancel()
		return lost
	}
}

// stopAfter is how long a job leased from `from` may still run.
func (k *leaseKeeper) stopAfter(from time.Time) time.Duration {
	return from.Add(k.lease - k.margin).Sub(k.now())
}

// renew extends the lease of every held job in one statement.
func (k *leaseKeeper) renew(ctx context.Context) {
	k.mu.Lock()
	ids := make([]int64, 0, len(k.held))
	for id := range k.held {
		ids = append(ids, id)
	}
	k.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	from := k.now()
	held, err := k.store.RenewLeases(ctx, k.owner, ids, k.lease)
	if err != nil {
		// The timers stop the jobs in time if this keeps failing.
		if ctx.Err() == nil {
			k.log.Error("renew sync job leases", "err", err, "jobs", len(ids))
		}
		return
	}
	still := make(map[int64]bool, len(held))
	for _, id := range held {
		still[id] = true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		h, ok := k.held[id]
		if !ok {
			continue // finished meanwhile
		}
		if still[id] {
			h.stop.Reset(k.stopAfter(from))
			continue
		}
		k.log.Warn("sync job lease lost to another worker; stopping it", "job", id)
		h.lost = true
		h.cancel()
	}
}

// run renews every Lease/4 until ctx ends.
func (k *leaseKeeper) run(ctx context.Context) {
	t := time.NewTicker(k.lease / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.renew(ctx)
		}
	}
}
