package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
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
	return c.Redirect(http.StatusSeeOther, paths.Requests)
}

func (h *handler) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, paths.Home)
	}
	return render(c, http.StatusOK, views.Login(h.loginPage(c, views.LoginPage{Next: safeNext(c.QueryParam("next"))})))
}

// login checks the password, rotates the session and audits the attempt.
// Failed attempts are throttled per account and per client address (see
// models.SignInPolicy); password checks run a bounded number at a time.
func (h *handler) login(c echo.Context) error {
	var f loginForm
	if err := c.Bind(&f); err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	ctx := c.Request().Context()
	if msg := h.localLoginRefusal(nil); msg != "" { // PRIVILEGE_LOCAL_LOGIN=off
		return render(c, http.StatusForbidden, views.Login(h.loginPage(c, views.LoginPage{Next: safeNext(f.Next), Message: msg})))
	}
	address := models.AddressKey(c.RealIP())
	var wait time.Duration
	if !h.knownDevice(c, f.Email) {
		var err error
		if wait, err = h.store.SignInWait(ctx, f.Email, address); err != nil {
			return err
		}
	}
	if wait > 0 {
		return h.loginRefused(c, f, http.StatusTooManyRequests, wait, fmt.Sprintf(
			"Too many failed sign-ins for this account or from your network. Try again in %s.", roundWait(wait)))
	}
	release, ok := h.hashGate.acquire(ctx)
	if !ok {
		return h.loginRefused(c, f, http.StatusServiceUnavailable, time.Second,
			"Privilege is busy checking other sign-ins. Try again in a moment.")
	}
	u, err := h.store.Authenticate(ctx, f.Email, f.Password)
	release()
	if errors.Is(err, models.ErrInvalidLogin) {
		a := models.Actor{Email: models.NormalizeEmail(f.Email), IP: c.RealIP()}
		if err := h.store.RecordSignInFailure(ctx, f.Email, address); err != nil {
			return err
		}
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
	if err := h.store.RecordSignInSuccess(ctx, u.Email); err != nil {
		return err
	}
	if err := h.rememberDevice(c, u.Email); err != nil {
		return err
	}
	if err := startSession(c, u); err != nil {
		return err
	}
	if err := h.store.RecordPasswordSignIn(ctx, actor(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

// loginRefused re-renders the sign-in form with a message and Retry-After.
func (h *handler) loginRefused(c echo.Context, f loginForm, status int, retry time.Duration, msg string) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(retry.Round(time.Second), time.Second)/time.Second)))
	return render(c, status, views.Login(h.loginPage(c, views.LoginPage{Email: f.Email, Next: safeNext(f.Next), Message: msg})))
}

// roundWait says a wait in words: "40 seconds", "3 minutes".
func roundWait(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d seconds", int(max(d.Round(time.Second), time.Second)/time.Second))
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
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
	return c.Redirect(http.StatusSeeOther, paths.Login)
}
