package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/demo"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// syncBuffer is a bytes.Buffer safe for the server's and the cron's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what a command run left behind.
type result struct {
	code           int
	stdout, stderr string
}

// invocation describes one run of the command line.
type invocation struct {
	args  []string
	stdin string
	env   map[string]string
	ready func(addr string)
}

// newEnv builds an env over buffers; getenv reads only vars, never the
// real environment, so FSE_* set on the developer's machine cannot leak in.
func newEnv(stdin string, vars map[string]string, stdout, stderr io.Writer, ready func(string)) env {
	return env{
		stdin:  strings.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		getenv: func(k string) string { return vars[k] },
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		ready:  ready,
	}
}

func runIn(ctx context.Context, t *testing.T, inv invocation) result {
	t.Helper()
	var stdout, stderr syncBuffer
	code := runEnv(ctx, inv.args, newEnv(inv.stdin, inv.env, &stdout, &stderr, inv.ready))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func runCmd(t *testing.T, inv invocation) result {
	t.Helper()
	return runIn(context.Background(), t, inv)
}

// safeEnv points every default file at a temp dir, so a command that
// wrongly falls through to its defaults cannot write into the repository.
func safeEnv(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	return map[string]string{
		"FSE_DB":   filepath.Join(dir, "default.db"),
		"FSE_OUT":  filepath.Join(dir, "default-out.db"),
		"FSE_ADDR": "127.0.0.1:0",
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout or stderr
	}{
		{"no args", nil, exitUsage, "Usage: fse COMMAND"},
		{"--help", []string{"--help"}, 0, "Usage: fse COMMAND"},
		{"-h", []string{"-h"}, 0, "Usage: fse COMMAND"},
		{"help", []string{"help"}, 0, "Usage: fse COMMAND"},
		{"unknown command", []string{"nope"}, exitUsage, `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, invocation{args: tt.args, env: safeEnv(t)})
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if out := r.stdout + r.stderr; !strings.Contains(out, tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
			// The usage lists every command.
			if out := r.stdout + r.stderr; tt.wantOut == "Usage: fse COMMAND" {
				for _, c := range commands() {
					if !strings.Contains(out, "  "+c.name+" ") {
						t.Errorf("usage lacks command %q", c.name)
					}
				}
			}
		})
	}
}

func TestSubcommandHelp(t *testing.T) {
	tests := []struct {
		args    []string
		wantOut string
	}{
		{[]string{"serve", "--help"}, "Usage: fse serve"},
		{[]string{"serve", "-h"}, "-retention-days int"},
		{[]string{"demo", "--help"}, "Usage: fse demo"},
		{[]string{"migrate", "--help"}, "Usage: fse migrate"},
		{[]string{"staff", "add", "--help"}, "--password-stdin"},
		{[]string{"staff", "--help"}, "fse staff add"},
		{[]string{"backup", "--help"}, "Usage: fse backup"},
		{[]string{"jobs", "--help"}, "fse jobs run"},
		{[]string{"jobs", "run", "--help"}, "fse jobs run"},
		{[]string{"jobs", "run", "expire", "--help"}, "Usage: fse jobs run"},
		{[]string{"example-db", "--help"}, "Usage: fse example-db"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			vars := safeEnv(t)
			r := runCmd(t, invocation{args: tt.args, env: vars})
			if r.code != 0 {
				t.Errorf("exit code = %d, want 0 (stderr %q)", r.code, r.stderr)
			}
			if out := r.stdout + r.stderr; !strings.Contains(out, tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
			// Asking for help never touches a database.
			for _, k := range []string{"FSE_DB", "FSE_OUT"} {
				if _, err := os.Stat(vars[k]); err == nil {
					t.Errorf("--help created %s", vars[k])
				}
			}
		})
	}
}

func TestServeBadCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr []string
	}{
		{"unknown flag", []string{"serve", "--bogus"}, nil,
			[]string{"flag provided but not defined: -bogus", "Run 'fse serve --help'"}},
		{"retention 0", []string{"serve", "--retention-days", "0"}, nil, []string{"--retention-days must be between 1 and 365"}},
		{"retention 366", []string{"serve", "--retention-days", "366"}, nil, []string{"--retention-days must be between 1 and 365"}},
		{"retention not a number", []string{"serve", "--retention-days", "tanti"}, nil, []string{"retention-days"}},
		{"base url not a url", []string{"serve", "--base-url", "notaurl"}, nil, []string{"--base-url must be an absolute http(s) URL", "notaurl"}},
		{"base url ftp", []string{"serve", "--base-url", "ftp://referti.example.it"}, nil, []string{"--base-url"}},
		{"base url with query", []string{"serve", "--base-url", "https://referti.example.it/?a=1"}, nil, []string{"--base-url"}},
		{"upload limit abc", []string{"serve", "--upload-limit", "abc"}, nil, []string{"upload-limit", "positive size"}},
		{"upload limit zero", []string{"serve", "--upload-limit", "0"}, nil, []string{"upload-limit"}},
		{"upload limit too big", []string{"serve", "--upload-limit", "2GiB"}, nil, []string{"--upload-limit must be at most 1GiB"}},
		{"bad addr", []string{"serve", "--addr", "localhost"}, nil, []string{"--addr must be host:port"}},
		{"bad trusted proxy", []string{"serve", "--trusted-proxy", "10.0.0.1"}, nil, []string{"not a CIDR"}},
		{"stray argument", []string{"serve", "adesso"}, nil, []string{"unexpected arguments"}},
		{"FSE_RETENTION_DAYS=abc", []string{"serve"}, map[string]string{"FSE_RETENTION_DAYS": "abc"},
			[]string{"FSE_RETENTION_DAYS", `"abc"`}},
		{"FSE_RETENTION_DAYS=0", []string{"serve"}, map[string]string{"FSE_RETENTION_DAYS": "0"}, []string{"--retention-days"}},
		{"FSE_UPLOAD_LIMIT=abc", []string{"serve"}, map[string]string{"FSE_UPLOAD_LIMIT": "abc"}, []string{"FSE_UPLOAD_LIMIT"}},
		{"FSE_BASE_URL=notaurl", []string{"serve"}, map[string]string{"FSE_BASE_URL": "notaurl"}, []string{"--base-url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t)
			for k, v := range tt.env {
				vars[k] = v
			}
			// A cancelled context: should validation let a bad line through,
			// the server fails fast (exit 1) instead of running forever.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := runIn(ctx, t, invocation{args: tt.args, env: vars})
			if r.code != exitUsage {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, exitUsage, r.stderr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q lacks %q", r.stderr, want)
				}
			}
			if _, err := os.Stat(vars["FSE_DB"]); err == nil {
				t.Error("a refused command line created the database")
			}
		})
	}
}

func TestByteSizeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"20MiB", 20 << 20, true},
		{"20 MiB", 20 << 20, true},
		{"500KB", 500_000, true},
		{"1GiB", 1 << 30, true},
		{"3GB", 3_000_000_000, true},
		{"512B", 512, true},
		{"abc", 0, false},
		{"0", 0, false},
		{"-5MiB", 0, false},
		{"", 0, false},
		{"MiB", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b byteSize
			err := b.Set(tt.in)
			if got := err == nil; got != tt.ok {
				t.Fatalf("Set(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && int64(b) != tt.want {
				t.Errorf("Set(%q) = %d, want %d", tt.in, b, tt.want)
			}
		})
	}
}

func TestCIDRListFlag(t *testing.T) {
	var c cidrList
	if err := c.Set("10.0.0.1/32, 192.168.0.0/16,,"); err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "10.0.0.1/32,192.168.0.0/16"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := c.Set("10.0.0.1"); err == nil {
		t.Error("Set(10.0.0.1) succeeded, want a CIDR error")
	}
}

func TestHandlerConfigWarnings(t *testing.T) {
	tests := []struct {
		name      string
		c         serverConfig
		wantWarns []string
	}{
		{"compliant", serverConfig{baseURL: "https://referti.example.it", retentionDays: 45}, nil},
		{"long retention", serverConfig{baseURL: "https://referti.example.it", retentionDays: 50}, []string{"50 giorni", "Garante"}},
		{"plain http", serverConfig{baseURL: "http://referti.example.it", retentionDays: 30}, []string{"HTTPS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := tt.c.handlerConfig()
			all := strings.Join(hc.Warnings, "\n")
			if len(tt.wantWarns) == 0 && len(hc.Warnings) != 0 {
				t.Errorf("warnings = %q, want none", hc.Warnings)
			}
			for _, w := range tt.wantWarns {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", all, w)
				}
			}
		})
	}
}

func TestDefaultKeyFile(t *testing.T) {
	tests := []struct{ db, want string }{
		{"fse.db", "fse.key"},
		{"/var/lib/fse/referti.sqlite", "/var/lib/fse/referti.key"},
		{"dati/fse", "dati/fse.key"},
	}
	for _, tt := range tests {
		if got := defaultKeyFile(tt.db); got != tt.want {
			t.Errorf("defaultKeyFile(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}

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
		d := openDB(t, path)
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
	d := openDB(t, path)
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

func openDB(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, db.Options{})
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

	d := openDB(t, path)
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

	d := openDB(t, dest)
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
	d := openDB(t, out)
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

// server is a `fse serve` running in a goroutine.
type server struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	stderr *syncBuffer
	stdout *syncBuffer
}

// startCmd runs args in a goroutine and waits until the server is ready or
// the command has exited; it returns the exit code in the latter case.
func startCmd(t *testing.T, args []string, vars map[string]string) (*server, int, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, done: make(chan int, 1), stderr: &syncBuffer{}, stdout: &syncBuffer{}}
	ready := make(chan string, 1)
	e := newEnv("", vars, s.stdout, s.stderr, func(addr string) { ready <- addr })
	go func() { s.done <- runEnv(ctx, args, e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	})
	select {
	case s.addr = <-ready:
		return s, 0, true
	case code := <-s.done:
		s.done <- code
		return s, code, false
	case <-time.After(30 * time.Second):
		t.Fatalf("%v: not ready after 30s; stderr %q", args, s.stderr.String())
	}
	return nil, 0, false
}

// stop cancels the context and returns the exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code
		return code
	case <-time.After(5 * time.Second):
		t.Fatalf("server did not stop within 5s of cancel; stderr %q", s.stderr.String())
	}
	return -1
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "s.db"), filepath.Join(dir, "s.key")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it", "--retention-days", "50"}

	s, code, ok := startCmd(t, args, nil)
	if !ok {
		t.Fatalf("serve exited with %d before listening; stderr %q", code, s.stderr.String())
	}

	status, body := get(t, "http://"+s.addr+"/healthz")
	if status != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", status)
	}
	var health map[string]string
	if err := json.Unmarshal(body, &health); err != nil || health["status"] != "ok" || len(health) != 1 {
		t.Errorf(`GET /healthz body = %s, want {"status":"ok"}`, body)
	}
	if status, _ := get(t, "http://"+s.addr+"/desk/login"); status != http.StatusOK {
		t.Errorf("GET /desk/login = %d, want 200", status)
	}

	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", got)
	}
	if _, err := sealbox.LoadKeyFile(keyPath); err != nil {
		t.Errorf("key file does not load: %v", err)
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("serve exit code after cancel = %d, want 0 (stderr %q)", code, s.stderr.String())
	}
	logs := s.stderr.String()
	for _, want := range []string{"retention above the Garante's guideline", "retention_days=50", "guideline_days=45",
		"created a new master key file", "listening", "shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	// The server is really gone.
	if _, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
		t.Error("server still answers after stop")
	}

	// A restart reuses the key file rather than creating another.
	key1, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s2, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it",
		"--retention-days", "30"}, nil)
	if !ok {
		t.Fatalf("second serve exited with %d; stderr %q", code, s2.stderr.String())
	}
	if code := s2.stop(t); code != 0 {
		t.Errorf("second serve exit = %d", code)
	}
	if key2, _ := os.ReadFile(keyPath); !bytes.Equal(key1, key2) {
		t.Error("the key file changed on restart")
	}
	if logs := s2.stderr.String(); strings.Contains(logs, "created a new master key file") || strings.Contains(logs, "Garante") {
		t.Errorf("second start (retention 30, existing key) logged:\n%s", logs)
	}
}

func TestServeFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"FSE_ADDR":     "127.0.0.1:0",
		"FSE_DB":       filepath.Join(dir, "env.db"),
		"FSE_KEY_FILE": filepath.Join(dir, "segreta", "..", "chiave.key"),
		"FSE_BASE_URL": "https://referti.example.it",
	}
	s, code, ok := startCmd(t, []string{"serve"}, vars)
	if !ok {
		t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
	}
	if status, _ := get(t, "http://"+s.addr+"/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz = %d", status)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit = %d", code)
	}
	if _, err := os.Stat(vars["FSE_DB"]); err != nil {
		t.Errorf("FSE_DB not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "chiave.key")); err != nil {
		t.Errorf("FSE_KEY_FILE not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "env.key")); err == nil {
		t.Error("default key file created although FSE_KEY_FILE was set")
	}
	// The default retention (60) is above the guideline: warned.
	if !strings.Contains(s.stderr.String(), "retention above the Garante's guideline") {
		t.Error("default retention 60 not warned about")
	}
}

func TestServeRefusesMissingKeyWithDocuments(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "s.db"), filepath.Join(dir, "s.key")
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, d, demo.Keys(), hasher, time.Now(), 45*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Close()

	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it",
		"--retention-days", "45"}, nil)
	if ok {
		s.stop(t)
		t.Fatal("serve started over encrypted reports without their key file")
	}
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	stderr := s.stderr.String()
	for _, want := range []string{"key file", keyPath, "refusing to start"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a new key file was created, which would make the stored reports unreadable")
	}
}

func TestServeRefusesUnsafeKeyFile(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "s.db"), filepath.Join(dir, "s.key")
	if _, err := sealbox.CreateKeyFile(keyPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keyPath)
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--base-url", "https://referti.example.it",
		"--retention-days", "45"}, nil)
	if ok {
		s.stop(t)
		t.Fatal("serve started with a world-readable key file")
	}
	if code != 1 || !strings.Contains(s.stderr.String(), "chmod 600") {
		t.Errorf("exit %d, stderr %q; want 1 and a chmod hint", code, s.stderr.String())
	}
	if after, _ := os.ReadFile(keyPath); !bytes.Equal(before, after) {
		t.Error("the key file was replaced")
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
