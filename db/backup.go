package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrIncompleteCopy means a file is not a whole fse database: it fails
// SQLite's integrity check, or has no schema (an interrupted copy can pass
// the integrity check with no tables at all).
var ErrIncompleteCopy = errors.New("not a complete fse database")

// CopyInfo is what a checked copy of the database holds.
type CopyInfo struct {
	// Version is the highest migration applied to it.
	Version int
	// Counts of the main tables, for the operator to recognise the copy.
	Patients, Visits, Reports, Accounts int64
	// KeyCheck is the MAC that identifies the master key it was written
	// with (empty if nothing was ever written with a key).
	KeyCheck []byte
}

// Backup writes a consistent copy of the live database to dest. The copy
// (VACUUM INTO, one read transaction, on a connection of its own so the
// writer stays free) goes to a temporary file beside dest; it is checked
// (CheckCopy, and the schema version of the live database), synced, and
// only then given dest's name, so an interrupted backup never leaves a
// file that looks like one. dest must not exist.
func (d *DB) Backup(ctx context.Context, dest string) (CopyInfo, error) {
	if _, err := os.Lstat(dest); err == nil {
		return CopyInfo{}, fmt.Errorf("backup to %s: %w", dest, fs.ErrExist)
	}
	applied, _, err := d.SchemaVersion(ctx)
	if err != nil {
		return CopyInfo{}, fmt.Errorf("backup: %w", err)
	}
	tmp, err := tempBeside(dest)
	if err != nil {
		return CopyInfo{}, fmt.Errorf("backup to %s: %w", dest, err)
	}
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	c, err := sql.Open("sqlite", uriPath(d.Path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return CopyInfo{}, fmt.Errorf("backup: %w", err)
	}
	defer c.Close()
	// VACUUM INTO accepts the empty temporary file, made readable by its
	// owner only: the copy holds the registry.
	if _, err := c.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return CopyInfo{}, fmt.Errorf("vacuum into %s: %w", tmp, err)
	}
	info, err := CheckCopy(ctx, tmp)
	if err != nil {
		return CopyInfo{}, fmt.Errorf("backup: %w", err)
	}
	if info.Version != applied {
		return CopyInfo{}, fmt.Errorf("backup: the copy has schema version %d, the database %d: %w", info.Version, applied, ErrIncompleteCopy)
	}
	if err := syncFile(tmp); err != nil {
		return CopyInfo{}, fmt.Errorf("backup: %w", err)
	}
	// A link, unlike a rename, never replaces a dest made meanwhile.
	if err := os.Link(tmp, dest); err != nil {
		return CopyInfo{}, fmt.Errorf("backup to %s: %w", dest, err)
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return CopyInfo{}, fmt.Errorf("backup to %s: %w", dest, err)
	}
	done = true
	os.Remove(tmp)
	return info, nil
}

// CheckCopy checks that path is a whole fse database this binary can run
// (integrity, a schema, not newer than this binary) and says what it holds.
// It opens the file only to read it.
func CheckCopy(ctx context.Context, path string) (CopyInfo, error) {
	if _, err := os.Stat(path); err != nil {
		return CopyInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	c, err := sql.Open("sqlite", uriPath(path)+"?_pragma=query_only(ON)&_pragma=busy_timeout(10000)")
	if err != nil {
		return CopyInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return CopyInfo{}, fmt.Errorf("check %s: integrity check: %v: %w", path, err, ErrIncompleteCopy)
	}
	if res != "ok" {
		return CopyInfo{}, fmt.Errorf("check %s: integrity check: %s: %w", path, res, ErrIncompleteCopy)
	}
	var info CopyInfo
	var tables int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return CopyInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	if tables == 1 {
		if err := c.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&info.Version); err != nil {
			return CopyInfo{}, fmt.Errorf("check %s: %w", path, err)
		}
	}
	if info.Version == 0 {
		return CopyInfo{}, fmt.Errorf("check %s: it has no tables: %w", path, ErrIncompleteCopy)
	}
	list, err := embeddedMigrations()
	if err != nil {
		return CopyInfo{}, err
	}
	if latest := list[len(list)-1].Version; info.Version > latest {
		return CopyInfo{}, fmt.Errorf("check %s: schema version %d, this binary knows up to %d: %w", path, info.Version, latest, ErrSchemaNewer)
	}
	if err := c.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM visits),
		(SELECT count(*) FROM documents WHERE published_at IS NOT NULL), (SELECT count(*) FROM accounts)`).
		Scan(&info.Patients, &info.Visits, &info.Reports, &info.Accounts); err != nil {
		return CopyInfo{}, fmt.Errorf("check %s: the schema is incomplete: %v: %w", path, err, ErrIncompleteCopy)
	}
	err = c.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&info.KeyCheck)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return CopyInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	return info, nil
}

// Restore puts the checked copy src in place of the database at dest,
// which no process may have open (ErrInUse). The copy is written to a
// temporary file beside dest and synced; the database it replaces is kept
// as keptAs (empty if there was none). dest's stale -wal and -shm files are
// removed with it.
func Restore(ctx context.Context, src, dest, keepSuffix string) (info CopyInfo, keptAs string, err error) {
	if info, err = CheckCopy(ctx, src); err != nil {
		return CopyInfo{}, "", err
	}
	if err := closedEverywhere(ctx, dest); err != nil {
		return CopyInfo{}, "", err
	}
	tmp, err := tempBeside(dest)
	if err != nil {
		return CopyInfo{}, "", fmt.Errorf("restore to %s: %w", dest, err)
	}
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	if err := copyInto(tmp, src); err != nil {
		return CopyInfo{}, "", fmt.Errorf("restore to %s: %w", dest, err)
	}
	if _, err := os.Stat(dest); err == nil {
		keptAs = dest + keepSuffix
		if err := os.Rename(dest, keptAs); err != nil {
			return CopyInfo{}, "", fmt.Errorf("restore: keep the old database: %w", err)
		}
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dest + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return CopyInfo{}, keptAs, fmt.Errorf("restore: remove %s: %w", dest+suffix, err)
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return CopyInfo{}, keptAs, fmt.Errorf("restore to %s: %w", dest, err)
	}
	done = true
	return info, keptAs, syncDir(filepath.Dir(dest))
}

// ErrInUse means another process has the database open.
var ErrInUse = errors.New("the database is in use by another process")

// closedEverywhere checks that no process has the database at path open,
// by asking for what only a sole user gets: leaving WAL mode. A database
// left so is self-contained (its WAL checkpointed and removed), which is
// how the replaced file is kept.
func closedEverywhere(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	c, err := sql.Open("sqlite", uriPath(path))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer c.Close()
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil {
		if isBusy(err) {
			return fmt.Errorf("%s: %w", path, ErrInUse)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	if mode != "delete" {
		return fmt.Errorf("%s: %w", path, ErrInUse)
	}
	return nil
}

// tempBeside makes an empty file, readable by its owner only, in dest's
// directory (so a rename to dest stays on one file system), with a name
// no one would take for a backup.
func tempBeside(dest string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.partial")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

func copyInto(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
