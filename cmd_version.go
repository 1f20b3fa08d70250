package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"fse/db"
)

// Set at link time by a release build:
//
//	go build -ldflags "-X main.version=1.4.0 -X main.commit=$(git rev-parse HEAD) -X main.buildDate=$(date -u +%FT%TZ)"
//
// A build without them falls back on what the Go toolchain recorded
// (debug.ReadBuildInfo): the module version of `go install fse@v1.4.0`,
// or the VCS revision and time of a build in a git checkout.
var version, commit, buildDate string

// buildInfo says which fse this binary is.
type buildInfo struct {
	Version, Commit, Date, GoVersion string
	// Modified marks a build from a checkout with uncommitted changes.
	Modified bool
	// Schema is the database schema version this binary migrates to.
	Schema int
}

// currentBuild reads the link-time values, then the toolchain's record.
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: buildDate, GoVersion: runtime.Version(), Schema: db.LatestSchemaVersion()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = b.Modified || (s.Value == "true" && commit == "")
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func cmdVersion(_ context.Context, args []string, e env) error {
	fs := newFlags("version", "version", e)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	b := currentBuild()
	modified := ""
	if b.Modified {
		modified = " (with uncommitted changes)"
	}
	fmt.Fprintf(e.stdout, "fse %s\ncommit  %s%s\nbuilt   %s\ngo      %s\nschema  %d\n", b.Version, b.Commit, modified, b.Date, b.GoVersion, b.Schema)
	return nil
}
