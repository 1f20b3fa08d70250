// Package diskspace tells how much room is left on the disk that holds a
// file: the portal watches the disk of its database, because a full disk
// makes every write fail (sessions, audit rows, uploads) while reads go on.
package diskspace

import "errors"

// ErrUnsupported means this operating system's free space cannot be read
// here; fse targets Linux, and builds elsewhere only for development.
var ErrUnsupported = errors.New("diskspace: free space is not known on this operating system")

// Free returns the bytes an unprivileged process may still write on the
// filesystem holding path: the space reserved for root is not counted,
// since fse does not run as root.
func Free(path string) (uint64, error) { return free(path) }
