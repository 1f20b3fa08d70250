// Package lowprio runs background work (password hashes, WAL checkpoints)
// at the lowest CPU priority, so that pages stay fast while it runs.
//
// Go preempts a goroutine only every 10 ms, and a password hash takes tens
// of milliseconds of CPU: on a small server a page request would wait
// behind it. Run gives the work an operating-system thread of its own at
// nice 19 and, while it runs, a P (GOMAXPROCS) of its own: the work never
// holds the P a page request waits for, and the kernel hands the core to
// the page first.
package lowprio

import (
	"runtime"
	"sync"
)

// Run runs fn on a new thread of the lowest priority and returns when fn
// has returned.
func Run(fn func()) {
	procs.add(1)
	defer procs.add(-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread, now of low priority, exits with this
		// goroutine instead of going back to serve other goroutines.
		runtime.LockOSThread()
		lowerThreadPriority()
		fn()
	}()
	<-done
}

// spareProcs counts the Runs in progress, each with a P of its own.
type spareProcs struct {
	mu         sync.Mutex
	base, used int
}

var procs spareProcs

// add changes the number of extra Ps by n. Changing GOMAXPROCS stops the
// world for some microseconds, twice per run of tens of milliseconds. Ps
// are added only while work runs: one P more than there are cores all the
// time made every page 40% more expensive, its goroutines' threads taking
// turns on a core.
func (s *spareProcs) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == 0 {
		s.base = runtime.GOMAXPROCS(0)
	}
	s.used += n
	runtime.GOMAXPROCS(s.base + s.used)
}
