package jira

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"privilege/models"
)

// One reconcile: read the request, find its task's project, make the task
// match (create it exactly once, move it, comment once per event), and decide
// what becomes of the job: done, retried later, failed or parked.
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

// runJob reconciles a claimed job, calls free as soon as Jira is done with
// it (the worker may take the next job), then records the outcome.
func (s *Syncer) runJob(ctx context.Context, job models.SyncJob, claimedAt time.Time, free func()) {
	leased, release := s.leases.hold(ctx, job, claimedAt)
	jctx, cancel := context.WithTimeout(leased, s.cfg.JobTimeout)
	defer cancel()
	start := time.Now()
	res := s.reconcile(jctx, job)
	free()
	log := s.log.With("job", job.ID, "access_request_id", job.RequestID, "attempt", job.Attempts)
	if release() {
		// Another worker holds the job now and records its outcome.
		log.Warn("sync job outcome dropped: the lease was lost")
		s.metrics.observeJob(res.kind, time.Since(start))
		return
	}
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
		ref, res, ok := s.ensureIssue(ctx, job, client, t, w, progress)
		if !ok {
			return res
		}
		link.IssueKey, link.IssueID, link.IssueURL = ref.Key, ref.ID, ref.URL
		progress.IssueID, progress.IssueKey, progress.IssueURL = ref.ID, ref.Key, ref.URL
		s.addWatchers(ctx, client, t, ref.Key, w.Request)
		if !hasOutcomeAfter(w.Request.Events, link.AppliedEventID) {
			// The status the task was created in, for the request page (no
			// outcome follows in this run to report one). Display only: read
			// once per workflow, then remembered (moves.go).
			issueType := ""
			if t.link != nil {
				issueType = t.link.IssueTypeID
			}
			if st, err := client.InitialStatus(ctx, t.key, issueType, ref.Key); err == nil {
				progress.JiraStatus = st
			}
		}
	}
	if decided, err := s.readDecisions(ctx, client, t, link.IssueKey, w.Request); err != nil {
		return s.classify(job, err, link.IssueKey)
	} else if decided {
		// Apply the decision made in Jira now (its own job finds nothing left).
		nw, err := s.store.LoadSyncWork(ctx, job.RequestID)
		if err != nil {
			return s.retry(job, err)
		}
		w.Request = nw.Request
	}
	known := knownStatus(w.Request.Events, link.AppliedEventID)
	for _, ev := range w.Request.Events {
		if ev.ID <= link.AppliedEventID || ev.Kind == models.EventCreated {
			continue
		}
		if err := s.applyEvent(ctx, job, client, t, link.IssueKey, w.Request, ev, &known); err != nil {
			return s.classify(job, err, link.IssueKey)
		}
		if known != "" && known != StatusAsCreated {
			progress.JiraStatus = known // for the request page
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
// before any new create, allowing search to lag behind writes. A create Jira
// refused outright (a 4xx) made no issue: progress says so, and the outcome
// forgets the attempt, so a Retry after the admin fixes the cause creates at
// once instead of searching and waiting for search to catch up.
func (s *Syncer) ensureIssue(ctx context.Context, job models.SyncJob, client *Client, t target, w models.SyncWork, progress *models.SyncProgress) (IssueRef, result, bool) {
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
	in, res, ok := s.shapeIssue(t, w.Request)
	if !ok {
		return IssueRef{}, res, false
	}
	// Read before the attempt is noted: a database hiccup here must not
	// make the next run wait for search as after an ambiguous create.
	var err error
	if in.Reporter, in.Assignee, err = s.peopleOnCreate(ctx, t, w.Request); err != nil {
		return IssueRef{}, s.retry(job, err), false
	}
	if err := s.store.RecordCreateAttempt(ctx, reqID, t.integ.ID, t.key); err != nil {
		return IssueRef{}, s.retry(job, err), false
	}
	ref, err := s.createWithPeople(ctx, client, t, in)
	if err != nil {
		if IsAmbiguous(err) {
			return IssueRef{}, result{kind: resultRetry, runAfter: s.cfg.Now().Add(s.backoff(1)),
				note: "Creating the task may or may not have worked (" + err.Error() + "); it will be checked before trying again."}, false
		}
		var refused *APIError
		progress.CreateRefused = errors.As(err, &refused)
		if msg, refused := s.fieldRefused(ctx, t, err); refused {
			return IssueRef{}, result{kind: resultFail, note: msg}, false
		}
		return IssueRef{}, s.classify(job, err, ""), false
	}
	if t.link.FieldsProblem != "" {
		s.noteFields(ctx, t, "")
	}
	return ref, result{}, true
}

// knownStatus is what Privilege knows of the task's status before applying
// the events after applied: as created when no outcome moved it yet,
// otherwise unknown (read it before moving).
func knownStatus(events []models.RequestEvent, applied int64) string {
	for _, ev := range events {
		if ev.ID <= applied && ev.Kind.Outcome() != "" {
			return ""
		}
	}
	return StatusAsCreated
}

// applyEvent moves the task to the outcome's status (idempotent: no-op when
// already there) and comments, in one call where the workflow accepts the
// comment in the transition. When an earlier attempt of this job may have
// posted the comment (the job ran before and did not finish), the issue's
// comments are checked for the event's marker first: the comment is posted
// after (or with) the move, so a posted comment means the event is applied.
// known is the task's status as far as Privilege knows ("" = unknown); it
// is updated by the move.
func (s *Syncer) applyEvent(ctx context.Context, job models.SyncJob, client *Client, t target, key string, r models.AccessRequest, ev models.RequestEvent, known *string) error {
	marker := EventMarker(ev)
	if job.Attempts > 1 {
		posted, err := client.HasComment(ctx, key, marker)
		if err != nil || posted {
			return err
		}
	}
	comment := EventComment(r, ev)
	if o := ev.Kind.Outcome(); o != "" {
		m := Move{Key: key, Known: *known, Denial: o != models.OutcomeApproved, Comment: comment, Marker: marker}
		if t.link != nil {
			m.Target, m.ProjectKey, m.IssueTypeID = t.link.StatusFor(o), t.key, t.link.IssueTypeID
		}
		if err := s.assignDecider(ctx, client, t, key, ev); err != nil {
			return err
		}
		moved, err := client.Move(ctx, m)
		if err != nil {
			*known = ""
			return err
		}
		*known = moved.Status
		if moved.Commented {
			return nil
		}
	}
	return client.AddComment(ctx, key, comment)
}

// hasOutcomeAfter reports whether an event after applied moves the task.
func hasOutcomeAfter(events []models.RequestEvent, applied int64) bool {
	for _, ev := range events {
		if ev.ID > applied && ev.Kind.Outcome() != "" {
			return true
		}
	}
	return false
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
