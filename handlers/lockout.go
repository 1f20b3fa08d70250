package handlers

import (
	"math"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/locale"
)

// Lockouts, counted in SQLite per key (a username, an account, a codice
// fiscale) so they survive restarts and apply whatever the client IP.
var (
	staffThrottle      = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	patientThrottle    = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	activationThrottle = db.Throttle{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// Authenticator-app and recovery codes, per owner: five wrong codes
	// lock for 15 minutes, and at most 50 a day, as for SMS codes (five
	// tries per code, ten codes a day).
	factorThrottle      = db.Throttle{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	factorDailyThrottle = db.Throttle{MaxFailures: 50, Window: 24 * time.Hour, LockFor: 24 * time.Hour}
	// Passwordless logins with a passkey, per client address: the passkey
	// names its owner only once it is checked, so the address is what
	// failures count on.
	passkeyThrottle = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
	// Share codes typed by a doctor with the patient's birth date, as for
	// activation codes: five wrong pairs from one address, or on one code,
	// lock for 15 minutes.
	shareThrottle = db.Throttle{MaxFailures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
)

// claimAttempts counts an attempt on every key before the attempt is
// checked, so parallel guesses cannot outrun the lockout. Every key is read
// before any is counted: a locked key must not go on burning the attempts
// of the others. When one is locked, the denial is audited (denied, with
// its outcome and detail filled in) and the minutes left are returned; 0
// means go on. A success must clear the keys (db.ClearFailures).
func (h *Handler) claimAttempts(c echo.Context, t db.Throttle, denied db.AuditEvent, keys ...string) (int, error) {
	if mins, err := h.refuseLocked(c, denied, keys...); err != nil || mins > 0 {
		return mins, err
	}
	for _, k := range keys {
		until, err := h.DB.ClaimAttempt(c.Request().Context(), t, k, h.now())
		if err != nil {
			return 0, err
		}
		if !until.IsZero() {
			return h.refuse(c, denied, until), nil
		}
	}
	return 0, nil
}

// refuseLocked reads the keys without counting: when one is locked, the
// denial is audited as in claimAttempts and the minutes left returned.
func (h *Handler) refuseLocked(c echo.Context, denied db.AuditEvent, keys ...string) (int, error) {
	until := time.Time{}
	for _, k := range keys {
		u, err := h.DB.LockedUntil(c.Request().Context(), k, h.now())
		if err != nil {
			return 0, err
		}
		if u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return 0, nil
	}
	return h.refuse(c, denied, until), nil
}

// refuse audits an attempt refused by a lock that lasts until, and returns
// the minutes left.
func (h *Handler) refuse(c echo.Context, denied db.AuditEvent, until time.Time) int {
	now := h.now()
	denied.At, denied.Outcome, denied.Detail = now, db.OutcomeDenied, db.DetailLockedOut
	if err := h.DB.Audit(c.Request().Context(), denied); err != nil {
		h.Log.Error("audit lockout", "action", denied.Action, "err", err)
	}
	return max(1, int(math.Ceil(until.Sub(now).Minutes())))
}

// waitFor says in p's language how long a lockout still lasts: minutes,
// or hours (rounded up) beyond an hour and a half.
func waitFor(p *locale.Printer, mins int) string {
	if mins > 90 {
		return p.N("common.wait_hours", (mins+59)/60)
	}
	return p.N("common.wait_minutes", mins)
}
