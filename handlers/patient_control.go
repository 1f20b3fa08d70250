package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

// linkedDossier returns the account's dossier named by :id; another
// patient's is the same 404 as a made-up id.
func (h *Handler) linkedDossier(c echo.Context) (db.DossierLink, error) {
	id, err := pathID(c)
	if err != nil {
		return db.DossierLink{}, err
	}
	links, err := h.DB.DossierLinks(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return db.DossierLink{}, err
	}
	for _, l := range links {
		if l.Patient.ID == id {
			return l, nil
		}
	}
	return db.DossierLink{}, db.ErrNotFound
}

func (h *Handler) confirmDossier(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := h.linkedDossier(c)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusOK, views.Confirm(h.dossierConfirmPage(c, l, action)))
	}
}

func (h *Handler) dossierConfirmPage(c echo.Context, l db.DossierLink, action string) views.ConfirmPage {
	p := lang(c)
	name := l.Patient.FirstName + " " + l.Patient.LastName
	page := views.ConfirmPage{PChrome: h.pchrome(c, p.T("control.page_title", "Name", name)), Action: "/fascicolo/" + itoa(l.Patient.ID) + "/" + action,
		Back: "/fascicolo?p=" + itoa(l.Patient.ID), Form: views.Form{Errors: map[string]string{}}}
	switch action {
	case "disattiva":
		page.Heading = p.T("control.disable_heading", "Name", name)
		page.Lines = []string{p.T("control.disable_line1"), p.T("control.disable_line2")}
		page.Button = p.T("control.disable_button")
	case "riattiva":
		page.Heading = p.T("control.enable_heading", "Name", name)
		page.Lines = []string{p.T("control.enable_line")}
		page.Button = p.T("control.enable_button")
		page.DossierConsent = true
	case "revoca":
		page.Heading = p.T("control.revoke_heading", "Name", name)
		page.Lines = []string{p.T("control.revoke_line1"), p.T("control.revoke_line2")}
		page.Button = p.T("control.revoke_button")
	case "scollega":
		page.Heading = p.T("control.unlink_heading", "Name", name)
		page.Lines = []string{p.T("control.unlink_line1"), p.T("control.unlink_line2")}
		if l.OthersSeeOwnDossier() {
			page.Lines = append(page.Lines, p.T("control.unlink_warning"))
		}
		page.Button = p.T("control.unlink_button")
	case "azzera":
		page.Heading = p.T("control.reset_heading", "Name", name)
		page.Lines = []string{p.T("control.reset_line1"), p.T("control.reset_line2")}
		page.Button = p.T("control.reset_button")
	}
	return page
}

func (h *Handler) disableDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.SetOnlineDelivery(h.pctx(c), a.ID, l.Patient.ID, false, "", patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("control.disabled"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

func (h *Handler) enableDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if c.FormValue("consent") != "1" {
		page := h.dossierConfirmPage(c, l, "riattiva")
		page.Form.Errors["consent"] = lang(c).T("control.enable_consent")
		return h.render(c, http.StatusUnprocessableEntity, views.Confirm(page))
	}
	if err := h.DB.SetOnlineDelivery(h.pctx(c), a.ID, l.Patient.ID, true, DossierPrivacyVersion, patientActor(c, a.ID), h.now()); err != nil {
		return notPatient(c, err)
	}
	h.pflash(c, lang(c).T("control.enabled"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

// resetDossier deletes every online report of the dossier for good, then
// truncates the WAL so no copy of the pages survives there.
func (h *Handler) resetDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	n, err := h.DB.ResetDossier(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now())
	if err != nil {
		return notPatient(c, err)
	}
	h.checkpoint()
	h.pflash(c, lang(c).N("control.reset_done", n))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

func (h *Handler) deleteReportForm(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.dossierDocument(c, id, db.ActionReportDeleteByPatient)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(h.pctx(c), doc.VisitID)
	if err != nil {
		return err
	}
	links, err := h.DB.DossierLinks(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Patient.ID == visit.PatientID && !l.MayManage() {
			return notPatient(c, db.ErrNotPatient)
		}
	}
	p := lang(c)
	return h.render(c, http.StatusOK, views.Confirm(views.ConfirmPage{PChrome: h.pchrome(c, p.T("reports.delete_title")),
		Heading: p.T("reports.delete_heading", "Title", doc.Title),
		Lines:   []string{p.T("reports.delete_line")},
		Action:  "/fascicolo/referti/" + itoa(id) + "/elimina", Button: p.T("reports.delete_button"), Back: "/fascicolo"}))
}

func (h *Handler) deleteReport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if _, err := h.dossierDocument(c, id, db.ActionReportDeleteByPatient); err != nil {
		return err
	}
	if err := h.DB.DeleteReport(h.pctx(c), a.ID, id, patientActor(c, a.ID), h.now()); err != nil {
		return notPatient(c, err)
	}
	h.checkpoint()
	h.pflash(c, lang(c).T("reports.deleted"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo")
}

func (h *Handler) deleteAccountPage(c echo.Context) views.ConfirmPage {
	p := lang(c)
	return views.ConfirmPage{PChrome: h.pchrome(c, p.T("myaccount.delete_title")), Heading: p.T("myaccount.delete_heading"),
		Lines:  []string{p.T("myaccount.delete_line1"), p.T("myaccount.delete_line2"), p.T("myaccount.delete_line3")},
		Action: "/profilo/elimina", Button: p.T("myaccount.delete_button"), Back: "/profilo", Password: true,
		Form: views.Form{Values: map[string]string{}, Errors: map[string]string{}}}
}

func (h *Handler) deleteAccountForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.Confirm(h.deleteAccountPage(c)))
}

// deleteAccount needs the password again; afterwards no session of the
// account works, because the account is gone.
func (h *Handler) deleteAccount(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	if msg, err := h.reauthenticate(c, a, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		page := h.deleteAccountPage(c)
		page.Form.Errors["password"] = msg
		return h.render(c, http.StatusUnprocessableEntity, views.Confirm(page))
	}
	if _, err := h.DB.DeleteAccount(ctx, a.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.checkpoint()
	if err := h.patientSessions.Destroy(ctx); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("myaccount.deleted"))
	return c.Redirect(http.StatusSeeOther, "/")
}

// checkpoint has the deleted pages erased from the WAL in the background
// (db.RunCheckpointer): the request never waits on readers for it.
func (h *Handler) checkpoint() { h.DB.NoteDeletion() }

// notPatient explains that only the patient's own account may do this.
func notPatient(c echo.Context, err error) error {
	if errors.Is(err, db.ErrNotPatient) {
		return echo.NewHTTPError(http.StatusForbidden, lang(c).T("control.not_patient"))
	}
	return err
}

// revokeOthers lets the patient end every other account's access (for
// example a parent's, once the patient is an adult with their own account).
func (h *Handler) revokeOthers(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	n, err := h.DB.RevokeOtherAccounts(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now())
	if errors.Is(err, db.ErrNotPatient) {
		return echo.NewHTTPError(http.StatusForbidden, lang(c).T("control.revoke_not_patient"))
	}
	if err != nil {
		return err
	}
	h.pflash(c, lang(c).N("control.revoked", n))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

// unlinkDossier removes a dossier from the account, for example one
// activated by mistake as one's own.
func (h *Handler) unlinkDossier(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.UnlinkDossier(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("control.unlinked"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo")
}
