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
