package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/pdfcheck"
	"fse/internal/sealbox"
	"fse/jobs"
)

// repRetention is the harness's RetentionDays as a duration.
const repRetention = 60 * 24 * time.Hour

// repCount returns count(*) of a table, optionally filtered by a WHERE clause.
func repCount(t *testing.T, a *app, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := a.raw.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// repAssertNothingStored fails unless both documents and document_chunks are empty.
func repAssertNothingStored(t *testing.T, a *app) {
	t.Helper()
	if got := repCount(t, a, "documents", ""); got != 0 {
		t.Errorf("documents rows: got %d, want 0", got)
	}
	if got := repCount(t, a, "document_chunks", ""); got != 0 {
		t.Errorf("document_chunks rows: got %d, want 0", got)
	}
}

// repDocIDs lists every document id (any state), in id order.
func repDocIDs(t *testing.T, a *app) []int64 {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT id FROM documents ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// repOnlyDocID returns the id of the single document in the database.
func repOnlyDocID(t *testing.T, a *app) int64 {
	t.Helper()
	ids := repDocIDs(t, a)
	if len(ids) != 1 {
		t.Fatalf("documents: got %d rows (%v), want 1", len(ids), ids)
	}
	return ids[0]
}

// repChunkRows returns a document's ciphertext chunks in order.
func repChunkRows(t *testing.T, a *app, docID int64) [][]byte {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT data FROM document_chunks WHERE document_id = ? ORDER BY seq`, docID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// repDBBytes returns the bytes of the database file followed by its -wal
// file when there is one.
func repDBBytes(t *testing.T, a *app) []byte {
	t.Helper()
	main, err := os.ReadFile(a.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(a.db.Path + "-wal")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return append(main, wal...)
}

// repCheckpoint truncates the WAL like the app does.
func repCheckpoint(t *testing.T, a *app) {
	t.Helper()
	if err := a.db.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// repWindows returns 32-byte windows taken at 1/4, 1/2 and 3/4 of b.
func repWindows(t *testing.T, b []byte) [][]byte {
	t.Helper()
	if len(b) < 128 {
		t.Fatalf("need at least 128 bytes to take windows, got %d", len(b))
	}
	var out [][]byte
	for _, at := range []int{len(b) / 4, len(b) / 2, 3 * len(b) / 4} {
		out = append(out, b[at:at+32])
	}
	return out
}

// repPadPDF returns a copy of pdf with comment lines of random hex inserted
// right after the header line, growing it by at least pad bytes. Header and
// trailer stay valid for pdfcheck.
func repPadPDF(t *testing.T, pdf []byte, pad int) []byte {
	t.Helper()
	nl := bytes.IndexByte(pdf, '\n')
	if nl < 0 {
		t.Fatal("sample PDF has no header line")
	}
	var out bytes.Buffer
	out.Write(pdf[:nl+1])
	line := make([]byte, 500)
	for written := 0; written < pad; {
		rand.Read(line)
		n, _ := fmt.Fprintf(&out, "%%%s\n", hex.EncodeToString(line))
		written += n
	}
	out.Write(pdf[nl+1:])
	var c pdfcheck.Checker
	c.Write(out.Bytes())
	if err := c.Verdict(); err != nil {
		t.Fatalf("padded PDF does not pass pdfcheck: %v", err)
	}
	return out.Bytes()
}

// repPDFOfSize returns pdf grown to exactly size bytes by one comment line
// after the header line.
func repPDFOfSize(t *testing.T, pdf []byte, size int) []byte {
	t.Helper()
	nl := bytes.IndexByte(pdf, '\n')
	pad := size - len(pdf) - 2 // '%' and '\n'
	if nl < 0 || pad < 0 {
		t.Fatalf("cannot grow a %d-byte PDF to %d bytes", len(pdf), size)
	}
	out := make([]byte, 0, size)
	out = append(out, pdf[:nl+1]...)
	out = append(out, '%')
	out = append(out, bytes.Repeat([]byte{'x'}, pad)...)
	out = append(out, '\n')
	out = append(out, pdf[nl+1:]...)
	if len(out) != size {
		t.Fatalf("grown PDF is %d bytes, want %d", len(out), size)
	}
	var c pdfcheck.Checker
	c.Write(out)
	if err := c.Verdict(); err != nil {
		t.Fatalf("grown PDF does not pass pdfcheck: %v", err)
	}
	return out
}

// repFlashError returns the text of the page's `.flash.error` paragraph.
func repFlashError(t *testing.T, body string) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, body).Find(".flash.error").Text())
}

// repVisitRows maps each listed document title on the visit page to the
// text of its status tag.
func repVisitRows(t *testing.T, c *client, visitID int64) map[string]string {
	t.Helper()
	rec := c.get(fmt.Sprintf("/desk/visits/%d", visitID))
	if rec.Code != http.StatusOK {
		t.Fatalf("visit page: status %d", rec.Code)
	}
	rows := map[string]string{}
	doc := parseHTML(t, rec.Body.String())
	doc.Find("table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		title := strings.TrimSpace(tr.Find("td a").First().Text())
		rows[title] = strings.TrimSpace(tr.Find(".tag").Text())
	})
	return rows
}

// repServe sends req through the full stack as c (cookies, address),
// recovering the http.ErrAbortHandler panic a handler uses to cut a
// response short; aborted reports it. rec holds whatever was written.
func repServe(c *client, req *http.Request) (rec *httptest.ResponseRecorder, aborted bool) {
	c.a.t.Helper()
	req.RemoteAddr = c.ip + ":51000"
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			aborted = true
		}
	}()
	c.a.e.ServeHTTP(rec, req)
	return rec, false
}

// repFetchFile requests the staff view of a document.
func repFetchFile(c *client, docID int64) (*httptest.ResponseRecorder, bool) {
	c.a.t.Helper()
	return repServe(c, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/desk/documents/%d/file", docID), nil))
}

// repUploadOK uploads files and fails the test unless they are accepted.
func repUploadOK(t *testing.T, c *client, visitID int64, files ...file) {
	t.Helper()
	rec := c.upload(visitID, files...)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: status %d, want %d\n%s", rec.Code, http.StatusSeeOther, rec.Body.String())
	}
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/desk/visits/%d", visitID); got != want {
		t.Fatalf("upload: Location %q, want %q", got, want)
	}
}

// repAudit returns the audit events with exactly this action.
func repAudit(a *app, action string) []db.AuditEvent {
	a.t.Helper()
	var out []db.AuditEvent
	for _, e := range a.auditActions(db.AuditFilter{Action: action}) {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// repCountingReader counts the bytes read through it.
type repCountingReader struct {
	r io.Reader
	n int64
}

func (r *repCountingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

// repFiller is an endless stream of one byte.
type repFiller byte

func (f repFiller) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// repHugeUpload is a multipart body announcing a PDF of size bytes whose
// content is generated as it is read.
func repHugeUpload(size int64) (body *repCountingReader, contentType string) {
	const boundary = "repboundary0123456789"
	prefix := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nEsami\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"grande.pdf\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n%"
	return &repCountingReader{r: io.MultiReader(strings.NewReader(prefix), io.LimitReader(repFiller('x'), size))},
		"multipart/form-data; boundary=" + boundary
}

func TestUploadRefusals(t *testing.T) {
	pdf := samplePDF(t, "Esami del sangue")
	big := repPadPDF(t, pdf, 1<<20+32<<10)
	if len(big) <= 1<<20 {
		t.Fatalf("padded PDF is %d bytes, want more than 1 MiB", len(big))
	}
	html := []byte("<!doctype html><html><head><title>Referto</title></head><body><script>alert(1)</script></body></html>")

	tests := []struct {
		name       string
		files      []file
		wantStatus int
		wantMsg    string
	}{
		{"html renamed pdf", []file{{"Esami del sangue", "referto.pdf", html}}, http.StatusUnsupportedMediaType, "non è un file PDF"},
		{"missing header", []file{{"Esami del sangue", "referto.pdf", pdf[5:]}}, http.StatusUnsupportedMediaType, "non è un file PDF"},
		{"truncated", []file{{"Esami del sangue", "referto.pdf", pdf[:len(pdf)/2]}}, http.StatusUnprocessableEntity, "PDF incompleto o danneggiato"},
		{"over size", []file{{"Esami del sangue", "referto.pdf", big}}, http.StatusRequestEntityTooLarge, "supera il limite di 1.0 MB"},
		{"one byte over size", []file{{"Esami del sangue", "referto.pdf", repPDFOfSize(t, pdf, 1<<20+1)}}, http.StatusRequestEntityTooLarge, "supera il limite"},
		{"empty title", []file{{"", "referto.pdf", pdf}}, http.StatusUnprocessableEntity, "deve avere un titolo"},
		{"blank title", []file{{"   ", "referto.pdf", pdf}}, http.StatusUnprocessableEntity, "deve avere un titolo"},
		{"title too long", []file{{strings.Repeat("è", 121), "referto.pdf", pdf}}, http.StatusUnprocessableEntity, "al massimo 120 caratteri"},
		{"no file chosen", []file{{"Esami del sangue", "", nil}}, http.StatusUnprocessableEntity, "Scegli almeno un file PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			c := a.deskClient()
			visitID, _ := c.accept(a.acceptForm())
			rec := c.upload(visitID, tt.files...)
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := repFlashError(t, rec.Body.String()); !strings.Contains(got, tt.wantMsg) {
				t.Errorf(".flash.error: got %q, want it to contain %q", got, tt.wantMsg)
			}
			repAssertNothingStored(t, a)
			if got := repAudit(a, "report.upload"); len(got) != 0 {
				t.Errorf("report.upload audit rows: got %d, want 0", len(got))
			}
		})
	}
}

func TestUploadOverSizeContentLengthRefusedBeforeReading(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())

	const declared = 100 << 20
	body, ct := repHugeUpload(declared)
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), body)
	req.ContentLength = declared
	req.Header.Set("Content-Length", fmt.Sprint(declared))
	req.Header.Set("Content-Type", ct)
	rec, aborted := repServe(c, req)
	if aborted {
		t.Fatal("handler aborted the response")
	}
	if got, want := rec.Code, http.StatusRequestEntityTooLarge; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	if got, want := repFlashError(t, rec.Body.String()), "supera il limite"; !strings.Contains(got, want) {
		t.Errorf(".flash.error: got %q, want it to contain %q", got, want)
	}
	if body.n > 64<<10 {
		t.Errorf("body bytes read: got %d, want at most %d (refuse from Content-Length)", body.n, 64<<10)
	}
	repAssertNothingStored(t, a)
}

func TestUploadOverSizeStreamWithoutContentLengthStopsReading(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())

	body, ct := repHugeUpload(100 << 20)
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), body)
	req.ContentLength = -1 // chunked: the size is unknown up front
	req.Header.Set("Content-Type", ct)
	rec, aborted := repServe(c, req)
	if aborted {
		t.Fatal("handler aborted the response")
	}
	if got, want := rec.Code, http.StatusRequestEntityTooLarge; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	if limit := int64(4 << 20); body.n > limit {
		t.Errorf("body bytes read: got %d, want at most %d", body.n, limit)
	}
	repAssertNothingStored(t, a)
}

func TestUploadAtExactLimitAccepted(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	exact := repPDFOfSize(t, samplePDF(t, "Esami"), 1<<20)
	repUploadOK(t, c, visitID, file{"Esami", "referto.pdf", exact})
	doc, err := a.db.Document(context.Background(), repOnlyDocID(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Size, int64(1<<20); got != want {
		t.Errorf("stored size: got %d, want %d", got, want)
	}
}

func TestUploadClientFileNameIgnored(t *testing.T) {
	for _, tt := range []struct{ case_, name string }{
		{"slash traversal", "../../etc/passwd.pdf"},
		{"backslash traversal", `..\..\x.pdf`},
		{"absolute", "/etc/passwd.pdf"},
	} {
		name := tt.name
		t.Run(tt.case_, func(t *testing.T) {
			a := newApp(t)
			c := a.deskClient()
			visitID, _ := c.accept(a.acceptForm())
			pdf := samplePDF(t, "Esami")
			repUploadOK(t, c, visitID, file{"Esami del sangue", name, pdf})

			doc, err := a.db.Document(context.Background(), repOnlyDocID(t, a))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := doc.Title, "Esami del sangue"; got != want {
				t.Errorf("title: got %q, want %q", got, want)
			}
			page := c.get(fmt.Sprintf("/desk/visits/%d", visitID)).Body.String()
			for _, s := range []string{"passwd", "x.pdf"} {
				if strings.Contains(page, s) {
					t.Errorf("visit page shows the client file name %q", s)
				}
			}
			rec, _ := repFetchFile(c, doc.ID)
			if cd := rec.Header().Get("Content-Disposition"); strings.Contains(cd, "passwd") || strings.Contains(cd, "x.pdf") {
				t.Errorf("Content-Disposition uses the client file name: %q", cd)
			}
			// Nothing lands next to the database (the test's own temp tree).
			root := filepath.Dir(filepath.Dir(a.db.Path))
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				if b := d.Name(); p != root && (b == "passwd.pdf" || b == "x.pdf" || strings.Contains(b, "..")) {
					t.Errorf("file written from the client name: %s", p)
				}
				return nil
			})
			for _, p := range []string{filepath.Join(filepath.Dir(a.db.Path), "..", "..", "etc", "passwd.pdf"), "passwd.pdf", "x.pdf"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("file written from the client name: %s", p)
				}
			}
		})
	}
}

func TestUploadAllOrNothing(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	rec := c.upload(visitID,
		file{"Esami del sangue", "referto.pdf", samplePDF(t, "Esami")},
		file{"Radiografia", "rx.pdf", []byte("<!doctype html><html><body>no</body></html>")},
	)
	if got, want := rec.Code, http.StatusUnsupportedMediaType; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	if got, want := repFlashError(t, rec.Body.String()), "«Radiografia» non è un file PDF"; !strings.Contains(got, want) {
		t.Errorf(".flash.error: got %q, want it to contain %q", got, want)
	}
	repAssertNothingStored(t, a)
	if got := repAudit(a, "report.upload"); len(got) != 0 {
		t.Errorf("report.upload audit rows: got %d, want 0", len(got))
	}
	if got := repVisitRows(t, c, visitID); len(got) != 0 {
		t.Errorf("visit page lists %v, want no documents", got)
	}
}

func TestUploadMultipleDocuments(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	blood, xray := samplePDF(t, "Esami del sangue"), samplePDF(t, "Radiografia torace")
	repUploadOK(t, c, visitID,
		file{"Esami del sangue", "a.pdf", blood},
		file{"Radiografia torace", "b.pdf", xray},
		file{"", "", nil}, // the form's third, unused row
	)

	rows := repVisitRows(t, c, visitID)
	if len(rows) != 2 {
		t.Errorf("visit page rows: got %v, want 2 documents", rows)
	}
	for _, title := range []string{"Esami del sangue", "Radiografia torace"} {
		if got, want := rows[title], "da pubblicare"; got != want {
			t.Errorf("status of %q: got %q, want %q", title, got, want)
		}
	}

	// Each title is paired with its own file.
	docs, err := a.db.VisitDocuments(context.Background(), visitID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"Esami del sangue": blood, "Radiografia torace": xray}
	for _, d := range docs {
		rec, aborted := repFetchFile(c, d.ID)
		if aborted || rec.Code != http.StatusOK {
			t.Fatalf("file of %q: status %d, aborted %v", d.Title, rec.Code, aborted)
		}
		if !bytes.Equal(rec.Body.Bytes(), want[d.Title]) {
			t.Errorf("file of %q: got %d bytes not matching its upload", d.Title, rec.Body.Len())
		}
		if got, want := d.Size, int64(len(want[d.Title])); got != want {
			t.Errorf("size of %q: got %d, want %d", d.Title, got, want)
		}
	}
}

func TestUploadAnonymousRefused(t *testing.T) {
	a := newApp(t)
	visitID, _ := a.deskClient().accept(a.acceptForm())
	rec := a.client().upload(visitID, file{"Esami", "referto.pdf", samplePDF(t, "Esami")})
	if got, want := rec.Code, http.StatusUnauthorized; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	repAssertNothingStored(t, a)
}

func TestUploadAudited(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := samplePDF(t, "Esami")
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", pdf}, file{"Glicemia", "b.pdf", pdf})

	ids := repDocIDs(t, a)
	events := repAudit(a, "report.upload")
	if len(events) != len(ids) {
		t.Fatalf("report.upload audit rows: got %d, want %d (one per document)", len(events), len(ids))
	}
	for i, e := range events {
		if got, want := e.Actor.Name, receptionUser; got != want {
			t.Errorf("event %d actor: got %q, want %q", i, got, want)
		}
		if got, want := e.Actor.Kind, "staff"; got != want {
			t.Errorf("event %d actor kind: got %q, want %q", i, got, want)
		}
		if got, want := e.Actor.ID, a.deskID; got != want {
			t.Errorf("event %d actor id: got %d, want %d", i, got, want)
		}
		if got, want := e.ObjectType, "document"; got != want {
			t.Errorf("event %d object type: got %q, want %q", i, got, want)
		}
		if got, want := e.ObjectID, ids[i]; got != want {
			t.Errorf("event %d object id: got %d, want %d", i, got, want)
		}
	}
}

func TestDocumentEncryptedAtRest(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	// Padded past several 64 KiB chunks, with random content so that any
	// window of it is unique.
	pdf := repPadPDF(t, samplePDF(t, "Esami"), 200<<10)
	repUploadOK(t, c, visitID, file{"Esami del sangue", "scansione-rossi.pdf", pdf})
	id := repOnlyDocID(t, a)

	chunks := repChunkRows(t, a, id)
	if len(chunks) < 2 {
		t.Errorf("chunks: got %d, want several for a %d-byte file", len(chunks), len(pdf))
	}
	stored := bytes.Join(chunks, nil)
	if bytes.Equal(stored, pdf) {
		t.Fatal("document_chunks hold the PDF in clear")
	}
	needles := append(repWindows(t, pdf), []byte("%PDF-"))
	for _, n := range needles {
		if bytes.Contains(stored, n) {
			t.Errorf("ciphertext contains plaintext %q", n)
		}
	}
	for _, when := range []string{"before checkpoint", "after checkpoint"} {
		if when == "after checkpoint" {
			repCheckpoint(t, a)
		}
		raw := repDBBytes(t, a)
		// Positive control: the search does see what is stored.
		if w := repWindows(t, chunks[0])[1]; !bytes.Contains(raw, w) {
			t.Fatalf("%s: ciphertext window not found in the database files; the search is broken", when)
		}
		for _, n := range needles {
			if bytes.Contains(raw, n) {
				t.Errorf("%s: database files contain plaintext %q", when, n)
			}
		}
	}

	rec, aborted := repFetchFile(c, id)
	if aborted {
		t.Fatal("staff view aborted")
	}
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("staff view status: got %d, want %d", got, want)
	}
	if !bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Errorf("staff view: got %d bytes, want exactly the %d uploaded", rec.Body.Len(), len(pdf))
	}
	h := rec.Header()
	for _, tt := range []struct{ header, want string }{
		{"Content-Type", "application/pdf"},
		{"Cache-Control", "no-store"},
		{"X-Content-Type-Options", "nosniff"},
		{"Content-Disposition", fmt.Sprintf(`inline; filename="referto-%d.pdf"`, id)},
		{"Content-Length", fmt.Sprint(len(pdf))},
	} {
		if got := h.Get(tt.header); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.header, got, tt.want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Errorf("Content-Security-Policy: got %q, want it to contain sandbox", csp)
	}
	if cd := h.Get("Content-Disposition"); strings.Contains(cd, "scansione") {
		t.Errorf("Content-Disposition carries the uploaded name: %q", cd)
	}
	views := repAudit(a, "report.view")
	if len(views) != 1 {
		t.Fatalf("report.view audit rows: got %d, want 1", len(views))
	}
	if got, want := views[0].ObjectID, id; got != want {
		t.Errorf("report.view object: got %d, want %d", got, want)
	}
	if got, want := views[0].Actor.Name, receptionUser; got != want {
		t.Errorf("report.view actor: got %q, want %q", got, want)
	}
}

func TestDocumentFileAnonymous(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := samplePDF(t, "Esami")
	repUploadOK(t, c, visitID, file{"Esami", "a.pdf", pdf})
	rec, _ := repFetchFile(a.client(), repOnlyDocID(t, a))
	if rec.Code == http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte("%PDF-")) {
		t.Errorf("anonymous staff view: status %d, want a redirect to login and no PDF", rec.Code)
	}
}

func TestDocumentChunksSwappedNotServed(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdfA := repPadPDF(t, samplePDF(t, "Esami del sangue"), 100<<10)
	pdfB := repPadPDF(t, samplePDF(t, "Radiografia"), 100<<10)
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", pdfA}, file{"Radiografia", "b.pdf", pdfB})
	ids := repDocIDs(t, a)
	if len(ids) != 2 {
		t.Fatalf("documents: got %v, want 2", ids)
	}
	idA, idB := ids[0], ids[1]

	// Swap the two documents' ciphertext, keeping (document_id, seq) unique
	// and every document_id valid at each step.
	const off = 1 << 30
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE document_chunks SET seq = seq + ? WHERE document_id = ?`, []any{off, idA}},
		{`UPDATE document_chunks SET document_id = ? WHERE document_id = ?`, []any{idA, idB}},
		{`UPDATE document_chunks SET document_id = ?, seq = seq - ? WHERE document_id = ? AND seq >= ?`, []any{idB, off, idA, off}},
	} {
		if _, err := a.raw.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		id          int64
		own, others []byte
	}{{idA, pdfA, pdfB}, {idB, pdfB, pdfA}} {
		rec, aborted := repFetchFile(c, tt.id)
		if !aborted && rec.Code < 500 {
			t.Errorf("document %d with swapped chunks: status %d, want >= 500 or an aborted response", tt.id, rec.Code)
		}
		body := rec.Body.Bytes()
		for _, w := range repWindows(t, tt.others) {
			if bytes.Contains(body, w) {
				t.Errorf("document %d served the other document's bytes", tt.id)
				break
			}
		}
		if bytes.Contains(body, []byte("%PDF-")) {
			t.Errorf("document %d served PDF content from swapped chunks", tt.id)
		}
	}
}

func TestDocumentTruncatedCiphertextNotServedComplete(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := repPadPDF(t, samplePDF(t, "Esami"), 200<<10)
	repUploadOK(t, c, visitID, file{"Esami", "a.pdf", pdf})
	id := repOnlyDocID(t, a)
	if _, err := a.raw.ExecContext(context.Background(),
		`DELETE FROM document_chunks WHERE document_id = ? AND seq = (SELECT max(seq) FROM document_chunks WHERE document_id = ?)`, id, id); err != nil {
		t.Fatal(err)
	}
	rec, aborted := repFetchFile(c, id)
	if !aborted && rec.Code < 500 {
		t.Errorf("document with its last chunk removed: status %d, aborted %v; want >= 500 or an aborted response", rec.Code, aborted)
	}
	if bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Error("served the complete PDF from truncated ciphertext")
	}
}

func TestPublishReports(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	visitID, code := c.accept(a.acceptForm())
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", samplePDF(t, "Esami")})
	id := repOnlyDocID(t, a)
	doc, err := a.db.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Published() {
		t.Fatal("document published on upload")
	}

	a.advance(2 * time.Hour) // publication time differs from upload time
	rec := c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil)
	if got, want := rec.Code, http.StatusSeeOther; got != want {
		t.Fatalf("publish status: got %d, want %d\n%s", got, want, rec.Body.String())
	}
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/desk/visits/%d", visitID); got != want {
		t.Errorf("publish Location: got %q, want %q", got, want)
	}
	publishedAt := a.Now()
	doc, err = a.db.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.PublishedAt.Equal(publishedAt) {
		t.Errorf("PublishedAt: got %v, want %v", doc.PublishedAt, publishedAt)
	}
	if want := publishedAt.Add(repRetention); !doc.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt: got %v, want %v", doc.ExpiresAt, want)
	}
	st, err := a.db.CodeByMAC(ctx, a.keys.MAC(sealbox.ActivationCode, actcode.Normalize(code)))
	if err != nil {
		t.Fatal(err)
	}
	if !st.ExpiresAt.Equal(doc.ExpiresAt) {
		t.Errorf("activation code ExpiresAt: got %v, want the report's %v", st.ExpiresAt, doc.ExpiresAt)
	}
	pubs := repAudit(a, "report.publish")
	if len(pubs) != 1 || pubs[0].ObjectID != id || pubs[0].Actor.Name != receptionUser {
		t.Errorf("report.publish audit: got %+v, want one event for document %d by %s", pubs, id, receptionUser)
	}
	if got := repVisitRows(t, c, visitID)["Esami del sangue"]; !strings.HasPrefix(got, "pubblicato il") {
		t.Errorf("visit page status: got %q, want pubblicato il …", got)
	}

	// Publishing again publishes nothing and changes nothing.
	a.advance(24 * time.Hour)
	rec = c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil)
	if got, want := rec.Code, http.StatusSeeOther; got != want {
		t.Fatalf("second publish status: got %d, want %d", got, want)
	}
	page := c.get(fmt.Sprintf("/desk/visits/%d", visitID))
	if got, want := strings.TrimSpace(parseHTML(t, page.Body.String()).Find(".flash[role=status]").Text()), "Nessun referto da pubblicare"; !strings.Contains(got, want) {
		t.Errorf("flash after second publish: got %q, want it to contain %q", got, want)
	}
	again, err := a.db.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !again.PublishedAt.Equal(doc.PublishedAt) || !again.ExpiresAt.Equal(doc.ExpiresAt) {
		t.Errorf("second publish changed dates: got %v/%v, want %v/%v", again.PublishedAt, again.ExpiresAt, doc.PublishedAt, doc.ExpiresAt)
	}
	if got := len(repAudit(a, "report.publish")); got != 1 {
		t.Errorf("report.publish audit rows after second publish: got %d, want 1", got)
	}
}

func TestPublishOnlineDeclinedRefused(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	form := a.acceptForm()
	form.Set("online_declined", "1")
	visitID, code := c.accept(form)
	if code != "" {
		t.Fatalf("declined visit got an activation code %q", code)
	}
	v, err := a.db.Visit(ctx, visitID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OnlineDeclined {
		t.Fatal("visit not marked online_declined")
	}

	rec := c.upload(visitID, file{"Esami", "a.pdf", samplePDF(t, "Esami")})
	if got, want := rec.Code, http.StatusConflict; got != want {
		t.Errorf("upload status: got %d, want %d", got, want)
	}
	repAssertNothingStored(t, a)

	// A report that reached the visit around the store's own refusal (here
	// a raw row) is still not published: the rule lives in PublishVisit.
	res, err := a.raw.ExecContext(ctx, `INSERT INTO documents(visit_id, title, size, uploaded_at, uploaded_by, complete)
		VALUES (?, 'Esami', 10, ?, ?, 1)`, visitID, a.Now(), a.deskID)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	rec = c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil)
	if got, want := rec.Code, http.StatusConflict; got != want {
		t.Errorf("publish status: got %d, want %d", got, want)
	}
	if !strings.Contains(rec.Body.String(), "rifiutato la consegna online") {
		t.Errorf("publish refusal page does not explain why:\n%s", rec.Body.String())
	}
	doc, err := a.db.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Published() {
		t.Error("report of a declined visit was published")
	}
	if got := len(repAudit(a, "report.publish")); got != 0 {
		t.Errorf("report.publish audit rows: got %d, want 0", got)
	}
}

func TestWithdrawReport(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", samplePDF(t, "Esami")})
	if rec := c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish status %d", rec.Code)
	}
	id := repOnlyDocID(t, a)
	window := repWindows(t, repChunkRows(t, a, id)[0])[1]
	target := fmt.Sprintf("/desk/documents/%d/withdraw", id)

	rec := c.get(target)
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("confirmation page status: got %d, want %d", got, want)
	}
	if !strings.Contains(rec.Body.String(), "Esami del sangue") {
		t.Error("confirmation page does not name the report")
	}
	if repCount(t, a, "documents", "id = ?", id) != 1 {
		t.Fatal("GET of the confirmation page removed the document")
	}

	rec = c.post(target, nil)
	if got, want := rec.Code, http.StatusSeeOther; got != want {
		t.Fatalf("withdraw status: got %d, want %d", got, want)
	}
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/desk/visits/%d", visitID); got != want {
		t.Errorf("withdraw Location: got %q, want %q", got, want)
	}
	if got := repCount(t, a, "documents", "id = ?", id); got != 0 {
		t.Errorf("documents rows after withdraw: got %d, want 0", got)
	}
	if got := repCount(t, a, "document_chunks", "document_id = ?", id); got != 0 {
		t.Errorf("chunks after withdraw: got %d, want 0", got)
	}
	if bytes.Contains(repDBBytes(t, a), window) {
		t.Error("withdrawn ciphertext still in the database files")
	}
	ev := repAudit(a, "report.withdraw")
	if len(ev) != 1 || ev[0].ObjectID != id || ev[0].Actor.Name != receptionUser {
		t.Errorf("report.withdraw audit: got %+v, want one event for document %d by %s", ev, id, receptionUser)
	}
	if got := repVisitRows(t, c, visitID); len(got) != 0 {
		t.Errorf("visit page after withdraw lists %v, want nothing", got)
	}
	if rec, _ := repFetchFile(c, id); rec.Code != http.StatusNotFound {
		t.Errorf("file after withdraw: got %d, want %d", rec.Code, http.StatusNotFound)
	}

	for _, tt := range []struct{ method, target string }{
		{http.MethodGet, target},
		{http.MethodPost, target},
		{http.MethodGet, "/desk/documents/999999/withdraw"},
		{http.MethodPost, "/desk/documents/999999/withdraw"},
	} {
		var rec *httptest.ResponseRecorder
		if tt.method == http.MethodGet {
			rec = c.get(tt.target)
		} else {
			rec = c.post(tt.target, nil)
		}
		if got, want := rec.Code, http.StatusNotFound; got != want {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.target, got, want)
		}
	}
	if got := len(repAudit(a, "report.withdraw")); got != 1 {
		t.Errorf("report.withdraw audit rows: got %d, want 1", got)
	}
}

func repExpireJob(a *app) jobs.Expire {
	return jobs.Expire{DB: a.db, Now: a.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestExpireJobRemovesPublishedReports(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	visitID, _ := c.accept(a.acceptForm())
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", samplePDF(t, "Esami")})
	if rec := c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish status %d", rec.Code)
	}
	id := repOnlyDocID(t, a)
	window := repWindows(t, repChunkRows(t, a, id)[0])[1]
	repCheckpoint(t, a)
	if !bytes.Contains(repDBBytes(t, a), window) {
		t.Fatal("ciphertext window not found in the database before expiry; the search is broken")
	}

	a.advance(repRetention + time.Minute)
	job := repExpireJob(a)
	if err := job.RunOnce(ctx); err != nil {
		t.Fatalf("expire: %v", err)
	}
	if got := repCount(t, a, "documents", ""); got != 0 {
		t.Errorf("documents after expiry: got %d, want 0", got)
	}
	if got := repCount(t, a, "document_chunks", ""); got != 0 {
		t.Errorf("chunks after expiry: got %d, want 0", got)
	}
	ev := repAudit(a, "report.expire")
	if len(ev) != 1 || ev[0].ObjectID != id {
		t.Errorf("report.expire audit: got %+v, want one event for document %d", ev, id)
	}
	if got := repVisitRows(t, c, visitID); len(got) != 0 {
		t.Errorf("visit page after expiry lists %v, want nothing", got)
	}
	if bytes.Contains(repDBBytes(t, a), window) {
		t.Error("expired ciphertext still in the database files after the job")
	}
	if rec, _ := repFetchFile(c, id); rec.Code != http.StatusNotFound {
		t.Errorf("file after expiry: got %d, want %d", rec.Code, http.StatusNotFound)
	}

	if err := job.RunOnce(ctx); err != nil {
		t.Fatalf("second expire run: %v", err)
	}
	if got := len(repAudit(a, "report.expire")); got != 1 {
		t.Errorf("report.expire audit rows after a second run: got %d, want 1", got)
	}
}

func TestExpireJobKeepsReportsBeforeExpiry(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	pdf := samplePDF(t, "Esami")
	repUploadOK(t, c, visitID, file{"Esami del sangue", "a.pdf", pdf})
	// An unpublished report has no expiry and stays too.
	otherVisit, _ := c.accept(a.acceptForm())
	repUploadOK(t, c, otherVisit, file{"Radiografia", "b.pdf", pdf})
	if rec := c.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish status %d", rec.Code)
	}
	ids := repDocIDs(t, a)
	chunks := repCount(t, a, "document_chunks", "")

	a.advance(59 * 24 * time.Hour)
	if err := repExpireJob(a).RunOnce(context.Background()); err != nil {
		t.Fatalf("expire: %v", err)
	}
	if got := repDocIDs(t, a); len(got) != len(ids) {
		t.Errorf("documents after 59 days: got %v, want %v", got, ids)
	}
	if got := repCount(t, a, "document_chunks", ""); got != chunks {
		t.Errorf("chunks after 59 days: got %d, want %d", got, chunks)
	}
	if got := len(repAudit(a, "report.expire")); got != 0 {
		t.Errorf("report.expire audit rows: got %d, want 0", got)
	}
	rec, aborted := repFetchFile(c, ids[0])
	if aborted || rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Errorf("file after 59 days: status %d, aborted %v, %d bytes; want the uploaded PDF", rec.Code, aborted, rec.Body.Len())
	}
}

func TestExpireJobRemovesAbandonedDrafts(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	ctx := context.Background()
	visitID, _ := c.accept(a.acceptForm())
	by := db.Actor{Kind: "staff", ID: a.deskID, Name: receptionUser}

	draft := func() int64 {
		t.Helper()
		// Written but never completed, as after a crash mid-submission.
		dr, err := a.db.WriteDraft(ctx, visitID, "Bozza", bytes.NewReader(samplePDF(t, "Bozza")), by, a.Now())
		if err != nil {
			t.Fatal(err)
		}
		return dr.ID
	}
	old := draft()
	a.advance(2 * time.Minute)
	fresh := draft()
	a.advance(59 * time.Minute) // old: 61 minutes, fresh: 59 minutes

	if err := repExpireJob(a).RunOnce(ctx); err != nil {
		t.Fatalf("expire: %v", err)
	}
	if got := repCount(t, a, "documents", "id = ?", old); got != 0 {
		t.Errorf("draft abandoned for over an hour: got %d rows, want 0", got)
	}
	if got := repCount(t, a, "document_chunks", "document_id = ?", old); got != 0 {
		t.Errorf("chunks of the abandoned draft: got %d, want 0", got)
	}
	if got := repCount(t, a, "documents", "id = ?", fresh); got != 1 {
		t.Errorf("fresh draft: got %d rows, want 1", got)
	}
	if got := repCount(t, a, "document_chunks", "document_id = ?", fresh); got != 1 {
		t.Errorf("chunks of the fresh draft: got %d, want 1", got)
	}
	if got := len(repAudit(a, "report.expire")); got != 0 {
		t.Errorf("report.expire audit rows for drafts: got %d, want 0", got)
	}
}
