// Package db is fse's store: it opens the SQLite file with the pragmas the
// product relies on, applies the embedded migrations, and holds every query.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // Rome must resolve on hosts without zoneinfo

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors that handlers map to HTTP status codes.
var (
	// ErrNotFound means the object does not exist or is not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule would be broken.
	ErrConflict = errors.New("conflict")
)

// Rome is the clinic's time zone: times are stored in UTC and shown, and
// counted by calendar (accession years), in Rome.
var Rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err) // tzdata is embedded, so this cannot happen
	}
	return loc
}()

// DB is the store: one writer connection with immediate transactions, and a
// read-only pool, both on the same WAL-mode file.
type DB struct {
	// w is the single writer connection; SQLite serialises writers anyway, and
	// one connection avoids SQLITE_BUSY storms between our own goroutines.
	w *stmtPool
	// r is a pool of query_only connections for reads that run beside the writer.
	r *stmtPool
	// docs reads report content: query_only connections that map the file
	// into memory, so a 64 KiB chunk is one copy instead of a pread per
	// page. They are few because the kernel counts a mapped page in the
	// process's resident memory once per mapping.
	docs *stmtPool
	// sealer encrypts and decrypts document content (SetSealer).
	sealer Sealer
	// protectedPolicy is what a protected report means online
	// (SetProtectedReports).
	protectedPolicy ProtectedPolicy
	// ck is the connection checkpoints run on, apart from the writer, and
	// deleted tells the background checkpointer a deletion happened.
	ck      *sql.DB
	deleted deletions
	// undiscarded are the drafts of failed uploads not yet removed.
	undiscarded pendingDiscards
	// Path is the database file.
	Path string
}

// Options tunes Open.
type Options struct {
	// SynchronousFull trades write speed for durability of the last
	// transactions after a power loss; NORMAL is safe against corruption in WAL.
	SynchronousFull bool
	// NoMigrate opens the file as it is, without applying migrations, so
	// that `fse migrate --status` can say what is pending.
	NoMigrate bool
}

var wantPragmas = []struct{ name, want string }{
	{"journal_mode", "wal"},
	{"foreign_keys", "1"},
	{"secure_delete", "1"},
	{"busy_timeout", "10000"},
	{"temp_store", "2"},
	{"journal_size_limit", "67108864"},
}

// mmapSize is the memory map of the document pool: reports are read through
// it, up to 256 MiB of the file.
const mmapSize = "268435456"

// pool says what a connection pool is for.
type pool int

const (
	writerPool pool = iota
	readerPool
	documentPool
)

func dsn(path string, p pool, opt Options) string {
	sync := "NORMAL"
	if opt.SynchronousFull {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "secure_delete(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// The WAL is cut back to 64 MiB after a checkpoint.
	q.Add("_pragma", "journal_size_limit(67108864)")
	if p == documentPool {
		q.Add("_pragma", "mmap_size("+mmapSize+")")
	}
	if p == writerPool {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(ON)")
	}
	q.Set("_time_format", "sqlite")
	return uriPath(path) + "?" + q.Encode()
}

// uriPath makes a file: URI of a path; '%', '?' and '#' in it would
// otherwise be read as URI syntax and open another file.
func uriPath(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
}

// Open opens (creating if needed) the database at path, verifies the pragmas
// took effect and applies pending migrations.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	// The registry (names, codici fiscali, mobiles) is not encrypted: a new
	// database is readable by its owner only, and SQLite gives the -wal and
	// -shm files the database file's permissions.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(path, writerPool, opt))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	d := &DB{w: newStmtPool(w), Path: path, deleted: deletions{signal: make(chan struct{}, 1)}}
	if err := checkPragmas(ctx, w, opt, writerPool); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !opt.NoMigrate {
		if err := d.migrate(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		// A migration may have turned foreign keys off for itself.
		if err := checkPragmas(ctx, w, opt, writerPool); err != nil {
			w.Close()
			return nil, err
		}
	}
	if d.r, err = openReaders(ctx, path, readerPool, 4, opt); err != nil {
		d.Close()
		return nil, err
	}
	if d.docs, err = openReaders(ctx, path, documentPool, 2, opt); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// openReaders opens a pool of n query_only connections.
func openReaders(ctx context.Context, path string, p pool, n int, opt Options) (*stmtPool, error) {
	r, err := sql.Open("sqlite", dsn(path, p, opt))
	if err != nil {
		return nil, fmt.Errorf("open reader %s: %w", path, err)
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := checkPragmas(ctx, r, opt, p); err != nil {
		r.Close()
		return nil, fmt.Errorf("open reader %s: %w", path, err)
	}
	return newStmtPool(r), nil
}

// checkPragmas reads back every pragma the DSN set: a driver that ignored
// one would otherwise run without foreign keys, secure deletion or the
// durability the operator chose, silently.
func checkPragmas(ctx context.Context, conns *sql.DB, opt Options, p pool) error {
	sync, queryOnly, mmap := "1", "1", "0"
	if opt.SynchronousFull {
		sync = "2"
	}
	if p == writerPool {
		queryOnly = "0"
	}
	if p == documentPool {
		mmap = mmapSize
	}
	want := append(wantPragmas[:len(wantPragmas):len(wantPragmas)],
		struct{ name, want string }{"synchronous", sync}, struct{ name, want string }{"query_only", queryOnly},
		struct{ name, want string }{"mmap_size", mmap})
	for _, p := range want {
		var got string
		if err := conns.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			return fmt.Errorf("read pragma %s: %w", p.name, err)
		}
		if strings.ToLower(got) != p.want {
			return fmt.Errorf("pragma %s is %q, want %q: refusing to start", p.name, got, p.want)
		}
	}
	return nil
}

// Close closes the pools.
func (d *DB) Close() error {
	var errR, errD, errC error
	if d.r != nil {
		errR = d.r.Close()
	}
	if d.docs != nil {
		errD = d.docs.Close()
	}
	if d.ck != nil {
		errC = d.ck.Close()
	}
	if err := errors.Join(errR, errD, errC, d.w.Close()); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// Ping checks that the database answers a query; used by /healthz.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// errCommit wraps an error that must be returned to the caller after the
// transaction's writes are committed (a failed attempt that must count).
type errCommit struct{ err error }

func (e errCommit) Error() string { return e.err.Error() }
func (e errCommit) Unwrap() error { return e.err }

// tx runs fn in a write transaction (BEGIN IMMEDIATE thanks to _txlock).
// fn's error rolls back, unless it is an errCommit.
func (d *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		var ec errCommit
		if errors.As(err, &ec) {
			if cerr := tx.Commit(); cerr != nil {
				return cerr
			}
			return err
		}
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		}
	}
	return err
}

// Optimize runs PRAGMA optimize, as SQLite recommends periodically.
func (d *DB) Optimize(ctx context.Context) error {
	if _, err := d.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// parseTime reads a timestamp that reached us as text (aggregates lose the
// column type, so the driver cannot convert them).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q", s)
}

// queryIDs runs a query returning one integer column inside tx and
// collects it, closing the rows before the caller writes.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
