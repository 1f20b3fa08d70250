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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"fse/db"
	"fse/internal/health"
	"fse/internal/intake"
	"fse/internal/locale"
	"fse/internal/mfa"
	"fse/internal/notify"
	"fse/internal/passkey"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/internal/smscode"
	"fse/views"
)

// Config is the part of the server configuration the handlers use.
type Config struct {
	// BaseURL is the portal's public address, printed on slips. Its host
	// is the passkeys' relying party: without an http(s) address passkeys
	// are off.
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
	// RequireLoginOTP makes the SMS code at every patient login mandatory.
	RequireLoginOTP bool
	// StaffMFA says which staff must log in with a second factor; the zero
	// value is db.StaffMFARequired.
	StaffMFA db.StaffMFAPolicy
	// SMSConfigured and EmailConfigured say whether the deliver job has a
	// sender for each channel; without one, messages wait in the outbox.
	SMSConfigured, EmailConfigured bool
	// APIRatePerSecond is each integration token's request rate (burst
	// twice that); 0 means 20.
	APIRatePerSecond float64
	// MinFreeSpace is the free space on the database's disk below which
	// /healthz reports degraded; below twice it admins see a warning on
	// every page. 0 turns the disk check off.
	MinFreeSpace int64
	// FreeSpace reads the free bytes of the disk holding a path; nil is
	// the real disk's (diskspace.Free).
	FreeSpace func(path string) (uint64, error)
	// SMSCountries are the ISO 3166-1 codes of the countries SMS codes go
	// to; none means Italy only (smscode.DefaultCountry).
	SMSCountries []string
	// SMSDailyLimit is the portal's daily budget of SMS codes strangers
	// can trigger; 0 means smscode.DefaultDailyBudget.
	SMSDailyLimit int
	// ExpiryReminderDays is how many days before a report leaves the
	// portal the dossier page marks it, and a patient who never downloaded
	// it is reminded; 0 turns both off.
	ExpiryReminderDays int
	// Version is the running fse's version, shown on /healthz.
	Version string
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
	// SMS sends one-time codes at once (they cannot wait in the outbox);
	// nil when no gateway is configured.
	SMS notify.Sender
	// Email sends email confirmation links at once; nil when no mail
	// server is configured (addresses cannot be confirmed then).
	Email notify.Sender
	// Intake receives what the clinic's systems deliver; New builds one
	// from the fields above when main does not share its own.
	Intake *intake.Service
	// Health checks the database's writes and disk for /healthz and the
	// admin pages; New builds one from Config when main does not share
	// the one it watches the disk with.
	Health *health.Monitor
	// Requests, when set, records every answered request (the metrics).
	Requests RequestObserver

	staffSessions   *scs.SessionManager
	patientSessions *scs.SessionManager
	// codes issues and checks the SMS codes, with their rules.
	codes *smscode.Service
	// factors enrols and checks authenticator apps and recovery codes.
	factors *mfa.Service
	// passkeys runs the passkeys' ceremonies; nil when Config.BaseURL is
	// not an http(s) address (its host is the passkeys' relying party).
	passkeys *passkey.Service
	// secrets holds new activation codes and tokens for their one showing.
	secrets onceSecrets
	// acceptForms remembers submitted acceptance forms.
	acceptForms formTokens
	// apiRates are the integration tokens' rate limits.
	apiRates apiLimiters
}

// New builds the Echo server with every middleware and route.
func New(h *Handler) *echo.Echo {
	h.staffSessions = newSessionManager(h, db.RealmStaff, "__Host-fse-desk", 30*time.Minute, 12*time.Hour, http.SameSiteStrictMode)
	// Lax, not Strict: a patient opening the slip's QR link arrives from
	// another "site" (the camera app) and must keep their session.
	h.patientSessions = newSessionManager(h, db.RealmPatient, "__Host-fse", 15*time.Minute, 12*time.Hour, http.SameSiteLaxMode)
	h.codes = &smscode.Service{DB: h.DB, Keys: h.Keys, SMS: h.SMS, Log: h.Log, Now: h.Now,
		Countries: h.Config.SMSCountries, DailyBudget: h.Config.SMSDailyLimit}
	h.factors = &mfa.Service{DB: h.DB, Keys: h.Keys, Now: h.Now}
	if pk, err := passkey.New(h.Config.BaseURL, mfa.Issuer); err == nil {
		h.passkeys = pk
	} else {
		h.Log.Warn("passkeys are off", "err", err)
	}
	if h.Intake == nil {
		h.Intake = &intake.Service{DB: h.DB, Keys: h.Keys, BaseURL: h.Config.BaseURL, Retention: h.Config.Retention(),
			UploadLimit: h.Config.UploadLimit, Now: h.Now}
	}
	if h.Health == nil {
		h.Health = &health.Monitor{Path: h.DB.Path, MinFree: uint64(max(h.Config.MinFreeSpace, 0)), FreeSpace: h.Config.FreeSpace,
			ProbeWrite: h.DB.ProbeWrite, Now: h.Now, Log: h.Log}
	}
	if h.Config.APIRatePerSecond <= 0 {
		h.Config.APIRatePerSecond = 20
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	e.IPExtractor = ipExtractor(h.Config.TrustedProxies)

	if h.Requests != nil {
		e.Use(h.observeRequests(e))
	}

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.Log.Error("panic", "path", c.Path(), "err", err, "stack", string(stack),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return err
		},
	}))
	e.Use(h.requestID)
	e.Use(h.requestLogger())
	e.Use(h.securityHeaders)
	e.Use(h.language)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: "256K",
		// Report uploads apply the upload limit themselves.
		Skipper: func(c echo.Context) bool { return largeBody[c.Path()] },
	}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(locale.From(r.Context()).T("errors.cross_origin") + "\n"))
	}))
	crossOrigin := echo.WrapMiddleware(cop.Handler)

	h.routes(e, crossOrigin)
	h.apiRoutes(e)
	return e
}

// largeBody are the routes that take a report and limit its size themselves.
var largeBody = map[string]bool{
	"/desk/visits/:id/documents":                   true,
	"/api/v1/visits/:accession/reports/:report_id": true,
	"/fhir/r4/DocumentReference":                   true,
	"/fhir/r4":                                     true,
}

// newSessionManager builds the session manager of one realm: its store
// never finds a session of the other realm, whatever cookie is sent.
func newSessionManager(h *Handler, realm, name string, idle, lifetime time.Duration, sameSite http.SameSite) *scs.SessionManager {
	sm := scs.New()
	sm.Codec = sessionCodec{}
	// scs computes expiries with the real clock, so the store compares
	// with the real clock too (h.Now may be a test clock).
	sm.Store = &db.SessionStore{DB: h.DB, Realm: realm, Now: time.Now, RefreshEvery: time.Minute}
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
		http.Error(w, locale.From(r.Context()).T("errors.unavailable"), http.StatusServiceUnavailable)
	}
	return sm
}

// routes registers every route. Each area loads only its own session
// (staff under /desk, patients elsewhere), then cross-origin protection,
// then its auth guard.
func (h *Handler) routes(e *echo.Echo, crossOrigin echo.MiddlewareFunc) {
	e.GET("/healthz", h.healthz)
	e.GET("/static/*", staticHandler())
	h.siteFileRoutes(e)

	loginLimit := perIPLimit(30)

	staff := newRouteGroup(e, "/desk", deskItalian, echo.WrapMiddleware(h.staffSessions.LoadAndSave), crossOrigin)
	staff.GET("/login", h.deskLoginForm)
	staff.POST("/login", h.deskLogin, loginLimit)
	staff.POST("/logout", h.deskLogout)

	// Staff who must enrol a second factor reach only its pages.
	desk := staff.Group("", h.requireStaff, h.requireStaffFactor, noStore)
	desk.GET("", h.deskHome)
	desk.GET("/accept", h.acceptForm)
	desk.POST("/accept", h.accept)
	desk.GET("/patients/:id", h.patientPage)
	desk.GET("/visits/:id", h.visitPage)
	desk.GET("/visits/:id/slip", h.slip)
	desk.POST("/visits/:id/reprint", h.reprint)
	desk.POST("/visits/:id/documents", h.uploadDocuments)
	desk.POST("/visits/:id/publish", h.publish)
	desk.GET("/documents/:id/file", h.staffDocumentFile)
	desk.GET("/documents/:id/withdraw", h.withdrawForm)
	desk.POST("/documents/:id/withdraw", h.withdraw)
	h.patientRightsDeskRoutes(desk)

	admin := desk.Group("/admin", requireRole(db.RoleAdmin))
	admin.GET("/staff", h.staffList)
	admin.POST("/staff", h.staffCreate)
	admin.POST("/staff/:id/active", h.staffSetActive)
	admin.GET("/facilities", h.facilityList)
	admin.POST("/facilities", h.facilityCreate)
	admin.POST("/facilities/:id/active", h.facilitySetActive)
	admin.GET("/audit", h.auditList)
	admin.GET("/settings", h.settings)
	admin.GET("/notifications", h.notifications)
	admin.POST("/notifications/:id/retry", h.retryNotification)
	admin.GET("/integrations", h.integrationList)
	admin.POST("/integrations", h.integrationCreate)
	admin.GET("/integrations/:id/token", h.integrationToken)
	admin.POST("/integrations/:id/revoke", h.integrationRevoke)
	h.staffFactorRoutes(staff, admin, loginLimit)
	h.deskWorkRoutes(desk, admin)

	// Patient pages never belong in a shared cache.
	pub := newRouteGroup(e, "", echo.WrapMiddleware(h.patientSessions.LoadAndSave), crossOrigin, noStore)
	codeLimit := perIPLimit(20)
	pub.GET("/", h.landing)
	pub.GET("/lingua/:lang", h.switchLanguage)
	pub.GET("/informativa", h.notice(false))
	pub.GET("/informativa-fascicolo", h.notice(true))
	pub.GET(views.HelpPath, h.help)
	pub.GET("/registrati", h.registerConsentForm)
	pub.POST("/registrati", h.registerConsent)
	pub.GET("/registrati/profilo", h.registerProfileForm)
	pub.POST("/registrati/profilo", h.registerProfile, codeLimit)
	pub.GET("/registrati/codice", h.registerCodeForm)
	pub.POST("/registrati/codice", h.registerCode, codeLimit)
	pub.GET("/accedi", h.loginForm)
	pub.POST("/accedi", h.login, loginLimit)
	pub.GET("/accedi/codice", h.loginCodeForm)
	pub.POST("/accedi/codice", h.loginCode, codeLimit)
	pub.POST("/esci", h.logout)
	pub.GET("/verifica-email", h.emailConfirmForm)
	pub.POST("/verifica-email", h.emailConfirm, codeLimit)
	pub.GET("/password-dimenticata", h.forgotForm)
	pub.POST("/password-dimenticata", h.forgot, codeLimit)
	pub.GET("/password-dimenticata/codice", h.resetForm)
	pub.POST("/password-dimenticata/codice", h.reset, codeLimit)

	// The guard goes on each route: the group also holds the pages of
	// visitors who are not logged in.
	auth := h.requirePatient
	pub.GET("/attiva", h.activateForm, auth)
	pub.POST("/attiva", h.activate, auth)
	pub.GET("/fascicolo", h.dossier, auth)
	pub.GET("/fascicolo/accessi", h.accessLog, auth)
	pub.GET("/fascicolo/referti/:id", h.download("attachment"), auth)
	pub.GET("/fascicolo/referti/:id/apri", h.download("inline"), auth)
	pub.GET("/profilo", h.profile, auth)
	pub.POST("/profilo/preferenze", h.savePreferences, auth)
	pub.POST("/profilo/password", h.changePassword, auth)
	pub.GET("/profilo/familiari", h.family, auth)
	pub.POST("/profilo/familiari", h.addRelative, auth)
	pub.GET("/profilo/familiari/:id/attiva", h.relativeActivateForm, auth)
	pub.POST("/profilo/familiari/:id/attiva", h.relativeActivate, auth)
	pub.GET("/profilo/familiari/:id/rimuovi", h.removeRelativeForm, auth)
	pub.POST("/profilo/familiari/:id/rimuovi", h.removeRelative, auth)
	pub.GET("/profilo/elimina", h.deleteAccountForm, auth)
	pub.POST("/profilo/elimina", h.deleteAccount, auth)
	pub.GET("/fascicolo/:id/disattiva", h.confirmDossier("disattiva"), auth)
	pub.POST("/fascicolo/:id/disattiva", h.disableDossier, auth)
	pub.GET("/fascicolo/:id/riattiva", h.confirmDossier("riattiva"), auth)
	pub.POST("/fascicolo/:id/riattiva", h.enableDossier, auth)
	pub.GET("/fascicolo/:id/azzera", h.confirmDossier("azzera"), auth)
	pub.POST("/fascicolo/:id/azzera", h.resetDossier, auth)
	pub.GET("/fascicolo/:id/revoca", h.confirmDossier("revoca"), auth)
	pub.POST("/fascicolo/:id/revoca", h.revokeOthers, auth)
	pub.GET("/fascicolo/:id/scollega", h.confirmDossier("scollega"), auth)
	pub.POST("/fascicolo/:id/scollega", h.unlinkDossier, auth)
	pub.GET("/fascicolo/referti/:id/elimina", h.deleteReportForm, auth)
	pub.POST("/fascicolo/referti/:id/elimina", h.deleteReport, auth)
	pub.POST("/profilo/recapiti", h.changeContact, auth, codeLimit)
	pub.GET("/profilo/recapiti/codice", h.contactCodeForm, auth)
	pub.POST("/profilo/recapiti/codice", h.contactCode, auth, codeLimit)
	h.patientFactorRoutes(pub, auth, codeLimit)
	h.patientRightsRoutes(pub, auth, codeLimit)
}

// perIPLimit is flood control: at most perMinute requests a minute from
// one client address (the lockouts per account live in SQLite). The
// refusal speaks the request's language (the desk's is Italian).
func perIPLimit(perMinute int) echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(float64(perMinute) / 60), Burst: perMinute, ExpiresIn: 15 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, lang(c).T("errors.too_many_from_address"))
		},
	})
}

func (h *Handler) landing(c echo.Context) error {
	if h.patientSessions.GetInt64(h.pctx(c), keyAccount) != 0 {
		return c.Redirect(http.StatusSeeOther, "/fascicolo")
	}
	page := views.LandingPage{PChrome: h.pchrome(c, lang(c).T("common.site_name"))}
	page.Description = lang(c).T("frame.meta_description")
	return h.render(c, http.StatusOK, views.Landing(page))
}

func (h *Handler) notice(dossier bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		page := views.NoticePage{Dossier: dossier}
		page.PChrome = h.pchrome(c, page.Title(h.pctx(c)))
		return h.render(c, http.StatusOK, views.Notice(page))
	}
}

// render writes a templ component into a buffer first, so a rendering
// error becomes a clean 500 instead of half a page.
func (h *Handler) render(c echo.Context, status int, comp templ.Component) error {
	ctx := templ.WithNonce(c.Request().Context(), nonceOf(c))
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := comp.Render(ctx, buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	// The length is known: the page goes out whole, not in chunks.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// pageBuffers hold rendered pages until they are written: a page grown
// from an empty buffer allocated about twice its size (42 KB for a dossier
// of 20 reports) on every request.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns buf to the pool unless an unusually large page grew
// it, which would otherwise stay allocated for every later page.
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

// errorHandler maps errors to status codes and a page, never showing
// internals: a patient's page in the request's language, the desk's in
// Italian (an unknown /desk address never reached deskItalian).
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAPI(c.Request().URL.Path) {
		h.writeProblem(c, err)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/desk") {
		setLang(c, locale.Italian)
	}
	p := lang(c)
	status := http.StatusInternalServerError
	msg := p.T("errors.server")
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		// Our own errors carry a message in the request's language; Echo's
		// built-in ones (404 for an unknown route, 405, 413) carry English
		// status text, replaced by ours.
		if m, ok := he.Message.(string); ok && he.Internal == nil && status < 500 && m != http.StatusText(status) {
			msg = m
		} else {
			msg = defaultMessage(p, status)
		}
	case errors.Is(err, db.ErrNotFound):
		status, msg = http.StatusNotFound, defaultMessage(p, http.StatusNotFound)
	case errors.Is(err, db.ErrConflict):
		status, msg = http.StatusConflict, defaultMessage(p, http.StatusConflict)
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
	page := views.ErrorPage(status, msg, "/desk")
	if !strings.HasPrefix(c.Request().URL.Path, "/desk") {
		page = views.PatientErrorPage(h.errorPageModel(c, status, msg))
	}
	if rerr := h.render(c, status, page); rerr != nil {
		_ = c.String(status, msg)
	}
}

// defaultMessage says what a status means, in p's language.
func defaultMessage(p *locale.Printer, status int) string {
	switch status {
	case http.StatusNotFound:
		return p.T("errors.not_found")
	case http.StatusForbidden:
		return p.T("errors.forbidden")
	case http.StatusMethodNotAllowed:
		return p.T("errors.method")
	case http.StatusRequestEntityTooLarge:
		return p.T("errors.too_large")
	case http.StatusConflict:
		return p.T("errors.conflict")
	case http.StatusTooManyRequests:
		return p.T("errors.too_many")
	case http.StatusBadRequest:
		return p.T("errors.bad_request")
	}
	if status >= 500 {
		return p.T("errors.server")
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
