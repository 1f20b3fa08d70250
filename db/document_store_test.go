package db_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

func TestStoreDocumentRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	sizes := []int{0, 1, db.ChunkSize - 1, db.ChunkSize, db.ChunkSize + 1, 3*db.ChunkSize + 5}
	for _, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want := make([]byte, size)
			if _, err := rand.Read(want); err != nil {
				t.Fatal(err)
			}
			// Half reads exercise the buffering across chunk boundaries.
			dr, err := f.d.StoreDocument(ctx, v.ID, "Referto", iotest.HalfReader(bytes.NewReader(want)), f.desk, t0)
			if err != nil {
				t.Fatal(err)
			}
			if dr.Size != int64(size) {
				t.Errorf("stored size = %d, want %d", dr.Size, size)
			}
			var chunks, stored int
			if err := testkit.Raw(t, f.d).QueryRow(`SELECT count(*), coalesce(sum(length(data)), 0) FROM document_chunks
				WHERE document_id = ?`, dr.ID).Scan(&chunks, &stored); err != nil {
				t.Fatal(err)
			}
			if wantChunks := (stored + db.ChunkSize - 1) / db.ChunkSize; chunks != wantChunks || stored <= size {
				t.Errorf("%d chunks holding %d bytes for %d bytes of content, want sealed content in %d chunks", chunks, stored, size, wantChunks)
			}
			r, err := f.d.OpenDocument(ctx, dr.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("read back %d bytes (err %v), want the %d stored", len(got), err, len(want))
			}
			doc, err := f.d.Document(ctx, dr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Size != int64(size) || doc.Published() {
				t.Errorf("document = %+v, want size %d, unpublished", doc, size)
			}
		})
	}
	if n := len(f.audit(t, db.ActionReportUpload)); n != len(sizes) {
		t.Errorf("%d upload audit events, want %d", n, len(sizes))
	}
}

func TestStoredContentIsNeverPlaintext(t *testing.T) {
	f := newFixture(t)
	v := f.accept(t, f.facilityID, patient(0), t0)
	secret := strings.Repeat("Emoglobina 13,5 g/dL ", 5000)
	id := f.store(t, v.ID, []byte(secret))
	if n := testkit.Count(t, f.d, `SELECT count(*) FROM document_chunks WHERE document_id = ? AND instr(data, 'Emoglobina') > 0`, id); n != 0 {
		t.Errorf("%d chunks hold the plaintext", n)
	}
}

// A reader's error (the PDF check, a size limit, a dropped connection)
// leaves nothing behind: no draft row, no chunk.
func TestStoreDocumentDiscardsOnReaderError(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	refused := errors.New("not a PDF")
	for name, r := range map[string]io.Reader{
		"refused at once": iotest.ErrReader(refused),
		"refused midway":  io.MultiReader(bytes.NewReader(make([]byte, 3*db.ChunkSize)), iotest.ErrReader(refused)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.d.StoreDocument(ctx, v.ID, "Referto", r, f.desk, t0)
			if !errors.Is(err, refused) {
				t.Fatalf("StoreDocument = %v, want the reader's error", err)
			}
			if n := testkit.Count(t, f.d, `SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM document_chunks)`); n != 0 {
				t.Errorf("%d rows left behind", n)
			}
		})
	}
}

func TestStoreDocumentRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	declined, err := f.d.Accept(ctx, db.Acceptance{Patient: patient(1), FacilityID: f.facilityID, Exams: []string{"ECG"},
		OnlineDeclined: true}, f.desk, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		visitID int64
		title   string
		want    error
	}{
		{"no title", v.ID, "", db.ErrTitleMissing},
		{"long title", v.ID, strings.Repeat("è", db.MaxTitleLen+1), db.ErrTitleTooLong},
		{"declined at the desk", declined.ID, "Referto", db.ErrOnlineDeclined},
		{"missing visit", 9999, "Referto", db.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.d.StoreDocument(ctx, tt.visitID, tt.title, strings.NewReader("%PDF-1.7"), f.desk, t0); !errors.Is(err, tt.want) {
				t.Errorf("StoreDocument = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := f.d.StoreDocument(ctx, v.ID, strings.Repeat("è", db.MaxTitleLen), strings.NewReader("x"), f.desk, t0); err != nil {
		t.Errorf("title of exactly %d characters: %v", db.MaxTitleLen, err)
	}
	if n := testkit.Count(t, f.d, `SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("%d documents, want only the one accepted", n)
	}
}

// A submission of several files is kept whole or not at all.
func TestCompleteDraftsIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	a, err := f.d.WriteDraft(ctx, v.ID, "Primo", strings.NewReader("uno"), f.desk, t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.d.WriteDraft(ctx, v.ID, "Secondo", strings.NewReader("due"), f.desk, t0)
	if err != nil {
		t.Fatal(err)
	}
	if docs, _ := f.d.VisitDocuments(ctx, v.ID); len(docs) != 0 {
		t.Errorf("drafts visible before completion: %+v", docs)
	}
	if err := f.d.DiscardDrafts(ctx, []db.Draft{b}); err != nil {
		t.Fatal(err)
	}
	if err := f.d.CompleteDrafts(ctx, []db.Draft{a, b}, f.desk, t0); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("CompleteDrafts with a discarded draft = %v, want ErrNotFound", err)
	}
	if docs, _ := f.d.VisitDocuments(ctx, v.ID); len(docs) != 0 {
		t.Errorf("a partial submission became visible: %+v", docs)
	}
	if err := f.d.CompleteDrafts(ctx, []db.Draft{a}, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	if docs, _ := f.d.VisitDocuments(ctx, v.ID); len(docs) != 1 || docs[0].Title != "Primo" {
		t.Errorf("VisitDocuments = %+v, want the completed draft", docs)
	}
}

func TestWithdrawDeletesChunks(t *testing.T) {
	f := newFixture(t)
	v := f.accept(t, f.facilityID, patient(0), t0)
	id := f.store(t, v.ID, make([]byte, 2*db.ChunkSize))
	if err := f.d.WithdrawDocument(context.Background(), id, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	if n := testkit.Count(t, f.d, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, id); n != 0 {
		t.Errorf("%d chunks left after withdrawal, want 0 (ON DELETE CASCADE)", n)
	}
}

func TestDocumentsNeedASealer(t *testing.T) {
	d := testkit.OpenDB(t)
	if _, err := d.StoreDocument(context.Background(), 1, "Referto", strings.NewReader("x"), cli, t0); err == nil {
		t.Error("StoreDocument without a sealer succeeded")
	}
	if _, err := d.OpenDocument(context.Background(), 1); err == nil {
		t.Error("OpenDocument without a sealer succeeded")
	}
}

// audit returns the events of one action.
func (f fixture) audit(t *testing.T, action string) []db.AuditEvent {
	t.Helper()
	ev, err := f.d.ListAudit(context.Background(), db.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// The purge deletes in short batches, however many reports expire at once,
// and audits every one.
func TestDeleteExpiredDocumentsInBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	const n = 450
	for range n {
		f.store(t, v.ID, []byte("x"))
	}
	if _, err := f.d.PublishVisit(ctx, v.ID, time.Hour, db.Notice{}, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	_, err := f.d.WriteDraft(ctx, v.ID, "Bozza", strings.NewReader("y"), f.desk, t0)
	if err != nil {
		t.Fatal(err)
	}
	expired, abandoned, err := f.d.DeleteExpiredDocuments(ctx, t0.Add(2*time.Hour))
	if err != nil || expired != n || abandoned != 1 {
		t.Fatalf("DeleteExpiredDocuments = %d, %d, %v; want %d, 1", expired, abandoned, err, n)
	}
	if left := testkit.Count(t, f.d, `SELECT count(*) FROM documents`); left != 0 {
		t.Errorf("%d documents left", left)
	}
	if got := len(f.audit(t, db.ActionReportExpire)); got != n {
		t.Errorf("%d expiries audited, want %d", got, n)
	}

}

// TestReportDeletedBeforeOrWhileReadIsNotFound: a download racing a
// deletion (expiry, withdrawal, the patient) gets ErrNotFound, never a
// broken-ciphertext error: before the first byte it becomes the usual 404,
// after it ErrDeletedWhileRead tells the cut stream from a corrupted one.
func TestReportDeletedBeforeOrWhileReadIsNotFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	store := func() int64 {
		content := make([]byte, 3*db.ChunkSize)
		rand.Read(content)
		dr, err := f.d.StoreDocument(ctx, v.ID, "Referto", bytes.NewReader(content), f.desk, t0)
		if err != nil {
			t.Fatal(err)
		}
		return dr.ID
	}

	before := store()
	if err := f.d.WithdrawDocument(ctx, before, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.OpenDocument(ctx, before); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("OpenDocument of a deleted report = %v, want ErrNotFound", err)
	}

	during := store()
	r, err := f.d.OpenDocument(ctx, during)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := f.d.WithdrawDocument(ctx, during, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, db.ErrDeletedWhileRead) || !errors.Is(err, db.ErrNotFound) {
		t.Errorf("reading on after the deletion = %v, want ErrDeletedWhileRead", err)
	}
}
