package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
)

// A staff member's passkeys: added from the Sicurezza page (or instead of
// an app when --staff-mfa obliges them to enrol), with the password; given
// after the password at login. Staff have no passwordless login: the desk
// reaches every patient, so it always asks for both.

func (h *Handler) deskPasskeyStepOptions(c echo.Context) error {
	st, ok, err := h.pendingStaff(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, lang(c).T("passkey.step_expired"))
	}
	return h.beginPasskeyStep(c, h.staffSessions, db.StaffOwner(st.ID))
}

// deskPasskeyStep completes a login whose password was right with one of
// the member's passkeys.
func (h *Handler) deskPasskeyStep(c echo.Context) error {
	ctx := c.Request().Context()
	st, ok, err := h.pendingStaff(c)
	if err != nil {
		return err
	}
	if !ok {
		return passkeyError(c, http.StatusUnauthorized, lang(c).T("passkey.step_expired"))
	}
	owner := db.StaffOwner(st.ID)
	actor := db.Actor{Kind: db.ActorStaff, ID: st.ID, Name: st.Username, IP: c.RealIP()}
	f, status, msg, err := h.checkPasskey(c, passkeyCheck{sm: h.staffSessions, owner: &owner,
		refused: db.AuditEvent{Actor: actor, Action: db.ActionStaffSecondFactor}, locks: factorLocks(owner)})
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	if err := h.staffSessions.RenewToken(ctx); err != nil {
		return err
	}
	h.staffSignIn(c, st.ID, true)
	if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: actor, Action: db.ActionStaffSecondFactor,
		Detail: passkeyDetail(f, "")}); err != nil {
		return err
	}
	return passkeyRedirect(c, "/desk")
}

// staffPasskeyEnrolment is a passkey being added by the logged-in member:
// the device shows their username.
func (h *Handler) staffPasskeyEnrolment(c echo.Context) passkeyEnrolment {
	st := currentStaff(c)
	return passkeyEnrolment{sm: h.staffSessions, owner: db.StaffOwner(st.ID), name: st.Username, display: st.Username,
		event: db.AuditEvent{Actor: staffActor(c), Action: db.ActionStaffFactorAdd}}
}

// deskAddPasskeyOptions starts adding a passkey once the password is right.
func (h *Handler) deskAddPasskeyOptions(c echo.Context) error {
	if msg, err := h.reauthenticateStaff(c, currentStaff(c), c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		return passkeyError(c, http.StatusUnprocessableEntity, msg)
	}
	return h.beginPasskeyEnrolment(c, h.staffPasskeyEnrolment(c), c.FormValue("name"))
}

// deskAddPasskey stores the passkey the browser made: it counts as the
// second factor of this session, so a member who had to enrol can go on.
// The first factor brings recovery codes, shown once.
func (h *Handler) deskAddPasskey(c echo.Context) error {
	codes, status, msg, err := h.finishPasskeyEnrolment(c, h.staffPasskeyEnrolment(c))
	if err != nil {
		return err
	}
	if msg != "" {
		return passkeyError(c, status, msg)
	}
	// A new token before the session counts as having a second factor.
	if err := h.factorAdded(c, db.StaffOwner(currentStaff(c).ID), codes); err != nil {
		return err
	}
	h.flash(c, "Passkey aggiunta: dal prossimo accesso, dopo la password, ti chiederemo la passkey.")
	if codes != nil {
		return passkeyRedirect(c, "/desk/security/codes")
	}
	return passkeyRedirect(c, "/desk/security")
}
