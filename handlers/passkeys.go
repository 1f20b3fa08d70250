package handlers

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/mfa"
	"fse/internal/passkey"
	"fse/internal/sealbox"
)

// What patients and staff share about passkeys: the ceremonies' state kept
// in the person's session until the browser answers, the JSON the page's
// script (static/passkey.js) exchanges, the user handle, and the checks of
// a passkey given at login with their lockouts and audit. Passkeys are off
// (nil) when the portal's address is not an http(s) one: the relying party
// is its host.

// Session keys of the ceremonies, in either realm's session. A state
// serves one answer: it is taken out of the session when the answer comes.
const (
	// keyPasskeyLogin is a login's ceremony (passwordless or second step).
	keyPasskeyLogin = "passkey_login"
	// keyPasskeyAdd and keyPasskeyName are a passkey being added, and the
	// name its owner gave it.
	keyPasskeyAdd  = "passkey_add"
	keyPasskeyName = "passkey_name"
)

// maxPasskeyAnswer bounds the browser's JSON answer (about 1 KB in
// practice).
const maxPasskeyAnswer = 64 << 10

// The answers of the passkey ceremonies, shown by the page's script, are
// the catalogue's passkey.* messages in the request's language (Italian
// on the desk).

// defaultPasskeyName names a passkey its owner did not name: a name, the
// same in every language.
const defaultPasskeyName = "Passkey"

// passkeyName is the name a passkey is stored under.
func passkeyName(typed string) string {
	if strings.TrimSpace(typed) == "" {
		return defaultPasskeyName
	}
	return mfa.CleanName(typed)
}

// passkeyDetail names a passkey in the audit log.
func passkeyDetail(f db.Factor, more string) string {
	d := "passkey " + strconv.Quote(f.Name)
	if more != "" {
		d += ", " + more
	}
	return d
}

// passkeyUser is owner as their passkeys know them: the user handle is a
// keyed MAC of the owner, stable and revealing nothing; name and display
// are what the device shows to tell accounts apart.
func (h *Handler) passkeyUser(owner db.Owner, name, display string, factors []db.Factor) passkey.User {
	u := passkey.User{Handle: h.Keys.MAC(sealbox.PasskeyHandle, owner.String()), Name: name, Display: display}
	for _, f := range factors {
		if f.Kind == db.FactorPasskey {
			u.Credentials = append(u.Credentials, f.Credential)
		}
	}
	return u
}

// passkeyError answers the page's script with a refusal to show.
func passkeyError(c echo.Context, status int, msg string) error {
	return c.JSON(status, map[string]string{"error": msg})
}

// passkeyRedirect tells the page's script where to go on.
func passkeyRedirect(c echo.Context, to string) error {
	return c.JSON(http.StatusOK, map[string]string{"redirect": to})
}

// passkeyAnswer takes the ceremony's state out of the session and reads
// the browser's answer.
func passkeyAnswer(c echo.Context, sm *scs.SessionManager, key string) (state, answer []byte, err error) {
	state = sm.PopBytes(c.Request().Context(), key)
	answer, err = io.ReadAll(io.LimitReader(c.Request().Body, maxPasskeyAnswer))
	return state, answer, err
}

// passkeyEnrolment is a passkey being added by its owner, who has given
// the password again.
type passkeyEnrolment struct {
	sm    *scs.SessionManager
	owner db.Owner
	// name and display are what the device shows of the owner.
	name, display string
	// event is the audited addition (with its actor and action); notices
	// are sent with it.
	event   db.AuditEvent
	notices []db.OutboxMessage
}

// beginPasskeyEnrolment answers the options of navigator.credentials.create
// and keeps the ceremony, and the passkey's name, in the session.
func (h *Handler) beginPasskeyEnrolment(c echo.Context, pe passkeyEnrolment, name string) error {
	ctx := c.Request().Context()
	factors, err := h.DB.Factors(ctx, pe.owner)
	if err != nil {
		return err
	}
	options, state, err := h.passkeys.BeginRegistration(h.passkeyUser(pe.owner, pe.name, pe.display, factors))
	if err != nil {
		return err
	}
	pe.sm.Put(ctx, keyPasskeyAdd, state)
	pe.sm.Put(ctx, keyPasskeyName, passkeyName(name))
	return c.JSONBlob(http.StatusOK, options)
}

// finishPasskeyEnrolment stores the passkey the browser made; the first
// factor brings recovery codes, returned for their one showing. msg
// explains a refusal (with status), audited as a failed addition.
func (h *Handler) finishPasskeyEnrolment(c echo.Context, pe passkeyEnrolment) (codes []string, status int, msg string, err error) {
	ctx := c.Request().Context()
	state, answer, err := passkeyAnswer(c, pe.sm, keyPasskeyAdd)
	name := pe.sm.PopString(ctx, keyPasskeyName)
	if err != nil {
		return nil, 0, "", err
	}
	if state == nil {
		return nil, http.StatusUnprocessableEntity, lang(c).T("passkey.expired"), nil
	}
	factors, err := h.DB.Factors(ctx, pe.owner)
	if err != nil {
		return nil, 0, "", err
	}
	cred, err := h.passkeys.FinishRegistration(h.passkeyUser(pe.owner, pe.name, pe.display, factors), state, answer)
	if errors.Is(err, passkey.ErrRefused) {
		refused := pe.event
		refused.At, refused.Outcome, refused.Detail = h.now(), db.OutcomeFailed, refusal(err)
		if aerr := h.DB.Audit(ctx, refused); aerr != nil {
			return nil, 0, "", aerr
		}
		return nil, http.StatusUnprocessableEntity, lang(c).T("passkey.not_added"), nil
	}
	if err != nil {
		return nil, 0, "", err
	}
	f := db.Factor{Owner: pe.owner, Kind: db.FactorPasskey, Name: passkeyName(name), CredentialID: cred.ID, Credential: cred.Stored}
	event := pe.event
	event.Detail = passkeyDetail(f, "")
	codes, err = h.factors.Add(ctx, f, event, pe.notices...)
	if errors.Is(err, db.ErrConflict) {
		return nil, http.StatusConflict, lang(c).T("passkey.duplicate"), nil
	}
	return codes, 0, "", err
}

// beginPasskeyStep answers the options of navigator.credentials.get for a
// login's second step: only the owner's passkeys are allowed.
func (h *Handler) beginPasskeyStep(c echo.Context, sm *scs.SessionManager, owner db.Owner) error {
	ctx := c.Request().Context()
	factors, err := h.DB.Factors(ctx, owner)
	if err != nil {
		return err
	}
	u := h.passkeyUser(owner, "", "", factors)
	if len(u.Credentials) == 0 {
		return passkeyError(c, http.StatusConflict, lang(c).T("passkey.none"))
	}
	options, state, err := h.passkeys.BeginLogin(&u)
	if err != nil {
		return err
	}
	return h.startPasskeyLogin(c, sm, options, state)
}

// startPasskeyLogin keeps a login ceremony's state in the session, records
// the ceremony so that one answer only can end it (checkPasskey), and
// answers the options.
func (h *Handler) startPasskeyLogin(c echo.Context, sm *scs.SessionManager, options, state []byte) error {
	now := h.now()
	if err := h.DB.StartPasskeyCeremony(c.Request().Context(), ceremonyID(state), now.Add(passkey.Timeout), now); err != nil {
		return err
	}
	sm.Put(c.Request().Context(), keyPasskeyLogin, state)
	return c.JSONBlob(http.StatusOK, options)
}

// ceremonyID names a login ceremony by its state, which holds a random
// challenge.
func ceremonyID(state []byte) []byte {
	sum := sha256.Sum256(state)
	return sum[:]
}

// passkeyCheck is a passkey given at login.
type passkeyCheck struct {
	sm *scs.SessionManager
	// owner is whose passkey a second step asks for; nil for a
	// passwordless login, where the passkey says whose it is (a patient's).
	owner *db.Owner
	// refused is the event audited when the passkey is refused, with its
	// actor and action; a passwordless login's actor gets the passkey's
	// owner when the passkey is known.
	refused db.AuditEvent
	// locks are the lockouts of the attempt (claimLocks, countWrong,
	// clearLocks).
	locks []attemptLock
}

// checkPasskey verifies the browser's answer to a login's ceremony behind
// the lockouts, and records the passkey's use (its signature counter, the
// date). It returns the passkey used; msg explains a refusal, with status,
// audited. A ceremony takes one answer, even from two requests that read
// the session at once; a passkey whose counter did not advance may have
// been copied: it is refused.
func (h *Handler) checkPasskey(c echo.Context, pc passkeyCheck) (f db.Factor, status int, msg string, err error) {
	ctx := c.Request().Context()
	if mins, err := h.claimLocks(c, pc.locks, pc.refused); err != nil {
		return f, 0, "", err
	} else if mins > 0 {
		return f, http.StatusTooManyRequests, lang(c).T("passkey.locked", "Wait", waitFor(lang(c), mins)), nil
	}
	state, answer, err := passkeyAnswer(c, pc.sm, keyPasskeyLogin)
	if err != nil {
		return f, 0, "", err
	}
	if state == nil {
		return f, http.StatusUnprocessableEntity, lang(c).T("passkey.expired"), nil
	}
	// Taken before the answer is checked: a request that read this
	// session before the state left it finds the ceremony gone.
	if err := h.DB.TakePasskeyCeremony(ctx, ceremonyID(state), h.now()); errors.Is(err, db.ErrNotFound) {
		ev := pc.refused
		ev.At, ev.Outcome, ev.Detail = h.now(), db.OutcomeFailed, "passkey refused: its ceremony was answered already or expired"
		if err := h.DB.Audit(ctx, ev); err != nil {
			return f, 0, "", err
		}
		return f, http.StatusUnprocessableEntity, lang(c).T("passkey.expired"), nil
	} else if err != nil {
		return f, 0, "", err
	}
	var (
		user    *passkey.User
		factors []db.Factor
		// lookupErr is a failure of the store, not of the passkey.
		lookupErr error
	)
	if pc.owner != nil {
		if factors, err = h.DB.Factors(ctx, *pc.owner); err != nil {
			return f, 0, "", err
		}
		u := h.passkeyUser(*pc.owner, "", "", factors)
		user = &u
	}
	lookup := func(credentialID, _ []byte) (passkey.User, error) {
		found, err := h.DB.PasskeyByCredential(ctx, credentialID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			return passkey.User{}, fmt.Errorf("%w: unknown credential", passkey.ErrRefused)
		case err != nil:
			lookupErr = err
			return passkey.User{}, err
		case found.Owner.Staff:
			return passkey.User{}, fmt.Errorf("%w: a staff member's passkey", passkey.ErrRefused)
		}
		factors = []db.Factor{found}
		pc.refused.Actor.ID = found.Owner.ID
		return h.passkeyUser(found.Owner, "", "", factors), nil
	}
	_, cred, err := h.passkeys.FinishLogin(user, state, answer, lookup)
	if lookupErr != nil {
		return f, 0, "", lookupErr
	}
	refuse := func(detail, msgID string) (db.Factor, int, string, error) {
		ev := pc.refused
		ev.At, ev.Outcome, ev.Detail = h.now(), db.OutcomeFailed, detail
		if err := h.DB.Audit(ctx, ev); err != nil {
			return db.Factor{}, 0, "", err
		}
		return db.Factor{}, http.StatusUnauthorized, lang(c).T(msgID), h.countWrong(c, pc.locks)
	}
	if errors.Is(err, passkey.ErrRefused) {
		return refuse(refusal(err), "passkey.refused")
	}
	if err != nil {
		return f, 0, "", err
	}
	for _, x := range factors {
		if x.Kind == db.FactorPasskey && bytes.Equal(x.CredentialID, cred.ID) {
			f = x
		}
	}
	if f.ID == 0 {
		return refuse("passkey refused: not among the owner's passkeys", "passkey.refused")
	}
	if cred.CloneWarning {
		return refuse(passkeyDetail(f, "refused: its signature counter did not advance (a copy may exist)"), "passkey.copied")
	}
	if err := h.DB.UsePasskey(ctx, f.ID, f.Credential, cred.Stored, h.now()); errors.Is(err, db.ErrNotFound) {
		return refuse(passkeyDetail(f, "refused: removed meanwhile"), "passkey.refused")
	} else if errors.Is(err, db.ErrConflict) {
		return refuse(passkeyDetail(f, "refused: used by another login meanwhile"), "passkey.refused")
	} else if err != nil {
		return f, 0, "", err
	}
	return f, 0, "", h.clearLocks(c, pc.locks)
}

// refusal is the audit detail of a refused passkey: why, in the library's
// words, bounded.
func refusal(err error) string {
	d := err.Error()
	if len(d) > 200 {
		d = d[:200]
	}
	return d
}
