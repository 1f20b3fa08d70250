package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fse/internal/pdfcheck"
)

// Tests of uploading reports to a visit: refusals, size limits, client file
// names, several files at once, and the audit.

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
		{"over size", []file{{"Esami del sangue", "referto.pdf", big}}, http.StatusRequestEntityTooLarge, "supera il limite di 1 MB"},
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
			if got := flashError(t, rec.Body.String()); !strings.Contains(got, tt.wantMsg) {
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
	if got, want := flashError(t, rec.Body.String()), "supera il limite"; !strings.Contains(got, want) {
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

// One bad file no longer throws away the good ones of its submission: they
// are stored as reports to publish, and the bad one's error sits at its row
// with its title kept, so the desk fixes only that row.
func TestUploadKeepsTheGoodFilesOfABatch(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visitID, _ := c.accept(a.acceptForm())
	blood, glucose := samplePDF(t, "Esami"), samplePDF(t, "Glicemia")
	rec := c.upload(visitID,
		file{"Esami del sangue", "referto.pdf", blood},
		file{"Radiografia", "rx.pdf", []byte("<!doctype html><html><body>no</body></html>")},
		file{"Glicemia", "g.pdf", glucose},
	)
	if got, want := rec.Code, http.StatusUnsupportedMediaType; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	doc := parseHTML(t, rec.Body.String())
	if got, want := flashError(t, rec.Body.String()), "2 referti caricati e da pubblicare; gli altri no: «Radiografia» non è un file PDF"; !strings.Contains(got, want) {
		t.Errorf(".flash.error: got %q, want it to contain %q", got, want)
	}
	if got, want := strings.TrimSpace(doc.Find("#e-file1").Text()), "«Radiografia» non è un file PDF"; !strings.Contains(got, want) {
		t.Errorf("row 2 error #e-file1: got %q, want it to contain %q", got, want)
	}
	if inv, _ := doc.Find("#file1").Attr("aria-invalid"); inv != "true" {
		t.Errorf("#file1 aria-invalid: got %q, want true", inv)
	}
	if by, _ := doc.Find("#file1").Attr("aria-describedby"); by != "e-file1" {
		t.Errorf("#file1 aria-describedby: got %q, want e-file1", by)
	}
	for _, row := range []string{"#e-file0", "#e-file2"} {
		if doc.Find(row).Length() != 0 {
			t.Errorf("%s: a stored file's row shows an error %q", row, doc.Find(row).Text())
		}
	}
	// The refused row keeps its title; the stored rows are free again.
	for id, want := range map[string]string{"#title0": "", "#title1": "Radiografia", "#title2": ""} {
		if got, _ := doc.Find(id).Attr("value"); got != want {
			t.Errorf("%s value: got %q, want %q", id, got, want)
		}
	}
	rows := repVisitRows(t, c, visitID)
	if len(rows) != 2 || rows["Esami del sangue"] != "da pubblicare" || rows["Glicemia"] != "da pubblicare" {
		t.Errorf("visit page lists %v, want the two good files, to publish", rows)
	}
	docs, err := a.db.VisitDocuments(context.Background(), visitID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"Esami del sangue": blood, "Glicemia": glucose}
	for _, d := range docs {
		if rec, _ := repFetchFile(c, d.ID); !bytes.Equal(rec.Body.Bytes(), want[d.Title]) {
			t.Errorf("file of %q does not match its upload", d.Title)
		}
	}
	if got := repAudit(a, "report.upload"); len(got) != 2 {
		t.Errorf("report.upload audit rows: got %d, want 2", len(got))
	}
}

// A fault of the whole submission (here: the visit takes no reports
// online) stops it: nothing is stored.
func TestUploadToADeclinedVisitIsRefusedWhole(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	form := a.acceptForm()
	form.Set("online_declined", "1")
	visitID, _ := c.accept(form)
	pdf := samplePDF(t, "Esami")
	rec := c.upload(visitID, file{"Esami del sangue", "a.pdf", pdf}, file{"Glicemia", "b.pdf", pdf})
	if got, want := rec.Code, http.StatusConflict; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	if want := "rifiutato la consegna online"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("the page does not say %q", want)
	}
	repAssertNothingStored(t, a)
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

// TestUploadWithABrokenMultipartBodyIs400: a body whose boundary is not
// the one announced, or whose parts are broken, is the client's error: a
// 400 with an Italian message, nothing stored, never a 500.
func TestUploadWithABrokenMultipartBodyIs400(t *testing.T) {
	pdf := samplePDF(t, "Esami del sangue")
	var good bytes.Buffer
	mw := multipart.NewWriter(&good)
	mw.WriteField("title", "Esami del sangue")
	w, _ := mw.CreateFormFile("file", "r.pdf")
	w.Write(pdf)
	mw.Close()
	for _, tt := range []struct {
		name, contentType string
		body              []byte
	}{
		{"another boundary", "multipart/form-data; boundary=non-e-questo", good.Bytes()},
		{"not a multipart form", "application/x-www-form-urlencoded", []byte("title=Esami")},
		{"no boundary", "multipart/form-data", good.Bytes()},
		{"no parts at all", mw.FormDataContentType(), []byte("niente di utile\r\n")},
		{"broken part headers", mw.FormDataContentType(),
			[]byte("--" + mw.Boundary() + "\r\nContent-Disposition form-data senza due punti\r\n\r\nx\r\n--" + mw.Boundary() + "--\r\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			c := a.deskClient()
			visitID, _ := c.accept(a.acceptForm())
			rec := c.do(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), bytes.NewReader(tt.body), tt.contentType)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status: got %d, want 400", rec.Code)
			}
			if got := flashError(t, rec.Body.String()); !strings.Contains(got, "Modulo di caricamento non valido") {
				t.Errorf(".flash.error: got %q, want the Italian message", got)
			}
			repAssertNothingStored(t, a)
			if strings.Contains(a.logs.String(), "request failed") {
				t.Errorf("logged as a server error:\n%s", a.logs.String())
			}
		})
	}
}
