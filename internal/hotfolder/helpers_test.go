package hotfolder

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// importCall is one call the fake importer received.
type importCall struct {
	File File
	Body string
}

// recorder is the fake Importer, the one thing faked in these tests. It
// records every call and answers with answer (nil answer: success).
type recorder struct {
	mu     sync.Mutex
	calls  []importCall
	answer func(f File) error
}

func (r *recorder) Import(ctx context.Context, f File, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.calls = append(r.calls, importCall{File: f, Body: string(b)})
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		return answer(f)
	}
	return nil
}

func (r *recorder) Calls() []importCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// fakeClock is the Watcher's clock in tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newWatcher returns a Watcher on a new temporary folder, with a fake clock
// at 2026-03-14 10:00 UTC and logs going to the test's output.
func newWatcher(t *testing.T, imp Importer) (*Watcher, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)}
	w := &Watcher{
		Dir:      t.TempDir(),
		Importer: imp,
		Interval: 5 * time.Millisecond,
		Log:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      clock.Now,
	}
	return w, clock
}

// put writes a file into dir (or one of its subdirectories).
func put(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// read returns a file's content.
func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files lists the names of the non-directory entries of dir, sorted; a
// missing dir has none.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// scan runs one scan and fails the test on error.
func scan(t *testing.T, w *Watcher) Summary {
	t.Helper()
	s, err := w.ScanOnce(t.Context())
	if err != nil {
		t.Fatalf("ScanOnce: %v", err)
	}
	return s
}

// wantSummary checks a scan's summary.
func wantSummary(t *testing.T, got, want Summary) {
	t.Helper()
	if got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
}

// wantFiles checks the files of dir.
func wantFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := files(t, dir)
	if !slices.Equal(got, want) {
		t.Errorf("files in %s = %q, want %q", filepath.Base(dir), got, want)
	}
}
