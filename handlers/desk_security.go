package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/mfa"
	"fse/views"
)

// staffFactorRoutes registers the staff's second factors: the login step
// after the password, the member's own Sicurezza pages (outside the
// enrolment gate, so a member who must enrol can), and the admin's reset.
func (h *Handler) staffFactorRoutes(staff, admin *routeGroup, loginLimit echo.MiddlewareFunc) {
	staff.GET("/login/code", h.deskLoginCodeForm)
	staff.POST("/login/code", h.deskLoginCode, loginLimit)
	sec := staff.Group("/security", h.requireStaff, noStore)
	sec.GET("", h.deskSecurity)
	sec.GET("/app", h.deskEnrolForm)
	sec.POST("/app", h.deskEnrol)
	sec.POST("/app/:id/remove", h.deskRemoveFactor(db.FactorTOTP))
	sec.POST("/passkey/:id/remove", h.deskRemoveFactor(db.FactorPasskey))
	sec.GET("/codes", h.deskRecoveryCodes)
	sec.POST("/codes", h.deskRegenerateCodes)
	admin.POST("/staff/:id/reset-mfa", h.staffResetFactors)
	if h.passkeys != nil {
		staff.POST("/login/passkey/opzioni", h.deskPasskeyStepOptions, loginLimit)
		staff.POST("/login/passkey", h.deskPasskeyStep, loginLimit)
		sec.POST("/passkey/opzioni", h.deskAddPasskeyOptions)
		sec.POST("/passkey", h.deskAddPasskey)
	}
}

// requireStaffFactor sends a member who must have a second factor, and
// has not given or enrolled one in this session, to the enrolment: with
// the password alone nothing else opens. (A member who has a factor and a
// session that never proved it does not get here: requireStaff ends that
// session.)
func (h *Handler) requireStaffFactor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := currentStaff(c)
		if st == nil || !h.Config.StaffMFA.Requires(st.Role) || h.staffSessions.GetBool(c.Request().Context(), keyStaffFactor) {
			return next(c)
		}
		return c.Redirect(http.StatusSeeOther, "/desk/security/app")
	}
}

// tellFactorsReset tells a member, once, at the login after an admin reset
// their factors.
func (h *Handler) tellFactorsReset(c echo.Context, st db.Staff) error {
	if st.MFAResetAt.IsZero() {
		return nil
	}
	msg := "Un amministratore ha azzerato il tuo secondo fattore di accesso il " + views.DateTime(st.MFAResetAt) +
		": l'app di autenticazione o la passkey usata finora non vale più."
	if h.Config.StaffMFA.Requires(st.Role) {
		msg += " Configura di nuovo un'app o una passkey per continuare."
	} else {
		msg += " Puoi configurarne una nuova dalla pagina Sicurezza."
	}
	h.flash(c, msg)
	return h.DB.ClearStaffResetNotice(c.Request().Context(), st.ID)
}

// pendingStaff is the member whose login waits for the second factor; false
// when there is none, or the password step no longer counts.
func (h *Handler) pendingStaff(c echo.Context) (db.Staff, bool, error) {
	ctx := c.Request().Context()
	sm := h.staffSessions
	id := sm.GetInt64(ctx, keyStaffPending)
	if id == 0 {
		return db.Staff{}, false, nil
	}
	st, err := h.DB.StaffByID(ctx, id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return st, false, err
	}
	if err != nil || !st.Active || !st.SessionValid(sessionTime(sm, ctx, keyStaffPendingAt)) {
		sm.Remove(ctx, keyStaffPending)
		return db.Staff{}, false, nil
	}
	return st, true, nil
}

func (h *Handler) deskLoginCodeForm(c echo.Context) error {
	st, ok, err := h.pendingStaff(c)
	if err != nil {
		return err
	} else if !ok {
		return c.Redirect(http.StatusSeeOther, "/desk/login")
	}
	return h.renderDeskLoginCode(c, http.StatusOK, st, "")
}

// renderDeskLoginCode renders the second step of st's login: what the
// member has, with errMsg explaining a refused code.
func (h *Handler) renderDeskLoginCode(c echo.Context, status int, st db.Staff, errMsg string) error {
	step, err := h.secondStep(c.Request().Context(), db.StaffOwner(st.ID), "/desk/login/passkey")
	if err != nil {
		return err
	}
	page := views.DeskLoginCodePage{Chrome: h.chrome(c, "Codice di accesso"), Step: step}
	page.Error = errMsg
	return h.render(c, status, views.DeskLoginCode(page))
}

// deskLoginCode completes a login with the app's code or a recovery code.
func (h *Handler) deskLoginCode(c echo.Context) error {
	ctx := c.Request().Context()
	st, ok, err := h.pendingStaff(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/desk/login")
	}
	actor := db.Actor{Kind: db.ActorStaff, ID: st.ID, Name: st.Username, IP: c.RealIP()}
	res, status, msg, err := h.checkFactor(c, factorCheck{owner: db.StaffOwner(st.ID), typed: c.FormValue("code"),
		audit:    db.AuditEvent{Actor: actor, Action: db.ActionStaffSecondFactor},
		recovery: db.AuditEvent{Actor: actor, Action: db.ActionStaffRecoveryCodeUsed, ObjectType: "staff", ObjectID: st.ID}})
	if err != nil {
		return err
	}
	if msg != "" {
		return h.renderDeskLoginCode(c, status, st, msg)
	}
	if err := h.staffSessions.RenewToken(ctx); err != nil {
		return err
	}
	h.staffSignIn(c, st.ID, true)
	if res.Recovery {
		h.flash(c, recoveryUsedNotice(lang(c), res.Left, "menu in alto, Sicurezza"))
	} else if err := h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: actor, Action: db.ActionStaffSecondFactor,
		Detail: "authenticator app"}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/desk")
}

// deskSecurityPage renders the member's Sicurezza page.
func (h *Handler) deskSecurityPage(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	st := currentStaff(c)
	owner := db.StaffOwner(st.ID)
	factors, err := h.DB.Factors(ctx, owner)
	if err != nil {
		return err
	}
	left, err := h.DB.RecoveryCodesLeft(ctx, owner)
	if err != nil {
		return err
	}
	page := views.DeskSecurityPage{Chrome: h.chrome(c, "Sicurezza"), Security: views.Security{Factors: factors, RecoveryLeft: left,
		Required: h.Config.StaffMFA.Requires(st.Role), PasskeysOn: h.passkeys != nil}}
	page.Error = errMsg
	return h.render(c, status, views.DeskSecurity(page))
}

func (h *Handler) deskSecurity(c echo.Context) error { return h.deskSecurityPage(c, http.StatusOK, "") }

// deskEnrolPage renders the enrolment of an app, with the QR code of the
// secret kept in the session.
func (h *Handler) deskEnrolPage(c echo.Context, status int, form views.Form) error {
	st := currentStaff(c)
	e, err := h.enrolment(c, db.StaffOwner(st.ID), st.Username, false)
	if err != nil {
		return err
	}
	v, err := enrolView(lang(c), e)
	if err != nil {
		return err
	}
	return h.render(c, status, views.DeskEnrol(views.DeskEnrolPage{Chrome: h.chrome(c, "App di autenticazione"), Enrol: v, Form: form,
		MustEnrol:  h.Config.StaffMFA.Requires(st.Role) && !h.staffSessions.GetBool(c.Request().Context(), keyStaffFactor),
		PasskeysOn: h.passkeys != nil}))
}

func (h *Handler) deskEnrolForm(c echo.Context) error {
	return h.deskEnrolPage(c, http.StatusOK, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
}

// deskEnrol adds the app once the password and the app's first code prove
// it; the first app brings recovery codes, shown once.
func (h *Handler) deskEnrol(c echo.Context) error {
	ctx := c.Request().Context()
	st := currentStaff(c)
	owner := db.StaffOwner(st.ID)
	form := views.Form{Values: map[string]string{"name": c.FormValue("name")}, Errors: map[string]string{}}
	if msg, err := h.reauthenticateStaff(c, st, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		form.Errors["password"] = msg
		return h.deskEnrolPage(c, http.StatusUnprocessableEntity, form)
	}
	sealed := h.staffSessions.GetBytes(ctx, keyEnrolment)
	if sealed == nil {
		form.Errors["code"] = lang(c).T("mfa.enrol_expired")
		return h.deskEnrolPage(c, http.StatusUnprocessableEntity, form)
	}
	codes, err := h.factors.Confirm(ctx, owner, sealed, c.FormValue("code"), appName(c),
		db.AuditEvent{Actor: staffActor(c), Action: db.ActionStaffFactorAdd})
	if errors.Is(err, mfa.ErrWrongCode) {
		form.Errors["code"] = lang(c).T("mfa.enrol_wrong_code")
		return h.deskEnrolPage(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	h.staffSessions.Remove(ctx, keyEnrolment)
	// A new token before the session counts as having a second factor.
	if err := h.factorAdded(c, owner, codes); err != nil {
		return err
	}
	h.flash(c, "App di autenticazione aggiunta: dal prossimo accesso ti chiederemo il suo codice dopo la password.")
	if codes != nil {
		return c.Redirect(http.StatusSeeOther, "/desk/security/codes")
	}
	return c.Redirect(http.StatusSeeOther, "/desk/security")
}

// deskRemoveFactor removes one of the member's factors of kind, after the
// password; the last one stays while the policy asks for one.
func (h *Handler) deskRemoveFactor(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id, err := pathID(c)
		if err != nil {
			return err
		}
		st := currentStaff(c)
		owner := db.StaffOwner(st.ID)
		if msg, err := h.reauthenticateStaff(c, st, c.FormValue("password")); err != nil {
			return err
		} else if msg != "" {
			return h.deskSecurityPage(c, http.StatusUnprocessableEntity, msg)
		}
		factors, err := h.DB.Factors(ctx, owner)
		if err != nil {
			return err
		}
		var f db.Factor
		for _, x := range factors {
			if x.ID == id && x.Kind == kind {
				f = x
			}
		}
		if f.ID == 0 {
			return db.ErrNotFound
		}
		event := db.AuditEvent{Actor: staffActor(c), Action: db.ActionStaffFactorRemove}
		flash := "App di autenticazione tolta."
		if kind == db.FactorPasskey {
			event.Detail, flash = passkeyDetail(f, ""), "Passkey tolta."
		}
		err = h.DB.RemoveFactor(ctx, owner, id, h.Config.StaffMFA.Requires(st.Role), event, h.now())
		if errors.Is(err, db.ErrLastFactor) {
			return h.deskSecurityPage(c, http.StatusConflict, "Il secondo fattore è obbligatorio: aggiungi prima un'altra app o una passkey, poi togli questo.")
		}
		if err != nil {
			return err
		}
		h.flash(c, flash)
		return c.Redirect(http.StatusSeeOther, "/desk/security")
	}
}

// deskRecoveryCodes shows new recovery codes, once.
func (h *Handler) deskRecoveryCodes(c echo.Context) error {
	codes := h.takeRecoveryCodes(c, db.StaffOwner(currentStaff(c).ID))
	if codes == nil {
		return c.Redirect(http.StatusSeeOther, "/desk/security")
	}
	return h.render(c, http.StatusOK, views.DeskRecoveryCodes(views.DeskRecoveryCodesPage{Chrome: h.chrome(c, "Codici di recupero"),
		Codes: codes}))
}

// deskRegenerateCodes replaces the member's recovery codes, after the password.
func (h *Handler) deskRegenerateCodes(c echo.Context) error {
	st := currentStaff(c)
	owner := db.StaffOwner(st.ID)
	if msg, err := h.reauthenticateStaff(c, st, c.FormValue("password")); err != nil {
		return err
	} else if msg != "" {
		return h.deskSecurityPage(c, http.StatusUnprocessableEntity, msg)
	}
	codes, err := h.factors.RegenerateRecoveryCodes(c.Request().Context(), owner,
		db.AuditEvent{Actor: staffActor(c), Action: db.ActionStaffRecoveryCodes, ObjectType: "staff", ObjectID: st.ID})
	if errors.Is(err, db.ErrNotFound) {
		return h.deskSecurityPage(c, http.StatusConflict, "I codici di recupero servono a chi ha un'app di autenticazione o una passkey: aggiungine prima una.")
	}
	if err != nil {
		return err
	}
	if err := h.holdRecoveryCodes(c, owner, codes); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/desk/security/codes")
}

// reauthenticateStaff checks the member's password before a change to
// their factors; attempts have their own lock. It returns the Italian
// refusal, or "" when the password is right.
func (h *Handler) reauthenticateStaff(c echo.Context, st *db.Staff, pw string) (string, error) {
	ctx := c.Request().Context()
	key := db.StaffReauthKey(st.ID)
	denied := db.AuditEvent{Actor: staffActor(c), Action: db.ActionStaffReauthenticate}
	if mins, err := h.claimAttempts(c, staffThrottle, denied, key); err != nil {
		return "", err
	} else if mins > 0 {
		return fmt.Sprintf("Troppi tentativi con la password sbagliata: riprova tra %s.", waitFor(lang(c), mins)), nil
	}
	if pw == "" {
		return "Scrivi la tua password per confermare.", nil
	}
	ok, _, err := h.Hasher.Verify(ctx, pw, st.PasswordHash)
	if err != nil {
		return "", err
	}
	if !ok {
		denied.At, denied.Outcome = h.now(), db.OutcomeFailed
		if err := h.DB.Audit(ctx, denied); err != nil {
			return "", err
		}
		return "La password non è corretta.", nil
	}
	return "", h.DB.ClearFailures(ctx, key)
}

// staffResetFactors removes another member's factors and ends their
// sessions: the way back for a member who lost the phone and the codes.
func (h *Handler) staffResetFactors(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if id == currentStaff(c).ID {
		return echo.NewHTTPError(http.StatusConflict, "Non puoi azzerare il tuo stesso secondo fattore: usa la pagina Sicurezza.")
	}
	st, err := h.DB.StaffByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := h.DB.ResetStaffFactors(ctx, id, staffActor(c), h.now()); err != nil {
		return err
	}
	h.flash(c, "Secondo fattore di «"+st.Username+"» azzerato: le sue sessioni sono terminate e al prossimo accesso dovrà configurare di nuovo un'app di autenticazione o una passkey.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/staff")
}
