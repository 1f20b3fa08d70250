package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/internal/testkit"
)

// Tests of the command line as a whole (usage and help), and the helpers
// every command test uses to run it in-process: a command to completion, or
// a server until the test stops it.

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
	var stdout, stderr testkit.LogBuffer
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
		{[]string{"staff", "--help"}, "fse staff reset-mfa"},
		{[]string{"staff", "set-password", "--help"}, "--password-stdin"},
		{[]string{"staff", "reset-mfa", "--help"}, "Usage: fse staff reset-mfa"},
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

// server is a `fse serve` running in a goroutine.
type server struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	stderr *testkit.LogBuffer
	stdout *testkit.LogBuffer
}

// startCmd runs args in a goroutine and waits until the server is ready or
// the command has exited; it returns the exit code in the latter case.
func startCmd(t *testing.T, args []string, vars map[string]string) (*server, int, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, done: make(chan int, 1), stderr: &testkit.LogBuffer{}, stdout: &testkit.LogBuffer{}}
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
