package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// TestCheckpointerErasesAfterALongReaderWithoutHoldingWritersUp: a deletion
// while another connection reads an older snapshot (a backup) stays in the
// WAL until that read ends, then the checkpointer truncates the WAL; in
// the meantime writes go on.
func TestCheckpointerErasesAfterALongReaderWithoutHoldingWritersUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dr, window := f.storeWithWindow(t, "contenuto del referto ")
	ckCtx, stop := context.WithCancel(ctx)
	ckDone := make(chan struct{})
	go func() {
		f.d.RunCheckpointer(ckCtx, 5*time.Millisecond, nil, slog.New(slog.DiscardHandler))
		close(ckDone)
	}()
	defer func() { stop(); <-ckDone }()
	findable := func() bool {
		var all []byte
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(f.d.Path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return bytes.Contains(all, window)
	}
	// Wait until the checkpointer copied the upload into the database.
	for deadline := time.Now().Add(5 * time.Second); !findable() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}

	reader, err := testkit.Raw(t, f.d).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRow(`SELECT count(*) FROM document_chunks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := f.d.WithdrawDocument(ctx, dr.ID, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	f.d.NoteDeletion()
	time.Sleep(100 * time.Millisecond) // twenty ticks of the checkpointer
	// Writes go on meanwhile.
	f.accept(t, f.facilityID, patient(1), t0)
	if !findable() {
		t.Fatal("the deleted report vanished from the files while a reader still held its pages: the test does not test")
	}
	reader.Rollback()
	for deadline := time.Now().Add(5 * time.Second); findable(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deleted report is still in the database files 5 s after the reader ended")
		}
	}
}

// storeWithWindow stores a report whose text is phrase repeated, and
// returns it with 32 bytes of its stored ciphertext, to look for in the
// database files once it is deleted.
func (f fixture) storeWithWindow(t *testing.T, phrase string) (db.Draft, []byte) {
	t.Helper()
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)
	dr, err := f.d.StoreDocument(ctx, v.ID, "Referto", bytes.NewReader(bytes.Repeat([]byte(phrase), 3000)), f.desk, t0)
	if err != nil {
		t.Fatal(err)
	}
	var window []byte
	if err := testkit.Raw(t, f.d).QueryRowContext(ctx, `SELECT substr(data, 1000, 32) FROM document_chunks WHERE document_id = ? AND seq = 0`, dr.ID).Scan(&window); err != nil {
		t.Fatal(err)
	}
	return dr, window
}
