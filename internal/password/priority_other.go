//go:build !linux

package password

// lowerThreadPriority does nothing where the nice value is per process.
func lowerThreadPriority() {}
