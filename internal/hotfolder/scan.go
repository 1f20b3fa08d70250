package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Transient errors are retried after firstRetryDelay, then after twice as
// long each time, up to maxRetryDelay, so a file that keeps failing (the
// database is down) costs one log line now and then instead of one per scan.
const (
	firstRetryDelay = time.Minute
	maxRetryDelay   = 30 * time.Minute
)

// errChanged means a file changed while it was being read: it was not
// complete after all, and must look the same on two more scans.
var errChanged = errors.New("file changed while being read")

// observation is what a file looked like at a scan.
type observation struct {
	size      int64
	modTime   time.Time
	mode      fs.FileMode
	firstSeen time.Time // when the file was first seen looking like this
}

func (o observation) same(p observation) bool {
	return o.size == p.size && o.modTime.Equal(p.modTime) && o.mode == p.mode
}

// retryState remembers a transient failure of a file as it looked then; a
// new version of the file is tried at once.
type retryState struct {
	attempts int
	next     time.Time
	size     int64
	modTime  time.Time
}

// candidate is one file of the folder at the current scan.
type candidate struct {
	name   string
	info   fs.FileInfo // from Lstat
	stable bool        // same size and time as at the previous scan
	since  time.Time   // first seen looking as it does now
}

// outcome is what a scan did with one file.
type outcome int

const (
	pending outcome = iota
	imported
	refused
)

// ScanOnce looks at the folder once: it imports or refuses every file that
// was already there, unchanged, at the previous scan, and remembers the rest
// for the next one. Problems with single files are logged and counted as
// pending; the error is for an unreadable folder or a cancelled ctx.
func (w *Watcher) ScanOnce(ctx context.Context) (Summary, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.Importer == nil {
		return Summary{}, errors.New("hotfolder: Watcher has no Importer")
	}
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return Summary{}, fmt.Errorf("scan hot folder %s: %w", w.Dir, err)
	}
	now := w.now()
	w.pruneDone(now)
	cands := w.observe(entries, now)

	sidecars := make(map[string]candidate)
	pdfStems := make(map[string]bool)
	for _, c := range cands {
		stem, _ := splitExt(c.name)
		switch {
		case isJSON(c.name):
			sidecars[stem] = c
		case isPDF(c.name):
			pdfStems[stem] = true
		}
	}

	var sum Summary
	var stopped error
	for _, c := range cands {
		stem, _ := splitExt(c.name)
		if isJSON(c.name) && pdfStems[stem] {
			continue // handled, and moved, with its PDF
		}
		if stopped == nil {
			stopped = ctx.Err()
		}
		if stopped != nil {
			sum.Pending++
			continue
		}
		var o outcome
		switch {
		case isPDF(c.name):
			var side *candidate
			if s, ok := sidecars[stem]; ok {
				side = &s
			}
			o = w.handlePDF(ctx, c, side, now)
		case isJSON(c.name):
			o = w.handleLoneSidecar(c, now)
		default:
			o = w.handleOther(c, now)
		}
		switch o {
		case imported:
			sum.Imported++
		case refused:
			sum.Refused++
		default:
			sum.Pending++
		}
	}
	if stopped == nil {
		stopped = ctx.Err() // an import was cut short
	}
	if stopped != nil {
		return sum, fmt.Errorf("scan hot folder %s: %w", w.Dir, stopped)
	}
	return sum, nil
}

// observe records what every file of interest looks like now, compared with
// the previous scan, and forgets files that are gone.
func (w *Watcher) observe(entries []fs.DirEntry, now time.Time) []candidate {
	seen := make(map[string]observation, len(entries))
	var cands []candidate
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || ignored(name) {
			continue
		}
		info, err := os.Lstat(filepath.Join(w.Dir, name))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.log().Warn("hot folder file not readable", "file", logName(name), "err", err)
			}
			continue
		}
		if info.IsDir() { // the entry's type was not known without a stat
			continue
		}
		cur := observation{size: info.Size(), modTime: info.ModTime(), mode: info.Mode(), firstSeen: now}
		prev, ok := w.seen[name]
		stable := ok && prev.same(cur)
		if stable {
			cur.firstSeen = prev.firstSeen
		}
		seen[name] = cur
		cands = append(cands, candidate{name: name, info: info, stable: stable, since: cur.firstSeen})
	}
	w.seen = seen
	for name := range w.retry {
		if _, ok := seen[name]; !ok {
			delete(w.retry, name)
		}
	}
	return cands
}

// handlePDF imports a complete PDF, described by side (its sidecar) or by
// its name, and moves it to done/ or failed/.
func (w *Watcher) handlePDF(ctx context.Context, c candidate, side *candidate, now time.Time) outcome {
	if !c.stable || (side != nil && !side.stable) || w.waiting(c, now) {
		return pending
	}
	moved := []string{c.name}
	if side != nil {
		moved = append(moved, side.name)
	}
	if r := typeReason(c.info); r != "" {
		return w.refuse(c, moved, r, now)
	}

	var f File
	var reason string
	if side != nil {
		var err error
		f, reason, err = readSidecar(filepath.Join(w.Dir, side.name), side.info, c.name)
		if errors.Is(err, errChanged) {
			delete(w.seen, side.name)
			return pending
		}
		if err != nil {
			return w.postpone(c, err, now)
		}
	} else {
		f, reason = parseName(c.name)
	}
	if reason == "" && c.info.Size() > w.maxSize() {
		reason = reasonTooLarge(c.info.Size(), w.maxSize())
	}
	if reason != "" {
		return w.refuse(c, moved, reason, now)
	}
	f.Path = filepath.Join(w.Dir, c.name)
	f.Size = c.info.Size()

	err := w.importFile(ctx, f, c.info)
	var r *Refused
	switch {
	case err == nil:
	case errors.As(err, &r):
		reason := r.Reason
		if reason == "" {
			reason = "Rifiutato durante l'importazione. / Refused by the import."
		}
		return w.refuse(c, moved, reason, now)
	case errors.Is(err, errChanged):
		w.log().Info("hot folder file changed while being imported, waiting", "file", logName(c.name))
		delete(w.seen, c.name)
		return pending
	case ctx.Err() != nil:
		return pending // shutting down: try again at the next start, without delay
	default:
		return w.postpone(c, err, now)
	}

	target, err := w.moveAway(doneDir, moved, "", now)
	if err != nil {
		// Imported but still here: the next try imports it again, which
		// the Importer answers as unchanged, and moves it.
		return w.postpone(c, fmt.Errorf("imported, but: %w", err), now)
	}
	delete(w.retry, c.name)
	w.log().Info("hot folder report imported", "file", logName(c.name),
		"accession", f.Accession, "moved_to", filepath.Dir(target))
	return imported
}

// importFile opens the file once, checks it is still the file the scan saw,
// and hands it to the Importer. It returns errChanged if the file changed
// before or during the import.
func (w *Watcher) importFile(ctx context.Context, f File, seen fs.FileInfo) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Name, err)
	}
	defer fh.Close()
	unchanged := func() error {
		got, err := fh.Stat()
		if err != nil {
			return fmt.Errorf("stat %s: %w", f.Name, err)
		}
		if !os.SameFile(got, seen) || got.Size() != seen.Size() || !got.ModTime().Equal(seen.ModTime()) {
			return errChanged
		}
		return nil
	}
	if err := unchanged(); err != nil {
		return err
	}
	if err := w.Importer.Import(ctx, f, io.LimitReader(fh, f.Size)); err != nil {
		return fmt.Errorf("import %s: %w", f.Name, err)
	}
	return unchanged()
}

// handleLoneSidecar lets a sidecar wait for its PDF, and refuses it once it
// has waited SidecarTimeout.
func (w *Watcher) handleLoneSidecar(c candidate, now time.Time) outcome {
	if !c.stable || now.Sub(c.since) < w.sidecarTimeout() || w.waiting(c, now) {
		return pending
	}
	stem, _ := splitExt(c.name)
	return w.refuse(c, []string{c.name}, reasonNoPDF(c.name, stem+".pdf", w.sidecarTimeout()), now)
}

// handleOther refuses a complete file that is neither a PDF nor a sidecar.
func (w *Watcher) handleOther(c candidate, now time.Time) outcome {
	if !c.stable || w.waiting(c, now) {
		return pending
	}
	reason := typeReason(c.info)
	if reason == "" {
		reason = reasonNotPDF
	}
	return w.refuse(c, []string{c.name}, reason, now)
}

// refuse moves the files to failed/ with the reason beside them.
func (w *Watcher) refuse(c candidate, moved []string, reason string, now time.Time) outcome {
	target, err := w.moveAway(failedDir, moved, reason, now)
	if err != nil {
		return w.postpone(c, err, now)
	}
	delete(w.retry, c.name)
	w.log().Warn("hot folder file refused", "file", logName(c.name), "moved_to", filepath.Dir(target), "reason", reason)
	return refused
}

// postpone leaves a file in place after a transient error, to be tried
// again after a delay that doubles with each failure.
func (w *Watcher) postpone(c candidate, err error, now time.Time) outcome {
	if w.retry == nil {
		w.retry = make(map[string]retryState)
	}
	st := w.retry[c.name]
	st.attempts++
	st.next = now.Add(retryDelay(st.attempts))
	st.size, st.modTime = c.info.Size(), c.info.ModTime()
	w.retry[c.name] = st
	w.log().Warn("hot folder file left in place, will retry", "file", logName(c.name),
		"attempt", st.attempts, "retry_at", st.next, "err", err)
	return pending
}

// waiting reports whether the file is still waiting to be retried.
func (w *Watcher) waiting(c candidate, now time.Time) bool {
	st, ok := w.retry[c.name]
	if !ok {
		return false
	}
	if st.size != c.info.Size() || !st.modTime.Equal(c.info.ModTime()) {
		delete(w.retry, c.name)
		return false
	}
	return now.Before(st.next)
}

// retryDelay is the wait after the attempt-th consecutive transient failure.
func retryDelay(attempt int) time.Duration {
	d := firstRetryDelay
	for i := 1; i < attempt && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}
