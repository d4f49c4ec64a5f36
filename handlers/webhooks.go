package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// Decisions from Jira (design.md §9): Jira's webhook deliveries. The URL
// carries the integration's unguessable token; Cloud deliveries must carry
// the JWT Jira signs with the app's client secret, Data Center ones the
// X-Hub-Signature of the secret the console shows. Anything else is 401 and
// changes nothing. A verified delivery only queues a reconcile of the issue
// it names (the reconcile reads the issue back); it never waits on Jira.

// maxDeliveryBytes bounds a webhook body.
const maxDeliveryBytes = 1 << 20

// isWebhookPath reports whether p receives Jira's deliveries (errors are JSON).
func isWebhookPath(p string) bool { return strings.HasPrefix(p, paths.WebhooksPrefix) }

var errBadDelivery = newProblem(codeUnauthorized, "The delivery could not be verified.")

func (h *handler) receiveJiraWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxDeliveryBytes+1))
	if err != nil || len(body) > maxDeliveryBytes {
		return newProblem(codeTooLarge, "The delivery is too large.")
	}
	in, err := h.store.IntegrationByWebhookToken(ctx, c.Param("token"))
	if errors.Is(err, models.ErrNotFound) {
		h.deps.JiraDecisions.Notice("webhook", "refused")
		return errBadDelivery
	}
	if err != nil {
		return err
	}
	if err := h.verifyDelivery(c, in, body); err != nil {
		h.deps.JiraDecisions.Notice("webhook", "refused")
		h.log.Warn("jira webhook refused", "integration", in.ID, "err", err)
		return errBadDelivery
	}
	issue, ok := jira.DeliveryIssue(body)
	if !ok {
		h.deps.JiraDecisions.Notice("webhook", "ignored")
		return c.NoContent(http.StatusAccepted)
	}
	queued, err := h.store.EnqueueIssueCheck(ctx, in.ID, issue)
	if err != nil {
		return err
	}
	result := "ignored"
	if queued {
		result = "queued"
	}
	h.deps.JiraDecisions.Notice("webhook", result)
	return c.NoContent(http.StatusAccepted)
}

func (h *handler) verifyDelivery(c echo.Context, in models.Integration, body []byte) error {
	if in.Deployment == models.DeploymentDataCenter {
		secret, err := h.store.WebhookSecret(c.Request().Context(), in.ID)
		if err != nil {
			return err
		}
		return jira.VerifyHubSignature(secret, body, c.Request().Header.Get("X-Hub-Signature"))
	}
	if h.deps.JiraOAuth == nil {
		return jira.ErrBadDelivery
	}
	return h.deps.JiraOAuth.VerifyCloudWebhook(c.Request().Header.Get(echo.HeaderAuthorization), h.cfg.Now())
}

// rotateWebhookSecret replaces a Data Center integration's webhook secret.
func (h *handler) rotateWebhookSecret(c echo.Context) error {
	in, err := h.integrationParam(c)
	if err != nil {
		return err
	}
	if in.Deployment != models.DeploymentDataCenter {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if _, err := h.store.RotateWebhookSecret(c.Request().Context(), actor(c), in.ID); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "The webhook secret was replaced: enter the new one in Jira's webhook settings.", paths.Integration(in.ID))
}

// deleteWebhooks removes a Cloud integration's dynamic webhook before it is
// disconnected (afterwards there is no token to do it with). Best effort:
// Jira drops a webhook nobody refreshes after 30 days anyway.
func (h *handler) deleteWebhooks(ctx context.Context, id int64) {
	in, err := h.store.IntegrationSettings(ctx, id)
	if err != nil || in.Deployment != models.DeploymentCloud || in.WebhookIDs == "" {
		return
	}
	cl, err := h.jiraClient(in)
	if err != nil {
		return
	}
	var ids []int64
	for _, s := range in.WebhookIDList() {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	if err := cl.DeleteWebhooks(ctx, ids); err != nil {
		h.log.Warn("delete Jira webhooks before disconnecting", "integration", id, "err", err)
	}
}
