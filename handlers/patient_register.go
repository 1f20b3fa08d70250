package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/phone"
	"fse/internal/pwpolicy"
	"fse/internal/smscode"
	"fse/views"
)

// Registration keeps its steps in the server-side session until the SMS
// code proves the mobile; only then is the account created.
const (
	keyRegConsentAt = "reg_consent_at"
	keyRegFirst     = "reg_first"
	keyRegLast      = "reg_last"
	keyRegMobile    = "reg_mobile"
	keyRegEmail     = "reg_email"
	keyRegHash      = "reg_hash"
	// keyRegDeliver records whether codes may really be sent for this
	// registration: not when its mobile or email already has an account.
	keyRegDeliver = "reg_deliver"
)

func (h *Handler) registerConsentForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.RegisterConsent(views.RegisterPage{PChrome: h.pchrome(c, "Registrazione")}))
}

func (h *Handler) registerConsent(c echo.Context) error {
	if c.FormValue("consent") != "1" {
		page := views.RegisterPage{PChrome: h.pchrome(c, "Registrazione"), Form: views.Form{Errors: map[string]string{
			"consent": "Per usare il servizio online occorre dare il consenso. Se non vuole, il referto resta ritirabile su carta."}}}
		page.Help = views.HelpPaper
		return h.render(c, http.StatusUnprocessableEntity, views.RegisterConsent(page))
	}
	putSessionTime(h.patientSessions, h.pctx(c), keyRegConsentAt, h.now())
	return c.Redirect(http.StatusSeeOther, "/registrati/profilo")
}

func (h *Handler) registerProfileForm(c echo.Context) error {
	if sessionTime(h.patientSessions, h.pctx(c), keyRegConsentAt).IsZero() {
		return c.Redirect(http.StatusSeeOther, "/registrati")
	}
	return h.render(c, http.StatusOK, views.RegisterProfile(views.RegisterPage{PChrome: h.pchrome(c, "Registrazione"),
		Form: views.Form{Values: map[string]string{}}}))
}

// checkNewPassword applies the password policy and the confirmation.
func checkNewPassword(form views.Form, pw, pw2 string, userInputs ...string) string {
	if err := pwpolicy.Check(pw, userInputs...); err != nil {
		var p *pwpolicy.Problem
		if errors.As(err, &p) {
			form.Errors["password"] = p.Reason
		} else {
			form.Errors["password"] = "Password non valida."
		}
		return ""
	}
	if pwpolicy.Normalize(pw) != pwpolicy.Normalize(pw2) {
		form.Errors["password2"] = "Le due password non coincidono."
		return ""
	}
	return pwpolicy.Normalize(pw)
}

func (h *Handler) registerProfile(c echo.Context) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	if sessionTime(sm, ctx, keyRegConsentAt).IsZero() {
		return c.Redirect(http.StatusSeeOther, "/registrati")
	}
	form := views.Form{Values: map[string]string{
		"first_name": strings.TrimSpace(c.FormValue("first_name")),
		"last_name":  strings.TrimSpace(c.FormValue("last_name")),
		"mobile":     strings.TrimSpace(c.FormValue("mobile")),
		"email":      strings.TrimSpace(c.FormValue("email")),
	}, Errors: map[string]string{}}
	for _, f := range []struct{ name, msg string }{{"first_name", "Inserisca il nome."}, {"last_name", "Inserisca il cognome."}} {
		if v := form.Values[f.name]; v == "" {
			form.Errors[f.name] = f.msg
		} else if utf8.RuneCountInString(v) > 100 {
			form.Errors[f.name] = "Al massimo 100 caratteri."
		}
	}
	mobile, err := phone.NormalizeMobile(form.Values["mobile"])
	switch {
	case form.Values["mobile"] == "":
		form.Errors["mobile"] = "Inserisca il numero di cellulare dato in accettazione."
	case errors.Is(err, phone.ErrNotMobile):
		form.Errors["mobile"] = "Questo numero non è un cellulare: serve un cellulare per ricevere il codice via SMS."
	case err != nil:
		form.Errors["mobile"] = "Numero di cellulare non valido."
	}
	email := strings.ToLower(form.Values["email"])
	if email != "" {
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
			form.Errors["email"] = "Indirizzo email non valido."
		}
	}
	pw := checkNewPassword(form, c.FormValue("password"), c.FormValue("password2"),
		form.Values["first_name"], form.Values["last_name"], strings.TrimPrefix(mobile, "+39"), strings.Split(email, "@")[0])
	if form.HasErrors() {
		return h.render(c, http.StatusUnprocessableEntity, views.RegisterProfile(views.RegisterPage{PChrome: h.pchrome(c, "Registrazione"), Form: form}))
	}
	// The rules on sending come first (the number's country, the portal's
	// daily budget, the number's limit): past them, no code and no notice
	// goes out.
	if err := h.codes.MaySend(ctx, db.OTPRegister, mobile, 0); err != nil {
		status, msg, ok := h.otpSendMessage(err)
		if !ok {
			return err
		}
		page := views.RegisterPage{PChrome: h.pchrome(c, "Registrazione"), Form: form}
		if errors.As(err, new(smscode.CountryError)) {
			form.Errors["mobile"] = msg
		} else {
			page.Error = msg
		}
		return h.render(c, status, views.RegisterProfile(page))
	}
	hash, err := h.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	// A mobile already registered gets the same outcome as a new one; the
	// real owner is told instead of receiving a code. The email needs no
	// such care: it is the account's only once its owner confirms it.
	taken := false
	if a, err := h.DB.AccountByMobile(ctx, mobile); err == nil {
		taken = true
		h.queueOncePerDay(c, a, "qualcuno ha provato a registrarsi a Referti online con il suo numero. "+
			"Se è stato lei, acceda con la sua password o usi «Password dimenticata».")
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	mode := smscode.SendNeutral
	if taken {
		mode = smscode.SendNothing
	}
	id, err := h.codes.Issue(ctx, db.OTPRegister, mobile, 0, mode)
	if status, msg, ok := h.otpSendMessage(err); ok {
		page := views.RegisterPage{PChrome: h.pchrome(c, "Registrazione"), Form: form}
		page.Error = msg
		return h.render(c, status, views.RegisterProfile(page))
	} else if err != nil {
		return err
	}
	sm.Put(ctx, keyRegFirst, form.Values["first_name"])
	sm.Put(ctx, keyRegLast, form.Values["last_name"])
	sm.Put(ctx, keyRegMobile, mobile)
	sm.Put(ctx, keyRegEmail, email)
	sm.Put(ctx, keyRegHash, hash)
	sm.Put(ctx, keyRegDeliver, !taken)
	sm.Put(ctx, keyOTP, id)
	return c.Redirect(http.StatusSeeOther, "/registrati/codice")
}

func (h *Handler) registerCodeForm(c echo.Context) error {
	ctx := h.pctx(c)
	mobile := h.patientSessions.GetString(ctx, keyRegMobile)
	if mobile == "" {
		return c.Redirect(http.StatusSeeOther, "/registrati")
	}
	return h.renderCode(c, http.StatusOK, views.CodePage{PChrome: h.pchrome(c, "Verifica il cellulare"), Purpose: db.OTPRegister,
		Mobile: mobile, Action: "/registrati/codice"}, "")
}

// resendCode sends a new code for the page's purpose, in the given mode,
// and shows the form again; a code that cannot go is the page's error.
func (h *Handler) resendCode(c echo.Context, page views.CodePage, purpose string, mode smscode.Mode) error {
	id, err := h.codes.Issue(h.pctx(c), purpose, page.Mobile, page.AccountID, mode)
	if status, msg, ok := h.otpSendMessage(err); ok {
		page.Error = msg
		return h.renderCode(c, status, page, "")
	} else if err != nil {
		return err
	}
	h.patientSessions.Put(h.pctx(c), keyOTP, id)
	page.Flash = "Le abbiamo inviato un nuovo codice."
	return h.renderCode(c, http.StatusOK, page, "")
}

// renderCode shows an SMS-code form with when the next resend is allowed;
// codeErr, when set, explains at the code's field why the code was refused.
func (h *Handler) renderCode(c echo.Context, status int, page views.CodePage, codeErr string) error {
	if codeErr != "" {
		page.Form = views.Form{Errors: map[string]string{"code": codeErr}}
		page.Help = views.HelpCodes
	}
	next, err := h.codes.NextSend(h.pctx(c), page.Purpose, page.Mobile, page.AccountID)
	if err != nil {
		return err
	}
	page.NextSend, page.Now = next, h.now()
	return h.render(c, status, views.Code(page))
}

func (h *Handler) registerCode(c echo.Context) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	mobile := sm.GetString(ctx, keyRegMobile)
	if mobile == "" {
		return c.Redirect(http.StatusSeeOther, "/registrati")
	}
	page := views.CodePage{PChrome: h.pchrome(c, "Verifica il cellulare"), Purpose: db.OTPRegister, Mobile: mobile, Action: "/registrati/codice"}
	now := h.now()
	if c.FormValue("resend") == "1" {
		mode := smscode.SendNothing
		if sm.GetBool(ctx, keyRegDeliver) {
			mode = smscode.SendNeutral
		}
		return h.resendCode(c, page, db.OTPRegister, mode)
	}
	_, err := h.checkCode(c, db.OTPRegister)
	if status, msg, ok := otpCheckMessage(err); ok {
		h.auditCodeRefused(c, db.ActionAccountRegisterCode, 0, err)
		return h.renderCode(c, status, page, msg)
	} else if err != nil {
		return err
	}
	id, err := h.DB.CreateAccount(ctx, db.Account{
		FirstName: sm.GetString(ctx, keyRegFirst), LastName: sm.GetString(ctx, keyRegLast), Mobile: mobile,
		PasswordHash: sm.GetString(ctx, keyRegHash),
		LoginOTP:     h.Config.RequireLoginOTP, PrivacyVersion: ServicePrivacyVersion, PrivacyAcceptedAt: sessionTime(sm, ctx, keyRegConsentAt),
		Lang: string(lang(c).Lang()),
	}, c.RealIP(), now)
	if errors.Is(err, db.ErrConflict) {
		// Registered by someone else meanwhile: no detail, as for enumeration.
		page.Error = "Non è stato possibile completare la registrazione. Acceda con la sua password o usi «Password dimenticata»."
		page.Help = views.HelpPassword
		return h.renderCode(c, http.StatusConflict, page, "")
	}
	if err != nil {
		return err
	}
	email := sm.GetString(ctx, keyRegEmail)
	for _, k := range []string{keyRegConsentAt, keyRegFirst, keyRegLast, keyRegMobile, keyRegEmail, keyRegHash, keyRegDeliver} {
		sm.Remove(ctx, k)
	}
	if err := h.signIn(c, id, false); err != nil {
		return err
	}
	msg := "Registrazione completata. Ora attivi il suo fascicolo con il codice del modulo per il ritiro referti."
	if email != "" && h.Email != nil {
		acct, err := h.DB.Account(ctx, id)
		if err != nil {
			return err
		}
		if err := h.startEmailVerification(c, acct, email); errors.Is(err, errEmailUnavailable) || errors.Is(err, errEmailLimit) {
			msg += " Non è stato possibile inviare l'email di conferma: potrà riprovare da «Il mio profilo»."
		} else if err != nil {
			return err
		} else {
			msg += " Le abbiamo inviato un'email per confermare l'indirizzo."
		}
	}
	h.pflash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/attiva")
}

// queueOncePerDay queues a security notice unless the account got the
// same one in the last day: repeated attempts must not flood the holder.
func (h *Handler) queueOncePerDay(c echo.Context, a db.Account, text string) {
	ctx := h.pctx(c)
	n, err := h.DB.CountRecentOutbox(ctx, a.ID, "security", text, h.now().Add(-24*time.Hour))
	if err != nil {
		h.Log.Error("count notices", "account", a.ID, "err", err)
		return
	}
	if n > 0 {
		return
	}
	h.queueSecurityNotice(c, a, text)
}

// queueSecurityNotice tells an account holder about an event on their
// account, by SMS and, when known, email. It never carries a code.
func (h *Handler) queueSecurityNotice(c echo.Context, a db.Account, text string) {
	ctx := h.pctx(c)
	for _, m := range securityNotices(a, text) {
		if err := h.DB.Enqueue(ctx, m, h.now()); err != nil {
			h.Log.Error("queue security notice", "account", a.ID, "err", err)
		}
	}
}

func securityNotices(a db.Account, text string) []db.OutboxMessage {
	msgs := []db.OutboxMessage{{Channel: db.ChannelSMS, Recipient: a.Mobile, Body: "Referti online: " + text, Kind: "security", AccountID: a.ID}}
	if a.Email != "" {
		msgs = append(msgs, db.OutboxMessage{Channel: db.ChannelEmail, Recipient: a.Email, Subject: "Referti online: avviso di sicurezza",
			Body: "Gentile utente,\n\n" + text + "\n", Kind: "security", AccountID: a.ID})
	}
	return msgs
}
