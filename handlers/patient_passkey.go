package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// A patient's passkeys: added from "Il mio profilo → Sicurezza" with the
// password, they log in without a password ("Accedi con passkey"), or
// confirm a login or a password reset after the password or the SMS code.
// Each ceremony is two posts from the page's script: URL/opzioni for the
// options, then URL with the browser's answer.

// The security notices of passkeys, sent by SMS and email (their
// sentences' IDs in the notify catalogue).
const (
	noticePasskeyAdded   = "notify.security_passkey_added"
	noticePasskeyRemoved = "notify.security_passkey_removed"
)

// patientPasskeyRoutes registers the patients' passkeys; without passkeys
// (no http(s) base URL) only the removal of those left remains.
func (h *Handler) patientPasskeyRoutes(pub *routeGroup, auth, codeLimit echo.MiddlewareFunc) {
	pub.GET("/profilo/sicurezza/passkey/:id/rimuovi", h.removeFactorForm(db.FactorPasskey), auth)
	pub.POST("/profilo/sicurezza/passkey/:id/rimuovi", h.removeFactor(db.FactorPasskey), auth)
	if h.passkeys == nil {
		return
	}
	pub.POST("/accedi/passkey/opzioni", h.passkeyLoginOptions, codeLimit)
	pub.POST("/accedi/passkey", h.passkeyLogin, codeLimit)
	pub.POST("/accedi/app/passkey/opzioni", h.loginPasskeyStepOptions, codeLimit)
	pub.POST("/accedi/app/passkey", h.loginPasskeyStep, codeLimit)
	pub.POST("/password-dimenticata/app/passkey/opzioni", h.resetPasskeyStepOptions, codeLimit)
	pub.POST("/password-dimenticata/app/passkey", h.resetPasskeyStep, codeLimit)
	pub.POST("/profilo/sicurezza/passkey/opzioni", h.addPasskeyOptions, auth)
	pub.POST("/profilo/sicurezza/passkey", h.addPasskey, auth)
}

// passkeyLoginOptions starts a passwordless login: the browser offers the
// passkeys it holds for the portal.
func (h *Handler) passkeyLoginOptions(c echo.Context) error {
	options, state, err := h.passkeys.BeginLogin(nil)
	if err != nil {
		return err
	}
	return h.startPasskeyLogin(c, h.patientSessions, options, state)
}

// passkeyLogin logs in with a passkey alone: it proves the device and its
// owner (fingerprint, face or PIN), so the session is the same as after
// the password and a second factor. Failures count per client address.
func (h *Handler) passkeyLogin(c echo.Context) error {
	ctx := h.pctx(c)
	ip := "passkey-ip:" + c.RealIP()
	f, status, msg, err := h.checkPasskey(c, passkeyCheck{sm: h.patientSessions,
		refused: db.AuditEvent{Actor: patientActor(c, 0), Action: db.ActionAccountLogin},
		locks:   []attemptLock{{throttle: passkeyThrottle, key: ip}}})
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	now := h.now()
	event := db.AuditEvent{At: now, Actor: patientActor(c, f.Owner.ID), Action: db.ActionAccountLogin, Outcome: db.OutcomeOK,
		Detail: passkeyDetail(f, "without password")}
	if err := h.DB.RecordAccountLogin(ctx, f.Owner.ID, "", ip, event, now); err != nil {
		return err
	}
	if err := h.signIn(c, f.Owner.ID, true); err != nil {
		return err
	}
	to, err := h.afterLoginPath(c, f.Owner.ID)
	if err != nil {
		return err
	}
	return passkeyRedirect(c, to)
}

func (h *Handler) loginPasskeyStepOptions(c echo.Context) error {
	a, ok, err := h.pendingAppAccount(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, lang(c).T("passkey.step_expired"))
	}
	return h.beginPasskeyStep(c, h.patientSessions, db.AccountOwner(a.ID))
}

// accountPasskeyCheck is the passkey asked of a's holder after the password
// or the reset's SMS code, behind the second step's lockouts.
func (h *Handler) accountPasskeyCheck(c echo.Context, a db.Account) passkeyCheck {
	owner := db.AccountOwner(a.ID)
	return passkeyCheck{sm: h.patientSessions, owner: &owner,
		refused: db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionAccountSecondFactor}, locks: factorLocks(owner)}
}

// loginPasskeyStep completes a login whose password was right with one of
// the account's passkeys.
func (h *Handler) loginPasskeyStep(c echo.Context) error {
	a, ok, err := h.pendingAppAccount(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, lang(c).T("passkey.step_expired"))
	}
	f, status, msg, err := h.checkPasskey(c, h.accountPasskeyCheck(c, a))
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	if err := h.signIn(c, a.ID, true); err != nil {
		return err
	}
	if err := h.DB.Audit(h.pctx(c), db.AuditEvent{At: h.now(), Actor: patientActor(c, a.ID), Action: db.ActionAccountSecondFactor,
		Detail: passkeyDetail(f, "")}); err != nil {
		return err
	}
	to, err := h.afterLoginPath(c, a.ID)
	if err != nil {
		return err
	}
	return passkeyRedirect(c, to)
}

func (h *Handler) resetPasskeyStepOptions(c echo.Context) error {
	a, _, _, ok, err := h.pendingReset(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, msgResetExpired(c))
	}
	return h.beginPasskeyStep(c, h.patientSessions, db.AccountOwner(a.ID))
}

// resetPasskeyStep sets a reset's new password once one of the account's
// passkeys confirms it.
func (h *Handler) resetPasskeyStep(c echo.Context) error {
	a, otpID, hash, ok, err := h.pendingReset(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, msgResetExpired(c))
	}
	f, status, msg, err := h.checkPasskey(c, h.accountPasskeyCheck(c, a))
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	if done, err := h.applyReset(c, a, otpID, hash, passkeyDetail(f, "password reset")); err != nil {
		return err
	} else if !done {
		return passkeyError(c, http.StatusUnauthorized, msgResetExpired(c))
	}
	h.pflash(c, msgResetDone(c))
	return passkeyRedirect(c, "/accedi")
}

// accountPasskeyEnrolment is a passkey being added by the logged-in patient: the
// device shows their email (or mobile) and name.
func (h *Handler) accountPasskeyEnrolment(c echo.Context) passkeyEnrolment {
	a := currentAccount(c)
	name := a.Email
	if name == "" {
		name = a.Mobile
	}
	return passkeyEnrolment{sm: h.patientSessions, owner: db.AccountOwner(a.ID), name: name, display: a.FullName(),
		event: db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionAccountFactorAdd}, notices: securityNotices(*a, noticePasskeyAdded)}
}

// addPasskeyOptions starts adding a passkey once the password is right.
func (h *Handler) addPasskeyOptions(c echo.Context) error {
	if msg, err := h.reauthenticate(c, currentAccount(c), c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		return passkeyError(c, http.StatusUnprocessableEntity, msg)
	}
	return h.beginPasskeyEnrolment(c, h.accountPasskeyEnrolment(c), c.FormValue("name"))
}

// addPasskey stores the passkey the browser made; the first factor brings
// recovery codes, shown once.
func (h *Handler) addPasskey(c echo.Context) error {
	codes, status, msg, err := h.finishPasskeyEnrolment(c, h.accountPasskeyEnrolment(c))
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	if err := h.factorAdded(c, db.AccountOwner(currentAccount(c).ID), codes); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("passkey.added"))
	if codes != nil {
		return passkeyRedirect(c, "/profilo/sicurezza/codici")
	}
	return passkeyRedirect(c, "/profilo/sicurezza")
}
