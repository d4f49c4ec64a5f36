package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

// apiRequest is the JSON shape of an access request (OpenAPI: Request).
type apiRequest struct {
	ID              int64             `json:"id"`
	Status          string            `json:"status"`
	Requester       apiUserRef        `json:"requester"`
	Account         apiRequestAccount `json:"account"`
	Resources       []apiRequestedRes `json:"resources"`
	DurationMinutes int               `json:"duration_minutes"`
	Justification   string            `json:"justification"`
	DecidedBy       *apiUserRef       `json:"decided_by"`
	DecidedAt       *time.Time        `json:"decided_at"`
	DecisionReason  string            `json:"decision_reason"`
	PendingUntil    time.Time         `json:"pending_until"`
	AccessEndsAt    *time.Time        `json:"access_ends_at"`
	CreatedAt       time.Time         `json:"created_at"`
	ApprovalURL     string            `json:"approval_url"`
	Jira            apiJiraLink       `json:"jira"`
	Events          []apiRequestEvent `json:"events"`
}

type apiUserRef struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

type apiRequestAccount struct {
	ID         int64  `json:"id"`
	Provider   string `json:"provider"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
}

type apiRequestedRes struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type apiJiraLink struct {
	IssueKey  string `json:"issue_key"`
	IssueURL  string `json:"issue_url"`
	SyncState string `json:"sync_state"`
	LastError string `json:"last_error"`
}

type apiRequestEvent struct {
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// createRequestBody is the body of POST /api/v1/requests (OpenAPI:
// RequestInput).
type createRequestBody struct {
	AccountID       int64    `json:"account_id"`
	Resources       []string `json:"resources"`
	DurationMinutes int      `json:"duration_minutes"`
	Justification   string   `json:"justification"`
}

func (b createRequestBody) toModel() models.NewRequest {
	return models.NewRequest{AccountID: b.AccountID, Resources: b.Resources, DurationMinutes: b.DurationMinutes, Justification: b.Justification}
}

// apiReason is the body of approve, deny and cancel.
type apiReason struct {
	Reason string `json:"reason"`
}

// toAPIRequest is r as viewer may see it (Jira's error detail is for admins).
func (h *handler) toAPIRequest(r models.AccessRequest, viewer models.User) apiRequest {
	out := apiRequest{ID: r.ID, Status: string(r.Status), Requester: apiUserRef{r.Requester.ID, r.Requester.Email},
		Account:   apiRequestAccount{r.Account.ID, string(r.Account.Provider), r.Account.ExternalID, r.Account.Name},
		Resources: []apiRequestedRes{}, DurationMinutes: r.DurationMinutes, Justification: r.Justification,
		DecidedAt: r.DecidedAt, DecisionReason: r.DecisionReason, PendingUntil: r.PendingUntil, AccessEndsAt: r.AccessEndsAt,
		CreatedAt: r.CreatedAt, ApprovalURL: paths.RequestURL(h.cfg.BaseURL.String(), r.ID), Events: []apiRequestEvent{},
		Jira: apiJiraLink{SyncState: string(r.SyncState())}}
	for _, x := range r.Resources {
		out.Resources = append(out.Resources, apiRequestedRes{x.Name, x.Kind})
	}
	if r.DecidedBy != nil {
		out.DecidedBy = &apiUserRef{r.DecidedBy.ID, r.DecidedBy.Email}
	}
	if r.Issue != nil {
		out.Jira.IssueKey, out.Jira.IssueURL = r.Issue.IssueKey, r.Issue.IssueURL
		out.Jira.LastError = views.SyncErrorFor(*r.Issue, viewer)
	}
	for _, ev := range r.Events {
		out.Events = append(out.Events, apiRequestEvent{string(ev.Kind), ev.ActorEmail, ev.Reason, ev.At})
	}
	return out
}

// apiRequestFor loads the :id request for the token's user. A requester
// asking for someone else's request gets 404, so ids do not reveal which
// requests exist.
func (h *handler) apiRequestFor(c echo.Context) (models.AccessRequest, error) {
	id, err := idParam(c)
	if err != nil {
		return models.AccessRequest{}, err
	}
	r, err := h.store.Request(c.Request().Context(), id)
	if err == nil && !canView(currentUser(c), r) {
		err = models.ErrNotFound
	}
	return r, err
}

// apiCreateRequest: POST /api/v1/requests.
func (h *handler) apiCreateRequest(c echo.Context) error {
	var body createRequestBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	r, err := h.store.CreateRequest(c.Request().Context(), *currentUser(c), body.toModel(), h.pendingFor())
	var rl *models.RateLimitError
	if errors.As(err, &rl) {
		return newProblem(codeRateLimited, rateLimitMessage(c, rl))
	}
	if err != nil {
		return err // *ValidationError → 422 with fields
	}
	return c.JSON(http.StatusCreated, h.toAPIRequest(r, *currentUser(c)))
}

// apiGetRequest: GET /api/v1/requests/:id.
func (h *handler) apiGetRequest(c echo.Context) error {
	r, err := h.apiRequestFor(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toAPIRequest(r, *currentUser(c)))
}

func (h *handler) apiApproveRequest(c echo.Context) error {
	return h.apiDecide(c, models.DecisionApprove)
}

func (h *handler) apiDenyRequest(c echo.Context) error { return h.apiDecide(c, models.DecisionDeny) }

// apiDecide: POST /api/v1/requests/:id/approve|deny (approvers, admins; never
// the requester: 403 self_approval). A second decision is 409.
func (h *handler) apiDecide(c echo.Context, d models.Decision) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var body apiReason
	if err := decodeOptionalJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.store.DecideWithToken(ctx, *currentToken(c), id, d, body.Reason)
	if errors.Is(err, models.ErrAlreadyDecided) {
		msg, err := h.decidedMessage(ctx, id)
		if err != nil {
			return err
		}
		return newProblem(codeAlreadyDecided, msg)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toAPIRequest(r, *currentUser(c)))
}

// apiCancelRequest: POST /api/v1/requests/:id/cancel (the requester).
func (h *handler) apiCancelRequest(c echo.Context) error {
	r, err := h.apiRequestFor(c)
	if err != nil {
		return err
	}
	var body apiReason
	if err := decodeOptionalJSON(c, &body); err != nil {
		return err
	}
	r, err = h.store.Cancel(c.Request().Context(), *currentUser(c), r.ID, body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toAPIRequest(r, *currentUser(c)))
}

// decodeOptionalJSON is decodeJSON for bodies that may be left out.
func decodeOptionalJSON(c echo.Context, dst any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, dst)
}
