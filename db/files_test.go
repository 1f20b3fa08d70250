package db_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"fse/db"
)

// withUmask runs the rest of the test under mask, as a server started
// from a shell with the usual umask 022 would.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// The registry is not encrypted: under the usual umask 022 the database,
// its -wal and -shm, and a backup are readable by their owner only.
func TestDatabaseFilesAndBackupsArePrivateUnderUmask022(t *testing.T) {
	withUmask(t, 0o022)
	f := newFixture(t)
	if _, err := f.d.CreateFacility(context.Background(), db.Facility{Code: "BS", Name: "Brescia"}, cli, t0); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copia.db")
	if _, err := f.d.Backup(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.d.Path, f.d.Path + "-wal", f.d.Path + "-shm", dest} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), perm)
		}
	}
	if got, err := db.ExposedFiles(f.d.Path); err != nil || len(got) != 0 {
		t.Errorf("ExposedFiles = %v, %v; want none", got, err)
	}
}

// A database copied by hand may be open to everyone: ExposedFiles names
// each of its files that others can read, so fse serve can warn.
func TestExposedFilesNamesFilesOthersCanRead(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "copiato.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d := openPath(t, path)
	if _, err := d.CreateFacility(context.Background(), db.Facility{Code: "BS", Name: "Brescia"}, cli, t0); err != nil {
		t.Fatal(err)
	}
	got, err := db.ExposedFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{path: 0o644, path + "-wal": 0o644, path + "-shm": 0o644}
	if len(got) != len(want) {
		t.Fatalf("ExposedFiles = %v, want %v", got, want)
	}
	for _, e := range got {
		if want[e.Path] != e.Mode {
			t.Errorf("%s: mode %04o, want %04o", e.Path, e.Mode, want[e.Path])
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ExposedFiles(path); len(got) != 2 {
		t.Errorf("after chmod 600 of the database: %v, want its -wal and -shm still named", got)
	}
}
