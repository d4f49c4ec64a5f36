package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

type setupForm struct {
	Email           string `form:"email"`
	Name            string `form:"name"`
	Password        string `form:"password"`
	ConfirmPassword string `form:"confirm_password"`
}

func (h *handler) showSetup(c echo.Context) error {
	return render(c, http.StatusOK, views.Setup(views.SetupPage{Meta: h.pageMeta(c, "Set up Privilege", views.NavNone)}))
}

// setup creates the first admin, then asks them to sign in.
func (h *handler) setup(c echo.Context) error {
	var f setupForm
	if err := c.Bind(&f); err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	in := models.NewUser{Email: f.Email, Name: f.Name, Password: f.Password, Role: models.RoleAdmin}
	fe := in.Validate()
	if f.Password != f.ConfirmPassword {
		fe.Add("confirm_password", "The passwords do not match.")
	}
	err := fe.Err()
	if err == nil {
		_, err = h.store.CreateFirstAdmin(c.Request().Context(), c.RealIP(), in)
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return render(c, http.StatusUnprocessableEntity, views.Setup(views.SetupPage{
			Meta: h.pageMeta(c, "Set up Privilege", views.NavNone), Email: f.Email, Name: f.Name, Errors: ve.Fields,
		}))
	case errors.Is(err, models.ErrSetupDone):
		h.setUp.Store(true)
		return redirectWithFlash(c, views.FlashInfo, "Setup was already done. Sign in.", paths.Login)
	case err != nil:
		return err
	}
	h.setUp.Store(true)
	return redirectWithFlash(c, views.FlashSuccess, "Admin created. Sign in with your new account.", paths.Login)
}
