package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc describes the integration API (OpenAPI 3.1).
//
//go:embed openapi.json
var openAPIDoc []byte

func (h *Handler) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
