package db

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// The WAL's file formats (sqlite.org/walformat.html): the WAL header and
// frame headers, and the wal-index header at the start of the -shm file.
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walIndexHeaderSize = 48
	walIndexVersion    = 3007000
	// walSizeLimit is the writer's journal_size_limit: a WAL file this
	// much larger than its live part is cut back even without a deletion.
	walSizeLimit = 64 << 20
)

// RunBesideReplicator is RunCheckpointer for a database an outside
// replicator (Litestream) checkpoints: it holds a read transaction that
// keeps everyone else's checkpoints from completing, and checkpoints
// itself, PASSIVE, at least every checkpoint interval while there are
// changes. Such a checkpoint copies the WAL into the database and the next
// write restarts the WAL from its beginning, but the file keeps its old
// length: frames of earlier generations, deleted rows among them, stay
// past the live end. So after a deletion this waits for the WAL to restart
// (its header's salts change) and then, holding the write lock, cuts the
// file at the end of its live frames, as SQLite's journal_size_limit does.
// If the replicator has not checkpointed within ErasureDeadline (it may be
// restarting), it truncates the WAL itself once no one holds a snapshot.
func (d *DB) RunBesideReplicator(ctx context.Context, every time.Duration, background func(func()), log *slog.Logger) {
	if background == nil {
		background = func(fn func()) { fn() }
	}
	// The writer's own automatic checkpoints could never complete anyway.
	if _, err := d.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		log.Error("checkpointer: cannot leave checkpoints to the replicator", "err", err)
		return
	}
	defer d.w.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_autocheckpoint = 1000")
	tick := time.NewTicker(every)
	defer tick.Stop()
	var mark []byte
	var markAt, warned, tried time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-d.deleted.signal:
		}
		since := d.deleted.pending()
		if since.IsZero() {
			mark = nil
			if fi, err := os.Stat(d.Path + "-wal"); err == nil && fi.Size() > walSizeLimit {
				background(func() { _, err = d.cutWALTail(ctx) })
				if err != nil {
					log.Warn("checkpointer: cut the WAL back", "err", err)
				}
			}
			continue
		}
		gen, err := d.walGeneration()
		if err != nil {
			log.Warn("checkpointer: read the WAL header", "err", err)
			continue
		}
		if mark == nil || d.deleted.latest().After(markAt) {
			// The generation that holds the latest deletion (or a later one).
			mark, markAt = gen, time.Now()
			if len(gen) > 0 {
				continue
			}
		}
		if !bytes.Equal(gen, mark) || len(gen) == 0 {
			var cut int64
			background(func() { cut, err = d.cutWALTail(ctx) })
			if err == nil {
				d.deleted.erasedUpTo(markAt)
				mark = nil
				log.Info("deleted data erased from the WAL", "after_ms", time.Since(since).Milliseconds(), "by", "replicator checkpoint",
					"cut_bytes", cut)
				continue
			}
			log.Warn("checkpointer: cut the WAL after the replicator's checkpoint", "err", err)
		}
		if time.Since(since) <= ErasureDeadline {
			continue
		}
		if time.Since(tried) >= truncateRetry {
			tried = time.Now()
			background(func() { err = d.Checkpoint(ctx) })
			if err == nil {
				mark = nil
				log.Info("deleted data erased from the WAL", "after_ms", time.Since(since).Milliseconds(), "by", "own truncation")
				continue
			}
		}
		if time.Since(warned) > ErasureDeadline {
			warned = time.Now()
			log.Warn("deleted data still in the WAL: the replicator has not checkpointed", "waiting_s", int(time.Since(since).Seconds()))
		}
	}
}

// DeletionPending reports whether data deleted since the last erasure may
// still be in the WAL file.
func (d *DB) DeletionPending() bool { return !d.deleted.pending().IsZero() }

// latest returns when the latest deletion happened.
func (dl *deletions) latest() time.Time {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.last
}

// erasedUpTo clears the deletions noted before mark; one noted after it
// stays pending.
func (dl *deletions) erasedUpTo(mark time.Time) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	switch {
	case dl.since.IsZero():
	case dl.last.Before(mark):
		dl.since = time.Time{}
	default:
		dl.since = dl.last
	}
}

// walGeneration returns the salts of the WAL header, which change each
// time the WAL restarts from its beginning; nil if the WAL is empty.
func (d *DB) walGeneration() ([]byte, error) {
	f, err := os.Open(d.Path + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	hdr := make([]byte, walHeaderSize)
	if _, err := io.ReadFull(f, hdr); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return hdr[16:24], nil
}

// cutWALTail truncates the WAL file after its last committed frame, where
// only frames of earlier generations lie, and returns how many bytes it
// cut. It holds the write lock meanwhile (BEGIN IMMEDIATE on the writer),
// so no frame is appended, and reads where the live frames end from the
// wal-index, checking it against the WAL header and the last frame.
func (d *DB) cutWALTail(ctx context.Context) (int64, error) {
	var cut int64
	err := d.tx(ctx, func(*sql.Tx) error {
		var err error
		cut, err = cutAfterLiveFrames(d.Path)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cut the WAL: %w", err)
	}
	return cut, nil
}

func cutAfterLiveFrames(path string) (int64, error) {
	f, err := os.OpenFile(path+"-wal", os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < walHeaderSize {
		return 0, err
	}
	hdr := make([]byte, walHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return 0, err
	}
	if magic := binary.BigEndian.Uint32(hdr); magic&^1 != 0x377f0682 {
		return 0, fmt.Errorf("not a WAL file (magic %#x)", magic)
	}
	pageSize := int64(binary.BigEndian.Uint32(hdr[8:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	shm := make([]byte, 2*walIndexHeaderSize)
	s, err := os.Open(path + "-shm")
	if err != nil {
		return 0, err
	}
	_, err = s.ReadAt(shm, 0)
	s.Close()
	if err != nil {
		return 0, fmt.Errorf("read the wal-index: %w", err)
	}
	// Two copies of the index header, equal unless a writer is midway.
	idx := shm[:walIndexHeaderSize]
	if !bytes.Equal(idx, shm[walIndexHeaderSize:]) || binary.NativeEndian.Uint32(idx) != walIndexVersion {
		return 0, errors.New("the wal-index header is not readable")
	}
	if !bytes.Equal(idx[32:40], hdr[16:24]) {
		return 0, errors.New("the wal-index is not of the WAL file's generation")
	}
	mxFrame := int64(binary.NativeEndian.Uint32(idx[16:]))
	if mxFrame == 0 {
		return 0, nil
	}
	frameSize := walFrameHeaderSize + pageSize
	end := walHeaderSize + mxFrame*frameSize
	if fi.Size() <= end {
		return 0, nil
	}
	last := make([]byte, walFrameHeaderSize)
	if _, err := f.ReadAt(last, end-frameSize); err != nil {
		return 0, err
	}
	if binary.BigEndian.Uint32(last[4:]) == 0 || !bytes.Equal(last[8:16], hdr[16:24]) {
		return 0, errors.New("the last live frame of the WAL is not a commit of its generation")
	}
	if err := f.Truncate(end); err != nil {
		return 0, err
	}
	return fi.Size() - end, nil
}

// EraseWAL copies the WAL of the database at path into it and truncates
// the WAL, on a connection of its own: for after the replicator stopped,
// when a deletion is still in the WAL.
func EraseWAL(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", uriPath(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer c.Close()
	var busy, frames, done int
	if err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	if busy != 0 {
		return ErrCheckpointBusy
	}
	return nil
}
