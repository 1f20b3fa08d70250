package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/demo"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// Tests of the other commands: migrate, staff add, backup, jobs run,
// example-db and demo.

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	t.Run("from FSE_DB", func(t *testing.T) {
		path := filepath.Join(dir, "x.db")
		r := runCmd(t, invocation{args: []string{"migrate"}, env: map[string]string{"FSE_DB": path}})
		if r.code != 0 {
			t.Fatalf("exit code = %d, want 0 (stderr %q)", r.code, r.stderr)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("FSE_DB file not created: %v", err)
		}
		d := testkit.OpenPath(t, path)
		applied, latest, err := d.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if applied != latest {
			t.Errorf("applied %d, latest %d", applied, latest)
		}
		want := path + ": schema version " + strconv.Itoa(latest) + " (latest " + strconv.Itoa(latest) + ")"
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout = %q, want it to contain %q", r.stdout, want)
		}
		// Running again is a no-op.
		if r := runCmd(t, invocation{args: []string{"migrate"}, env: map[string]string{"FSE_DB": path}}); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("second migrate: code %d stdout %q", r.code, r.stdout)
		}
	})
	t.Run("flag beats FSE_DB", func(t *testing.T) {
		flagPath, envPath := filepath.Join(dir, "flag.db"), filepath.Join(dir, "env.db")
		r := runCmd(t, invocation{args: []string{"migrate", "--db", flagPath}, env: map[string]string{"FSE_DB": envPath}})
		if r.code != 0 {
			t.Fatalf("exit code = %d (stderr %q)", r.code, r.stderr)
		}
		if _, err := os.Stat(flagPath); err != nil {
			t.Errorf("--db file not created: %v", err)
		}
		if _, err := os.Stat(envPath); err == nil {
			t.Error("FSE_DB was used although --db was given")
		}
	})
}

func TestMigrateStatus(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fse.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, invocation{args: []string{"migrate", "--status", "--db", path}})
	if r.code != 0 || !strings.Contains(r.stdout, "001_foundation.sql") || !strings.Contains(r.stdout, "pending") ||
		!strings.Contains(r.stdout, ": 0 applied, ") {
		t.Fatalf("status of an empty file: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := testkit.Count(t, openDBNoMigrate(t, path), `SELECT count(*) FROM sqlite_master`); n != 0 {
		t.Errorf("--status created %d schema objects, want none", n)
	}
	if r := runCmd(t, invocation{args: []string{"migrate", "--db", path}}); r.code != 0 {
		t.Fatalf("migrate: code %d stderr %q", r.code, r.stderr)
	}
	r = runCmd(t, invocation{args: []string{"migrate", "--status", "--db", path}})
	if r.code != 0 || regexp.MustCompile(`\.sql +pending`).MatchString(r.stdout) || !strings.Contains(r.stdout, " 0 pending") {
		t.Errorf("status after migrate: code %d stdout %q", r.code, r.stdout)
	}
	if r := runCmd(t, invocation{args: []string{"migrate", "--status", "--db", filepath.Join(dir, "missing.db")}}); r.code == 0 {
		t.Error("status of a missing file succeeded; it must not create one")
	}
}

// An older binary after a rollback must not run on a schema it does not know.
func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fse.db")
	d := testkit.OpenPath(t, path)
	if _, err := testkit.Raw(t, d).Exec(`INSERT INTO schema_migrations(version, applied_at) VALUES (999, '2027-01-01 00:00:00')`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, args := range [][]string{{"migrate", "--db", path}, {"serve", "--db", path, "--addr", "127.0.0.1:0"}} {
		r := runCmd(t, invocation{args: args})
		if r.code != 1 || !strings.Contains(r.stderr, "newer than this binary") || !strings.Contains(r.stderr, "999") {
			t.Errorf("%v: code %d stderr %q, want 1 and a clear refusal", args, r.code, r.stderr)
		}
	}
	r := runCmd(t, invocation{args: []string{"migrate", "--status", "--db", path}})
	if !strings.Contains(r.stdout, "999_(unknown)") || !strings.Contains(r.stdout, "newer fse") {
		t.Errorf("status: stdout %q, want the unknown migration named", r.stdout)
	}
}

func openDBNoMigrate(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatalf("db.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestStaffAdd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staff.db")
	add := func(stdin string, args ...string) result {
		t.Helper()
		return runCmd(t, invocation{args: append([]string{"staff", "add", "--db", path}, args...), stdin: stdin})
	}

	r := add("una-password-lunga\n", "--username", "capo", "--role", "admin", "--name", "Capo Sala", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("staff add: exit code = %d, want 0 (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"capo"`) {
		t.Errorf("stdout = %q, want it to name the new member", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "una-password-lunga") {
		t.Error("the password was echoed")
	}

	// CRLF line ending and a password without a final newline.
	if r := add("altra-password-lunga\r\n", "--username", "desk1", "--role", "reception", "--password-stdin"); r.code != 0 {
		t.Fatalf("staff add with CRLF: exit %d (stderr %q)", r.code, r.stderr)
	}
	if r := add("terza-password-lunga", "--username", "desk2", "--role", "reception", "--password-stdin"); r.code != 0 {
		t.Fatalf("staff add without newline: exit %d (stderr %q)", r.code, r.stderr)
	}

	fails := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"short password", "corta\n", []string{"--username", "breve", "--role", "admin", "--password-stdin"}, exitUsage, "at least 12"},
		{"empty stdin", "", []string{"--username", "vuoto", "--role", "admin", "--password-stdin"}, exitUsage, "no password"},
		{"missing --password-stdin", "una-password-lunga\n", []string{"--username", "nostdin", "--role", "admin"}, exitUsage, "--password-stdin is required"},
		{"bad role", "una-password-lunga\n", []string{"--username", "ruolo", "--role", "root", "--password-stdin"}, exitUsage, "--role must be admin or reception"},
		{"bad username", "una-password-lunga\n", []string{"--username", "c a p o", "--role", "admin", "--password-stdin"}, exitUsage, "--username"},
		{"password as flag", "", []string{"--username", "flag", "--role", "admin", "--password", "una-password-lunga"}, exitUsage, "not defined"},
		{"duplicate username", "un-altra-password\n", []string{"--username", "capo", "--role", "reception", "--password-stdin"}, 1, `"capo" already exists`},
		{"duplicate username other case", "un-altra-password\n", []string{"--username", "CAPO", "--role", "reception", "--password-stdin"}, 1, "already exists"},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			r := add(tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.wantErr)
			}
		})
	}

	d := testkit.OpenPath(t, path)
	ctx := context.Background()
	hasher, err := password.NewHasher(password.Params, 1)
	if err != nil {
		t.Fatal(err)
	}
	members := []struct{ user, role, pw string }{
		{"capo", db.RoleAdmin, "una-password-lunga"},
		{"desk1", db.RoleReception, "altra-password-lunga"},
		{"desk2", db.RoleReception, "terza-password-lunga"},
	}
	for _, m := range members {
		st, err := d.StaffByUsername(ctx, m.user)
		if err != nil {
			t.Errorf("staff %q: %v", m.user, err)
			continue
		}
		if st.Role != m.role || !st.Active {
			t.Errorf("staff %q: role %q active %v, want %q active", m.user, st.Role, st.Active, m.role)
		}
		if wantPrefix := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(st.PasswordHash, wantPrefix) {
			t.Errorf("staff %q: hash %q, want an argon2id PHC string starting %q", m.user, st.PasswordHash, wantPrefix)
		}
		if ok, _, err := hasher.Verify(ctx, m.pw, st.PasswordHash); err != nil || !ok {
			t.Errorf("staff %q: password %q does not verify (ok=%v err=%v)", m.user, m.pw, ok, err)
		}
	}
	if st, _ := d.StaffByUsername(ctx, "capo"); st.DisplayName != "Capo Sala" || st.Role != db.RoleAdmin {
		t.Errorf("capo = %+v after a refused duplicate, want the original admin", st)
	}
	list, err := d.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(members) {
		t.Errorf("staff rows = %d, want %d (refused adds must not write)", len(list), len(members))
	}
}

// seedStaffDB makes a database with one staff member through the CLI.
func seedStaffDB(t *testing.T, path string) {
	t.Helper()
	r := runCmd(t, invocation{args: []string{"staff", "add", "--db", path, "--username", "capo", "--role", "admin", "--password-stdin"},
		stdin: "una-password-lunga\n"})
	if r.code != 0 {
		t.Fatalf("staff add: exit %d (stderr %q)", r.code, r.stderr)
	}
}

func TestBackup(t *testing.T) {
	srcDir, destDir := t.TempDir(), t.TempDir()
	src := filepath.Join(srcDir, "fse.db")
	seedStaffDB(t, src)
	if _, err := sealbox.CreateKeyFile(defaultKeyFile(src)); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(destDir, "backup-2026-03-10.db")

	// Flags after the destination are not parsed: refused, nothing written.
	r := runCmd(t, invocation{args: []string{"backup", dest, "--db", src}, env: safeEnv(t)})
	if r.code != exitUsage {
		t.Errorf("backup DEST --db X: exit %d, want %d", r.code, exitUsage)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("backup with misplaced flags wrote DEST")
	}
	if r := runCmd(t, invocation{args: []string{"backup", "--db", src}, env: safeEnv(t)}); r.code != exitUsage {
		t.Errorf("backup without DEST: exit %d, want %d", r.code, exitUsage)
	}

	r = runCmd(t, invocation{args: []string{"backup", "--db", src, dest}})
	if r.code != 0 {
		t.Fatalf("backup: exit %d, want 0 (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "integrity ok") || !strings.Contains(r.stdout, "key file is not in it") {
		t.Errorf("stdout = %q, want integrity and key-file notes", r.stdout)
	}

	d := testkit.OpenPath(t, dest)
	ctx := context.Background()
	var check string
	if err := testkit.Raw(t, d).QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of the backup = %q, %v; want ok", check, err)
	}
	st, err := d.StaffByUsername(ctx, "capo")
	if err != nil {
		t.Fatalf("staff in the backup: %v", err)
	}
	if st.Role != db.RoleAdmin || !strings.HasPrefix(st.PasswordHash, "$argon2id$") {
		t.Errorf("backup staff row = %+v", st)
	}
	keys, err := filepath.Glob(filepath.Join(destDir, "*.key"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("key files next to the backup: %v, want none", keys)
	}

	before, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, invocation{args: []string{"backup", "--db", src, dest}})
	if r.code != exitUsage {
		t.Errorf("backup over an existing DEST: exit %d, want %d", r.code, exitUsage)
	}
	if !strings.Contains(r.stderr, "already exists") {
		t.Errorf("stderr = %q, want it to say DEST exists", r.stderr)
	}
	if after, _ := os.ReadFile(dest); !bytes.Equal(before, after) {
		t.Error("the existing backup was modified")
	}
}

func TestJobsRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"jobs", "run", "expire", "--db", path}, 0, "job expire done"},
		{[]string{"jobs", "run", "optimize", "--db", path}, 0, "job optimize done"},
		{[]string{"jobs", "run", "nope", "--db", path}, exitUsage, `unknown job "nope"`},
		{[]string{"jobs", "start", "expire"}, exitUsage, "want: fse jobs run NAME"},
		{[]string{"jobs"}, exitUsage, "want: fse jobs run NAME"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:min(3, len(tt.args))], " "), func(t *testing.T) {
			r := runCmd(t, invocation{args: tt.args, env: safeEnv(t)})
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if out := r.stdout + r.stderr; !strings.Contains(out, tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
		})
	}
}

func TestExampleDBCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "e.db")
	r := runCmd(t, invocation{args: []string{"example-db", "--out", out}, env: safeEnv(t)})
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0 (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "wrote "+out) {
		t.Errorf("stdout = %q", r.stdout)
	}
	if _, err := os.Stat(out + ".tmp"); err == nil {
		t.Error("temporary file left behind")
	}
	d := testkit.OpenPath(t, out)
	ctx := context.Background()
	fs, err := d.Facilities(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Errorf("facilities = %d, want 2", len(fs))
	}
	if err := demo.CheckCodes(ctx, d, demo.Keys()); err != nil {
		t.Errorf("CheckCodes on the rebuilt example: %v", err)
	}
	if _, err := d.StaffByUsername(ctx, demo.AdminUser); err != nil {
		t.Errorf("admin in the rebuilt example: %v", err)
	}
}

func TestDemoCommand(t *testing.T) {
	s, code, ok := startCmd(t, []string{"demo", "--addr", "127.0.0.1:0"}, nil)
	if !ok {
		t.Fatalf("demo exited with %d; stderr %q", code, s.stderr.String())
	}
	out := s.stdout.String()
	for _, want := range []string{demo.AdminUser, demo.AdminPassword, demo.ReceptionPassword, demo.Patients[0].Code,
		demo.Patients[0].FiscalCode()} {
		if !strings.Contains(out, want) {
			t.Errorf("demo banner lacks %q:\n%s", want, out)
		}
	}
	if status, _ := get(t, "http://"+s.addr+"/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz = %d", status)
	}
	if status, _ := get(t, "http://"+s.addr+"/desk/login"); status != http.StatusOK {
		t.Errorf("GET /desk/login = %d", status)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("demo exit = %d (stderr %q)", code, s.stderr.String())
	}
}

// TestJobsRunBesideABusyReader: `fse jobs run expire` while another process
// holds a read snapshot (a server's page, a backup) cannot truncate the
// WAL; the deletions are committed, so it exits 0 and says what happened.
func TestJobsRunBesideABusyReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	d := testkit.OpenPath(t, path)
	tx, err := testkit.Raw(t, d).Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM documents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, invocation{args: []string{"jobs", "run", "expire", "--db", path}})
	if r.code != 0 {
		t.Fatalf("jobs run expire beside a reader: exit %d (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "job expire done") || !strings.Contains(r.stdout, "in use by another process") {
		t.Errorf("stdout %q, want the job done and the WAL left to the other process", r.stdout)
	}
}
