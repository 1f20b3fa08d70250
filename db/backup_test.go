package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"fse/db"
	"fse/internal/testkit"
)

// partials lists the temporary files a backup or restore left in dir.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.partial"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// emptySQLite makes a file that passes SQLite's integrity check and has no
// tables: what an interrupted VACUUM INTO left under the backup's name.
func emptySQLite(t *testing.T, path string) {
	t.Helper()
	c, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec("PRAGMA user_version = 0; VACUUM"); err != nil {
		t.Fatal(err)
	}
}

func TestBackupReportsWhatTheCopyHolds(t *testing.T) {
	f := newFixture(t)
	f.accept(t, f.facilityID, patient(0), t0)
	dest := filepath.Join(t.TempDir(), "copia.db")
	info, err := f.d.Backup(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	applied, _, err := f.d.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != applied || info.Patients != 1 || info.Visits != 1 {
		t.Errorf("backup info = %+v, want schema %d, 1 patient, 1 visit", info, applied)
	}
	if p := partials(t, filepath.Dir(dest)); len(p) != 0 {
		t.Errorf("temporary files left beside the backup: %v", p)
	}
	if st, err := os.Stat(dest); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
}

// TestInterruptedBackupLeavesNothingUnderItsName proves an interrupted
// backup (here its context is cancelled) leaves neither a file under the
// backup's name nor its temporary file.
func TestInterruptedBackupLeavesNothingUnderItsName(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "copia.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.d.Backup(ctx, dest); err == nil {
		t.Fatal("Backup with a cancelled context succeeded")
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after an interrupted backup %s exists (%v)", dest, err)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("temporary files left: %v", p)
	}
}

func TestCheckCopyRefusesIncompleteFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "vuoto.db")
	emptySQLite(t, empty)
	if _, err := db.CheckCopy(context.Background(), empty); !errors.Is(err, db.ErrIncompleteCopy) {
		t.Errorf("CheckCopy of a database without tables = %v, want ErrIncompleteCopy", err)
	}

	f := newFixture(t)
	f.accept(t, f.facilityID, patient(0), t0)
	whole := filepath.Join(dir, "intero.db")
	if _, err := f.d.Backup(context.Background(), whole); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "troncato.db")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CheckCopy(context.Background(), cut); err == nil {
		t.Error("CheckCopy of a backup cut in half succeeded")
	}
	if _, err := db.CheckCopy(context.Background(), whole); err != nil {
		t.Errorf("CheckCopy of a whole backup: %v", err)
	}
}

func TestRestoreReplacesTheDatabaseAndKeepsTheOldOne(t *testing.T) {
	f := newFixture(t)
	f.accept(t, f.facilityID, patient(0), t0)
	dir := t.TempDir()
	backup := filepath.Join(dir, "copia.db")
	if _, err := f.d.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "fse.db")
	openPath(t, target).Close() // an empty portal, closed: as after a failed start
	info, kept, err := db.Restore(context.Background(), backup, target, ".prima")
	if err != nil {
		t.Fatal(err)
	}
	if info.Patients != 1 || kept != target+".prima" {
		t.Errorf("Restore = %+v, kept as %q", info, kept)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}
	d := openPath(t, target)
	if n := testkit.Count(t, d, `SELECT count(*) FROM patients`); n != 1 {
		t.Errorf("restored database has %d patients, want 1", n)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("temporary files left: %v", p)
	}
}

func TestRestoreRefusesAnIncompleteCopyOrADatabaseInUse(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "fse.db")
	live := openPath(t, target)
	before := testkit.Count(t, live, `SELECT count(*) FROM schema_migrations`)

	empty := filepath.Join(dir, "vuoto.db")
	emptySQLite(t, empty)
	if _, _, err := db.Restore(context.Background(), empty, target, ".prima"); !errors.Is(err, db.ErrIncompleteCopy) {
		t.Errorf("Restore of a copy without tables = %v, want ErrIncompleteCopy", err)
	}

	f := newFixture(t)
	backup := filepath.Join(dir, "copia.db")
	if _, err := f.d.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Restore(context.Background(), backup, target, ".prima"); !errors.Is(err, db.ErrInUse) {
		t.Errorf("Restore over a database a server has open = %v, want ErrInUse", err)
	}
	if after := testkit.Count(t, live, `SELECT count(*) FROM schema_migrations`); after != before {
		t.Error("the refused restore changed the live database")
	}
	if _, err := os.Stat(target + ".prima"); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused restore moved the live database aside")
	}
}
