//go:build !linux

package replica

import "syscall"

// childAttr: outside Linux there is no parent-death signal; run fse under
// a service manager that stops the whole process group (systemd does).
func childAttr() *syscall.SysProcAttr { return nil }
