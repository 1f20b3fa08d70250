package health_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fse/internal/health"
	"fse/internal/testkit"
)

const gib = 1 << 30

// disk is a disk of a size the test sets.
type disk struct{ free atomic.Uint64 }

func (d *disk) read(string) (uint64, error) { return d.free.Load(), nil }

// writes is a database whose writes the test counts, fails and holds up.
type writes struct {
	calls atomic.Int32
	fail  atomic.Bool
	hold  chan struct{} // when set, each write waits for it
}

func (w *writes) probe(ctx context.Context, _ time.Time) error {
	w.calls.Add(1)
	if w.hold != nil {
		select {
		case <-w.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if w.fail.Load() {
		return errors.New("database or disk is full (13)")
	}
	return nil
}

func newMonitor(t *testing.T, free uint64) (*health.Monitor, *disk, *writes, *testkit.Clock, *testkit.LogBuffer) {
	t.Helper()
	d, w, clock, logs := &disk{}, &writes{}, testkit.NewClock(testkit.T0), &testkit.LogBuffer{}
	d.free.Store(free)
	m := &health.Monitor{Path: "/var/lib/fse/fse.db", MinFree: gib, FreeSpace: d.read, ProbeWrite: w.probe,
		Now: clock.Now, Log: logs.Logger()}
	return m, d, w, clock, logs
}

func TestCheckReportsLowSpaceAndFailedWrites(t *testing.T) {
	tests := []struct {
		name       string
		free       uint64
		failWrites bool
		want       []string
	}{
		{"healthy", 10 * gib, false, nil},
		{"low but above the minimum", 3 * gib / 2, false, nil},
		{"below the minimum", gib / 2, false, []string{"free space on the database's disk is below the minimum"}},
		{"writes fail", 10 * gib, true, []string{"the database cannot write: a test write failed"}},
		{"both", 0, true, []string{"free space on the database's disk is below the minimum",
			"the database cannot write: a test write failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, w, _, _ := newMonitor(t, tt.free)
			w.fail.Store(tt.failWrites)
			got := m.Check(context.Background())
			if strings.Join(got.Problems, "\n") != strings.Join(tt.want, "\n") || got.OK() != (len(tt.want) == 0) {
				t.Errorf("Check() = %q (ok %v), want %q", got.Problems, got.OK(), tt.want)
			}
		})
	}
}

func TestSpaceLevels(t *testing.T) {
	tests := []struct {
		free        uint64
		low, tooLow bool
		minFree     uint64
		readFails   bool
		known       bool
	}{
		{free: 3 * gib, minFree: gib, known: true},
		{free: 2 * gib, minFree: gib, known: true},
		{free: 2*gib - 1, minFree: gib, low: true, known: true},
		{free: gib, minFree: gib, low: true, known: true},
		{free: gib - 1, minFree: gib, low: true, tooLow: true, known: true},
		{free: 0, minFree: 0},                    // the check is off
		{free: 0, minFree: gib, readFails: true}, // unknown is neither
	}
	for _, tt := range tests {
		m := &health.Monitor{MinFree: tt.minFree, FreeSpace: func(string) (uint64, error) {
			if tt.readFails {
				return 0, errors.New("statfs: permission denied")
			}
			return tt.free, nil
		}}
		s, err := m.Space()
		if (err != nil) != tt.readFails || s.Known != tt.known || s.Low() != tt.low || s.TooLow() != tt.tooLow {
			t.Errorf("free %d, min %d: Space() = %+v, %v; low %v, too low %v; want known %v, low %v, too low %v",
				tt.free, tt.minFree, s, err, s.Low(), s.TooLow(), tt.known, tt.low, tt.tooLow)
		}
	}
}

func TestWriteProbeIsSharedAndReusedForAFewSeconds(t *testing.T) {
	m, _, w, clock, _ := newMonitor(t, 10*gib)
	w.hold = make(chan struct{})
	ctx := context.Background()

	// Ten load balancers ask at once: one write answers them all.
	var wg sync.WaitGroup
	results := make([]health.Status, 10)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = m.Check(ctx) }()
	}
	for w.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind it
	close(w.hold)
	wg.Wait()
	if got := w.calls.Load(); got != 1 {
		t.Errorf("concurrent checks made %d writes, want 1", got)
	}
	for i, r := range results {
		if !r.OK() {
			t.Errorf("check %d: %q", i, r.Problems)
		}
	}

	// Within a few seconds the answer is reused, even a changed one...
	w.fail.Store(true)
	clock.Advance(4 * time.Second)
	if got := m.Check(ctx); !got.OK() || w.calls.Load() != 1 {
		t.Errorf("4 s later: %q after %d writes, want the cached ok after 1", got.Problems, w.calls.Load())
	}
	// ...then a new probe finds the failure, and keeps it as long.
	clock.Advance(2 * time.Second)
	if got := m.Check(ctx); got.OK() || w.calls.Load() != 2 {
		t.Errorf("6 s later: %q after %d writes, want a failed write after 2", got.Problems, w.calls.Load())
	}
	w.fail.Store(false)
	if got := m.Check(ctx); got.OK() {
		t.Error("a failed probe was forgotten at once: a poller would write at every request")
	}
	clock.Advance(6 * time.Second)
	if got := m.Check(ctx); !got.OK() {
		t.Errorf("writes back: %q", got.Problems)
	}
}

func TestWriteProbeFailureIsLoggedOnceUntilItRecovers(t *testing.T) {
	m, _, w, clock, logs := newMonitor(t, 10*gib)
	w.fail.Store(true)
	for range 3 {
		m.Check(context.Background())
		clock.Advance(10 * time.Second)
	}
	if got := strings.Count(logs.String(), "the database cannot write"); got != 1 {
		t.Errorf("3 failed probes logged %d times, want once:\n%s", got, logs)
	}
	w.fail.Store(false)
	m.Check(context.Background())
	if !strings.Contains(logs.String(), "the database takes writes again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
}

func TestWatchWarnsAtStartAndHourlyWhileTheDiskStaysLow(t *testing.T) {
	m, d, _, clock, logs := newMonitor(t, 3*gib/2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Watch(ctx, time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	const warning = "free space on the database's disk is running low"
	waitFor := func(what string, n int, text string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(logs.String(), text) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q logged %d times, want %d:\n%s", what, text, strings.Count(logs.String(), text), n, logs)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("at start", 1, warning)
	time.Sleep(30 * time.Millisecond) // thirty checks on the same clock
	if got := strings.Count(logs.String(), warning); got != 1 {
		t.Errorf("within the hour: warned %d times, want 1", got)
	}
	if !strings.Contains(logs.String(), `free="1.5 GiB"`) {
		t.Errorf("the warning does not say how much is left:\n%s", logs)
	}
	clock.Advance(61 * time.Minute)
	waitFor("an hour later", 2, warning)

	// Worse: said at once, as an error.
	d.free.Store(gib / 2)
	waitFor("below the minimum", 1, "below the minimum: /healthz reports degraded")
	d.free.Store(10 * gib)
	waitFor("space back", 1, "back above twice the minimum")
}

func TestWatchIsQuietWhileTheDiskHasRoom(t *testing.T) {
	m, _, _, _, logs := newMonitor(t, 10*gib)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	m.Watch(ctx, time.Millisecond)
	if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "watching the free space") {
		t.Errorf("a roomy disk logged:\n%s", got)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 4096: "4 KiB", 3 << 19: "1.5 MiB", 5 << 30: "5.0 GiB"} {
		if got := health.Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
