package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

var (
	oldKey = []byte("old-old-old-old-old-old-old-old-old-key!")
	newKey = []byte("new-new-new-new-new-new-new-new-new-key!")
)

func storeWithKeys(t *testing.T, db *models.DB, keys ...[]byte) *models.Store {
	t.Helper()
	sealer, err := models.NewSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	return models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
}

// seedIntegrations stores n Cloud integrations and one Data Center
// integration (with a client secret) under the store's newest key.
func seedIntegrations(t *testing.T, s *models.Store, n int) (cloud []int64, dc int64) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		tok := models.OAuthToken{AccessToken: fmt.Sprint("at-", i), RefreshToken: fmt.Sprint("rt-", i), Expiry: time.Now().Add(time.Hour)}
		in := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: fmt.Sprint("Cloud ", i),
			Deployment: models.DeploymentCloud, CloudID: fmt.Sprint("cloud-", i), SiteURL: fmt.Sprintf("https://s%d.atlassian.net", i), Token: tok}))
		cloud = append(cloud, in.ID)
	}
	in := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Corp", Deployment: models.DeploymentDataCenter,
		BaseURL: "https://jira.corp.example", ClientID: "cid", ClientSecret: "dc-client-secret",
		Token: models.OAuthToken{AccessToken: "dc-at", RefreshToken: "dc-rt", Expiry: time.Now().Add(time.Hour)}}))
	return cloud, in.ID
}

// TestResealSecretsMovesEverySecretToTheNewestKey: after a rotation (new key
// first, old key second) a re-seal pass in small batches rewrites every
// token and client secret, so a store that knows only the new key reads them
// all; a second pass has nothing to do; a store whose keys open nothing
// reports the integrations instead of failing.
func TestResealSecretsMovesEverySecretToTheNewestKey(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		ctx := context.Background()
		cloud, dc := seedIntegrations(t, storeWithKeys(t, db, oldKey), 4)

		onlyNew := storeWithKeys(t, db, newKey)
		if _, err := onlyNew.IntegrationToken(ctx, cloud[0]); !errors.Is(err, models.ErrDecryptionFailed) {
			t.Fatalf("before the re-seal the new key alone opened the old token: %v", err)
		}
		rotated := storeWithKeys(t, db, newKey, oldKey)
		rep, err := rotated.ResealSecrets(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Checked != 5 || rep.Resealed != 5 || len(rep.Unreadable) != 0 {
			t.Fatalf("report %+v, want 5 checked and resealed", rep)
		}
		for i, id := range cloud {
			tok, err := onlyNew.IntegrationToken(ctx, id)
			if err != nil || tok.AccessToken != fmt.Sprint("at-", i) || tok.RefreshToken != fmt.Sprint("rt-", i) {
				t.Fatalf("integration %d with the new key alone: %+v %v", id, tok, err)
			}
		}
		in := modeltest.Must(onlyNew.IntegrationSettings(ctx, dc))
		if sec, err := onlyNew.ClientSecret(in); err != nil || sec != "dc-client-secret" {
			t.Fatalf("DC client secret with the new key alone: %q %v", sec, err)
		}
		if tok, err := onlyNew.IntegrationToken(ctx, dc); err != nil || tok.RefreshToken != "dc-rt" {
			t.Fatalf("DC token with the new key alone: %+v %v", tok, err)
		}
		if rep, err := rotated.ResealSecrets(ctx, 2); err != nil || rep.Resealed != 0 || rep.Checked != 5 {
			t.Fatalf("second pass: %+v %v", rep, err)
		}
		other := storeWithKeys(t, db, []byte("another-another-another-another-key"))
		rep, err = other.ResealSecrets(ctx, 10)
		if err != nil || rep.Resealed != 0 || !slices.Equal(rep.Unreadable, append(cloud, dc)) {
			t.Fatalf("unknown keys: %+v %v", rep, err)
		}
	})
}

// TestResealNeverLosesARefreshedToken: a replica reads an integration to
// re-seal it, another replica refreshes the token meanwhile; the re-seal
// must not write the stale token back over the rotated one (Jira has already
// invalidated the old refresh token).
func TestResealNeverLosesARefreshedToken(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		ctx := context.Background()
		cloud, _ := seedIntegrations(t, storeWithKeys(t, db, oldKey), 1)
		id := cloud[0]
		rotated := storeWithKeys(t, db, newKey, oldKey)
		stale, err := rotated.ReadSealedSecrets(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// A replica still on the old configuration refreshes the token.
		oldReplica := storeWithKeys(t, db, oldKey)
		if ok, err := oldReplica.TryLockTokenRefresh(ctx, id, "replica-2", time.Now().Add(time.Minute)); !ok || err != nil {
			t.Fatalf("lease: %v %v", ok, err)
		}
		refreshed := models.OAuthToken{AccessToken: "at-rotated", RefreshToken: "rt-rotated", Expiry: time.Now().Add(time.Hour)}
		if err := oldReplica.SaveRefreshedToken(ctx, id, "replica-2", refreshed); err != nil {
			t.Fatal(err)
		}
		resealed, err := rotated.ResealFrom(ctx, stale)
		if err != nil || !resealed {
			t.Fatalf("re-seal from a stale read: resealed=%v err=%v", resealed, err)
		}
		tok, err := storeWithKeys(t, db, newKey).IntegrationToken(ctx, id)
		if err != nil || tok.AccessToken != "at-rotated" || tok.RefreshToken != "rt-rotated" {
			t.Fatalf("after the race the store holds %+v (%v), want the refreshed token under the new key", tok, err)
		}
		row, err := rotated.ReadSealedSecrets(ctx, id)
		if err != nil || !strings.HasPrefix(row.RefreshTokenEnc, "v1:") {
			t.Fatalf("row %+v %v", row, err)
		}
	})
}
