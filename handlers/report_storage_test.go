package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Tests of how reports are stored: encrypted at rest, and never served
// when their ciphertext was tampered with.

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
