package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Single sign-on and local-password actions of the audit log.
const (
	AuditUserLinked      AuditAction = "user.sso_linked"
	AuditRoleChanged     AuditAction = "user.role_changed"
	AuditPasswordChanged AuditAction = "user.password_changed"
	AuditPasswordReset   AuditAction = "user.password_reset"
)

var (
	// ErrUserDisabled: the identity is known but its user is disabled here.
	ErrUserDisabled = errors.New("user is disabled")
	// ErrIdentityConflict: the verified email belongs to a user already
	// linked to another single sign-on identity.
	ErrIdentityConflict = errors.New("the email belongs to a user linked to another sign-on identity")
)

// OIDCIdentity is what a verified ID token says about a person, with the
// role its groups map to.
type OIDCIdentity struct {
	Issuer  string
	Subject string
	Email   string // verified by the provider
	Name    string
	Role    Role
}

// HasPassword reports whether the user may sign in with a local password.
func (u User) HasPassword() bool { return u.PasswordHash != "" }

// IsSSO reports whether the user is linked to a single sign-on identity.
func (u User) IsSSO() bool { return u.OIDCSubject != nil }

// SignInWithOIDC finds the user of a verified identity (issuer + subject)
// and records the sign-in. On the identity's first sign-in it links the local
// user with the same email (audited) or creates a user. The role given (from
// the provider's groups) replaces the stored one at every sign-in, audited
// when it changes; the email and name follow the provider's. A disabled user
// gets ErrUserDisabled; an email already linked to another identity gets
// ErrIdentityConflict.
func (s *Store) SignInWithOIDC(ctx context.Context, ip string, id OIDCIdentity) (User, error) {
	id.Email = NormalizeEmail(id.Email)
	id.Name = strings.TrimSpace(id.Name)
	if utf8.RuneCountInString(id.Name) > 100 {
		id.Name = string([]rune(id.Name)[:100])
	}
	if id.Issuer == "" || id.Subject == "" || id.Email == "" || !id.Role.Valid() {
		return User{}, fmt.Errorf("sign in with oidc: incomplete identity (issuer %q, subject %q, email %q, role %q)", id.Issuer, id.Subject, id.Email, id.Role)
	}
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		err := tx.Where("oidc_issuer = ? AND oidc_subject = ?", id.Issuer, id.Subject).Take(&u).Error
		switch {
		case err == nil:
			return s.signInKnown(tx, ip, &u, id, now)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return translate(err, "find user by sign-on identity")
		}
		err = tx.Where("email = ?", id.Email).Take(&u).Error
		switch {
		case err == nil:
			if u.IsSSO() {
				return fmt.Errorf("user %d (%s): %w", u.ID, u.Email, ErrIdentityConflict)
			}
			if u.Disabled {
				return fmt.Errorf("user %d: %w", u.ID, ErrUserDisabled)
			}
			u.OIDCIssuer, u.OIDCSubject = &id.Issuer, &id.Subject
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
				"oidc_issuer": id.Issuer, "oidc_subject": id.Subject, "updated_at": now,
			}).Error; err != nil {
				return translate(err, "link user to sign-on identity")
			}
			a := Actor{UserID: u.ID, Email: u.Email, IP: ip}
			if err := s.audit(tx, a, AuditUserLinked, "user", u.ID, "issuer "+id.Issuer+", subject "+id.Subject); err != nil {
				return err
			}
			return s.signInKnown(tx, ip, &u, id, now)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return translate(err, "find user by email")
		}
		u = User{
			Email: id.Email, Name: id.Name, Role: id.Role, OIDCIssuer: &id.Issuer, OIDCSubject: &id.Subject,
			LastSignInAt: &now, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.Create(&u).Error; err != nil {
			return translate(err, "create user from sign-on identity")
		}
		a := Actor{UserID: u.ID, Email: u.Email, IP: ip}
		if err := s.audit(tx, a, AuditUserCreated, "user", u.ID, u.Email+" as "+string(u.Role)+" (single sign-on)"); err != nil {
			return err
		}
		return s.audit(tx, a, AuditSignIn, "user", u.ID, "single sign-on")
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// signInKnown updates a linked user from the identity and audits the sign-in.
func (s *Store) signInKnown(tx *gorm.DB, ip string, u *User, id OIDCIdentity, now time.Time) error {
	if u.Disabled {
		return fmt.Errorf("user %d: %w", u.ID, ErrUserDisabled)
	}
	a := Actor{UserID: u.ID, Email: u.Email, IP: ip}
	set := map[string]any{"last_sign_in_at": now, "updated_at": now, "role": id.Role}
	if id.Name != "" {
		set["name"] = id.Name
	}
	if id.Email != u.Email {
		var n int64
		if err := tx.Model(&User{}).Where("email = ? AND id <> ?", id.Email, u.ID).Count(&n).Error; err != nil {
			return translate(err, "check email")
		}
		if n == 0 { // another user holds the new address: keep the old one
			set["email"] = id.Email
		}
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(set).Error; err != nil {
		return translate(err, "record sign-on")
	}
	if id.Role != u.Role {
		if err := s.audit(tx, a, AuditRoleChanged, "user", u.ID, string(u.Role)+" → "+string(id.Role)+" (from the provider's groups)"); err != nil {
			return err
		}
	}
	if e, ok := set["email"].(string); ok {
		u.Email = e
	}
	if n, ok := set["name"].(string); ok {
		u.Name = n
	}
	u.Role, u.LastSignInAt, u.UpdatedAt = id.Role, &now, now
	return s.audit(tx, a, AuditSignIn, "user", u.ID, "single sign-on")
}

// RecordPasswordSignIn notes a successful password sign-in (last sign-in
// time) and audits it.
func (s *Store) RecordPasswordSignIn(ctx context.Context, a Actor) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", a.UserID).Update("last_sign_in_at", s.Now()).Error; err != nil {
			return translate(err, "record sign-in")
		}
		return s.audit(tx, a, AuditSignIn, "user", a.UserID, "")
	})
}

// PasswordChange is the input of ChangePassword.
type PasswordChange struct {
	Current string
	New     string
	Confirm string
}

// ChangePassword replaces the local password of the actor after checking the
// current one, and ends every session signed in before now (the caller
// starts a fresh one for the browser that asked). It returns that instant.
func (s *Store) ChangePassword(ctx context.Context, a Actor, in PasswordChange) (time.Time, error) {
	u, err := s.UserByID(ctx, a.UserID)
	if err != nil {
		return time.Time{}, err
	}
	fe := FieldErrors{}
	if !u.HasPassword() {
		return time.Time{}, &ValidationError{Fields: map[string]string{"current_password": "Your account signs in through single sign-on and has no local password."}}
	}
	ok, err := checkPassword(u.PasswordHash, in.Current)
	if err != nil {
		return time.Time{}, fmt.Errorf("check password of user %d: %w", u.ID, err)
	}
	if !ok {
		fe.Add("current_password", "This is not your current password.")
	}
	validateNewPassword(fe, "new_password", in.New)
	if in.New != in.Confirm {
		fe.Add("confirm_password", "The two passwords differ.")
	}
	if ok && in.New == in.Current {
		fe.Add("new_password", "Choose a password different from the current one.")
	}
	if err := fe.Err(); err != nil {
		return time.Time{}, err
	}
	return s.setPassword(ctx, a, u.ID, in.New, AuditPasswordChanged)
}

// SetPassword sets a user's local password (an admin's reset from the CLI)
// and ends all of their sessions. A single sign-on user gains a local
// password (break-glass).
func (s *Store) SetPassword(ctx context.Context, a Actor, email, password string) (User, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return User{}, err
	}
	fe := FieldErrors{}
	validateNewPassword(fe, "password", password)
	if err := fe.Err(); err != nil {
		return User{}, err
	}
	if _, err := s.setPassword(ctx, a, u.ID, password, AuditPasswordReset); err != nil {
		return User{}, err
	}
	return u, nil
}

func validateNewPassword(fe FieldErrors, field, p string) {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		fe.Add(field, fmt.Sprintf("Use at least %d characters.", MinPasswordLength))
	} else if len(p) > 256 {
		fe.Add(field, "Use at most 256 characters.")
	}
}

func (s *Store) setPassword(ctx context.Context, a Actor, userID int64, password string, action AuditAction) (time.Time, error) {
	hash, err := hashPassword(s.kdf, password)
	if err != nil {
		return time.Time{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.Now().Truncate(time.Microsecond)
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{
			"password_hash": hash, "sessions_valid_after": now, "updated_at": now,
		})
		if res.Error != nil {
			return translate(res.Error, "set password")
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		return s.audit(tx, a, action, "user", userID, "all sessions ended")
	})
	return now, err
}
