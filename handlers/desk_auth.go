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

func (h *Handler) deskLoginForm(c echo.Context) error {
	if h.staffSessions.GetInt64(c.Request().Context(), "staff_id") != 0 {
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
	key := "staff:" + strings.ToLower(username)
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

	if err := h.DB.RecordStaffLogin(ctx, st.ID, rehash, key, db.AuditEvent{At: now, Actor: actor, Action: db.ActionStaffLogin,
		Outcome: db.OutcomeOK}, now); err != nil {
		return err
	}
	// A new session id at login defeats session fixation.
	if err := h.staffSessions.RenewToken(ctx); err != nil {
		return err
	}
	h.staffSessions.Put(ctx, "staff_id", st.ID)
	return c.Redirect(http.StatusSeeOther, "/desk")
}

func (h *Handler) deskLogout(c echo.Context) error {
	ctx := c.Request().Context()
	if id := h.staffSessions.GetInt64(ctx, "staff_id"); id != 0 {
		st, _ := h.DB.StaffByID(ctx, id)
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: db.Actor{Kind: "staff", ID: id, Name: st.Username, IP: c.RealIP()},
			Action: db.ActionStaffLogout})
	}
	if err := h.staffSessions.Destroy(ctx); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/desk/login")
}
