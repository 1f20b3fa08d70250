// Package health says whether the portal can go on serving: a database
// that still takes writes, and room left on the disk that holds it. With
// the disk full every logged-in page and every download fails (each writes
// a session or an audit row) while the database still answers reads, so
// answering a query is not enough to be healthy.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"fse/internal/diskspace"
)

const (
	// probeEvery is how long a write probe's answer is reused: a load
	// balancer polling /healthz every second must not write every second.
	probeEvery = 5 * time.Second
	// probeTimeout bounds a probe waiting for the one writer connection.
	probeTimeout = 3 * time.Second
)

// Monitor checks the database's writes and disk for /healthz and the admin
// pages, and logs when the disk runs low (Watch). Set the fields before
// first use; the zero values of the optional ones are the defaults.
type Monitor struct {
	// Path is the database file whose disk is watched.
	Path string
	// MinFree is the free space below which the portal reports itself
	// degraded; below twice as much, admins are warned. 0 turns the disk
	// check off.
	MinFree uint64
	// FreeSpace reads the free bytes of the disk holding a path; nil is
	// diskspace.Free. Tests give a disk of any size.
	FreeSpace func(path string) (uint64, error)
	// ProbeWrite commits one small write (db.DB.ProbeWrite).
	ProbeWrite func(ctx context.Context, now time.Time) error
	// Now is the clock the probe's answer ages by.
	Now func() time.Time
	// Log receives the probe's failures and recoveries, and Watch's notes.
	Log *slog.Logger

	mu    sync.Mutex
	probe probeState
}

// probeState is the last write probe's answer, shared by every caller.
type probeState struct {
	done bool
	at   time.Time
	err  error
	// running is closed when the probe in progress ends; nil when none is.
	running chan struct{}
}

// Space is the room left on the database's disk.
type Space struct {
	Free, Min uint64
	// Known is false when the check is off or the free space was not read.
	Known bool
}

// Low reports whether the free space is below twice the minimum, when
// admins are warned, before it runs out.
func (s Space) Low() bool { return s.Known && s.Min > 0 && s.Free < 2*s.Min }

// TooLow reports whether the free space is below the minimum, when the
// portal reports itself degraded.
func (s Space) TooLow() bool { return s.Known && s.Min > 0 && s.Free < s.Min }

// Space reads the free space of the database's disk now. A disk that
// cannot be read is not Known, and the error says why.
func (m *Monitor) Space() (Space, error) {
	s := Space{Min: m.MinFree}
	if m.MinFree == 0 {
		return s, nil
	}
	read := m.FreeSpace
	if read == nil {
		read = diskspace.Free
	}
	free, err := read(m.Path)
	if err != nil {
		return s, err
	}
	s.Free, s.Known = free, true
	return s, nil
}

// Status is what Check found.
type Status struct {
	// Problems says, in English for the operator, what is wrong; empty
	// when the portal is healthy.
	Problems []string
}

// OK reports whether nothing is wrong.
func (s Status) OK() bool { return len(s.Problems) == 0 }

// Check tells whether the database takes writes (a probe, run at most once
// every few seconds whatever the number of callers) and whether the free
// space is above the minimum.
func (m *Monitor) Check(ctx context.Context) Status {
	var st Status
	if s, _ := m.Space(); s.TooLow() {
		// How much is left is for the log and the admins, not for anyone
		// who can reach /healthz.
		st.Problems = append(st.Problems, "free space on the database's disk is below the minimum")
	}
	if err := m.writable(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			st.Problems = append(st.Problems, fmt.Sprintf("the database did not take a test write within %s", probeTimeout))
		} else {
			st.Problems = append(st.Problems, "the database cannot write: a test write failed")
		}
	}
	return st
}

// writable returns the answer of a recent write probe, running one when
// the last is older than probeEvery. Concurrent callers share one probe;
// it runs to its own timeout even if the caller that started it leaves.
func (m *Monitor) writable(ctx context.Context) error {
	m.mu.Lock()
	if p := m.probe; p.done && p.running == nil {
		if age := m.Now().Sub(p.at); age >= 0 && age < probeEvery {
			m.mu.Unlock()
			return p.err
		}
	}
	if running := m.probe.running; running != nil {
		m.mu.Unlock()
		select {
		case <-running:
		case <-ctx.Done():
			return ctx.Err()
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.probe.err
	}
	running := make(chan struct{})
	m.probe.running = running
	m.mu.Unlock()

	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	err := m.ProbeWrite(pctx, m.Now())
	cancel()

	m.mu.Lock()
	failedBefore := m.probe.done && m.probe.err != nil
	m.probe = probeState{done: true, at: m.Now(), err: err}
	m.mu.Unlock()
	close(running)
	// Logged when it changes, not at every probe of a long outage.
	switch {
	case err != nil && !failedBefore:
		m.Log.Error("the database cannot write: /healthz reports degraded", "err", err)
	case err == nil && failedBefore:
		m.Log.Info("the database takes writes again")
	}
	return err
}

// Bytes writes a size for the operator, in binary units.
func Bytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
