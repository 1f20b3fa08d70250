package replica

import "syscall"

// childAttr makes the replicator die with fse: a killed fse must not leave
// a replicator behind that a restarted fse would run a second one beside.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
