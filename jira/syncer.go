package jira

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	ExpireDue(ctx context.Context, limit int) (int, error)
	NextRunAfter(ctx context.Context) (time.Time, bool, error)
	ReleaseJobs(ctx context.Context, owner string, jobs []models.SyncJob) error
}

// DefaultSyncWorkers is how many jobs a syncer runs at once by default.
const DefaultSyncWorkers = 8

// SyncerConfig tunes the syncer; zero values take the defaults.
type SyncerConfig struct {
	BaseURL        string        // PRIVILEGE_BASE_URL, for approval links
	Workers        int           // jobs in flight (default DefaultSyncWorkers)
	PollInterval   time.Duration // how often to look for work written elsewhere (default 2s)
	Lease          time.Duration // claim lease; a crashed worker's jobs return after it (default 2m)
	JobTimeout     time.Duration // one reconcile, all Jira calls included (default 60s, < Lease)
	ExpireInterval time.Duration // how often pending/approved requests are checked for expiry (default 15s)
	AmbiguousGrace time.Duration // after an ambiguous create, how long search may lag (default 60s)
	BackoffBase    time.Duration // default 2s
	BackoffCap     time.Duration // default 10m
	MaxAttempts    int           // retryable failures before giving up (default 25)
	Now            func() time.Time
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
	set(&c.Lease, 2*time.Minute)
	set(&c.JobTimeout, 60*time.Second)
	set(&c.ExpireInterval, 15*time.Second)
	set(&c.AmbiguousGrace, 60*time.Second)
	set(&c.BackoffBase, 2*time.Second)
	set(&c.BackoffCap, 10*time.Minute)
	// A job must end well within its lease: no lease extension is needed and
	// no two workers ever run one job at the same time.
	if c.JobTimeout > c.Lease*3/4 {
		c.JobTimeout = c.Lease * 3 / 4
	}
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

	successMu   sync.Mutex
	lastSuccess map[int64]time.Time // per integration, to record success at most every 30s
}

// NewSyncer builds a syncer; Run starts it.
func NewSyncer(log *slog.Logger, store SyncStore, clients *Clients, metrics *SyncMetrics, cfg SyncerConfig) *Syncer {
	cfg.defaults()
	return &Syncer{log: log, store: store, clients: clients, cfg: cfg, owner: "syncer-" + randomOwner(),
		wake: make(chan struct{}, 1), metrics: metrics, lastSuccess: map[int64]time.Time{}}
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
	var wg sync.WaitGroup
	defer wg.Wait()
	inflight := 0
	var queue []models.SyncJob // claimed, waiting for a free worker
	var lastExpire time.Time
	for {
		s.beat.Store(time.Now().UnixNano())
		lastExpire = s.expireIfDue(ctx, lastExpire)
		// Claim a batch (one transaction for up to Workers jobs) only when the
		// local queue is empty, then hand jobs to workers as slots free up.
		if len(queue) == 0 && inflight < s.cfg.Workers && ctx.Err() == nil {
			jobs, err := s.store.ClaimJobs(ctx, s.owner, s.cfg.Workers, s.cfg.Lease)
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
			go func() {
				defer wg.Done()
				s.runJob(context.WithoutCancel(ctx), job)
				done <- struct{}{}
			}()
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
			inflight--
		case <-s.wake:
		case <-poll.C:
		case <-timer.C:
		}
		timer.Stop()
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

// expireIfDue runs the expiry sweep every ExpireInterval.
func (s *Syncer) expireIfDue(ctx context.Context, last time.Time) time.Time {
	now := s.cfg.Now()
	if now.Sub(last) < s.cfg.ExpireInterval {
		return last
	}
	if n, err := s.store.ExpireDue(ctx, 500); err != nil && ctx.Err() == nil {
		s.log.Error("expire requests", "err", err)
	} else if n > 0 {
		s.log.Info("requests expired or ended", "count", n)
	}
	return now
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
	if _, err := s.store.ExpireDue(ctx, 500); err != nil {
		return 0, err
	}
	jobs, err := s.store.ClaimJobs(ctx, s.owner, s.cfg.Workers, s.cfg.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runJob(ctx, job)
		}()
	}
	wg.Wait()
	return len(jobs), nil
}

// result is what a reconcile decided about its job.
type result struct {
	kind      resultKind
	state     models.SyncState
	note      string
	runAfter  time.Time
	watermark int64
	progress  models.SyncProgress // what reached Jira, saved with the outcome
}

type resultKind int

const (
	resultDone resultKind = iota
	resultRetry
	resultFail
	resultPark
)

func (s *Syncer) runJob(ctx context.Context, job models.SyncJob) {
	jctx, cancel := context.WithTimeout(ctx, s.cfg.JobTimeout)
	defer cancel()
	start := time.Now()
	res := s.reconcile(jctx, job)
	log := s.log.With("job", job.ID, "access_request_id", job.RequestID, "attempt", job.Attempts)
	var err error
	switch res.kind {
	case resultDone:
		err = s.store.CompleteJob(ctx, job, res.watermark, res.state, res.note, res.progress)
	case resultRetry:
		log.Warn("sync retry", "reason", res.note, "run_after", res.runAfter)
		err = s.store.RetryJob(ctx, job, res.runAfter, res.note, res.progress)
	case resultFail:
		log.Warn("sync failed", "reason", res.note)
		err = s.store.FailJob(ctx, job, res.note, res.progress)
	case resultPark:
		log.Warn("sync parked", "reason", res.note)
		err = s.store.ParkJob(ctx, job, res.note, res.progress)
	}
	if err != nil {
		// The lease will expire and the job will be claimed again.
		log.Error("record sync outcome", "err", err)
	}
	s.metrics.observeJob(res.kind, time.Since(start))
}

func done(state models.SyncState, note string) result {
	return result{kind: resultDone, state: state, note: note}
}

// target is where a request's task lives (or will).
type target struct {
	integ models.Integration
	link  *models.ProjectLink // nil when the project was unlinked after the task was created
	key   string              // project key
}

func (s *Syncer) reconcile(ctx context.Context, job models.SyncJob) result {
	w, err := s.store.LoadSyncWork(ctx, job.RequestID)
	if errors.Is(err, models.ErrNotFound) {
		return done(models.SyncDetached, "The request no longer exists.")
	}
	if err != nil {
		return s.retry(job, err)
	}
	var progress models.SyncProgress
	res := s.apply(ctx, job, w, &progress)
	res.watermark, res.progress = w.Watermark, progress
	return res
}

// apply brings the task in line with the request and records in progress
// what reached Jira (the issue, the applied events): the caller saves it with
// the outcome in one transaction. An issue created just before a crash is
// found again by its correlation label, since the create attempt was noted.
func (s *Syncer) apply(ctx context.Context, job models.SyncJob, w models.SyncWork, progress *models.SyncProgress) result {
	if !w.Link.SyncState.Tracked() {
		return done(w.Link.SyncState, w.Link.LastError)
	}
	t, res, ok := s.resolveTarget(ctx, job, w)
	if !ok {
		return res
	}
	if t.integ.Status == models.IntegrationReconnectRequired {
		return result{kind: resultPark, note: "Waiting for an admin to reconnect the Jira integration " + t.integ.Name + "."}
	}
	secret, err := s.store.ClientSecret(t.integ)
	if err != nil {
		return result{kind: resultFail, note: "The integration's client secret cannot be decrypted: " + err.Error()}
	}
	client := s.clients.For(NewConnection(t.integ, secret))
	link := w.Link
	if link.IssueKey == "" {
		ref, res, ok := s.ensureIssue(ctx, job, client, t, w)
		if !ok {
			return res
		}
		link.IssueKey, link.IssueID, link.IssueURL = ref.Key, ref.ID, ref.URL
		progress.IssueID, progress.IssueKey, progress.IssueURL = ref.ID, ref.Key, ref.URL
	}
	for _, ev := range w.Request.Events {
		if ev.ID <= link.AppliedEventID || ev.Kind == models.EventCreated {
			continue
		}
		if err := s.applyEvent(ctx, job, client, t, link.IssueKey, w.Request, ev); err != nil {
			return s.classify(job, err, link.IssueKey)
		}
		progress.AppliedEventID = ev.ID
	}
	s.markSuccess(ctx, t.integ.ID)
	return done(models.SyncSynced, "")
}

// markSuccess records the integration's last successful sync, at most every
// 30 seconds: it is a display value, not worth a write per job.
func (s *Syncer) markSuccess(ctx context.Context, integrationID int64) {
	now := s.cfg.Now()
	s.successMu.Lock()
	last := s.lastSuccess[integrationID]
	if now.Sub(last) < 30*time.Second {
		s.successMu.Unlock()
		return
	}
	s.lastSuccess[integrationID] = now
	s.successMu.Unlock()
	if err := s.store.MarkIntegrationSuccess(ctx, integrationID); err != nil {
		s.log.Warn("mark integration success", "err", err)
	}
}

// resolveTarget finds the integration and project of the task: where it was
// created (tasks never move), or the project now linked to the account.
func (s *Syncer) resolveTarget(ctx context.Context, job models.SyncJob, w models.SyncWork) (target, result, bool) {
	var t target
	if w.Link.IntegrationID == nil && (w.Link.IssueKey != "" || w.Link.CreateAttemptedAt != nil) {
		return t, done(models.SyncDetached, "The Jira integration of this task was disconnected; the task is no longer updated."), false
	}
	if w.Link.IntegrationID != nil && (w.Link.IssueKey != "" || w.Link.CreateAttemptedAt != nil) {
		integ, err := s.store.IntegrationSettings(ctx, *w.Link.IntegrationID)
		if err != nil {
			return t, s.detachedOr(job, err, "The Jira integration of this task was disconnected."), false
		}
		t.integ, t.key = integ, w.Link.ProjectKey
		if pl, err := s.store.ProjectLinkSettingsByKey(ctx, integ.ID, w.Link.ProjectKey); err == nil {
			t.link = &pl
		} else if !errors.Is(err, models.ErrNotFound) {
			return t, s.retry(job, err), false
		}
		return t, result{}, true
	}
	if w.Request.Account.ProjectLinkID == nil {
		return t, done(models.SyncDetached, "The account is no longer linked to a Jira project, so no task was created."), false
	}
	pl, err := s.store.ProjectLinkSettings(ctx, *w.Request.Account.ProjectLinkID)
	if err != nil {
		return t, s.detachedOr(job, err, "The account's Jira project was unlinked before the task was created."), false
	}
	integ, err := s.store.IntegrationSettings(ctx, pl.IntegrationID)
	if err != nil {
		return t, s.detachedOr(job, err, "The Jira integration was disconnected before the task was created."), false
	}
	t.integ, t.link, t.key = integ, &pl, pl.ProjectKey
	return t, result{}, true
}

func (s *Syncer) detachedOr(job models.SyncJob, err error, note string) result {
	if errors.Is(err, models.ErrNotFound) {
		return done(models.SyncDetached, note)
	}
	return s.retry(job, err)
}

// ensureIssue finds or creates the request's task, exactly once: an earlier
// attempt that may have reached Jira is searched for (by correlation label)
// before any new create, allowing search to lag behind writes.
func (s *Syncer) ensureIssue(ctx context.Context, job models.SyncJob, client *Client, t target, w models.SyncWork) (IssueRef, result, bool) {
	reqID := w.Request.ID
	if at := w.Link.CreateAttemptedAt; at != nil {
		refs, err := client.FindIssuesByLabel(ctx, t.key, CorrelationLabel(reqID), nil)
		if err != nil {
			return IssueRef{}, s.classify(job, err, ""), false
		}
		if len(refs) > 0 {
			return refs[len(refs)-1], result{}, true // ORDER BY created DESC: the first one created
		}
		if wait := at.Add(s.cfg.AmbiguousGrace); s.cfg.Now().Before(wait) {
			return IssueRef{}, result{kind: resultRetry, runAfter: wait,
				note: "An earlier create may have reached Jira; waiting for Jira search to catch up before creating again."}, false
		}
	}
	if t.link == nil {
		return IssueRef{}, done(models.SyncDetached, "The Jira project was unlinked before the task was created."), false
	}
	if err := s.store.RecordCreateAttempt(ctx, reqID, t.integ.ID, t.key); err != nil {
		return IssueRef{}, s.retry(job, err), false
	}
	ref, err := client.CreateIssue(ctx, IssueInput{
		ProjectKey: t.key, IssueTypeID: t.link.IssueTypeID, Summary: IssueSummary(w.Request),
		Description: IssueDescription(w.Request, s.cfg.BaseURL), Labels: []string{ProductLabel, CorrelationLabel(reqID)},
	})
	if err != nil {
		if IsAmbiguous(err) {
			return IssueRef{}, result{kind: resultRetry, runAfter: s.cfg.Now().Add(s.backoff(1)),
				note: "Creating the task may or may not have worked (" + err.Error() + "); it will be checked before trying again."}, false
		}
		return IssueRef{}, s.classify(job, err, ""), false
	}
	return ref, result{}, true
}

// applyEvent moves the task to the outcome's status (idempotent: no-op when
// already there), then comments. When an earlier attempt of this job may have
// posted the comment (the job ran before and did not finish), the issue's
// comments are checked for the event's marker first, so it is posted once.
func (s *Syncer) applyEvent(ctx context.Context, job models.SyncJob, client *Client, t target, key string, r models.AccessRequest, ev models.RequestEvent) error {
	if o := ev.Kind.Outcome(); o != "" {
		status := ""
		if t.link != nil {
			status = t.link.StatusFor(o)
		}
		var opts []MoveOption
		if o != models.OutcomeApproved {
			opts = append(opts, ForDenial())
		}
		if err := client.MoveToStatus(ctx, key, status, opts...); err != nil {
			return err
		}
	}
	if job.Attempts > 1 {
		posted, err := client.HasComment(ctx, key, EventMarker(ev))
		if err != nil || posted {
			return err
		}
	}
	return client.AddComment(ctx, key, EventComment(r, ev))
}

// classify turns a Jira error into retry, park or fail.
func (s *Syncer) classify(job models.SyncJob, err error, issueKey string) result {
	now := s.cfg.Now()
	switch {
	case errors.Is(err, ErrReconnectRequired), errors.Is(err, models.ErrReconnectRequired):
		return result{kind: resultPark, note: "Waiting for an admin to reconnect Jira: " + err.Error()}
	case errors.Is(err, ErrNotFound) && issueKey != "":
		return result{kind: resultFail, note: fmt.Sprintf("The Jira issue %s was deleted or is hidden from the connected Jira user. Nothing was re-created; restore the issue or the user's access, then Retry.", issueKey)}
	}
	if d, ok := RetryAfter(err); ok {
		return result{kind: resultRetry, runAfter: now.Add(max(d, s.backoff(1)/2)), note: err.Error()}
	}
	if IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		if job.Attempts >= s.cfg.MaxAttempts {
			return result{kind: resultFail, note: fmt.Sprintf("Gave up after %d attempts: %v", job.Attempts, err)}
		}
		return result{kind: resultRetry, runAfter: now.Add(s.backoff(job.Attempts)), note: err.Error()}
	}
	return result{kind: resultFail, note: err.Error()}
}

// retry reschedules after a local (database) problem.
func (s *Syncer) retry(job models.SyncJob, err error) result {
	return result{kind: resultRetry, runAfter: s.cfg.Now().Add(s.backoff(job.Attempts)), note: "Temporary problem: " + err.Error()}
}

// backoff is capped exponential backoff with jitter in [d/2, d].
func (s *Syncer) backoff(attempt int) time.Duration {
	d := s.cfg.BackoffBase
	for i := 1; i < attempt && d < s.cfg.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, s.cfg.BackoffCap)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// NewConnection describes an integration for the client.
func NewConnection(in models.Integration, clientSecret string) Connection {
	return Connection{IntegrationID: in.ID, Deployment: in.Deployment, CloudID: in.CloudID, SiteURL: in.SiteURL,
		BaseURL: in.BaseURL, ClientID: in.ClientID, ClientSecret: clientSecret}
}
