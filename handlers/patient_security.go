package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/mfa"
	"fse/views"
)

// "Il mio profilo → Sicurezza": a patient adds or removes an authenticator
// app or a passkey (patient_passkey.go) and renews the recovery codes.
// Every change needs the password again and is told to the patient by SMS
// and email.

// patientFactorRoutes registers the patients' second factors: the login
// and password-reset steps, and the Sicurezza pages.
func (h *Handler) patientFactorRoutes(pub *routeGroup, auth, codeLimit echo.MiddlewareFunc) {
	pub.GET("/accedi/app", h.loginAppForm)
	pub.POST("/accedi/app", h.loginApp, codeLimit)
	pub.GET("/password-dimenticata/app", h.resetAppForm)
	pub.POST("/password-dimenticata/app", h.resetApp, codeLimit)
	pub.GET("/profilo/sicurezza", h.security, auth)
	pub.GET("/profilo/sicurezza/app", h.enrolForm, auth)
	pub.POST("/profilo/sicurezza/app", h.enrol, auth)
	pub.GET("/profilo/sicurezza/app/:id/rimuovi", h.removeFactorForm(db.FactorTOTP), auth)
	pub.POST("/profilo/sicurezza/app/:id/rimuovi", h.removeFactor(db.FactorTOTP), auth)
	pub.GET("/profilo/sicurezza/codici", h.recoveryCodes, auth)
	pub.POST("/profilo/sicurezza/codici", h.regenerateCodes, auth)
	h.patientPasskeyRoutes(pub, auth, codeLimit)
}

// The security notices of second factors, sent by SMS and email (their
// sentences' IDs in the notify catalogue).
const (
	noticeFactorAdded   = "notify.security_factor_added"
	noticeFactorRemoved = "notify.security_factor_removed"
	noticeNewRecovery   = "notify.security_recovery_codes_new"
	noticeRecoveryUsed  = "notify.security_recovery_code_used"
)

func (h *Handler) securityPage(c echo.Context, status int, form views.Form) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	owner := db.AccountOwner(a.ID)
	factors, err := h.DB.Factors(ctx, owner)
	if err != nil {
		return err
	}
	left, err := h.DB.RecoveryCodesLeft(ctx, owner)
	if err != nil {
		return err
	}
	return h.render(c, status, views.SecurityView(views.SecurityPage{PChrome: h.pchrome(c, lang(c).T("security.title")), Form: form,
		Security: views.Security{Factors: factors, RecoveryLeft: left, PasskeysOn: h.passkeys != nil}, LoginSMS: a.LoginOTP || h.Config.RequireLoginOTP}))
}

func (h *Handler) security(c echo.Context) error {
	return h.securityPage(c, http.StatusOK, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
}

func (h *Handler) enrolPage(c echo.Context, status int, form views.Form) error {
	a := currentAccount(c)
	e, err := h.enrolment(c, db.AccountOwner(a.ID), a.FullName(), true)
	if err != nil {
		return err
	}
	v, err := enrolView(lang(c), e)
	if err != nil {
		return err
	}
	return h.render(c, status, views.Enrol(views.EnrolPage{PChrome: h.pchrome(c, lang(c).T("security.enrol_title")), Enrol: v, Form: form}))
}

func (h *Handler) enrolForm(c echo.Context) error {
	return h.enrolPage(c, http.StatusOK, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
}

// enrol adds the app once the password and the app's first code prove it;
// the first app brings recovery codes, shown once.
func (h *Handler) enrol(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	owner := db.AccountOwner(a.ID)
	form := views.Form{Values: map[string]string{"name": c.FormValue("name")}, Errors: map[string]string{}}
	if msg, err := h.reauthenticate(c, a, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		form.Errors["password"] = msg
		return h.enrolPage(c, http.StatusUnprocessableEntity, form)
	}
	sealed := h.patientSessions.GetBytes(ctx, keyEnrolment)
	if sealed == nil {
		form.Errors["code"] = lang(c).T("mfa.enrol_expired")
		return h.enrolPage(c, http.StatusUnprocessableEntity, form)
	}
	codes, err := h.factors.Confirm(ctx, owner, sealed, c.FormValue("code"), appName(c),
		db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionAccountFactorAdd}, securityNotices(*a, noticeFactorAdded)...)
	if errors.Is(err, mfa.ErrWrongCode) {
		form.Errors["code"] = lang(c).T("mfa.enrol_wrong_code")
		return h.enrolPage(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	h.patientSessions.Remove(ctx, keyEnrolment)
	if err := h.factorAdded(c, owner, codes); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("security.app_added"))
	if codes != nil {
		return c.Redirect(http.StatusSeeOther, "/profilo/sicurezza/codici")
	}
	return c.Redirect(http.StatusSeeOther, "/profilo/sicurezza")
}

// accountFactor finds one of the account's factors of kind by the id in
// the path; another account's, or another kind's, is the same 404 as none.
func (h *Handler) accountFactor(c echo.Context, kind string) (db.Factor, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Factor{}, err
	}
	factors, err := h.DB.Factors(h.pctx(c), db.AccountOwner(currentAccount(c).ID))
	if err != nil {
		return db.Factor{}, err
	}
	for _, f := range factors {
		if f.ID == id && f.Kind == kind {
			return f, nil
		}
	}
	return db.Factor{}, db.ErrNotFound
}

// factorRemoval is what removing a factor of one kind says and does.
type factorRemoval struct {
	title, heading, button, flash, notice, path string
	lines                                       []string
}

// removalOf is what removing f says, in p's language, and does.
func removalOf(p *locale.Printer, f db.Factor) factorRemoval {
	id := itoa(f.ID)
	if f.Kind == db.FactorPasskey {
		return factorRemoval{title: p.T("security.remove_passkey"), heading: p.T("security.remove_passkey_heading", "Name", f.Name),
			button: p.T("security.remove_passkey"),
			lines:  []string{p.T("security.remove_passkey_effect"), p.T("security.remove_passkey_codes")},
			flash:  p.T("security.passkey_removed"), notice: noticePasskeyRemoved, path: "/profilo/sicurezza/passkey/" + id + "/rimuovi"}
	}
	return factorRemoval{title: p.T("security.remove_app"), heading: p.T("security.remove_app_heading", "Name", f.Name),
		button: p.T("security.remove_app"),
		lines:  []string{p.T("security.remove_app_effect"), p.T("security.remove_app_codes")},
		flash:  p.T("security.app_removed"), notice: noticeFactorRemoved, path: "/profilo/sicurezza/app/" + id + "/rimuovi"}
}

func (h *Handler) removeFactorPage(c echo.Context, status int, f db.Factor, form views.Form) error {
	r := removalOf(lang(c), f)
	return h.render(c, status, views.Confirm(views.ConfirmPage{PChrome: h.pchrome(c, r.title), Form: form, Heading: r.heading,
		Lines: r.lines, Action: r.path, Button: r.button, Back: "/profilo/sicurezza", Password: true}))
}

func (h *Handler) removeFactorForm(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := h.accountFactor(c, kind)
		if err != nil {
			return err
		}
		return h.removeFactorPage(c, http.StatusOK, f, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
	}
}

// removeFactor removes one of the account's factors of kind, after the
// password.
func (h *Handler) removeFactor(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := currentAccount(c)
		f, err := h.accountFactor(c, kind)
		if err != nil {
			return err
		}
		if msg, err := h.reauthenticate(c, a, c.FormValue("password")); err != nil {
			return err
		} else if msg != "" {
			return h.removeFactorPage(c, http.StatusUnprocessableEntity, f, views.Form{Errors: map[string]string{"password": msg}})
		}
		r := removalOf(lang(c), f)
		event := db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionAccountFactorRemove}
		if f.Kind == db.FactorPasskey {
			event.Detail = passkeyDetail(f, "")
		}
		if err := h.DB.RemoveFactor(h.pctx(c), db.AccountOwner(a.ID), f.ID, false, event, h.now(), securityNotices(*a, r.notice)...); err != nil {
			return err
		}
		h.pflash(c, r.flash)
		return c.Redirect(http.StatusSeeOther, "/profilo/sicurezza")
	}
}

// recoveryCodes shows new recovery codes, once.
func (h *Handler) recoveryCodes(c echo.Context) error {
	codes := h.takeRecoveryCodes(c, db.AccountOwner(currentAccount(c).ID))
	if codes == nil {
		return c.Redirect(http.StatusSeeOther, "/profilo/sicurezza")
	}
	return h.render(c, http.StatusOK, views.RecoveryCodes(views.RecoveryCodesPage{PChrome: h.pchrome(c, lang(c).T("security.codes_title")), Codes: codes}))
}

// regenerateCodes replaces the account's recovery codes, after the password.
func (h *Handler) regenerateCodes(c echo.Context) error {
	a := currentAccount(c)
	owner := db.AccountOwner(a.ID)
	if msg, err := h.reauthenticate(c, a, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		return h.securityPage(c, http.StatusUnprocessableEntity, views.Form{Errors: map[string]string{"password": msg}})
	}
	codes, err := h.factors.RegenerateRecoveryCodes(h.pctx(c), owner, db.AuditEvent{Actor: patientActor(c, a.ID),
		Action: db.ActionAccountRecoveryCodes, ObjectType: "account", ObjectID: a.ID}, securityNotices(*a, noticeNewRecovery)...)
	if errors.Is(err, db.ErrNotFound) {
		return h.securityPage(c, http.StatusConflict, views.Form{Errors: map[string]string{
			"password": lang(c).T("security.codes_need_factor")}})
	}
	if err != nil {
		return err
	}
	if err := h.holdRecoveryCodes(c, owner, codes); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profilo/sicurezza/codici")
}
