package jira_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// TestSlowJobKeepsItsLease: a Jira create slower than several leases does
// not hand the job to another worker (the heartbeat renews the lease), so
// the request gets exactly one task and the second worker never runs it.
// Real clock: leases are what is tested.
func TestSlowJobKeepsItsLease(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
			store := modeltest.NewStore(t, d)
			h := newCloudHarness(t, store, sim, testenv.AddAcme(sim))

			const lease = 2 * time.Second
			newSyncer := func() *jira.Syncer {
				return jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, h.clients, nil, jira.SyncerConfig{
					BaseURL: "https://privilege.example.com", Workers: 4, Lease: lease, JobTimeout: 30 * time.Second, AmbiguousGrace: time.Second,
				})
			}
			slow, other := newSyncer(), newSyncer()
			sim.Inject(jirasim.Fault{Method: "POST", Path: "/rest/api/3/issue", Latency: 3 * lease})
			r := modeltest.Must(store.CreateRequest(ctx, h.alice, models.NewRequest{AccountID: h.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "slow Jira"}, time.Hour))

			slowDone := make(chan int, 1)
			go func() {
				n, err := slow.ProcessOnce(ctx)
				if err != nil {
					t.Error(err)
				}
				slowDone <- n
			}()
			ticker := time.NewTicker(lease / 8)
			defer ticker.Stop()
			stolen := 0
			for running := true; running; {
				select {
				case n := <-slowDone:
					if n != 1 {
						t.Fatalf("the slow worker ran %d jobs, want 1", n)
					}
					running = false
				case <-ticker.C: // the other worker polls while the slow one waits on Jira
					n, err := other.ProcessOnce(ctx)
					if err != nil {
						t.Fatal(err)
					}
					stolen += n
				}
			}
			if stolen != 0 {
				t.Fatalf("another worker ran %d jobs while the slow one still held its lease", stolen)
			}
			if got := h.oneIssue(r.ID); got.Key == "" {
				t.Fatal("no task")
			}
			if st := modeltest.Must(store.SyncStats(ctx)); st.Backlog != 0 {
				t.Fatalf("backlog %d after the slow job", st.Backlog)
			}
		})
	}
}

// unrenewable is a store whose lease renewals fail (the database is out of
// reach for the heartbeat).
type unrenewable struct{ jira.SyncStore }

func (unrenewable) RenewLeases(context.Context, string, []int64, time.Duration) ([]int64, error) {
	return nil, errors.New("database unreachable")
}

// TestJobStopsBeforeAnUnrenewedLeaseEnds: when the heartbeat cannot renew
// its lease, a job blocked on Jira is cancelled a margin before the lease
// runs out, so no other worker can claim it while it still runs; it goes
// back to pending with its error.
func TestJobStopsBeforeAnUnrenewedLeaseEnds(t *testing.T) {
	ctx := context.Background()
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	store := modeltest.NewStore(t, models.DialectSQLite)
	h := newCloudHarness(t, store, sim, testenv.AddAcme(sim))

	const lease = 1500 * time.Millisecond
	syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), unrenewable{store}, h.clients, nil, jira.SyncerConfig{
		BaseURL: "https://privilege.example.com", Workers: 1, Lease: lease, JobTimeout: time.Minute, AmbiguousGrace: time.Minute,
	})
	sim.Inject(jirasim.Fault{Method: "POST", Path: "/rest/api/3/issue", Latency: 4 * lease, Times: -1})
	r := modeltest.Must(store.CreateRequest(ctx, h.alice, models.NewRequest{AccountID: h.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "slow Jira"}, time.Hour))
	start := time.Now()
	if n, err := syncer.ProcessOnce(ctx); n != 1 || err != nil {
		t.Fatalf("ProcessOnce: %d %v", n, err)
	}
	if took := time.Since(start); took >= lease || took < lease/2 {
		t.Fatalf("the job ran %s: it must wait on Jira until a margin before its unrenewed %s lease ends", took, lease)
	}
	got := modeltest.Must(store.Request(ctx, r.ID))
	if got.Issue.SyncState != models.SyncPending || got.Issue.LastError == "" {
		t.Fatalf("after the stop: sync %s, error %q", got.Issue.SyncState, got.Issue.LastError)
	}
	t.Logf("stopped with: %s", got.Issue.LastError)
	if st := modeltest.Must(store.SyncStats(ctx)); st.Backlog != 1 {
		t.Fatalf("backlog %d, want the job back in the queue", st.Backlog)
	}
}
