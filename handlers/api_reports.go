package handlers

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"fse/internal/intake"
)

func mimeType(ct string) (string, map[string]string, error) { return mime.ParseMediaType(ct) }

// apiPutReport stores the PDF body as the report report_id of the visit:
// streamed through the PDF check and the size limit, idempotent on the
// sender's id, a corrected report when it replaces a published one.
func (h *Handler) apiPutReport(c echo.Context) error {
	r := c.Request()
	if mt, _, _ := mimeType(r.Header.Get(echo.HeaderContentType)); mt != "application/pdf" {
		return apiProblem(http.StatusUnsupportedMediaType, "The body must be the report itself, Content-Type: application/pdf.")
	}
	if r.ContentLength > h.Config.UploadLimit {
		return apiProblem(http.StatusRequestEntityTooLarge, "The file is larger than the upload limit of "+
			strconv.FormatInt(h.Config.UploadLimit, 10)+" bytes.")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, h.Config.UploadLimit+1)
	title := c.QueryParam("title")
	if title == "" {
		title, _ = url.PathUnescape(r.Header.Get("X-Report-Title"))
	}
	publish, err := strconv.ParseBool(c.QueryParam("publish"))
	if err != nil && c.QueryParam("publish") != "" {
		return problemsFrom("publish", "publish must be true or false.", "publish deve essere true o false.")
	}
	protected, err := strconv.ParseBool(c.QueryParam("protected"))
	if err != nil && c.QueryParam("protected") != "" {
		return problemsFrom("protected", "protected must be true or false.", "protected deve essere true o false.")
	}
	res, err := h.Intake.PutReport(r.Context(), currentIntegration(c), c.RealIP(), intake.Report{Accession: pathParam(c, "accession"),
		ReportID: pathParam(c, "report_id"), Title: title, Body: r.Body, Publish: publish, Protected: protected})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Outcome == "created" {
		status = http.StatusCreated
	}
	state := "draft"
	if res.Published {
		state = "published"
	}
	return writeJSON(c, status, map[string]any{"report_id": pathParam(c, "report_id"), "outcome": res.Outcome, "state": state})
}

// apiWithdrawReport withdraws a delivered report; withdrawing it again is
// not an error.
func (h *Handler) apiWithdrawReport(c echo.Context) error {
	if err := h.Intake.WithdrawReport(c.Request().Context(), currentIntegration(c), c.RealIP(), pathParam(c, "accession"),
		pathParam(c, "report_id")); err != nil {
		return err
	}
	// The withdrawn report's bytes are zeroed in the database; the WAL's
	// copy goes with the next truncation.
	h.DB.NoteDeletion()
	return c.NoContent(http.StatusNoContent)
}

// pathParam is a path parameter with its %-escapes decoded, so a report id
// such as "LAB-1/2" can travel as LAB-1%2F2.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
