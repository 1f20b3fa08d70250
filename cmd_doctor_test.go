package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// Tests of fse doctor: a sound deployment passes, and each broken one is
// named with what to do, and exits 1.

// deployment is a portal as an operator would have set it up: a database
// with an admin, its key file made by a first start, an SMS gateway and a
// mail server that answer.
type deployment struct {
	dir, db, key string
	sms          *httptest.Server
	smtp         net.Listener
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // as systemd's StateDirectoryMode=0700 makes it
		t.Fatal(err)
	}
	dep := &deployment{dir: dir, db: filepath.Join(dir, "fse.db"), key: filepath.Join(dir, "fse.key")}
	seedStaffDB(t, dep.db)
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dep.db, "--base-url", "https://referti.example.it",
		"--retention-days", "45"}, nil)
	if !ok {
		t.Fatalf("first start exited %d: %s", code, s.stderr.String())
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("first start: exit %d", code)
	}
	dep.sms = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(dep.sms.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	dep.smtp = ln
	return dep
}

// args are the flags of a sound configuration, then extra.
func (dep *deployment) args(extra ...string) []string {
	return append([]string{"doctor", "--db", dep.db, "--base-url", "https://referti.example.it", "--trusted-proxy", "127.0.0.1/32",
		"--retention-days", "45", "--min-free-space", "1MiB", "--sms-url", dep.sms.URL,
		"--smtp-url", "smtp://" + dep.smtp.Addr().String(), "--mail-from", "referti@example.it"}, extra...)
}

func TestDoctorPassesASoundDeployment(t *testing.T) {
	dep := newDeployment(t)
	r := runCmd(t, invocation{args: dep.args(), env: safeEnv(t)})
	if r.code != 0 || strings.Contains(r.stdout, "FIX") {
		t.Fatalf("doctor on a sound deployment: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"ok    database", "integrity ok", "ok    key file", "matches the database", "ok    files",
		"ok    disk", "ok    https", "behind a reverse proxy", "ok    sms", "answers", "ok    email", "ok    retention", "ok    staff",
		"0 to fix"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor's report lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDoctorWarnsWithoutFailing(t *testing.T) {
	dep := newDeployment(t)
	// 60 days is the clinic's leaflet; the Garante says 45: a warning.
	r := runCmd(t, invocation{args: dep.args("--retention-days", "60", "--staff-mfa", "off"), env: safeEnv(t)})
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 for warnings alone\n%s", r.code, r.stdout)
	}
	for _, want := range []string{"WARN  retention", "--retention-days 45", "WARN  staff", "--staff-mfa off",
		"WARN  replication", "no continuous replica"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDoctorSaysWhatToFix(t *testing.T) {
	ca := newTestCA(t)
	// "<db>" in want stands for the deployment's database.
	tests := []struct {
		name string
		// spoil breaks the deployment and returns the flags to add.
		spoil func(t *testing.T, dep *deployment) []string
		want  []string
	}{
		{"no database", func(t *testing.T, dep *deployment) []string {
			return []string{"--db", filepath.Join(dep.dir, "altro.db")}
		}, []string{"FIX   database", "altro.db", "check --db"}},
		{"key file missing", func(t *testing.T, dep *deployment) []string {
			if err := os.Remove(dep.key); err != nil {
				t.Fatal(err)
			}
			return nil
		}, []string{"FIX   key file", "is missing", "restore the key file"}},
		{"another key file", func(t *testing.T, dep *deployment) []string {
			other := filepath.Join(dep.dir, "altra.key")
			if _, err := sealbox.CreateKeyFile(other); err != nil {
				t.Fatal(err)
			}
			return []string{"--key-file", other}
		}, []string{"FIX   key file", "is not the key this database was written with"}},
		{"database readable by all", func(t *testing.T, dep *deployment) []string {
			if err := os.Chmod(dep.db, 0o644); err != nil {
				t.Fatal(err)
			}
			return nil
		}, []string{"FIX   files", "mode 0644", "chmod 600 <db>"}},
		{"plain HTTP address", func(t *testing.T, dep *deployment) []string {
			return []string{"--base-url", "http://referti.example.it"}
		}, []string{"FIX   https", "plain-HTTP address"}},
		{"no SMS gateway", func(t *testing.T, dep *deployment) []string {
			return []string{"--sms-url", ""}
		}, []string{"FIX   sms", "patients cannot register"}},
		{"expired certificate", func(t *testing.T, dep *deployment) []string {
			cert, key := filepath.Join(dep.dir, "c.pem"), filepath.Join(dep.dir, "k.pem")
			ca.issue(t, cert, key, 7, time.Now().Add(-time.Minute), "referti.example.it")
			return []string{"--tls-cert", cert, "--tls-key", key, "--trusted-proxy", ""}
		}, []string{"FIX   https", "expired on", "SIGHUP"}},
		{"certificate for another host", func(t *testing.T, dep *deployment) []string {
			cert, key := filepath.Join(dep.dir, "c.pem"), filepath.Join(dep.dir, "k.pem")
			ca.issue(t, cert, key, 8, time.Now().Add(90*24*time.Hour), "www.example.it")
			return []string{"--tls-cert", cert, "--tls-key", key}
		}, []string{"FIX   https", "is for www.example.it, not referti.example.it"}},
		{"clock set back", func(t *testing.T, dep *deployment) []string {
			d := testkit.OpenPath(t, dep.db)
			if err := d.Audit(context.Background(), db.AuditEvent{At: time.Now().Add(2 * time.Hour), Actor: db.Actor{Kind: db.ActorSystem},
				Action: db.ActionReportExpire}); err != nil {
				t.Fatal(err)
			}
			d.Close()
			return nil
		}, []string{"FIX   clock", "already has an event at"}},
		{"a flag serve refuses", func(t *testing.T, dep *deployment) []string {
			return []string{"--retention-days", "400"}
		}, []string{"FIX   configuration", "--retention-days must be between 1 and 365"}},
		{"replicating without Litestream", func(t *testing.T, dep *deployment) []string {
			return []string{"--replicate", "file://" + filepath.Join(dep.dir, "replica"), "--litestream", filepath.Join(dep.dir, "no-litestream")}
		}, []string{"FIX   replication", "litestream not found", "install Litestream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dep := newDeployment(t)
			extra := tt.spoil(t, dep)
			r := runCmd(t, invocation{args: dep.args(extra...), env: safeEnv(t)})
			if r.code != 1 || !strings.Contains(r.stderr, "to fix") {
				t.Errorf("exit %d, stderr %q; want 1 and the count of problems", r.code, r.stderr)
			}
			for _, want := range tt.want {
				want = strings.ReplaceAll(want, "<db>", dep.db)
				if !strings.Contains(r.stdout, want) {
					t.Errorf("report lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

func TestDoctorChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fse.db")
	seedStaffDB(t, path)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, invocation{args: []string{"doctor", "--db", path}, env: safeEnv(t)})
	if r.code != 1 {
		t.Errorf("doctor without HTTPS nor SMS: exit %d, want 1", r.code)
	}
	if _, err := os.Stat(defaultKeyFile(path)); err == nil {
		t.Error("doctor created a key file")
	}
	if _, err := os.Stat(filepath.Join(dir, "acme")); err == nil {
		t.Error("doctor created the ACME cache")
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("doctor changed the database file")
	}
	if !strings.Contains(r.stdout, "fse serve creates it at first start") {
		t.Errorf("the missing key file of a new portal is not explained:\n%s", r.stdout)
	}
}
