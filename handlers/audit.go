package handlers

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

const auditPerPage = 50

// auditFilter reads the audit log's filters; a malformed date is a field
// error and that bound is ignored.
func auditFilter(c echo.Context) (models.AuditQuery, views.AuditFilter, views.FormErrors) {
	f := views.AuditFilter{Actor: strings.TrimSpace(c.QueryParam("actor")), Action: c.QueryParam("action"),
		Target: strings.TrimSpace(c.QueryParam("target")), From: c.QueryParam("from"), To: c.QueryParam("to"), Sort: c.QueryParam("sort")}
	q := models.AuditQuery{Actor: f.Actor, Target: f.Target, Sort: models.AuditSort(f.Sort)}
	errs := views.FormErrors{}
	for _, a := range models.AuditActions {
		if string(a) == f.Action {
			q.Action = a
		}
	}
	if f.From != "" {
		t, err := time.Parse(time.DateOnly, f.From)
		if err != nil {
			errs["from"] = "Use a date like 2026-01-31."
		}
		q.From = t
	}
	if f.To != "" {
		t, err := time.Parse(time.DateOnly, f.To)
		if err != nil {
			errs["to"] = "Use a date like 2026-01-31."
		} else {
			q.To = t.Add(24*time.Hour - time.Nanosecond) // the whole day
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		errs["to"] = "The end date is before the start date."
	}
	return q, f, errs
}

func (h *handler) showAudit(c echo.Context) error {
	q, f, errs := auditFilter(c)
	q.PageQuery = pageQuery(c, auditPerPage)
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	ctx := c.Request().Context()
	page, err := h.store.SearchAudit(ctx, q)
	if err != nil {
		return err
	}
	targets, err := h.store.AuditTargets(ctx, page.Items)
	if err != nil {
		return err
	}
	return render(c, status, views.Audit(views.AuditPage{
		Meta: h.pageMeta(c, "Audit log", views.NavAudit), Events: page.Items, Targets: targets,
		Pager: pagerFor(page, paths.Audit, f.Values()), Filter: f, Errors: errs,
	}))
}

// exportAudit streams the filtered audit log as CSV, targets in words.
func (h *handler) exportAudit(c echo.Context) error {
	q, _, errs := auditFilter(c)
	if len(errs) > 0 {
		return newProblem(codeBadRequest, "Fix the dates of the filter first: "+errs.Get("from")+errs.Get("to"))
	}
	ctx, res := c.Request().Context(), c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="privilege-audit-%s.csv"`, h.cfg.Now().UTC().Format("20060102-150405")))
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	if err := w.Write([]string{"when (UTC)", "who", "action", "target", "target link", "detail", "ip"}); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	base := h.cfg.BaseURL
	err := h.store.EachAudit(ctx, q, func(batch []models.AuditEvent) error {
		targets, err := h.store.AuditTargets(ctx, batch)
		if err != nil {
			return err
		}
		for _, ev := range batch {
			t := targets[models.AuditTargetKey(ev)]
			link := ""
			if p := views.AuditTargetPath(t); p != "" {
				link = base.JoinPath(p).String()
			}
			row := []string{ev.At.UTC().Format(time.RFC3339), ev.ActorEmail, string(ev.Action), t.Label, link, ev.Detail, ev.IP}
			for i, v := range row {
				row[i] = csvSafe(v)
			}
			if err := w.Write(row); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		// Headers are sent: the truncated file is the only signal left.
		h.log.Error("audit export", "err", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a leading = + - @ gets a quote mark.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
