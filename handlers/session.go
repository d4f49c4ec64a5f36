package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"privilege/models"
	"privilege/views"
)

// This file is the only place that knows session key names and the echo
// context keys. Everything else goes through the typed accessors below.

const (
	sessionCookieName = "privilege_session"
	// hostSessionCookieName is the cookie's name under https. Browsers take a
	// __Host- cookie only when it is Secure, host-only and for Path=/, so a
	// sibling subdomain can neither plant nor overwrite it.
	hostSessionCookieName = "__Host-" + sessionCookieName
)

// sessionCookieFor is the session cookie's name for a base URL scheme.
func sessionCookieFor(secure bool) string {
	if secure {
		return hostSessionCookieName
	}
	return sessionCookieName
}

// sessionKey names a value in the session cookie. Values are stored under
// string(key) so gob needs no type registration.
type sessionKey string

const (
	keyUserID sessionKey = "uid"
	keyAuthAt sessionKey = "auth_at" // unix nanoseconds of sign-in (absolute expiry, revocation)
	keyNonce  sessionKey = "nonce"   // random per sign-in: a new cookie every time
	keySeenAt sessionKey = "seen_at" // unix nanoseconds of the last request (idle timeout)
	// keyCSRF is the form token of this session. It lives inside the signed,
	// encrypted session cookie, so a cookie planted for the host cannot
	// choose it; it is replaced at sign-in and sign-out.
	keyCSRF    sessionKey = "csrf"
	keyFlashes sessionKey = "flashes" // JSON []views.Flash
	// keyJiraFlow is the Jira consent in progress (JSON jiraFlow): OAuth
	// state, PKCE verifier, expiry and the draft integration, including a
	// Data Center client secret. The cookie is encrypted (AES) and signed
	// (HMAC) by securecookie, so the secret never travels in plaintext.
	keyJiraFlow sessionKey = "jira_flow"
	// keyJiraPick is the nonce binding a sealed site-picker grant to this session.
	keyJiraPick sessionKey = "jira_pick"
	// keyOIDCFlow is the single sign-on in progress (JSON sso.Flow: state,
	// nonce, PKCE verifier, next, expiry); keyOIDCHint marks a session
	// signed in through single sign-on and holds its ID token (or "") for
	// RP-initiated logout. See oidc.go.
	keyOIDCFlow sessionKey = "oidc_flow"
	keyOIDCHint sessionKey = "oidc_hint"
)

// Context keys (echo.Context.Set/Get); unexported and only used here.
const (
	ctxSession   = "privilege.session"
	ctxUser      = "privilege.user"
	ctxToken     = "privilege.token" // the bearer token of an /api call
	ctxCSRF      = "csrf"            // set by Echo's CSRF middleware (ContextKey)
	routeRuleKey = "privilege.rule"
)

// session wraps the gorilla session of one request and saves it once, just
// before the answer's header is written, when something changed.
type session struct {
	s     *sessions.Session
	dirty bool
	now   func() time.Time // the handler's clock (idle timeout)
}

func newCookieStore(cfg Config, secure bool) *sessions.CookieStore {
	cs := sessions.NewCookieStore(cfg.SessionKeys...)
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.SessionMaxAge / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	cs.MaxAge(cs.Options.MaxAge) // also bounds the signed timestamp inside the cookie
	return cs
}

// loadSession reads the session cookie and the signed-in user, fresh from
// the database on every request, so a disabled user loses access at once.
// /api and the operational endpoints never read cookies.
func (h *handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if skipsSession(c.Request().URL.Path) {
			return next(c)
		}
		gs, _ := h.sessions.New(c.Request(), sessionCookieFor(h.secure)) // a bad cookie yields a fresh session
		sess := &session{s: gs, now: h.cfg.Now}
		c.Set(ctxSession, sess)
		c.Response().Before(func() {
			if sess.dirty {
				if err := sess.s.Save(c.Request(), c.Response()); err != nil {
					h.log.ErrorContext(c.Request().Context(), "save session", "request_id", requestID(c), "error", err)
				}
			}
		})
		if err := h.loadUser(c, sess); err != nil {
			return err
		}
		return next(c)
	}
}

// loadUser signs the session out when it is past its absolute age
// (SessionMaxAge since sign-in) or idle (no request for SessionIdleTimeout),
// or when the user was signed out everywhere or disabled.
func (h *handler) loadUser(c echo.Context, sess *session) error {
	uid, ok := sess.s.Values[string(keyUserID)].(int64)
	if !ok {
		return nil
	}
	now := h.cfg.Now()
	authNanos, _ := sess.s.Values[string(keyAuthAt)].(int64)
	authAt := time.Unix(0, authNanos)
	seenAt := authAt
	if n, ok := sess.s.Values[string(keySeenAt)].(int64); ok {
		seenAt = time.Unix(0, n)
	}
	if now.Sub(authAt) > h.cfg.SessionMaxAge || now.Sub(seenAt) > h.cfg.SessionIdleTimeout {
		clearSession(sess)
		return nil
	}
	u, err := h.store.UserByID(c.Request().Context(), uid)
	if errors.Is(err, models.ErrNotFound) || err == nil && !u.SessionValid(authAt) {
		clearSession(sess)
		return nil
	}
	if err != nil {
		return err
	}
	// The cookie is rewritten at most once per idleResolution, not on every request.
	if now.Sub(seenAt) >= idleResolution(h.cfg.SessionIdleTimeout) {
		sess.s.Values[string(keySeenAt)] = now.UnixNano()
		sess.dirty = true
	}
	setCurrentUser(c, &u)
	return nil
}

// idleResolution is how stale the last-seen time may get before the cookie
// is rewritten: a tenth of the idle timeout, at most a minute.
func idleResolution(idle time.Duration) time.Duration { return min(idle/10, time.Minute) }

func skipsSession(path string) bool {
	return isAPIPath(path) || isInfraPath(path)
}

func sessionOf(c echo.Context) *session {
	s, _ := c.Get(ctxSession).(*session)
	return s
}

func clearSession(s *session) {
	for k := range s.s.Values {
		delete(s.s.Values, k)
	}
	s.dirty = true
}

// startSession signs u in: every pre-sign-in value is dropped, and a new
// nonce and CSRF token make the cookie value new (session rotation).
func startSession(c echo.Context, u models.User) error {
	s := sessionOf(c)
	if s == nil {
		return errors.New("start session: no session on this route")
	}
	clearSession(s)
	s.s.Values[string(keyUserID)] = u.ID
	now := s.now()
	s.s.Values[string(keyAuthAt)] = now.UnixNano()
	s.s.Values[string(keySeenAt)] = now.UnixNano()
	s.s.Values[string(keyNonce)] = randomHex()
	c.Set(ctxCSRF, sessionCSRFToken(s))
	setCurrentUser(c, &u)
	return nil
}

// endSession signs out: every value is dropped and the CSRF token replaced.
// The cookie stays (it may carry the "signed out" flash) but no longer names
// a user.
func endSession(c echo.Context) {
	if s := sessionOf(c); s != nil {
		clearSession(s)
		c.Set(ctxCSRF, sessionCSRFToken(s))
	}
	c.Set(ctxUser, nil)
}

// sessionCSRFToken is the session's CSRF token, made on first use.
func sessionCSRFToken(s *session) string {
	if t, ok := s.s.Values[string(keyCSRF)].(string); ok && t != "" {
		return t
	}
	t := randomHex()
	s.s.Values[string(keyCSRF)] = t
	s.dirty = true
	return t
}

// randomHex is 128 random bits in hex (crypto/rand never fails on the
// platforms Go supports: it panics rather than return short).
func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionValue reads a string value (e.g. OAuth state) from the session.
func sessionValue(c echo.Context, k sessionKey) (string, bool) {
	s := sessionOf(c)
	if s == nil {
		return "", false
	}
	v, ok := s.s.Values[string(k)].(string)
	return v, ok
}

// setSessionValue stores a string value in the session.
func setSessionValue(c echo.Context, k sessionKey, v string) {
	if s := sessionOf(c); s != nil {
		s.s.Values[string(k)] = v
		s.dirty = true
	}
}

// popSessionValue reads and deletes a value: single-use secrets.
func popSessionValue(c echo.Context, k sessionKey) (string, bool) {
	v, ok := sessionValue(c, k)
	if ok {
		delete(sessionOf(c).s.Values, string(k))
		sessionOf(c).dirty = true
	}
	return v, ok
}

// addFlash queues a message for the next page shown to this browser.
func addFlash(c echo.Context, kind views.FlashKind, msg string) {
	fl := peekFlashes(c)
	fl = append(fl, views.Flash{Kind: kind, Message: msg})
	b, _ := json.Marshal(fl)
	setSessionValue(c, keyFlashes, string(b))
}

func peekFlashes(c echo.Context) []views.Flash {
	raw, ok := sessionValue(c, keyFlashes)
	if !ok {
		return nil
	}
	var fl []views.Flash
	_ = json.Unmarshal([]byte(raw), &fl) // a malformed value is dropped
	return fl
}

// takeFlashes returns the queued messages and forgets them.
func takeFlashes(c echo.Context) []views.Flash {
	fl := peekFlashes(c)
	if len(fl) > 0 || hasSessionValue(c, keyFlashes) {
		popSessionValue(c, keyFlashes)
	}
	return fl
}

func hasSessionValue(c echo.Context, k sessionKey) bool {
	_, ok := sessionValue(c, k)
	return ok
}

// currentUser is the signed-in (session) or authenticated (bearer) user, or nil.
func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(ctxUser).(*models.User)
	return u
}

func setCurrentUser(c echo.Context, u *models.User) { c.Set(ctxUser, u) }

// currentToken is the API token an /api call authenticated with, or nil.
func currentToken(c echo.Context) *models.APIToken {
	t, _ := c.Get(ctxToken).(*models.APIToken)
	return t
}

func setCurrentToken(c echo.Context, t *models.APIToken) { c.Set(ctxToken, t) }

// actor is who does what, for the audit log (with the API token, if any).
func actor(c echo.Context) models.Actor {
	a := models.Actor{IP: c.RealIP()}
	if u := currentUser(c); u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	if t := currentToken(c); t != nil {
		a.TokenID = t.ID
	}
	return a
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// setJiraFlow remembers the Jira consent this browser started.
func setJiraFlow(c echo.Context, f jiraFlow) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("store jira flow: %w", err)
	}
	setSessionValue(c, keyJiraFlow, string(b))
	return nil
}

// peekJiraFlow reads the consent in progress without consuming it.
func peekJiraFlow(c echo.Context) (jiraFlow, bool) {
	raw, ok := sessionValue(c, keyJiraFlow)
	var f jiraFlow
	if !ok || json.Unmarshal([]byte(raw), &f) != nil {
		return jiraFlow{}, false
	}
	return f, true
}

// takeJiraFlow reads and forgets the consent in progress: a state is
// single-use, whatever the callback turns out to be.
func takeJiraFlow(c echo.Context) (jiraFlow, bool) {
	f, ok := peekJiraFlow(c)
	if hasSessionValue(c, keyJiraFlow) {
		popSessionValue(c, keyJiraFlow)
	}
	return f, ok
}

// setJiraPick binds a pending site choice to this session.
func setJiraPick(c echo.Context, nonce string) { setSessionValue(c, keyJiraPick, nonce) }

// takeJiraPick returns and consumes the pending site choice's nonce.
func takeJiraPick(c echo.Context) (string, bool) { return popSessionValue(c, keyJiraPick) }
