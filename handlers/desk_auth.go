package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

const msgBadLogin = "Nome utente o password non corretti."

// Staff session keys.
const (
	keyStaffID = "staff_id"
	// keyStaffAuthAt is when the session was authenticated: a new password
	// or a reset of the factors ends the sessions from before.
	keyStaffAuthAt = "auth_at"
	// keyStaffFactor marks a session that proved a second factor (or
	// enrolled one); without it a member who must have one sees only the
	// enrolment.
	keyStaffFactor = "factor_ok"
	// keyStaffPending and keyStaffPendingAt hold a login that passed the
	// password and waits for the second factor.
	keyStaffPending   = "pending_staff_id"
	keyStaffPendingAt = "pending_at"
)

func (h *Handler) deskLoginForm(c echo.Context) error {
	if h.staffSessions.GetInt64(c.Request().Context(), keyStaffID) != 0 {
		return c.Redirect(http.StatusSeeOther, "/desk")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, views.DeskLogin(views.LoginPage{Chrome: views.Chrome{Title: "Accesso personale"}}))
}

func (h *Handler) deskLogin(c echo.Context) error {
	ctx := c.Request().Context()
	now := h.now()
	username := strings.TrimSpace(c.FormValue("username"))
	pw := c.FormValue("password")
	form := views.Form{Values: map[string]string{"username": username}, Errors: map[string]string{}}
	fail := func(status int, msg string) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return h.render(c, status, views.DeskLogin(views.LoginPage{Chrome: views.Chrome{Title: "Accesso personale", Error: msg}, Form: form}))
	}
	if username == "" || pw == "" {
		return fail(http.StatusUnprocessableEntity, "Inserisci nome utente e password.")
	}
	key := db.StaffLoginKey(username)
	actor := db.Actor{Kind: "staff", IP: c.RealIP()}

	st, err := h.DB.StaffByUsername(ctx, username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// Only a known username is written to the log: an unknown one may be
	// a password typed in the wrong field.
	if st.ID != 0 {
		actor.ID, actor.Name = st.ID, st.Username
	}
	// Counted before the slow hash, so parallel guesses cannot outrun the lockout.
	if mins, err := h.claimAttempts(c, staffThrottle, db.AuditEvent{Actor: actor, Action: db.ActionStaffLogin}, key); err != nil {
		return err
	} else if mins > 0 {
		return fail(http.StatusTooManyRequests, fmt.Sprintf("Troppi tentativi non riusciti. Riprova tra %d minuti.", mins))
	}
	hash := st.PasswordHash
	if errors.Is(err, db.ErrNotFound) || !st.Active {
		hash = "" // compare against a dummy so timing does not reveal the user
	}
	ok, rehash, verr := h.Hasher.Verify(ctx, pw, hash)
	if verr != nil {
		return verr
	}
	if !ok {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: actor, Action: db.ActionStaffLogin, Outcome: db.OutcomeFailed})
		return fail(http.StatusUnauthorized, msgBadLogin)
	}

	// A member with a second factor gives it next (a passkey, an app's
	// code): the password alone opens nothing.
	event := db.AuditEvent{At: now, Actor: actor, Action: db.ActionStaffLogin, Outcome: db.OutcomeOK}
	if st.Factors > 0 {
		event.Detail = "password ok, second factor next"
	}
	if err := h.DB.RecordStaffLogin(ctx, st.ID, rehash, key, event, now); err != nil {
		return err
	}
	if err := h.tellFactorsReset(c, st); err != nil {
		return err
	}
	// A new session id at login defeats session fixation.
	sm := h.staffSessions
	if err := sm.RenewToken(ctx); err != nil {
		return err
	}
	if st.Factors > 0 {
		// A login starts afresh: whoever this session was is forgotten.
		sm.Remove(ctx, keyStaffID)
		sm.Remove(ctx, keyStaffFactor)
		sm.Put(ctx, keyStaffPending, st.ID)
		putSessionTime(sm, ctx, keyStaffPendingAt, now)
		return c.Redirect(http.StatusSeeOther, "/desk/login/code")
	}
	h.staffSignIn(c, st.ID, false)
	if h.Config.StaffMFA.Requires(st.Role) {
		return c.Redirect(http.StatusSeeOther, "/desk/security/app")
	}
	return c.Redirect(http.StatusSeeOther, "/desk")
}

// staffSignIn marks the session as the member's; withFactor says whether a
// second factor was given. The caller has renewed the token.
func (h *Handler) staffSignIn(c echo.Context, id int64, withFactor bool) {
	ctx := c.Request().Context()
	sm := h.staffSessions
	sm.Remove(ctx, keyStaffPending)
	sm.Remove(ctx, keyStaffPendingAt)
	sm.Put(ctx, keyStaffID, id)
	putSessionTime(sm, ctx, keyStaffAuthAt, h.now())
	sm.Put(ctx, keyStaffFactor, withFactor)
}

func (h *Handler) deskLogout(c echo.Context) error {
	ctx := c.Request().Context()
	if id := h.staffSessions.GetInt64(ctx, keyStaffID); id != 0 {
		st, _ := h.DB.StaffByID(ctx, id)
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: db.Actor{Kind: "staff", ID: id, Name: st.Username, IP: c.RealIP()},
			Action: db.ActionStaffLogout})
	}
	if err := h.staffSessions.Destroy(ctx); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/desk/login")
}
