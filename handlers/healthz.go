package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthStatus is the body of /healthz: "ok"; "degraded" with the
// problems, while the database answers but cannot write or its disk is
// nearly full (every logged-in page would fail); "unavailable" when the
// database does not answer. Version and Schema say which fse runs on which
// schema, so an upgrade can be followed from the load balancer.
type healthStatus struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems,omitempty"`
	Version  string   `json:"version"`
	Schema   int      `json:"schema,omitempty"`
}

func (h *Handler) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.Error("healthz", "err", err)
		return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "unavailable", Version: h.Config.Version})
	}
	schema, err := h.DB.AppliedSchemaVersion(ctx)
	if err != nil {
		h.Log.Error("healthz", "err", err)
		return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "unavailable", Version: h.Config.Version})
	}
	if st := h.Health.Check(ctx); !st.OK() {
		return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "degraded", Problems: st.Problems, Version: h.Config.Version, Schema: schema})
	}
	return c.JSON(http.StatusOK, healthStatus{Status: "ok", Version: h.Config.Version, Schema: schema})
}
