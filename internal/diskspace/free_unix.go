//go:build linux || darwin || freebsd

package diskspace

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func free(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	// The field types differ between systems; the values never are negative.
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
