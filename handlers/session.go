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

const sessionCookieName = "privilege_session"

// sessionKey names a value in the session cookie. Values are stored under
// string(key) so gob needs no type registration.
type sessionKey string

const (
	keyUserID  sessionKey = "uid"
	keyAuthAt  sessionKey = "auth_at" // unix nanoseconds of sign-in (absolute expiry, revocation)
	keyNonce   sessionKey = "nonce"   // random per sign-in: a new cookie every time
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
	ctxCSRF      = "csrf" // set by Echo's CSRF middleware (ContextKey)
	routeRuleKey = "privilege.rule"
)

// session wraps the gorilla session of one request and saves it once, just
// before the answer's header is written, when something changed.
type session struct {
	s     *sessions.Session
	dirty bool
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
		gs, _ := h.sessions.New(c.Request(), sessionCookieName) // a bad cookie yields a fresh session
		sess := &session{s: gs}
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

func (h *handler) loadUser(c echo.Context, sess *session) error {
	uid, ok := sess.s.Values[string(keyUserID)].(int64)
	if !ok {
		return nil
	}
	authNanos, _ := sess.s.Values[string(keyAuthAt)].(int64)
	authAt := time.Unix(0, authNanos)
	if time.Since(authAt) > h.cfg.SessionMaxAge {
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
	setCurrentUser(c, &u)
	return nil
}

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

// startSession signs u in: every pre-sign-in value is dropped and a new
// nonce makes the cookie value new (session rotation).
func startSession(c echo.Context, u models.User) error {
	s := sessionOf(c)
	if s == nil {
		return errors.New("start session: no session on this route")
	}
	clearSession(s)
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	s.s.Values[string(keyUserID)] = u.ID
	s.s.Values[string(keyAuthAt)] = time.Now().UnixNano()
	s.s.Values[string(keyNonce)] = hex.EncodeToString(nonce)
	setCurrentUser(c, &u)
	return nil
}

// endSession signs out: every value is dropped. The cookie stays (it may
// carry the "signed out" flash) but no longer names a user.
func endSession(c echo.Context) {
	if s := sessionOf(c); s != nil {
		clearSession(s)
	}
	c.Set(ctxUser, nil)
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

// actor is who does what, for the audit log.
func actor(c echo.Context) models.Actor {
	a := models.Actor{IP: c.RealIP()}
	if u := currentUser(c); u != nil {
		a.UserID, a.Email = u.ID, u.Email
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
