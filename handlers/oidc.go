package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/sso"
	"privilege/views"
)

// LocalLogin says who may sign in with a local password (PRIVILEGE_LOCAL_LOGIN).
type LocalLogin string

const (
	LocalLoginAll    LocalLogin = "all"    // everyone with a password (the default without single sign-on)
	LocalLoginAdmins LocalLogin = "admins" // break-glass admins only (the default with single sign-on)
	LocalLoginOff    LocalLogin = "off"    // nobody: the password form is gone
)

// Valid reports whether l is a known mode.
func (l LocalLogin) Valid() bool {
	return l == LocalLoginAll || l == LocalLoginAdmins || l == LocalLoginOff
}

// maxHintBytes bounds the ID token kept in the session cookie for
// RP-initiated logout: cookies hold about 4 KB and the token grows by about
// 1.8× once sealed. A larger token is not kept; logout then sends client_id.
const maxHintBytes = 1200

// startOIDC sends the browser to the provider. It is a GET link, not a form:
// Chrome applies the CSP's form-action to the redirects after a form POST,
// and the provider may redirect further (federation). Starting a sign-in
// needs no CSRF check: the flow (state, nonce, PKCE verifier, next) is bound
// to this browser's pre-login session, and only that browser can finish it.
func (h *handler) startOIDC(c echo.Context) error {
	if h.deps.SSO == nil {
		return echo.ErrNotFound
	}
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	f, authURL, err := h.deps.SSO.Start(c.Request().Context(), safeNext(c.QueryParam("next")))
	if err != nil {
		return h.ssoRefused(c, err, models.Actor{IP: c.RealIP()}, safeNext(c.QueryParam("next")))
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("store oidc flow: %w", err)
	}
	setSessionValue(c, keyOIDCFlow, string(b))
	return c.Redirect(http.StatusSeeOther, authURL)
}

// finishOIDC is the redirect URI: it consumes the flow (a state works once),
// lets the sso package verify everything, then signs the user in.
func (h *handler) finishOIDC(c echo.Context) error {
	if h.deps.SSO == nil {
		return echo.ErrNotFound
	}
	var f sso.Flow
	if raw, ok := popSessionValue(c, keyOIDCFlow); ok {
		_ = json.Unmarshal([]byte(raw), &f) // a malformed flow has no state and is refused
	}
	ctx := c.Request().Context()
	id, err := h.deps.SSO.Finish(ctx, f, c.QueryParams())
	if err != nil {
		return h.ssoRefused(c, err, models.Actor{IP: c.RealIP()}, f.Next)
	}
	u, err := h.store.SignInWithOIDC(ctx, c.RealIP(), id.OIDCIdentity)
	switch {
	case errors.Is(err, models.ErrUserDisabled):
		return h.ssoRefused(c, &sso.Error{Reason: sso.ReasonNoRole, Message: "Your Privilege account (" + id.Email + ") is disabled. Ask an admin to enable it", Err: err},
			models.Actor{Email: id.Email, IP: c.RealIP()}, f.Next)
	case errors.Is(err, models.ErrIdentityConflict):
		return h.ssoRefused(c, &sso.Error{Reason: sso.ReasonNoRole, Message: "The Privilege user " + id.Email + " is already linked to another sign-in identity. Ask an admin", Err: err},
			models.Actor{Email: id.Email, IP: c.RealIP()}, f.Next)
	case err != nil:
		return err
	}
	if err := startSession(c, u); err != nil {
		return err
	}
	hint := id.IDToken
	if len(hint) > maxHintBytes {
		hint = ""
	}
	setSessionValue(c, keyOIDCHint, hint)
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

// ssoRefused shows the sign-in page with what went wrong, audits the refusal
// and logs the technical detail.
func (h *handler) ssoRefused(c echo.Context, err error, a models.Actor, next string) error {
	var se *sso.Error
	if !errors.As(err, &se) {
		return err
	}
	status := http.StatusForbidden
	switch se.Reason {
	case sso.ReasonState, sso.ReasonBadCallback, sso.ReasonProvider, sso.ReasonIssuerMixup:
		status = http.StatusBadRequest
	case sso.ReasonUnavailable:
		status = http.StatusBadGateway
	case sso.ReasonToken, sso.ReasonUserinfoMismatch, sso.ReasonMissingClaim:
		status = http.StatusUnauthorized
	}
	h.log.WarnContext(c.Request().Context(), "single sign-on refused", "request_id", requestID(c), "status", status, "error", err)
	if err := h.store.RecordAudit(c.Request().Context(), a, models.AuditSignInFailed, "", 0, "single sign-on: "+se.Message); err != nil {
		return err
	}
	return render(c, status, views.Login(h.loginPage(c, views.LoginPage{Next: safeNext(next), Message: se.Message + "."})))
}

// loginPage fills the sign-in options of the login page.
func (h *handler) loginPage(c echo.Context, p views.LoginPage) views.LoginPage {
	p.Meta = h.pageMeta(c, "Sign in", views.NavNone)
	if h.deps.SSO != nil {
		p.SSOName = h.deps.SSO.Name()
	}
	p.PasswordForm = h.cfg.LocalLogin != LocalLoginOff
	p.AdminsOnly = h.cfg.LocalLogin == LocalLoginAdmins
	return p
}

// localLoginRefusal says why a password sign-in is not allowed for u
// ("" when it is).
func (h *handler) localLoginRefusal(u *models.User) string {
	switch h.cfg.LocalLogin {
	case LocalLoginOff:
		return "Password sign-in is turned off. " + h.ssoHint()
	case LocalLoginAdmins:
		if u != nil && u.Role != models.RoleAdmin {
			return "Password sign-in is reserved for administrators. " + h.ssoHint()
		}
	}
	return ""
}

func (h *handler) ssoHint() string {
	if h.deps.SSO == nil {
		return "Ask an admin."
	}
	return "Use “Sign in with " + h.deps.SSO.Name() + "”."
}

// ssoLogoutURL is where a signed-out single sign-on session continues: the
// provider's end_session_endpoint, when its discovery offers one. It must be
// read before the session is cleared.
func (h *handler) ssoLogoutURL(c echo.Context) (string, bool) {
	hint, ok := sessionValue(c, keyOIDCHint)
	if !ok || h.deps.SSO == nil {
		return "", false
	}
	return h.deps.SSO.LogoutURL(c.Request().Context(), hint, paths.Absolute(h.cfg.BaseURL.String(), paths.Login))
}

// continueSignOut is the page that takes a browser signed out here to the
// provider's end-session endpoint: a meta refresh and a link, because the
// sign-out form's POST may not redirect to another origin (CSP form-action).
// The "signed out" flash stays queued for the login page it comes back to.
func (h *handler) continueSignOut(c echo.Context, to string) error {
	meta := views.PageMeta{Title: "Signing out", RequestID: requestID(c), AssetVersion: h.assetVer}
	return render(c, http.StatusOK, views.ProviderSignOut(views.ProviderSignOutPage{Meta: meta, URL: to, Name: h.deps.SSO.Name()}))
}
