package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

const tokensPerPage = 50

type tokenForm struct {
	Name string `form:"name"`
}

// tokenOwnerFilter: admins see and revoke every token, everyone else only
// their own (0 means every user).
func tokenOwnerFilter(c echo.Context) int64 {
	if u := currentUser(c); u.Role != models.RoleAdmin {
		return u.ID
	}
	return 0
}

// showTokens lists the signed-in user's tokens (an admin's list has everyone's).
func (h *handler) showTokens(c echo.Context) error {
	page, err := h.store.ListAPITokens(c.Request().Context(), tokenOwnerFilter(c), pageQuery(c, tokensPerPage))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Tokens(views.TokensPage{
		Meta: h.pageMeta(c, "API tokens", views.NavTokens), Tokens: page.Items, Pager: pagerFor(page, paths.Tokens, nil),
	}))
}

func (h *handler) showNewToken(c echo.Context) error {
	return h.renderTokenForm(c, http.StatusOK, views.TokenForm{})
}

// createToken makes a token for the signed-in user (nobody mints one for
// someone else: a token acts as its user, so that would let its minter act
// as them). The plaintext is shown once, on the answer to the POST itself
// (never stored, so no redirect), with no-store caching.
func (h *handler) createToken(c echo.Context) error {
	var f tokenForm
	if err := c.Bind(&f); err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	form := views.TokenForm{Name: f.Name}
	plain, tok, err := h.store.CreateAPIToken(c.Request().Context(), actor(c), currentUser(c).ID, f.Name)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		form.Errors = ve.Fields
		return h.renderTokenForm(c, http.StatusUnprocessableEntity, form)
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, views.TokenCreated(views.TokenCreatedPage{
		Meta: h.pageMeta(c, "Token created", views.NavTokens), Plaintext: plain, Token: tok,
	}))
}

func (h *handler) revokeToken(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.store.RevokeAPIToken(c.Request().Context(), actor(c), id, tokenOwnerFilter(c)); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Token revoked: it stops working now.", paths.Tokens)
}

func (h *handler) renderTokenForm(c echo.Context, status int, f views.TokenForm) error {
	f.Meta = h.pageMeta(c, "New API token", views.NavTokens)
	return render(c, status, views.TokenNew(f))
}
