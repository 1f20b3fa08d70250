package hotfolder

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Imported PDFs are plaintext reports: they stay in done/ for KeepDone so
// the clinic can check them, then go.
func TestImportedFilesLeaveDoneAfterKeepDone(t *testing.T) {
	w, clock := newWatcher(t, &recorder{})
	w.KeepDone = 48 * time.Hour
	put(t, w.Dir, "MN-2026-00001__Esami.pdf", "%PDF-1.7 uno")
	scan(t, w)
	scan(t, w)
	done := filepath.Join(w.Dir, "done", "MN-2026-00001__Esami.pdf")
	if _, err := os.Stat(done); err != nil {
		t.Fatalf("not in done/: %v", err)
	}
	clock.Advance(47 * time.Hour)
	scan(t, w)
	if _, err := os.Stat(done); err != nil {
		t.Errorf("deleted before KeepDone: %v", err)
	}
	clock.Advance(2 * time.Hour)
	scan(t, w)
	if _, err := os.Stat(done); !os.IsNotExist(err) {
		t.Errorf("still in done/ after KeepDone (%v)", err)
	}
}

// Titles name exams, which are health data: they never reach the log.
func TestLogsNameNoTitle(t *testing.T) {
	var logs bytes.Buffer
	w, _ := newWatcher(t, &recorder{})
	w.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	put(t, w.Dir, "MN-2026-00001__Test HIV.pdf", "%PDF-1.7 uno")
	put(t, w.Dir, "Rossi Mario test HIV.pdf", "%PDF-1.7 due")
	scan(t, w)
	scan(t, w)
	if strings.Contains(logs.String(), "HIV") || strings.Contains(logs.String(), "Rossi") {
		t.Errorf("log names a title or a patient:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "MN-2026-00001") {
		t.Error("log does not say which accession was imported")
	}
}
