package handlers

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

// maxVisitsToPublish bounds the desk's list "da pubblicare".
const maxVisitsToPublish = 200

// visitsToPublish lists a facility's visits whose uploaded reports wait to
// be published, longest waiting first, opening on the member's own
// facility. The list shows patients' names, so reading it is audited.
func (h *Handler) visitsToPublish(c echo.Context) error {
	ctx := c.Request().Context()
	facilities, err := h.DB.Facilities(ctx, true)
	if err != nil {
		return err
	}
	page := views.ToPublishPage{Chrome: h.chrome(c, "Referti da pubblicare"), Facilities: facilities, Now: h.now()}
	if id, err := strconv.ParseInt(c.QueryParam("facility"), 10, 64); err == nil {
		page.FacilityID = id
	} else if page.FacilityID, err = h.defaultFacility(c, facilities); err != nil {
		return err
	}
	if page.FacilityID == 0 {
		return h.render(c, http.StatusOK, views.DeskToPublish(page))
	}
	if page.Visits, err = h.DB.VisitsToPublish(ctx, page.FacilityID, maxVisitsToPublish); err != nil {
		return err
	}
	if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionDraftsList,
		ObjectType: "facility", ObjectID: page.FacilityID, Detail: fmt.Sprintf("%d visits", len(page.Visits))}); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.DeskToPublish(page))
}
