package models_test

import (
	"errors"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestSignInWithOIDCFollowsTheProvider(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		id := models.OIDCIdentity{Issuer: "https://idp.example", Subject: "s-1", Email: "Ann@Example.com", Name: "Ann", Role: models.RoleRequester}
		ann := modeltest.Must(s.SignInWithOIDC(ctx, "192.0.2.1", id))
		if ann.Email != "ann@example.com" || ann.HasPassword() || !ann.IsSSO() || ann.LastSignInAt == nil {
			t.Fatalf("created %+v", ann)
		}
		// The same subject under another issuer is another person.
		other := id
		other.Issuer, other.Email = "https://other.example", "ann@other.example"
		if u := modeltest.Must(s.SignInWithOIDC(ctx, "", other)); u.ID == ann.ID {
			t.Fatal("identities of two issuers merged")
		}
		// Email and name follow the provider; an address another user holds is not taken.
		id.Email, id.Name = "ann.smith@example.com", "Ann Smith"
		if u := modeltest.Must(s.SignInWithOIDC(ctx, "", id)); u.ID != ann.ID || u.Email != "ann.smith@example.com" || u.Name != "Ann Smith" {
			t.Fatalf("after the provider's change: %+v", u)
		}
		modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "taken@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
		id.Email = "taken@example.com"
		if u := modeltest.Must(s.SignInWithOIDC(ctx, "", id)); u.Email != "ann.smith@example.com" {
			t.Fatalf("took another user's email: %+v", u)
		}
		// A user with an SSO identity and no password cannot use the password form.
		if _, err := s.Authenticate(ctx, "ann.smith@example.com", ""); !errors.Is(err, models.ErrInvalidLogin) {
			t.Fatalf("password sign-in of an SSO-only user: %v", err)
		}
		if _, err := s.SignInWithOIDC(ctx, "", models.OIDCIdentity{Issuer: "https://idp.example", Subject: "s-2", Email: "x@example.com"}); err == nil {
			t.Fatal("an identity without a role was accepted")
		}
	})
}

func TestChangeAndSetPassword(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		u := modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "rita@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
		a := models.Actor{UserID: u.ID, Email: u.Email}
		_, err := s.ChangePassword(ctx, a, models.PasswordChange{Current: "correct horse battery", New: "correct horse battery", Confirm: "correct horse battery"})
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields["new_password"] == "" {
			t.Fatalf("same password accepted: %v", err)
		}
		at := modeltest.Must(s.ChangePassword(ctx, a, models.PasswordChange{Current: "correct horse battery", New: "staple battery horse", Confirm: "staple battery horse"}))
		got := modeltest.Must(s.UserByID(ctx, u.ID))
		if got.SessionsValidAfter == nil || !got.SessionsValidAfter.Equal(at) || got.SessionValid(at.Add(-1)) || !got.SessionValid(at) {
			t.Fatalf("sessions not ended at %v: %v", at, got.SessionsValidAfter)
		}
		if _, err := s.SetPassword(ctx, models.SystemActor, "nobody@example.com", "a long enough one"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		sso := modeltest.Must(s.SignInWithOIDC(ctx, "", models.OIDCIdentity{Issuer: "https://idp.example", Subject: "s-9", Email: "sam@example.com", Role: models.RoleAdmin}))
		modeltest.Must(s.SetPassword(ctx, models.SystemActor, "sam@example.com", "break glass in case"))
		if u := modeltest.Must(s.Authenticate(ctx, "sam@example.com", "break glass in case")); u.ID != sso.ID {
			t.Fatal("the reset password does not sign the SSO user in")
		}
	})
}
