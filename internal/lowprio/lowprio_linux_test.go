package lowprio

import (
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

// TestRunUsesALowPriorityThreadAndASpareP proves the work runs on a thread
// of nice 19 while the caller's thread keeps its priority, and that the
// extra P it gets is taken back after it.
func TestRunUsesALowPriorityThreadAndASpareP(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceness(t)
	procs := runtime.GOMAXPROCS(0)
	var inside, procsInside int
	var ioprio uintptr
	Run(func() {
		ioprio, _, _ = unix.Syscall(unix.SYS_IOPRIO_GET, 1, uintptr(unix.Gettid()), 0)
		inside = niceness(t)
		procsInside = runtime.GOMAXPROCS(0)
	})
	if ioprio != ioprioBestEffortLowest {
		t.Errorf("I/O priority of the thread fn ran on = %#x, want %#x", ioprio, ioprioBestEffortLowest)
	}
	if inside != 19 {
		t.Errorf("nice value of the thread fn ran on = %d, want 19", inside)
	}
	if got := niceness(t); got != before {
		t.Errorf("nice value of the caller's thread changed from %d to %d", before, got)
	}
	if procsInside != procs+1 {
		t.Errorf("GOMAXPROCS while fn runs = %d, want %d", procsInside, procs+1)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS after Run = %d, want %d again", got, procs)
	}
}
