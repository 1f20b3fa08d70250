package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"
)

// ErrCheckpointBusy means a reader or a writer kept the WAL from being
// truncated just now: try again later. It is not a failure of the
// deletion, which is committed.
var ErrCheckpointBusy = errors.New("wal checkpoint busy: a reader or writer held the WAL; try again later")

// Checkpoint tuning: how long a checkpoint waits for readers before it
// gives up until the next tick, and how large the WAL may grow before it
// is copied back even without a deletion.
const (
	checkpointBusyTimeout = 200 * time.Millisecond
	walCopyBackFrames     = 1000
	truncateRetry         = 10 * time.Second
	// ErasureDeadline is the bound the README states: deleted pages are
	// gone from the WAL file within this long of the deletion, unless a
	// reader holds an old snapshot for longer (then it is logged).
	ErasureDeadline = 60 * time.Second
)

// deletions records when deleted data first waited for the WAL's truncation.
type deletions struct {
	mu    sync.Mutex
	since time.Time
	// last is the latest deletion, which RunBesideReplicator waits on.
	last   time.Time
	signal chan struct{}
}

// NoteDeletion tells the background checkpointer that rows were deleted:
// secure_delete zeroed their pages in the database, but the WAL frames
// they were replaced in still hold the old bytes until it is truncated.
// The request path never waits for that; RunCheckpointer does it.
func (d *DB) NoteDeletion() {
	d.deleted.mu.Lock()
	d.deleted.last = time.Now()
	if d.deleted.since.IsZero() {
		d.deleted.since = d.deleted.last
	}
	d.deleted.mu.Unlock()
	select {
	case d.deleted.signal <- struct{}{}:
	default:
	}
}

// pending returns when the oldest deletion not yet erased from the WAL
// happened, or the zero time.
func (dl *deletions) pending() time.Time {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.since
}

// erased clears the pending deletions older than the truncation.
func (dl *deletions) erased(before time.Time) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if !dl.since.IsZero() && dl.since.Before(before) {
		dl.since = time.Time{}
	}
}

// checkpointConn is the connection checkpoints run on: not the writer, so
// a checkpoint waiting for readers never holds up the request path, and
// with a short busy timeout, so it gives up and retries instead of waiting.
func (d *DB) checkpointConn() (*sql.DB, error) {
	d.deleted.mu.Lock()
	defer d.deleted.mu.Unlock()
	if d.ck != nil {
		return d.ck, nil
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", checkpointBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	c, err := sql.Open("sqlite", uriPath(d.Path)+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	c.SetConnMaxIdleTime(0)
	d.ck = c
	return c, nil
}

// Checkpoint copies the WAL into the database file and truncates it, so
// no frame of a deleted page survives in the -wal file. It never waits
// long: if a reader still uses an older snapshot it returns
// ErrCheckpointBusy, and RunCheckpointer (or the next run) tries again.
func (d *DB) Checkpoint(ctx context.Context) error {
	c, err := d.checkpointConn()
	if err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	start := time.Now()
	var busy, logFrames, done int
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done)
	switch {
	case isBusy(err), err == nil && busy != 0:
		return ErrCheckpointBusy
	case err != nil:
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	d.deleted.erased(start)
	return nil
}

// copyBack copies what it can of the WAL into the database without waiting
// for anyone (PASSIVE), so the WAL does not grow while nothing is deleted.
// It returns the WAL's frames and how many of them are now in the database:
// fewer means a reader still uses an older snapshot.
func (d *DB) copyBack(ctx context.Context) (frames, copied int, err error) {
	c, err := d.checkpointConn()
	if err != nil {
		return 0, 0, err
	}
	var busy int
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if isBusy(err) {
		return frames, 0, nil
	}
	return frames, copied, err
}

func isBusy(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == 5 // SQLITE_BUSY and its extended codes
}

// RunCheckpointer keeps the WAL small and erases deleted data from it, in
// the background, until ctx ends. It turns off the writer's own automatic
// checkpoints, which made every large upload copy its pages back inside
// its commits: every tick it copies the WAL back without waiting for
// anyone, and after a deletion (NoteDeletion) it truncates the WAL as soon
// as no reader holds an older snapshot, logging how long the deleted bytes
// stayed findable. Each checkpoint runs through background (nil: directly),
// with which the server runs them at a low CPU priority: copying the WAL
// back after a large purge is work that pages must not wait behind.
func (d *DB) RunCheckpointer(ctx context.Context, every time.Duration, background func(func()), log *slog.Logger) {
	if background == nil {
		background = func(fn func()) { fn() }
	}
	if _, err := d.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		log.Error("checkpointer: cannot take over checkpoints", "err", err)
		return
	}
	defer d.w.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_autocheckpoint = 1000")
	tick := time.NewTicker(every)
	defer tick.Stop()
	warned, tried := time.Time{}, time.Time{}
	for {
		select {
		case <-ctx.Done():
			d.Checkpoint(context.WithoutCancel(ctx))
			return
		case <-tick.C:
		case <-d.deleted.signal:
		}
		var frames, copied int
		var err error
		background(func() { frames, copied, err = d.copyBack(ctx) })
		if err != nil {
			log.Warn("checkpointer: copy back", "err", err)
			continue
		}
		since := d.deleted.pending()
		if since.IsZero() {
			if frames > 64*walCopyBackFrames {
				// A large WAL is cut back even without a deletion.
				background(func() { d.Checkpoint(ctx) })
			}
			continue
		}
		// Truncating waits for the writer and for readers of older
		// snapshots, and keeps writers out meanwhile: try it when the copy
		// shows no reader is behind (a backup's long read, say), and in any
		// case every truncateRetry, lest steady writes keep the two apart.
		err = ErrCheckpointBusy
		if copied == frames || time.Since(tried) >= truncateRetry {
			tried = time.Now()
			background(func() { err = d.Checkpoint(ctx) })
		}
		switch {
		case err == nil:
			log.Info("deleted data erased from the WAL", "after_ms", time.Since(since).Milliseconds())
		case errors.Is(err, ErrCheckpointBusy):
			if time.Since(since) > ErasureDeadline && time.Since(warned) > ErasureDeadline {
				warned = time.Now()
				log.Warn("deleted data still in the WAL: a reader holds an old snapshot", "waiting_s", int(time.Since(since).Seconds()))
			}
		default:
			log.Error("checkpointer", "err", err)
		}
	}
}
