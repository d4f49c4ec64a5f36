package jira

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"privilege/models"
)

// TokenStore is what the token manager needs from the database
// (implemented by *models.Store).
type TokenStore interface {
	IntegrationToken(ctx context.Context, integrationID int64) (models.OAuthToken, error)
	// TryLockTokenRefresh takes a cross-process refresh lease (row-level, in the DB) until `until`; false if another owner holds a live lease.
	TryLockTokenRefresh(ctx context.Context, integrationID int64, owner string, until time.Time) (bool, error)
	// SaveRefreshedToken stores the rotated token atomically and releases the lease held by owner.
	SaveRefreshedToken(ctx context.Context, integrationID int64, owner string, tok models.OAuthToken) error
	UnlockTokenRefresh(ctx context.Context, integrationID int64, owner string) error
	MarkReconnectRequired(ctx context.Context, integrationID int64, reason string) error
}

// Refresher spends a refresh token; *OAuth implements it.
type Refresher interface {
	Refresh(ctx context.Context, conn Connection, refreshToken string) (models.OAuthToken, error)
}

// WaitFunc waits d or until ctx ends. Tests inject one that does not sleep.
type WaitFunc func(ctx context.Context, d time.Duration) error

// TokenManager hands out access tokens per integration and refreshes them
// at most once at a time: single-flight inside the process, and a lease in
// the database across processes. Atlassian rotates refresh tokens and
// revokes the whole grant when an old one is reused after a 10-minute
// leeway, so a refresh token must be spent once and its successor stored
// before it is used.
type TokenManager struct {
	store     TokenStore
	refresher Refresher
	owner     string
	group     singleflight.Group
	metrics   *Metrics

	now         func() time.Time
	wait        WaitFunc
	skew        time.Duration // refresh this long before expiry
	leaseTTL    time.Duration // lease length; must outlast a refresh
	waitTimeout time.Duration // how long to wait for another process's refresh
	pollMin     time.Duration
	pollMax     time.Duration

	// cache keeps each integration's fresh access token for a few seconds,
	// so a burst of calls does not read and decrypt it from the database
	// every time. A 401 (ForceRefresh) or a refresh drops the entry.
	cacheMu sync.Mutex
	cache   map[int64]cachedToken
}

type cachedToken struct {
	tok    models.OAuthToken
	loaded time.Time
}

// tokenCacheTTL bounds how long a token read from the database is reused.
const tokenCacheTTL = 30 * time.Second

// TokenOption configures a TokenManager.
type TokenOption func(*TokenManager)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) TokenOption { return func(m *TokenManager) { m.now = now } }

// WithWait sets how the manager waits between polls of the store.
func WithWait(w WaitFunc) TokenOption { return func(m *TokenManager) { m.wait = w } }

// WithOwner sets the lease owner id (default: random per manager, i.e. per process).
func WithOwner(owner string) TokenOption { return func(m *TokenManager) { m.owner = owner } }

// WithRefreshWaitTimeout bounds the wait for another process's refresh (default 30s).
func WithRefreshWaitTimeout(d time.Duration) TokenOption {
	return func(m *TokenManager) { m.waitTimeout = d }
}

// WithTokenMetrics records oauth_refresh_total.
func WithTokenMetrics(mt *Metrics) TokenOption { return func(m *TokenManager) { m.metrics = mt } }

// NewTokenManager returns a manager; create one per process and share it.
func NewTokenManager(store TokenStore, refresher Refresher, opts ...TokenOption) *TokenManager {
	m := &TokenManager{
		store:       store,
		refresher:   refresher,
		owner:       randomOwner(),
		now:         time.Now,
		wait:        sleepCtx,
		skew:        time.Minute,
		leaseTTL:    time.Minute,
		waitTimeout: 30 * time.Second,
		pollMin:     100 * time.Millisecond,
		pollMax:     2 * time.Second,
		cache:       map[int64]cachedToken{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func randomOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "privilege-" + hex.EncodeToString(b[:])
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Owner is this manager's lease owner id.
func (m *TokenManager) Owner() string { return m.owner }

func (m *TokenManager) fresh(tok models.OAuthToken) bool {
	if tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || m.now().Add(m.skew).Before(tok.Expiry)
}

// AccessToken returns a valid access token for conn, refreshing it when it
// expires within about a minute.
func (m *TokenManager) AccessToken(ctx context.Context, conn Connection) (string, error) {
	if tok, ok := m.cached(conn.IntegrationID); ok {
		return tok.AccessToken, nil
	}
	tok, err := m.store.IntegrationToken(ctx, conn.IntegrationID)
	if err != nil {
		return "", fmt.Errorf("jira: load token of integration %d: %w", conn.IntegrationID, err)
	}
	if m.fresh(tok) {
		m.remember(conn.IntegrationID, tok)
		return tok.AccessToken, nil
	}
	return m.refreshShared(ctx, conn, "")
}

func (m *TokenManager) cached(id int64) (models.OAuthToken, bool) {
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	c, ok := m.cache[id]
	if !ok || m.now().Sub(c.loaded) > tokenCacheTTL || !m.fresh(c.tok) {
		return models.OAuthToken{}, false
	}
	return c.tok, true
}

func (m *TokenManager) remember(id int64, tok models.OAuthToken) {
	tok.RefreshToken = "" // only the access token is ever served from memory
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	m.cache[id] = cachedToken{tok: tok, loaded: m.now()}
}

func (m *TokenManager) forget(id int64) {
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	delete(m.cache, id)
}

// ForceRefresh handles "Jira answered 401 for rejected": it refreshes only
// if the stored access token is still rejected (another worker may already
// have refreshed) and returns the token to retry with.
func (m *TokenManager) ForceRefresh(ctx context.Context, conn Connection, rejected string) (string, error) {
	m.forget(conn.IntegrationID)
	access, err := m.refreshShared(ctx, conn, rejected)
	if err == nil && access == rejected {
		// We joined a flight that did not know about the 401; go once more.
		access, err = m.refreshShared(ctx, conn, rejected)
	}
	return access, err
}

// refreshShared collapses concurrent refreshes of one integration into one.
// The flight runs detached from the caller's cancellation: abandoning a
// refresh half-way could spend the refresh token and lose its successor.
func (m *TokenManager) refreshShared(ctx context.Context, conn Connection, rejected string) (string, error) {
	defer m.forget(conn.IntegrationID)
	key := strconv.FormatInt(conn.IntegrationID, 10)
	flightCtx := context.WithoutCancel(ctx)
	ch := m.group.DoChan(key, func() (any, error) {
		return m.refresh(flightCtx, conn, rejected)
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("jira: refresh token of integration %d: %w", conn.IntegrationID, ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

// needsRefresh: with rejected == "" the stored token is replaced when it is
// not fresh; otherwise only while it is still the rejected one.
func (m *TokenManager) needsRefresh(tok models.OAuthToken, rejected string) bool {
	if rejected != "" {
		return tok.AccessToken == rejected
	}
	return !m.fresh(tok)
}

func (m *TokenManager) refresh(ctx context.Context, conn Connection, rejected string) (string, error) {
	id := conn.IntegrationID
	ctx, cancel := context.WithTimeout(ctx, m.waitTimeout+m.leaseTTL)
	defer cancel()

	deadline := m.now().Add(m.waitTimeout)
	poll := m.pollMin
	waited := false
	for {
		tok, err := m.store.IntegrationToken(ctx, id)
		if err != nil {
			return "", fmt.Errorf("jira: load token of integration %d: %w", id, err)
		}
		if !m.needsRefresh(tok, rejected) {
			if waited {
				m.metrics.refresh(refreshWaited)
			}
			return tok.AccessToken, nil
		}
		got, err := m.store.TryLockTokenRefresh(ctx, id, m.owner, m.now().Add(m.leaseTTL))
		if err != nil {
			return "", fmt.Errorf("jira: lock token refresh of integration %d: %w", id, err)
		}
		if got {
			return m.refreshLocked(ctx, conn, rejected)
		}
		// Another process is refreshing: wait for its rotated token.
		if !m.now().Before(deadline) {
			return "", fmt.Errorf("jira: refresh token of integration %d: another process held the refresh lease for over %s", id, m.waitTimeout)
		}
		waited = true
		if err := m.wait(ctx, poll); err != nil {
			return "", fmt.Errorf("jira: wait for token refresh of integration %d: %w", id, err)
		}
		poll = min(poll*2, m.pollMax)
	}
}

// refreshLocked runs while this process holds the lease.
func (m *TokenManager) refreshLocked(ctx context.Context, conn Connection, rejected string) (string, error) {
	id := conn.IntegrationID
	// Re-read under the lease: another process may have finished between
	// our read and our lock.
	tok, err := m.store.IntegrationToken(ctx, id)
	if err != nil {
		m.unlock(ctx, id)
		return "", fmt.Errorf("jira: load token of integration %d: %w", id, err)
	}
	if !m.needsRefresh(tok, rejected) {
		m.unlock(ctx, id)
		return tok.AccessToken, nil
	}
	fresh, err := m.refresher.Refresh(ctx, conn, tok.RefreshToken)
	if err != nil {
		if errors.Is(err, ErrReconnectRequired) {
			m.metrics.refresh(refreshReconnect)
			if merr := m.store.MarkReconnectRequired(ctx, id, err.Error()); merr != nil {
				err = errors.Join(err, fmt.Errorf("mark integration %d reconnect required: %w", id, merr))
			}
		} else {
			m.metrics.refresh(refreshError)
		}
		m.unlock(ctx, id)
		return "", fmt.Errorf("%w (integration %d)", err, id)
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = tok.RefreshToken
	}
	if err := m.store.SaveRefreshedToken(ctx, id, m.owner, fresh); err != nil {
		// The old refresh token is spent and the new one is not stored:
		// Atlassian's reuse leeway may still save us on the next attempt.
		m.metrics.refresh(refreshError)
		m.unlock(ctx, id)
		return "", fmt.Errorf("jira: save refreshed token of integration %d: %w", id, err)
	}
	m.metrics.refresh(refreshSuccess)
	return fresh.AccessToken, nil
}

func (m *TokenManager) unlock(ctx context.Context, id int64) {
	// Best effort: the lease expires on its own after leaseTTL.
	_ = m.store.UnlockTokenRefresh(ctx, id, m.owner)
}
