package db

import "database/sql"

// ReaderForTest exposes the query_only pool to this package's tests, which
// check the pragmas of each pool.
func (d *DB) ReaderForTest() *sql.DB { return d.r }

// WriterForTest exposes the single writer connection to this package's tests.
func (d *DB) WriterForTest() *sql.DB { return d.w }
