package main

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"fse/db"
)

// Tests of fse version: which fse a binary is, and which schema it runs.

func TestVersionTellsWhichFseAndSchemaThisIs(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCmd(t, invocation{args: args, env: safeEnv(t)})
		if r.code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		for _, want := range []string{"fse ", "go      " + runtime.Version(), "schema  " + strconv.Itoa(db.LatestSchemaVersion())} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v printed %q, lacking %q", args, r.stdout, want)
			}
		}
	}
}

func TestVersionPrintsWhatTheReleaseBuildLinkedIn(t *testing.T) {
	// What `go build -ldflags "-X main.version=... -X main.commit=... -X
	// main.buildDate=..."` sets (.ci/run checks a real such build).
	saved := [3]string{version, commit, buildDate}
	t.Cleanup(func() { version, commit, buildDate = saved[0], saved[1], saved[2] })
	version, commit, buildDate = "1.4.0", "0bf314f5d2c9a1e7b3c4d5e6f708192a3b4c5d6e", "2026-11-30T08:00:00Z"

	r := runCmd(t, invocation{args: []string{"version"}, env: safeEnv(t)})
	want := "fse 1.4.0\ncommit  0bf314f5d2c9a1e7b3c4d5e6f708192a3b4c5d6e\nbuilt   2026-11-30T08:00:00Z\n"
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("fse version = %d %q, want it to start with %q", r.code, r.stdout, want)
	}
}
