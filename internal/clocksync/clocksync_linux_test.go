package clocksync_test

import (
	"testing"

	"fse/internal/clocksync"
)

func TestSynchronizedReadsTheKernelsClockState(t *testing.T) {
	ok, maxErr, err := clocksync.Synchronized()
	if err != nil {
		t.Fatalf("Synchronized() = %v: reading the state needs no privilege on Linux", err)
	}
	// The machine's clock may or may not be synchronised; either way the
	// kernel's estimated error is never negative.
	if maxErr < 0 {
		t.Errorf("maximum error = %d µs (synchronised %v), want >= 0", maxErr, ok)
	}
	t.Logf("synchronised %v, maximum error %d µs", ok, maxErr)
}
