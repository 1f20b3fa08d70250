package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/notify"
	"fse/internal/pdfcheck"
	"fse/views"
)

// formOverhead is what a multipart body may carry beyond the files: field
// values and part headers for a few rows.
const formOverhead = 64 << 10

// uploadDocuments streams each PDF of the form through the PDF check and
// the report pipeline (db.WriteDraft). Nothing is kept unless every file
// of the submission is accepted.
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
	mr, err := r.MultipartReader()
	if err != nil {
		return h.renderVisit(c, visitID, http.StatusBadRequest, uploadForm(nil, "Modulo di caricamento non valido."))
	}
	var drafts []db.Draft
	var titles []string
	refuse := func(err error) error {
		if derr := h.DB.DiscardDrafts(context.WithoutCancel(ctx), drafts); derr != nil {
			h.Log.Error("discard the drafts of a refused upload: the expire job retries them", "err", derr)
		}
		return h.uploadRefused(c, visitID, titles, err)
	}
	var pendingTitle string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return refuse(malformedUpload(err))
		}
		switch part.FormName() {
		case "title":
			b, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				return refuse(err)
			}
			pendingTitle = strings.TrimSpace(string(b))
			titles = append(titles, pendingTitle)
		case "file":
			// An empty file input still sends a part with no file name. The
			// client's file name is ignored: it is never a path nor a title.
			if part.FileName() == "" {
				pendingTitle = ""
				continue
			}
			draft, err := h.DB.WriteDraft(ctx, visitID, pendingTitle, pdfcheck.NewReader(part, h.Config.UploadLimit), staffActor(c), h.now())
			if err != nil {
				return refuse(titled{pendingTitle, err})
			}
			drafts = append(drafts, draft)
			pendingTitle = ""
		}
		part.Close()
	}
	if len(drafts) == 0 {
		return h.renderVisit(c, visitID, http.StatusUnprocessableEntity, uploadForm(titles, "Scegli almeno un file PDF da caricare."))
	}
	if err := h.DB.CompleteDrafts(ctx, drafts, staffActor(c), h.now()); err != nil {
		return refuse(err)
	}
	h.flash(c, fmt.Sprintf("%d referti caricati. Controllali e pubblicali quando sono pronti.", len(drafts)))
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visitID, 10))
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
	f := views.Form{Values: map[string]string{}, Errors: map[string]string{"file": msg}}
	for i, t := range titles {
		f.Values[fmt.Sprintf("title%d", i)] = t
	}
	return f
}

// uploadRefused explains to the receptionist why a submission was refused.
func (h *Handler) uploadRefused(c echo.Context, visitID int64, titles []string, err error) error {
	var t titled
	errors.As(err, &t)
	var mbe *http.MaxBytesError
	status, msg := 0, ""
	switch {
	case errors.Is(err, db.ErrTitleMissing):
		status, msg = http.StatusUnprocessableEntity, "Ogni file deve avere un titolo (es. «Esami del sangue»)."
	case errors.Is(err, db.ErrTitleTooLong):
		status, msg = http.StatusUnprocessableEntity, fmt.Sprintf("Il titolo può avere al massimo %d caratteri.", db.MaxTitleLen)
	case errors.Is(err, db.ErrOnlineDeclined):
		status, msg = http.StatusConflict, msgOnlineDeclined
	case errors.Is(err, db.ErrProtectedPaper):
		status, msg = http.StatusConflict, msgProtectedPaper
	case errors.Is(err, pdfcheck.ErrNotPDF):
		status, msg = http.StatusUnsupportedMediaType, "«"+t.title+"» non è un file PDF. Si possono caricare solo referti in PDF."
	case errors.Is(err, pdfcheck.ErrTruncated):
		status, msg = http.StatusUnprocessableEntity, "«"+t.title+"» è un PDF incompleto o danneggiato. Esportalo di nuovo e riprova."
	case errors.Is(err, pdfcheck.ErrTooLarge), errors.As(err, &mbe):
		status, msg = http.StatusRequestEntityTooLarge, tooLarge(h.Config.UploadLimit)
	case errors.Is(err, errMalformedUpload):
		status, msg = http.StatusBadRequest, "Modulo di caricamento non valido o interrotto: ricarica la pagina e riprova."
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, multipart.ErrMessageTooLarge):
		status, msg = http.StatusBadRequest, "Caricamento interrotto: riprova."
	default:
		return err
	}
	return h.renderVisit(c, visitID, status, uploadForm(titles, msg))
}

// The desk's words for the two reasons a report goes on paper only.
const (
	msgOnlineDeclined = "Il paziente ha rifiutato la consegna online: il referto va consegnato su carta."
	msgOnlineDisabled = "Il paziente ha disattivato il servizio online: il referto va consegnato su carta."
)

func (h *Handler) publish(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	n, err := h.DB.PublishVisit(ctx, id, h.Config.Retention(), notify.ReportNotice(h.Config.BaseURL), staffActor(c), h.now())
	switch {
	case errors.Is(err, db.ErrOnlineDeclined):
		return echo.NewHTTPError(http.StatusConflict, msgOnlineDeclined)
	case errors.Is(err, db.ErrOnlineDisabled):
		return echo.NewHTTPError(http.StatusConflict, msgOnlineDisabled)
	case err != nil:
		return protectedRefused(err)
	}
	if n == 0 {
		h.flash(c, "Nessun referto da pubblicare.")
	} else {
		h.flash(c, fmt.Sprintf("%d referti pubblicati: resteranno online %d giorni.", n, h.Config.RetentionDays))
	}
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(id, 10))
}

func (h *Handler) withdrawForm(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(ctx, doc.VisitID)
	if err != nil {
		return err
	}
	p, err := h.DB.Patient(ctx, visit.PatientID)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.DeskWithdraw(views.WithdrawPage{Chrome: h.chrome(c, "Ritira referto"), Patient: p, Visit: visit, Document: doc}))
}

func (h *Handler) withdraw(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	if err := h.DB.WithdrawDocument(ctx, id, staffActor(c), h.now()); err != nil {
		return err
	}
	h.DB.NoteDeletion()
	h.flash(c, "Referto «"+doc.Title+"» ritirato ed eliminato.")
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(doc.VisitID, 10))
}

// staffDocumentFile lets the desk check what it uploaded: decrypted while
// streaming, shown inline, audited.
func (h *Handler) staffDocumentFile(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	doc, err := h.DB.Document(ctx, id)
	if err != nil {
		return err
	}
	return h.streamDocument(c, doc, "inline", func() error {
		return h.DB.Audit(ctx, db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: db.ActionReportView, ObjectType: "document", ObjectID: id})
	})
}
