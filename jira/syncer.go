package jira

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"privilege/models"
)

// SyncStore is what the syncer needs from the database (*models.Store).
type SyncStore interface {
	ClaimJobs(ctx context.Context, owner string, n int, lease time.Duration) ([]models.SyncJob, error)
	LoadSyncWork(ctx context.Context, requestID int64) (models.SyncWork, error)
	ProjectLinkSettings(ctx context.Context, id int64) (models.ProjectLink, error)
	ProjectLinkSettingsByKey(ctx context.Context, integrationID int64, key string) (models.ProjectLink, error)
	IntegrationSettings(ctx context.Context, id int64) (models.Integration, error)
	ClientSecret(in models.Integration) (string, error)
	RecordCreateAttempt(ctx context.Context, requestID, integrationID int64, projectKey string) error
	CompleteJob(ctx context.Context, job models.SyncJob, watermark int64, state models.SyncState, note string, p models.SyncProgress) error
	RetryJob(ctx context.Context, job models.SyncJob, runAfter time.Time, lastErr string, p models.SyncProgress) error
	FailJob(ctx context.Context, job models.SyncJob, lastErr string, p models.SyncProgress) error
	ParkJob(ctx context.Context, job models.SyncJob, lastErr string, p models.SyncProgress) error
	MarkIntegrationSuccess(ctx context.Context, id int64) error
	NextRunAfter(ctx context.Context) (time.Time, bool, error)
	ReleaseJobs(ctx context.Context, owner string, jobs []models.SyncJob) error
	// People (people_sync.go).
	UserJiraIdentity(ctx context.Context, integrationID, userID int64) (models.JiraIdentity, error)
	ApproverJiraIdentities(ctx context.Context, integrationID, requesterID int64) ([]models.JiraIdentity, error)
	RecordPeopleProblem(ctx context.Context, projectLinkID int64, part models.PeoplePart, problem string) error
	// Leases (lease.go).
	RenewLeases(ctx context.Context, owner string, ids []int64, lease time.Duration) ([]int64, error)
	// Ticket shaping (shaping_sync.go).
	RecordFieldsProblem(ctx context.Context, projectLinkID int64, problem string) error
}

// DefaultSyncWorkers is how many jobs a syncer runs at once by default. The
// calls in flight to one Jira are bounded by the pacer's adaptive per-site
// limit (inflight.go, 2 to 32, starting at 8), so a far-away site gets more
// calls in flight while it answers well and a struggling one fewer.
const DefaultSyncWorkers = 32

// DefaultLease is a claimed job's lease. The heartbeat renews it every
// DefaultLease/4 while the job runs, so only a dead replica lets it run out:
// other replicas then take its jobs within DefaultLease plus a poll interval.
// Replicas' clocks must agree to well within DefaultLease/3 (NTP does).
const DefaultLease = 12 * time.Second

// SyncerConfig tunes the syncer; zero values take the defaults.
type SyncerConfig struct {
	BaseURL        string        // PRIVILEGE_BASE_URL, for approval links
	Workers        int           // jobs in flight (default DefaultSyncWorkers)
	PollInterval   time.Duration // how often to look for work written elsewhere (default 2s)
	Lease          time.Duration // claim lease, renewed every Lease/4 while a job runs; a dead replica's jobs return after it (default 12s)
	JobTimeout     time.Duration // one reconcile, all Jira calls included (default 60s)
	AmbiguousGrace time.Duration // after an ambiguous create, how long search may lag (default 60s)
	BackoffBase    time.Duration // default 2s
	BackoffCap     time.Duration // default 10m
	MaxAttempts    int           // retryable failures before giving up (default 25)
	Now            func() time.Time
	Decisions      *DecisionMetrics // decisions from Jira (decisions.go); nil records nothing
}

func (c *SyncerConfig) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = DefaultSyncWorkers
	}
	set(&c.PollInterval, 2*time.Second)
	set(&c.Lease, DefaultLease)
	set(&c.JobTimeout, 60*time.Second)
	set(&c.AmbiguousGrace, 60*time.Second)
	set(&c.BackoffBase, 2*time.Second)
	set(&c.BackoffCap, 10*time.Minute)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 25
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Syncer is the reconciler of design.md §4: a job means "make the Jira task
// of request R match R". It creates the task if none is recorded, then
// applies every lifecycle event not yet applied, in order; running a job
// twice changes nothing the second time. It never holds a database
// transaction across a Jira call: claim, call Jira, record.
type Syncer struct {
	log     *slog.Logger
	store   SyncStore
	clients *Clients
	cfg     SyncerConfig
	owner   string
	wake    chan struct{}
	beat    atomic.Int64 // unix nanos of the last loop turn
	metrics *SyncMetrics
	leases  *leaseKeeper

	successMu   sync.Mutex
	lastSuccess map[int64]time.Time // per integration, to record success at most every 30s

	decisionStore DecisionStore // decisions from Jira (decisions.go); nil when the store has none
	jiraSelf      selfCache
}

// NewSyncer builds a syncer; Run starts it.
func NewSyncer(log *slog.Logger, store SyncStore, clients *Clients, metrics *SyncMetrics, cfg SyncerConfig) *Syncer {
	cfg.defaults()
	owner := "syncer-" + randomOwner()
	s := &Syncer{log: log, store: store, clients: clients, cfg: cfg, owner: owner,
		wake: make(chan struct{}, 1), metrics: metrics, lastSuccess: map[int64]time.Time{},
		leases: newLeaseKeeper(store, owner, cfg.Lease, cfg.Now, log)}
	s.decisionStore, _ = store.(DecisionStore)
	return s
}

// heartbeat renews the leases of running jobs until the returned stop is
// called (after the last job ended).
func (s *Syncer) heartbeat(ctx context.Context) (stop func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.leases.run(hctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Notify wakes the syncer at once (a job was just written in this process).
func (s *Syncer) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Heartbeat is the time of the syncer's last loop turn (zero before it runs).
func (s *Syncer) Heartbeat() time.Time {
	n := s.beat.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// HealthyWithin reports whether the loop turned within d.
func (s *Syncer) HealthyWithin(d time.Duration) bool {
	hb := s.Heartbeat()
	return !hb.IsZero() && time.Since(hb) < d
}

// Run works until ctx ends, then waits for jobs in flight (they are bounded
// by JobTimeout; an interrupted job is simply claimed again later).
func (s *Syncer) Run(ctx context.Context) {
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	done := make(chan struct{}, s.cfg.Workers)
	stopHeartbeat := s.heartbeat(ctx)
	defer stopHeartbeat() // after the jobs in flight: they keep their leases to the end
	var wg sync.WaitGroup
	defer wg.Wait()
	inflight := 0
	var queue []models.SyncJob // claimed, waiting for a free worker
	var claimedAt time.Time
	for {
		s.beat.Store(time.Now().UnixNano())
		// Claim a batch (one transaction) for the free workers only: a claimed
		// job's lease runs from the claim, so none may wait for a worker.
		if len(queue) == 0 && inflight < s.cfg.Workers && ctx.Err() == nil {
			claimedAt = s.cfg.Now()
			jobs, err := s.store.ClaimJobs(ctx, s.owner, s.cfg.Workers-inflight, s.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				s.log.Error("claim sync jobs", "err", err)
			}
			queue = jobs
		}
		for len(queue) > 0 && inflight < s.cfg.Workers {
			job := queue[0]
			queue = queue[1:]
			inflight++
			wg.Add(1)
			go func(claimedAt time.Time) {
				defer wg.Done()
				// The worker is free once Jira is done with the job: its
				// outcome is written while the next job starts.
				s.runJob(context.WithoutCancel(ctx), job, claimedAt, func() { done <- struct{}{} })
			}(claimedAt)
		}
		wait := s.cfg.PollInterval
		if len(queue) == 0 && inflight < s.cfg.Workers {
			wait = s.untilNextDue(ctx)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.release(queue)
			return
		case <-done:
			// Count every worker freed meanwhile, so that one claim (one
			// transaction) refills them all.
			inflight -= 1 + drain(done)
		case <-s.wake:
		case <-poll.C:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// drain takes every signal already waiting on ch and returns how many.
func drain(ch <-chan struct{}) int {
	for n := 0; ; n++ {
		select {
		case <-ch:
		default:
			return n
		}
	}
}

// release returns claimed, unstarted jobs to the pool on shutdown.
func (s *Syncer) release(queue []models.SyncJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.ReleaseJobs(ctx, s.owner, queue); err != nil {
		s.log.Error("release unstarted sync jobs", "err", err)
	}
}

// untilNextDue is how long to sleep: until the earliest retry becomes due, at
// most one poll interval (work written by other replicas is found by
// polling). A job already due but not claimed waits behind an older job of
// its request, which a finishing worker signals.
func (s *Syncer) untilNextDue(ctx context.Context) time.Duration {
	next, ok, err := s.store.NextRunAfter(ctx)
	if err != nil || !ok {
		return s.cfg.PollInterval
	}
	wait := next.Sub(s.cfg.Now())
	if wait <= 0 {
		return s.cfg.PollInterval
	}
	return min(wait, s.cfg.PollInterval)
}

// ProcessOnce claims due jobs, runs them and returns how many it ran. Tests
// and tools drive the syncer with it instead of Run.
func (s *Syncer) ProcessOnce(ctx context.Context) (int, error) {
	claimedAt := s.cfg.Now()
	jobs, err := s.store.ClaimJobs(ctx, s.owner, s.cfg.Workers, s.cfg.Lease)
	if err != nil {
		return 0, err
	}
	stopHeartbeat := s.heartbeat(ctx)
	defer stopHeartbeat()
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runJob(ctx, job, claimedAt, func() {})
		}()
	}
	wg.Wait()
	return len(jobs), nil
}
