package main

import (
	"fmt"

	"fse/db"
)

// warnExposedFiles logs each database file its group or other users may
// read or write: the registry in it is not encrypted. A new database is
// private (db.Open); one copied or restored by hand may not be.
func warnExposedFiles(path string, e env) {
	files, err := db.ExposedFiles(path)
	if err != nil {
		e.log.Warn("cannot check who may read the database files", "err", err)
	}
	for _, f := range files {
		e.log.Warn("a database file is open to other users (its group or others may read it): run chmod 600 on it and on its -wal and -shm",
			"file", f.Path, "mode", fmt.Sprintf("%04o", f.Mode))
	}
}
