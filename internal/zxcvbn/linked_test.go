package zxcvbn_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestUpstreamInitHeavyPackagesAreNotLinked fails when fse imports
// zxcvbn-go's own frequency or matching packages again: their init would
// add about 80 ms to every start of the binary.
func TestUpstreamInitHeavyPackagesAreNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "fse").Output()
	if err != nil {
		t.Fatalf("go list -deps fse: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/ccojocar/zxcvbn-go/frequency", "github.com/ccojocar/zxcvbn-go/matching":
			t.Errorf("fse links %s, whose init builds the dictionaries at start; use fse/internal/zxcvbn/%s", pkg, pkg[strings.LastIndex(pkg, "/")+1:])
		}
	}
}
