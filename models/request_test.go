package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

type fixture struct {
	store     *models.Store
	admin     models.User
	approver  models.User
	requester models.User
	account   models.CloudAccount
}

func newFixture(t testing.TB, s *models.Store) fixture {
	t.Helper()
	ctx := context.Background()
	mk := func(email string, role models.Role) models.User {
		return modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
	}
	f := fixture{store: s, admin: mk("admin@example.com", models.RoleAdmin), approver: mk("bob@example.com", models.RoleApprover), requester: mk("alice@example.com", models.RoleRequester)}
	f.account = modeltest.Must(s.CreateAccount(ctx, models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Prod",
		Resources: []models.ResourceInput{{Name: "Admin", Kind: "role"}, {Name: "ReadOnly", Kind: "role"}},
	}))
	return f
}

func (f fixture) request(t testing.TB) models.AccessRequest {
	t.Helper()
	return modeltest.Must(f.store.CreateRequest(context.Background(), f.requester, models.NewRequest{
		AccountID: f.account.ID, Resources: []string{"Admin"}, DurationMinutes: 60, Justification: "incident 42",
	}, time.Hour))
}

func TestRequestLifecycle(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		r := f.request(t)
		if r.Status != models.RequestPending || r.Issue == nil || r.Issue.SyncState != models.SyncNotTracked {
			t.Fatalf("new request = %+v", r)
		}
		if _, err := s.Decide(ctx, f.requester, r.ID, models.DecisionApprove, ""); !errors.Is(err, models.ErrNotApprover) {
			t.Fatalf("requester decided: %v", err)
		}
		// An approver who requested cannot approve their own request.
		own := modeltest.Must(s.CreateRequest(ctx, f.approver, models.NewRequest{AccountID: f.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 30, Justification: "x"}, time.Hour))
		if _, err := s.Decide(ctx, f.approver, own.ID, models.DecisionApprove, ""); !errors.Is(err, models.ErrSelfApproval) {
			t.Fatalf("self approval: %v", err)
		}
		got, err := s.Decide(ctx, f.approver, r.ID, models.DecisionApprove, "ok")
		if err != nil || got.Status != models.RequestApproved || got.AccessEndsAt == nil {
			t.Fatalf("approve = %+v, %v", got, err)
		}
		if _, err := s.Decide(ctx, f.admin, r.ID, models.DecisionDeny, "no"); !errors.Is(err, models.ErrAlreadyDecided) {
			t.Fatalf("second decision: %v", err)
		}
		if _, err := s.Cancel(ctx, f.requester, r.ID, ""); !errors.Is(err, models.ErrNotCancellable) {
			t.Fatalf("cancel approved: %v", err)
		}
	})
}

func TestConcurrentDecisionsOneWins(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		r := f.request(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				d, who := models.DecisionApprove, f.approver
				if i%2 == 1 {
					d, who = models.DecisionDeny, f.admin
				}
				_, err := s.Decide(context.Background(), who, r.ID, d, "because")
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		wins := 0
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, models.ErrAlreadyDecided):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d decisions won, want 1", wins)
		}
	})
}

func TestValidationStoresNothing(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		_, err := s.CreateRequest(context.Background(), f.requester, models.NewRequest{AccountID: f.account.ID, Resources: []string{"Nope"}, DurationMinutes: 100000}, time.Hour)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields["resources"] == "" || ve.Fields["duration_minutes"] == "" || ve.Fields["justification"] == "" {
			t.Fatalf("err = %v", err)
		}
		p := modeltest.Must(s.ListRequests(context.Background(), models.RequestQuery{}))
		if p.Total != 0 {
			t.Fatalf("stored %d requests", p.Total)
		}
	})
}

func TestOutboxAndClaimOrder(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentCloud, CloudID: "c1", SiteURL: "https://x", Token: models.OAuthToken{AccessToken: "at", RefreshToken: "rt"}}))
		before := f.request(t) // untracked: no job
		modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops", IssueTypeID: "10001", IssueTypeName: "Task", AccountIDs: []int64{f.account.ID}}))
		// backfill: the pending request now has a job
		r := f.request(t)
		modeltest.Must(s.Decide(ctx, f.approver, r.ID, models.DecisionApprove, "ok"))
		jobs := modeltest.Must(s.ClaimJobs(ctx, "w1", 10, time.Minute))
		if len(jobs) != 2 || jobs[0].RequestID != before.ID || jobs[1].RequestID != r.ID {
			t.Fatalf("claimed %+v; want the oldest job of each of 2 requests", jobs)
		}
		again := modeltest.Must(s.ClaimJobs(ctx, "w2", 10, time.Minute))
		if len(again) != 0 {
			t.Fatalf("second claim got %d jobs while the first are running", len(again))
		}
		w := modeltest.Must(s.LoadSyncWork(ctx, r.ID))
		if err := s.CompleteJob(ctx, jobs[1], w.Watermark, models.SyncSynced, "", models.SyncProgress{}); err != nil {
			t.Fatal(err)
		}
		// the approve job was settled by the watermark: nothing left for r
		left := modeltest.Must(s.ClaimJobs(ctx, "w2", 10, time.Minute))
		if len(left) != 0 {
			t.Fatalf("left %+v", left)
		}
		st := modeltest.Must(s.SyncStats(ctx))
		if st.Backlog != 1 {
			t.Fatalf("backlog = %d, want 1 (the first request's running job)", st.Backlog)
		}
	})
}

func TestTokensSealedAndRefreshLease(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentDataCenter, BaseURL: "https://j", ClientID: "cid", ClientSecret: "shh", Token: models.OAuthToken{AccessToken: "secret-at", RefreshToken: "secret-rt"}}))
		if integ.AccessTokenEnc == "" || integ.AccessTokenEnc == "secret-at" || integ.ClientSecretEnc == "shh" {
			t.Fatalf("token not sealed: %q", integ.AccessTokenEnc)
		}
		tok := modeltest.Must(s.IntegrationToken(ctx, integ.ID))
		if tok.AccessToken != "secret-at" || tok.RefreshToken != "secret-rt" {
			t.Fatalf("tok = %+v", tok)
		}
		until := s.Now().Add(time.Minute)
		if ok := modeltest.Must(s.TryLockTokenRefresh(ctx, integ.ID, "a", until)); !ok {
			t.Fatal("a did not get the lease")
		}
		if ok := modeltest.Must(s.TryLockTokenRefresh(ctx, integ.ID, "b", until)); ok {
			t.Fatal("b got a held lease")
		}
		if err := s.SaveRefreshedToken(ctx, integ.ID, "b", models.OAuthToken{AccessToken: "x"}); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("b saved without the lease: %v", err)
		}
		if err := s.SaveRefreshedToken(ctx, integ.ID, "a", models.OAuthToken{AccessToken: "at2", RefreshToken: "rt2"}); err != nil {
			t.Fatal(err)
		}
		if ok := modeltest.Must(s.TryLockTokenRefresh(ctx, integ.ID, "b", until)); !ok {
			t.Fatal("lease not released by save")
		}
		if err := s.MarkReconnectRequired(ctx, integ.ID, "invalid_grant"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IntegrationToken(ctx, integ.ID); !errors.Is(err, models.ErrReconnectRequired) {
			t.Fatalf("token of a dead grant: %v", err)
		}
	})
}

func TestSyncCountsByIntegration(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentCloud, CloudID: "c1", SiteURL: "https://x", Token: models.OAuthToken{AccessToken: "at"}}))
		modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops", IssueTypeID: "1", AccountIDs: []int64{f.account.ID}}))
		r1, r2 := f.request(t), f.request(t)
		jobs := modeltest.Must(s.ClaimJobs(ctx, "w", 10, time.Minute))
		if err := s.FailJob(ctx, jobs[0], "Jira said no", models.SyncProgress{}); err != nil {
			t.Fatal(err)
		}
		got := modeltest.Must(s.SyncCountsByIntegration(ctx))[integ.ID]
		if got.Backlog != 1 || got.Failed != 1 || got.Parked != 0 {
			t.Fatalf("counts %+v (requests %d, %d)", got, r1.ID, r2.ID)
		}
	})
}

func TestReleasedJobsAreClaimableAtOnce(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		integ := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "J", Deployment: models.DeploymentCloud, CloudID: "c1", SiteURL: "https://x", Token: models.OAuthToken{AccessToken: "at"}}))
		modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops", IssueTypeID: "1", AccountIDs: []int64{f.account.ID}}))
		f.request(t)
		f.request(t)
		jobs := modeltest.Must(s.ClaimJobs(ctx, "stopping", 10, time.Hour))
		if len(jobs) != 2 {
			t.Fatalf("claimed %d", len(jobs))
		}
		if err := s.ReleaseJobs(ctx, "stopping", jobs); err != nil {
			t.Fatal(err)
		}
		again := modeltest.Must(s.ClaimJobs(ctx, "other", 10, time.Hour))
		if len(again) != 2 || again[0].Attempts != 1 {
			t.Fatalf("after release: %+v", again)
		}
	})
}

func TestPendingExpiresAndApprovedAccessEnds(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			s := modeltest.NewStore(t, d, models.WithClock(func() time.Time { return now }))
			f := newFixture(t, s)
			waiting, granted := f.request(t), f.request(t) // 60 min access, pending for 1h
			modeltest.Must(s.Decide(ctx, f.approver, granted.ID, models.DecisionApprove, "ok"))
			now = now.Add(59 * time.Minute)
			if n := modeltest.Must(s.ExpireDue(ctx, 100)); n != 0 {
				t.Fatalf("%d changed before any deadline", n)
			}
			now = now.Add(2 * time.Minute)
			if n := modeltest.Must(s.ExpireDue(ctx, 100)); n != 2 {
				t.Fatalf("%d changed, want the pending one expired and the approved one ended", n)
			}
			if n := modeltest.Must(s.ExpireDue(ctx, 100)); n != 0 {
				t.Fatal("expiry is not idempotent")
			}
			w, g := modeltest.Must(s.Request(ctx, waiting.ID)), modeltest.Must(s.Request(ctx, granted.ID))
			if w.Status != models.RequestExpired || g.Status != models.RequestEnded {
				t.Fatalf("statuses %s, %s", w.Status, g.Status)
			}
			if last := g.Events[len(g.Events)-1]; last.Kind != models.EventEnded || last.ActorEmail != "system" {
				t.Fatalf("last event %+v", last)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		r := f.request(t)
		modeltest.Must(s.Decide(ctx, f.approver, r.ID, models.DecisionApprove, ""))
		if _, err := s.Revoke(ctx, f.approver, r.ID, "leaving"); !errors.Is(err, models.ErrNotApprover) {
			t.Errorf("approver revoked: %v", err)
		}
		got, err := s.Revoke(ctx, f.admin, r.ID, "incident over")
		if err != nil || got.Status != models.RequestRevoked || got.Events[len(got.Events)-1].Kind != models.EventRevoked {
			t.Fatalf("revoke: %v %+v", err, got)
		}
		if _, err := s.Revoke(ctx, f.admin, r.ID, "again"); !errors.Is(err, models.ErrNotRevocable) {
			t.Errorf("revoked twice: %v", err)
		}
		if _, err := s.Revoke(ctx, f.admin, r.ID+1000, "nobody"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("missing request: %v, want not found", err)
		}
	})
}
