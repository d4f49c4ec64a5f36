package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Integration is a connected Jira Cloud site or Data Center instance.
type Integration struct {
	ID               int64 `gorm:"primaryKey"`
	Name             string
	Deployment       Deployment
	SiteURL          string // Cloud: https://x.atlassian.net (browse links)
	CloudID          string // Cloud: routes API calls through the gateway
	BaseURL          string // Data Center: the instance base URL (with context path)
	ClientID         string // Data Center: the incoming link's client id
	ClientSecretEnc  string `json:"-"`
	AccessTokenEnc   string `json:"-"`
	RefreshTokenEnc  string `json:"-"`
	TokenExpiry      *time.Time
	Scopes           string
	Status           IntegrationStatus
	StatusReason     string
	ProjectKeys      string // optional restriction of the project list, comma-separated
	RefreshLockOwner string `json:"-"`
	RefreshLockUntil *time.Time
	ConnectedByID    *int64
	ConnectedBy      *User `gorm:"foreignKey:ConnectedByID"`
	ConnectedAt      time.Time
	LastSuccessAt    *time.Time
	// Decisions from Jira (design.md §9): see jira_decisions.go.
	WebhookToken     string `json:"-"`
	WebhookSecretEnc string `json:"-"`
	WebhookIDs       string
	WebhookJQL       string
	WebhookExpiresAt *time.Time
	WebhookError     string
	PollWatermark    *time.Time
	PollNextAt       *time.Time
	PollError        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName maps Integration to its table.
func (Integration) TableName() string { return "jira_integrations" }

// SiteOrBaseURL is the human URL of the Jira behind the integration.
func (i Integration) SiteOrBaseURL() string {
	if i.Deployment == DeploymentDataCenter {
		return i.BaseURL
	}
	return i.SiteURL
}

// RestrictedKeys returns the project-key restriction, if any.
func (i Integration) RestrictedKeys() []string {
	var out []string
	for _, k := range strings.Split(i.ProjectKeys, ",") {
		if k = strings.ToUpper(strings.TrimSpace(k)); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func sealAAD(id int64, field string) string { return fmt.Sprintf("jira_integrations/%d/%s", id, field) }

// IntegrationGrant is what the OAuth callback learned: where Jira is and the tokens.
type IntegrationGrant struct {
	Name         string
	Deployment   Deployment
	SiteURL      string
	CloudID      string
	BaseURL      string
	ClientID     string
	ClientSecret string
	Token        OAuthToken
}

func (s *Store) sealTokens(id int64, tok OAuthToken) map[string]any {
	return map[string]any{
		"access_token_enc":   s.sealer.Seal(tok.AccessToken, sealAAD(id, "access_token")),
		"refresh_token_enc":  s.sealer.Seal(tok.RefreshToken, sealAAD(id, "refresh_token")),
		"token_expiry":       nullableTime(tok.Expiry),
		"scopes":             tok.Scope,
		"refresh_lock_owner": "",
		"refresh_lock_until": nil,
	}
}

func nullableTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateIntegration stores a newly consented integration with sealed secrets.
func (s *Store) CreateIntegration(ctx context.Context, a Actor, g IntegrationGrant) (Integration, error) {
	if !g.Deployment.Valid() {
		return Integration{}, fmt.Errorf("create integration: unknown deployment %q", g.Deployment)
	}
	now := s.Now()
	in := Integration{Name: g.Name, Deployment: g.Deployment, SiteURL: g.SiteURL, CloudID: g.CloudID, BaseURL: g.BaseURL,
		ClientID: g.ClientID, Status: IntegrationConnected, ConnectedAt: now, CreatedAt: now, UpdatedAt: now}
	if a.UserID != 0 {
		id := a.UserID
		in.ConnectedByID = &id
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := siteFree(tx, in); err != nil {
			return err
		}
		if err := tx.Omit("ConnectedBy").Create(&in).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) { // connected concurrently
				return &ValidationError{Fields: map[string]string{"site": in.SiteOrBaseURL() +
					" was connected by someone else a moment ago: reconnect or disconnect that integration instead of adding another."}}
			}
			return translate(err, "create integration")
		}
		upd := s.sealTokens(in.ID, g.Token)
		upd["client_secret_enc"] = s.sealer.Seal(g.ClientSecret, sealAAD(in.ID, "client_secret"))
		if err := tx.Model(&Integration{}).Where("id = ?", in.ID).Updates(upd).Error; err != nil {
			return translate(err, "store integration tokens")
		}
		return s.audit(tx, a, AuditIntegrationAdded, "integration", in.ID, string(in.Deployment)+" "+in.SiteOrBaseURL())
	})
	if err != nil {
		return Integration{}, err
	}
	return s.Integration(ctx, in.ID)
}

// siteFree refuses a second integration for the same Jira site (a unique
// index backs this up).
func siteFree(tx *gorm.DB, in Integration) error {
	q := tx.Where("deployment = ?", in.Deployment)
	if in.Deployment == DeploymentCloud {
		q = q.Where("cloud_id = ?", in.CloudID)
	} else {
		q = q.Where("base_url = ?", in.BaseURL)
	}
	var cur Integration
	switch err := q.Take(&cur).Error; {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil
	case err != nil:
		return translate(err, "look up the site's integration")
	}
	return siteTakenError(in, cur)
}

func siteTakenError(in, cur Integration) error {
	return &ValidationError{Fields: map[string]string{"site": fmt.Sprintf(
		"%s is already connected as “%s”: reconnect or disconnect that integration instead of adding another.", in.SiteOrBaseURL(), cur.Name)}}
}

// ReconnectIntegration stores fresh tokens after a new consent, keeps every
// project link and resumes the jobs parked while the grant was dead.
func (s *Store) ReconnectIntegration(ctx context.Context, a Actor, id int64, g IntegrationGrant) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var cur Integration
		if err := tx.Take(&cur, id).Error; err != nil {
			return translate(err, fmt.Sprintf("integration %d", id))
		}
		if cur.Deployment == DeploymentCloud && g.CloudID != cur.CloudID {
			return &ValidationError{Fields: map[string]string{"site": "The consent was given for another Jira site than this integration's."}}
		}
		upd := s.sealTokens(id, g.Token)
		upd["status"], upd["status_reason"], upd["updated_at"] = IntegrationConnected, "", s.Now()
		if g.ClientSecret != "" {
			upd["client_secret_enc"] = s.sealer.Seal(g.ClientSecret, sealAAD(id, "client_secret"))
		}
		if cur.Deployment == DeploymentDataCenter && g.ClientID != "" {
			upd["client_id"] = g.ClientID
		}
		if err := tx.Model(&Integration{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return translate(err, "reconnect integration")
		}
		if err := s.resumeParked(tx, id); err != nil {
			return err
		}
		return s.audit(tx, a, AuditIntegrationRecon, "integration", id, cur.Name)
	})
}

// Integration loads one integration.
func (s *Store) Integration(ctx context.Context, id int64) (Integration, error) {
	var in Integration
	err := s.db.WithContext(ctx).Preload("ConnectedBy").Take(&in, id).Error
	return in, translate(err, fmt.Sprintf("integration %d", id))
}

// IntegrationSettings loads an integration without who connected it (the syncer's read).
func (s *Store) IntegrationSettings(ctx context.Context, id int64) (Integration, error) {
	var in Integration
	err := s.db.WithContext(ctx).Take(&in, id).Error
	return in, translate(err, fmt.Sprintf("integration %d", id))
}

// ListIntegrations lists integrations by name.
func (s *Store) ListIntegrations(ctx context.Context) ([]Integration, error) {
	var out []Integration
	err := s.db.WithContext(ctx).Preload("ConnectedBy").Order("name, id").Find(&out).Error
	return out, translate(err, "list integrations")
}

// ClientSecret decrypts a Data Center integration's client secret.
func (s *Store) ClientSecret(in Integration) (string, error) {
	return s.sealer.Open(in.ClientSecretEnc, sealAAD(in.ID, "client_secret"))
}

// ParseProjectKeys cleans a typed project-key restriction (upper case, blanks
// dropped) and refuses what cannot be a Jira project key.
func ParseProjectKeys(keys []string) ([]string, error) {
	var clean []string
	fe := FieldErrors{}
	for _, k := range keys {
		k = strings.ToUpper(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		if !projectKeyRe.MatchString(k) {
			fe.Add("project_keys", fmt.Sprintf("%q is not a Jira project key (letters, digits and underscores, starting with a letter).", k))
		}
		clean = append(clean, k)
	}
	return clean, fe.Err()
}

// SetProjectKeys sets the optional project-key restriction.
func (s *Store) SetProjectKeys(ctx context.Context, a Actor, id int64, keys []string) error {
	clean, err := ParseProjectKeys(keys)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Integration{}).Where("id = ?", id).Updates(map[string]any{"project_keys": strings.Join(clean, ","), "updated_at": s.Now()})
		if res.Error != nil {
			return translate(res.Error, "set project keys")
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("integration %d: %w", id, ErrNotFound)
		}
		return s.audit(tx, a, AuditProjectUpdated, "integration", id, "project keys: "+strings.Join(clean, ","))
	})
}

// DisconnectIntegration deletes the integration, its tokens and its project
// links. Issues already created stay in Jira; their requests keep the link
// but are no longer updated; accounts stop being tracked.
func (s *Store) DisconnectIntegration(ctx context.Context, a Actor, id int64) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var in Integration
		if err := tx.Take(&in, id).Error; err != nil {
			return translate(err, fmt.Sprintf("integration %d", id))
		}
		// Every request of the integration, its task created or not yet, is
		// detached; jobs that were parked or failed would never run again.
		reqIDs, err := integrationRequests(tx, id, []SyncState{SyncPending, SyncParked, SyncFailed, SyncSynced})
		if err != nil {
			return translate(err, "find the integration's requests")
		}
		if len(reqIDs) > 0 {
			if err := tx.Model(&JiraIssueLink{}).Where("request_id IN ?", reqIDs).
				Updates(map[string]any{"sync_state": SyncDetached, "updated_at": s.Now(), "last_error": gorm.Expr("CASE WHEN issue_key = '' THEN ? ELSE ? END",
					"The Jira integration was disconnected before the task was created.", "The Jira integration was disconnected; the task is no longer updated.")}).Error; err != nil {
				return translate(err, "detach issue links")
			}
			if err := tx.Where("request_id IN ? AND state IN ?", reqIDs, []JobState{JobFailed, JobParked}).Delete(&SyncJob{}).Error; err != nil {
				return translate(err, "drop jobs that will never run")
			}
		}
		if err := s.removeIntegrationJiraIdentities(tx, a, id); err != nil {
			return err
		}
		if err := tx.Delete(&in).Error; err != nil {
			return translate(err, "delete integration")
		}
		return s.audit(tx, a, AuditIntegrationGone, "integration", id, in.Name)
	})
}

// IntegrationToken returns the decrypted token pair (jira.TokenStore).
func (s *Store) IntegrationToken(ctx context.Context, id int64) (OAuthToken, error) {
	in, err := s.IntegrationSettings(ctx, id)
	if err != nil {
		return OAuthToken{}, err
	}
	if in.Status == IntegrationReconnectRequired {
		return OAuthToken{}, fmt.Errorf("integration %d: %w", id, ErrReconnectRequired)
	}
	var tok OAuthToken
	if tok.AccessToken, err = s.sealer.Open(in.AccessTokenEnc, sealAAD(id, "access_token")); err != nil {
		return OAuthToken{}, fmt.Errorf("integration %d access token: %w", id, err)
	}
	if tok.RefreshToken, err = s.sealer.Open(in.RefreshTokenEnc, sealAAD(id, "refresh_token")); err != nil {
		return OAuthToken{}, fmt.Errorf("integration %d refresh token: %w", id, err)
	}
	if in.TokenExpiry != nil {
		tok.Expiry = *in.TokenExpiry
	}
	tok.Scope = in.Scopes
	return tok, nil
}

// ErrReconnectRequired means the integration's grant is dead until an admin reconnects.
var ErrReconnectRequired = errors.New("Jira integration needs to be reconnected")

// TryLockTokenRefresh takes the integration's refresh lease until `until`
// when nobody else holds a live one. The lease is a row update, not a held
// transaction, so no database lock spans the call to the token endpoint.
func (s *Store) TryLockTokenRefresh(ctx context.Context, id int64, owner string, until time.Time) (bool, error) {
	now := s.Now()
	res := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).
			Where("id = ? AND (refresh_lock_owner = '' OR refresh_lock_owner = ? OR refresh_lock_until IS NULL OR refresh_lock_until < ?)", id, owner, now).
			Updates(map[string]any{"refresh_lock_owner": owner, "refresh_lock_until": until.UTC()})
	})
	if res.Error != nil {
		return false, translate(res.Error, "lock token refresh")
	}
	return res.RowsAffected == 1, nil
}

// SaveRefreshedToken persists a rotated token and releases owner's lease, atomically.
func (s *Store) SaveRefreshedToken(ctx context.Context, id int64, owner string, tok OAuthToken) error {
	upd := s.sealTokens(id, tok)
	upd["updated_at"] = s.Now()
	res := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ? AND refresh_lock_owner = ?", id, owner).Updates(upd)
	})
	if res.Error != nil {
		return translate(res.Error, "save refreshed token")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("save refreshed token of integration %d: lease lost: %w", id, ErrConflict)
	}
	return nil
}

// UnlockTokenRefresh releases owner's lease without changing the token.
func (s *Store) UnlockTokenRefresh(ctx context.Context, id int64, owner string) error {
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ? AND refresh_lock_owner = ?", id, owner).
			Updates(map[string]any{"refresh_lock_owner": "", "refresh_lock_until": nil})
	}).Error
	return translate(err, "unlock token refresh")
}

// MarkReconnectRequired flips the integration to reconnect_required and parks its jobs.
func (s *Store) MarkReconnectRequired(ctx context.Context, id int64, reason string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Integration{}).Where("id = ? AND status <> ?", id, IntegrationReconnectRequired).
			Updates(map[string]any{"status": IntegrationReconnectRequired, "status_reason": reason, "refresh_lock_owner": "", "refresh_lock_until": nil, "updated_at": s.Now()})
		if res.Error != nil {
			return translate(res.Error, "mark reconnect required")
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return s.audit(tx, SystemActor, AuditIntegrationBroken, "integration", id, reason)
	})
}

// MarkIntegrationSuccess records the time of the last successful Jira call.
func (s *Store) MarkIntegrationSuccess(ctx context.Context, id int64) error {
	err := s.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Model(&Integration{}).Where("id = ?", id).Update("last_success_at", s.Now())
	}).Error
	return translate(err, "mark integration success")
}
