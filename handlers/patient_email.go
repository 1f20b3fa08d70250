package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/notify"
	"fse/internal/sealbox"
	"fse/views"
)

// An email confirmation link lives a day; an account may ask for a few a day.
const (
	emailTokenTTL     = 24 * time.Hour
	emailDailyRequest = 5
)

var (
	errEmailUnavailable = errors.New("no mail server or sending failed")
	errEmailLimit       = errors.New("too many confirmation emails today")
)

// startEmailVerification sends a confirmation link to email: the address
// becomes the account's only when its owner confirms, so nobody can claim
// another person's address.
func (h *Handler) startEmailVerification(c echo.Context, a db.Account, email string) error {
	if h.Email == nil {
		return errEmailUnavailable
	}
	accountID := a.ID
	// A cap per account: otherwise the portal could be made to mail any
	// address again and again.
	if n, err := h.DB.CountRecentAudit(h.pctx(c), db.ActionAccountEmailConfirmationSent, "account", accountID, h.now().Add(-24*time.Hour)); err != nil {
		return err
	} else if n >= emailDailyRequest {
		return errEmailLimit
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	ctx := h.pctx(c)
	now := h.now()
	if err := h.DB.StartEmailVerification(ctx, accountID, email, h.Keys.MAC(sealbox.EmailToken, token), now, now.Add(emailTokenTTL)); err != nil {
		return err
	}
	link := h.Config.BaseURL + "/verifica-email?t=" + token
	sendCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The address is not the account's yet: the email speaks the language
	// of the request that asked for it, which its owner is reading.
	m := notify.EmailConfirmation(lang(c).Lang(), views.MaskMobile(a.Mobile), link)
	m.To = email
	err := h.Email.Send(sendCtx, m)
	if err != nil {
		h.Log.Error("send email confirmation", "account", accountID, "err", err)
		// Nothing was sent: the profile must not show an address as pending.
		_ = h.DB.CancelEmailVerification(context.WithoutCancel(ctx), accountID)
		return errEmailUnavailable
	}
	return h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: patientActor(c, accountID), Action: db.ActionAccountEmailConfirmationSent,
		ObjectType: "account", ObjectID: accountID})
}

// emailMessage explains why no confirmation email was sent, in the
// request's language.
func emailMessage(c echo.Context, err error) (int, string, bool) {
	switch {
	case errors.Is(err, errEmailUnavailable):
		return http.StatusServiceUnavailable, lang(c).T("contact.email_unavailable"), true
	case errors.Is(err, errEmailLimit):
		return http.StatusTooManyRequests, lang(c).T("contact.email_limit"), true
	}
	return 0, "", false
}

// emailConfirmForm shows the confirm button: following a link (GET) must
// not change anything, mail scanners open links too.
func (h *Handler) emailConfirmForm(c echo.Context) error {
	return h.render(c, http.StatusOK, views.EmailConfirm(views.EmailConfirmPage{PChrome: h.pchrome(c, lang(c).T("contact.confirm_title")),
		Token: c.QueryParam("t")}))
}

func (h *Handler) emailConfirm(c echo.Context) error {
	page := views.EmailConfirmPage{PChrome: h.pchrome(c, lang(c).T("contact.confirm_title")), Done: true}
	_, err := h.DB.ConfirmEmail(h.pctx(c), h.Keys.MAC(sealbox.EmailToken, c.FormValue("t")), c.RealIP(), h.now())
	status := http.StatusOK
	switch {
	case err == nil:
		page.Flash = lang(c).T("contact.email_confirmed")
	case errors.Is(err, db.ErrNotFound):
		status, page.Error = http.StatusNotFound, lang(c).T("contact.link_invalid")
	case errors.Is(err, db.ErrTokenExpired):
		status, page.Error = http.StatusGone, lang(c).T("contact.link_expired")
	case errors.Is(err, db.ErrConflict):
		status, page.Error = http.StatusConflict, lang(c).T("contact.address_taken")
	default:
		return err
	}
	return h.render(c, status, views.EmailConfirm(page))
}
