package models_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// TestRenewedLeasesOutliveTheirFirstTerm: a worker that renews its leases
// keeps its jobs past the first lease; a worker that stops renewing (a dead
// replica) loses them to another after one lease, and its next renewal
// learns which jobs it no longer holds.
func TestRenewedLeasesOutliveTheirFirstTerm(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			s := modeltest.NewStore(t, d, models.WithClock(func() time.Time { return now }))
			f := newFixture(t, s)
			integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentCloud, CloudID: "c1", SiteURL: "https://x", Token: models.OAuthToken{AccessToken: "at"}}))
			modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops", IssueTypeID: "1", AccountIDs: []int64{f.account.ID}}))
			f.request(t)
			f.request(t)
			const lease = 12 * time.Second
			jobs := modeltest.Must(s.ClaimJobs(ctx, "live", 1, lease))
			dead := modeltest.Must(s.ClaimJobs(ctx, "dead", 1, lease))
			if len(jobs) != 1 || len(dead) != 1 {
				t.Fatalf("claims: %d and %d jobs", len(jobs), len(dead))
			}
			for range 3 { // the live worker renews every lease/4, for three quarters of a lease each
				now = now.Add(lease * 3 / 4)
				held := modeltest.Must(s.RenewLeases(ctx, "live", []int64{jobs[0].ID}, lease))
				if !slices.Equal(held, []int64{jobs[0].ID}) {
					t.Fatalf("renewal held %v", held)
				}
			}
			taken := modeltest.Must(s.ClaimJobs(ctx, "other", 10, lease))
			if len(taken) != 1 || taken[0].ID != dead[0].ID {
				t.Fatalf("after the dead worker's lease ran out another claimed %+v, want only job %d", taken, dead[0].ID)
			}
			if held := modeltest.Must(s.RenewLeases(ctx, "dead", []int64{dead[0].ID}, lease)); len(held) != 0 {
				t.Fatalf("the dead worker still holds %v", held)
			}
		})
	}
}
