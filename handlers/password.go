package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

type passwordForm struct {
	Current string `form:"current_password"`
	New     string `form:"new_password"`
	Confirm string `form:"confirm_password"`
}

func (h *handler) passwordPage(c echo.Context, errs views.FormErrors) views.PasswordPage {
	p := views.PasswordPage{Meta: h.pageMeta(c, "Password", views.NavNone), Errors: errs}
	if u := currentUser(c); u != nil {
		p.HasPassword = u.HasPassword()
	}
	if h.deps.SSO != nil {
		p.SSOName = h.deps.SSO.Name()
	}
	return p
}

// showPassword is the password change form of a local user.
func (h *handler) showPassword(c echo.Context) error {
	return render(c, http.StatusOK, views.Password(h.passwordPage(c, nil)))
}

// changePassword checks the current password, sets the new one, ends every
// other session of the user and starts a fresh one for this browser.
func (h *handler) changePassword(c echo.Context) error {
	var f passwordForm
	if err := c.Bind(&f); err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	u := *currentUser(c)
	_, err := h.store.ChangePassword(c.Request().Context(), actor(c), models.PasswordChange{Current: f.Current, New: f.New, Confirm: f.Confirm})
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return render(c, http.StatusUnprocessableEntity, views.Password(h.passwordPage(c, ve.Fields)))
	case err != nil:
		return err
	}
	hint, sso := sessionValue(c, keyOIDCHint)
	if err := startSession(c, u); err != nil {
		return err
	}
	if sso {
		setSessionValue(c, keyOIDCHint, hint)
	}
	return redirectWithFlash(c, views.FlashSuccess, "Password changed. Every other session of yours has ended.", paths.Password)
}
