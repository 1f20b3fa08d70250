package handlers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/fhir"
	"fse/internal/intake"
)

const fhirJSON = "application/fhir+json"

// fhirRoutes registers FHIR R4 under /fhir/r4: DocumentReference create,
// search and read, transaction Bundles, and the CapabilityStatement.
func (h *Handler) fhirRoutes(e *echo.Echo) {
	fhirGroup := newRouteGroup(e, "/fhir/r4", noStore)
	auth := h.requireIntegration
	fhirGroup.GET("/metadata", h.fhirMetadata)
	// A FHIR body holds its PDFs whole (base64 in JSON): a few at a time.
	few := limitConcurrent(4)
	fhirGroup.POST("", h.fhirBundle, auth, few)
	fhirGroup.POST("/DocumentReference", h.fhirCreate, auth, few)
	fhirGroup.GET("/DocumentReference", h.fhirSearch, auth)
	fhirGroup.GET("/DocumentReference/:id", h.fhirRead, auth)
}

func (h *Handler) fhirBase() string { return h.Config.BaseURL + "/fhir/r4" }

func (h *Handler) fhirMetadata(c echo.Context) error {
	return c.Blob(http.StatusOK, fhirJSON, fhir.CapabilityStatementJSON(h.fhirBase(), "1", h.now()))
}

// fhirBody reads a FHIR JSON body: a PDF travels base64-encoded inside it,
// so the limit is the upload limit's base64 size plus room for the rest.
func (h *Handler) fhirBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if mt, _, _ := mimeType(r.Header.Get(echo.HeaderContentType)); mt != fhirJSON && mt != "application/json" {
		return nil, apiProblem(http.StatusUnsupportedMediaType, "The body must be application/fhir+json.")
	}
	limit := h.Config.UploadLimit*4/3 + 1<<20
	if r.ContentLength > limit {
		return nil, apiProblem(http.StatusRequestEntityTooLarge, "The resource is larger than the upload limit allows.")
	}
	return io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
}

// publishes tells whether a delivered DocumentReference is published at
// once: a final or amended document (or one without docStatus); a
// preliminary one waits.
func publishes(r fhir.Report) bool {
	return r.DocStatus == "" || r.DocStatus == "final" || r.DocStatus == "amended"
}

// withdraws tells whether a DocumentReference withdraws its report.
func withdraws(r fhir.Report) bool {
	return r.Status == "entered-in-error" || r.DocStatus == "entered-in-error"
}

func intakeReport(rep fhir.Report) intake.Report {
	return intake.Report{Accession: rep.Accession, ReportID: rep.ReportID, Title: rep.Title, Body: bytes.NewReader(rep.PDF),
		Publish: publishes(rep), FiscalCode: rep.FiscalCode}
}

// fhirCreate stores the PDF of a DocumentReference as a report of the
// visit its accession identifier names; entered-in-error withdraws it.
func (h *Handler) fhirCreate(c echo.Context) error {
	body, err := h.fhirBody(c)
	if err != nil {
		return err
	}
	rep, err := fhir.ParseDocumentReference(body)
	if err != nil {
		return err
	}
	in := currentIntegration(c)
	ctx := c.Request().Context()
	switch {
	case withdraws(rep):
		if err := h.Intake.WithdrawReport(ctx, in, c.RealIP(), rep.Accession, rep.ReportID); err != nil {
			return err
		}
		return c.Blob(http.StatusOK, fhirJSON, fhir.DocumentReferenceJSON(fhir.Stored{Accession: rep.Accession,
			ReportID: rep.ReportID, Title: rep.Title, State: fhir.StateEnteredInError, Date: rep.Date}))
	case rep.Status == "superseded":
		return &fhir.Invalid{Issues: []fhir.Issue{{Path: "DocumentReference.status", Code: fhir.CodeNotSupported,
			Diagnostics: "send the corrected report as a current DocumentReference with the same masterIdentifier: it supersedes the old one"}}}
	}
	res, err := h.Intake.PutReport(ctx, in, c.RealIP(), intakeReport(rep))
	if err != nil {
		return err
	}
	stored, err := h.fhirStored(c, in, rep.Accession, res.DocumentID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Outcome == db.PutCreated {
		status = http.StatusCreated
	}
	c.Response().Header().Set("Location", h.fhirBase()+"/DocumentReference/"+strconv.FormatInt(res.DocumentID, 10))
	return c.Blob(status, fhirJSON, fhir.DocumentReferenceJSON(stored))
}

// fhirBundle takes a transaction Bundle of DocumentReferences (their PDFs
// inline or in Binary entries), stored all or none.
func (h *Handler) fhirBundle(c echo.Context) error {
	body, err := h.fhirBody(c)
	if err != nil {
		return err
	}
	reps, err := fhir.ParseBundle(body)
	if err != nil {
		return err
	}
	var reports []intake.Report
	for _, rep := range reps {
		if withdraws(rep) || rep.Status == "superseded" {
			return &fhir.Invalid{Issues: []fhir.Issue{{Path: "Bundle.entry", Code: fhir.CodeNotSupported,
				Diagnostics: "a transaction Bundle delivers current reports; withdraw a report with its own DocumentReference"}}}
		}
		reports = append(reports, intakeReport(rep))
	}
	results, err := h.Intake.PutReports(c.Request().Context(), currentIntegration(c), c.RealIP(), reports)
	if err != nil {
		return err
	}
	type entry struct {
		Response struct {
			Status   string `json:"status"`
			Location string `json:"location"`
		} `json:"response"`
	}
	out := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Entry        []entry `json:"entry"`
	}{ResourceType: "Bundle", Type: "transaction-response"}
	for _, res := range results {
		var e entry
		e.Response.Status = "200 OK"
		if res.Outcome == db.PutCreated {
			e.Response.Status = "201 Created"
		}
		e.Response.Location = "DocumentReference/" + strconv.FormatInt(res.DocumentID, 10)
		out.Entry = append(out.Entry, e)
	}
	c.Response().Header().Set(echo.HeaderContentType, fhirJSON)
	c.Response().WriteHeader(http.StatusOK)
	return jsonEncode(c.Response(), out)
}

// fhirSearch answers ?identifier=[system|]ACCESSION with the visit's
// reports; another facility's visit, or none, is an empty result.
func (h *Handler) fhirSearch(c echo.Context) error {
	in := currentIntegration(c)
	value := c.QueryParam("identifier")
	if i := strings.LastIndex(value, "|"); i >= 0 {
		value = value[i+1:]
	}
	if value == "" {
		return &fhir.Invalid{Issues: []fhir.Issue{{Path: "identifier", Code: fhir.CodeRequired,
			Diagnostics: "search by identifier: the accession number, such as MN-2026-00042"}}}
	}
	var docs []fhir.Stored
	v, reps, err := h.Intake.Visit(c.Request().Context(), in, value)
	switch {
	case errors.Is(err, db.ErrNotFound):
	case err != nil:
		return err
	default:
		for _, r := range reps {
			docs = append(docs, storedFrom(v, r))
		}
	}
	return c.Blob(http.StatusOK, fhirJSON, fhir.SearchSetJSON(h.fhirBase(), docs))
}

// fhirRead returns one report of the integration's facility by fse's id.
func (h *Handler) fhirRead(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	in := currentIntegration(c)
	doc, err := h.DB.Document(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := h.DB.Visit(c.Request().Context(), doc.VisitID)
	if err != nil || v.FacilityID != in.FacilityID {
		return db.ErrNotFound
	}
	stored, err := h.fhirStored(c, in, v.AccessionNumber(), id)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, fhirJSON, fhir.DocumentReferenceJSON(stored))
}

// fhirStored reads back one report of a visit as FHIR shows it.
func (h *Handler) fhirStored(c echo.Context, in db.Integration, accession string, docID int64) (fhir.Stored, error) {
	v, reps, err := h.Intake.Visit(c.Request().Context(), in, accession)
	if err != nil {
		return fhir.Stored{}, err
	}
	for _, r := range reps {
		if r.DocumentID == docID {
			return storedFrom(v, r), nil
		}
	}
	return fhir.Stored{}, db.ErrNotFound
}

func storedFrom(v db.Visit, r db.VisitReport) fhir.Stored {
	s := fhir.Stored{ID: r.DocumentID, Accession: v.AccessionNumber(), ReportID: r.ReportID, Title: r.Title, State: r.State,
		Date: r.UploadedAt, Published: r.PublishedAt, Expires: r.ExpiresAt, FirstDownloaded: r.FirstDownloadedAt, Facility: v.FacilityName}
	if r.State == db.ReportWithdrawn {
		s.State = fhir.StateEnteredInError
	}
	return s
}

// fhirOutcome answers err as an OperationOutcome with its status.
func fhirOutcome(err error) (int, []byte, bool) {
	var inv *fhir.Invalid
	var unsupported *fhir.UnsupportedContentType
	switch {
	case errors.As(err, &unsupported):
		return http.StatusUnsupportedMediaType, fhir.OperationOutcome(unsupported.Issues...), true
	case errors.As(err, &inv):
		return http.StatusBadRequest, fhir.OperationOutcome(inv.Issues...), true
	}
	p, ok := apiErrorFor(err)
	if !ok {
		return http.StatusInternalServerError, fhir.OperationOutcome(fhir.Issue{Code: fhir.CodeException,
			Diagnostics: "internal error; the request can be retried"}), false
	}
	code := map[int]string{http.StatusUnauthorized: fhir.CodeSecurity, http.StatusForbidden: fhir.CodeSecurity,
		http.StatusNotFound: fhir.CodeNotFound, http.StatusConflict: fhir.CodeConflict, http.StatusRequestEntityTooLarge: fhir.CodeTooCostly,
		http.StatusUnsupportedMediaType: fhir.CodeNotSupported, http.StatusTooManyRequests: fhir.CodeTooCostly}[p.Status]
	if code == "" {
		code = fhir.CodeInvalid
	}
	var issues []fhir.Issue
	for _, f := range p.Errors {
		issues = append(issues, fhir.Issue{Path: f.Field, Code: code, Diagnostics: f.Detail})
	}
	if len(issues) == 0 {
		issues = []fhir.Issue{{Code: code, Diagnostics: p.Detail}}
	}
	return p.Status, fhir.OperationOutcome(issues...), true
}

// limitConcurrent lets n requests through at a time; the others wait their
// turn, or give up with their client.
func limitConcurrent(n int) echo.MiddlewareFunc {
	slots := make(chan struct{}, n)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
			case <-c.Request().Context().Done():
				return c.Request().Context().Err()
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}
