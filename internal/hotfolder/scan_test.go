package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidNameIsImportedAndMovedToDone(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	name := "MN-2026-00042__Esami del sangue.pdf"
	put(t, w.Dir, name, "%PDF-1.7 body")

	wantSummary(t, scan(t, w), Summary{Pending: 1})
	if n := len(imp.Calls()); n != 0 {
		t.Fatalf("imported on the first scan (%d calls); want to wait for a second look", n)
	}
	wantSummary(t, scan(t, w), Summary{Imported: 1})

	calls := imp.Calls()
	if len(calls) != 1 {
		t.Fatalf("got %d import calls, want 1", len(calls))
	}
	got := calls[0]
	want := File{
		Path:      filepath.Join(w.Dir, name),
		Name:      name,
		Accession: "MN-2026-00042",
		Title:     "Esami del sangue",
		ReportID:  "MN-2026-00042__Esami del sangue",
		Size:      int64(len("%PDF-1.7 body")),
	}
	if got.File != want {
		t.Errorf("file = %+v, want %+v", got.File, want)
	}
	if got.Body != "%PDF-1.7 body" {
		t.Errorf("body = %q", got.Body)
	}
	wantFiles(t, w.Dir)
	wantFiles(t, filepath.Join(w.Dir, "done"), name)
	info, err := os.Stat(filepath.Join(w.Dir, "done"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^0o750 != 0 {
		t.Errorf("done/ has mode %v, want at most 0750", perm)
	}
	wantSummary(t, scan(t, w), Summary{})
}

func TestBadFilesGoToFailedWithReason(t *testing.T) {
	tests := []struct {
		name       string
		reasonFile string
		reason     []string
	}{
		{"Esami del sangue.pdf", "Esami del sangue.txt", []string{"Nome del file non valido", "Invalid file name", "MN-2026-00042__Esami del sangue.pdf"}},
		{"MN-1_Esami.pdf", "MN-1_Esami.txt", []string{"Nome del file non valido"}},
		{"__Esami.pdf", "__Esami.txt", []string{"Manca il numero di accettazione"}},
		{"MN-1__.pdf", "MN-1__.txt", []string{"Manca il titolo"}},
		{"MN-1__Esami.docx", "MN-1__Esami.txt", []string{"non è un PDF", "Not a PDF"}},
		{"notes.txt", "notes.txt.txt", []string{"non è un PDF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := &recorder{}
			w, _ := newWatcher(t, imp)
			put(t, w.Dir, tt.name, "content")
			scan(t, w)
			wantSummary(t, scan(t, w), Summary{Refused: 1})

			if n := len(imp.Calls()); n != 0 {
				t.Errorf("importer called %d times for a refused file", n)
			}
			wantFiles(t, w.Dir)
			failed := filepath.Join(w.Dir, "failed")
			if got := read(t, filepath.Join(failed, tt.name)); got != "content" {
				t.Errorf("refused file content = %q", got)
			}
			reason := read(t, filepath.Join(failed, tt.reasonFile))
			for _, frag := range tt.reason {
				if !strings.Contains(reason, frag) {
					t.Errorf("reason %q lacks %q", reason, frag)
				}
			}
		})
	}
}

func TestIgnoredFilesStayWhereTheyAre(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	ignoredNames := []string{
		".hidden.pdf",
		"MN-1__Eco.pdf.crdownload",
		"MN-1__Eco.pdf.part",
		"MN-1__Eco.pdf~",
		"MN-1__Eco.tmp",
	}
	for _, name := range ignoredNames {
		put(t, w.Dir, name, "x")
	}
	put(t, w.Dir, "archivio/MN-1__Eco.pdf", "x")

	for range 3 {
		wantSummary(t, scan(t, w), Summary{})
	}
	if n := len(imp.Calls()); n != 0 {
		t.Errorf("importer called %d times", n)
	}
	wantFiles(t, w.Dir, ignoredNames...)
	wantFiles(t, filepath.Join(w.Dir, "archivio"), "MN-1__Eco.pdf")
	for _, sub := range []string{"done", "failed"} {
		if _, err := os.Stat(filepath.Join(w.Dir, sub)); !os.IsNotExist(err) {
			t.Errorf("%s/ exists (err %v), want it created only when needed", sub, err)
		}
	}
}

func TestGrowingFileWaitsUntilStable(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	put(t, w.Dir, name, "%PDF-1.7 first half")
	wantSummary(t, scan(t, w), Summary{Pending: 1})

	fh, err := os.OpenFile(filepath.Join(w.Dir, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString(" second half"); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	wantSummary(t, scan(t, w), Summary{Pending: 1})
	if n := len(imp.Calls()); n != 0 {
		t.Fatalf("imported a file that was still growing (%d calls)", n)
	}

	wantSummary(t, scan(t, w), Summary{Imported: 1})
	if got := imp.Calls()[0].Body; got != "%PDF-1.7 first half second half" {
		t.Errorf("imported body = %q, want the whole file", got)
	}
}

func TestFileChangedDuringImportIsImportedAgain(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	path := filepath.Join(w.Dir, name)
	put(t, w.Dir, name, "old")
	imp.answer = func(f File) error {
		if len(imp.Calls()) == 1 { // the sender rewrites the file meanwhile
			if err := os.WriteFile(path, []byte("new and longer"), 0o640); err != nil {
				t.Error(err)
			}
		}
		return nil
	}

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Pending: 1})
	wantFiles(t, w.Dir, name)
	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Imported: 1})

	calls := imp.Calls()
	if len(calls) != 2 || calls[1].Body != "new and longer" {
		t.Fatalf("calls = %+v, want a second import of the new content", calls)
	}
	if got := read(t, filepath.Join(w.Dir, "done", name)); got != "new and longer" {
		t.Errorf("done/ holds %q", got)
	}
}

func TestImporterRefusalGoesToFailed(t *testing.T) {
	reason := "Il PDF è danneggiato. / The PDF is damaged."
	imp := &recorder{answer: func(File) error {
		return fmt.Errorf("check pdf: %w", &Refused{Reason: reason})
	}}
	w, _ := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	put(t, w.Dir, name, "not really a pdf")

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Refused: 1})
	wantFiles(t, w.Dir)
	wantFiles(t, filepath.Join(w.Dir, "failed"), "MN-1__Eco.pdf", "MN-1__Eco.txt")
	if got := read(t, filepath.Join(w.Dir, "failed", "MN-1__Eco.txt")); got != reason+"\n" {
		t.Errorf("reason file = %q, want %q", got, reason+"\n")
	}
	if n := len(imp.Calls()); n != 1 {
		t.Errorf("importer called %d times, want 1", n)
	}
}

func TestTransientErrorIsRetriedWithBackoff(t *testing.T) {
	failures := 2
	imp := &recorder{}
	imp.answer = func(File) error {
		if len(imp.Calls()) <= failures {
			return errors.New("database is locked")
		}
		return nil
	}
	w, clock := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	put(t, w.Dir, name, "%PDF")
	calls := func() int { return len(imp.Calls()) }

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Pending: 1}) // first try fails
	wantFiles(t, w.Dir, name)
	steps := []struct {
		advance time.Duration
		calls   int
		sum     Summary
	}{
		{0, 1, Summary{Pending: 1}},
		{59 * time.Second, 1, Summary{Pending: 1}},
		{time.Second, 2, Summary{Pending: 1}}, // 1 min after the first failure: fails again
		{time.Minute, 2, Summary{Pending: 1}}, // now waits 2 min
		{time.Minute, 3, Summary{Imported: 1}},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		s := scan(t, w)
		if calls() != st.calls {
			t.Fatalf("step %d: %d import calls, want %d", i, calls(), st.calls)
		}
		wantSummary(t, s, st.sum)
	}
	wantFiles(t, filepath.Join(w.Dir, "done"), name)
}

func TestImportCutShortByShutdownIsRetriedAtOnce(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	put(t, w.Dir, name, "%PDF")
	ctx, cancel := context.WithCancel(t.Context())
	imp.answer = func(File) error {
		if len(imp.Calls()) == 1 {
			cancel() // the service is stopping while the database works
			return ctx.Err()
		}
		return nil
	}
	scan(t, w)
	if _, err := w.ScanOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ScanOnce error = %v, want the cancellation", err)
	}
	wantFiles(t, w.Dir, name)

	wantSummary(t, scan(t, w), Summary{Imported: 1}) // no backoff: it was not the file's fault
	if n := len(imp.Calls()); n != 2 {
		t.Errorf("importer called %d times, want 2", n)
	}
}

func TestReplacedFileIsRetriedWithoutWaiting(t *testing.T) {
	imp := &recorder{}
	imp.answer = func(f File) error {
		if len(imp.Calls()) == 1 {
			return errors.New("database is locked")
		}
		return nil
	}
	w, _ := newWatcher(t, imp)
	name := "MN-1__Eco.pdf"
	put(t, w.Dir, name, "first version")
	scan(t, w)
	scan(t, w)
	put(t, w.Dir, name, "second version")
	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Imported: 1})
	if calls := imp.Calls(); len(calls) != 2 || calls[1].Body != "second version" {
		t.Errorf("calls = %+v, want the new version imported without waiting", calls)
	}
}

func TestTooLargeIsRefused(t *testing.T) {
	tests := []struct {
		size int
		want Summary
	}{
		{10, Summary{Imported: 1}},
		{11, Summary{Refused: 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			imp := &recorder{}
			w, _ := newWatcher(t, imp)
			w.MaxSize = 10
			put(t, w.Dir, "MN-1__Eco.pdf", strings.Repeat("x", tt.size))
			scan(t, w)
			wantSummary(t, scan(t, w), tt.want)
			if tt.want.Refused == 0 {
				return
			}
			if n := len(imp.Calls()); n != 0 {
				t.Errorf("importer called %d times for a file over the limit", n)
			}
			reason := read(t, filepath.Join(w.Dir, "failed", "MN-1__Eco.txt"))
			if !strings.Contains(reason, "troppo grande") || !strings.Contains(reason, "too large") {
				t.Errorf("reason = %q", reason)
			}
		})
	}
}

func TestSymlinkIsRefusedNotFollowed(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	secret := filepath.Join(t.TempDir(), "secret.pdf")
	put(t, filepath.Dir(secret), "secret.pdf", "not for the portal")
	name := "MN-1__Eco.pdf"
	if err := os.Symlink(secret, filepath.Join(w.Dir, name)); err != nil {
		t.Fatal(err)
	}

	scan(t, w)
	wantSummary(t, scan(t, w), Summary{Refused: 1})
	if n := len(imp.Calls()); n != 0 {
		t.Fatalf("importer called %d times: a symlink was followed", n)
	}
	info, err := os.Lstat(filepath.Join(w.Dir, "failed", name))
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("failed/%s: %v, %v; want the link itself moved there", name, info, err)
	}
	if !strings.Contains(read(t, filepath.Join(w.Dir, "failed", "MN-1__Eco.txt")), "collegamento simbolico") {
		t.Error("reason does not mention the symbolic link")
	}
	if got := read(t, secret); got != "not for the portal" {
		t.Errorf("link target changed: %q", got)
	}
}
