// Package testkit holds the helpers every test package shares: a real
// database in a temp dir, a raw SQL handle to look inside it, a clock the
// test moves, and a log buffer safe for concurrent writers. Only tests
// import it.
package testkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/sealbox"
)

// T0 is the fixed moment most tests start their clock at.
var T0 = time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)

// OpenDB opens a fresh, migrated database file in a temp dir and closes it
// when the test ends.
func OpenDB(t testing.TB) *db.DB {
	t.Helper()
	return OpenPath(t, filepath.Join(t.TempDir(), "fse.db"))
}

// OpenPath opens (creating and migrating) the database at path and closes
// it when the test ends.
func OpenPath(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatalf("db.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Raw returns a separate connection pool on d's file, for tests that look
// at rows no method of db shows (ciphertext chunks, the outbox's bodies) or
// that damage data on purpose. Product code never does this: db owns its
// queries.
func Raw(t testing.TB, d *db.DB) *sql.DB {
	t.Helper()
	path := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(d.Path)
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)")
	if err != nil {
		t.Fatalf("open raw handle: %v", err)
	}
	r.SetMaxOpenConns(1)
	t.Cleanup(func() { r.Close() })
	return r
}

// Count runs a query returning one integer on d's file.
func Count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := Raw(t, d).QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Keys returns document keys under a random master key.
func Keys(t testing.TB) *sealbox.Keys {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	k, err := sealbox.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Clock is a test clock: it stands still until the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass it where code wants func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// LogBuffer collects log output from concurrent goroutines, so a test can
// check what was (and was not) logged.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a debug-level text logger writing into l.
func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
