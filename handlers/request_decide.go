package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

// decidedMessage names who decided a request that someone else just tried
// to decide.
func (h *handler) decidedMessage(ctx context.Context, id int64) (string, error) {
	r, err := h.store.Request(ctx, id)
	if err != nil {
		return "", err
	}
	by := "someone else"
	if r.DecidedBy != nil {
		by = r.DecidedBy.Email
	}
	return fmt.Sprintf("Request #%d was already decided by %s (%s).", id, by, r.Status), nil
}

// decideRequest approves or denies (the two buttons of one form).
func (h *handler) decideRequest(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	d := models.Decision(c.FormValue("decision"))
	if d != models.DecisionApprove && d != models.DecisionDeny {
		return newProblem(codeBadRequest, "Choose Approve or Deny.")
	}
	ctx, reason := c.Request().Context(), c.FormValue("reason")
	fromQueue := c.FormValue("from") == "queue" // the inline form of the queue
	_, err = h.store.Decide(ctx, *currentUser(c), id, d, reason)
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrAlreadyDecided):
		msg, err := h.decidedMessage(ctx, id)
		if err != nil {
			return err
		}
		return redirectWithFlash(c, views.FlashError, msg, paths.Request(id))
	case errors.As(err, &ve) && fromQueue:
		p, err := h.requestsIndex(c)
		if err != nil {
			return err
		}
		p.DecideID, p.DecideReason, p.DecideError = id, reason, ve.Fields["reason"]
		return render(c, http.StatusUnprocessableEntity, views.RequestsIndex(p))
	case errors.As(err, &ve):
		return h.requestPageAgain(c, id, reason, views.FormErrors(ve.Fields))
	case err != nil:
		return err
	}
	verb := map[models.Decision]string{models.DecisionApprove: "approved", models.DecisionDeny: "denied"}[d]
	msg := fmt.Sprintf("Request #%d %s. The Jira task follows shortly.", id, verb)
	if fromQueue {
		return redirectWithFlash(c, views.FlashSuccess, msg, paths.Requests)
	}
	return redirectWithFlash(c, views.FlashSuccess, msg, paths.Request(id))
}

// requestPageAgain re-renders the approval page with 422 and the typed reason.
func (h *handler) requestPageAgain(c echo.Context, id int64, reason string, fe views.FormErrors) error {
	r, err := h.store.Request(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p, err := h.requestDetailPage(c, r)
	if err != nil {
		return err
	}
	p.Reason, p.Errors = reason, fe
	return render(c, http.StatusUnprocessableEntity, views.RequestDetail(p))
}

// cancelRequest withdraws a pending request (its requester only).
func (h *handler) cancelRequest(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	_, err = h.store.Cancel(c.Request().Context(), *currentUser(c), id, c.FormValue("reason"))
	if errors.Is(err, models.ErrNotCancellable) {
		return redirectWithFlash(c, views.FlashError, "Only a pending request can be cancelled.", paths.Request(id))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, fmt.Sprintf("Request #%d cancelled.", id), paths.Request(id))
}

// revokeRequest ends approved access early (admins).
func (h *handler) revokeRequest(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	reason := c.FormValue("revoke_reason")
	_, err = h.store.Revoke(c.Request().Context(), *currentUser(c), id, reason)
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrNotRevocable):
		return redirectWithFlash(c, views.FlashError, "Only approved access can be revoked.", paths.Request(id))
	case errors.As(err, &ve):
		r, err := h.store.Request(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, views.Confirm(h.revokePage(c, r, reason, views.FormErrors{"revoke_reason": ve.Fields["reason"]})))
	case err != nil:
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, fmt.Sprintf("Access of request #%d revoked.", id), paths.Request(id))
}

// retryRequestSync re-queues a failed or parked Jira sync (admins).
func (h *handler) retryRequestSync(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	err = h.store.RetryRequestSync(c.Request().Context(), actor(c), id)
	if errors.Is(err, models.ErrConflict) {
		return redirectWithFlash(c, views.FlashInfo, "The Jira sync of this request has not failed; nothing to retry.", paths.Request(id))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Jira sync queued again.", paths.Request(id))
}
