package hotfolder

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestCollisionInDoneKeepsBothFiles(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	done := filepath.Join(w.Dir, "done")
	name := "MN-1__Eco.pdf"
	put(t, done, name, "already there")

	for _, content := range []string{"second", "third"} {
		put(t, w.Dir, name, content)
		scan(t, w)
		wantSummary(t, scan(t, w), Summary{Imported: 1})
	}

	// The fake clock does not move, so the third file needs a counter too.
	wantFiles(t, done, "MN-1__Eco.20260314T100000Z-2.pdf", "MN-1__Eco.20260314T100000Z.pdf", name)
	for file, want := range map[string]string{
		name:                               "already there",
		"MN-1__Eco.20260314T100000Z.pdf":   "second",
		"MN-1__Eco.20260314T100000Z-2.pdf": "third",
	} {
		if got := read(t, filepath.Join(done, file)); got != want {
			t.Errorf("done/%s = %q, want %q", file, got, want)
		}
	}
}

func TestCollisionInFailedKeepsReasonsApart(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	failed := filepath.Join(w.Dir, "failed")
	put(t, failed, "Eco.txt", "an older reason")
	put(t, w.Dir, "Eco.pdf", "%PDF")

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Refused: 1})
	wantFiles(t, failed, "Eco.20260314T100000Z.pdf", "Eco.20260314T100000Z.txt", "Eco.txt")
	if got := read(t, filepath.Join(failed, "Eco.txt")); got != "an older reason" {
		t.Errorf("older reason overwritten: %q", got)
	}
	if got := read(t, filepath.Join(failed, "Eco.20260314T100000Z.txt")); !strings.Contains(got, "Nome del file non valido") {
		t.Errorf("new reason = %q", got)
	}
}

// errCrash stands for the process dying.
var errCrash = errors.New("process killed")

// crashAfterImport imports through the recorder and then "kills the
// process" with a panic, so the Watcher never gets to move the file: the
// state a crash between Import and the move leaves behind.
type crashAfterImport struct{ *recorder }

func (c crashAfterImport) Import(ctx context.Context, f File, body io.Reader) error {
	if err := c.recorder.Import(ctx, f, body); err != nil {
		return err
	}
	panic(errCrash)
}

// scanUntilCrash runs one scan of w and reports whether it "crashed".
func scanUntilCrash(t *testing.T, w *Watcher) (crashed bool) {
	t.Helper()
	defer func() {
		r := recover()
		if r != nil && r != errCrash {
			panic(r)
		}
		crashed = r == errCrash
	}()
	if _, err := w.ScanOnce(t.Context()); err != nil {
		t.Fatalf("ScanOnce: %v", err)
	}
	return false
}

func TestRestartAfterCrashImportsAgainAndMovesOnce(t *testing.T) {
	imp := &recorder{}
	first, _ := newWatcher(t, crashAfterImport{imp})
	name := "MN-1__Eco.pdf"
	put(t, first.Dir, name, "%PDF report")
	if scanUntilCrash(t, first) {
		t.Fatal("imported on the first scan")
	}
	if !scanUntilCrash(t, first) {
		t.Fatal("second scan did not import")
	}
	wantFiles(t, first.Dir, name)

	second, _ := newWatcher(t, imp)
	second.Dir = first.Dir
	scan(t, second)
	wantSummary(t, scan(t, second), Summary{Imported: 1})

	calls := imp.Calls()
	if len(calls) != 2 {
		t.Fatalf("got %d import calls, want 2 (before and after the crash)", len(calls))
	}
	if calls[0] != calls[1] {
		t.Errorf("second import %+v differs from the first %+v", calls[1], calls[0])
	}
	wantFiles(t, first.Dir)
	wantFiles(t, filepath.Join(first.Dir, "done"), name)
}
