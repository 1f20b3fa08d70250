package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/mfa"
	"fse/internal/qrsvg"
	"fse/internal/sealbox"
	"fse/views"
)

// What patients and staff share about second factors: the lockouts on
// codes and passkeys, the explanations, the enrolment kept sealed in the session
// and the recovery codes' one showing.

// keyEnrolment holds, in either realm's session, the secret of an app
// being added, sealed for its owner until its first code confirms it.
const keyEnrolment = "totp_enrolment"

// factorCheck is a typed second-factor code to check for owner.
type factorCheck struct {
	owner db.Owner
	typed string
	// audit is the event of the step (ActionAccountSecondFactor or
	// ActionStaffSecondFactor), with its actor: a refusal is audited as it.
	audit db.AuditEvent
	// recovery is the event audited when a recovery code is used, and
	// notices the messages it sends, in the same transaction.
	recovery db.AuditEvent
	notices  []db.OutboxMessage
}

// checkFactor verifies a typed app or recovery code behind the owner's
// factor lockouts (factorLocks: the quarter-hour one counted before the
// check and cleared by a success, the daily one counting wrong codes).
// msg explains a refusal to the person, with status; empty when accepted.
func (h *Handler) checkFactor(c echo.Context, fc factorCheck) (res mfa.Result, status int, msg string, err error) {
	ctx := c.Request().Context()
	locks := factorLocks(fc.owner)
	if mins, err := h.claimLocks(c, locks, fc.audit); err != nil {
		return res, 0, "", err
	} else if mins > 0 {
		return res, http.StatusTooManyRequests, lang(c).T("mfa.locked", "Wait", waitFor(lang(c), mins)), nil
	}
	res, err = h.factors.Check(ctx, fc.owner, fc.typed, fc.recovery, fc.notices...)
	switch {
	case errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrCodeReused):
		refused := fc.audit
		refused.At, refused.Outcome, refused.Detail = h.now(), db.OutcomeFailed, "wrong code"
		status, msg = http.StatusUnprocessableEntity, lang(c).T("mfa.wrong_code")
		if errors.Is(err, mfa.ErrCodeReused) {
			refused.Detail = "code already used"
			msg = lang(c).T("mfa.reused_code")
		}
		if aerr := h.DB.Audit(ctx, refused); aerr != nil {
			return res, 0, "", aerr
		}
		return res, status, msg, h.countWrong(c, locks)
	case err != nil:
		return res, 0, "", err
	}
	return res, 0, "", h.clearLocks(c, locks)
}

// attemptLock is a lockout: a key counted under a throttle.
type attemptLock struct {
	throttle db.Throttle
	key      string
	// afterCheck marks a lock that counts wrong answers only, once
	// checked (countWrong), and that a success does not clear: the daily
	// lock, so wrong codes add up over the day between right ones. The
	// quarter-hour lock, counted before the check, bounds the answers
	// sent at once.
	afterCheck bool
}

// factorLocks are the lockouts of an owner's second step, whichever factor
// is tried (an app's code, a recovery code, a passkey): a quarter-hour
// lock and a daily one.
func factorLocks(owner db.Owner) []attemptLock {
	return []attemptLock{{throttle: factorThrottle, key: db.FactorKey(owner)},
		{throttle: factorDailyThrottle, key: db.FactorDayKey(owner), afterCheck: true}}
}

// claimLocks reads every lock before counting any (as claimAttempts does
// for keys), then counts an attempt on each lock counted before the check;
// it returns the minutes left of a lock, 0 meaning go on.
func (h *Handler) claimLocks(c echo.Context, locks []attemptLock, denied db.AuditEvent) (int, error) {
	keys := make([]string, len(locks))
	for i, l := range locks {
		keys[i] = l.key
	}
	if mins, err := h.refuseLocked(c, denied, keys...); err != nil || mins > 0 {
		return mins, err
	}
	for _, l := range locks {
		if l.afterCheck {
			continue
		}
		if mins, err := h.claimAttempts(c, l.throttle, denied, l.key); err != nil || mins > 0 {
			return mins, err
		}
	}
	return 0, nil
}

// countWrong counts a wrong answer on each lock counted after the check.
func (h *Handler) countWrong(c echo.Context, locks []attemptLock) error {
	for _, l := range locks {
		if !l.afterCheck {
			continue
		}
		if _, err := h.DB.ClaimAttempt(c.Request().Context(), l.throttle, l.key, h.now()); err != nil {
			return err
		}
	}
	return nil
}

// clearLocks ends the count of each lock counted before the check, after
// a success.
func (h *Handler) clearLocks(c echo.Context, locks []attemptLock) error {
	for _, l := range locks {
		if l.afterCheck {
			continue
		}
		if err := h.DB.ClearFailures(c.Request().Context(), l.key); err != nil {
			return err
		}
	}
	return nil
}

// secondStep is what the second step of owner's login offers: the app's
// code when they have an app (a recovery code otherwise), and their passkey,
// run at passkeyAction, when they have one and passkeys are on.
func (h *Handler) secondStep(ctx context.Context, owner db.Owner, passkeyAction string) (views.SecondStep, error) {
	factors, err := h.DB.Factors(ctx, owner)
	if err != nil {
		return views.SecondStep{}, err
	}
	var s views.SecondStep
	for _, f := range factors {
		switch {
		case f.Kind == db.FactorTOTP:
			s.App = true
		case f.Kind == db.FactorPasskey && h.passkeys != nil:
			s.PasskeyAction = passkeyAction
		}
	}
	return s, nil
}

// recoveryUsedNotice tells, in p's language, the person who logged in
// with a recovery code how many are left, and what to do when few are:
// securityPage says where the Sicurezza page is.
func recoveryUsedNotice(p *locale.Printer, left int, securityPage string) string {
	msg := p.T("mfa.recovery_used", "Codes", p.N("mfa.codes", left))
	if left <= 3 {
		msg += " " + p.T("mfa.recovery_few", "Where", securityPage)
	}
	return msg
}

// patientRecoveryUsedFlash is recoveryUsedNotice for a patient, in the
// request's language, pointing at "Il mio profilo → Sicurezza".
func patientRecoveryUsedFlash(c echo.Context, left int) string {
	return recoveryUsedNotice(lang(c), left, lang(c).T("mfa.security_path"))
}

// enrolment returns the app being added by owner in this session, or a new
// one kept (sealed) in the session until it is confirmed.
func (h *Handler) enrolment(c echo.Context, owner db.Owner, account string, patient bool) (mfa.Enrolment, error) {
	ctx := c.Request().Context()
	sm := h.staffSessions
	if patient {
		sm = h.patientSessions
	}
	if sealed := sm.GetBytes(ctx, keyEnrolment); sealed != nil {
		if e, err := h.factors.OpenEnrolment(owner, account, sealed); err == nil {
			return e, nil
		}
	}
	e, err := h.factors.NewEnrolment(owner, account)
	if err != nil {
		return e, err
	}
	sm.Put(ctx, keyEnrolment, e.Sealed)
	return e, nil
}

// enrolView is what the enrolment page shows of an app being added,
// the QR code's text alternative in p's language.
func enrolView(p *locale.Printer, e mfa.Enrolment) (views.EnrolView, error) {
	qr, err := qrsvg.Render(e.URL, p.T("mfa.qr_alt"))
	if err != nil {
		return views.EnrolView{}, err
	}
	return views.EnrolView{QR: qr, Secret: e.SecretGroups()}, nil
}

// keyRecoveryCodes holds, in the session that made them, new recovery
// codes until their one showing, sealed for their owner: neither another
// session of the owner nor a copy of the sessions table can read them.
const keyRecoveryCodes = "recovery_codes"

// sessionOf is the session manager of owner's realm.
func (h *Handler) sessionOf(owner db.Owner) *scs.SessionManager {
	if owner.Staff {
		return h.staffSessions
	}
	return h.patientSessions
}

// holdRecoveryCodes keeps new recovery codes in this session for their one
// showing, after the redirect that follows the POST that made them.
func (h *Handler) holdRecoveryCodes(c echo.Context, owner db.Owner, codes []string) error {
	sealed, err := h.Keys.SealValue(sealbox.RecoveryCodesShown, owner.String(), []byte(strings.Join(codes, "\n")))
	if err != nil {
		return err
	}
	h.sessionOf(owner).Put(c.Request().Context(), keyRecoveryCodes, sealed)
	return nil
}

// takeRecoveryCodes returns the codes this session holds for owner, once;
// nil when it holds none.
func (h *Handler) takeRecoveryCodes(c echo.Context, owner db.Owner) []string {
	sealed := h.sessionOf(owner).PopBytes(c.Request().Context(), keyRecoveryCodes)
	if sealed == nil {
		return nil
	}
	held, err := h.Keys.OpenValue(sealbox.RecoveryCodesShown, owner.String(), sealed)
	if err != nil {
		return nil
	}
	return strings.Split(string(held), "\n")
}

// factorAdded is what adding a second factor does to the session that
// added it: a new token, as the session now holds more, and the mark that
// it proved a factor. With the owner's first factor (the one that brings
// codes, held here for their one showing) every other session of the
// owner ends, as after a new password: they were opened with the password
// alone. This one goes on, stamped after the cut-off.
func (h *Handler) factorAdded(c echo.Context, owner db.Owner, codes []string) error {
	ctx := c.Request().Context()
	sm, authAt, proved := h.staffSessions, keyStaffAuthAt, keyStaffFactor
	if !owner.Staff {
		sm, authAt, proved = h.patientSessions, keyAuthAt, keyFactor
	}
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	sm.Put(ctx, proved, true)
	if codes == nil {
		return nil
	}
	now := h.now()
	if err := h.DB.EndSessions(ctx, owner, now); err != nil {
		return err
	}
	putSessionTime(sm, ctx, authAt, now.Add(1))
	return h.holdRecoveryCodes(c, owner, codes)
}

// appName is the name an app is added under: the one typed, or, when none
// was, "Authenticator app" in the page's language (Italian on the desk).
func appName(c echo.Context) string {
	if name := c.FormValue("name"); strings.TrimSpace(name) != "" {
		return name
	}
	return lang(c).T("mfa.default_app_name")
}
