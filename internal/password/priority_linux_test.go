package password

import (
	"context"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// niceness returns the nice value of the calling thread (the raw
// getpriority call answers 20 - nice).
func niceness(t *testing.T) int {
	t.Helper()
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

// TestHashesRunAtLowestPriorityOnTheirOwnThread proves a hash runs on a
// thread of nice 19 while the caller's thread keeps its priority, and that
// the extra P a server gives each running hash is taken back after it.
func TestHashesRunAtLowestPriorityOnTheirOwnThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceness(t)
	procs := runtime.GOMAXPROCS(0)
	h := newTestHasher(t, 1)
	h.SpareProcs = true
	var inside, procsInside int
	if err := h.run(context.Background(), func() {
		inside = niceness(t)
		procsInside = runtime.GOMAXPROCS(0)
	}); err != nil {
		t.Fatal(err)
	}
	if inside != 19 {
		t.Errorf("nice value of the hashing thread = %d, want 19", inside)
	}
	if got := niceness(t); got != before {
		t.Errorf("nice value of the caller's thread changed from %d to %d", before, got)
	}
	if procsInside != procs+1 {
		t.Errorf("GOMAXPROCS while hashing = %d, want %d", procsInside, procs+1)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS after the hash = %d, want %d again", got, procs)
	}
	if _, err := h.Hash(context.Background(), "corretto cavallo batteria graffetta"); err != nil {
		t.Fatal(err)
	}
}
