package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/views"
)

// notifications shows the outbox to admins: what is queued, what failed
// and why, never the message text.
func (h *Handler) notifications(c echo.Context) error {
	ctx := c.Request().Context()
	stats, err := h.DB.OutboxStats(ctx, h.now())
	if err != nil {
		return err
	}
	recent, err := h.DB.RecentOutbox(ctx, c.QueryParam("all") != "1", 100)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.AdminNotifications(views.NotificationsPage{
		Chrome: h.chrome(c, "Notifiche"), Stats: stats, Messages: recent, All: c.QueryParam("all") == "1",
		SMSConfigured: h.Config.SMSConfigured, EmailConfigured: h.Config.EmailConfigured,
	}))
}

func (h *Handler) retryNotification(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.DB.RetryFailed(c.Request().Context(), id, staffActor(c), h.now()); err != nil {
		return err
	}
	h.flash(c, "Messaggio rimesso in coda.")
	return c.Redirect(http.StatusSeeOther, "/desk/admin/notifications")
}
