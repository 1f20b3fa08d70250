package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// hideReport hides a report of the patient's own dossier from every other
// account linked to it ("oscuramento"), or shows it to them again. A
// report the account does not see is the same 404 as a made-up id; a
// relative's account may not hide (403).
func (h *Handler) hideReport(hidden bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		a := currentAccount(c)
		err = h.DB.SetReportHidden(h.pctx(c), a.ID, id, hidden, patientActor(c, a.ID), h.now())
		if errors.Is(err, db.ErrNotPatient) {
			return echo.NewHTTPError(http.StatusForbidden, lang(c).T("reports.hide_not_patient"))
		}
		if err != nil {
			return err
		}
		if hidden {
			h.pflash(c, lang(c).T("reports.hidden"))
		} else {
			h.pflash(c, lang(c).T("reports.shown"))
		}
		return c.Redirect(http.StatusSeeOther, "/fascicolo")
	}
}
