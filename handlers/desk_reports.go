package handlers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/internal/pdfcheck"
	"fse/views"
)

// formOverhead is what a multipart body may carry beyond the files: field
// values and part headers for a few rows.
const formOverhead = 64 << 10

// uploadError is a refusal explained to the receptionist with its status.
type uploadError struct {
	status int
	msg    string
}

func (e *uploadError) Error() string { return e.msg }

// uploadDocuments streams each PDF of the form through the PDF check and
// the encryption into SQLite chunks. Nothing is kept unless every file of
// the submission is accepted.
func (h *Handler) uploadDocuments(c echo.Context) error {
	ctx := c.Request().Context()
	visitID, err := pathID(c)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(ctx, visitID)
	if err != nil {
		return err
	}
	r := c.Request()
	max := h.Config.UploadLimit*3 + formOverhead
	if r.ContentLength > max {
		// Refuse before reading the body at all.
		return h.renderVisit(c, visitID, http.StatusRequestEntityTooLarge, uploadForm(nil, tooLarge(h.Config.UploadLimit)))
	}
	if visit.OnlineDeclined {
		return h.renderVisit(c, visitID, http.StatusConflict, uploadForm(nil,
			"Il paziente ha rifiutato la consegna online: il referto va consegnato su carta."))
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
	mr, err := r.MultipartReader()
	if err != nil {
		return h.renderVisit(c, visitID, http.StatusBadRequest, uploadForm(nil, "Modulo di caricamento non valido."))
	}

	var drafts []int64
	discard := func() {
		for _, id := range drafts {
			if err := h.DB.DiscardDraft(context.WithoutCancel(ctx), id); err != nil {
				h.Log.Error("discard draft", "document", id, "err", err)
			}
		}
	}
	var titles []string
	var sizes []int64
	var pendingTitle string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			discard()
			return h.uploadRefused(c, visitID, titles, err)
		}
		switch part.FormName() {
		case "title":
			b, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				discard()
				return h.uploadRefused(c, visitID, titles, err)
			}
			pendingTitle = strings.TrimSpace(string(b))
			titles = append(titles, pendingTitle)
		case "file":
			// An empty file input still sends a part with no file name.
			if part.FileName() == "" {
				pendingTitle = ""
				continue
			}
			id, size, err := h.storeUpload(ctx, visitID, pendingTitle, part, staffActor(c))
			if id != 0 {
				drafts = append(drafts, id)
			}
			if err != nil {
				discard()
				return h.uploadRefused(c, visitID, titles, err)
			}
			sizes = append(sizes, size)
			pendingTitle = ""
		}
		part.Close()
	}
	if len(drafts) == 0 {
		return h.renderVisit(c, visitID, http.StatusUnprocessableEntity, uploadForm(titles, "Scegli almeno un file PDF da caricare."))
	}
	if err := h.DB.CompleteDrafts(ctx, drafts, sizes, staffActor(c), h.now()); err != nil {
		discard()
		return err
	}
	h.flash(c, fmt.Sprintf("%d referti caricati. Controllali e pubblicali quando sono pronti.", len(drafts)))
	return c.Redirect(http.StatusSeeOther, "/desk/visits/"+strconv.FormatInt(visitID, 10))
}

// storeUpload checks and encrypts one file part into a new draft. The
// client's file name is ignored: it is never a path and never a title.
func (h *Handler) storeUpload(ctx context.Context, visitID int64, title string, part *multipart.Part, by db.Actor) (int64, int64, error) {
	if title == "" {
		return 0, 0, &uploadError{http.StatusUnprocessableEntity, "Ogni file deve avere un titolo (es. «Esami del sangue»)."}
	}
	if utf8.RuneCountInString(title) > 120 {
		return 0, 0, &uploadError{http.StatusUnprocessableEntity, "Il titolo può avere al massimo 120 caratteri."}
	}
	br := bufio.NewReaderSize(part, 1024)
	head, _ := br.Peek(1024)
	if err := pdfcheck.Sniff(head); err != nil {
		return 0, 0, &uploadError{http.StatusUnsupportedMediaType, "«" + title + "» non è un file PDF. Si possono caricare solo referti in PDF."}
	}
	id, err := h.DB.CreateDraft(ctx, visitID, title, by, h.now())
	if err != nil {
		return 0, 0, err
	}
	chunks := h.DB.ChunkWriter(ctx, id)
	sealed, err := h.Keys.Seal(chunks, id)
	if err != nil {
		return id, 0, err
	}
	var check pdfcheck.Checker
	limit := h.Config.UploadLimit
	n, err := io.Copy(io.MultiWriter(sealed, &check), io.LimitReader(br, limit+1))
	if err != nil {
		return id, 0, err
	}
	if n > limit {
		return id, 0, &uploadError{http.StatusRequestEntityTooLarge, tooLarge(limit)}
	}
	if err := sealed.Close(); err != nil {
		return id, 0, err
	}
	if err := chunks.Close(); err != nil {
		return id, 0, err
	}
	if err := check.Verdict(); err != nil {
		return id, 0, &uploadError{http.StatusUnprocessableEntity, "«" + title + "» è un PDF incompleto o danneggiato. Esportalo di nuovo e riprova."}
	}
	return id, n, nil
}

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

func (h *Handler) uploadRefused(c echo.Context, visitID int64, titles []string, err error) error {
	var ue *uploadError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ue):
		return h.renderVisit(c, visitID, ue.status, uploadForm(titles, ue.msg))
	case errors.As(err, &mbe):
		return h.renderVisit(c, visitID, http.StatusRequestEntityTooLarge, uploadForm(titles, tooLarge(h.Config.UploadLimit)))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, multipart.ErrMessageTooLarge):
		return h.renderVisit(c, visitID, http.StatusBadRequest, uploadForm(titles, "Caricamento interrotto: riprova."))
	}
	return err
}

func (h *Handler) publish(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	visit, err := h.DB.Visit(ctx, id)
	if err != nil {
		return err
	}
	if visit.OnlineDeclined {
		return echo.NewHTTPError(http.StatusConflict, "Il paziente ha rifiutato la consegna online: il referto va consegnato su carta.")
	}
	n, err := h.DB.PublishVisit(ctx, id, h.Config.Retention(), h.reportNotice(), staffActor(c), h.now())
	if errors.Is(err, db.ErrOnlineDisabled) {
		return echo.NewHTTPError(http.StatusConflict, "Il paziente ha disattivato il servizio online: il referto va consegnato su carta.")
	}
	if err != nil {
		return err
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
	if err := h.DB.Checkpoint(ctx); err != nil {
		h.Log.Warn("checkpoint after withdraw", "err", err)
	}
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
	doc, err := h.DB.Document(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.DB.Audit(c.Request().Context(), db.AuditEvent{At: h.now(), Actor: staffActor(c), Action: "report.view",
		ObjectType: "document", ObjectID: id}); err != nil {
		return err
	}
	return h.streamDocument(c, doc, "inline")
}

// streamDocument decrypts a document to the response. A decryption failure
// before the first byte is a 500; after it, the connection is cut so a
// truncated file is never taken for a complete one.
func (h *Handler) streamDocument(c echo.Context, doc db.Document, disposition string) error {
	ctx := c.Request().Context()
	id := doc.ID
	plain, err := h.Keys.Open(h.DB.ChunkReader(ctx, id), id)
	if err != nil {
		return fmt.Errorf("open document %d: %w", id, err)
	}
	hd := c.Response().Header()
	hd.Set("Content-Type", "application/pdf")
	hd.Set("Content-Disposition", fmt.Sprintf(`%s; filename="referto-%d.pdf"`, disposition, id))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; object-src 'none'; frame-ancestors 'none'")
	hd.Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), plain); err != nil {
		h.Log.Error("stream document", "document", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// reportNotice is the only text a "new document" message may carry: that a
// document is available and where. No exam, department, result or name.
func (h *Handler) reportNotice() db.Notice {
	link := h.Config.BaseURL + "/accedi"
	return db.Notice{
		SMS:          "Referti online: è disponibile un nuovo documento nel tuo fascicolo. Accedi da " + link,
		EmailSubject: "Referti online: nuovo documento disponibile",
		EmailBody: "Gentile utente,\n\nnel tuo fascicolo di Referti online è disponibile un nuovo documento.\n" +
			"Per consultarlo accedi da " + link + "\n\nQuesto messaggio è inviato automaticamente: non rispondere.\n",
	}
}
