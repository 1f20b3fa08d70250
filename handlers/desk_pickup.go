package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

// defaultUncollectedDays is the desk list's default: reports online for a
// week and not collected.
const defaultUncollectedDays = 7

// recordPaperPickup records that the patient collected a report on paper
// at the desk, then goes back to the page the desk came from (the visit's,
// or the patient's).
func (h *Handler) recordPaperPickup(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.DB.RecordPaperPickup(c.Request().Context(), id, staffActor(c), h.now())
	if err != nil {
		return err
	}
	h.flash(c, "Ritiro su carta di «"+doc.Title+"» registrato.")
	back := "/desk/visits/" + strconv.FormatInt(doc.VisitID, 10)
	if b := c.FormValue("back"); strings.HasPrefix(b, "/desk/patients/") || strings.HasPrefix(b, "/desk/uncollected") {
		back = b
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// uncollected lists a facility's published reports nobody downloaded or
// collected within N days: whom the desk calls. The list shows personal
// data, so reading it is audited.
func (h *Handler) uncollected(c echo.Context) error {
	ctx := c.Request().Context()
	facilities, err := h.DB.Facilities(ctx, true)
	if err != nil {
		return err
	}
	page := views.UncollectedPage{Chrome: h.chrome(c, "Referti non ritirati"), Facilities: facilities, Days: defaultUncollectedDays,
		Now: h.now()}
	if d, err := strconv.Atoi(c.QueryParam("days")); err == nil && d >= 0 && d <= 365 {
		page.Days = d
	}
	if f, err := strconv.ParseInt(c.QueryParam("facility"), 10, 64); err == nil {
		page.FacilityID = f
	} else if page.FacilityID, err = h.defaultFacility(c, facilities); err != nil {
		return err
	}
	if page.FacilityID == 0 {
		return h.render(c, http.StatusOK, views.DeskUncollected(page))
	}
	if page.Reports, err = h.DB.UncollectedReports(ctx, page.FacilityID, page.Days, h.now()); err != nil {
		return err
	}
	if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionUncollectedList,
		ObjectType: "facility", ObjectID: page.FacilityID,
		Detail: fmt.Sprintf("not collected within %d days: %d reports", page.Days, len(page.Reports))}); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.DeskUncollected(page))
}
