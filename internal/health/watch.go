package health

import (
	"context"
	"errors"
	"time"

	"fse/internal/diskspace"
)

// warnEvery is how often a disk that stays low is logged again.
const warnEvery = time.Hour

// level is how low the disk is.
type level int

const (
	enough level = iota
	low          // below twice the minimum: admins are warned
	tooLow       // below the minimum: /healthz reports degraded
)

func levelOf(s Space) level {
	switch {
	case s.TooLow():
		return tooLow
	case s.Low():
		return low
	}
	return enough
}

// Watch checks the database's disk at once (the start-up log) and then
// every `every` until ctx ends. It logs a warning while the free space is
// below twice the minimum and an error below the minimum: when that starts
// or gets worse, then at most once an hour while it lasts, and a note when
// the space is back. The hours are counted on the Monitor's clock.
func (m *Monitor) Watch(ctx context.Context, every time.Duration) {
	if m.MinFree == 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var was level
	var logged time.Time // when the disk's state was last logged, zero if never
	for first := true; ; first = false {
		now := m.Now()
		s, err := m.Space()
		switch {
		case errors.Is(err, diskspace.ErrUnsupported):
			m.Log.Warn("free space of the database's disk is not known on this system: not watched", "path", m.Path)
			return
		case err != nil:
			if logged.IsZero() || now.Sub(logged) >= warnEvery {
				m.Log.Warn("cannot read the free space of the database's disk", "err", err)
				logged = now
			}
		default:
			is := levelOf(s)
			if first && is == enough {
				m.Log.Info("watching the free space of the database's disk", "free", Bytes(s.Free), "min_free", Bytes(s.Min))
			}
			if is > was || (is != enough && now.Sub(logged) >= warnEvery) {
				m.logSpace(is, s)
				logged = now
			} else if is == enough && was != enough {
				m.Log.Info("free space on the database's disk is back above twice the minimum",
					"free", Bytes(s.Free), "min_free", Bytes(s.Min))
				logged = time.Time{}
			}
			was = is
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (m *Monitor) logSpace(l level, s Space) {
	attrs := []any{"free", Bytes(s.Free), "min_free", Bytes(s.Min), "path", m.Path}
	if l == tooLow {
		m.Log.Error("free space on the database's disk is below the minimum: /healthz reports degraded, writes may fail", attrs...)
		return
	}
	m.Log.Warn("free space on the database's disk is running low: below twice the minimum", attrs...)
}
