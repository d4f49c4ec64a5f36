package handlers

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"privilege/models"
	"privilege/views"
)

// idParam reads the :id path parameter; a malformed id is a 404.
func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problemFor(codeNotFound)
	}
	return id, nil
}

// pageQuery reads ?page= (1-based) with a fixed page size.
func pageQuery(c echo.Context, perPage int) models.PageQuery {
	return pageQueryNamed(c, "page", perPage)
}

// maxPage bounds page numbers, so an absurd one cannot overflow the offset.
const maxPage = 1_000_000

// pageQueryNamed reads a 1-based page number from the query parameter
// name (a screen with two lists pages each with its own parameter).
func pageQueryNamed(c echo.Context, name string, perPage int) models.PageQuery {
	p, _ := strconv.Atoi(c.QueryParam(name))
	if p < 1 || p > maxPage {
		p = 1
	}
	return models.PageQuery{Page: p, PerPage: perPage}
}

// pagerFor builds the pagination links of a list at path, keeping the
// other query parameters (such as the search term).
func pagerFor[T any](p models.Page[T], path string, keep url.Values) views.Pager {
	link := func(page int) string {
		q := url.Values{}
		for k, v := range keep {
			if len(v) > 0 && v[0] != "" {
				q.Set(k, v[0])
			}
		}
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	return pagerLinks(p, link)
}

// pagerLinks builds a pager whose page links come from link.
func pagerLinks[T any](p models.Page[T], link func(page int) string) views.Pager {
	pg := views.Pager{Page: p.Page, Pages: p.Pages(), Total: p.Total}
	if p.HasPrev() {
		pg.PrevURL = link(p.Page - 1)
	}
	if p.HasNext() {
		pg.NextURL = link(p.Page + 1)
	}
	return pg
}
