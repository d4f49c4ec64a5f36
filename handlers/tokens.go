package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"privilege/models"
	"privilege/views"
)

const (
	tokensPerPage  = 50
	userChoicesMax = 200
)

type tokenForm struct {
	UserID string `form:"user_id"`
	Name   string `form:"name"`
}

func (h *handler) showTokens(c echo.Context) error {
	page, err := h.store.ListAPITokens(c.Request().Context(), 0, pageQuery(c, tokensPerPage))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Tokens(views.TokensPage{
		Meta: h.pageMeta(c, "API tokens", views.NavUsers), Tokens: page.Items, Pager: pagerFor(page, "/tokens", nil),
	}))
}

func (h *handler) showNewToken(c echo.Context) error {
	return h.renderTokenForm(c, http.StatusOK, views.TokenForm{})
}

// createToken shows the plaintext once, on the answer to the POST itself
// (never stored, so no redirect), with no-store caching.
func (h *handler) createToken(c echo.Context) error {
	var f tokenForm
	if err := c.Bind(&f); err != nil {
		return newAPIError(http.StatusBadRequest, codeBadRequest, "The form could not be read.")
	}
	form := views.TokenForm{UserID: f.UserID, Name: f.Name}
	uid, err := strconv.ParseInt(f.UserID, 10, 64)
	if err != nil || uid <= 0 {
		form.Errors = views.FormErrors{"user_id": "Choose the user the token acts as."}
		return h.renderTokenForm(c, http.StatusUnprocessableEntity, form)
	}
	plain, tok, err := h.store.CreateAPIToken(c.Request().Context(), actor(c), uid, f.Name)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		form.Errors = ve.Fields
		return h.renderTokenForm(c, http.StatusUnprocessableEntity, form)
	case errors.Is(err, models.ErrNotFound):
		form.Errors = views.FormErrors{"user_id": "This user no longer exists."}
		return h.renderTokenForm(c, http.StatusUnprocessableEntity, form)
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, views.TokenCreated(views.TokenCreatedPage{
		Meta: h.pageMeta(c, "Token created", views.NavUsers), Plaintext: plain, Token: tok,
	}))
}

func (h *handler) revokeToken(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.store.RevokeAPIToken(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Token revoked: it stops working now.", "/tokens")
}

func (h *handler) renderTokenForm(c echo.Context, status int, f views.TokenForm) error {
	users, err := h.store.ListUsers(c.Request().Context(), models.PageQuery{Page: 1, PerPage: userChoicesMax}, "")
	if err != nil {
		return err
	}
	f.Users = users.Items
	f.Meta = h.pageMeta(c, "New API token", views.NavUsers)
	return render(c, status, views.TokenNew(f))
}
