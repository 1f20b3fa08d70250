package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/smscode"
	"fse/views"
)

// Versions of the privacy notices; the accepted version is stored with
// each consent, so a new text can ask for consent again.
const (
	ServicePrivacyVersion = views.ServicePrivacyVersion
	DossierPrivacyVersion = views.DossierPrivacyVersion
)

// Patient session keys.
const (
	keyAccount        = "account_id"
	keyAuthAt         = "auth_at"
	keyPendingAccount = "pending_account_id"
	keyPendingAt      = "pending_at"
	keyOTP            = "otp_id"
	keyNext           = "next"
	keyFlash          = "flash"
)

const ctxAccount = "account"

func (h *Handler) pctx(c echo.Context) context.Context { return c.Request().Context() }

// requirePatient lets through a fully authenticated account (password and,
// when asked, the SMS step); a half-done login goes back to the SMS step.
func (h *Handler) requirePatient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := h.pctx(c)
		sm := h.patientSessions
		if id := sm.GetInt64(ctx, keyAccount); id != 0 {
			a, err := h.DB.Account(ctx, id)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			authAt := sessionTime(sm, ctx, keyAuthAt)
			// A session that never proved a second factor ends once the
			// account has one, however it got it.
			if err == nil && authAt.After(a.SessionsValidAfter) && (a.Factors == 0 || sm.GetBool(ctx, keyFactor)) {
				c.Set(ctxAccount, &a)
				accountLanguage(c, a.Lang)
				return next(c)
			}
			// The account is gone, its sessions were ended (password reset,
			// first second factor) or this one lacks the factor it now has.
			_ = sm.Destroy(ctx)
			return h.toLogin(c, lang(c).T("errors.session_ended"))
		}
		if sm.GetInt64(ctx, keyPendingAccount) != 0 {
			return c.Redirect(http.StatusSeeOther, h.pendingLoginPath(c))
		}
		if c.Request().Method == http.MethodGet {
			sm.Put(ctx, keyNext, c.Request().URL.Path)
		}
		return h.toLogin(c, "")
	}
}

func (h *Handler) toLogin(c echo.Context, flash string) error {
	if flash != "" {
		h.patientSessions.Put(h.pctx(c), keyFlash, flash)
	}
	if c.Request().Method == http.MethodGet {
		return c.Redirect(http.StatusSeeOther, "/accedi")
	}
	return echo.NewHTTPError(http.StatusUnauthorized, lang(c).T("errors.session_expired"))
}

// accountLang is the language an account chose, which its SMS codes
// speak once it is logged in (Italian for an account without one).
func accountLang(a db.Account) locale.Lang {
	l, _ := locale.Parse(a.Lang)
	return l
}

func currentAccount(c echo.Context) *db.Account {
	a, _ := c.Get(ctxAccount).(*db.Account)
	return a
}

func patientActor(c echo.Context, accountID int64) db.Actor {
	return db.Actor{Kind: "patient", ID: accountID, IP: c.RealIP()}
}

// pchrome builds the patient page frame, consuming the pending flash.
func (h *Handler) pchrome(c echo.Context, title string) views.PChrome {
	return views.PChrome{
		Title:          title,
		Path:           c.Request().URL.RequestURI(),
		Account:        currentAccount(c),
		Flash:          h.patientSessions.PopString(h.pctx(c), keyFlash),
		RetentionDays:  h.Config.RetentionDays,
		EmailAvailable: h.Email != nil,
	}
}

func (h *Handler) pflash(c echo.Context, msg string) { h.patientSessions.Put(h.pctx(c), keyFlash, msg) }

// signIn starts an authenticated session with a fresh token; withFactor
// says whether a second factor was given.
func (h *Handler) signIn(c echo.Context, accountID int64, withFactor bool) error {
	ctx := h.pctx(c)
	sm := h.patientSessions
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	sm.Remove(ctx, keyPendingAccount)
	sm.Remove(ctx, keyPendingStep)
	sm.Remove(ctx, keyOTP)
	sm.Put(ctx, keyAccount, accountID)
	putSessionTime(sm, ctx, keyAuthAt, h.now())
	sm.Put(ctx, keyFactor, withFactor)
	return nil
}

// afterLogin sends the patient where they were going, or to activation
// when no dossier is active yet.
func (h *Handler) afterLogin(c echo.Context, accountID int64) error {
	to, err := h.afterLoginPath(c, accountID)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// afterLoginPath is where afterLogin sends the patient (a passkey's
// login tells the page's script).
func (h *Handler) afterLoginPath(c echo.Context, accountID int64) (string, error) {
	ctx := h.pctx(c)
	if next := h.patientSessions.PopString(ctx, keyNext); next != "" && localPath(next) == next {
		return next, nil
	}
	links, err := h.DB.DossierLinks(ctx, accountID)
	if err != nil {
		return "", err
	}
	if len(links) == 0 {
		return "/attiva", nil
	}
	return "/fascicolo", nil
}

// checkCode checks the code typed in the form against the code this
// browser session asked for, and uses it up (smscode.Service.Check).
func (h *Handler) checkCode(c echo.Context, purpose string) (db.OTP, error) {
	ctx := h.pctx(c)
	return h.codes.Check(ctx, h.patientSessions.GetInt64(ctx, keyOTP), purpose, c.FormValue("code"))
}

// Wait blocks until background SMS sends have finished; the server calls
// it on shutdown, before closing the database.
func (h *Handler) Wait() { h.codes.Wait() }

// otpSendMessage explains why a code was not sent, in the request's
// language.
func (h *Handler) otpSendMessage(c echo.Context, err error) (int, string, bool) {
	p := lang(c)
	var lim smscode.LimitError
	var country smscode.CountryError
	var budget smscode.BudgetError
	switch {
	case errors.As(err, &country):
		return http.StatusUnprocessableEntity, p.T("sms.country", "Allowed", country.AllowedText()), true
	case errors.As(err, &budget):
		return http.StatusServiceUnavailable, p.T("sms.budget", "When", views.WhenT(h.pctx(c), budget.Until, h.now())), true
	case errors.As(err, &lim):
		return http.StatusTooManyRequests, p.T("sms.limit", "When", views.WhenT(h.pctx(c), lim.Next, h.now())), true
	case errors.Is(err, smscode.ErrUnavailable):
		return http.StatusServiceUnavailable, p.T("sms.unavailable"), true
	}
	return 0, "", false
}

// otpCheckMessage explains a refused code, in the request's language.
func otpCheckMessage(c echo.Context, err error) (int, string, bool) {
	switch {
	case errors.Is(err, db.ErrOTPWrong):
		return http.StatusUnprocessableEntity, lang(c).T("codepage.wrong"), true
	case errors.Is(err, db.ErrOTPExpired):
		return http.StatusUnprocessableEntity, lang(c).T("codepage.expired"), true
	case errors.Is(err, db.ErrOTPExhausted):
		return http.StatusUnprocessableEntity, lang(c).T("codepage.exhausted"), true
	case errors.Is(err, db.ErrOTPUsed), errors.Is(err, db.ErrNotFound):
		return http.StatusUnprocessableEntity, lang(c).T("codepage.invalid"), true
	}
	return 0, "", false
}

// auditCodeRefused records a refused SMS code (wrong, expired, used up)
// typed for action by accountID (0 before the account exists), so admins
// see guessing in the audit log; never the code.
func (h *Handler) auditCodeRefused(c echo.Context, action string, accountID int64, err error) {
	reason := "code no longer valid"
	switch {
	case errors.Is(err, db.ErrOTPWrong):
		reason = "wrong code"
	case errors.Is(err, db.ErrOTPExpired):
		reason = "code expired"
	case errors.Is(err, db.ErrOTPExhausted):
		reason = "too many wrong codes"
	}
	if aerr := h.DB.Audit(h.pctx(c), db.AuditEvent{At: h.now(), Actor: patientActor(c, accountID), Action: action,
		Outcome: db.OutcomeFailed, Detail: reason}); aerr != nil {
		h.Log.Error("audit a refused sms code", "action", action, "err", aerr)
	}
}

// Times go into the session as Unix nanoseconds: scs's gob codec would
// otherwise need time.Time registered globally.
func putSessionTime(sm *scs.SessionManager, ctx context.Context, key string, t time.Time) {
	sm.Put(ctx, key, t.UnixNano())
}

func sessionTime(sm *scs.SessionManager, ctx context.Context, key string) time.Time {
	n := sm.GetInt64(ctx, key)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
