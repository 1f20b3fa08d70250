package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"testing"
	"time"

	"fse/internal/testkit"
)

// fakeReplicator does to the database what Litestream does: it holds a
// read transaction so no one else's checkpoint completes, and now and
// then checkpoints itself (PASSIVE) and writes, which restarts the WAL.
type fakeReplicator struct {
	t    *testing.T
	c    *sql.DB
	read *sql.Tx
}

func newFakeReplicator(t *testing.T, path string) *fakeReplicator {
	t.Helper()
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Exec(`CREATE TABLE IF NOT EXISTS replicator_seq (id INTEGER PRIMARY KEY, seq INTEGER)`); err != nil {
		t.Fatal(err)
	}
	r := &fakeReplicator{t: t, c: c}
	r.hold()
	return r
}

func (r *fakeReplicator) hold() {
	tx, err := r.c.Begin()
	if err != nil {
		r.t.Error(err)
		return
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM replicator_seq`).Scan(&n); err != nil {
		r.t.Error(err)
	}
	r.read = tx
}

// checkpoint is one of Litestream's checkpoints.
func (r *fakeReplicator) checkpoint() {
	r.read.Rollback()
	var busy, frames, done int
	if err := r.c.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
		r.t.Error(err)
	}
	if _, err := r.c.Exec(`INSERT INTO replicator_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1`); err != nil {
		r.t.Error(err)
	}
	r.hold()
}

// TestBesideAReplicatorDeletedDataLeavesTheWALAfterItsCheckpoint: with a
// replicator in charge of checkpoints, its checkpoint copies the deletion
// into the database and restarts the WAL, but the deleted report's old
// frames stay in the file past the new live end; the checkpointer cuts
// them off, and the database stays whole.
func TestBesideAReplicatorDeletedDataLeavesTheWALAfterItsCheckpoint(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dr, window := f.storeWithWindow(t, "contenuto riservato del referto ")
	inWAL := func() bool {
		b, err := os.ReadFile(f.d.Path + "-wal")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return bytes.Contains(b, window)
	}
	inDB := func() bool {
		b, err := os.ReadFile(f.d.Path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, window)
	}

	rep := newFakeReplicator(t, f.d.Path)
	if err := f.d.WithdrawDocument(ctx, dr.ID, f.desk, t0); err != nil {
		t.Fatal(err)
	}
	f.d.NoteDeletion()
	rep.checkpoint()
	if !inWAL() {
		t.Fatal("the replicator's checkpoint alone erased the report from the WAL file: the test does not test")
	}
	if inDB() {
		t.Fatal("the deleted report is in the database file itself")
	}

	ckCtx, stop := context.WithCancel(ctx)
	ckDone := make(chan struct{})
	go func() {
		f.d.RunBesideReplicator(ckCtx, 5*time.Millisecond, nil, slog.New(slog.DiscardHandler))
		close(ckDone)
	}()
	defer func() { stop(); <-ckDone }()
	for deadline := time.Now().Add(10 * time.Second); inWAL(); {
		if time.Now().After(deadline) {
			t.Fatal("the deleted report is still in the WAL file 10 s after the deletion, with the replicator checkpointing")
		}
		// Writes go on, and the replicator checkpoints now and then.
		f.accept(t, f.facilityID, patient(1+int(time.Now().UnixNano()%7)), t0)
		rep.checkpoint()
		time.Sleep(20 * time.Millisecond)
	}
	if f.d.DeletionPending() {
		t.Error("the deletion is still pending after its erasure")
	}

	// The WAL that was cut still serves: writes, the replicator's reads,
	// and a whole database after a last checkpoint.
	f.accept(t, f.facilityID, patient(9), t0)
	rep.checkpoint()
	var res string
	if err := testkit.Raw(t, f.d).QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity check = %q, %v", res, err)
	}
	if inDB() || inWAL() {
		t.Error("the deleted report came back")
	}
}
