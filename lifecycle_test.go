package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// lifecycleClock is the stores' clock, shared by the replicas of one test.
type lifecycleClock struct{ now atomic.Int64 }

func newLifecycleClock() *lifecycleClock {
	c := &lifecycleClock{}
	c.now.Store(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *lifecycleClock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *lifecycleClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

// replicaStore is one replica's store over the shared database and clock.
func replicaStore(t *testing.T, db *models.DB, clock *lifecycleClock) *models.Store {
	t.Helper()
	sealer, err := models.NewSealer([][]byte{modeltest.TestKey})
	if err != nil {
		t.Fatal(err)
	}
	return models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords), models.WithClock(clock.Now))
}

// handTicked is a running lifecycle whose clock ticks only when the test
// says so.
type handTicked struct {
	ticks  chan time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func startHandTicked(store expiryStore, batch int) *handTicked {
	ctx, cancel := context.WithCancel(context.Background())
	h := &handTicked{ticks: make(chan time.Time), cancel: cancel, done: make(chan struct{})}
	l := newLifecycle(slog.New(slog.NewTextHandler(io.Discard, nil)), store, lifecycleConfig{
		Batch: batch,
		Ticks: func(time.Duration) (<-chan time.Time, func()) { return h.ticks, func() {} },
	})
	go func() {
		defer close(h.done)
		l.Run(ctx)
	}()
	return h
}

// tick starts a pass. The channel is unbuffered and Run takes a tick only
// between passes, so the send returns once the previous pass has finished.
func (h *handTicked) tick() { h.ticks <- time.Time{} }

// stop lets the last pass finish (a tick is taken only after it), then ends Run.
func (h *handTicked) stop() {
	h.tick()
	h.cancel()
	<-h.done
}

// lifecycleFixture is a requester, an approver and two accounts: one tracked
// by a Jira project when the test links it, one never tracked.
type lifecycleFixture struct {
	requester, approver models.User
	tracked, untracked  models.CloudAccount
}

func newLifecycleFixture(t *testing.T, s *models.Store) lifecycleFixture {
	t.Helper()
	ctx := context.Background()
	user := func(email string, role models.Role) models.User {
		return modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
	}
	account := func(id, name string) models.CloudAccount {
		return modeltest.Must(s.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: id, Name: name,
			Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	}
	return lifecycleFixture{
		requester: user("alice@example.com", models.RoleRequester), approver: user("bob@example.com", models.RoleApprover),
		tracked: account("123456789012", "Prod"), untracked: account("210987654321", "Dev"),
	}
}

// linkJira tracks the fixture's tracked account in a Jira project (no Jira
// is called: the jobs stay in the outbox for the test to count).
func (f lifecycleFixture) linkJira(t *testing.T, s *models.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Acme", Deployment: models.DeploymentCloud,
		CloudID: "cloud-acme", SiteURL: "https://acme.atlassian.net",
		Token: models.OAuthToken{AccessToken: "access", RefreshToken: "refresh", Expiry: now.Add(time.Hour)}}))
	modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "10000", ProjectKey: "OPS",
		ProjectName: "Operations", IssueTypeID: "10001", IssueTypeName: "Task",
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{f.tracked.ID}}))
}

// request is pending for an hour and grants 60 minutes once approved.
func (f lifecycleFixture) request(t *testing.T, s *models.Store, acc models.CloudAccount, approve bool) models.AccessRequest {
	t.Helper()
	ctx := context.Background()
	r := modeltest.Must(s.CreateRequest(ctx, f.requester, models.NewRequest{AccountID: acc.ID, Resources: []string{"ReadOnly"},
		DurationMinutes: 60, Justification: "on call"}, time.Hour))
	if approve {
		r = modeltest.Must(s.Decide(ctx, f.approver, r.ID, models.DecisionApprove, "ok"))
	}
	return r
}

// syncJobCount counts the Jira sync jobs ever written for a request.
func syncJobCount(t *testing.T, db *models.DB, requestID int64) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table("sync_jobs").Where("request_id = ?", requestID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// lifecycleEvents counts a request's expired and ended events.
func lifecycleEvents(r models.AccessRequest) int {
	n := 0
	for _, ev := range r.Events {
		if ev.Kind == models.EventExpired || ev.Kind == models.EventEnded {
			n++
		}
	}
	return n
}

// TestLifecycleExpiresWithoutJira: with no Jira integration at all, the
// lifecycle expires a pending request past its deadline and ends approved
// access past its window; nothing is written for a syncer.
func TestLifecycleExpiresWithoutJira(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		ctx := context.Background()
		clock := newLifecycleClock()
		s := replicaStore(t, db, clock)
		f := newLifecycleFixture(t, s)
		waiting, granted := f.request(t, s, f.untracked, false), f.request(t, s, f.untracked, true)
		l := startHandTicked(s, 0)

		clock.Advance(59 * time.Minute)
		l.tick()
		l.tick() // the first pass is over
		if w := modeltest.Must(s.Request(ctx, waiting.ID)); w.Status != models.RequestPending {
			t.Fatalf("expired before its deadline: %s", w.Status)
		}
		clock.Advance(2 * time.Minute)
		l.tick()
		l.stop()

		w, g := modeltest.Must(s.Request(ctx, waiting.ID)), modeltest.Must(s.Request(ctx, granted.ID))
		if w.Status != models.RequestExpired || g.Status != models.RequestEnded {
			t.Fatalf("statuses %s, %s; want expired, ended", w.Status, g.Status)
		}
		for _, r := range []models.AccessRequest{w, g} {
			if last := r.Events[len(r.Events)-1]; lifecycleEvents(r) != 1 || last.ActorEmail != "system" {
				t.Fatalf("request %d events %+v", r.ID, r.Events)
			}
		}
		if st := modeltest.Must(s.SyncStats(ctx)); st.Backlog != 0 {
			t.Fatalf("backlog %d without any Jira", st.Backlog)
		}
	})
}

// TestLifecycleReplicasExpireEachRequestOnce: three replicas' lifecycles on
// one database, ticking together in small batches, change each due request
// exactly once and enqueue its Jira update exactly once.
func TestLifecycleReplicasExpireEachRequestOnce(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		ctx := context.Background()
		clock := newLifecycleClock()
		s := replicaStore(t, db, clock)
		f := newLifecycleFixture(t, s)
		f.linkJira(t, s, clock.Now())
		var reqs []models.AccessRequest
		for i := 0; i < 40; i++ {
			acc := f.tracked
			if i%4 == 3 {
				acc = f.untracked
			}
			reqs = append(reqs, f.request(t, s, acc, i%3 == 0))
		}
		jobsBefore := map[int64]int64{}
		for _, r := range reqs {
			jobsBefore[r.ID] = syncJobCount(t, db, r.ID)
		}
		var replicas []*handTicked
		for range 3 {
			replicas = append(replicas, startHandTicked(replicaStore(t, db, clock), 3))
		}

		clock.Advance(3 * time.Hour) // every request is due
		deadline := time.Now().Add(30 * time.Second)
		for due := true; due; {
			if time.Now().After(deadline) {
				t.Fatal("requests still due after 30s of passes")
			}
			var wg sync.WaitGroup
			for _, r := range replicas {
				wg.Go(r.tick) // the three passes run at the same time
			}
			wg.Wait()
			open := modeltest.Must(s.ListRequests(ctx, models.RequestQuery{Status: models.RequestPending})).Total +
				modeltest.Must(s.ListRequests(ctx, models.RequestQuery{Status: models.RequestApproved})).Total
			due = open > 0
		}
		for _, r := range replicas {
			r.stop()
		}

		for i, r := range reqs {
			got := modeltest.Must(s.Request(ctx, r.ID))
			want := models.RequestExpired
			if i%3 == 0 {
				want = models.RequestEnded
			}
			if got.Status != want || lifecycleEvents(got) != 1 {
				t.Errorf("request %d: %s with %d lifecycle events, want %s once", r.ID, got.Status, lifecycleEvents(got), want)
			}
			wantJobs := jobsBefore[r.ID] + 1 // the expiry's Jira update
			if got.AccountID == f.untracked.ID {
				wantJobs = 0 // never tracked: nothing for Jira
			}
			if n := syncJobCount(t, db, r.ID); n != wantJobs {
				t.Errorf("request %d: %d sync jobs, want %d", r.ID, n, wantJobs)
			}
		}
	})
}
