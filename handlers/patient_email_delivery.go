package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/pdfcrypt"
	"fse/internal/pwpolicy"
	"fse/internal/sealbox"
	"fse/views"
)

func (h *Handler) emailDeliveryPage(c echo.Context, l db.DossierLink, form views.Form) (views.EmailDeliveryPage, error) {
	since, err := h.DB.EmailDeliverySince(h.pctx(c), currentAccount(c).ID, l.Patient.ID)
	if err != nil {
		return views.EmailDeliveryPage{}, err
	}
	return views.EmailDeliveryPage{PChrome: h.pchrome(c, lang(c).T("email_delivery.title")), Link: l, Since: since, Form: form,
		MailConfigured: h.Email != nil}, nil
}

// emailDeliveryForm shows whether the dossier's reports come by email, and
// the form to ask for it (or to choose a new password).
func (h *Handler) emailDeliveryForm(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	page, err := h.emailDeliveryPage(c, l, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.EmailDelivery(page))
}

// startEmailDelivery turns on the reports by email, each PDF encrypted
// with the password the patient chooses here: checked like the account's
// password, in characters every PDF reader takes, never the account's own
// password, and kept only sealed under the master key.
func (h *Handler) startEmailDelivery(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	refuse := func() error {
		page, err := h.emailDeliveryPage(c, l, form)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, views.EmailDelivery(page))
	}
	if h.Email == nil || a.Email == "" {
		form.Errors["password"] = lang(c).T("email_delivery.err_no_email")
		return refuse()
	}
	if msg, err := h.reauthenticate(c, a, c.FormValue("current")); err != nil {
		return err
	} else if msg != "" {
		form.Errors["current"] = msg
		return refuse()
	}
	pw, pw2 := c.FormValue("password"), c.FormValue("password2")
	var weak *pwpolicy.Problem
	switch err := pwpolicy.Check(pw, a.FirstName, a.LastName, a.Mobile, a.Email, l.Patient.FirstName, l.Patient.LastName,
		l.Patient.FiscalCode); {
	case !pdfcrypt.PasswordChars(pw):
		form.Errors["password"] = lang(c).T("email_delivery.err_chars")
	case errors.As(err, &weak):
		form.Errors["password"] = weak.Message(lang(c))
	case err != nil:
		return err
	case pw != pw2:
		form.Errors["password2"] = lang(c).T("email_delivery.err_mismatch")
	}
	if form.HasErrors() {
		return refuse()
	}
	if same, _, err := h.Hasher.Verify(h.pctx(c), pwNormalize(pw), a.PasswordHash); err != nil {
		return err
	} else if same {
		form.Errors["password"] = lang(c).T("email_delivery.err_same")
		return refuse()
	}
	sealed, err := h.Keys.SealValue(sealbox.ReportEmailPassword, db.EmailDeliveryOwner(a.ID, l.Patient.ID), []byte(pw))
	if err != nil {
		return err
	}
	if err := h.DB.SetEmailDelivery(h.pctx(c), a.ID, l.Patient.ID, sealed, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("email_delivery.started"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}

// stopEmailDelivery turns the reports by email off; reports not yet sent
// are not sent.
func (h *Handler) stopEmailDelivery(c echo.Context) error {
	l, err := h.linkedDossier(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	if err := h.DB.StopEmailDelivery(h.pctx(c), a.ID, l.Patient.ID, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("email_delivery.stopped"))
	return c.Redirect(http.StatusSeeOther, "/fascicolo?p="+itoa(l.Patient.ID))
}
