// Package hotfolder imports reports that clinic systems drop as PDF files
// into a shared folder: it waits until each file is complete, hands it to an
// Importer, and moves it to done/ or, with a written reason, to failed/.
//
// A file in the folder is taken in one of two forms:
//
//   - ACCESSION__Title.pdf: two underscores separate the accession number
//     from the title (MN-2026-00042__Esami del sangue.pdf); the title may hold
//     spaces and single underscores, and the report id is the name without
//     its extension.
//   - NAME.pdf with a JSON sidecar NAME.json holding accession, title and,
//     optionally, report_id (default NAME) and publish. The sidecar wins over
//     the name. Senders should write the sidecar before the PDF: a PDF that
//     is complete and alone is judged by its name.
//
// Dotfiles, names ending in .part, .tmp, .crdownload or ~, and subdirectories
// are ignored. Anything else is refused: moved to failed/ with NAME.txt
// beside it saying why, in Italian and then in English.
//
// A file is complete when its size and modification time are the same on two
// consecutive scans and it opens for reading. Moves are renames, so done/ and
// failed/ (created inside the folder) share its filesystem, and the
// directories are synced after each move so that a move survives a crash.
// One Watcher (one process) should own a folder at a time.
package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Defaults used when the corresponding Watcher field is zero.
const (
	// DefaultInterval is the pause between two scans of the folder.
	DefaultInterval = 2 * time.Second
	// DefaultMaxSize is the largest PDF accepted, in bytes (20 MiB).
	DefaultMaxSize int64 = 20 << 20
	// DefaultSidecarTimeout is how long a JSON sidecar waits for its PDF
	// before it is refused.
	DefaultSidecarTimeout = 10 * time.Minute
)

// File describes one complete PDF found in the folder, as handed to an Importer.
type File struct {
	// Path is the PDF's full path inside the watched folder at import time.
	Path string
	// Name is the PDF's base name, as the sender wrote it.
	Name string
	// Accession is the accession number the report belongs to.
	Accession string
	// Title is the report's title as shown to the patient.
	Title string
	// ReportID is the sender's id for the report, used for idempotency.
	ReportID string
	// Publish is the sidecar's publish flag; nil means "as the integration says".
	Publish *bool
	// Size is the PDF's size in bytes; the body passed to Import has exactly
	// this many bytes.
	Size int64
}

// Importer stores one report found in the folder.
//
// Import MUST be idempotent for the same file: called again with the same
// Accession, ReportID and content, it must succeed without creating anything
// new. The Watcher relies on this for crash safety: if the process stops
// after a successful Import but before the file is moved to done/, the next
// scan imports the file again and then moves it.
//
// An error wrapping *Refused means the file can never be imported as it is:
// it goes to failed/ with the reason. Any other error is taken as transient
// (database busy, disk full...): the file stays and is retried later, with a
// growing delay. Import must not keep body after it returns. A Watcher calls
// Import from one goroutine at a time.
type Importer interface {
	Import(ctx context.Context, f File, body io.Reader) error
}

// Refused is the error an Importer returns, possibly wrapped, when a file is
// permanently unacceptable; the Watcher moves the file to failed/.
type Refused struct {
	// Reason says why in plain words, Italian first and then English, for
	// the person who reads the .txt file in failed/.
	Reason string
}

// Error returns the reason, marked as a refusal.
func (r *Refused) Error() string { return "refused: " + r.Reason }

// Summary counts what one or more scans did.
type Summary struct {
	// Imported is the number of PDFs imported and moved to done/.
	Imported int
	// Refused is the number of files (a PDF with its sidecar counts once)
	// moved to failed/.
	Refused int
	// Pending is the number of files still waiting in the folder after the
	// last scan: not yet complete, waiting to be retried, or a sidecar
	// waiting for its PDF.
	Pending int
}

// Watcher watches one folder and imports the reports dropped into it.
//
// Set the exported fields before first use and do not copy a Watcher after
// it: it remembers, between scans, what each file looked like and which
// files are waiting to be retried.
type Watcher struct {
	// Dir is the watched folder.
	Dir string
	// Importer receives each complete file.
	Importer Importer
	// Interval is the pause between scans; zero means DefaultInterval.
	Interval time.Duration
	// MaxSize is the largest PDF accepted, in bytes; zero means DefaultMaxSize.
	MaxSize int64
	// SidecarTimeout is how long a sidecar waits for its PDF; zero means
	// DefaultSidecarTimeout.
	SidecarTimeout time.Duration
	// KeepDone is how long imported files stay in done/ before they are
	// deleted; 0 means DefaultKeepDone.
	KeepDone time.Duration
	// Log receives outcomes and accession numbers, never titles or file
	// contents; nil
	// discards.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string]observation // what each file looked like at the last scan
	retry map[string]retryState  // files waiting after a transient error
}

// Run scans the folder every Interval until ctx is cancelled, then returns
// nil. It returns an error at once if Dir is not a directory; later scan
// errors (a share briefly unmounted) are logged and the scans go on.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.CheckDir(); err != nil {
		return err
	}
	ticker := time.NewTicker(w.interval())
	defer ticker.Stop()
	lastErr := ""
	for {
		s, err := w.ScanOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if err.Error() != lastErr {
				w.log().Error("hot folder scan failed", "dir", w.Dir, "err", err)
			}
			lastErr = err.Error()
		default:
			if lastErr != "" {
				w.log().Info("hot folder scan works again", "dir", w.Dir)
			}
			lastErr = ""
			if s.Imported+s.Refused > 0 {
				w.log().Info("hot folder scanned", "dir", w.Dir,
					"imported", s.Imported, "refused", s.Refused, "pending", s.Pending)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Drain scans the folder every Interval until no file is pending, and
// returns what all the scans did. Files only become complete on their second
// scan, so Drain takes at least one Interval when the folder holds any.
// If ctx ends first, Drain returns the totals so far and an error saying how
// many files are still pending; callers bound it with a deadline, since a
// file failing with a transient error keeps it waiting.
func (w *Watcher) Drain(ctx context.Context) (Summary, error) {
	if err := w.CheckDir(); err != nil {
		return Summary{}, err
	}
	var total Summary
	timer := time.NewTimer(w.interval())
	defer timer.Stop()
	for {
		s, err := w.ScanOnce(ctx)
		total.Imported += s.Imported
		total.Refused += s.Refused
		total.Pending = s.Pending
		if err != nil {
			return total, err
		}
		if s.Pending == 0 {
			return total, nil
		}
		timer.Reset(w.interval())
		select {
		case <-ctx.Done():
			return total, fmt.Errorf("drain %s: %d file(s) still pending: %w", w.Dir, total.Pending, ctx.Err())
		case <-timer.C:
		}
	}
}

// CheckDir refuses to start on a misconfigured Watcher, so a typo in the folder
// name fails at start instead of logging forever.
func (w *Watcher) CheckDir() error {
	if w.Importer == nil {
		return errors.New("hotfolder: Watcher has no Importer")
	}
	info, err := os.Stat(w.Dir)
	if err != nil {
		return fmt.Errorf("hot folder %s: %w", w.Dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("hot folder %s: not a directory", w.Dir)
	}
	return nil
}

func (w *Watcher) interval() time.Duration {
	if w.Interval > 0 {
		return w.Interval
	}
	return DefaultInterval
}

func (w *Watcher) maxSize() int64 {
	if w.MaxSize > 0 {
		return w.MaxSize
	}
	return DefaultMaxSize
}

func (w *Watcher) sidecarTimeout() time.Duration {
	if w.SidecarTimeout > 0 {
		return w.SidecarTimeout
	}
	return DefaultSidecarTimeout
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watcher) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
