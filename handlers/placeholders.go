package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/views"
)

// showIntegrations is the Integrations screen; the Jira work replaces it
// (and its view) with the real one.
func (h *handler) showIntegrations(c echo.Context) error {
	return render(c, http.StatusOK, views.Integrations(views.IntegrationsPage{
		Meta: h.pageMeta(c, "Integrations", views.NavIntegrations),
	}))
}
