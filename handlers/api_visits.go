package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/acceptance"
	"fse/internal/intake"
)

// visitRequest is the JSON body of POST /api/v1/visits.
type visitRequest struct {
	ExternalID string `json:"external_id"`
	Patient    struct {
		FiscalCode string `json:"fiscal_code"`
		FirstName  string `json:"first_name"`
		LastName   string `json:"last_name"`
		BirthDate  string `json:"birth_date"`
		BirthPlace string `json:"birth_place"`
		Sex        string `json:"sex"`
		Mobile     string `json:"mobile"`
		Email      string `json:"email"`
	} `json:"patient"`
	Exams          []string `json:"exams"`
	OnlineDeclined bool     `json:"online_declined"`
	// Protected is the desk's "riservato": see --protected-reports.
	Protected bool `json:"protected"`
}

// visitJSON is a visit as the API shows it.
type visitJSON struct {
	AccessionNumber string     `json:"accession_number"`
	ExternalID      string     `json:"external_id,omitempty"`
	Facility        string     `json:"facility"`
	AcceptedAt      time.Time  `json:"accepted_at"`
	Exams           []string   `json:"exams"`
	OnlineDeclined  bool       `json:"online_declined"`
	Protected       bool       `json:"protected"`
	CodeActive      bool       `json:"activation_code_active"`
	CodeExpiresAt   *time.Time `json:"activation_code_expires_at,omitempty"`
	SlipURL         string     `json:"slip_url"`
}

// visitCreatedJSON answers POST /api/v1/visits and the code reissue.
type visitCreatedJSON struct {
	visitJSON
	Created        bool   `json:"created"`
	ActivationCode string `json:"activation_code,omitempty"`
	ActivationURL  string `json:"activation_url,omitempty"`
	CodeNote       string `json:"activation_code_note,omitempty"`
}

// reportJSON is a report's state as its sender sees it.
type reportJSON struct {
	ReportID          string     `json:"report_id,omitempty"`
	Title             string     `json:"title,omitempty"`
	State             string     `json:"state"`
	Size              int64      `json:"size,omitempty"`
	UploadedAt        *time.Time `json:"uploaded_at,omitempty"`
	PublishedAt       *time.Time `json:"published_at,omitempty"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	FirstDownloadedAt *time.Time `json:"first_downloaded_at,omitempty"`
}

// retryNote tells a HIS how the activation code is handled on a retry.
const retryNote = "This acceptance already existed (same external_id): the activation code is only in the answer " +
	"that created it, since fse stores it as a keyed hash. If that answer was lost, POST /api/v1/visits/{accession}/code " +
	"issues a new code and revokes the old one."

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *Handler) visitJSON(v db.Visit) visitJSON {
	return visitJSON{AccessionNumber: v.AccessionNumber(), ExternalID: v.ExternalID, Facility: v.FacilityCode, AcceptedAt: v.AcceptedAt.UTC(),
		Exams: v.Exams, OnlineDeclined: v.OnlineDeclined, Protected: v.Protected, CodeActive: v.CodeActive(h.now()), CodeExpiresAt: timePtr(v.CodeExpiresAt),
		SlipURL: h.Config.BaseURL + "/desk/visits/" + strconv.FormatInt(v.ID, 10) + "/slip"}
}

func (h *Handler) createdJSON(out intake.VisitCreated) visitCreatedJSON {
	j := visitCreatedJSON{visitJSON: h.visitJSON(out.Visit), Created: out.Created, ActivationCode: out.Code, ActivationURL: out.ActivationURL}
	if !out.Created {
		j.CodeNote = retryNote
	}
	return j
}

// apiCreateVisit creates an acceptance for the token's facility; a retry
// with the same external_id answers 200 with the same visit.
func (h *Handler) apiCreateVisit(c echo.Context) error {
	var req visitRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := req.Patient
	out, err := h.Intake.CreateVisit(c.Request().Context(), currentIntegration(c), c.RealIP(), intake.VisitRequest{
		ExternalID: req.ExternalID, OnlineDeclined: req.OnlineDeclined, Protected: req.Protected,
		Visit: acceptance.Visit{Person: acceptance.Person{FiscalCode: p.FiscalCode, FirstName: p.FirstName, LastName: p.LastName,
			BirthDate: p.BirthDate, BirthPlace: p.BirthPlace, Sex: p.Sex}, Mobile: p.Mobile, Email: p.Email, Exams: req.Exams},
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
		c.Response().Header().Set("Location", "/api/v1/visits/"+out.Visit.AccessionNumber())
	}
	return writeJSON(c, status, h.createdJSON(out))
}

// apiReissueCode issues a new activation code (the old one stops working).
func (h *Handler) apiReissueCode(c echo.Context) error {
	out, err := h.Intake.ReissueCode(c.Request().Context(), currentIntegration(c), c.RealIP(), pathParam(c, "accession"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, h.createdJSON(out))
}

// apiVisit returns a visit with every report's state.
func (h *Handler) apiVisit(c echo.Context) error {
	v, reps, err := h.Intake.Visit(c.Request().Context(), currentIntegration(c), pathParam(c, "accession"))
	if err != nil {
		return err
	}
	out := struct {
		visitJSON
		Reports []reportJSON `json:"reports"`
	}{visitJSON: h.visitJSON(v), Reports: []reportJSON{}}
	for _, r := range reps {
		out.Reports = append(out.Reports, reportJSON{ReportID: r.ReportID, Title: r.Title, State: r.State, Size: r.Size,
			UploadedAt: timePtr(r.UploadedAt), PublishedAt: timePtr(r.PublishedAt), ExpiresAt: timePtr(r.ExpiresAt),
			FirstDownloadedAt: timePtr(r.FirstDownloadedAt)})
	}
	return writeJSON(c, http.StatusOK, out)
}

// decodeJSON reads a JSON body strictly: unknown fields are refused, so a
// misspelt field is not silently ignored.
func decodeJSON(c echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" && !isJSON(ct) {
		return apiProblem(http.StatusUnsupportedMediaType, "The body must be application/json.")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiProblem(http.StatusBadRequest, "The body is not valid JSON for this request: "+err.Error())
	}
	return nil
}

func isJSON(ct string) bool {
	mt, _, _ := mimeType(ct)
	return mt == "application/json" || mt == "application/fhir+json"
}

func writeJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/json")
	c.Response().WriteHeader(status)
	return jsonEncode(c.Response(), v)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
