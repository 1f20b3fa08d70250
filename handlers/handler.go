// Package handlers holds fse's HTTP routes and middleware.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"fse/db"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/views"
)

// Config is the part of the server configuration the handlers use.
type Config struct {
	// BaseURL is the portal's public address, printed on slips.
	BaseURL string
	// RetentionDays is how long a published report stays online.
	RetentionDays int
	// UploadLimit is the largest accepted PDF, in bytes.
	UploadLimit int64
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// Settings are shown to admins on the settings page.
	Settings []views.Setting
	// Warnings are shown to admins (e.g. retention above the Garante's 45 days).
	Warnings []string
}

// Retention is the configured report retention.
func (c Config) Retention() time.Duration { return time.Duration(c.RetentionDays) * 24 * time.Hour }

// Handler holds everything the routes need; main constructs it.
type Handler struct {
	DB     *db.DB
	Keys   *sealbox.Keys
	Hasher *password.Hasher
	Log    *slog.Logger
	// Now is the clock; tests move it.
	Now    func() time.Time
	Config Config

	staffSessions *scs.SessionManager
}

// Lockout rules for staff logins.
var staffThrottle = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}

// New builds the Echo server with every middleware and route.
func New(h *Handler) *echo.Echo {
	h.staffSessions = newSessionManager(h, "__Host-fse-desk", 30*time.Minute, 12*time.Hour, http.SameSiteStrictMode)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	e.IPExtractor = ipExtractor(h.Config.TrustedProxies)

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.Log.Error("panic", "path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(h.requestLogger())
	e.Use(h.securityHeaders)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   "256K",
		Skipper: func(c echo.Context) bool { return c.Path() == "/desk/visits/:id/documents" },
	}))
	e.Use(echo.WrapMiddleware(h.staffSessions.LoadAndSave))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Richiesta rifiutata: proviene da un altro sito. Torna al portale e riprova.\n"))
	}))
	e.Use(echo.WrapMiddleware(cop.Handler))

	h.routes(e)
	return e
}

func newSessionManager(h *Handler, name string, idle, lifetime time.Duration, sameSite http.SameSite) *scs.SessionManager {
	sm := scs.New()
	// scs computes expiries with the real clock, so the store compares
	// with the real clock too (h.Now may be a test clock).
	sm.Store = db.SessionStore{DB: h.DB, Now: time.Now}
	sm.IdleTimeout = idle
	sm.Lifetime = lifetime
	sm.Cookie.Name = name
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = true // __Host- requires it; browsers accept it on http://localhost
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = sameSite
	sm.Cookie.Persist = false
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		h.Log.Error("session store", "err", err)
		http.Error(w, "Servizio temporaneamente non disponibile.", http.StatusServiceUnavailable)
	}
	return sm
}

func (h *Handler) routes(e *echo.Echo) {
	e.GET("/healthz", h.healthz)
	e.GET("/static/*", staticHandler())
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/desk") })

	loginLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: 30.0 / 60, Burst: 30, ExpiresIn: 15 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "Troppe richieste da questo indirizzo. Attendi qualche minuto e riprova.")
		},
	})
	e.GET("/desk/login", h.deskLoginForm)
	e.POST("/desk/login", h.deskLogin, loginLimit)
	e.POST("/desk/logout", h.deskLogout)

	desk := e.Group("/desk", h.requireStaff, noStore)
	desk.GET("", h.deskHome)
	desk.GET("/accept", h.acceptForm)
	desk.POST("/accept", h.accept)
	desk.GET("/patients/:id", h.patientPage)
	desk.GET("/visits/:id", h.visitPage)
	desk.POST("/visits/:id/reprint", h.reprint)
	desk.POST("/visits/:id/documents", h.uploadDocuments)
	desk.POST("/visits/:id/publish", h.publish)
	desk.GET("/documents/:id/file", h.staffDocumentFile)
	desk.GET("/documents/:id/withdraw", h.withdrawForm)
	desk.POST("/documents/:id/withdraw", h.withdraw)

	admin := desk.Group("/admin", requireRole(db.RoleAdmin))
	admin.GET("/staff", h.staffList)
	admin.POST("/staff", h.staffCreate)
	admin.POST("/staff/:id/active", h.staffSetActive)
	admin.GET("/facilities", h.facilityList)
	admin.POST("/facilities", h.facilityCreate)
	admin.POST("/facilities/:id/active", h.facilitySetActive)
	admin.GET("/audit", h.auditList)
	admin.GET("/settings", h.settings)
}

// render writes a templ component into a buffer first, so a rendering
// error becomes a clean 500 instead of half a page.
func (h *Handler) render(c echo.Context, status int, comp templ.Component) error {
	ctx := templ.WithNonce(c.Request().Context(), nonceOf(c))
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorHandler maps errors to status codes and an Italian page, never
// showing internals.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	msg := "Si è verificato un errore. Riprova tra poco."
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		// Our own errors carry an Italian message; Echo's built-in ones (404
		// for an unknown route, 405, 413) carry English status text.
		if m, ok := he.Message.(string); ok && he.Internal == nil && status < 500 && m != http.StatusText(status) {
			msg = m
		} else {
			msg = defaultMessage(status)
		}
	case errors.Is(err, db.ErrNotFound):
		status, msg = http.StatusNotFound, defaultMessage(http.StatusNotFound)
	case errors.Is(err, db.ErrConflict):
		status, msg = http.StatusConflict, defaultMessage(http.StatusConflict)
	case errors.Is(err, context.Canceled):
		return
	}
	if status >= 500 {
		h.Log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", status, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if c.Path() == "/healthz" {
		_ = c.JSON(status, map[string]string{"status": "error"})
		return
	}
	back := "/desk"
	if rerr := h.render(c, status, views.ErrorPage(status, msg, back)); rerr != nil {
		_ = c.String(status, msg)
	}
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Pagina non trovata."
	case http.StatusForbidden:
		return "Non hai i permessi per questa pagina."
	case http.StatusMethodNotAllowed:
		return "Operazione non consentita."
	case http.StatusRequestEntityTooLarge:
		return "I dati inviati sono troppo grandi."
	case http.StatusConflict:
		return "L'operazione è in conflitto con dati già presenti."
	case http.StatusTooManyRequests:
		return "Troppi tentativi. Riprova tra qualche minuto."
	case http.StatusBadRequest:
		return "Richiesta non valida."
	}
	if status >= 500 {
		return "Si è verificato un errore. Riprova tra poco."
	}
	return http.StatusText(status)
}

// ipExtractor trusts X-Forwarded-For only from the configured proxies;
// otherwise the client is the TCP peer.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func (h *Handler) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.Error("healthz", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
