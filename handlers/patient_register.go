package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
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
	return h.render(c, http.StatusOK, views.RegisterConsent(views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title"))}))
}

func (h *Handler) registerConsent(c echo.Context) error {
	if c.FormValue("consent") != "1" {
		page := views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title")), Form: views.Form{Errors: map[string]string{
			"consent": lang(c).T("register.consent_missing")}}}
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
	return h.render(c, http.StatusOK, views.RegisterProfile(views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title")),
		Form: views.Form{Values: map[string]string{}}}))
}

// checkNewPassword applies the password policy and the confirmation; the
// refusals are in the request's language.
func checkNewPassword(c echo.Context, form views.Form, pw, pw2 string, userInputs ...string) string {
	if err := pwpolicy.Check(pw, userInputs...); err != nil {
		var p *pwpolicy.Problem
		if errors.As(err, &p) {
			form.Errors["password"] = p.Message(lang(c))
		} else {
			form.Errors["password"] = lang(c).T("password.invalid")
		}
		return ""
	}
	if pwpolicy.Normalize(pw) != pwpolicy.Normalize(pw2) {
		form.Errors["password2"] = lang(c).T("password.mismatch")
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
	for _, f := range []struct{ name, msg string }{{"first_name", "register.first_name_missing"}, {"last_name", "register.last_name_missing"}} {
		if v := form.Values[f.name]; v == "" {
			form.Errors[f.name] = lang(c).T(f.msg)
		} else if utf8.RuneCountInString(v) > 100 {
			form.Errors[f.name] = lang(c).T("register.too_long")
		}
	}
	mobile, err := phone.NormalizeMobile(form.Values["mobile"])
	switch {
	case form.Values["mobile"] == "":
		form.Errors["mobile"] = lang(c).T("register.mobile_missing")
	case errors.Is(err, phone.ErrNotMobile):
		form.Errors["mobile"] = lang(c).T("register.not_mobile")
	case err != nil:
		form.Errors["mobile"] = lang(c).T("register.mobile_invalid")
	}
	email := strings.ToLower(form.Values["email"])
	if email != "" {
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
			form.Errors["email"] = lang(c).T("register.email_invalid")
		}
	}
	pw := checkNewPassword(c, form, c.FormValue("password"), c.FormValue("password2"),
		form.Values["first_name"], form.Values["last_name"], strings.TrimPrefix(mobile, "+39"), strings.Split(email, "@")[0])
	if form.HasErrors() {
		return h.render(c, http.StatusUnprocessableEntity, views.RegisterProfile(views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title")), Form: form}))
	}
	// The rules on sending come first (the number's country, the portal's
	// daily budget, the number's limit): past them, no code and no notice
	// goes out.
	if err := h.codes.MaySend(ctx, db.OTPRegister, mobile, 0); err != nil {
		status, msg, ok := h.otpSendMessage(c, err)
		if !ok {
			return err
		}
		page := views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title")), Form: form}
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
		h.queueOncePerDay(c, a, "notify.security_register_attempt")
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	mode := smscode.SendNeutral
	if taken {
		mode = smscode.SendNothing
	}
	// The code's SMS speaks the language of the page being filled in.
	id, err := h.codes.Issue(ctx, db.OTPRegister, mobile, 0, mode, lang(c).Lang())
	if status, msg, ok := h.otpSendMessage(c, err); ok {
		page := views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("register.title")), Form: form}
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
	return h.renderCode(c, http.StatusOK, views.CodePage{PChrome: h.pchrome(c, lang(c).T("register.verify_title")), Purpose: db.OTPRegister,
		Mobile: mobile, Action: "/registrati/codice"}, "")
}

// resendCode sends a new code for the page's purpose, in the given mode,
// and shows the form again; a code that cannot go is the page's error.
// The SMS speaks the request's language, or a logged-in patient's
// account's.
func (h *Handler) resendCode(c echo.Context, page views.CodePage, purpose string, mode smscode.Mode) error {
	l := lang(c).Lang()
	if a := currentAccount(c); a != nil {
		l = accountLang(*a)
	}
	id, err := h.codes.Issue(h.pctx(c), purpose, page.Mobile, page.AccountID, mode, l)
	if status, msg, ok := h.otpSendMessage(c, err); ok {
		page.Error = msg
		return h.renderCode(c, status, page, "")
	} else if err != nil {
		return err
	}
	h.patientSessions.Put(h.pctx(c), keyOTP, id)
	page.Flash = lang(c).T("codepage.resent")
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
	page := views.CodePage{PChrome: h.pchrome(c, lang(c).T("register.verify_title")), Purpose: db.OTPRegister, Mobile: mobile, Action: "/registrati/codice"}
	now := h.now()
	if c.FormValue("resend") == "1" {
		mode := smscode.SendNothing
		if sm.GetBool(ctx, keyRegDeliver) {
			mode = smscode.SendNeutral
		}
		return h.resendCode(c, page, db.OTPRegister, mode)
	}
	_, err := h.checkCode(c, db.OTPRegister)
	if status, msg, ok := otpCheckMessage(c, err); ok {
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
		page.Error = lang(c).T("register.conflict")
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
	msg := lang(c).T("register.done")
	if email != "" && h.Email != nil {
		acct, err := h.DB.Account(ctx, id)
		if err != nil {
			return err
		}
		if err := h.startEmailVerification(c, acct, email); errors.Is(err, errEmailUnavailable) || errors.Is(err, errEmailLimit) {
			msg += " " + lang(c).T("register.email_not_sent")
		} else if err != nil {
			return err
		} else {
			msg += " " + lang(c).T("register.email_sent")
		}
	}
	h.pflash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/attiva")
}
