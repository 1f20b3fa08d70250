package lowprio

import "golang.org/x/sys/unix"

// ioprioBestEffortLowest is the I/O priority class "best effort" (2) at its
// lowest level (7), as ioprio_set(2) encodes it.
const ioprioBestEffortLowest = 2<<13 | 7

// lowerThreadPriority gives the calling thread the lowest CPU priority
// (nice 19) and the lowest best-effort I/O priority. On Linux both are per
// thread; lowering them needs no privilege. A failure leaves the thread as
// it was: the work still runs.
func lowerThreadPriority() {
	tid := unix.Gettid()
	_ = unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
	_, _, _ = unix.Syscall(unix.SYS_IOPRIO_SET, 1 /* IOPRIO_WHO_PROCESS */, uintptr(tid), ioprioBestEffortLowest)
}
