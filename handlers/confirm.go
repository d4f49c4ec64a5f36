package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

// Destructive actions are confirmed on a page of their own, as Disconnect
// is: the GET shows what will happen, the POST of the same path does it.

// showCancelConfirm confirms cancelling a pending request (its requester).
func (h *handler) showCancelConfirm(c echo.Context) error {
	r, err := h.viewableRequest(c)
	if err != nil {
		return err
	}
	if r.RequesterID != currentUser(c).ID {
		return models.ErrNotRequester
	}
	if r.Status != models.RequestPending {
		return redirectWithFlash(c, views.FlashError, "Only a pending request can be cancelled.", paths.Request(r.ID))
	}
	return render(c, http.StatusOK, views.Confirm(views.ConfirmPage{
		Meta: h.pageMeta(c, fmt.Sprintf("Cancel request #%d", r.ID), views.NavRequests), Title: fmt.Sprintf("Cancel request #%d?", r.ID),
		Consequences: []string{"Approvers can no longer approve it; ask again later if you still need access.",
			"Its Jira task is closed with a comment that you cancelled it."},
		Action: paths.RequestCancel(r.ID), Button: "Cancel request", Back: paths.Request(r.ID), BackLabel: "Keep it",
	}))
}

// showRevokeConfirm confirms revoking approved access (admins).
func (h *handler) showRevokeConfirm(c echo.Context) error {
	r, err := h.viewableRequest(c)
	if err != nil {
		return err
	}
	if r.Status != models.RequestApproved {
		return redirectWithFlash(c, views.FlashError, "Only approved access can be revoked.", paths.Request(r.ID))
	}
	return render(c, http.StatusOK, views.Confirm(h.revokePage(c, r, "", nil)))
}

func (h *handler) revokePage(c echo.Context, r models.AccessRequest, reason string, fe views.FormErrors) views.ConfirmPage {
	return views.ConfirmPage{
		Meta: h.pageMeta(c, fmt.Sprintf("Revoke request #%d", r.ID), views.NavRequests), Title: fmt.Sprintf("Revoke the access of request #%d?", r.ID),
		Consequences: []string{fmt.Sprintf("%s loses %s on %s now, before the approved time ends.", r.Requester.Email, joinNames(r.ResourceNames()), r.Account.Name),
			"The reason is recorded and added to the Jira task."},
		Action: paths.RequestRevoke(r.ID), Button: "Revoke access", Back: paths.Request(r.ID), BackLabel: "Keep access",
		ReasonName: "revoke_reason", ReasonLabel: "Reason for revoking", ReasonRequired: true, Reason: reason, Errors: fe,
	}
}

// showUnlinkConfirm confirms unlinking a project (admins).
func (h *handler) showUnlinkConfirm(c echo.Context) error {
	in, key, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	if link.ID == 0 {
		return redirectWithFlash(c, views.FlashInfo, key+" was not linked.", paths.Integration(in.ID))
	}
	names := make([]string, 0, len(link.Accounts))
	for _, a := range link.Accounts {
		names = append(names, a.Name)
	}
	back := paths.ProjectLink(in.ID, key)
	return render(c, http.StatusOK, views.Confirm(views.ConfirmPage{
		Meta: h.pageMeta(c, "Unlink "+key, views.NavIntegrations), Title: fmt.Sprintf("Unlink %s (%s) from %s?", key, link.ProjectName, in.Name),
		Consequences: []string{fmt.Sprintf("%d account(s) stop being tracked in Jira: %s. Their new requests get no Jira task.", len(names), joinNames(names)),
			"Tasks already in Jira stay, and are no longer updated.", "You can link the project again at any time."},
		Action: paths.ProjectLinkUnlink(in.ID, key), Button: "Unlink project", Back: back, BackLabel: "Keep it linked",
	}))
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := names[0]
	for _, n := range names[1:] {
		out += ", " + n
	}
	return out
}
