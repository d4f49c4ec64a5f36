package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const readyTimeout = 2 * time.Second

// healthz: the process is serving.
func (h *handler) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz: Deps.Ready (database, migrations, syncer heartbeat) says yes.
func (h *handler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if err := h.deps.Ready(ctx); err != nil {
		h.log.WarnContext(ctx, "not ready", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// metrics serves Deps.Metrics. It needs no sign-in; do not expose it
// publicly (see README).
func (h *handler) metrics() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(h.deps.Metrics, promhttp.HandlerOpts{}))
}
