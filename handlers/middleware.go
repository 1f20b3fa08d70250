package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"fse/db"
	"fse/views"
)

const (
	ctxNonce = "csp_nonce"
	ctxStaff = "staff"
)

func nonceOf(c echo.Context) string {
	n, _ := c.Get(ctxNonce).(string)
	return n
}

// securityHeaders sets a strict CSP with a fresh nonce per request and the
// other headers every response carries.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	https := strings.HasPrefix(h.Config.BaseURL, "https://")
	return func(c echo.Context) error {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		nonce := base64.RawStdEncoding.EncodeToString(b)
		c.Set(ctxNonce, nonce)
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if https || c.Request().TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// plainRequestID is what a request id from a trusted proxy may be: short,
// and nothing a log reader could mistake for something else.
var plainRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID gives every request an id for the logs and the X-Request-Id
// answer header. It is made here; a proxy's is kept only when the request
// comes from a trusted proxy (--trusted-proxy) and the id is plain, so a
// client cannot write what it likes into the log.
func (h *Handler) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		id := req.Header.Get(echo.HeaderXRequestID)
		if !plainRequestID.MatchString(id) || !h.fromTrustedProxy(req) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		// The request logger reads it from the request.
		req.Header.Set(echo.HeaderXRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// fromTrustedProxy reports whether the TCP peer is a trusted proxy.
func (h *Handler) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range h.Config.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// requestLogger logs method, route and status; never query strings (they
// may hold a codice fiscale), bodies or cookies.
func (h *Handler) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogRoutePath: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			h.Log.Info("request", "method", v.Method, "route", v.RoutePath, "status", v.Status,
				"ms", v.Latency.Milliseconds(), "ip", v.RemoteIP, "request_id", v.RequestID)
			return nil
		},
	})
}

// noStore keeps pages behind login out of browser and proxy caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// requireStaff lets through only a live session of an active staff member;
// others go to the login page (GET) or get 401.
func (h *Handler) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := h.staffSessions.GetInt64(ctx, keyStaffID)
		if id != 0 {
			s, err := h.DB.StaffByID(ctx, id)
			// A new password, a reset of the factors or the first factor
			// ends older sessions; and a session that never proved a
			// second factor ends once the member has one, however they
			// got it and whatever --staff-mfa says.
			if err == nil && s.Active && s.SessionValid(sessionTime(h.staffSessions, ctx, keyStaffAuthAt)) &&
				(s.Factors == 0 || h.staffSessions.GetBool(ctx, keyStaffFactor)) {
				c.Set(ctxStaff, &s)
				return next(c)
			}
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			// Disabled, removed or ended: the session dies now.
			_ = h.staffSessions.Destroy(ctx)
		}
		if c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, "/desk/login")
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "Sessione scaduta: accedi di nuovo.")
	}
}

// requireRole answers 403 to staff without the role.
func requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if s := currentStaff(c); s == nil || s.Role != role {
				return echo.NewHTTPError(http.StatusForbidden, "Questa pagina è riservata agli amministratori.")
			}
			return next(c)
		}
	}
}

func currentStaff(c echo.Context) *db.Staff {
	s, _ := c.Get(ctxStaff).(*db.Staff)
	return s
}

// staffActor is the audit identity of the logged-in staff member.
func staffActor(c echo.Context) db.Actor {
	s := currentStaff(c)
	if s == nil {
		return db.Actor{Kind: "staff", IP: c.RealIP()}
	}
	return db.Actor{Kind: "staff", ID: s.ID, Name: s.Username, IP: c.RealIP()}
}

// chrome builds the staff page frame, consuming the pending flash message.
func (h *Handler) chrome(c echo.Context, title string) views.Chrome {
	ch := views.Chrome{
		Title: title,
		Staff: currentStaff(c),
		Flash: h.staffSessions.PopString(c.Request().Context(), "flash"),
	}
	if ch.IsAdmin() {
		ch.LowDisk = h.lowDisk()
		ch.SMSBudget = h.smsBudgetSpent(c)
	}
	return ch
}

// lowDisk is the warning admins see on every page while the database's
// disk runs low; nil while there is room (or it cannot be read: the
// monitor's log says so).
func (h *Handler) lowDisk() *views.LowDisk {
	s, err := h.Health.Space()
	if err != nil || !s.Low() {
		return nil
	}
	return &views.LowDisk{Free: int64(min(s.Free, math.MaxInt64)), Min: int64(s.Min), BelowMin: s.TooLow()}
}

// smsBudgetSpent is the warning admins see on every page while the daily
// budget of SMS codes is spent; nil otherwise (or when it cannot be read:
// the page matters more than the warning).
func (h *Handler) smsBudgetSpent(c echo.Context) *views.SMSBudget {
	b, err := h.codes.Budget(c.Request().Context())
	if err != nil {
		h.Log.Error("read the daily budget of SMS codes", "err", err)
		return nil
	}
	if !b.Spent() {
		return nil
	}
	return &views.SMSBudget{Used: b.Used, Until: b.Until, Now: h.now()}
}

func (h *Handler) flash(c echo.Context, msg string) {
	h.staffSessions.Put(c.Request().Context(), "flash", msg)
}

// staticHandler serves the embedded stylesheet and script.
func staticHandler() echo.HandlerFunc {
	files := echo.StaticDirectoryHandler(echo.MustSubFS(views.Static, "static"), false)
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return files(c)
	}
}

func (h *Handler) now() time.Time { return h.Now().UTC() }
