//go:build !(linux || darwin || freebsd)

package diskspace

func free(string) (uint64, error) { return 0, ErrUnsupported }
