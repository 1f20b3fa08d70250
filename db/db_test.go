package db_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/testkit"
)

// t0 is the fixed clock of these tests.
var t0 = time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)

var cli = db.Actor{Kind: "cli", Name: "db test"}

// openDB opens a fresh database file in a temp dir and closes it at cleanup.
func openDB(t *testing.T) *db.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "fse.db"))
}

func openPath(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatalf("db.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// fixture is one facility, one receptionist and the ids that foreign keys need.
type fixture struct {
	d          *db.DB
	facilityID int64
	staffID    int64
	desk       db.Actor
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	d := openDB(t)
	fid := createFacility(t, d, "MN")
	sid, err := d.CreateStaff(ctx, db.Staff{Username: "sportello", Role: db.RoleReception, PasswordHash: "$argon2id$fake"}, cli, t0)
	if err != nil {
		t.Fatalf("CreateStaff: %v", err)
	}
	d.SetSealer(testkit.Keys(t))
	return fixture{d: d, facilityID: fid, staffID: sid, desk: db.Actor{Kind: "staff", ID: sid, Name: "sportello"}}
}

// store stores content as a complete report of the visit and returns its id.
func (f fixture) store(t *testing.T, visitID int64, content []byte) int64 {
	t.Helper()
	dr, err := f.d.StoreDocument(context.Background(), visitID, "Referto", bytes.NewReader(content), f.desk, t0)
	if err != nil {
		t.Fatalf("StoreDocument: %v", err)
	}
	return dr.ID
}

func createFacility(t *testing.T, d *db.DB, code string) int64 {
	t.Helper()
	id, err := d.CreateFacility(context.Background(), db.Facility{Code: code, Name: "Sede " + code}, cli, t0)
	if err != nil {
		t.Fatalf("CreateFacility(%s): %v", code, err)
	}
	return id
}

// patient returns a registry entry; n makes the codice fiscale unique.
func patient(n int) db.Patient {
	return db.Patient{
		FiscalCode: fmt.Sprintf("RSSMRA80A01F205%c", 'A'+rune(n)),
		FirstName:  "Mario", LastName: "Rossi", BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC),
		BirthPlace: "Milano", Sex: "M", Mobile: "+393331234567",
	}
}

func randomMAC(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (f fixture) accept(t *testing.T, facilityID int64, p db.Patient, now time.Time) db.Visit {
	t.Helper()
	v, err := f.d.Accept(context.Background(), db.Acceptance{Patient: p, FacilityID: facilityID,
		Exams: []string{"Emocromo"}, CodeMAC: randomMAC(t)}, f.desk, now)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return v
}

func pragma(t *testing.T, pool *sql.DB, name string) string {
	t.Helper()
	var got string
	if err := pool.QueryRow("PRAGMA " + name).Scan(&got); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return strings.ToLower(got)
}

func TestOpenPragmas(t *testing.T) {
	d := openDB(t)
	pools := []struct {
		name string
		pool *sql.DB
	}{{"W", d.WriterForTest()}, {"R", d.ReaderForTest()}, {"D", d.DocumentReaderForTest()}}
	want := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"secure_delete", "1"},
		{"busy_timeout", "10000"},
		{"temp_store", "2"},
	}
	for _, p := range pools {
		for _, w := range want {
			t.Run(p.name+"/"+w.pragma, func(t *testing.T) {
				if got := pragma(t, p.pool, w.pragma); got != w.want {
					t.Errorf("PRAGMA %s on the %s pool = %q, want %q", w.pragma, p.name, got, w.want)
				}
			})
		}
	}
	if got, want := pragma(t, d.ReaderForTest(), "query_only"), "1"; got != want {
		t.Errorf("PRAGMA query_only on d.ReaderForTest() = %q, want %q", got, want)
	}
	if got, want := pragma(t, d.DocumentReaderForTest(), "query_only"), "1"; got != want {
		t.Errorf("PRAGMA query_only on the document pool = %q, want %q", got, want)
	}
	// Only the document pool maps the file: each mapping counts in the
	// process's resident memory.
	for _, p := range pools {
		want := "0"
		if p.name == "D" {
			want = "268435456"
		}
		if got := pragma(t, p.pool, "mmap_size"); got != want {
			t.Errorf("PRAGMA mmap_size on the %s pool = %q, want %q", p.name, got, want)
		}
	}
	if got, want := pragma(t, d.WriterForTest(), "query_only"), "0"; got != want {
		t.Errorf("PRAGMA query_only on d.WriterForTest() = %q, want %q", got, want)
	}
	// synchronous: NORMAL (1) by default.
	if got, want := pragma(t, d.WriterForTest(), "synchronous"), "1"; got != want {
		t.Errorf("PRAGMA synchronous = %q, want %q (NORMAL)", got, want)
	}
}

func TestOpenSynchronousFull(t *testing.T) {
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "full.db"), db.Options{SynchronousFull: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, want := pragma(t, d.WriterForTest(), "synchronous"), "2"; got != want {
		t.Errorf("PRAGMA synchronous = %q, want %q (FULL)", got, want)
	}
}

func TestReaderRefusesWrites(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	_, err := d.ReaderForTest().ExecContext(ctx, `INSERT INTO facilities(code, name, created_at) VALUES ('XX', 'Via R', ?)`, t0)
	if err == nil {
		t.Fatal("INSERT through d.ReaderForTest() succeeded, want a query_only error")
	}
	var n int
	if err := d.WriterForTest().QueryRowContext(ctx, `SELECT count(*) FROM facilities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("facilities after refused INSERT = %d, want 0", n)
	}
	// The writer does write, and the reader sees it.
	if _, err := d.WriterForTest().ExecContext(ctx, `INSERT INTO facilities(code, name, created_at) VALUES ('XX', 'Via W', ?)`, t0); err != nil {
		t.Fatalf("INSERT through d.WriterForTest(): %v", err)
	}
	if err := d.ReaderForTest().QueryRowContext(ctx, `SELECT count(*) FROM facilities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("facilities seen by d.ReaderForTest() = %d, want 1", n)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	f := newFixture(t)
	// A document of a visit that does not exist must be refused by SQLite
	// itself, whatever the code above it checks.
	_, err := f.d.WriterForTest().Exec(`INSERT INTO documents(visit_id, title, uploaded_at, uploaded_by) VALUES (9999, 'x', ?, ?)`,
		t0, f.staffID)
	if err == nil {
		t.Error("a document of a missing visit was inserted, want a foreign key error")
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fse.db")
	d, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	applied, latest, err := d.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest < 1 {
		t.Fatalf("latest = %d, want at least 1 embedded migration", latest)
	}
	if applied != latest {
		t.Errorf("after Open: applied = %d, want latest %d", applied, latest)
	}
	var rows int
	if err := d.ReaderForTest().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, cli, t0); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening must neither fail (the foundation's CREATE TABLEs would) nor
	// record the migrations again, and must keep the data.
	d2 := openPath(t, path)
	applied2, latest2, err := d2.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if applied2 != applied || latest2 != latest {
		t.Errorf("after reopen: (applied, latest) = (%d, %d), want (%d, %d)", applied2, latest2, applied, latest)
	}
	var rows2 int
	if err := d2.ReaderForTest().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows2); err != nil {
		t.Fatal(err)
	}
	if rows2 != rows {
		t.Errorf("schema_migrations rows after reopen = %d, want %d", rows2, rows)
	}
	fs, err := d2.Facilities(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Code != "MN" {
		t.Errorf("facilities after reopen = %+v, want the one MN", fs)
	}
}

func TestAcceptAccessionSequence(t *testing.T) {
	f := newFixture(t)
	cr := createFacility(t, f.d, "CR")
	nextYear := time.Date(2027, time.January, 2, 8, 0, 0, 0, time.UTC)
	steps := []struct {
		facility int64
		now      time.Time
		want     string
	}{
		{f.facilityID, t0, "MN-2026-00001"},
		{f.facilityID, t0.Add(time.Hour), "MN-2026-00002"},
		{cr, t0.Add(2 * time.Hour), "CR-2026-00001"},
		{f.facilityID, t0.Add(3 * time.Hour), "MN-2026-00003"},
		{cr, t0.Add(4 * time.Hour), "CR-2026-00002"},
		{f.facilityID, nextYear, "MN-2027-00001"},
		{cr, nextYear.Add(time.Hour), "CR-2027-00001"},
		{f.facilityID, nextYear.Add(2 * time.Hour), "MN-2027-00002"},
	}
	for i, s := range steps {
		v := f.accept(t, s.facility, patient(i), s.now)
		if got := v.AccessionNumber(); got != s.want {
			t.Errorf("step %d: accession = %q, want %q", i, got, s.want)
		}
		if v.FacilityID != s.facility {
			t.Errorf("step %d: facility = %d, want %d", i, v.FacilityID, s.facility)
		}
		if !v.CodeActive(s.now) {
			t.Errorf("step %d: visit has no active activation code", i)
		}
	}
}

func TestAcceptSamePatientTwice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := patient(0)
	v1 := f.accept(t, f.facilityID, p, t0)
	p.Mobile = "+393479999999"
	v2 := f.accept(t, f.facilityID, p, t0.Add(time.Hour))
	if v1.PatientID != v2.PatientID {
		t.Fatalf("same codice fiscale gave patients %d and %d, want one", v1.PatientID, v2.PatientID)
	}
	got, err := f.d.Patient(ctx, v1.PatientID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mobile != p.Mobile {
		t.Errorf("mobile after second acceptance = %q, want %q", got.Mobile, p.Mobile)
	}
	visits, err := f.d.PatientVisits(ctx, v1.PatientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 2 || visits[0].ID != v2.ID {
		t.Errorf("PatientVisits = %d visits (first %v), want 2, newest first", len(visits), visits)
	}
}

func TestAcceptInactiveFacility(t *testing.T) {
	f := newFixture(t)
	if err := f.d.SetFacilityActive(context.Background(), f.facilityID, false, cli, t0); err != nil {
		t.Fatal(err)
	}
	_, err := f.d.Accept(context.Background(), db.Acceptance{Patient: patient(0), FacilityID: f.facilityID,
		Exams: []string{"ECG"}, CodeMAC: randomMAC(t)}, f.desk, t0)
	if !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Accept at a disabled facility: err = %v, want ErrNotFound", err)
	}
}

func TestErrorMapping(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Doppione"}, cli, t0)
	if !errors.Is(err, db.ErrConflict) {
		t.Errorf("duplicate facility code: err = %v, want ErrConflict", err)
	}
	_, err = f.d.CreateStaff(ctx, db.Staff{Username: "SPORTELLO", Role: db.RoleReception, PasswordHash: "x"}, cli, t0)
	if !errors.Is(err, db.ErrConflict) {
		t.Errorf("duplicate username (other case): err = %v, want ErrConflict", err)
	}
	if _, err := f.d.Patient(ctx, 424242); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Patient(missing): err = %v, want ErrNotFound", err)
	}
	if _, err := f.d.Visit(ctx, 424242); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Visit(missing): err = %v, want ErrNotFound", err)
	}
	if _, err := f.d.StaffByUsername(ctx, "nessuno"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("StaffByUsername(missing): err = %v, want ErrNotFound", err)
	}
	if _, err := f.d.Document(ctx, 424242); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Document(missing): err = %v, want ErrNotFound", err)
	}
	// A check constraint is not a conflict.
	_, err = f.d.CreateFacility(ctx, db.Facility{Code: "TOOLONGCODE", Name: "x"}, cli, t0)
	if err == nil || errors.Is(err, db.ErrConflict) {
		t.Errorf("facility code too long: err = %v, want a non-conflict error", err)
	}
}

func TestThrottle(t *testing.T) {
	th := db.Throttle{MaxFailures: 10, Window: 15 * time.Minute, LockFor: 30 * time.Minute}
	ctx := context.Background()

	locked := func(t *testing.T, d *db.DB, key string, now time.Time) bool {
		t.Helper()
		until, err := d.LockedUntil(ctx, key, now)
		if err != nil {
			t.Fatalf("LockedUntil: %v", err)
		}
		return !until.IsZero()
	}
	// fail claims an attempt that then fails, and returns the lock it left.
	fail := func(t *testing.T, d *db.DB, key string, now time.Time) time.Time {
		t.Helper()
		if _, err := d.ClaimAttempt(ctx, th, key, now); err != nil {
			t.Fatalf("ClaimAttempt: %v", err)
		}
		until, err := d.LockedUntil(ctx, key, now)
		if err != nil {
			t.Fatalf("LockedUntil: %v", err)
		}
		return until
	}

	t.Run("locks at MaxFailures and unlocks after LockFor", func(t *testing.T) {
		d := openDB(t)
		now := t0
		for i := 1; i < th.MaxFailures; i++ {
			now = now.Add(time.Second)
			if until := fail(t, d, "capo", now); !until.IsZero() {
				t.Fatalf("failure %d locked until %v, want no lock", i, until)
			}
			if locked(t, d, "capo", now) {
				t.Fatalf("locked after %d failures, want not locked", i)
			}
		}
		now = now.Add(time.Second)
		until := fail(t, d, "capo", now)
		if want := now.Add(th.LockFor); !until.Equal(want) {
			t.Fatalf("failure %d: locked until %v, want %v", th.MaxFailures, until, want)
		}
		got, err := d.LockedUntil(ctx, "capo", now)
		if err != nil {
			t.Fatal(err)
		}
		if !got.After(now) || !got.Equal(until) {
			t.Errorf("LockedUntil = %v, want %v (after now)", got, until)
		}
		if locked(t, d, "altro", now) {
			t.Error("another key is locked too, want keys independent")
		}
		if !locked(t, d, "capo", until.Add(-time.Second)) {
			t.Error("not locked a second before the lock ends")
		}
		if locked(t, d, "capo", until.Add(time.Second)) {
			t.Error("still locked after LockFor passed")
		}
	})

	t.Run("failures older than Window are forgotten", func(t *testing.T) {
		d := openDB(t)
		now := t0
		for range th.MaxFailures - 1 {
			fail(t, d, "cf", now)
		}
		now = now.Add(th.Window + time.Minute)
		if until := fail(t, d, "cf", now); !until.IsZero() {
			t.Fatalf("failure after the window locked until %v, want old failures forgotten", until)
		}
		for i := 2; i < th.MaxFailures; i++ {
			if until := fail(t, d, "cf", now.Add(time.Duration(i)*time.Second)); !until.IsZero() {
				t.Fatalf("failure %d of the new window locked, want not yet", i)
			}
		}
		if until := fail(t, d, "cf", now.Add(time.Minute)); until.IsZero() {
			t.Error("failure 10 of the new window did not lock")
		}
	})

	t.Run("ClearFailures resets", func(t *testing.T) {
		d := openDB(t)
		for i := range th.MaxFailures - 1 {
			fail(t, d, "cf", t0.Add(time.Duration(i)*time.Second))
		}
		if err := d.ClearFailures(ctx, "cf"); err != nil {
			t.Fatal(err)
		}
		if until := fail(t, d, "cf", t0.Add(time.Minute)); !until.IsZero() {
			t.Errorf("failure after ClearFailures locked until %v, want the count reset", until)
		}
		// Clearing also lifts an existing lock.
		for i := range th.MaxFailures {
			fail(t, d, "lk", t0.Add(time.Duration(i)*time.Second))
		}
		if !locked(t, d, "lk", t0.Add(time.Minute)) {
			t.Fatal("not locked after MaxFailures")
		}
		if err := d.ClearFailures(ctx, "lk"); err != nil {
			t.Fatal(err)
		}
		if locked(t, d, "lk", t0.Add(time.Minute)) {
			t.Error("still locked after ClearFailures")
		}
	})
}

// TestLockedUntilFailsClosed: a lockout check that cannot read the database
// must say so, not report "not locked" (which would let a brute force go on).
func TestLockedUntilFailsClosed(t *testing.T) {
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "fse.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	until, err := d.LockedUntil(context.Background(), "capo", t0)
	if err == nil {
		t.Errorf("LockedUntil on a closed database = (%v, nil), want an error", until)
	}
}

func TestBackup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.accept(t, f.facilityID, patient(0), t0)
	dest := filepath.Join(t.TempDir(), "copia.db")
	if _, err := f.d.Backup(ctx, dest); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	c, err := sql.Open("sqlite", "file:"+dest+"?_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Errorf("integrity_check of the copy = %q, want ok", res)
	}
	for _, table := range []string{"facilities", "staff", "patients", "visits", "activation_codes", "schema_migrations"} {
		var got, want int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
			t.Fatalf("copy: %v", err)
		}
		if err := f.d.ReaderForTest().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want || want == 0 {
			t.Errorf("copy has %d rows in %s, want %d (> 0)", got, table, want)
		}
	}

	// The copy opens as a regular fse database.
	d2 := openPath(t, dest)
	if _, err := d2.StaffByUsername(ctx, "sportello"); err != nil {
		t.Errorf("staff in the copy: %v", err)
	}

	// An existing destination is never overwritten.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dest), "esiste.db"), []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Backup(ctx, filepath.Join(filepath.Dir(dest), "esiste.db")); err == nil {
		t.Error("Backup over an existing non-empty file succeeded, want an error")
	}
}

// TestOpenPathWithURICharacters: --db is a file path, not a URI. A path with
// characters that are special in a "file:" URI ('#', '?', '%') must open that
// very file, never another one, and Backup must check the copy it wrote.
func TestOpenPathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	// Subtest names stay plain: t.TempDir() embeds them in the path.
	tests := []struct{ name, dir string }{
		{"hash", "sede#2"},
		{"question mark", "referti?vecchi"},
		{"percent escape", "quota%20"},
		{"percent", "cento%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, tt.dir)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			strays := func(when string) {
				t.Helper()
				entries, err := os.ReadDir(root)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if e.Name() != tt.dir {
						t.Errorf("%s: stray file %q created next to %q", when, e.Name(), tt.dir)
					}
				}
			}
			path := filepath.Join(dir, "fse.db")
			d, err := db.Open(ctx, path, db.Options{})
			if err != nil {
				t.Fatalf("db.Open(%q): %v", path, err)
			}
			defer d.Close()
			if _, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, cli, t0); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database not at %q: %v", path, err)
			}
			strays("after Open")
			if _, err := d.Backup(ctx, filepath.Join(dir, "copia.db")); err != nil {
				t.Fatalf("Backup: %v", err)
			}
			strays("after Backup")
		})
	}
}

// TestPublishDoesNotReviveExpiredCode: a report published after a slip's
// code expired (90 days without reports) leaves that code expired, while a
// live code is extended to the report's expiry.
func TestPublishDoesNotReviveExpiredCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		after      time.Duration
		wantUsable bool
	}{
		{"published while the code lives", 10 * 24 * time.Hour, true},
		{"published after the code expired", db.ActivationCodeLifetime + time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mac := randomMAC(t)
			v, err := f.d.Accept(ctx, db.Acceptance{Patient: patient(int(tt.after % 7)), FacilityID: f.facilityID,
				Exams: []string{"Emocromo"}, CodeMAC: mac}, f.desk, t0)
			if err != nil {
				t.Fatal(err)
			}
			f.store(t, v.ID, []byte("0123456789"))
			at := t0.Add(tt.after)
			if _, err := f.d.PublishVisit(ctx, v.ID, 60*24*time.Hour, db.Notice{}, f.desk, at); err != nil {
				t.Fatal(err)
			}
			st, err := f.d.CodeByMAC(ctx, mac)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Usable(at); got != tt.wantUsable {
				t.Errorf("code usable after publishing = %v, want %v (expires %v)", got, tt.wantUsable, st.ExpiresAt)
			}
		})
	}
}
