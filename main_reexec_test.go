package main

import (
	"context"
	"os"
	"testing"
)

// runAsFSE in the environment makes this test binary run as fse itself,
// so a test can start a real fse process and kill it with SIGKILL.
const runAsFSE = "FSE_TEST_RUN_AS_FSE"

func TestMain(m *testing.M) {
	if os.Getenv(runAsFSE) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
