package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// The desk's words for protected reports ("riservato").
const (
	msgProtectedPaper  = "Prestazione riservata: su questo portale i referti riservati non vanno online. Il referto va consegnato solo su carta."
	msgProtectedOnline = "Un referto è già online, visibile solo al paziente: il segno di riservato non si può più togliere."
)

// protectedRefused explains a refusal about protected reports, or
// returns err unchanged.
func protectedRefused(err error) error {
	switch {
	case errors.Is(err, db.ErrProtectedPaper):
		return echo.NewHTTPError(http.StatusConflict, msgProtectedPaper)
	case errors.Is(err, db.ErrProtectedPublished):
		return echo.NewHTTPError(http.StatusConflict, msgProtectedOnline)
	}
	return err
}

// setVisitProtected marks a visit protected ("riservato"), or takes the
// mark off while none of its reports is online.
func (h *Handler) setVisitProtected(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	on := c.FormValue("on") == "1"
	if err := h.DB.SetVisitProtected(c.Request().Context(), id, on, staffActor(c), h.now()); err != nil {
		return protectedRefused(err)
	}
	if on {
		h.flash(c, "Prestazione segnata come riservata.")
	} else {
		h.flash(c, "Tolto il segno di riservata.")
	}
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(id, 10))
}

// setDocumentProtected marks one report protected, or takes its own mark
// off while it is not online.
func (h *Handler) setDocumentProtected(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	on := c.FormValue("on") == "1"
	visitID, err := h.DB.SetDocumentProtected(c.Request().Context(), id, on, staffActor(c), h.now())
	if err != nil {
		return protectedRefused(err)
	}
	if on {
		h.flash(c, "Referto segnato come riservato.")
	} else {
		h.flash(c, "Tolto il segno di riservato dal referto.")
	}
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visitID, 10))
}
