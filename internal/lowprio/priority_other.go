//go:build !linux

package lowprio

// lowerThreadPriority does nothing where the nice value is per process.
func lowerThreadPriority() {}
