package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/models"
)

// apiAccount is the JSON shape of an account (OpenAPI: Account).
type apiAccount struct {
	ID                 int64         `json:"id"`
	Provider           string        `json:"provider"`
	ExternalID         string        `json:"external_id"`
	Name               string        `json:"name"`
	MaxDurationMinutes int           `json:"max_duration_minutes"`
	Resources          []apiResource `json:"resources"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
}

type apiResource struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// createAccountBody is the body of POST /api/v1/accounts (OpenAPI:
// AccountInput). Provider keeps the model's type, so a wrong JSON type is
// reported as before.
type createAccountBody struct {
	Provider           models.Provider `json:"provider"`
	ExternalID         string          `json:"external_id"`
	Name               string          `json:"name"`
	MaxDurationMinutes int             `json:"max_duration_minutes"`
	Resources          []resourceBody  `json:"resources"`
}

// resourceBody is one resource of a createAccountBody (OpenAPI: ResourceInput).
type resourceBody struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func (b createAccountBody) toModel() models.AccountInput {
	in := models.AccountInput{Provider: b.Provider, ExternalID: b.ExternalID, Name: b.Name, MaxDurationMinutes: b.MaxDurationMinutes}
	if b.Resources != nil {
		in.Resources = make([]models.ResourceInput, len(b.Resources))
		for i, r := range b.Resources {
			in.Resources[i] = models.ResourceInput{Name: r.Name, Kind: r.Kind}
		}
	}
	return in
}

// apiList is the JSON shape of every paginated list.
type apiList[T any] struct {
	Items   []T   `json:"items"`
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
}

func toAPIAccount(a models.CloudAccount) apiAccount {
	out := apiAccount{ID: a.ID, Provider: string(a.Provider), ExternalID: a.ExternalID, Name: a.Name,
		MaxDurationMinutes: a.MaxDurationMinutes, Resources: []apiResource{}, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	for _, r := range a.Resources {
		out.Resources = append(out.Resources, apiResource{ID: r.ID, Name: r.Name, Kind: r.Kind})
	}
	return out
}

// apiListAccounts: GET /api/v1/accounts?page=&per_page=&q=
func (h *handler) apiListAccounts(c echo.Context) error {
	q := pageQuery(c, accountsPerPage)
	if err := echo.QueryParamsBinder(c).Int("per_page", &q.PerPage).BindError(); err != nil {
		return badJSON("per_page must be a number.", map[string]string{"per_page": "must be a number"})
	}
	page, err := h.store.ListAccounts(c.Request().Context(), models.AccountQuery{PageQuery: q, Search: c.QueryParam("q")})
	if err != nil {
		return err
	}
	out := apiList[apiAccount]{Items: make([]apiAccount, 0, len(page.Items)), Total: page.Total, Page: page.Page, PerPage: page.PerPage}
	for _, a := range page.Items {
		out.Items = append(out.Items, toAPIAccount(a))
	}
	return c.JSON(http.StatusOK, out)
}

// apiCreateAccount: POST /api/v1/accounts (admin).
func (h *handler) apiCreateAccount(c echo.Context) error {
	var body createAccountBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	acc, err := h.store.CreateAccount(c.Request().Context(), actor(c), body.toModel())
	if err != nil {
		return err // *ValidationError → 422 with fields
	}
	return c.JSON(http.StatusCreated, toAPIAccount(acc))
}
