package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
	"fse/views"
)

// shareLifetimes are the lifetimes a patient picks for a share, by the
// form's value.
var shareLifetimes = map[string]time.Duration{
	"1h": time.Hour, "1d": 24 * time.Hour, "3d": 3 * 24 * time.Hour, "7d": 7 * 24 * time.Hour, "14d": 14 * 24 * time.Hour,
}

// shareTarget reads the dossier (:id) and the optional report (?referto or
// the form's referto) a share is about; a report of another dossier, or
// one the account does not see, is the same 404 as a made-up id.
func (h *Handler) shareTarget(c echo.Context) (db.DossierLink, *db.Document, error) {
	l, err := h.linkedDossier(c)
	if err != nil {
		return l, nil, err
	}
	ref := c.QueryParam("referto")
	if ref == "" {
		ref = c.FormValue("referto")
	}
	if ref == "" {
		return l, nil, nil
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		return l, nil, db.ErrNotFound
	}
	doc, err := h.DB.DossierDocument(h.pctx(c), currentAccount(c).ID, id, h.now())
	if err != nil {
		return l, nil, err
	}
	v, err := h.DB.Visit(h.pctx(c), doc.VisitID)
	if err != nil {
		return l, nil, err
	}
	if v.PatientID != l.Patient.ID {
		return l, nil, db.ErrNotFound
	}
	return l, &doc, nil
}

func (h *Handler) sharePage(c echo.Context, l db.DossierLink, doc *db.Document, form views.Form) (views.SharePage, error) {
	page := views.SharePage{PChrome: h.pchrome(c, lang(c).T("sharing.title")), Link: l, Report: doc, Form: form}
	if doc == nil && l.Relation == db.RelationSelf {
		reports, err := h.DB.DossierReports(h.pctx(c), currentAccount(c).ID, l.Patient.ID, h.now())
		if err != nil {
			return page, err
		}
		for _, r := range reports {
			page.HasProtected = page.HasProtected || r.Protected
		}
	}
	return page, nil
}

// shareForm asks what to share with a doctor, and for how long.
func (h *Handler) shareForm(c echo.Context) error {
	l, doc, err := h.shareTarget(c)
	if err != nil {
		return err
	}
	page, err := h.sharePage(c, l, doc, views.Form{Values: map[string]string{"lifetime": "1d"}, Errors: map[string]string{}})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.ShareForm(page))
}

// createShare makes a share code and shows it once: only its MAC is
// stored. Protected reports are shared only by the patient's own account,
// when the patient says so explicitly.
func (h *Handler) createShare(c echo.Context) error {
	l, doc, err := h.shareTarget(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	form := views.Form{Values: map[string]string{"lifetime": c.FormValue("lifetime"), "pdf_only": c.FormValue("pdf_only"),
		"include_protected": c.FormValue("include_protected")}, Errors: map[string]string{}}
	lifetime, ok := shareLifetimes[form.Values["lifetime"]]
	if !ok {
		form.Errors["lifetime"] = lang(c).T("sharing.err_lifetime")
	}
	req := db.ShareRequest{AccountID: a.ID, PatientID: l.Patient.ID, Lifetime: lifetime, PDFOnly: form.Values["pdf_only"] == "1",
		IncludeProtected: form.Values["include_protected"] == "1"}
	if doc != nil {
		req.DocumentID = doc.ID
	}
	var share db.Share
	code := actcode.New()
	if !form.HasErrors() {
		req.CodeMAC = h.Keys.MAC(sealbox.ShareCode, actcode.Normalize(code))
		share, err = h.DB.CreateShare(h.pctx(c), req, patientActor(c, a.ID), h.now())
		switch {
		case errors.Is(err, db.ErrShareProtected):
			form.Errors["include_protected"] = lang(c).T("sharing.err_protected")
		case errors.Is(err, db.ErrShareEmpty):
			form.Errors["lifetime"] = lang(c).T("sharing.err_empty")
		case err != nil:
			return err
		}
	}
	if form.HasErrors() {
		page, err := h.sharePage(c, l, doc, form)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, views.ShareForm(page))
	}
	return h.render(c, http.StatusOK, views.ShareCreated(views.ShareCreatedPage{PChrome: h.pchrome(c, lang(c).T("sharing.created_title")),
		Link: l, Report: doc, Share: share, Code: code, DoctorURL: h.Config.BaseURL + "/condivisi"}))
}

// shares lists the account's shares, and those of its own dossier.
func (h *Handler) shares(c echo.Context) error {
	list, err := h.DB.AccountShares(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.Shares(views.SharesPage{PChrome: h.pchrome(c, lang(c).T("sharing.list_title")),
		Shares: list, Now: h.now()}))
}

// revokeShare ends a share at once; another account's share is the same
// 404 as a made-up id.
func (h *Handler) revokeShare(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.RevokeShare(h.pctx(c), a.ID, id, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("sharing.revoked"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo/condivisioni")
}
