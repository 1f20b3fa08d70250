package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ExposedFile is a database file its group or other users may read or write.
type ExposedFile struct {
	Path string
	Mode fs.FileMode
}

// ExposedFiles returns the database's files (the file itself, its -wal and
// -shm) that its group or other users may read or write. The registry
// (names, codici fiscali, mobiles) is not encrypted: Open creates a new
// database for its owner only, and SQLite gives the -wal and -shm files
// the database file's mode, but a file copied or restored by hand may be
// open to everyone. Missing files are not reported.
func ExposedFiles(path string) ([]ExposedFile, error) {
	var out []ExposedFile
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("check the mode of %s: %w", p, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			out = append(out, ExposedFile{Path: p, Mode: st.Mode().Perm()})
		}
	}
	return out, nil
}
