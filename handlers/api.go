package handlers

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/intake"
	"fse/internal/pdfcheck"
)

const ctxIntegration = "integration"

// apiThrottle locks out an address that keeps presenting bad tokens.
var apiThrottle = db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}

// apiRoutes registers the integration API, versioned under /api/v1, and
// FHIR under /fhir/r4. They answer machines: bearer tokens instead of
// cookies (so no cross-origin protection is needed), JSON problem details
// (RFC 9457) or FHIR OperationOutcomes instead of pages.
func (h *Handler) apiRoutes(e *echo.Echo) {
	api := newRouteGroup(e, "/api/v1", noStore)
	api.GET("/openapi.json", h.openAPI)
	auth := h.requireIntegration
	api.POST("/visits", h.apiCreateVisit, auth)
	api.GET("/visits/:accession", h.apiVisit, auth)
	api.POST("/visits/:accession/code", h.apiReissueCode, auth)
	api.PUT("/visits/:accession/reports/:report_id", h.apiPutReport, auth)
	api.DELETE("/visits/:accession/reports/:report_id", h.apiWithdrawReport, auth)

	h.fhirRoutes(e)
}

// isAPI tells machine routes from pages, for the error handler.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/fhir/")
}

// apiLimiters are the per-token rate limits, made on first use.
type apiLimiters struct {
	mu sync.Mutex
	m  map[int64]*rate.Limiter
}

func (l *apiLimiters) get(id int64, perSecond float64) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[int64]*rate.Limiter{}
	}
	if lim, ok := l.m[id]; ok {
		return lim
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond*2)))
	l.m[id] = lim
	return lim
}

// requireIntegration authenticates a bearer token and checks the source
// network and the token's rate. A refusal is audited with the address (the
// token never is); an address that keeps failing is locked out for a while.
func (h *Handler) requireIntegration(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		now := h.now()
		ip := c.RealIP()
		token, bearer := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !bearer {
			token = ""
		}
		var in db.Integration
		var err error
		if token != "" {
			in, err = h.DB.IntegrationByToken(ctx, db.HashIntegrationToken(token))
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
		}
		// A valid token from an allowed network goes through whatever others
		// behind the same address did; only refusals are counted and locked.
		if err != nil || token == "" || !in.AllowsAddress(ip) {
			return h.refuseIntegration(c, token, in, err)
		}
		if !h.apiRates.get(in.ID, h.Config.APIRatePerSecond).Allow() {
			c.Response().Header().Set("Retry-After", "1")
			return apiProblem(http.StatusTooManyRequests, "Rate limit of this token exceeded; slow down and retry.")
		}
		if err := h.DB.TouchIntegration(ctx, in.ID, now); err != nil {
			h.Log.Warn("touch integration", "integration", in.ID, "err", err)
		}
		c.Set(ctxIntegration, in)
		return next(c)
	}
}

// refuseIntegration answers a request without a usable token: counted
// per address, audited (never the token), and locked out after a while.
func (h *Handler) refuseIntegration(c echo.Context, token string, in db.Integration, lookupErr error) error {
	ctx := c.Request().Context()
	now := h.now()
	ip := c.RealIP()
	key := "api:" + ip
	if until, err := h.DB.LockedUntil(ctx, key, now); err != nil {
		return err
	} else if !until.IsZero() {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(until.Sub(now).Seconds())+1))
		return apiProblem(http.StatusTooManyRequests, "Too many failed authentications from this address; try again later.")
	}
	status, detail, reason := http.StatusUnauthorized, "The token is not valid or was revoked.", "unknown or revoked token"
	switch {
	case token == "":
		detail, reason = "A bearer token is required (Authorization: Bearer fse_...).", "no token"
	case lookupErr == nil:
		status, detail, reason = http.StatusForbidden, "This token may not be used from this network.", "network not allowed for "+in.Name
	}
	if _, err := h.DB.ClaimAttempt(ctx, apiThrottle, key, now); err != nil {
		return err
	}
	_ = h.DB.Audit(ctx, db.AuditEvent{At: now, Actor: db.Actor{Kind: db.ActorIntegration, IP: ip},
		Action: db.ActionIntegrationAuthFailed, Outcome: db.OutcomeDenied, Detail: reason})
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fse"`)
	}
	return apiProblem(status, detail)
}

func currentIntegration(c echo.Context) db.Integration {
	in, _ := c.Get(ctxIntegration).(db.Integration)
	return in
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
}

// fieldProblem says what is wrong with one field, in English for the
// client's developers and in Italian for the staff who typed it.
type fieldProblem struct {
	Field    string `json:"field"`
	Detail   string `json:"detail"`
	DetailIT string `json:"detail_it"`
}

// apiError is an error the API answers with a problem of its own.
type apiError struct{ p problem }

func (e *apiError) Error() string { return e.p.Detail }

func apiProblem(status int, detail string) error {
	return &apiError{problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}}
}

// apiErrorFor maps what the intake and the store refused to a problem.
func apiErrorFor(err error) (problem, bool) {
	var ae *apiError
	var inv *intake.InvalidError
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	p := func(status int, detail string) (problem, bool) {
		return problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}, true
	}
	switch {
	case errors.As(err, &ae):
		return ae.p, true
	case errors.As(err, &inv):
		out, _ := p(http.StatusUnprocessableEntity, "The request has invalid fields; see errors.")
		for _, f := range inv.Problems {
			out.Errors = append(out.Errors, fieldProblem{Field: f.Field, Detail: f.EN, DetailIT: f.IT})
		}
		return out, true
	case errors.Is(err, intake.ErrScope):
		return p(http.StatusForbidden, err.Error())
	case errors.Is(err, db.ErrExternalIDTaken):
		return p(http.StatusConflict, "This external_id was already used for an acceptance of another patient.")
	case errors.Is(err, db.ErrOnlineDeclined):
		return p(http.StatusConflict, "The patient declined online delivery for this visit: the report goes on paper.")
	case errors.Is(err, db.ErrOnlineDisabled):
		return p(http.StatusConflict, "The patient turned online delivery off: the report goes on paper and is not published.")
	case errors.Is(err, db.ErrProtectedPaper):
		return p(http.StatusConflict, "This is a protected report (riservato): this portal hands protected reports over on paper only, "+
			"so it is not stored.")
	case errors.Is(err, db.ErrReportDeletedByPatient):
		return p(http.StatusConflict, "The patient deleted this report from the portal; it is not sent again.")
	case errors.Is(err, db.ErrReportExpired):
		return p(http.StatusConflict, "This report expired and left the portal; it is not sent again.")
	case errors.Is(err, db.ErrReportOfAnother):
		return p(http.StatusConflict, "This report id belongs to a report another integration delivered.")
	case errors.Is(err, db.ErrMobileChangeOnline):
		return p(http.StatusConflict, "The patient reads reports online: their mobile can be changed only at the desk.")
	case errors.Is(err, intake.ErrWrongPatient):
		return p(http.StatusUnprocessableEntity, "The report names another patient than the visit's: check the accession number.")
	case errors.Is(err, pdfcheck.ErrNotPDF):
		return p(http.StatusUnsupportedMediaType, "The body is not a PDF file.")
	case errors.Is(err, pdfcheck.ErrTruncated):
		return p(http.StatusUnprocessableEntity, "The PDF is truncated or incomplete (no startxref/%%EOF trailer).")
	case errors.Is(err, pdfcheck.ErrTooLarge), errors.As(err, &mbe):
		return p(http.StatusRequestEntityTooLarge, "The file is larger than the upload limit.")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, multipart.ErrMessageTooLarge):
		return p(http.StatusBadRequest, "The body ended before it was complete.")
	case errors.Is(err, db.ErrNotFound):
		return p(http.StatusNotFound, "No such visit or report for this integration's facility.")
	case errors.As(err, &he) && he.Code < 500:
		return p(he.Code, http.StatusText(he.Code))
	}
	return problem{}, false
}

// writeProblem answers err as problem+json, or as an OperationOutcome
// under /fhir.
func (h *Handler) writeProblem(c echo.Context, err error) {
	if strings.HasPrefix(c.Request().URL.Path, "/fhir/") {
		status, body, known := fhirOutcome(err)
		if !known {
			h.Log.Error("fhir request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		}
		_ = c.Blob(status, fhirJSON, body)
		return
	}
	p, ok := apiErrorFor(err)
	if !ok {
		p = problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError,
			Detail: "Internal error; the request can be retried."}
	}
	if p.Status >= 500 {
		h.Log.Error("api request failed", "method", c.Request().Method, "path", c.Path(), "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_ = jsonEncode(c.Response(), p)
}

// problemsFrom turns field problems into an InvalidError.
func problemsFrom(field, en, it string) error {
	return &intake.InvalidError{Problems: acceptance.Problems{{Field: field, EN: en, IT: it}}}
}
