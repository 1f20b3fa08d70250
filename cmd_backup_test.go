package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/demo"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// seedDemoDB fills a database with the demo's reports, sealed with the
// demo keys, and closes it.
func seedDemoDB(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	hasher, err := password.NewHasher(password.Params, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, d, demo.Keys(), hasher, time.Now(), 45*24*time.Hour); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreCommand(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "fse.db")
	seedStaffDB(t, live)
	keys, err := sealbox.CreateKeyFile(defaultKeyFile(live))
	if err != nil {
		t.Fatal(err)
	}
	d := testkit.OpenPath(t, live)
	if err := d.CheckKey(context.Background(), keys.MAC(sealbox.KeyCheck, "")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	backup := filepath.Join(dir, "copia.db")
	if r := runCmd(t, invocation{args: []string{"backup", "--db", live, backup}}); r.code != 0 {
		t.Fatalf("backup: exit %d (%s)", r.code, r.stderr)
	}

	// A backup cut short is refused and nothing changes.
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "troncata.db")
	if err := os.WriteFile(cut, b[:len(b)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(live)
	r := runCmd(t, invocation{args: []string{"restore", "--db", live, cut}})
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("restore of a cut backup: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(live); string(after) != string(before) {
		t.Error("a refused restore changed the database")
	}

	// Another key file than the backup's is refused.
	other := filepath.Join(dir, "altra.key")
	if _, err := sealbox.CreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, invocation{args: []string{"restore", backup, "--db", live, "--key-file", other}})
	if r.code != 1 || !strings.Contains(r.stderr, "not the one the backup was written with") {
		t.Errorf("restore with another key: exit %d, stderr %q", r.code, r.stderr)
	}

	// The right one: restored, the old database kept beside it.
	r = runCmd(t, invocation{args: []string{"restore", "--db", live, backup}})
	if r.code != 0 {
		t.Fatalf("restore: exit %d (%s)", r.code, r.stderr)
	}
	for _, want := range []string{"restored", "integrity ok", "kept as", "matches the backup"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restore output %q lacks %q", r.stdout, want)
		}
	}
	kept, _ := filepath.Glob(live + ".before-restore-*")
	if len(kept) != 1 {
		t.Errorf("kept databases: %v, want one", kept)
	}
	if _, err := testkit.OpenPath(t, live).StaffByUsername(context.Background(), "capo"); err != nil {
		t.Errorf("staff in the restored database: %v", err)
	}
}

func TestRestoreRefusesADatabaseInUse(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "fse.db")
	seedStaffDB(t, live)
	backup := filepath.Join(dir, "copia.db")
	if r := runCmd(t, invocation{args: []string{"backup", "--db", live, backup}}); r.code != 0 {
		t.Fatalf("backup: exit %d (%s)", r.code, r.stderr)
	}
	testkit.OpenPath(t, live) // as a running server holds it
	r := runCmd(t, invocation{args: []string{"restore", "--db", live, backup}})
	if r.code != 1 || !strings.Contains(r.stderr, "stop fse serve") {
		t.Errorf("restore over an open database: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServeRefusesAnEmptyDatabaseBesideItsKeyFile: an interrupted copy
// restored by hand (integrity ok, no tables) or a wrong --db must not
// start as an empty portal beside a key file that belongs to reports.
func TestServeRefusesAnEmptyDatabaseBesideItsKeyFile(t *testing.T) {
	for _, name := range []string{"empty", "missing"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "fse.db")
			if _, err := sealbox.CreateKeyFile(defaultKeyFile(dbPath)); err != nil {
				t.Fatal(err)
			}
			if name == "empty" {
				c, err := sql.Open("sqlite", "file:"+dbPath)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Exec("VACUUM"); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it",
				"--retention-days", "45"}, nil)
			if ok {
				s.stop(t)
				t.Fatal("serve started an empty portal beside an existing key file")
			}
			if code != 1 || !strings.Contains(s.stderr.String(), "empty or missing") || !strings.Contains(s.stderr.String(), "refusing to start") {
				t.Errorf("exit %d, stderr %q", code, s.stderr.String())
			}
			if ok, err := db.HasSchema(context.Background(), dbPath); err != nil || ok {
				t.Errorf("the refused database was migrated (schema %v, %v)", ok, err)
			}
		})
	}
}

// TestServeChecksAKeyOnAReportWhenTheDatabaseHasNoCheck: a database from
// before the key check (or with its check removed) must not accept a wrong
// key and store its check, which would lock the right key out.
func TestServeChecksAKeyOnAReportWhenTheDatabaseHasNoCheck(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "fse.db")
	seedDemoDB(t, dbPath)
	d := testkit.OpenPath(t, dbPath)
	if _, err := testkit.Raw(t, d).Exec(`DELETE FROM meta WHERE key = 'key_check'`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := sealbox.CreateKeyFile(defaultKeyFile(dbPath)); err != nil { // not the demo's key
		t.Fatal(err)
	}
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it",
		"--retention-days", "45"}, nil)
	if ok {
		s.stop(t)
		t.Fatal("serve accepted a key that does not open the reports")
	}
	if code != 1 || !strings.Contains(s.stderr.String(), "not the one this database was written with") {
		t.Errorf("exit %d, stderr %q", code, s.stderr.String())
	}
	if n := testkit.Count(t, testkit.OpenPath(t, dbPath), `SELECT count(*) FROM meta WHERE key = 'key_check'`); n != 0 {
		t.Error("the wrong key's check was stored")
	}
}
