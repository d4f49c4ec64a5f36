package jira_test

import (
	"sync"
	"testing"
	"time"

	"privilege/jira"
	"privilege/models"
	"privilege/models/modeltest"
)

// Two token managers (as two replicas would have) share one real database:
// refreshes race, yet the refresh token is spent once, and a "restart" (a new
// manager) reuses the rotated token without refreshing again.
func TestConcurrentRefreshesAcrossManagersSpendTheTokenOnce(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			h := newHarness(t, d, models.DeploymentCloud)
			conn := h.conn()
			stale := modeltest.Must(h.store.IntegrationToken(h.ctx, h.integ.ID)).AccessToken
			h.sim.ExpireAccessTokens()
			before := h.sim.Stats().TokenRefreshes
			managers := []*jira.TokenManager{
				jira.NewTokenManager(h.store, h.oauth, jira.WithOwner("replica-a"), jira.WithClock(h.clock.Now)),
				jira.NewTokenManager(h.store, h.oauth, jira.WithOwner("replica-b"), jira.WithClock(h.clock.Now)),
			}
			var wg sync.WaitGroup
			got := make([]string, 20)
			errs := make([]error, 20)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = managers[i%2].ForceRefresh(h.ctx, conn, stale)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
				if got[i] != got[0] || got[i] == stale {
					t.Fatalf("callers got different or stale tokens")
				}
			}
			if n := h.sim.Stats().TokenRefreshes - before; n != 1 {
				t.Fatalf("%d refreshes for one expiry, want 1", n)
			}
			// A restarted process reads the rotated token from the database.
			restarted := jira.NewTokenManager(h.store, h.oauth, jira.WithOwner("replica-c"), jira.WithClock(h.clock.Now))
			tok, err := restarted.AccessToken(h.ctx, conn)
			if err != nil || tok != got[0] {
				t.Fatalf("after restart: %q, %v", tok, err)
			}
			h.clock.Advance(2 * time.Hour) // past expiry: the persisted refresh token still works
			if _, err := restarted.AccessToken(h.ctx, conn); err != nil {
				t.Fatalf("refresh with the persisted token: %v", err)
			}
			if in := modeltest.Must(h.store.Integration(h.ctx, h.integ.ID)); in.Status != models.IntegrationConnected {
				t.Fatalf("integration %s", in.Status)
			}
		})
	}
}
