package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/models"
	"privilege/views"
)

type loginForm struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

// home sends people to the screen they use most.
func (h *handler) home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/requests")
}

func (h *handler) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, views.Login(h.loginPage(c, views.LoginPage{Next: safeNext(c.QueryParam("next"))})))
}

// login checks the password, rotates the session and audits the attempt.
// Attempts are rate-limited per client IP.
func (h *handler) login(c echo.Context) error {
	var f loginForm
	if err := c.Bind(&f); err != nil {
		return newAPIError(http.StatusBadRequest, codeBadRequest, "The form could not be read.")
	}
	ctx := c.Request().Context()
	if msg := h.localLoginRefusal(nil); msg != "" { // PRIVILEGE_LOCAL_LOGIN=off
		return render(c, http.StatusForbidden, views.Login(h.loginPage(c, views.LoginPage{Next: safeNext(f.Next), Message: msg})))
	}
	if !h.limiter.allow(c.RealIP()) {
		return newAPIError(http.StatusTooManyRequests, codeRateLimited,
			"Too many sign-in attempts from your network. Wait a minute, then try again.")
	}
	u, err := h.store.Authenticate(ctx, f.Email, f.Password)
	if errors.Is(err, models.ErrInvalidLogin) {
		a := models.Actor{Email: models.NormalizeEmail(f.Email), IP: c.RealIP()}
		if err := h.store.RecordAudit(ctx, a, models.AuditSignInFailed, "", 0, ""); err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, views.Login(h.loginPage(c, views.LoginPage{
			Email: f.Email, Next: safeNext(f.Next),
			Message: "Wrong email or password, or the account is disabled.",
		})))
	}
	if err != nil {
		return err
	}
	if msg := h.localLoginRefusal(&u); msg != "" { // PRIVILEGE_LOCAL_LOGIN=admins
		a := models.Actor{UserID: u.ID, Email: u.Email, IP: c.RealIP()}
		if err := h.store.RecordAudit(ctx, a, models.AuditSignInFailed, "user", u.ID, "password sign-in is for admins only"); err != nil {
			return err
		}
		return render(c, http.StatusForbidden, views.Login(h.loginPage(c, views.LoginPage{Email: f.Email, Next: safeNext(f.Next), Message: msg})))
	}
	if err := startSession(c, u); err != nil {
		return err
	}
	if err := h.store.RecordPasswordSignIn(ctx, actor(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (h *handler) logout(c echo.Context) error {
	a := actor(c)
	providerLogout, viaProvider := h.ssoLogoutURL(c) // read before the session is cleared
	endSession(c)
	if err := h.store.SignOut(c.Request().Context(), a); err != nil {
		return err
	}
	addFlash(c, views.FlashInfo, "You are signed out.")
	if viaProvider {
		return h.continueSignOut(c, providerLogout)
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
