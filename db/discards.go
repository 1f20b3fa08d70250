package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// pendingDiscards holds the drafts whose discard failed. A full disk makes the
// deletion fail like the upload before it, and the expire job would
// otherwise leave the draft for an hour; RetryDiscards deletes them at its
// next run instead. The set lives in memory only: after a restart the
// hour-old rule of the expire job still removes them.
type pendingDiscards struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (u *pendingDiscards) add(id int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[int64]struct{}{}
	}
	u.ids[id] = struct{}{}
}

func (u *pendingDiscards) remove(id int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.ids, id)
}

func (u *pendingDiscards) list() []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	ids := make([]int64, 0, len(u.ids))
	for id := range u.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// DiscardDrafts removes drafts whose submission failed, with their chunks.
// A draft it cannot remove (the disk is full, say) is never visible to
// staff, and is remembered for RetryDiscards; the error says how many.
func (d *DB) DiscardDrafts(ctx context.Context, drafts []Draft) error {
	var errs []error
	for _, dr := range drafts {
		if _, err := d.discardDraft(ctx, dr.ID); err != nil {
			d.undiscarded.add(dr.ID)
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d drafts kept for a retry: %w", len(errs), errors.Join(errs...))
	}
	return nil
}

// discardDraft deletes the draft id, if it is still one, with its chunks.
func (d *DB) discardDraft(ctx context.Context, id int64) (deleted bool, err error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM documents WHERE id = ? AND complete = 0`, id)
	if err != nil {
		return false, fmt.Errorf("discard draft %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RetryDiscards removes the drafts whose discard failed since the start of
// the process, whatever their age, and returns how many it removed and how
// many are still left (with the error of the first that failed again).
func (d *DB) RetryDiscards(ctx context.Context) (removed, left int, err error) {
	for _, id := range d.undiscarded.list() {
		deleted, derr := d.discardDraft(ctx, id)
		if derr != nil {
			left++
			if err == nil {
				err = derr
			}
			continue
		}
		d.undiscarded.remove(id)
		if deleted {
			removed++
		}
	}
	if err != nil {
		return removed, left, fmt.Errorf("retry discards: %w", err)
	}
	return removed, left, nil
}
