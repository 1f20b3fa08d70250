package db_test

import (
	"bytes"
	"context"
	"testing"

	"fse/internal/testkit"
)

// fillsTheDisk is an upload during which the disk fills up: the draft's
// row is written, then its content is not, nor can the draft be deleted.
type fillsTheDisk struct {
	disk  *testkit.Disk
	rest  *bytes.Reader
	reads int
}

func (r *fillsTheDisk) Read(p []byte) (int, error) {
	if r.reads++; r.reads == 2 {
		r.disk.Fill()
	}
	return r.rest.Read(p)
}

func TestDraftLeftByAFullDiskIsDiscardedByTheRetry(t *testing.T) {
	testkit.WatchDisks()
	f := newFixture(t)
	disk := testkit.DiskOf(t, f.d)
	ctx := context.Background()
	v := f.accept(t, f.facilityID, patient(0), t0)

	upload := &fillsTheDisk{disk: disk, rest: bytes.NewReader(bytes.Repeat([]byte("referto "), 2<<20/8))}
	if _, err := f.d.WriteDraft(ctx, v.ID, "Referto", upload, f.desk, t0); err == nil {
		t.Fatal("WriteDraft on a full disk succeeded")
	}
	const drafts = `SELECT count(*) FROM documents WHERE complete = 0`
	if got := testkit.Count(t, f.d, drafts); got != 1 {
		t.Fatalf("after the failed upload: %d drafts, want the one the full disk kept", got)
	}

	// Still full: nothing removed, the draft still remembered.
	if removed, left, err := f.d.RetryDiscards(ctx); removed != 0 || left != 1 || err == nil {
		t.Errorf("RetryDiscards on a full disk = %d, %d, %v; want 0, 1 and an error", removed, left, err)
	}
	disk.Free()
	if removed, left, err := f.d.RetryDiscards(ctx); removed != 1 || left != 0 || err != nil {
		t.Errorf("RetryDiscards with room = %d, %d, %v; want 1, 0, nil", removed, left, err)
	}
	if got := testkit.Count(t, f.d, drafts); got != 0 {
		t.Errorf("after the retry: %d drafts, want 0", got)
	}
	if got := testkit.Count(t, f.d, `SELECT count(*) FROM document_chunks`); got != 0 {
		t.Errorf("after the retry: %d chunks, want 0", got)
	}
	if removed, left, err := f.d.RetryDiscards(ctx); removed != 0 || left != 0 || err != nil {
		t.Errorf("a second RetryDiscards = %d, %d, %v; want nothing to do", removed, left, err)
	}
}

func TestProbeWriteFailsWhileTheDiskIsFull(t *testing.T) {
	testkit.WatchDisks()
	d := openDB(t)
	disk := testkit.DiskOf(t, d)
	ctx := context.Background()
	if err := d.ProbeWrite(ctx, t0); err != nil {
		t.Fatalf("ProbeWrite = %v", err)
	}
	disk.Fill()
	if err := d.ProbeWrite(ctx, t0); err == nil {
		t.Error("ProbeWrite on a full disk succeeded")
	}
	if err := d.Ping(ctx); err != nil {
		t.Errorf("Ping on a full disk = %v: reads go on", err)
	}
	disk.Free()
	if err := d.ProbeWrite(ctx, t0.Add(5)); err != nil {
		t.Errorf("ProbeWrite after the disk was freed = %v", err)
	}
}
