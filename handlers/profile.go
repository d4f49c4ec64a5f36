package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// People in Jira (design.md §8): each user links their own Jira account per
// integration by consenting in Jira as themselves:
//
//	GET  /profile                          the user's Jira accounts, one row per integration
//	POST /profile/jira/:id/link            start: state (+ PKCE) in the session, hand off to Jira
//	GET  /integrations/jira/callback       (shared) state check, code → /me or /myself → link
//	POST /profile/jira-links/:id/unlink    the user removes their own link
//	POST /users/:id/jira-links/:link/remove  an admin removes anyone's
//
// The consent's tokens are used once to ask Jira who consented and then
// dropped; only the identity is stored.

func (h *handler) showProfile(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	ins, err := h.store.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	links, err := h.store.JiraIdentitiesOfUsers(ctx, []int64{u.ID})
	if err != nil {
		return err
	}
	byIntegration := map[int64]models.JiraIdentity{}
	for _, l := range links[u.ID] {
		byIntegration[l.IntegrationID] = l
	}
	page := views.ProfilePage{Meta: h.pageMeta(c, "Your profile", views.NavNone)}
	for _, in := range ins {
		row := views.JiraLinkRow{IntegrationID: in.ID, Integration: in.Name, Deployment: in.Deployment, URL: in.SiteOrBaseURL()}
		if l, ok := byIntegration[in.ID]; ok {
			row.Linked, row.IdentityID, row.DisplayName, row.LinkedAt = true, l.ID, l.DisplayName, l.LinkedAt
			row.JiraID = l.AccountID
			if l.Name != "" {
				row.JiraID = l.Name
			}
		}
		row.Unavailable = h.linkUnavailable(in)
		page.Jira = append(page.Jira, row)
	}
	return render(c, http.StatusOK, views.Profile(page))
}

// linkUnavailable says why a link cannot be started on in ("" = it can).
func (h *handler) linkUnavailable(in models.Integration) string {
	switch o := h.deps.JiraOAuth; {
	case o == nil:
		return "Jira is not available in this installation."
	case in.Deployment == models.DeploymentCloud && !o.CloudConfigured():
		return "The operator has not configured the Atlassian app."
	}
	return ""
}

// startJiraLink is "Link Jira account": remember the flow, hand off to Jira.
func (h *handler) startJiraLink(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	in, err := h.store.Integration(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if why := h.linkUnavailable(in); why != "" {
		return redirectWithFlash(c, views.FlashError, why, paths.Profile)
	}
	return h.handOff(c, jiraFlow{Purpose: flowIdentity, IntegrationID: in.ID, UserID: currentUser(c).ID, Name: in.Name,
		Deployment: in.Deployment, BaseURL: in.BaseURL, ClientID: in.ClientID})
}

// finishJiraLink asks Jira who consented and links that identity.
func (h *handler) finishJiraLink(c echo.Context, flow jiraFlow) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u == nil || u.ID != flow.UserID {
		return userError("This Jira authorization was started by someone else." + msgNothingSaved)
	}
	if h.deps.JiraOAuth == nil {
		return userError("Jira is not available in this installation.")
	}
	in, err := h.store.Integration(ctx, flow.IntegrationID)
	if errors.Is(err, models.ErrNotFound) {
		return userError("The Jira integration was disconnected meanwhile." + msgNothingSaved)
	}
	if err != nil {
		return err
	}
	var id jira.Identity
	if in.Deployment == models.DeploymentDataCenter {
		secret, serr := h.store.ClientSecret(in)
		if serr != nil {
			return serr
		}
		id, err = h.deps.JiraOAuth.DCIdentity(ctx, in.BaseURL, in.ClientID, secret, c.QueryParam("code"), flow.Verifier)
	} else {
		id, err = h.deps.JiraOAuth.CloudIdentity(ctx, c.QueryParam("code"))
	}
	if err != nil {
		h.log.WarnContext(ctx, "jira identity consent failed", "request_id", requestID(c), "integration", in.ID, "error", err)
		return userError("Jira did not confirm who you are; try again in a moment." + msgNothingSaved)
	}
	_, err = h.store.LinkJiraIdentity(ctx, actor(c), u.ID, in.ID, models.JiraIdentityInput{AccountID: id.AccountID, Name: id.Name, DisplayName: id.DisplayName})
	if errors.Is(err, models.ErrJiraIdentityTaken) {
		return userError("The Jira account “" + id.DisplayName + "” is already linked to another Privilege user on “" + in.Name +
			"”. A Jira account can belong to one user only: sign in to Jira as yourself, or ask an admin to remove the other link." + msgNothingSaved)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Your Jira account “"+id.DisplayName+"” is linked on “"+in.Name+"”.", paths.Profile)
}

// unlinkJira removes one of the signed-in user's own links.
func (h *handler) unlinkJira(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := h.store.UnlinkJiraIdentity(c.Request().Context(), actor(c), id, currentUser(c).ID); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Your Jira account is unlinked.", paths.Profile)
}

// removeUserJiraLink is an admin removing a user's link (Users page).
func (h *handler) removeUserJiraLink(c echo.Context) error {
	userID, err := idParam(c)
	if err != nil {
		return err
	}
	linkID, err := strconv.ParseInt(c.Param("link"), 10, 64)
	if err != nil || linkID <= 0 {
		return problemFor(codeNotFound)
	}
	if err := h.store.UnlinkJiraIdentity(c.Request().Context(), actor(c), linkID, userID); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "The Jira account link is removed.", paths.Users)
}
