package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/views"
)

func (h *Handler) profilePage(c echo.Context, status int, form views.Form) error {
	links, err := h.DB.DossierLinks(h.pctx(c), currentAccount(c).ID)
	if err != nil {
		return err
	}
	pending, err := h.DB.PendingEmail(h.pctx(c), currentAccount(c).ID, h.now())
	if err != nil {
		return err
	}
	return h.render(c, status, views.Profile(views.ProfilePage{PChrome: h.pchrome(c, lang(c).T("profile.title")), Form: form,
		Links: links, RequireLoginOTP: h.Config.RequireLoginOTP, PendingEmail: pending}))
}

func (h *Handler) profile(c echo.Context) error {
	return h.profilePage(c, http.StatusOK, views.Form{Values: map[string]string{}, Errors: map[string]string{}})
}

func (h *Handler) savePreferences(c echo.Context) error {
	a := currentAccount(c)
	p := db.Preferences{
		LoginOTP:    c.FormValue("login_otp") == "1" || h.Config.RequireLoginOTP,
		NotifySMS:   c.FormValue("notify") != "email",
		NotifyEmail: c.FormValue("notify") == "email" || c.FormValue("notify") == "both",
	}
	if p.NotifyEmail && a.Email == "" {
		return h.profilePage(c, http.StatusUnprocessableEntity, views.Form{Errors: map[string]string{
			"notify": lang(c).T("profile.notify_needs_email")}})
	}
	if err := h.DB.SetPreferences(h.pctx(c), a.ID, p, patientActor(c, a.ID), h.now()); err != nil {
		return err
	}
	h.pflash(c, lang(c).T("profile.saved"))
	return c.Redirect(http.StatusSeeOther, "/profilo")
}

// changePassword needs the current password; other sessions end, this
// one continues with a fresh token.
func (h *Handler) changePassword(c echo.Context) error {
	ctx := h.pctx(c)
	a := currentAccount(c)
	form := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	if msg, err := h.reauthenticate(c, a, c.FormValue("current")); err != nil {
		return err
	} else if msg != "" {
		form.Errors["current"] = msg
		return h.profilePage(c, http.StatusUnprocessableEntity, form)
	}
	pw := checkNewPassword(c, form, c.FormValue("password"), c.FormValue("password2"),
		a.FirstName, a.LastName, strings.TrimPrefix(a.Mobile, "+39"), strings.Split(a.Email, "@")[0])
	if form.HasErrors() {
		return h.profilePage(c, http.StatusUnprocessableEntity, form)
	}
	hash, err := h.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := h.now()
	notices := securityNotices(*a, "notify.security_password_changed")
	if err := h.DB.SetAccountPassword(ctx, a.ID, hash, patientActor(c, a.ID), now, notices...); err != nil {
		return err
	}
	// This session stays valid: it is re-authenticated after the cut-off.
	if err := h.signIn(c, a.ID, h.patientSessions.GetBool(ctx, keyFactor)); err != nil {
		return err
	}
	putSessionTime(h.patientSessions, ctx, keyAuthAt, now.Add(1))
	h.pflash(c, lang(c).T("profile.password_changed"))
	return c.Redirect(http.StatusSeeOther, "/profilo")
}

// reauthenticate checks the current password before a sensitive change
// (contacts, password, account deletion). Attempts have their own lock, so
// a session left open cannot be used to guess the password, and failed
// logins by others cannot stop the owner from deleting the account.
// It returns a user message, in the request's language, when refused.
func (h *Handler) reauthenticate(c echo.Context, a *db.Account, pw string) (string, error) {
	ctx := h.pctx(c)
	key := "reauth:" + itoa(a.ID)
	denied := db.AuditEvent{Actor: patientActor(c, a.ID), Action: db.ActionAccountReauthenticate}
	if mins, err := h.claimAttempts(c, patientThrottle, denied, key); err != nil {
		return "", err
	} else if mins > 0 {
		return lang(c).T("profile.reauth_locked", "Wait", waitFor(lang(c), mins)), nil
	}
	ok, _, err := h.Hasher.Verify(ctx, pwNormalize(pw), a.PasswordHash)
	if err != nil {
		return "", err
	}
	if !ok {
		_ = h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: patientActor(c, a.ID), Action: db.ActionAccountReauthenticate, Outcome: db.OutcomeFailed})
		return lang(c).T("profile.reauth_wrong"), nil
	}
	return "", h.DB.ClearFailures(ctx, key)
}
