package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

func (h *Handler) deskHome(c echo.Context) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	page := views.HomePage{Chrome: h.chrome(c, "Cerca paziente"), Query: q, Searched: q != ""}
	status := http.StatusOK
	if q != "" {
		results, err := h.DB.SearchPatients(ctx, q, 50)
		if msg := searchRefused(err); msg != "" {
			status, page.Error, page.Searched = http.StatusUnprocessableEntity, msg, false
		} else if err != nil {
			return err
		} else {
			page.Results = results
			// The query itself is personal data: only that a search happened.
			if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionPatientSearch,
				Detail: fmt.Sprintf("%d results", len(page.Results))}); err != nil {
				return err
			}
		}
	}
	recent, err := h.DB.RecentVisitsWithPatients(ctx, 15)
	if err != nil {
		return err
	}
	for _, r := range recent {
		page.Recent = append(page.Recent, views.VisitRow{Visit: r.Visit, Patient: r.Patient})
	}
	return h.render(c, status, views.DeskHome(page))
}

// searchRefused explains a search past its bounds (db.SearchPatients),
// or returns "".
func searchRefused(err error) string {
	switch {
	case errors.Is(err, db.ErrSearchTooLong):
		return fmt.Sprintf("Ricerca troppo lunga: al massimo %d caratteri. Cerca per cognome, codice fiscale o cellulare.", db.MaxSearchLen)
	case errors.Is(err, db.ErrSearchTooWordy):
		return fmt.Sprintf("Ricerca con troppe parole: al massimo %d. Cerca per cognome e nome, codice fiscale o cellulare.", db.MaxSearchWords)
	}
	return ""
}

func (h *Handler) patientPage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p, err := h.DB.Patient(ctx, id)
	if err != nil {
		return err
	}
	if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionPatientView, ObjectType: "patient", ObjectID: id}); err != nil {
		return err
	}
	visits, err := h.DB.PatientVisits(ctx, id)
	if err != nil {
		return err
	}
	accounts, err := h.DB.CountDossierAccounts(ctx, id)
	if err != nil {
		return err
	}
	page := views.PatientPage{Chrome: h.chrome(c, p.FullName()), Patient: p, Now: h.now(), OnlineAccounts: accounts,
		Protected: h.DB.ProtectedReports()}
	if m, err := h.DB.MajorityTransferOf(ctx, id); err == nil {
		page.Majority = &m
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	for _, v := range visits {
		docs, err := h.DB.VisitDocuments(ctx, v.ID)
		if err != nil {
			return err
		}
		page.Visits = append(page.Visits, views.VisitDocs{Visit: v, Documents: docs})
	}
	return h.render(c, http.StatusOK, views.DeskPatient(page))
}

func (h *Handler) visitPage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := h.DB.Visit(c.Request().Context(), id); err != nil {
		return err
	}
	if err := h.DB.Audit(c.Request().Context(), db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionVisitView,
		ObjectType: "visit", ObjectID: id}); err != nil {
		return err
	}
	return h.renderVisit(c, id, http.StatusOK, views.Form{})
}

func (h *Handler) renderVisit(c echo.Context, visitID int64, status int, upload views.Form) error {
	ctx := c.Request().Context()
	v, err := h.DB.Visit(ctx, visitID)
	if err != nil {
		return err
	}
	p, err := h.DB.Patient(ctx, v.PatientID)
	if err != nil {
		return err
	}
	docs, err := h.DB.VisitDocuments(ctx, visitID)
	if err != nil {
		return err
	}
	return h.render(c, status, views.DeskVisit(views.VisitPage{
		Chrome: h.chrome(c, "Accettazione "+v.AccessionNumber()), Patient: p, Visit: v, Documents: docs, Now: h.now(),
		Upload: upload, UploadLimit: views.Size(h.Config.UploadLimit), RetentionDays: h.Config.RetentionDays,
		Protected: h.DB.ProtectedReports(),
	}))
}
