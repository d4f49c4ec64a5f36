package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc describes every /api/v1 route. Edit openapi.json when adding
// one; TestOpenAPIDescribesEveryRoute fails until you do.
//
//go:embed openapi.json
var openAPIDoc []byte

func (h *handler) openAPI(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, openAPIDoc)
}
