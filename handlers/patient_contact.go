package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/phone"
	"fse/internal/smscode"
	"fse/views"
)

// Session keys of a mobile change.
const (
	keyContactMobile = "contact_mobile"
	// keyContactDeliver records whether codes really go to the new mobile:
	// not when another account has it (the pages look the same).
	keyContactDeliver = "contact_deliver"
)

// changeContact changes the mobile or the email, after the password: a new
// mobile proves itself with an SMS code, a new email with a link sent to it.
func (h *Handler) changeContact(c echo.Context) error {
	a := currentAccount(c)
	form, mobile, email := h.parseContactForm(c, a)
	if form.HasErrors() {
		return h.profilePage(c, http.StatusUnprocessableEntity, form)
	}
	// Whoever holds an open session must not be able to move the account
	// to their own phone: the password is asked again.
	if msg, err := h.reauthenticate(c, a, c.FormValue("contact_password")); err != nil {
		return err
	} else if msg != "" {
		form.Errors["contact_password"] = msg
		return h.profilePage(c, http.StatusUnprocessableEntity, form)
	}
	if mobile == a.Mobile && email == a.Email {
		return h.keepContacts(c, a, email)
	}
	if mobile != a.Mobile {
		if status, msg, err := h.checkNewMobile(c, a, mobile); err != nil {
			return err
		} else if msg != "" {
			form.Errors["new_mobile"] = msg
			return h.profilePage(c, status, form)
		}
	}
	note, err := h.changeEmail(c, a, email)
	if status, msg, ok := emailMessage(c, err); ok {
		form.Errors["new_email"] = msg
		return h.profilePage(c, status, form)
	} else if err != nil {
		return err
	}
	if mobile == a.Mobile {
		h.pflash(c, note)
		return c.Redirect(http.StatusSeeOther, "/profilo")
	}
	return h.startMobileChange(c, a, mobile, note, form)
}

// parseContactForm reads and checks the new contacts. Without a mail server
// an address cannot be confirmed: the email part is hidden and ignored.
func (h *Handler) parseContactForm(c echo.Context, a *db.Account) (form views.Form, mobile, email string) {
	form = views.Form{Values: map[string]string{
		"new_mobile": strings.TrimSpace(c.FormValue("new_mobile")),
		"new_email":  strings.ToLower(strings.TrimSpace(c.FormValue("new_email"))),
	}, Errors: map[string]string{}}
	mobile, err := phone.NormalizeMobile(form.Values["new_mobile"])
	switch {
	case errors.Is(err, phone.ErrNotMobile):
		form.Errors["new_mobile"] = lang(c).T("contact.not_mobile")
	case err != nil:
		form.Errors["new_mobile"] = lang(c).T("contact.invalid_mobile")
	}
	email = form.Values["new_email"]
	if h.Email == nil {
		email = a.Email
	}
	if email != "" {
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
			form.Errors["new_email"] = lang(c).T("contact.invalid_email")
		}
	}
	return form, mobile, email
}

// keepContacts answers a form that changes nothing; an empty email also
// withdraws an address still waiting for confirmation (a mistyped one).
func (h *Handler) keepContacts(c echo.Context, a *db.Account, email string) error {
	ctx := h.pctx(c)
	msg := lang(c).T("contact.unchanged")
	if pending, err := h.DB.PendingEmail(ctx, a.ID, h.now()); err != nil {
		return err
	} else if pending != "" && email == "" {
		if err := h.DB.CancelEmailVerification(ctx, a.ID); err != nil {
			return err
		}
		msg = lang(c).T("contact.pending_cancelled", "Email", pending)
	}
	h.pflash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/profilo")
}

// checkNewMobile refuses a new mobile before anything else is changed
// when no code may be sent to it now: its country, the portal's daily
// budget, its limit (an email sent meanwhile would count against its own
// cap). Whether another account has it is not said (startMobileChange).
func (h *Handler) checkNewMobile(c echo.Context, a *db.Account, mobile string) (int, string, error) {
	err := h.codes.MaySend(h.pctx(c), db.OTPContact, mobile, a.ID)
	if status, msg, ok := h.otpSendMessage(c, err); ok {
		return status, msg, nil
	}
	return 0, "", err
}

// changeEmail removes the email, or asks its owner to confirm a new one
// (it becomes the account's only then), and tells the holder. It returns
// what to tell the patient.
func (h *Handler) changeEmail(c echo.Context, a *db.Account, email string) (string, error) {
	switch {
	case email == a.Email:
		return "", nil
	case email == "":
		if err := h.DB.SetContact(h.pctx(c), a.ID, a.Mobile, "", patientActor(c, a.ID), h.now()); err != nil {
			return "", err
		}
		if err := h.DB.CancelEmailVerification(h.pctx(c), a.ID); err != nil {
			return "", err
		}
		h.queueSecurityNotice(c, *a, "notify.security_email_removed")
		return lang(c).T("contact.email_removed"), nil
	}
	if err := h.startEmailVerification(c, *a, email); err != nil {
		return "", err
	}
	h.queueSecurityNotice(c, *a, "notify.security_email_requested")
	return lang(c).T("contact.email_sent", "Email", email), nil
}

// startMobileChange sends the code that proves the new mobile and moves
// to the page that asks for it; the mobile changes only then. A mobile
// another account has gets the same answer, so the form does not tell
// who is registered: no code goes to it, its holder is told that someone
// tried to use it, and the code page takes no code (a right guess is
// answered as a wrong one). Both codes go in the background, so the two
// answers take the same time.
func (h *Handler) startMobileChange(c echo.Context, a *db.Account, mobile, note string, form views.Form) error {
	ctx := h.pctx(c)
	deliver := true
	if other, err := h.DB.AccountByMobile(ctx, mobile); err == nil && other.ID != a.ID {
		deliver = false
		h.queueOncePerDay(c, other, "notify.security_mobile_claimed")
	} else if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	id, err := h.codes.Issue(ctx, db.OTPContact, mobile, a.ID, contactCodeMode(deliver), accountLang(*a))
	if status, msg, ok := h.otpSendMessage(c, err); ok {
		form.Errors["new_mobile"] = msg
		return h.profilePage(c, status, form)
	} else if err != nil {
		return err
	}
	sm := h.patientSessions
	sm.Put(ctx, keyContactMobile, mobile)
	sm.Put(ctx, keyContactDeliver, deliver)
	sm.Put(ctx, keyOTP, id)
	if note != "" {
		h.pflash(c, note)
	}
	return c.Redirect(http.StatusSeeOther, "/profilo/recapiti/codice")
}

// contactCodeMode sends a new mobile's code in the background, or not at
// all to a mobile another account has.
func contactCodeMode(deliver bool) smscode.Mode {
	if deliver {
		return smscode.SendNeutral
	}
	return smscode.SendNothing
}

func (h *Handler) contactCodePage(c echo.Context) (views.CodePage, bool) {
	mobile := h.patientSessions.GetString(h.pctx(c), keyContactMobile)
	return views.CodePage{PChrome: h.pchrome(c, lang(c).T("contact.code_title")), Purpose: db.OTPContact, Mobile: mobile,
		AccountID: currentAccount(c).ID, Action: "/profilo/recapiti/codice"}, mobile != ""
}

func (h *Handler) contactCodeForm(c echo.Context) error {
	page, ok := h.contactCodePage(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/profilo")
	}
	return h.renderCode(c, http.StatusOK, page, "")
}

// contactCode verifies the code and stores the new contacts; the old ones
// are told, in case the change was not the holder's.
func (h *Handler) contactCode(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	page, ok := h.contactCodePage(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/profilo")
	}
	sm := h.patientSessions
	deliver := sm.GetBool(ctx, keyContactDeliver)
	if c.FormValue("resend") == "1" {
		return h.resendCode(c, page, db.OTPContact, contactCodeMode(deliver))
	}
	o, err := h.checkCode(c, db.OTPContact)
	if err == nil && (o.AccountID != a.ID || o.Mobile != page.Mobile || !deliver) {
		err = db.ErrOTPWrong
	}
	if status, msg, ok := otpCheckMessage(c, err); ok {
		h.auditCodeRefused(c, db.ActionAccountContactCode, a.ID, err)
		return h.renderCode(c, status, page, msg)
	} else if err != nil {
		return err
	}
	err = h.DB.SetContact(ctx, a.ID, page.Mobile, a.Email, patientActor(c, a.ID), h.now())
	if errors.Is(err, db.ErrConflict) {
		page.Error = lang(c).T("contact.taken_meanwhile")
		return h.renderCode(c, http.StatusConflict, page, "")
	}
	if err != nil {
		return err
	}
	h.queueSecurityNotice(c, *a, "notify.security_contacts_changed")
	sm.Remove(ctx, keyContactMobile)
	sm.Remove(ctx, keyContactDeliver)
	sm.Remove(ctx, keyOTP)
	h.pflash(c, lang(c).T("contact.updated"))
	return c.Redirect(http.StatusSeeOther, "/profilo")
}
