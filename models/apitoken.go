package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// APIToken is a bearer token for the JSON API; only its hash is stored.
type APIToken struct {
	ID     int64 `gorm:"primaryKey"`
	UserID int64
	User   User `gorm:"foreignKey:UserID"`
	Name   string
	// CreatedByID is who minted the token (nil: the operator CLI).
	CreatedByID *int64
	TokenHash   string `json:"-"`
	Prefix      string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

// Revoked reports whether the token was revoked.
func (t APIToken) Revoked() bool { return t.RevokedAt != nil }

const tokenPrefix = "prv_"

func hashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// ErrTokenForOther: a signed-in user mints API tokens only for themselves.
// (The operator CLI, an actor without a user, may mint for anyone.)
var ErrTokenForOther = errors.New("API tokens can only be created for yourself")

// CreateAPIToken makes a token for userID and returns its plaintext, shown
// once. A user may only create their own tokens; an actor without a user
// (the operator CLI) may create one for anyone.
func (s *Store) CreateAPIToken(ctx context.Context, a Actor, userID int64, name string) (string, APIToken, error) {
	if a.UserID != 0 && a.UserID != userID {
		return "", APIToken{}, ErrTokenForOther
	}
	name = strings.TrimSpace(name)
	fe := FieldErrors{}
	if name == "" {
		fe.Add("name", "Give the token a name, like \"ci pipeline\".")
	} else if utf8.RuneCountInString(name) > 100 {
		fe.Add("name", "Use at most 100 characters.")
	}
	if err := fe.Err(); err != nil {
		return "", APIToken{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", APIToken{}, fmt.Errorf("generate token: %w", err)
	}
	plain := tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	t := APIToken{UserID: userID, Name: name, TokenHash: hashToken(plain), Prefix: plain[:len(tokenPrefix)+6], CreatedAt: s.Now()}
	if a.UserID != 0 {
		by := a.UserID
		t.CreatedByID = &by
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Take(&u, userID).Error; err != nil {
			return translate(err, fmt.Sprintf("user %d", userID))
		}
		if err := tx.Omit("User").Create(&t).Error; err != nil {
			return translate(err, "create API token")
		}
		t.User = u
		return s.audit(tx, a, AuditTokenCreated, "token", t.ID, name+" for "+u.Email)
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return plain, t, nil
}

// AuthenticateToken resolves a bearer token to the token, with its user.
func (s *Store) AuthenticateToken(ctx context.Context, plain string) (APIToken, error) {
	if !strings.HasPrefix(plain, tokenPrefix) {
		return APIToken{}, ErrInvalidToken
	}
	// Hand-written: every API call runs it (see sql_api_tokens.go).
	var t APIToken
	found := false
	err := eachRow(s.db.WithContext(ctx), selectTokenByHash, []any{hashToken(plain)}, func(rows *sql.Rows) error {
		found = true
		u := &t.User
		return rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedByID, &t.CreatedAt, &t.RevokedAt, &t.LastUsedAt,
			&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.SessionsValidAfter, &u.CreatedAt, &u.UpdatedAt)
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("find API token: %w", err)
	}
	if !found {
		return APIToken{}, ErrInvalidToken
	}
	if t.Revoked() || t.User.Disabled {
		return APIToken{}, ErrInvalidToken
	}
	now := s.Now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
			return db.Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now)
		}).Error; err != nil {
			return APIToken{}, translate(err, "touch API token")
		}
	}
	return t, nil
}

// ListAPITokens lists tokens, newest first (all users when userID is 0).
func (s *Store) ListAPITokens(ctx context.Context, userID int64, q PageQuery) (Page[APIToken], error) {
	q = q.normalize()
	p := Page[APIToken]{Page: q.Page, PerPage: q.PerPage}
	db := s.db.WithContext(ctx).Model(&APIToken{})
	if userID != 0 {
		db = db.Where("user_id = ?", userID)
	}
	if err := db.Count(&p.Total).Error; err != nil {
		return p, translate(err, "count API tokens")
	}
	err := db.Preload("User").Order("id DESC").Limit(q.PerPage).Offset(q.offset()).Find(&p.Items).Error
	return p, translate(err, "list API tokens")
}

// RevokeAPIToken revokes a token; revoking twice is harmless. With
// ownerID set, only that user's token is found (ErrNotFound otherwise).
func (s *Store) RevokeAPIToken(ctx context.Context, a Actor, id, ownerID int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var t APIToken
		q := tx
		if ownerID != 0 {
			q = q.Where("user_id = ?", ownerID)
		}
		if err := q.Take(&t, id).Error; err != nil {
			return translate(err, fmt.Sprintf("API token %d", id))
		}
		if t.Revoked() {
			return nil
		}
		if err := tx.Model(&t).Update("revoked_at", s.Now()).Error; err != nil {
			return translate(err, "revoke API token")
		}
		return s.audit(tx, a, AuditTokenRevoked, "token", id, t.Name)
	})
}
