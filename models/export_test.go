package models

import (
	"context"

	"gorm.io/gorm"
)

// SealedSecrets exposes one integration's sealed columns to models_test, so a
// test can hold a stale read while another writer moves on.
type SealedSecrets = sealedSecrets

// ReadSealedSecrets reads integration id's sealed columns.
func (s *Store) ReadSealedSecrets(ctx context.Context, id int64) (SealedSecrets, error) {
	var row sealedSecrets
	err := s.db.WithContext(ctx).Model(&Integration{}).
		Select("id, access_token_enc, refresh_token_enc, client_secret_enc").Where("id = ?", id).Take(&row).Error
	return row, err
}

// ResealFrom re-seals an integration starting from a (possibly stale) read.
func (s *Store) ResealFrom(ctx context.Context, row SealedSecrets) (bool, error) {
	return s.resealIntegration(ctx, row)
}

// MigrateTo applies the migrations up to and including version v, as an
// older release would have.
func (d *DB) MigrateTo(ctx context.Context, v int64) error {
	p, err := d.provider(nil)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v)
	return err
}

// WriteTx exposes Store.tx (a write transaction) to models_test.
func (s *Store) WriteTx(ctx context.Context, fn func(tx *gorm.DB) error) error { return s.tx(ctx, fn) }

// WriteStatement exposes Store.write (one write statement) to models_test.
func (s *Store) WriteStatement(ctx context.Context, fn func(db *gorm.DB) *gorm.DB) error {
	return s.write(ctx, fn).Error
}

// ReadRequestHand is the hand-written request read (selectRequest and its
// resources and events), for BenchmarkRequestReadHandVsGorm.
func (s *Store) ReadRequestHand(ctx context.Context, id int64) (AccessRequest, error) {
	return readRequestTx(s.db.WithContext(ctx), id, nil)
}

// ReadRequestGorm reads the same request through gorm's Joins and Preload,
// the style the rest of the store uses, for BenchmarkRequestReadHandVsGorm.
func (s *Store) ReadRequestGorm(ctx context.Context, id int64) (AccessRequest, error) {
	var r AccessRequest
	err := s.db.WithContext(ctx).Joins("Requester").Joins("Account").Joins("DecidedBy").Joins("Issue").
		Preload("Resources").Preload("Events").Take(&r, "access_requests.id = ?", id).Error
	return r, err
}

// WriteRowsHand writes what every request change writes besides the request
// itself (an audit event and a sync job) with the hand-written statements,
// in one transaction, for BenchmarkWriteHandVsGorm.
func (s *Store) WriteRowsHand(ctx context.Context, requestID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := tx.Exec(insertAuditEvent, now, nil, "bench@example.com", AuditAction("bench"), "request", "1", "", "", nil).Error; err != nil {
			return err
		}
		return tx.Exec(insertSyncJob, requestID, JobPending, now, now, now).Error
	})
}

// WriteRowsGorm writes the same rows through gorm's Create.
func (s *Store) WriteRowsGorm(ctx context.Context, requestID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := tx.Create(&AuditEvent{At: now, ActorEmail: "bench@example.com", Action: AuditAction("bench"), TargetType: "request", TargetID: "1"}).Error; err != nil {
			return err
		}
		return tx.Create(&SyncJob{RequestID: requestID, State: JobPending, RunAfter: now, CreatedAt: now, UpdatedAt: now}).Error
	})
}
