package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ResealReport says what a key-rotation pass did.
type ResealReport struct {
	Checked    int     // integrations looked at
	Resealed   int     // integrations whose secrets now use the newest key
	Unreadable []int64 // integrations sealed under a key that is not configured
}

// sealedSecrets is one integration's sealed columns: the compare-and-swap
// "version" of a re-seal. Every Seal draws a fresh nonce, so any other write
// of a secret (a token refresh on another replica, a reconnect) changes them.
type sealedSecrets struct {
	ID              int64
	AccessTokenEnc  string
	RefreshTokenEnc string
	ClientSecretEnc string
}

func (r sealedSecrets) fields() []struct{ name, sealed string } {
	return []struct{ name, sealed string }{
		{"access_token", r.AccessTokenEnc}, {"refresh_token", r.RefreshTokenEnc}, {"client_secret", r.ClientSecretEnc},
	}
}

// resealAttempts bounds the retries of one integration whose secrets keep
// changing under the re-seal (each retry means another writer just stored
// them, normally already under the newest key).
const resealAttempts = 5

// ResealSecrets re-encrypts every integration's Jira tokens and Data Center
// client secret that an older master key sealed under the newest one, batch
// integrations at a time, so the old key can be dropped from
// PRIVILEGE_SECRET_KEY afterwards.
//
// It is safe with several replicas and beside token refreshes: each
// integration is rewritten by one statement that only matches if its sealed
// columns are still the ones read; if another writer got there first, the
// row is read again. A refresh therefore never loses its rotated token to a
// re-seal, and two replicas re-sealing together write each row once.
// Integrations sealed under a key that is not configured are reported in
// Unreadable and left as they are.
func (s *Store) ResealSecrets(ctx context.Context, batch int) (ResealReport, error) {
	if batch <= 0 {
		batch = 100
	}
	var rep ResealReport
	var after int64
	for {
		var rows []sealedSecrets
		err := s.db.WithContext(ctx).Model(&Integration{}).
			Select("id, access_token_enc, refresh_token_enc, client_secret_enc").
			Where("id > ?", after).Order("id").Limit(batch).Scan(&rows).Error
		if err != nil {
			return rep, translate(err, "reseal secrets: list integrations")
		}
		for _, row := range rows {
			rep.Checked++
			resealed, err := s.resealIntegration(ctx, row)
			switch {
			case errors.Is(err, ErrDecryptionFailed):
				rep.Unreadable = append(rep.Unreadable, row.ID)
			case err != nil:
				return rep, err
			case resealed:
				rep.Resealed++
			}
		}
		if len(rows) < batch {
			return rep, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// resealIntegration re-seals one integration starting from the snapshot
// row; it reports whether this call rewrote it.
func (s *Store) resealIntegration(ctx context.Context, row sealedSecrets) (bool, error) {
	for attempt := 0; attempt < resealAttempts; attempt++ {
		upd, err := s.resealed(row)
		if err != nil || upd == nil {
			return false, err
		}
		res := s.write(ctx, func(db *gorm.DB) *gorm.DB {
			return db.Model(&Integration{}).
				Where("id = ? AND access_token_enc = ? AND refresh_token_enc = ? AND client_secret_enc = ?",
					row.ID, row.AccessTokenEnc, row.RefreshTokenEnc, row.ClientSecretEnc).
				Updates(upd)
		})
		if res.Error != nil {
			return false, translate(res.Error, fmt.Sprintf("reseal integration %d", row.ID))
		}
		if res.RowsAffected == 1 {
			return true, nil
		}
		// Someone stored new secrets since the read: start from theirs.
		err = s.db.WithContext(ctx).Model(&Integration{}).
			Select("id, access_token_enc, refresh_token_enc, client_secret_enc").
			Where("id = ?", row.ID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil // disconnected meanwhile
		}
		if err != nil {
			return false, translate(err, fmt.Sprintf("reseal integration %d: reread", row.ID))
		}
	}
	return false, fmt.Errorf("reseal integration %d: its secrets changed %d times during the re-seal: %w", row.ID, resealAttempts, ErrConflict)
}

// resealed returns the column updates that move row's secrets to the newest
// key, or nil when none needs it.
func (s *Store) resealed(row sealedSecrets) (map[string]any, error) {
	upd := map[string]any{}
	for _, f := range row.fields() {
		if !s.sealer.NeedsReseal(f.sealed) {
			continue
		}
		aad := sealAAD(row.ID, f.name)
		plain, err := s.sealer.Open(f.sealed, aad)
		if err != nil {
			return nil, fmt.Errorf("integration %d %s: %w", row.ID, f.name, err)
		}
		upd[f.name+"_enc"] = s.sealer.Seal(plain, aad)
	}
	if len(upd) == 0 {
		return nil, nil
	}
	return upd, nil
}
