package handlers

import (
	"github.com/labstack/echo/v4"

	"fse/db"
)

// defaultFacility is the facility the desk's forms and lists open on: the
// logged-in member's own (set by an admin) when it is among facilities,
// otherwise the first of them; 0 when there is none.
func (h *Handler) defaultFacility(c echo.Context, facilities []db.Facility) (int64, error) {
	if len(facilities) == 0 {
		return 0, nil
	}
	if s := currentStaff(c); s != nil {
		own, err := h.DB.StaffFacility(c.Request().Context(), s.ID)
		if err != nil {
			return 0, err
		}
		for _, f := range facilities {
			if f.ID == own {
				return own, nil
			}
		}
	}
	return facilities[0].ID, nil
}
