package diskspace_test

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"fse/internal/diskspace"
)

func TestFreeReadsTheDiskOfAFile(t *testing.T) {
	got, err := diskspace.Free(t.TempDir())
	if runtime.GOOS != "linux" && errors.Is(err, diskspace.ErrUnsupported) {
		t.Skip("free space is not read on", runtime.GOOS)
	}
	if err != nil || got == 0 {
		t.Errorf("Free(temp dir) = %d, %v; want some bytes free", got, err)
	}
}

func TestFreeOfAMissingPathIsAnError(t *testing.T) {
	_, err := diskspace.Free(filepath.Join(t.TempDir(), "non-esiste", "fse.db"))
	if err == nil {
		t.Error("Free(missing path) succeeded, want an error")
	}
}
