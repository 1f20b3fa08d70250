package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// staffSetFacility sets the facility a member works at, which the
// acceptance form and the desk's lists open on; "0" clears it.
func (h *Handler) staffSetFacility(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	facility, err := strconv.ParseInt(c.FormValue("facility"), 10, 64)
	if err != nil || facility < 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Scegli una struttura.")
	}
	ctx := c.Request().Context()
	if facility != 0 {
		if _, err := h.DB.Facility(ctx, facility); errors.Is(err, db.ErrNotFound) {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "La struttura scelta non esiste: ricarica la pagina.")
		} else if err != nil {
			return err
		}
	}
	if err := h.DB.SetStaffFacility(ctx, id, facility, staffActor(c), h.now()); err != nil {
		return err
	}
	h.flash(c, "Struttura di lavoro salvata.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/staff")
}
