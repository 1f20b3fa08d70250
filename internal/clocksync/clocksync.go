// Package clocksync asks the kernel whether the system clock is kept in
// step by NTP (chrony, systemd-timesyncd). fse's codes, sessions, lockouts
// and report expiries are all times: a clock that drifts or jumps makes
// them wrong without any other sign.
package clocksync

import "errors"

// ErrUnknown means the kernel's clock state cannot be read here (another
// operating system, or a sandbox that forbids asking).
var ErrUnknown = errors.New("clocksync: the clock's synchronisation is not known here")

// Synchronized reports whether the kernel considers the clock
// synchronised, and the maximum error it estimates.
func Synchronized() (ok bool, maxErrorMicros int64, err error) { return synchronized() }
