package models_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"privilege/models"
	"privilege/models/modeltest"
)

// countStatements counts every statement gorm runs on db from now on.
func countStatements(t *testing.T, db *models.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Gorm.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("test:count_create", inc),
		cb.Query().After("gorm:query").Register("test:count_query", inc),
		cb.Update().After("gorm:update").Register("test:count_update", inc),
		cb.Delete().After("gorm:delete").Register("test:count_delete", inc),
		cb.Row().After("gorm:row").Register("test:count_row", inc),
		cb.Raw().After("gorm:raw").Register("test:count_raw", inc),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

// statements runs fn and returns how many statements it ran.
func statements(n *atomic.Int64, fn func()) int64 {
	before := n.Load()
	fn()
	return n.Load() - before
}

// TestSweepsAreSetBased: the expiry sweep and the backfill of newly linked
// accounts run the same number of statements for 3 requests as for 40, and
// still give every request its event, its sync job (tracked requests) and
// its audit entry.
func TestSweepsAreSetBased(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			db := modeltest.Open(t, d)
			sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
			s := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords), models.WithClock(func() time.Time { return now }))
			counter := countStatements(t, db)
			f := newFixture(t, s)
			integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentCloud, CloudID: "c1", SiteURL: "https://x", Token: models.OAuthToken{AccessToken: "at"}}))
			accounts := []models.CloudAccount{f.account}
			for _, ext := range []string{"210987654321", "310987654321"} {
				accounts = append(accounts, modeltest.Must(s.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: ext, Name: "Acc " + ext,
					Resources: []models.ResourceInput{{Name: "Admin", Kind: "role"}}})))
			}
			requests := func(acc models.CloudAccount, n int) []int64 {
				var ids []int64
				for range n {
					r := modeltest.Must(s.CreateRequest(ctx, f.requester, models.NewRequest{AccountID: acc.ID, Resources: []string{"Admin"}, DurationMinutes: 60, Justification: "x"}, time.Hour))
					ids = append(ids, r.ID)
				}
				return ids
			}
			link := func(accountIDs ...int64) func() {
				return func() {
					modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops",
						IssueTypeID: "1", IssueTypeName: "Task", AccountIDs: accountIDs}))
				}
			}
			jobs := func() int64 {
				var n int64
				db.Gorm.Raw("SELECT count(*) FROM sync_jobs").Scan(&n)
				return n
			}

			few, many := requests(accounts[1], 3), requests(accounts[2], 40)
			requests(accounts[0], 2)
			link(accounts[0].ID)()
			backfillFew := statements(counter, link(accounts[0].ID, accounts[1].ID))
			if jobs() != 2+3 {
				t.Fatalf("backfill of 3: %d jobs", jobs())
			}
			backfillMany := statements(counter, link(accounts[0].ID, accounts[1].ID, accounts[2].ID))
			if jobs() != 2+3+40 {
				t.Fatalf("backfill of 40 more: %d jobs", jobs())
			}
			if backfillFew != backfillMany {
				t.Errorf("backfill ran %d statements for 3 requests and %d for 40: not set-based", backfillFew, backfillMany)
			}

			now = now.Add(2 * time.Hour) // every request's pending deadline is past
			var expired int
			sweep := statements(counter, func() { expired = modeltest.Must(s.ExpireDue(ctx, 1000)) })
			if expired != 3+40+2 {
				t.Fatalf("expired %d requests, want 45", expired)
			}
			if jobs() != 45+45 {
				t.Fatalf("after the sweep %d jobs, want one more per expired request (all tracked)", jobs())
			}
			now = now.Add(time.Hour)
			r := modeltest.Must(s.CreateRequest(ctx, f.requester, models.NewRequest{AccountID: accounts[1].ID, Resources: []string{"Admin"}, DurationMinutes: 60, Justification: "x"}, time.Hour))
			now = now.Add(2 * time.Hour)
			sweepOne := statements(counter, func() { expired = modeltest.Must(s.ExpireDue(ctx, 1000)) })
			if expired != 1 {
				t.Fatalf("expired %d, want 1", expired)
			}
			if sweep != sweepOne {
				t.Errorf("the sweep ran %d statements for 45 requests and %d for 1: not set-based", sweep, sweepOne)
			}
			for _, id := range append(append(few, many...), r.ID) {
				got := modeltest.Must(s.Request(ctx, id))
				last := got.Events[len(got.Events)-1]
				if got.Status != models.RequestExpired || last.Kind != models.EventExpired || last.ActorEmail != "system" || got.Issue.SyncState != models.SyncPending {
					t.Fatalf("request %d: %s, last event %+v, sync %s", id, got.Status, last, got.Issue.SyncState)
				}
			}
			var audits int64
			db.Gorm.Raw("SELECT count(*) FROM audit_events WHERE action = ?", models.AuditRequestExpired).Scan(&audits)
			if audits != 46 {
				t.Fatalf("%d expiry audit events, want 46", audits)
			}
		})
	}
}
