package handlers

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"privilege/views"
)

// render writes a templ component with status. It renders into a buffer
// first so a failing template never leaves a half-written page.
func render(c echo.Context, status int, cmp templ.Component) error {
	var buf bytes.Buffer
	if err := cmp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// pageMeta fills the shell of a full page; it consumes queued flashes.
func (h *handler) pageMeta(c echo.Context, title string, active views.NavItem) views.PageMeta {
	m := views.PageMeta{
		Title: title, User: currentUser(c), CSRFToken: csrfToken(c), Flashes: takeFlashes(c),
		Active: active, RequestID: requestID(c), AssetVersion: h.assetVer,
	}
	if m.IsAdmin() {
		m.Origin = h.originMismatch(c)
	}
	if m.User != nil && m.User.Role.CanApprove() {
		// A display value: a failed count leaves the badge off rather than
		// failing the page.
		n, err := h.store.CountAwaitingDecision(c.Request().Context(), m.User.ID)
		if err != nil {
			h.log.Warn("count requests awaiting a decision", "err", err)
		}
		m.PendingDecisions = n
	}
	return m
}

// redirectWithFlash is the success half of PRG: a flash, then 303.
func redirectWithFlash(c echo.Context, kind views.FlashKind, msg, to string) error {
	addFlash(c, kind, msg)
	return c.Redirect(http.StatusSeeOther, to)
}
