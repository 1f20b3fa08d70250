package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/locale"
	"fse/internal/sealbox"
	"fse/views"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// problemText is a problem with a form's field (acceptance's checks, which
// speak Italian and English) in the request's language.
func problemText(c echo.Context, p acceptance.Problem) string {
	if lang(c).Lang() == locale.English {
		return p.EN
	}
	return p.IT
}

func (h *Handler) activateForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.Activate(views.ActivatePage{PChrome: h.pchrome(c, lang(c).T("mydossier.activate_title")),
		Form: views.Form{Values: map[string]string{}}}))
}

// activate links the holder's own dossier.
func (h *Handler) activate(c echo.Context) error {
	form, res, err := h.runActivation(c, 0)
	if err != nil {
		return err
	}
	if res.done {
		h.pflash(c, lang(c).T("mydossier.activated"))
		return c.Redirect(http.StatusSeeOther, "/fascicolo")
	}
	page := views.ActivatePage{PChrome: h.pchrome(c, lang(c).T("mydossier.activate_title")), Form: form}
	page.Error, page.Help = res.msg, res.help
	return h.render(c, res.status, views.Activate(page))
}

// activation is how an activation went: done, or refused with a status,
// the page's message (the fields' own are in the form) and the help
// page's question that explains it.
type activation struct {
	done   bool
	status int
	msg    string
	help   string
	// separateAccount: the relative was registered with another mobile,
	// so the page offers an account of the relative's own.
	separateAccount bool
}

// runActivation checks the activation form and links the dossier of the
// slip's patient to the account, for the holder (relativeID 0) or for a
// registered relative. Five failures for one codice fiscale, or for one
// account, lock activation for 15 minutes, even with the right code; every
// attempt is audited. A wrong code or codice fiscale is told at its field.
func (h *Handler) runActivation(c echo.Context, relativeID int64) (views.Form, activation, error) {
	ctx := h.pctx(c)
	p := lang(c)
	a := currentAccount(c)
	now := h.now()
	form := views.Form{Values: map[string]string{
		"fiscal_code": strings.TrimSpace(c.FormValue("fiscal_code")),
		"code":        strings.TrimSpace(c.FormValue("code")),
		"consent":     c.FormValue("consent"),
	}, Errors: map[string]string{}}
	refused := func(status int, help string) activation { return activation{status: status, help: help} }
	if form.Values["consent"] != "1" {
		form.Errors["consent"] = p.T("mydossier.activate_consent")
	}
	cf, cfErr := codicefiscale.Parse(form.Values["fiscal_code"])
	if cfErr != nil {
		form.Errors["fiscal_code"] = problemText(c, acceptance.FiscalCodeProblem(cfErr))
	}
	code := actcode.Normalize(form.Values["code"])
	if !actcode.Valid(code) {
		form.Errors["code"] = p.T("mydossier.activate_code_format")
	}
	if form.HasErrors() {
		return form, refused(http.StatusUnprocessableEntity, ""), nil
	}
	keys := []string{"activate-cf:" + cf.String(), "activate-account:" + itoa(a.ID)}
	denied := db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate}
	if mins, err := h.claimAttempts(c, activationThrottle, denied, keys...); err != nil {
		return form, activation{}, err
	} else if mins > 0 {
		res := refused(http.StatusTooManyRequests, views.HelpCodes)
		res.msg = p.T("mydossier.activate_locked", "Wait", waitFor(lang(c), mins))
		return form, res, nil
	}
	_, err := h.DB.ActivateDossier(ctx, db.Activation{AccountID: a.ID, FiscalCode: cf.String(), CodeMAC: h.Keys.MAC(sealbox.ActivationCode, code),
		PrivacyVersion: DossierPrivacyVersion, RelativeID: relativeID}, patientActor(c, a.ID), now)
	switch {
	case err == nil:
		for _, k := range keys {
			if err := h.DB.ClearFailures(ctx, k); err != nil {
				return form, activation{}, err
			}
		}
		return form, activation{done: true}, nil
	case errors.Is(err, db.ErrAlreadyLinked), errors.Is(err, db.ErrSelfLinked):
		res := refused(http.StatusConflict, "")
		res.msg, res.help = p.T("mydossier.activate_already_linked"), views.HelpNoReport
		reason := "dossier already active on the account"
		if errors.Is(err, db.ErrSelfLinked) {
			res.msg, res.help = p.T("mydossier.activate_self_linked"), views.HelpRelatives
			reason = "account already has its own dossier"
		}
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate, Outcome: db.OutcomeFailed,
			Detail: reason})
		return form, res, nil
	case errors.Is(err, db.ErrActivationInvalid), errors.Is(err, db.ErrMobileMismatch), errors.Is(err, db.ErrNotRelative):
		reason := "invalid code or codice fiscale"
		res := refused(http.StatusUnprocessableEntity, views.HelpCodes)
		switch {
		case errors.Is(err, db.ErrNotRelative):
			reason = "codice fiscale is not the relative's"
			form.Errors["fiscal_code"] = p.T("mydossier.activate_not_relative")
			res.help = views.HelpRelatives
		case errors.Is(err, db.ErrMobileMismatch) && relativeID != 0:
			reason = "mobile differs from the desk's"
			res.msg, res.help, res.separateAccount = p.T("family.mobile_mismatch"), views.HelpRelatives, true
		case errors.Is(err, db.ErrMobileMismatch):
			reason = "mobile differs from the desk's"
			res.msg = p.T("mydossier.activate_mobile_mismatch")
			res.help = views.HelpMobile
		default:
			form.Errors["code"] = p.T("mydossier.activate_invalid")
		}
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate, Outcome: db.OutcomeFailed,
			Detail: reason})
		return form, res, nil
	}
	return form, activation{}, err
}

// dossier shows one of the account's dossiers (?p=patient id, default the
// holder's own), with links to switch to the others.
func (h *Handler) dossier(c echo.Context) error {
	a := currentAccount(c)
	now := h.now()
	var patientID int64
	if p := c.QueryParam("p"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return db.ErrNotFound
		}
		patientID = id
	}
	v, err := h.DB.DossierView(h.pctx(c), a.ID, patientID, now)
	if err != nil {
		return err
	}
	if len(v.Links) == 0 {
		return c.Redirect(http.StatusSeeOther, "/attiva")
	}
	return h.render(c, http.StatusOK, views.DossierView(views.DossierPage{PChrome: h.pchrome(c, lang(c).T("mydossier.title")), Links: v.Links,
		Current: views.Dossier{Link: v.Current, Reports: v.Reports, Pending: v.Pending}, Now: now,
		ExpiryReminderDays: h.Config.ExpiryReminderDays}))
}

// dossierDocument returns report id of the current account's dossiers.
// Another patient's report and a made-up id are the same 404, audited as
// a denied action: a patient trying ids is visible to admins, and never in
// anyone's access history (which shows only what was done).
func (h *Handler) dossierDocument(c echo.Context, id int64, action string) (db.Document, error) {
	a := currentAccount(c)
	doc, err := h.DB.DossierDocument(h.pctx(c), a.ID, id, h.now())
	if errors.Is(err, db.ErrNotFound) {
		if aerr := h.DB.Audit(h.pctx(c), db.AuditEvent{At: h.now(), Actor: patientActor(c, a.ID), Action: action,
			ObjectType: "document", ObjectID: id, Outcome: db.OutcomeDenied, Detail: "not in the account's dossiers"}); aerr != nil {
			return doc, aerr
		}
	}
	return doc, err
}

// download streams a report of the account's dossiers (dossierDocument).
func (h *Handler) download(disposition string) echo.HandlerFunc {
	action := db.ActionReportDownload
	if disposition == "inline" {
		action = db.ActionReportViewOnline
	}
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		a := currentAccount(c)
		doc, err := h.dossierDocument(c, id, action)
		if err != nil {
			return err
		}
		return h.streamDocument(c, doc, disposition, func() error {
			return h.DB.RecordDownload(h.pctx(c), id, patientActor(c, a.ID), action, h.now())
		})
	}
}

// accessLog shows the patient who accessed their dossiers and when: the
// audit events about their data, kept at least 24 months.
func (h *Handler) accessLog(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	// A relative's account is not shown what is the patient's only (their
	// protected and hidden reports).
	events, err := h.DB.AccountAccessLog(ctx, a.ID, 300)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.AccessLog(views.AccessLogPage{PChrome: h.pchrome(c, lang(c).T("access_log.title")), Events: events}))
}
