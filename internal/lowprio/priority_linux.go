package lowprio

import "golang.org/x/sys/unix"

// lowerThreadPriority gives the calling thread the lowest CPU priority
// (nice 19). On Linux the nice value is per thread; raising it needs no
// privilege. A failure leaves the thread as it was: hashing still works.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
