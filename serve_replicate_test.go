package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fse/db"
	"fse/internal/demo"
	"fse/internal/replica"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// litestreamBin is the companion binary the replication tests run: from
// FSE_LITESTREAM (which .ci/run sets), else from PATH. Outside CI the
// tests skip without it; in CI they must run.
func litestreamBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FSE_LITESTREAM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("litestream"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI must run the replication tests: .ci/run installs Litestream " + replica.Version + " and sets FSE_LITESTREAM")
	}
	t.Skip("Litestream is not installed: " + replica.InstallHint + ", or set FSE_LITESTREAM")
	return ""
}

// fseProcess is fse serve running as a process of its own (this test
// binary, see TestMain), which a test can kill with SIGKILL.
type fseProcess struct {
	cmd  *exec.Cmd
	addr string
	log  *testkit.LogBuffer
	done chan struct{}
}

func startFSEProcess(t *testing.T, args ...string) *fseProcess {
	t.Helper()
	p := &fseProcess{cmd: exec.Command(os.Args[0], args...), log: &testkit.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Env = []string{runAsFSE + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(p.log.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("fse exited before listening: %s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fse not listening after 60 s: %s", p.log.String())
		}
	}
}

// waitUntil polls cond until it holds, failing the test after deadline.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start)
}

func apiCall(t *testing.T, method, url, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// deskCookie logs a staff member in (the test's servers run with
// --staff-mfa off) and returns the session cookie to send back.
func deskCookie(t *testing.T, base, username, password string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/desk/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-fse-desk" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("desk login: %d without a session cookie", resp.StatusCode)
	return ""
}

func deskGet(t *testing.T, url, cookie string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// queryFile runs one query on a database file, read-only.
func queryFile(t *testing.T, path, query string, args ...any) *sql.Rows {
	t.Helper()
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(ON)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rows, err := c.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// reportIDs maps each delivered report id to its document in the
// database at path.
func reportIDs(t *testing.T, path string) map[string]int64 {
	t.Helper()
	rows := queryFile(t, path, `SELECT e.report_id, e.document_id FROM external_reports e JOIN documents d ON d.id = e.document_id`)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var doc int64
		if err := rows.Scan(&id, &doc); err != nil {
			t.Fatal(err)
		}
		out[id] = doc
	}
	return out
}

// foundIn says whether b occurs in any file under the paths (files or
// directories, missing ones skipped).
func foundIn(t *testing.T, b []byte, paths ...string) bool {
	t.Helper()
	found := false
	for _, root := range paths {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, b) {
				found = true
				return fs.SkipAll
			}
			return nil
		})
	}
	return found
}

// replicaHolds restores the replica (at, or the latest when zero) into a
// scratch file and returns its reports; ok is false when the replica has
// no copy at that time.
func replicaHolds(t *testing.T, bin, rep string, at time.Time) (reports map[string]int64, ok bool) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fse.db")
	err := replica.Restore(context.Background(), bin, replica.Settings{URL: "file://" + rep, Retention: replica.DefaultRetention}, out, out, at)
	if errors.Is(err, replica.ErrNoSuchPoint) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return reportIDs(t, out), true
}

// TestReplicaSurvivesAKilledServerAndForgetsDeletedReports: fse serve
// replicates to a directory while acceptances, uploads and a withdrawal
// come through the API. Until the retention passes, a restore to before
// the withdrawal still holds the report; after it, no file of the replica
// (nor the live database, its WAL or Litestream's state) holds its bytes,
// and a restore to that time has nothing. Then the server is killed
// (SIGKILL; Litestream dies with it), the replica is restored to a new
// place, and the restored portal serves every report byte for byte.
//
// The retention is 60 s here (snapshots every 10 s): the same rules as a
// day, on a test's scale.
func TestReplicaSurvivesAKilledServerAndForgetsDeletedReports(t *testing.T) {
	bin := litestreamBin(t)
	dir := t.TempDir()
	dbPath, keyPath, rep := filepath.Join(dir, "fse.db"), filepath.Join(dir, "fse.key"), filepath.Join(dir, "replica")
	const retention = 60 * time.Second
	token := replicaSeed(t, dbPath, keyPath)

	p := startFSEProcess(t, "serve", "--db", dbPath, "--key-file", keyPath, "--addr", "127.0.0.1:0", "--base-url", "https://referti.example.it",
		"--retention-days", "45", "--staff-mfa", "off", "--replicate", rep, "--replica-retention", retention.String(), "--litestream", bin)
	api := "http://" + p.addr + "/api/v1"

	// Acceptances and uploads, through the API the clinic's systems use.
	pdfs := map[string][]byte{}
	accessions := map[string]string{}
	for i, pt := range demo.Patients[:3] {
		body, _ := json.Marshal(map[string]any{"external_id": fmt.Sprintf("CUP-%d", i), "exams": []string{"Emocromo"},
			"patient": map[string]string{"fiscal_code": pt.FiscalCode(), "first_name": pt.Name, "last_name": pt.Surname,
				"birth_date": pt.Birth.Format("2006-01-02"), "birth_place": pt.BirthPlace, "sex": pt.Sex, "mobile": pt.Mobile}})
		status, resp := apiCall(t, http.MethodPost, api+"/visits", token, "application/json", body)
		var v struct {
			Accession string `json:"accession_number"`
		}
		if json.Unmarshal(resp, &v); status != http.StatusCreated || v.Accession == "" {
			t.Fatalf("POST /visits = %d %s", status, resp)
		}
		for n := 0; n <= i%2; n++ {
			id := fmt.Sprintf("LAB-%d-%d", i, n)
			pdfs[id], accessions[id] = reportPDF(t, "Referto "+id+strings.Repeat(" con un titolo lungo", 20*n)), v.Accession
			status, resp := apiCall(t, http.MethodPut, api+"/visits/"+v.Accession+"/reports/"+id+"?title=Esami&publish=true", token,
				"application/pdf", pdfs[id])
			if status/100 != 2 {
				t.Fatalf("PUT report %s = %d %s", id, status, resp)
			}
		}
	}
	lag := waitUntil(t, 60*time.Second, "the replica holds every upload", func() bool {
		got, ok := replicaHolds(t, bin, rep, time.Time{})
		return ok && len(got) == len(pdfs)
	})
	t.Logf("the uploads were in the replica (restored from it) %v after the last one was acknowledged", lag.Round(10*time.Millisecond))
	// A time strictly between the uploads' arrival in the replica and the withdrawal.
	time.Sleep(time.Second)
	beforeDeletion := time.Now()
	time.Sleep(time.Second)

	// The report to withdraw, and a window of its ciphertext to look for.
	const gone = "LAB-1-1"
	live := reportIDs(t, dbPath)
	var window []byte
	rows := queryFile(t, dbPath, `SELECT substr(data, length(data)/2, 48) FROM document_chunks WHERE document_id = ? AND seq = 0`, live[gone])
	for rows.Next() {
		rows.Scan(&window)
	}
	rows.Close()
	if len(window) != 48 {
		t.Fatalf("no ciphertext for %s", gone)
	}
	if !foundIn(t, window, rep) {
		t.Fatal("the report's ciphertext is not found verbatim in the replica's files: the test could not see it leave")
	}
	if status, resp := apiCall(t, http.MethodDelete, api+"/visits/"+accessions[gone]+"/reports/"+gone, token, "", nil); status != http.StatusNoContent {
		t.Fatalf("DELETE report = %d %s", status, resp)
	}
	withdrawn := time.Now()

	// Within the retention, a restore to before the withdrawal has it.
	if got, ok := replicaHolds(t, bin, rep, beforeDeletion); !ok || got[gone] == 0 {
		t.Fatalf("a restore to %v (before the withdrawal) lacks %s: %v, %v", beforeDeletion, gone, got, ok)
	}
	// The live files lose it soon (Litestream checkpoints, fse cuts the WAL).
	state := replicaStateOf(dbPath)
	took := waitUntil(t, 90*time.Second, "the withdrawn report leaves the database, its WAL and Litestream's local state", func() bool {
		return !foundIn(t, window, dbPath, dbPath+"-wal", state)
	})
	t.Logf("the withdrawn report left the live files %v after the withdrawal", took.Round(100*time.Millisecond))
	// And the replica, within its retention.
	waitUntil(t, retention+90*time.Second, "the withdrawn report leaves every file of the replica", func() bool {
		if foundIn(t, window, rep) {
			return false
		}
		got, ok := replicaHolds(t, bin, rep, beforeDeletion)
		return !ok || got[gone] == 0
	})
	t.Logf("the withdrawn report left the replica %v after the withdrawal (retention %v)", time.Since(withdrawn).Round(time.Second), retention)
	if !strings.Contains(p.log.String(), "deleted data erased from the WAL") {
		t.Errorf("fse did not log the erasure:\n%s", p.log.String())
	}

	// A crash: fse killed outright, Litestream with it.
	m := regexp.MustCompile(`msg="replicating the database" .*pid=(\d+)`).FindStringSubmatch(p.log.String())
	if m == nil {
		t.Fatalf("no replicator pid in the log:\n%s", p.log.String())
	}
	child, _ := strconv.Atoi(m[1])
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	waitUntil(t, 30*time.Second, "Litestream dies with the killed fse", func() bool { return !processAlive(child) })

	// Restore to a new place, with the key file kept apart.
	dir2 := t.TempDir()
	db2, key2 := filepath.Join(dir2, "fse.db"), filepath.Join(dir2, "fse.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key2, key, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, invocation{args: []string{"restore", "--from", rep, "--db", db2, "--litestream", bin}, env: safeEnv(t)})
	if r.code != 0 || !strings.Contains(r.stdout, "restored its latest state from the replica file://"+rep) || !strings.Contains(r.stdout, "matches") {
		t.Fatalf("restore --from: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s, code, ok := startCmd(t, []string{"serve", "--db", db2, "--key-file", key2, "--addr", "127.0.0.1:0", "--base-url", "https://referti.example.it",
		"--retention-days", "45", "--staff-mfa", "off"}, nil)
	if !ok {
		t.Fatalf("serve on the restored database: exit %d\n%s", code, s.stderr.String())
	}
	cookie := deskCookie(t, "http://"+s.addr, "capo", "una-password-lunga")
	restored := reportIDs(t, db2)
	for id, want := range pdfs {
		if id == gone {
			if restored[id] != 0 {
				t.Errorf("the withdrawn report %s came back with the restore", id)
			}
			if status, _ := deskGet(t, "http://"+s.addr+"/desk/documents/"+strconv.FormatInt(live[id], 10)+"/file", cookie); status != http.StatusNotFound {
				t.Errorf("GET the withdrawn report = %d, want 404", status)
			}
			continue
		}
		status, got := deskGet(t, "http://"+s.addr+"/desk/documents/"+strconv.FormatInt(restored[id], 10)+"/file", cookie)
		if status != http.StatusOK || !bytes.Equal(got, want) {
			t.Errorf("report %s from the restored portal: %d, %d bytes, identical %v; want 200 and the %d bytes uploaded", id, status, len(got),
				bytes.Equal(got, want), len(want))
		}
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("restored serve exit %d", code)
	}
}

// replicaSeed makes a database with a key file, a facility, an
// integration for the API (whose token it returns) and an admin "capo".
func replicaSeed(t *testing.T, dbPath, keyPath string) string {
	t.Helper()
	keys, err := sealbox.CreateKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.SetSealer(keys)
	if err := d.CheckKey(ctx, keys.MAC(sealbox.KeyCheck, "")); err != nil {
		t.Fatal(err)
	}
	fid, err := d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Mantova"}, db.Actor{Kind: db.ActorCLI}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	token, hash := db.NewIntegrationToken()
	if _, err := d.CreateIntegration(ctx, db.Integration{Name: "LIS", FacilityID: fid, Scopes: []string{db.ScopeVisits, db.ScopeReports}},
		hash, db.Actor{Kind: db.ActorCLI}, time.Now()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	seedStaffDB(t, dbPath)
	return token
}

// processAlive says whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestReplicationRefusesABadCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown scheme", []string{"serve", "--replicate", "gs://bucket/fse"}, exitUsage, `scheme "gs"`},
		{"retention too short", []string{"serve", "--replicate", "/srv/replica", "--replica-retention", "10s"}, exitUsage,
			"replica retention must be between 30s and 720h0m0s"},
		{"sftp without host key", []string{"serve", "--replicate", "sftp://backup@nas/srv/fse"}, exitUsage, "host key"},
		{"sftp key without replication", []string{"serve", "--replica-sftp-key", "/etc/fse/id"}, exitUsage, "need --replicate"},
		{"no litestream", []string{"serve", "--replicate", "/srv/replica", "--litestream", "/nonexistent/litestream"}, 1,
			"litestream not found (/nonexistent/litestream): install it with `CGO_ENABLED=0 go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18`"},
		{"timestamp without replica", []string{"restore", "--timestamp", "2026-11-29T18:00:00Z", "copia.db"}, exitUsage, "--timestamp needs --from"},
		{"backup and replica", []string{"restore", "--from", "/srv/replica", "copia.db"}, exitUsage, "not both"},
		{"bad timestamp", []string{"restore", "--from", "/srv/replica", "--timestamp", "ieri sera"}, exitUsage, "--timestamp must be a time"},
		{"restore from an unknown scheme", []string{"restore", "--from", "ftp://nas/fse"}, exitUsage, `scheme "ftp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := safeEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := runIn(ctx, t, invocation{args: tt.args, env: vars})
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestRestoreDropsTheReplicatorsStateOfTheReplacedDatabase: Litestream's
// local state (recent changes, with their data) belongs to the database a
// restore replaces; left there, it would describe a database that is gone.
func TestRestoreDropsTheReplicatorsStateOfTheReplacedDatabase(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "fse.db")
	seedStaffDB(t, live)
	if _, err := sealbox.CreateKeyFile(defaultKeyFile(live)); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "copia.db")
	if r := runCmd(t, invocation{args: []string{"backup", "--db", live, backup}}); r.code != 0 {
		t.Fatalf("backup: exit %d (%s)", r.code, r.stderr)
	}
	state := filepath.Join(dir, ".fse.db-litestream")
	if err := os.MkdirAll(filepath.Join(state, "ltx", "0"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "ltx", "0", "0000000000000001-0000000000000001.ltx"), []byte("pagine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCmd(t, invocation{args: []string{"restore", "--db", live, backup}}); r.code != 0 {
		t.Fatalf("restore: exit %d (%s)", r.code, r.stderr)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Litestream's state of the replaced database is still there (%v)", err)
	}
}
