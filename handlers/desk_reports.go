package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/notify"
	"fse/views"
)

// The desk's words for the two reasons a report goes on paper only.
const (
	msgOnlineDeclined = "Il paziente ha rifiutato la consegna online: il referto va consegnato su carta."
	msgOnlineDisabled = "Il paziente ha disattivato il servizio online: il referto va consegnato su carta."
)

func (h *Handler) publish(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	n, err := h.DB.PublishVisit(ctx, id, h.Config.Retention(), notify.ReportNotices(h.Config.BaseURL), staffActor(c), h.now())
	switch {
	case errors.Is(err, db.ErrOnlineDeclined):
		return echo.NewHTTPError(http.StatusConflict, msgOnlineDeclined)
	case errors.Is(err, db.ErrOnlineDisabled):
		return echo.NewHTTPError(http.StatusConflict, msgOnlineDisabled)
	case err != nil:
		return protectedRefused(err)
	}
	if n == 0 {
		h.flash(c, "Nessun referto da pubblicare.")
	} else {
		h.flash(c, views.Count(n, "referto pubblicato", "referti pubblicati")+": resteranno online "+views.Count(h.Config.RetentionDays, "giorno", "giorni")+".")
	}
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(id, 10))
}

func (h *Handler) withdrawForm(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(ctx, doc.VisitID)
	if err != nil {
		return err
	}
	p, err := h.DB.Patient(ctx, visit.PatientID)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.DeskWithdraw(views.WithdrawPage{Chrome: h.chrome(c, "Ritira referto"), Patient: p, Visit: visit, Document: doc}))
}

func (h *Handler) withdraw(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	if err := h.DB.WithdrawDocument(ctx, id, staffActor(c), h.now()); err != nil {
		return err
	}
	h.DB.NoteDeletion()
	h.flash(c, "Referto «"+doc.Title+"» ritirato ed eliminato.")
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(doc.VisitID, 10))
}

// staffDocumentFile lets the desk check what it uploaded: decrypted while
// streaming, shown inline, audited.
func (h *Handler) staffDocumentFile(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	return h.streamDocument(c, doc, "inline", func() error {
		return h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionReportView, ObjectType: "document", ObjectID: id})
	})
}
