package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

const usersPerPage = 50

type userForm struct {
	Email    string `form:"email"`
	Name     string `form:"name"`
	Role     string `form:"role"`
	Password string `form:"password"`
}

func (h *handler) showUsers(c echo.Context) error {
	sort := c.QueryParam("sort")
	page, err := h.store.ListUsers(c.Request().Context(), pageQuery(c, usersPerPage), models.Sort(sort))
	if err != nil {
		return err
	}
	links, err := h.userJiraLinks(c, page.Items)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Users(views.UsersPage{
		Meta: h.pageMeta(c, "Users", views.NavUsers), Users: page.Items, JiraLinks: links, Pager: pagerFor(page, paths.Users, url.Values{"sort": {sort}}),
		Sort: views.SortState{Path: paths.Users, Current: sort, Default: "email"},
	}))
}

// userJiraLinks are the listed users' linked Jira accounts (design.md §8).
func (h *handler) userJiraLinks(c echo.Context, users []models.User) (map[int64][]views.UserJiraLink, error) {
	ctx := c.Request().Context()
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	byUser, err := h.store.JiraIdentitiesOfUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	ins, err := h.store.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, in := range ins {
		names[in.ID] = in.Name
	}
	out := map[int64][]views.UserJiraLink{}
	for uid, list := range byUser {
		for _, l := range list {
			jid := l.AccountID
			if l.Name != "" {
				jid = l.Name
			}
			out[uid] = append(out[uid], views.UserJiraLink{ID: l.ID, UserID: uid, Integration: names[l.IntegrationID], DisplayName: l.DisplayName, JiraID: jid})
		}
	}
	return out, nil
}

func (h *handler) showNewUser(c echo.Context) error {
	return render(c, http.StatusOK, views.UserNew(views.UserForm{
		Meta: h.pageMeta(c, "New user", views.NavUsers), Role: string(models.RoleRequester),
	}))
}

func (h *handler) createUser(c echo.Context) error {
	var f userForm
	if err := c.Bind(&f); err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	in := models.NewUser{Email: f.Email, Name: f.Name, Role: models.Role(f.Role), Password: f.Password}
	u, err := h.store.CreateUser(c.Request().Context(), actor(c), in)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return render(c, http.StatusUnprocessableEntity, views.UserNew(views.UserForm{
			Meta: h.pageMeta(c, "New user", views.NavUsers), Email: f.Email, Name: f.Name, Role: f.Role, Errors: ve.Fields,
		}))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "User "+u.Email+" created as "+string(u.Role)+".", paths.Users)
}

func (h *handler) disableUser(c echo.Context) error { return h.setUserDisabled(c, true) }

func (h *handler) enableUser(c echo.Context) error { return h.setUserDisabled(c, false) }

func (h *handler) setUserDisabled(c echo.Context, disabled bool) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	err = h.store.SetUserDisabled(c.Request().Context(), actor(c), id, disabled)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return redirectWithFlash(c, views.FlashError, ve.Fields["user"], paths.Users)
	}
	if err != nil {
		return err
	}
	msg := "User enabled: they can sign in again (old sessions and API tokens stay revoked)."
	if disabled {
		msg = "User disabled: their sessions ended and their API tokens are revoked for good."
	}
	return redirectWithFlash(c, views.FlashSuccess, msg, paths.Users)
}
