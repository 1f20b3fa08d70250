package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/notify"
)

// Security notices tell an account holder, in the account's language,
// about an event on the account. A notice is named by the message ID of
// its sentence in the notify catalogue ("notify.security_password_changed"):
// notify.SecurityNotice frames it for SMS and email.

// queueOncePerDay queues a security notice unless the account got the
// same one in the last day, in any language: repeated attempts must not
// flood the holder.
func (h *Handler) queueOncePerDay(c echo.Context, a db.Account, sentence string) {
	texts := make([]string, len(locale.Langs))
	for i, l := range locale.Langs {
		texts[i] = notify.SecurityText(l, sentence)
	}
	n, err := h.DB.CountRecentOutbox(h.pctx(c), a.ID, "security", h.now().Add(-24*time.Hour), texts...)
	if err != nil {
		h.Log.Error("count notices", "account", a.ID, "err", err)
		return
	}
	if n == 0 {
		h.queueSecurityNotice(c, a, sentence)
	}
}

// queueSecurityNotice tells an account holder about an event on their
// account, by SMS and, when known, email. It never carries a code.
func (h *Handler) queueSecurityNotice(c echo.Context, a db.Account, sentence string) {
	ctx := h.pctx(c)
	for _, m := range securityNotices(a, sentence) {
		if err := h.DB.Enqueue(ctx, m, h.now()); err != nil {
			h.Log.Error("queue security notice", "account", a.ID, "err", err)
		}
	}
}

// securityNotices are the messages of a security notice to a, in the
// account's language: whoever caused the event (maybe not the holder)
// does not choose it.
func securityNotices(a db.Account, sentence string) []db.OutboxMessage {
	n := notify.SecurityNotice(accountLang(a), sentence)
	msgs := []db.OutboxMessage{{Channel: db.ChannelSMS, Recipient: a.Mobile, Body: n.SMS, Kind: "security", AccountID: a.ID}}
	if a.Email != "" {
		msgs = append(msgs, db.OutboxMessage{Channel: db.ChannelEmail, Recipient: a.Email, Subject: n.EmailSubject,
			Body: n.EmailBody, Kind: "security", AccountID: a.ID})
	}
	return msgs
}
