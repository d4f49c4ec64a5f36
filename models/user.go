package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Role is what a user may do.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleApprover  Role = "approver"
	RoleRequester Role = "requester"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleApprover, RoleRequester}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleApprover || r == RoleRequester }

// CanApprove reports whether the role may decide requests (never their own).
func (r Role) CanApprove() bool { return r == RoleAdmin || r == RoleApprover }

// User is a person who signs in.
type User struct {
	ID           int64 `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string `json:"-"`
	Role         Role
	Disabled     bool
	// SessionsValidAfter revokes every session signed in before it (sign-out).
	SessionsValidAfter *time.Time
	// OIDCIssuer and OIDCSubject identify a single sign-on user (both nil for
	// local users); see sso.go.
	OIDCIssuer   *string `gorm:"column:oidc_issuer"`
	OIDCSubject  *string `gorm:"column:oidc_subject"`
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewUser is the input to create a user.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     Role
}

// NormalizeEmail lower-cases and trims an email address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// Validate checks the fields of a new user.
func (n *NewUser) Validate() FieldErrors {
	fe := FieldErrors{}
	n.Email = NormalizeEmail(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	if n.Email == "" {
		fe.Add("email", "Enter an email address.")
	} else if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		fe.Add("email", "Enter a valid email address, like alice@example.com.")
	}
	if utf8.RuneCountInString(n.Name) > 100 {
		fe.Add("name", "Use at most 100 characters.")
	}
	if utf8.RuneCountInString(n.Password) < MinPasswordLength {
		fe.Add("password", fmt.Sprintf("Use at least %d characters.", MinPasswordLength))
	} else if len(n.Password) > 256 {
		fe.Add("password", "Use at most 256 characters.")
	}
	if !n.Role.Valid() {
		fe.Add("role", "Choose admin, approver or requester.")
	}
	return fe
}

func (s *Store) insertUser(tx *gorm.DB, n NewUser) (User, error) {
	if err := n.Validate().Err(); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(s.kdf, n.Password)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.Now()
	u := User{Email: n.Email, Name: n.Name, PasswordHash: hash, Role: n.Role, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return User{}, &ValidationError{Fields: map[string]string{"email": "A user with this email already exists."}}
		}
		return User{}, translate(err, "create user")
	}
	return u, nil
}

// CreateUser creates a user and audits it.
func (s *Store) CreateUser(ctx context.Context, a Actor, n NewUser) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = s.insertUser(tx, n); err != nil {
			return err
		}
		return s.audit(tx, a, AuditUserCreated, "user", u.ID, u.Email+" as "+string(u.Role))
	})
	return u, err
}

// setupLockID is the PostgreSQL advisory lock key of first-run setup
// ("privsetu" in ASCII); goose uses its own key.
const setupLockID int64 = 0x7072697673657475

// CreateFirstAdmin creates the first admin; it fails with ErrSetupDone once any user exists.
func (s *Store) CreateFirstAdmin(ctx context.Context, ip string, n NewUser) (User, error) {
	n.Role = RoleAdmin
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Two setups racing on PostgreSQL would both count zero users under
		// READ COMMITTED and both insert: a transaction-scoped advisory lock
		// makes the second wait and then see the first admin. (SQLite runs
		// one writer at a time already.)
		if s.dialect == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", setupLockID).Error; err != nil {
				return translate(err, "lock setup")
			}
		}
		var count int64
		if err := tx.Model(&User{}).Count(&count).Error; err != nil {
			return translate(err, "count users")
		}
		if count > 0 {
			return ErrSetupDone
		}
		var err error
		if u, err = s.insertUser(tx, n); err != nil {
			return err
		}
		return s.audit(tx, Actor{UserID: u.ID, Email: u.Email, IP: ip}, AuditSetup, "user", u.ID, u.Email)
	})
	return u, err
}

// HasUsers reports whether setup has been done.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Limit(1).Count(&n).Error
	return n > 0, translate(err, "count users")
}

// dummyHash keeps sign-in time the same whether or not the email exists.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Ue5cEqkZ2SnmDBAhfhwlc3khNPd7cQ1yJbBqo6XYzM"

// Authenticate checks an email and password; a disabled or unknown user gets ErrInvalidLogin.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		_, _ = checkPassword(dummyHash, password)
		return User{}, ErrInvalidLogin
	}
	if err != nil {
		return User{}, translate(err, "find user")
	}
	if !u.HasPassword() { // a single sign-on user without a local password
		_, _ = checkPassword(dummyHash, password)
		return User{}, ErrInvalidLogin
	}
	ok, err := checkPassword(u.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("check password of user %d: %w", u.ID, err)
	}
	if !ok || u.Disabled {
		return User{}, ErrInvalidLogin
	}
	return u, nil
}

// UserByID loads a user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Take(&u, id).Error
	return u, translate(err, fmt.Sprintf("user %d", id))
}

// UserByEmail loads a user by email.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error
	return u, translate(err, "user "+email)
}

// ListUsers lists users by email.
func (s *Store) ListUsers(ctx context.Context, q PageQuery, sort Sort) (Page[User], error) {
	q = q.normalize()
	order := sort.orderBy(userSorts, "id", "email")
	p := Page[User]{Page: q.Page, PerPage: q.PerPage}
	db := s.db.WithContext(ctx).Model(&User{})
	if err := db.Count(&p.Total).Error; err != nil {
		return p, translate(err, "count users")
	}
	err := db.Order(order).Limit(q.PerPage).Offset(q.offset()).Find(&p.Items).Error
	return p, translate(err, "list users")
}

// SetUserDisabled disables or re-enables a user. An admin cannot disable
// themselves. Disabling is for good as far as credentials go: every session
// signed in until now ends (sessions_valid_after) and every API token is
// revoked, so enabling the user again brings none of them back.
func (s *Store) SetUserDisabled(ctx context.Context, a Actor, id int64, disabled bool) error {
	if disabled && id == a.UserID {
		return &ValidationError{Fields: map[string]string{"user": "You cannot disable your own account."}}
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		upd := map[string]any{"disabled": disabled, "updated_at": now}
		if disabled {
			upd["sessions_valid_after"] = now.Truncate(time.Microsecond)
		}
		res := tx.Model(&User{}).Where("id = ?", id).Updates(upd)
		if res.Error != nil {
			return translate(res.Error, "update user")
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if !disabled {
			return s.audit(tx, a, AuditUserEnabled, "user", id, "")
		}
		// A disabled user is nobody in Jira any more (design.md §8).
		if err := s.removeUserJiraIdentities(tx, a, id); err != nil {
			return err
		}
		rev := tx.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
		if rev.Error != nil {
			return translate(rev.Error, "revoke API tokens of disabled user")
		}
		return s.audit(tx, a, AuditUserDisabled, "user", id, fmt.Sprintf("sessions ended, %d API tokens revoked", rev.RowsAffected))
	})
}

// SignOut revokes every session of the user signed in until now (sessions are
// signed cookies: this is what makes a copied cookie useless after sign-out).
func (s *Store) SignOut(ctx context.Context, a Actor) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.Now().Truncate(time.Microsecond)
		if err := tx.Model(&User{}).Where("id = ?", a.UserID).Update("sessions_valid_after", now).Error; err != nil {
			return translate(err, "sign out")
		}
		return s.audit(tx, a, AuditSignOut, "user", a.UserID, "")
	})
}

// SessionValid reports whether a session signed in at authAt is still valid.
func (u User) SessionValid(authAt time.Time) bool {
	return !u.Disabled && (u.SessionsValidAfter == nil || !authAt.Before(*u.SessionsValidAfter))
}
