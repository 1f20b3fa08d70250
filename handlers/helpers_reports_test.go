package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/internal/pdfcheck"
)

// Helpers shared by the report tests: uploading, fetching the staff view,
// and looking at what the database files hold.

// repAssertNothingStored fails unless both documents and document_chunks are empty.
func repAssertNothingStored(t *testing.T, a *app) {
	t.Helper()
	if got := authCount(t, a, "SELECT count(*) FROM documents"); got != 0 {
		t.Errorf("documents rows: got %d, want 0", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks"); got != 0 {
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
		rows[title] = strings.TrimSpace(tr.Find("td").Eq(2).Find(".tag").Text()) // the Stato column
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
	return withAction(a.auditActions(db.AuditFilter{Action: action}), action)
}
