package models_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

// Two (or more) first-run setups racing must leave exactly one admin: on
// PostgreSQL both used to count zero users and both insert.
func TestCreateFirstAdminRaceMakesOneAdmin(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		const racers = 8
		sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
		store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
		if db.Dialect == models.DialectPostgres {
			warmPool(t, db, racers)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, racers)
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = store.CreateFirstAdmin(t.Context(), "127.0.0.1", models.NewUser{
					Email: fmt.Sprintf("admin%d@example.com", i), Password: "correct horse battery"})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, models.ErrSetupDone):
				t.Errorf("setup %d: %v, want success or ErrSetupDone", i, err)
			}
		}
		users := modeltest.Must(store.ListUsers(t.Context(), models.PageQuery{}, ""))
		if won != 1 || users.Total != 1 {
			t.Fatalf("%d setups succeeded and %d users exist; want exactly one admin", won, users.Total)
		}
	})
}

// warmPool opens n connections at once, so racing transactions do not queue
// behind connection set-up and really overlap.
func warmPool(t *testing.T, db *models.DB, n int) {
	t.Helper()
	var opened, done sync.WaitGroup
	release := make(chan struct{})
	for range n {
		opened.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			tx := db.Gorm.Begin()
			err := tx.Exec("SELECT 1").Error
			opened.Done()
			<-release
			tx.Rollback()
			if err != nil {
				t.Error(err)
			}
		}()
	}
	opened.Wait()
	close(release)
	done.Wait()
}

// Disabling a user ends their sessions and revokes their tokens for good:
// enabling them again restores neither.
func TestDisableEndsSessionsAndRevokesTokensForGood(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		ctx := t.Context()
		admin := modeltest.Must(store.CreateFirstAdmin(ctx, "", models.NewUser{Email: "admin@example.com", Password: "correct horse battery"}))
		bob := modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "bob@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
		plain, _, err := store.CreateAPIToken(ctx, models.Actor{UserID: bob.ID, Email: bob.Email}, bob.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		signedInAt := store.Now()
		a := models.Actor{UserID: admin.ID, Email: admin.Email}
		if err := store.SetUserDisabled(ctx, a, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := store.SetUserDisabled(ctx, a, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		bob = modeltest.Must(store.UserByID(ctx, bob.ID))
		if bob.SessionValid(signedInAt) {
			t.Error("a session from before the disable is valid again after enabling")
		}
		if !bob.SessionValid(store.Now()) {
			t.Error("a fresh sign-in after enabling is not valid")
		}
		if _, err := store.AuthenticateToken(ctx, plain); !errors.Is(err, models.ErrInvalidToken) {
			t.Errorf("token after disable and enable: %v, want ErrInvalidToken", err)
		}
		toks := modeltest.Must(store.ListAPITokens(ctx, bob.ID, models.PageQuery{}))
		if len(toks.Items) != 1 || !toks.Items[0].Revoked() {
			t.Errorf("tokens %+v, want the one token revoked", toks.Items)
		}
	})
}
