package hotfolder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Subdirectories of the folder where handled files end up.
const (
	doneDir   = "done"
	failedDir = "failed"
)

// maxNameTries bounds the search for a free name in done/ or failed/.
const maxNameTries = 100

// moveAway moves names (the first is the main file, the others its
// companions) from the folder into its subdirectory sub, under one stem that
// overwrites nothing there, and returns the main file's new path relative to
// the folder. With a reason, it first writes STEM.txt, so a refused file is
// never in failed/ without its explanation.
func (w *Watcher) moveAway(sub string, names []string, reason string, now time.Time) (string, error) {
	dst, err := w.ensureDir(sub)
	if err != nil {
		return "", err
	}
	targets, reasonName, err := freeNames(dst, names, reason != "", now)
	if err != nil {
		return "", err
	}
	if reason != "" {
		if err := writeReason(filepath.Join(dst, reasonName), reason); err != nil {
			return "", err
		}
	}
	for i, name := range names {
		err := os.Rename(filepath.Join(w.Dir, name), filepath.Join(dst, targets[i]))
		if err == nil {
			continue
		}
		if i == 0 {
			if reason != "" {
				_ = os.Remove(filepath.Join(dst, reasonName)) // explains nothing now
			}
			return "", fmt.Errorf("move %s to %s/: %w", name, sub, err)
		}
		// The main file has moved; a sidecar left behind waits alone and is
		// refused after SidecarTimeout, which tells someone to look.
		w.log().Error("hot folder companion file not moved", "file", logName(name), "to", sub, "err", err)
	}
	if sub == doneDir {
		for _, t := range targets {
			if err := stampDone(filepath.Join(dst, t), now); err != nil {
				w.log().Warn("hot folder: imported file not stamped", "file", logName(t), "err", err)
			}
		}
	}
	w.syncDir(dst)
	w.syncDir(w.Dir)
	return filepath.Join(sub, targets[0]), nil
}

// freeNames picks target names for names in dst, all with the same stem as
// the first, and the name of the reason file when withReason. When any of
// them is taken it adds a timestamp to the stem (and a counter if needed),
// so nothing already there is overwritten.
func freeNames(dst string, names []string, withReason bool, now time.Time) ([]string, string, error) {
	stem, _ := splitExt(names[0])
	stamp := now.UTC().Format("20060102T150405Z")
	for try := range maxNameTries {
		s := stem
		if try > 0 {
			s += "." + stamp
		}
		if try > 1 {
			s += fmt.Sprintf("-%d", try)
		}
		targets := make([]string, len(names))
		for i, name := range names {
			_, ext := splitExt(name)
			targets[i] = s + ext
		}
		all := targets
		reasonName := ""
		if withReason {
			reasonName = s + ".txt"
			if slices.ContainsFunc(targets, func(t string) bool { return strings.EqualFold(t, reasonName) }) {
				reasonName = targets[0] + ".txt" // a refused notes.txt gets notes.txt.txt
			}
			all = append(slices.Clone(targets), reasonName)
		}
		free, err := allFree(dst, all)
		if err != nil {
			return nil, "", err
		}
		if free {
			return targets, reasonName, nil
		}
	}
	return nil, "", fmt.Errorf("no free name for %s in %s after %d tries", names[0], dst, maxNameTries)
}

// allFree reports whether none of names exists in dir.
func allFree(dir string, names []string) (bool, error) {
	for _, name := range names {
		_, err := os.Lstat(filepath.Join(dir, name))
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("check %s: %w", filepath.Join(dir, name), err)
		}
	}
	return true, nil
}

// ensureDir creates the subdirectory sub of the folder if it is missing.
func (w *Watcher) ensureDir(sub string) (string, error) {
	dst := filepath.Join(w.Dir, sub)
	err := os.Mkdir(dst, 0o750)
	switch {
	case err == nil:
		w.syncDir(w.Dir)
	case errors.Is(err, fs.ErrExist):
	default:
		return "", fmt.Errorf("create %s: %w", dst, err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		return "", fmt.Errorf("check %s: %w", dst, err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("check %s: not a directory", dst)
	}
	return dst, nil
}

// writeReason writes a refusal's reason to a new file and syncs it, so the
// explanation is on disk before the refused file moves next to it.
func writeReason(path, reason string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("write reason: %w", err)
	}
	if _, err := fh.WriteString(reason + "\n"); err != nil {
		fh.Close()
		return fmt.Errorf("write reason %s: %w", path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("sync reason %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("close reason %s: %w", path, err)
	}
	return nil
}

// syncDir flushes a directory's entries to disk, so a rename into or out of
// it survives a power cut. The rename itself has happened either way, so a
// failure is logged, not returned.
func (w *Watcher) syncDir(dir string) {
	fh, err := os.Open(dir)
	if err == nil {
		err = fh.Sync()
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		w.log().Warn("hot folder directory not synced", "dir", dir, "err", err)
	}
}
