package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

// A patient with a second factor gives it after the password, instead of
// an SMS code: a passkey (patient_passkey.go), an app's code or a recovery
// code, whichever the account has. A password reset of such an account,
// after the reset's SMS code, asks for it too before the new password takes
// effect (ASVS 6.4.3): a stolen phone number alone never bypasses it. The
// step's address says "app" for history; the page offers what the account
// has.

// noticePasswordReset tells the holder, by SMS and email, that a reset
// changed the password (the sentence's ID in the notify catalogue).
const noticePasswordReset = "notify.security_password_reset"

// msgResetExpired is the answer to a reset's second step whose SMS code
// no longer holds, in the request's language.
func msgResetExpired(c echo.Context) string { return lang(c).T("reset.code_expired") }

// msgResetDone is the answer once a reset changed the password.
func msgResetDone(c echo.Context) string { return lang(c).T("reset.done") }

// Patient session keys of the second step.
const (
	// keyPendingStep is stepApp while a login waits for the second factor
	// (keyPendingAccount is the account), empty while it waits for an SMS.
	keyPendingStep = "pending_step"
	stepApp        = "app"
	// keyFactor marks a session that proved a second factor (or added
	// one); once the account has one, a session without it must log in
	// again.
	keyFactor = "factor_ok"
	// keyResetOTP and keyResetHash hold a password reset whose SMS code
	// was right, waiting for the app's code: the code's id and the hash of
	// the new password.
	keyResetOTP  = "reset_otp_id"
	keyResetHash = "reset_hash"
)

// startAppStep continues a login whose password was right at the second
// factor.
func (h *Handler) startAppStep(c echo.Context, accountID int64) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	sm.Remove(ctx, keyOTP)
	sm.Put(ctx, keyPendingAccount, accountID)
	sm.Put(ctx, keyPendingStep, stepApp)
	putSessionTime(sm, ctx, keyPendingAt, h.now())
	return c.Redirect(http.StatusSeeOther, "/accedi/app")
}

// pendingLoginPath is where a login that passed the password goes on.
func (h *Handler) pendingLoginPath(c echo.Context) string {
	if h.patientSessions.GetString(h.pctx(c), keyPendingStep) == stepApp {
		return "/accedi/app"
	}
	return "/accedi/codice"
}

// pendingAppAccount is the account whose login waits for the second
// factor; false when none does, or its password step no longer counts.
func (h *Handler) pendingAppAccount(c echo.Context) (db.Account, bool, error) {
	ctx := h.pctx(c)
	sm := h.patientSessions
	id := sm.GetInt64(ctx, keyPendingAccount)
	if id == 0 || sm.GetString(ctx, keyPendingStep) != stepApp {
		return db.Account{}, false, nil
	}
	a, err := h.DB.Account(ctx, id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return a, false, err
	}
	// A password step done before the password changed does not count.
	if err != nil || !sessionTime(sm, ctx, keyPendingAt).After(a.SessionsValidAfter) {
		sm.Remove(ctx, keyPendingAccount)
		sm.Remove(ctx, keyPendingStep)
		return db.Account{}, false, nil
	}
	return a, true, nil
}

// appCodePage is the second step of a's login (or reset): it offers what
// the account has, with errMsg explaining a refused code.
func (h *Handler) appCodePage(c echo.Context, a db.Account, reset bool, errMsg string) (views.FactorLoginPage, error) {
	p := views.FactorLoginPage{PChrome: h.pchrome(c, lang(c).T("login.confirm_title")), Action: "/accedi/app"}
	if reset {
		p.Title, p.Action, p.Reset = lang(c).T("reset.title"), "/password-dimenticata/app", true
	}
	if errMsg != "" {
		p.Form = views.Form{Errors: map[string]string{"code": errMsg}}
		p.Help = views.HelpCodes
	}
	var err error
	p.Step, err = h.secondStep(h.pctx(c), db.AccountOwner(a.ID), p.Action+"/passkey")
	return p, err
}

// renderAppCodePage renders the second step of a's login (or reset).
func (h *Handler) renderAppCodePage(c echo.Context, status int, a db.Account, reset bool, errMsg string) error {
	p, err := h.appCodePage(c, a, reset, errMsg)
	if err != nil {
		return err
	}
	return h.render(c, status, views.FactorLogin(p))
}

func (h *Handler) loginAppForm(c echo.Context) error {
	a, ok, err := h.pendingAppAccount(c)
	if err != nil {
		return err
	} else if !ok {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	return h.renderAppCodePage(c, http.StatusOK, a, false, "")
}

// loginApp completes the login with the app's code or a recovery code.
func (h *Handler) loginApp(c echo.Context) error {
	a, ok, err := h.pendingAppAccount(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	res, status, msg, err := h.checkFactor(c, h.accountFactorCheck(c, a))
	if err != nil {
		return err
	}
	if msg != "" {
		return h.renderAppCodePage(c, status, a, false, msg)
	}
	if err := h.signIn(c, a.ID, true); err != nil {
		return err
	}
	if res.Recovery {
		h.pflash(c, patientRecoveryUsedFlash(c, res.Left))
	} else if err := h.DB.Audit(h.pctx(c), db.AuditEvent{At: h.now(), Actor: patientActor(c, a.ID), Action: db.ActionAccountSecondFactor,
		Detail: "authenticator app"}); err != nil {
		return err
	}
	return h.afterLogin(c, a.ID)
}

// accountFactorCheck is the check of a code typed by the holder of a: a
// recovery code is audited and told by SMS and email.
func (h *Handler) accountFactorCheck(c echo.Context, a db.Account) factorCheck {
	actor := patientActor(c, a.ID)
	return factorCheck{owner: db.AccountOwner(a.ID), typed: c.FormValue("code"),
		audit:    db.AuditEvent{Actor: actor, Action: db.ActionAccountSecondFactor},
		recovery: db.AuditEvent{Actor: actor, Action: db.ActionAccountRecoveryCodeUsed, ObjectType: "account", ObjectID: a.ID},
		notices:  securityNotices(a, noticeRecoveryUsed)}
}

// startResetAppStep holds a reset whose SMS code and new password were
// accepted until the second factor is given; the code is not used up yet.
func (h *Handler) startResetAppStep(c echo.Context, otpID int64, pw string) error {
	ctx := h.pctx(c)
	hash, err := h.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	sm := h.patientSessions
	sm.Put(ctx, keyResetOTP, otpID)
	sm.Put(ctx, keyResetHash, hash)
	return c.Redirect(http.StatusSeeOther, "/password-dimenticata/app")
}

// pendingReset is the reset waiting for the second factor: the account, the
// SMS code's id and the new password's hash; false when there is none or
// its SMS code no longer holds.
func (h *Handler) pendingReset(c echo.Context) (db.Account, int64, string, bool, error) {
	ctx := h.pctx(c)
	sm := h.patientSessions
	accountID, otpID, hash := sm.GetInt64(ctx, keyResetAccount), sm.GetInt64(ctx, keyResetOTP), sm.GetString(ctx, keyResetHash)
	if accountID == 0 || otpID <= 0 || hash == "" {
		return db.Account{}, 0, "", false, nil
	}
	o, err := h.DB.OTPByID(ctx, otpID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return db.Account{}, 0, "", false, err
	}
	a, aerr := h.DB.Account(ctx, accountID)
	if aerr != nil && !errors.Is(aerr, db.ErrNotFound) {
		return a, 0, "", false, aerr
	}
	if err != nil || aerr != nil || o.Purpose != db.OTPReset || o.AccountID != accountID || !o.UsedAt.IsZero() || !h.now().Before(o.ExpiresAt) {
		sm.Remove(ctx, keyResetOTP)
		sm.Remove(ctx, keyResetHash)
		return db.Account{}, 0, "", false, nil
	}
	return a, otpID, hash, true, nil
}

func (h *Handler) resetAppForm(c echo.Context) error {
	a, _, _, ok, err := h.pendingReset(c)
	if err != nil {
		return err
	} else if !ok {
		return c.Redirect(http.StatusSeeOther, "/password-dimenticata")
	}
	return h.renderAppCodePage(c, http.StatusOK, a, true, "")
}

// resetApp sets the new password once the app's code (or a recovery
// code) is right. Like the reset without an app it does not log in, and it
// ends every session of the account.
func (h *Handler) resetApp(c echo.Context) error {
	a, otpID, hash, ok, err := h.pendingReset(c)
	if err != nil {
		return err
	}
	if !ok {
		h.pflash(c, msgResetExpired(c))
		return c.Redirect(http.StatusSeeOther, "/password-dimenticata")
	}
	res, status, msg, err := h.checkFactor(c, h.accountFactorCheck(c, a))
	if err != nil {
		return err
	}
	if msg != "" {
		return h.renderAppCodePage(c, status, a, true, msg)
	}
	detail := "authenticator app, password reset"
	if res.Recovery {
		detail = "" // the recovery code's use is its own event
	}
	if done, err := h.applyReset(c, a, otpID, hash, detail); err != nil {
		return err
	} else if !done {
		h.pflash(c, msgResetExpired(c))
		return c.Redirect(http.StatusSeeOther, "/password-dimenticata")
	}
	msg = msgResetDone(c)
	if res.Recovery {
		msg += " " + patientRecoveryUsedFlash(c, res.Left)
	}
	h.pflash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/accedi")
}

// applyReset sets a reset's new password once its second factor was
// given: it uses up the reset's SMS code (false when it no longer holds),
// audits the second factor with detail (none when empty), tells the holder
// by SMS and email, and ends every session of the account, this one too.
func (h *Handler) applyReset(c echo.Context, a db.Account, otpID int64, hash, detail string) (bool, error) {
	ctx := h.pctx(c)
	now := h.now()
	if err := h.DB.UseOTP(ctx, otpID, now); errors.Is(err, db.ErrOTPUsed) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if detail != "" {
		if err := h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, a.ID), Action: db.ActionAccountSecondFactor,
			Detail: detail}); err != nil {
			return false, err
		}
	}
	notices := securityNotices(a, noticePasswordReset)
	if err := h.DB.SetAccountPassword(ctx, a.ID, hash, patientActor(c, a.ID), now, notices...); err != nil {
		return false, err
	}
	if err := h.DB.ClearFailures(ctx, "account:"+itoa(a.ID)); err != nil {
		return false, err
	}
	return true, h.patientSessions.Destroy(ctx)
}
