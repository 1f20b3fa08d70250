package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/sealbox"
)

// Tests of `fse serve`: its flags and environment, the configuration it
// derives, and a real server started, probed and stopped.

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
		{"unknown sms country", []string{"serve", "--sms-countries", "IT,XX"}, nil, []string{"sms-countries", `"XX" is not an ISO 3166-1 country code`}},
		{"no sms country", []string{"serve", "--sms-countries", ","}, nil, []string{"sms-countries", "at least one country code"}},
		{"FSE_SMS_COUNTRIES=ITA", []string{"serve"}, map[string]string{"FSE_SMS_COUNTRIES": "ITA"}, []string{"FSE_SMS_COUNTRIES", `"ITA"`}},
		{"sms daily limit 0", []string{"serve", "--sms-daily-limit", "0"}, nil, []string{"--sms-daily-limit must be at least 1"}},
		{"FSE_SMS_DAILY_LIMIT=-5", []string{"serve"}, map[string]string{"FSE_SMS_DAILY_LIMIT": "-5"}, []string{"--sms-daily-limit must be at least 1"}},
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
		{"9000000000GiB", 0, false}, // beyond int64
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
	var health map[string]any
	if err := json.Unmarshal(body, &health); err != nil || health["status"] != "ok" || health["version"] != currentBuild().Version ||
		health["schema"] != float64(db.LatestSchemaVersion()) || len(health) != 3 {
		t.Errorf(`GET /healthz body = %s, want {"status":"ok","version":%q,"schema":%d}`, body, currentBuild().Version, db.LatestSchemaVersion())
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

// TestServeOnAPortInUseSaysSo: a taken port stops the start with the
// system's reason, and with no other complaint in the log.
func TestServeOnAPortInUseSaysSo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	s, code, ok := startCmd(t, []string{"serve", "--addr", taken.Addr().String(), "--db", filepath.Join(dir, "s.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45"}, nil)
	if ok {
		s.stop(t)
		t.Fatalf("serve listened on %s, which another socket holds", taken.Addr())
	}
	logs := s.stderr.String()
	if code == 0 || !strings.Contains(logs, "address already in use") {
		t.Errorf("serve on a taken port exited %d; stderr:\n%s", code, logs)
	}
	if strings.Contains(logs, "cannot write") {
		t.Errorf("a start that failed at the listener logged a write failure:\n%s", logs)
	}
}

func TestServeReportsALowDiskAtStartAndOnHealthz(t *testing.T) {
	dir := t.TempDir()
	// More than any test machine's disk holds: the real disk is below it.
	s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "s.db"),
		"--base-url", "https://referti.example.it", "--retention-days", "45"}, map[string]string{"FSE_MIN_FREE_SPACE": "1000000GiB"})
	if !ok {
		t.Fatalf("serve exited with %d before listening; stderr %q", code, s.stderr.String())
	}
	status, body := get(t, "http://"+s.addr+"/healthz")
	var health struct {
		Status   string   `json:"status"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(body, &health); err != nil || status != http.StatusServiceUnavailable || health.Status != "degraded" ||
		len(health.Problems) != 1 || !strings.Contains(health.Problems[0], "below the minimum") {
		t.Errorf("GET /healthz = %d %s, want 503 degraded by the free space", status, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit = %d", code)
	}
	if logs := s.stderr.String(); !strings.Contains(logs, "free space on the database's disk is below the minimum") {
		t.Errorf("the start-up log does not warn of the disk:\n%s", logs)
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
	seedDemoDB(t, dbPath)

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
	seedStaffDB(t, dbPath)
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
