package db

import (
	"context"
	"database/sql"
)

// ReaderForTest exposes the query_only pool to this package's tests, which
// check the pragmas of each pool.
func (d *DB) ReaderForTest() *sql.DB { return d.r.DB }

// DocumentReaderForTest exposes the pool that reads report content.
func (d *DB) DocumentReaderForTest() *sql.DB { return d.docs.DB }

// WriterForTest exposes the single writer connection to this package's tests.
func (d *DB) WriterForTest() *sql.DB { return d.w.DB }

// OpenAtVersion opens path migrated only up to version, as an older fse
// left it, so tests can check what a later migration does to real rows.
func OpenAtVersion(ctx context.Context, path string, version int) (*DB, error) {
	d, err := Open(ctx, path, Options{NoMigrate: true})
	if err != nil {
		return nil, err
	}
	if err := d.migrateUpTo(ctx, version); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
