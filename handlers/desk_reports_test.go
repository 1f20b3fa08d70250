package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/sealbox"
	"fse/jobs"
)

// Tests of publishing and withdrawing reports, and of the expire job that
// removes them.

// repRetention is the harness's RetentionDays as a duration.
const repRetention = 60 * 24 * time.Hour

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
	if authCount(t, a, "SELECT count(*) FROM documents WHERE id = ?", id) != 1 {
		t.Fatal("GET of the confirmation page removed the document")
	}

	rec = c.post(target, nil)
	if got, want := rec.Code, http.StatusSeeOther; got != want {
		t.Fatalf("withdraw status: got %d, want %d", got, want)
	}
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/desk/visits/%d", visitID); got != want {
		t.Errorf("withdraw Location: got %q, want %q", got, want)
	}
	if got := authCount(t, a, "SELECT count(*) FROM documents WHERE id = ?", id); got != 0 {
		t.Errorf("documents rows after withdraw: got %d, want 0", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks WHERE document_id = ?", id); got != 0 {
		t.Errorf("chunks after withdraw: got %d, want 0", got)
	}
	if !erasedWithin(t, a, window, 5*time.Second) {
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
	if got := authCount(t, a, "SELECT count(*) FROM documents"); got != 0 {
		t.Errorf("documents after expiry: got %d, want 0", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks"); got != 0 {
		t.Errorf("chunks after expiry: got %d, want 0", got)
	}
	ev := repAudit(a, "report.expire")
	if len(ev) != 1 || ev[0].ObjectID != id {
		t.Errorf("report.expire audit: got %+v, want one event for document %d", ev, id)
	}
	if got := repVisitRows(t, c, visitID); len(got) != 0 {
		t.Errorf("visit page after expiry lists %v, want nothing", got)
	}
	if !erasedWithin(t, a, window, 5*time.Second) {
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
	chunks := authCount(t, a, "SELECT count(*) FROM document_chunks")

	a.advance(59 * 24 * time.Hour)
	if err := repExpireJob(a).RunOnce(context.Background()); err != nil {
		t.Fatalf("expire: %v", err)
	}
	if got := repDocIDs(t, a); len(got) != len(ids) {
		t.Errorf("documents after 59 days: got %v, want %v", got, ids)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks"); got != chunks {
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
	if got := authCount(t, a, "SELECT count(*) FROM documents WHERE id = ?", old); got != 0 {
		t.Errorf("draft abandoned for over an hour: got %d rows, want 0", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks WHERE document_id = ?", old); got != 0 {
		t.Errorf("chunks of the abandoned draft: got %d, want 0", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM documents WHERE id = ?", fresh); got != 1 {
		t.Errorf("fresh draft: got %d rows, want 1", got)
	}
	if got := authCount(t, a, "SELECT count(*) FROM document_chunks WHERE document_id = ?", fresh); got != 1 {
		t.Errorf("chunks of the fresh draft: got %d, want 1", got)
	}
	if got := len(repAudit(a, "report.expire")); got != 0 {
		t.Errorf("report.expire audit rows for drafts: got %d, want 0", got)
	}
}
