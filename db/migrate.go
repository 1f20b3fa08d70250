package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaNewer means the database was migrated by a newer fse than this
// binary (an older binary after a rollback): running would write rows the
// newer schema does not expect.
var ErrSchemaNewer = errors.New("database schema is newer than this binary")

// Migration is one embedded schema change and, once applied, when.
type Migration struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// Applied reports whether the migration has been applied.
func (m Migration) Applied() bool { return !m.AppliedAt.IsZero() }

// embeddedMigrations lists the migrations compiled into the binary, in order.
func embeddedMigrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		out = append(out, Migration{Version: version, Name: base})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// appliedMigrations reads schema_migrations; a file never migrated has none.
func (d *DB) appliedMigrations(ctx context.Context) (map[int]time.Time, error) {
	var tables int
	if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).
		Scan(&tables); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]time.Time{}
	if tables == 0 {
		return applied, nil
	}
	rows, err := d.w.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var text string
		if err := rows.Scan(&v, &text); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		at, err := parseTime(text)
		if err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = at
	}
	return applied, rows.Err()
}

// Migrations returns every embedded migration with when it was applied,
// and the versions recorded in the database that this binary does not know.
func (d *DB) Migrations(ctx context.Context) (list []Migration, unknown []int, err error) {
	list, err = embeddedMigrations()
	if err != nil {
		return nil, nil, fmt.Errorf("list migrations: %w", err)
	}
	applied, err := d.appliedMigrations(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list migrations: %w", err)
	}
	known := map[int]bool{}
	for i := range list {
		list[i].AppliedAt = applied[list[i].Version]
		known[list[i].Version] = true
	}
	for v := range applied {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	sort.Ints(unknown)
	return list, unknown, nil
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction, in version order. It refuses a database that records a
// migration this binary does not have.
func (d *DB) migrate(ctx context.Context) error { return d.migrateUpTo(ctx, 1<<30) }

// migrateUpTo applies the pending migrations up to version upTo.
func (d *DB) migrateUpTo(ctx context.Context, upTo int) error {
	list, unknown, err := d.Migrations(ctx)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: it records migration %d, this fse knows up to %d; run the newer fse or restore a backup made "+
			"with this version (refusing to start)", ErrSchemaNewer, unknown[len(unknown)-1], list[len(list)-1].Version)
	}
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range list {
		if m.Applied() || m.Version > upTo {
			continue
		}
		if err := d.apply(ctx, m); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// foreignKeysOff marks a migration that rebuilds tables other tables point
// at: it runs with foreign keys off (they cannot be turned off inside a
// transaction), and every foreign key is checked before it commits.
const foreignKeysOff = "-- fse:foreign-keys-off"

// apply runs one migration in its own transaction on a pinned connection.
func (d *DB) apply(ctx context.Context, m Migration) error {
	body, err := migrationFiles.ReadFile("migrations/" + m.Name)
	if err != nil {
		return err
	}
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rebuild := strings.HasPrefix(string(body), foreignKeysOff)
	if rebuild {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if rebuild {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", m.Version, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// foreignKeyCheck fails when any row points at a row that does not exist.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) points at a missing %s row", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// SchemaVersion returns the highest applied migration and the highest embedded one.
func (d *DB) SchemaVersion(ctx context.Context) (applied, latest int, err error) {
	list, unknown, err := d.Migrations(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	for _, m := range list {
		latest = m.Version
		if m.Applied() {
			applied = max(applied, m.Version)
		}
	}
	for _, v := range unknown {
		applied = max(applied, v)
	}
	return applied, latest, nil
}

// AppliedSchemaVersion is the database's schema version: its highest
// applied migration. It reads on a reader connection, never waiting for
// the writer, so /healthz can ask it at every poll.
func (d *DB) AppliedSchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := d.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// LatestSchemaVersion is the highest migration compiled into this binary:
// the schema version a database has once this binary has started on it.
func LatestSchemaVersion() int {
	list, err := embeddedMigrations()
	if err != nil || len(list) == 0 {
		return 0 // a misnamed migration; Open says so
	}
	return list[len(list)-1].Version
}

// HasSchema reports whether the file at path holds an fse schema (at least
// one applied migration), without creating, migrating or changing it. A
// missing file has none.
func HasSchema(ctx context.Context, path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	c, err := sql.Open("sqlite", uriPath(path)+"?_pragma=query_only(ON)&_pragma=busy_timeout(10000)")
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer c.Close()
	var n int
	err = c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if n == 0 {
		return false, nil
	}
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return n > 0, nil
}
