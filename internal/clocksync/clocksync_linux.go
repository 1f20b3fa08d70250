package clocksync

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func synchronized() (bool, int64, error) {
	// Modes 0 only reads, which needs no privilege.
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, 0, fmt.Errorf("%w: %v", ErrUnknown, err)
	}
	return state != unix.TIME_ERROR, int64(tx.Maxerror), nil
}
