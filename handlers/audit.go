package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"privilege/views"
)

const auditPerPage = 50

func (h *handler) showAudit(c echo.Context) error {
	page, err := h.store.ListAudit(c.Request().Context(), pageQuery(c, auditPerPage))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Audit(views.AuditPage{
		Meta: h.pageMeta(c, "Audit log", views.NavAudit), Events: page.Items, Pager: pagerFor(page, "/audit", nil),
	}))
}
