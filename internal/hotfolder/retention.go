package hotfolder

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultKeepDone is how long imported files stay in done/ for the clinic
// to check, before the watcher deletes them: fse holds the reports
// encrypted, and a plaintext copy must not outlive the report's retention
// or a patient's deletion by long.
const DefaultKeepDone = 7 * 24 * time.Hour

func (w *Watcher) keepDone() time.Duration {
	if w.KeepDone > 0 {
		return w.KeepDone
	}
	return DefaultKeepDone
}

// stampDone marks a file just moved into done/ with the time of the move,
// which is what pruneDone counts from (a rename keeps the old time).
func stampDone(path string, now time.Time) error { return os.Chtimes(path, now, now) }

// pruneDone deletes the files in done/ imported more than keepDone ago.
func (w *Watcher) pruneDone(now time.Time) {
	dir := filepath.Join(w.Dir, doneDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // no done/ yet
	}
	removed := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || now.Sub(info.ModTime()) < w.keepDone() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			w.log().Warn("hot folder: imported file not deleted", "file", logName(e.Name()), "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		w.syncDir(dir)
		w.log().Info("hot folder: imported files deleted", "files", removed, "older_than", w.keepDone().String())
	}
}

// logName names a file in the log without its title (titles name exams,
// which are health data): the accession number when the name has one,
// else a short hash the operator can match with the folder's contents.
func logName(name string) string {
	if acc, _, ok := strings.Cut(name, "__"); ok && acc != "" {
		return acc + "__…"
	}
	sum := sha256.Sum256([]byte(name))
	return "file-" + hex.EncodeToString(sum[:4])
}
