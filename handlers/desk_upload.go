package handlers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/pdfcheck"
	"fse/views"
)

// formOverhead is what a multipart body may carry beyond the files: field
// values and part headers for a few rows.
const formOverhead = 64 << 10

// uploadDocuments streams each PDF of the form through the PDF check into
// the report pipeline (db.StoreDocument), one row at a time: a file that
// is refused (not a PDF, damaged, too large, without a title) leaves the
// others of the same submission stored as reports to publish, and its
// error shows at its row. A fault of the whole submission (the visit takes
// no reports online, the body is cut or broken) stops at that point.
func (h *Handler) uploadDocuments(c echo.Context) error {
	ctx := c.Request().Context()
	visitID, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := h.DB.Visit(ctx, visitID); err != nil {
		return err
	}
	r := c.Request()
	max := h.Config.UploadLimit*3 + formOverhead
	if r.ContentLength > max {
		// Refuse before reading the body at all.
		return h.renderVisit(c, visitID, http.StatusRequestEntityTooLarge, uploadForm(nil, tooLarge(h.Config.UploadLimit)))
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
	mr, err := multipartReader(r)
	if err != nil {
		return h.renderVisit(c, visitID, http.StatusBadRequest, uploadForm(nil, "Modulo di caricamento non valido."))
	}
	var up uploadResult
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			up.failed = malformedUpload(err)
			break
		}
		if err := h.uploadPart(ctx, c, visitID, part, &up); err != nil {
			up.failed = err
			part.Close()
			break
		}
		part.Close()
	}
	return h.uploadDone(c, visitID, up)
}

// multipartReader is http.Request.MultipartReader reading the body 64 KiB
// at a time: the standard one fills its 4 KiB buffer straight from the
// connection, a system call per 4 KiB of a 20 MiB report. Under that 4 KiB
// buffer (which multipart always adds) a 64 KiB one takes the body from the
// connection in large reads (strace: 8,478 read calls in 3 s of uploads
// became 711).
func multipartReader(r *http.Request) (*multipart.Reader, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != "multipart/form-data" && mediaType != "multipart/mixed") || params["boundary"] == "" {
		return nil, http.ErrNotMultipart
	}
	return multipart.NewReader(bufio.NewReaderSize(r.Body, 64<<10), params["boundary"]), nil
}

// uploadResult is what happened to each row of one submission.
type uploadResult struct {
	// titles are the rows' titles, in form order.
	titles []string
	// stored marks the rows whose file is now a report.
	stored map[int]bool
	// refused are the rows whose file was refused, and why.
	refused map[int]error
	// failed is the fault that stopped the whole submission, if any.
	failed error
}

func (u *uploadResult) row() int { return len(u.titles) - 1 }

// uploadPart reads one part: a row's title, or its file, which it stores.
// It returns only a fault of the whole submission; a file's own refusal
// is recorded at its row.
func (h *Handler) uploadPart(ctx context.Context, c echo.Context, visitID int64, part *multipart.Part, up *uploadResult) error {
	switch part.FormName() {
	case "title":
		b, err := io.ReadAll(io.LimitReader(part, 1024))
		if err != nil {
			return malformedUpload(err)
		}
		up.titles = append(up.titles, strings.TrimSpace(string(b)))
	case "file":
		// An empty file input still sends a part with no file name. The
		// client's file name is ignored: it is never a path nor a title.
		if part.FileName() == "" {
			return nil
		}
		if len(up.titles) == 0 {
			up.titles = append(up.titles, "") // a file before any title
		}
		row, title := up.row(), up.titles[up.row()]
		_, err := h.DB.StoreDocument(ctx, visitID, title, pdfcheck.NewReader(part, h.Config.UploadLimit), staffActor(c), h.now())
		switch {
		case err == nil:
			if up.stored == nil {
				up.stored = map[int]bool{}
			}
			up.stored[row] = true
		case fileFault(err):
			if up.refused == nil {
				up.refused = map[int]error{}
			}
			up.refused[row] = err
		default:
			return titled{title, err}
		}
	}
	return nil
}

// fileFault reports whether err is the fault of one file (the others of
// the submission go on), not of the whole submission.
func fileFault(err error) bool {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return false // the body is over its limit: nothing more can be read
	}
	for _, e := range []error{db.ErrTitleMissing, db.ErrTitleTooLong, pdfcheck.ErrNotPDF, pdfcheck.ErrTruncated, pdfcheck.ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// uploadDone answers a submission: back to the visit when every file was
// stored, otherwise the visit page with each refused row's error at its
// row and the rows' titles kept, above the reports already stored.
func (h *Handler) uploadDone(c echo.Context, visitID int64, up uploadResult) error {
	if up.failed == nil && len(up.refused) == 0 {
		if len(up.stored) == 0 {
			return h.renderVisit(c, visitID, http.StatusUnprocessableEntity, uploadForm(up.titles, "Scegli almeno un file PDF da caricare."))
		}
		h.flash(c, views.Count(len(up.stored), "referto caricato", "referti caricati")+". Controllali e pubblicali quando sono pronti.")
		return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visitID, 10))
	}
	var titles []string
	for i, t := range up.titles {
		if up.stored[i] {
			t = "" // stored: the row is free for another file
		}
		titles = append(titles, t)
	}
	form := uploadForm(titles, "")
	status := 0
	var msgs []string
	for i := range up.titles {
		err, ok := up.refused[i]
		if !ok {
			continue
		}
		st, msg, known := h.uploadProblem(err, up.titles[i])
		if !known {
			return err
		}
		if status == 0 {
			status = st
		}
		form.Errors["file"+strconv.Itoa(i)] = msg
		msgs = append(msgs, msg)
	}
	if up.failed != nil {
		var t titled
		errors.As(up.failed, &t)
		st, msg, known := h.uploadProblem(up.failed, t.title)
		if !known {
			return up.failed
		}
		status = st
		if !slices.Contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	summary := strings.Join(msgs, " ")
	if n := len(up.stored); n > 0 {
		summary = views.Count(n, "referto caricato", "referti caricati") + " e da pubblicare; gli altri no: " + summary
	}
	form.Errors["file"] = summary
	return h.renderVisit(c, visitID, status, form)
}

// errMalformedUpload is a body the multipart reader cannot parse (a
// boundary that is not the one announced, broken part headers): the
// client's fault, a 400.
var errMalformedUpload = errors.New("malformed multipart body")

// malformedUpload marks a multipart reader's error as the client's, unless
// it is the body's size limit (413) or the client going away.
func malformedUpload(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", errMalformedUpload, err)
}

// titled is an upload failure of the file with this title.
type titled struct {
	title string
	err   error
}

func (t titled) Error() string { return t.err.Error() }
func (t titled) Unwrap() error { return t.err }

func tooLarge(limit int64) string {
	return "Il file supera il limite di " + views.Size(limit) + "."
}

func uploadForm(titles []string, msg string) views.Form {
	f := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	if msg != "" {
		f.Errors["file"] = msg
	}
	for i, t := range titles {
		f.Values[fmt.Sprintf("title%d", i)] = t
	}
	return f
}

// uploadProblem explains to the receptionist why a file, or the whole
// submission, was refused, with the status of the answer; known is false
// for a server fault.
func (h *Handler) uploadProblem(err error, title string) (status int, msg string, known bool) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, db.ErrTitleMissing):
		return http.StatusUnprocessableEntity, "Ogni file deve avere un titolo (es. «Esami del sangue»).", true
	case errors.Is(err, db.ErrTitleTooLong):
		return http.StatusUnprocessableEntity, fmt.Sprintf("Il titolo può avere al massimo %d caratteri.", db.MaxTitleLen), true
	case errors.Is(err, db.ErrOnlineDeclined):
		return http.StatusConflict, msgOnlineDeclined, true
	case errors.Is(err, db.ErrProtectedPaper):
		return http.StatusConflict, msgProtectedPaper, true
	case errors.Is(err, pdfcheck.ErrNotPDF):
		return http.StatusUnsupportedMediaType, "«" + title + "» non è un file PDF. Si possono caricare solo referti in PDF.", true
	case errors.Is(err, pdfcheck.ErrTruncated):
		return http.StatusUnprocessableEntity, "«" + title + "» è un PDF incompleto o danneggiato. Esportalo di nuovo e riprova.", true
	case errors.Is(err, pdfcheck.ErrTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, tooLarge(h.Config.UploadLimit), true
	case errors.Is(err, errMalformedUpload):
		return http.StatusBadRequest, "Modulo di caricamento non valido o interrotto: ricarica la pagina e riprova.", true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, multipart.ErrMessageTooLarge):
		return http.StatusBadRequest, "Caricamento interrotto: riprova.", true
	}
	return 0, "", false
}
