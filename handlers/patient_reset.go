package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/phone"
	"fse/internal/pwpolicy"
	"fse/internal/smscode"
	"fse/views"
)

const keyResetAccount = "reset_account_id"

func pwNormalize(pw string) string { return pwpolicy.Normalize(pw) }

func (h *Handler) forgotForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.Forgot(views.LoginPatientPage{PChrome: h.pchrome(c, lang(c).T("reset.forgot_title"))}))
}

// forgot sends a reset code by SMS. Unknown identifiers get the same
// answer, so the page does not tell who has an account.
func (h *Handler) forgot(c echo.Context) error {
	ctx := h.pctx(c)
	identifier := strings.TrimSpace(c.FormValue("identifier"))
	form := views.Form{Values: map[string]string{"identifier": identifier}, Errors: map[string]string{}}
	if identifier == "" {
		form.Errors["identifier"] = lang(c).T("login.identifier_missing")
		return h.render(c, http.StatusUnprocessableEntity, views.Forgot(views.LoginPatientPage{PChrome: h.pchrome(c, lang(c).T("reset.forgot_title")), Form: form}))
	}
	a, _, err := h.findAccount(c, identifier)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// Unknown numbers are counted under the same normalised number as known
	// ones, so the send limit answers alike for both.
	mobile := a.Mobile
	if mobile == "" {
		if m, perr := phone.NormalizeMobile(identifier); perr == nil {
			mobile = m
		} else {
			mobile = "unknown:" + strings.ToLower(identifier)
		}
	}
	mode := smscode.SendNeutral
	if a.ID == 0 {
		mode = smscode.SendNothing
	}
	// The SMS speaks the language of the page that asked for it.
	id, err := h.codes.Issue(ctx, db.OTPReset, mobile, a.ID, mode, lang(c).Lang())
	_, perr := phone.NormalizeMobile(identifier)
	if errors.As(err, new(smscode.LimitError)) || (errors.As(err, new(smscode.CountryError)) && perr != nil) {
		// Past the limit nothing is sent, with the same answer as always:
		// a 429 here would tell which numbers and emails have an account.
		// So for an email (or a name that is no number): whether codes go
		// to its account's country would tell that the account exists. For
		// a typed number, its country depends on the number alone and is
		// explained.
		id, err = -1, nil
	}
	if status, msg, ok := h.otpSendMessage(c, err); ok {
		page := views.LoginPatientPage{PChrome: h.pchrome(c, lang(c).T("reset.forgot_title")), Form: form}
		page.Error = msg
		return h.render(c, status, views.Forgot(page))
	} else if err != nil {
		return err
	}
	sm := h.patientSessions
	sm.Put(ctx, keyOTP, id)
	sm.Put(ctx, keyResetAccount, a.ID)
	if a.ID != 0 {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: patientActor(c, a.ID), Action: db.ActionAccountResetRequest})
	}
	return c.Redirect(http.StatusSeeOther, "/password-dimenticata/codice")
}

func (h *Handler) resetForm(c echo.Context) error {
	if h.patientSessions.GetInt64(h.pctx(c), keyOTP) == 0 {
		return c.Redirect(http.StatusSeeOther, "/password-dimenticata")
	}
	return h.render(c, http.StatusOK, views.Reset(views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("reset.title"))}))
}

// reset checks the code and sets the new password. It does not log in, and
// it ends every session of the account.
func (h *Handler) reset(c echo.Context) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	otpID := sm.GetInt64(ctx, keyOTP)
	if otpID == 0 {
		return c.Redirect(http.StatusSeeOther, "/password-dimenticata")
	}
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	// renderErr shows the form again; codeErr explains at the code's
	// field why the code was refused.
	renderErr := func(status int, codeErr string) error {
		page := views.RegisterPage{PChrome: h.pchrome(c, lang(c).T("reset.title")), Form: form}
		if codeErr != "" {
			form.Errors["code"] = codeErr
			page.Help = views.HelpCodes
		}
		return h.render(c, status, views.Reset(page))
	}
	accountID := sm.GetInt64(ctx, keyResetAccount)
	// First the rules that say nothing about the account, then the code,
	// and only once the code proved who is asking the rule about the
	// holder's own data: checked earlier, it would tell strangers whether
	// the number has an account. The code is used up only when all pass.
	if checkNewPassword(c, form, c.FormValue("password"), c.FormValue("password2")); form.HasErrors() {
		return renderErr(http.StatusUnprocessableEntity, "")
	}
	now := h.now()
	o, err := h.codes.Verify(ctx, otpID, db.OTPReset, c.FormValue("code"))
	if otpID < 0 || err == nil && (o.AccountID == 0 || o.AccountID != accountID) {
		// No code was sent (id -1): any code is as wrong as a mistyped one.
		err = db.ErrOTPWrong
	}
	if status, msg, ok := otpCheckMessage(c, err); ok {
		h.auditCodeRefused(c, db.ActionAccountResetCode, accountID, err)
		return renderErr(status, msg)
	} else if err != nil {
		return err
	}
	holder, err := h.DB.Account(ctx, accountID)
	if err != nil {
		return err
	}
	pw := checkNewPassword(c, form, c.FormValue("password"), c.FormValue("password2"),
		holder.FirstName, holder.LastName, strings.TrimPrefix(holder.Mobile, "+39"), strings.Split(holder.Email, "@")[0])
	if form.HasErrors() {
		return renderErr(http.StatusUnprocessableEntity, "")
	}
	// An account with an authenticator app gives its code too before the
	// new password takes effect: the SMS alone is not enough.
	if withApp, err := h.DB.HasFactor(ctx, db.AccountOwner(accountID)); err != nil {
		return err
	} else if withApp {
		return h.startResetAppStep(c, otpID, pw)
	}
	if err := h.DB.UseOTP(ctx, otpID, now); err != nil {
		_, msg, _ := otpCheckMessage(c, err)
		return renderErr(http.StatusUnprocessableEntity, msg)
	}
	hash, err := h.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	a, err := h.DB.Account(ctx, accountID)
	if err != nil {
		return err
	}
	notices := securityNotices(a, noticePasswordReset)
	if err := h.DB.SetAccountPassword(ctx, accountID, hash, patientActor(c, accountID), now, notices...); err != nil {
		return err
	}
	if err := h.DB.ClearFailures(ctx, "account:"+itoa(accountID)); err != nil {
		return err
	}
	if err := sm.Destroy(ctx); err != nil {
		return err
	}
	h.pflash(c, msgResetDone(c))
	return c.Redirect(http.StatusSeeOther, "/accedi")
}
