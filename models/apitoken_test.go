package models_test

import (
	"errors"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// Users mint only their own tokens; a decision made with a token records
// it; and separation of duties holds against whoever minted the token.
func TestTokensAreOwnAndDecisionsRecordThem(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		ctx := t.Context()
		s := models.NewStore(db, modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey})), models.WithPasswordParams(modeltest.CheapPasswords))
		f := newFixture(t, s)
		adminActor := models.Actor{UserID: f.admin.ID, Email: f.admin.Email}
		if _, _, err := s.CreateAPIToken(ctx, adminActor, f.approver.ID, "for bob"); !errors.Is(err, models.ErrTokenForOther) {
			t.Fatalf("admin minted a token for another user: %v", err)
		}
		plain, own, err := s.CreateAPIToken(ctx, models.Actor{UserID: f.approver.ID, Email: f.approver.Email}, f.approver.ID, "bob's script")
		if err != nil {
			t.Fatal(err)
		}
		if own.CreatedByID == nil || *own.CreatedByID != f.approver.ID {
			t.Errorf("created_by %v, want bob", own.CreatedByID)
		}
		tok := modeltest.Must(s.AuthenticateToken(ctx, plain))
		r := f.request(t)
		got := modeltest.Must(s.DecideWithToken(ctx, tok, r.ID, models.DecisionApprove, "ok"))
		ev := got.Events[len(got.Events)-1]
		if ev.Kind != models.EventApproved || ev.APITokenID == nil || *ev.APITokenID != tok.ID {
			t.Errorf("decision event %+v does not record token %d", ev, tok.ID)
		}
		reread := modeltest.Must(s.Request(ctx, r.ID))
		if ev := reread.Events[len(reread.Events)-1]; ev.APITokenID == nil || *ev.APITokenID != tok.ID {
			t.Errorf("stored decision event %+v does not record token %d", ev, tok.ID)
		}
		audit := modeltest.Must(s.ListAudit(ctx, models.PageQuery{}))
		if a := audit.Items[0]; a.Action != models.AuditRequestApproved || a.APITokenID == nil || *a.APITokenID != tok.ID {
			t.Errorf("newest audit event %+v does not record token %d", a, tok.ID)
		}

		// A token for bob minted by the admin (the CLI can still mint for
		// anyone; before this change an admin could in the console, and the
		// migration recovers the minter from the audit log) cannot decide
		// the admin's own request.
		legacyPlain, legacy, err := s.CreateAPIToken(ctx, models.Actor{Email: "cli"}, f.approver.ID, "minted by admin")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec("UPDATE api_tokens SET created_by_id = ? WHERE id = ?", f.admin.ID, legacy.ID).Error; err != nil {
			t.Fatal(err)
		}
		adminReq := modeltest.Must(s.CreateRequest(ctx, f.admin, models.NewRequest{AccountID: f.account.ID, Resources: []string{"Admin"}, DurationMinutes: 60, Justification: "mine"}, time.Hour))
		legacyTok := modeltest.Must(s.AuthenticateToken(ctx, legacyPlain))
		if _, err := s.DecideWithToken(ctx, legacyTok, adminReq.ID, models.DecisionApprove, ""); !errors.Is(err, models.ErrSelfApproval) {
			t.Fatalf("admin approved their own request with a token they minted for bob: %v", err)
		}
		// Bob's own token may decide it.
		if _, err := s.DecideWithToken(ctx, tok, adminReq.ID, models.DecisionApprove, ""); err != nil {
			t.Fatalf("bob's own token: %v", err)
		}
	})
}

// Migration 00008 recovers who minted each existing token from the audit
// log: an admin's token for another user keeps the admin as its minter, a
// CLI token has none.
func TestMigrationBackfillsTokenMinter(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			db := modeltest.OpenRaw(t, d)
			if err := db.MigrateTo(ctx, 6); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (1, 'admin@example.com', 'x', 'admin', ?, ?), (2, 'bob@example.com', 'x', 'approver', ?, ?)", []any{now, now, now, now}},
				{"INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES (1, 2, 'by admin', 'h1', 'prv_a', ?), (2, 2, 'by cli', 'h2', 'prv_b', ?)", []any{now, now}},
				{"INSERT INTO audit_events (at, actor_id, actor_email, action, target_type, target_id) VALUES (?, 1, 'admin@example.com', 'token.created', 'token', '1'), (?, NULL, 'cli', 'token.created', 'token', '2')", []any{now, now}},
			} {
				if err := db.Gorm.Exec(q.sql, q.args...).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatal(err)
			}
			var rows []struct {
				ID          int64
				CreatedByID *int64
			}
			if err := db.Gorm.Raw("SELECT id, created_by_id FROM api_tokens ORDER BY id").Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].CreatedByID == nil || *rows[0].CreatedByID != 1 || rows[1].CreatedByID != nil {
				t.Fatalf("created_by after migration: %+v, want token 1 by user 1 and token 2 by nobody", rows)
			}
		})
	}
}
