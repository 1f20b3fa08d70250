package hotfolder

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestDrainImportsEverythingThenReturns(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	put(t, w.Dir, "MN-1__Eco.pdf", "%PDF a")
	put(t, w.Dir, "MN-2__Esami del sangue.pdf", "%PDF b")
	put(t, w.Dir, "referto.pdf", "%PDF c")
	put(t, w.Dir, "MN-3__Rx.pdf.part", "%PDF still copying")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := w.Drain(ctx)
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	wantSummary(t, got, Summary{Imported: 2, Refused: 1})
	wantFiles(t, w.Dir, "MN-3__Rx.pdf.part")
	wantFiles(t, filepath.Join(w.Dir, "done"), "MN-1__Eco.pdf", "MN-2__Esami del sangue.pdf")
	wantFiles(t, filepath.Join(w.Dir, "failed"), "referto.pdf", "referto.txt")
}

func TestDrainOnEmptyFolderReturnsAtOnce(t *testing.T) {
	w, _ := newWatcher(t, &recorder{})
	w.Interval = time.Hour
	got, err := w.Drain(t.Context())
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	wantSummary(t, got, Summary{})
}

func TestDrainStopsWhenContextEnds(t *testing.T) {
	imp := &recorder{answer: func(File) error { return errors.New("database is locked") }}
	w, _ := newWatcher(t, imp)
	put(t, w.Dir, "MN-1__Eco.pdf", "%PDF")

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	got, err := w.Drain(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain error = %v, want the deadline", err)
	}
	wantSummary(t, got, Summary{Pending: 1})
	wantFiles(t, w.Dir, "MN-1__Eco.pdf")
	if n := len(imp.Calls()); n != 1 {
		t.Errorf("importer called %d times within the backoff, want 1", n)
	}
}

func TestDrainRefusesMissingFolder(t *testing.T) {
	w, _ := newWatcher(t, &recorder{})
	w.Dir = filepath.Join(w.Dir, "missing")
	if _, err := w.Drain(t.Context()); err == nil {
		t.Fatal("Drain on a missing folder succeeded")
	}
}

func TestRunImportsUntilCancelled(t *testing.T) {
	imp := &recorder{}
	w, _ := newWatcher(t, imp)
	ctx, cancel := context.WithCancel(t.Context())
	result := make(chan error, 1)
	go func() { result <- w.Run(ctx) }()

	put(t, w.Dir, "MN-1__Eco.pdf", "%PDF")
	done := filepath.Join(w.Dir, "done")
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(files(t, done), []string{"MN-1__Eco.pdf"}) {
		if time.Now().After(deadline) {
			t.Fatal("Run did not import the file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-result:
		if err != nil {
			t.Errorf("Run returned %v on cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunRefusesMissingFolder(t *testing.T) {
	w, _ := newWatcher(t, &recorder{})
	w.Dir = filepath.Join(w.Dir, "missing")
	if err := w.Run(t.Context()); err == nil {
		t.Fatal("Run on a missing folder succeeded")
	}
}
