package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/phone"
	"fse/internal/smscode"
	"fse/views"
)

// findAccount resolves what a patient typed to log in: an email, or a
// mobile in any common Italian notation. key is what failures count on.
func (h *Handler) findAccount(c echo.Context, identifier string) (a db.Account, key string, err error) {
	identifier = strings.TrimSpace(identifier)
	if strings.Contains(identifier, "@") {
		key = "login:" + strings.ToLower(identifier)
		a, err = h.DB.AccountByEmail(h.pctx(c), identifier)
	} else if mobile, perr := phone.NormalizeMobile(identifier); perr == nil {
		key = "login:" + mobile
		a, err = h.DB.AccountByMobile(h.pctx(c), mobile)
	} else {
		key, err = "login:"+identifier, db.ErrNotFound
	}
	if err == nil {
		// One counter per account, whichever identifier was typed.
		key = "account:" + strconv.FormatInt(a.ID, 10)
	}
	return a, key, err
}

func (h *Handler) loginForm(c echo.Context) error {
	if h.patientSessions.GetInt64(h.pctx(c), keyAccount) != 0 {
		return c.Redirect(http.StatusSeeOther, "/fascicolo")
	}
	return h.render(c, http.StatusOK, views.Login(views.LoginPatientPage{PChrome: h.pchrome(c, lang(c).T("login.title")), Form: views.Form{},
		Passkey: h.passkeys != nil}))
}

func (h *Handler) login(c echo.Context) error {
	ctx := h.pctx(c)
	now := h.now()
	identifier := strings.TrimSpace(c.FormValue("identifier"))
	form := views.Form{Values: map[string]string{"identifier": identifier}, Errors: map[string]string{}}
	fail := func(status int, msg string) error {
		page := views.LoginPatientPage{PChrome: h.pchrome(c, lang(c).T("login.title")), Form: form, Passkey: h.passkeys != nil}
		page.Error = msg
		return h.render(c, status, views.Login(page))
	}
	pw := c.FormValue("password")
	if identifier == "" {
		form.Errors["identifier"] = lang(c).T("login.identifier_missing")
	}
	if pw == "" {
		form.Errors["password"] = lang(c).T("login.password_missing")
	}
	if form.HasErrors() {
		return fail(http.StatusUnprocessableEntity, "")
	}
	a, key, err := h.findAccount(c, identifier)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	actor := patientActor(c, a.ID)
	// The attempt is counted before the slow hash, so parallel guesses
	// cannot outrun the lockout.
	if mins, err := h.claimAttempts(c, patientThrottle, db.AuditEvent{Actor: actor, Action: db.ActionAccountLogin}, key); err != nil {
		return err
	} else if mins > 0 {
		return fail(http.StatusTooManyRequests, lang(c).T("login.locked", "Wait", waitFor(lang(c), mins)))
	}
	ok, rehash, err := h.Hasher.Verify(ctx, pwNormalize(pw), a.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: actor, Action: db.ActionAccountLogin, Outcome: db.OutcomeFailed})
		// The message sits at the password: which of the two was wrong is
		// not told.
		form.Errors["password"] = lang(c).T("login.bad_credentials")
		return fail(http.StatusUnauthorized, "")
	}
	// A second factor (a passkey, an app's code) replaces the SMS code.
	withApp, err := h.DB.HasFactor(ctx, db.AccountOwner(a.ID))
	if err != nil {
		return err
	}
	withCode := !withApp && (a.LoginOTP || h.Config.RequireLoginOTP)
	event := db.AuditEvent{At: now, Actor: actor, Action: db.ActionAccountLogin, Outcome: db.OutcomeOK}
	switch {
	case withApp:
		event.Detail = "password ok, second factor next"
	case withCode:
		event.Detail = "password ok, SMS code next"
	}
	if err := h.DB.RecordAccountLogin(ctx, a.ID, rehash, key, event, now); err != nil {
		return err
	}
	if withApp {
		return h.startAppStep(c, a.ID)
	}
	if withCode {
		// The SMS speaks the language of the login page, which the
		// patient is reading.
		id, err := h.codes.Issue(ctx, db.OTPLogin, a.Mobile, a.ID, smscode.SendNow, lang(c).Lang())
		if status, msg, ok := h.otpSendMessage(c, err); ok {
			return fail(status, msg)
		} else if err != nil {
			return err
		}
		sm := h.patientSessions
		if err := sm.RenewToken(ctx); err != nil {
			return err
		}
		sm.Put(ctx, keyPendingAccount, a.ID)
		sm.Remove(ctx, keyPendingStep)
		putSessionTime(sm, ctx, keyPendingAt, now)
		sm.Put(ctx, keyOTP, id)
		return c.Redirect(http.StatusSeeOther, "/accedi/codice")
	}
	if err := h.signIn(c, a.ID, false); err != nil {
		return err
	}
	return h.afterLogin(c, a.ID)
}

func (h *Handler) loginCodePage(c echo.Context) (views.CodePage, bool, error) {
	ctx := h.pctx(c)
	id := h.patientSessions.GetInt64(ctx, keyPendingAccount)
	// A login waiting for an authenticator app's code has no SMS step: a
	// code sent now would let the phone number stand in for the app.
	if id == 0 || h.patientSessions.GetString(ctx, keyPendingStep) == stepApp {
		return views.CodePage{}, false, nil
	}
	a, err := h.DB.Account(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return views.CodePage{}, false, nil
	}
	// A password step done before the password changed does not count.
	if err == nil && !sessionTime(h.patientSessions, ctx, keyPendingAt).After(a.SessionsValidAfter) {
		h.patientSessions.Remove(ctx, keyPendingAccount)
		return views.CodePage{}, false, nil
	}
	// Nor does an SMS step begun before the holder added an app: from then
	// on the app's code is the second factor, and the SMS no longer is.
	if err == nil {
		withApp, ferr := h.DB.HasFactor(ctx, db.AccountOwner(a.ID))
		if ferr != nil {
			return views.CodePage{}, false, ferr
		}
		if withApp {
			h.patientSessions.Remove(ctx, keyPendingAccount)
			h.patientSessions.Remove(ctx, keyOTP)
			return views.CodePage{}, false, nil
		}
	}
	return views.CodePage{PChrome: h.pchrome(c, lang(c).T("codepage.login_title")), Purpose: db.OTPLogin, Mobile: a.Mobile, AccountID: a.ID,
		Action: "/accedi/codice"}, true, err
}

func (h *Handler) loginCodeForm(c echo.Context) error {
	page, ok, err := h.loginCodePage(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	return h.renderCode(c, http.StatusOK, page, "")
}

func (h *Handler) loginCode(c echo.Context) error {
	ctx := h.pctx(c)
	page, ok, err := h.loginCodePage(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	if c.FormValue("resend") == "1" {
		return h.resendCode(c, page, db.OTPLogin, smscode.SendNow)
	}
	o, err := h.checkCode(c, db.OTPLogin)
	if err == nil && o.AccountID != page.AccountID {
		err = db.ErrNotFound
	}
	if status, msg, ok := otpCheckMessage(c, err); ok {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: patientActor(c, page.AccountID), Action: db.ActionAccountLoginCode,
			Outcome: db.OutcomeFailed})
		return h.renderCode(c, status, page, msg)
	} else if err != nil {
		return err
	}
	if err := h.signIn(c, page.AccountID, false); err != nil {
		return err
	}
	if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: patientActor(c, page.AccountID), Action: db.ActionAccountLoginCode}); err != nil {
		return err
	}
	return h.afterLogin(c, page.AccountID)
}

func (h *Handler) logout(c echo.Context) error {
	ctx := h.pctx(c)
	if id := h.patientSessions.GetInt64(ctx, keyAccount); id != 0 {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: patientActor(c, id), Action: db.ActionAccountLogout})
	}
	if err := h.patientSessions.Destroy(ctx); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("login.logged_out"))
	return c.Redirect(http.StatusSeeOther, "/accedi")
}
