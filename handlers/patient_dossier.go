package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/sealbox"
	"fse/views"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (h *Handler) activateForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.Activate(views.ActivatePage{PChrome: h.pchrome(c, "Attiva il fascicolo"),
		Form: views.Form{Values: map[string]string{}}}))
}

// activate links the holder's own dossier.
func (h *Handler) activate(c echo.Context) error {
	form, status, msg, err := h.runActivation(c, 0)
	if err != nil || status == 0 {
		return err
	}
	if status == http.StatusSeeOther {
		h.pflash(c, "Fascicolo attivato. Qui troverai i referti appena saranno pronti.")
		return c.Redirect(http.StatusSeeOther, "/fascicolo")
	}
	page := views.ActivatePage{PChrome: h.pchrome(c, "Attiva il fascicolo"), Form: form}
	page.Error = msg
	return h.render(c, status, views.Activate(page))
}

// runActivation checks the activation form and links the dossier of the
// slip's patient to the account, for the holder (relativeID 0) or for a
// registered relative. Five failures for one codice fiscale, or for one
// account, lock activation for 15 minutes, even with the right code; every
// attempt is audited. It answers 303 on success, or a status and message.
func (h *Handler) runActivation(c echo.Context, relativeID int64) (views.Form, int, string, error) {
	ctx := h.pctx(c)
	a := currentAccount(c)
	now := h.now()
	form := views.Form{Values: map[string]string{
		"fiscal_code": strings.TrimSpace(c.FormValue("fiscal_code")),
		"code":        strings.TrimSpace(c.FormValue("code")),
		"consent":     c.FormValue("consent"),
	}, Errors: map[string]string{}}
	if form.Values["consent"] != "1" {
		form.Errors["consent"] = "Per attivare il fascicolo online occorre il consenso all'informativa."
	}
	cf, cfErr := codicefiscale.Parse(form.Values["fiscal_code"])
	if cfErr != nil {
		form.Errors["fiscal_code"] = acceptance.FiscalCodeProblem(cfErr).IT
	}
	code := actcode.Normalize(form.Values["code"])
	if !actcode.Valid(code) {
		form.Errors["code"] = "Il codice di attivazione ha 12 caratteri (lettere e cifre), come stampato sul modulo di ritiro."
	}
	if form.HasErrors() {
		return form, http.StatusUnprocessableEntity, "", nil
	}
	keys := []string{"activate-cf:" + cf.String(), "activate-account:" + itoa(a.ID)}
	denied := db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate}
	if mins, err := h.claimAttempts(c, activationThrottle, denied, keys...); err != nil {
		return form, 0, "", err
	} else if mins > 0 {
		return form, http.StatusTooManyRequests, fmt.Sprintf("Troppi tentativi non riusciti. Per sicurezza l'attivazione è bloccata: riprova tra %d minuti.", mins), nil
	}
	_, err := h.DB.ActivateDossier(ctx, db.Activation{AccountID: a.ID, FiscalCode: cf.String(), CodeMAC: h.Keys.MAC(sealbox.ActivationCode, code),
		PrivacyVersion: DossierPrivacyVersion, RelativeID: relativeID}, patientActor(c, a.ID), now)
	switch {
	case err == nil:
		for _, k := range keys {
			if err := h.DB.ClearFailures(ctx, k); err != nil {
				return form, 0, "", err
			}
		}
		return form, http.StatusSeeOther, "", nil
	case errors.Is(err, db.ErrAlreadyLinked), errors.Is(err, db.ErrSelfLinked):
		msg, reason := "Questo fascicolo è già attivo sul tuo account.", "dossier already active on the account"
		if errors.Is(err, db.ErrSelfLinked) {
			msg = "Hai già attivato il tuo fascicolo. Per il fascicolo di un familiare usa «Familiari» nel tuo profilo."
			reason = "account already has its own dossier"
		}
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate, Outcome: db.OutcomeFailed,
			Detail: reason})
		return form, http.StatusConflict, msg, nil
	case errors.Is(err, db.ErrActivationInvalid), errors.Is(err, db.ErrMobileMismatch), errors.Is(err, db.ErrNotRelative):
		reason := "invalid code or codice fiscale"
		msg := "Codice fiscale o codice di attivazione non validi. Controlla il modulo di ritiro: il codice potrebbe essere scaduto, già usato o sostituito da una ristampa."
		switch {
		case errors.Is(err, db.ErrNotRelative):
			reason = "codice fiscale is not the relative's"
			msg = "Il codice fiscale non è quello del familiare registrato nel tuo profilo."
		case errors.Is(err, db.ErrMobileMismatch) && relativeID != 0:
			reason = "mobile differs from the desk's"
			msg = views.FamilyMobileMismatch
		case errors.Is(err, db.ErrMobileMismatch):
			reason = "mobile differs from the desk's"
			msg = "Il numero di cellulare registrato in accettazione per questo paziente è diverso da quello del tuo account. " +
				"Chiedi allo sportello della struttura di correggere il numero, poi riprova."
		}
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, a.ID), Action: db.ActionDossierActivate, Outcome: db.OutcomeFailed,
			Detail: reason})
		return form, http.StatusUnprocessableEntity, msg, nil
	}
	return form, 0, "", err
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
	return h.render(c, http.StatusOK, views.DossierView(views.DossierPage{PChrome: h.pchrome(c, "Il mio fascicolo"), Links: v.Links,
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
	return h.render(c, http.StatusOK, views.AccessLog(views.AccessLogPage{PChrome: h.pchrome(c, "Accessi al fascicolo"), Events: events}))
}
