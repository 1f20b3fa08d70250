package handlers

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
	"fse/views"
)

// keyShare holds, in the browser's session, the share a doctor opened.
const keyShare = "share_id"

func (h *Handler) doctorForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.DoctorLogin(views.DoctorLoginPage{PChrome: h.pchrome(c, lang(c).T("sharing.doctor_title")),
		Form: views.Form{Values: map[string]string{}, Errors: map[string]string{}}}))
}

// doctorOpen checks a share code with the patient's birth date: both are
// needed, and five wrong tries from one address or on one code lock for
// 15 minutes.
func (h *Handler) doctorOpen(c echo.Context) error {
	ctx := h.pctx(c)
	now := h.now()
	form := views.Form{Values: map[string]string{"code": strings.TrimSpace(c.FormValue("code")),
		"birth_date": strings.TrimSpace(c.FormValue("birth_date"))}, Errors: map[string]string{}}
	page := views.DoctorLoginPage{PChrome: h.pchrome(c, lang(c).T("sharing.doctor_title")), Form: form}
	code := actcode.Normalize(form.Values["code"])
	if !actcode.Valid(code) {
		form.Errors["code"] = lang(c).T("sharing.doctor_err_code")
	}
	birth, err := time.Parse(time.DateOnly, form.Values["birth_date"])
	if err != nil {
		form.Errors["birth_date"] = lang(c).T("sharing.doctor_err_birth")
	}
	if form.HasErrors() {
		return h.render(c, http.StatusUnprocessableEntity, views.DoctorLogin(page))
	}
	mac := h.Keys.MAC(sealbox.ShareCode, code)
	keys := []string{"share-ip:" + c.RealIP(), "share-code:" + hex.EncodeToString(mac[:12])}
	denied := db.AuditEvent{Actor: db.Actor{Kind: db.ActorShare, IP: c.RealIP()}, Action: db.ActionShareOpen}
	if mins, err := h.claimAttempts(c, shareThrottle, denied, keys...); err != nil {
		return err
	} else if mins > 0 {
		page.Error = lang(c).T("sharing.doctor_err_locked", "Wait", waitFor(lang(c), mins))
		return h.render(c, http.StatusTooManyRequests, views.DoctorLogin(page))
	}
	share, err := h.DB.OpenShare(ctx, mac, birth, c.RealIP(), now)
	if errors.Is(err, db.ErrShareInvalid) {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: denied.Actor, Action: db.ActionShareOpen, Outcome: db.OutcomeFailed,
			Detail: "invalid code or birth date"})
		// The doctor's one answer to a wrong code or birth date.
		page.Error = lang(c).T("sharing.doctor_err_invalid")
		return h.render(c, http.StatusUnprocessableEntity, views.DoctorLogin(page))
	}
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := h.DB.ClearFailures(ctx, k); err != nil {
			return err
		}
	}
	sm := h.patientSessions
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	sm.Put(ctx, keyShare, share.ID)
	return c.Redirect(http.StatusSeeOther, "/condivisi/referti")
}

// openedShare returns the share this browser opened while it is active;
// once revoked or expired the doctor is sent back to the code form.
func (h *Handler) openedShare(c echo.Context) (db.Share, bool, error) {
	ctx := h.pctx(c)
	id := h.patientSessions.GetInt64(ctx, keyShare)
	if id == 0 {
		return db.Share{}, false, nil
	}
	s, err := h.DB.ActiveShare(ctx, id, h.now())
	if errors.Is(err, db.ErrShareInvalid) {
		h.patientSessions.Remove(ctx, keyShare)
		h.pflash(c, lang(c).T("sharing.doctor_ended"))
		return s, false, nil
	}
	return s, err == nil, err
}

// doctorReports lists, read-only, what the patient shared.
func (h *Handler) doctorReports(c echo.Context) error {
	s, ok, err := h.openedShare(c)
	if err != nil || !ok {
		if err == nil {
			err = c.Redirect(http.StatusSeeOther, "/condivisi")
		}
		return err
	}
	reports, err := h.DB.SharedReports(h.pctx(c), s.ID, h.now())
	if err != nil {
		return err
	}
	page := views.DoctorReportsPage{PChrome: h.pchrome(c, lang(c).T("sharing.doctor_title")), Share: s, Reports: reports}
	if !s.PDFOnly {
		p, err := h.DB.Patient(h.pctx(c), s.PatientID)
		if err != nil {
			return err
		}
		page.PatientName = p.FirstName + " " + p.LastName
	}
	return h.render(c, http.StatusOK, views.DoctorReports(page))
}

// doctorDownload streams a shared report; any other is the same 404 as a
// made-up id. Every view and download shows in the patient's access
// history.
func (h *Handler) doctorDownload(disposition string) echo.HandlerFunc {
	action := db.ActionShareDownload
	if disposition == "inline" {
		action = db.ActionShareView
	}
	return func(c echo.Context) error {
		s, ok, err := h.openedShare(c)
		if err != nil {
			return err
		}
		if !ok {
			return db.ErrNotFound
		}
		id, err := pathID(c)
		if err != nil {
			return err
		}
		doc, err := h.DB.SharedDocument(h.pctx(c), s.ID, id, h.now())
		if err != nil {
			return err
		}
		return h.streamDocument(c, doc, disposition, func() error {
			return h.DB.RecordShareAccess(h.pctx(c), s, doc.ID, action, c.RealIP(), h.now())
		})
	}
}

// doctorExit forgets the share in this browser.
func (h *Handler) doctorExit(c echo.Context) error {
	h.patientSessions.Remove(h.pctx(c), keyShare)
	return c.Redirect(http.StatusSeeOther, "/condivisi")
}
