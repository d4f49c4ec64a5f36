package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

const failedSyncsShown = 10

// showIntegrations is the Integrations screen: the tiles ("All
// Integrations") and the configured integrations with their sync health.
func (h *handler) showIntegrations(c echo.Context) error {
	ctx := c.Request().Context()
	page := views.IntegrationsPage{Tab: views.TabAllIntegrations}
	if c.QueryParam("tab") == string(views.TabConfigured) {
		page.Tab = views.TabConfigured
	}
	list, err := h.store.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	counts, err := h.store.SyncCountsByIntegration(ctx)
	if err != nil {
		return err
	}
	for _, in := range list {
		row := integrationRow(in)
		row.Sync = counts[in.ID]
		page.Integrations = append(page.Integrations, row)
	}
	if page.Sync, err = h.syncHealth(ctx); err != nil {
		return err
	}
	page.Meta = h.pageMeta(c, "Integrations", views.NavIntegrations)
	return render(c, http.StatusOK, views.Integrations(page))
}

func (h *handler) syncHealth(ctx context.Context) (views.SyncHealth, error) {
	st, err := h.store.SyncStats(ctx)
	if err != nil {
		return views.SyncHealth{}, err
	}
	failures, err := h.store.FailedSyncs(ctx, failedSyncsShown)
	if err != nil {
		return views.SyncHealth{}, err
	}
	return views.SyncHealth{Backlog: st.Backlog, Failed: st.Failed, Parked: st.Parked, OldestPending: st.OldestPendingAge, Failures: failures}, nil
}

func integrationRow(in models.Integration) views.IntegrationRow {
	r := views.IntegrationRow{ID: in.ID, Name: in.Name, Deployment: in.Deployment, URL: in.SiteOrBaseURL(), Status: in.Status,
		StatusReason: in.StatusReason, ConnectedAt: in.ConnectedAt, TokenExpiry: in.TokenExpiry, LastSuccessAt: in.LastSuccessAt}
	if in.ConnectedBy != nil {
		r.ConnectedBy = in.ConnectedBy.Email
	}
	return r
}

// integrationParam loads the integration named by :id.
func (h *handler) integrationParam(c echo.Context) (models.Integration, error) {
	id, err := idParam(c)
	if err != nil {
		return models.Integration{}, err
	}
	return h.store.Integration(c.Request().Context(), id)
}

// showDisconnect confirms disconnecting an integration.
func (h *handler) showDisconnect(c echo.Context) error {
	in, err := h.integrationParam(c)
	if err != nil {
		return err
	}
	links, err := h.store.ProjectLinks(c.Request().Context(), in.ID)
	if err != nil {
		return err
	}
	page := views.DisconnectPage{Meta: h.pageMeta(c, "Disconnect "+in.Name, views.NavIntegrations), Integration: integrationRow(in), Links: len(links)}
	for _, l := range links {
		page.Accounts += len(l.Accounts)
	}
	return render(c, http.StatusOK, views.Disconnect(page))
}

// disconnectIntegration deletes the integration, its tokens and its links.
func (h *handler) disconnectIntegration(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	h.deleteWebhooks(c.Request().Context(), id) // while the tokens still exist (webhooks.go)
	if err := h.store.DisconnectIntegration(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	if h.deps.JiraClients != nil {
		h.deps.JiraClients.Forget(id)
	}
	return redirectWithFlash(c, views.FlashSuccess, "The Jira integration is disconnected. Existing tasks stay in Jira.", paths.IntegrationsConfigured)
}

// setProjectKeys saves the optional project-key restriction; invalid keys
// re-render the page with 422, the error next to the field and the keys as
// typed.
func (h *handler) setProjectKeys(c echo.Context) error {
	in, err := h.integrationParam(c)
	if err != nil {
		return err
	}
	id, typed := in.ID, c.FormValue("project_keys")
	keys, err := models.ParseProjectKeys(strings.Split(typed, ","))
	if err == nil {
		var unknown []string
		if unknown, err = h.unknownProjectKeys(c.Request().Context(), in, keys); err != nil {
			p := classify(err)
			if p.Code != codeJiraFailed {
				return err
			}
			err = &models.ValidationError{Fields: map[string]string{"project_keys": "Not saved: Jira could not be asked which projects exist. " + p.Message}}
		} else if len(unknown) > 0 {
			err = &models.ValidationError{Fields: map[string]string{"project_keys": fmt.Sprintf(
				"Not saved: %s is not a project the connected Jira user can create issues in. Check the spelling, or grant that user access in Jira.",
				strings.Join(unknown, ", "))}}
		} else {
			err = h.store.SetProjectKeys(c.Request().Context(), actor(c), id, keys)
		}
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.renderIntegration(c, http.StatusUnprocessableEntity, in, typed, views.FormErrors(ve.Fields))
	}
	if err != nil {
		return err
	}
	msg := "The project list now shows only these keys."
	if strings.TrimSpace(strings.ReplaceAll(c.FormValue("project_keys"), ",", "")) == "" {
		msg = "The project list shows every project again."
	}
	return redirectWithFlash(c, views.FlashSuccess, msg, paths.Integration(id))
}

// unknownProjectKeys lists the typed keys that are no project of the
// integration (as the connected user sees them); it asks Jira only when
// keys were typed.
func (h *handler) unknownProjectKeys(ctx context.Context, in models.Integration, typed []string) ([]string, error) {
	var keys []string
	for _, k := range typed {
		if k = strings.ToUpper(strings.TrimSpace(k)); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	cl, err := h.jiraClient(in)
	if err != nil {
		return nil, err
	}
	projects, err := cl.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(keys, func(k string) bool {
		return slices.ContainsFunc(projects, func(p jira.Project) bool { return strings.EqualFold(p.Key, k) })
	}), nil
}

// jiraClient is the API client of an integration.
func (h *handler) jiraClient(in models.Integration) (*jira.Client, error) {
	if h.deps.JiraClients == nil {
		return nil, errJiraUnavailable
	}
	secret := ""
	if in.Deployment == models.DeploymentDataCenter {
		var err error
		if secret, err = h.store.ClientSecret(in); err != nil {
			return nil, err
		}
	}
	return h.deps.JiraClients.For(jira.NewConnection(in, secret)), nil
}

var errJiraUnavailable = errors.New("jira clients are not configured")
