package main

import (
	"bufio"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of what contrib/ ships: the systemd unit's command line and the
// example environment file are a configuration fse serve accepts.
// (.ci/run checks the unit itself with systemd-analyze verify.)

func TestShippedUnitAndEnvironmentAreAConfigurationServeAccepts(t *testing.T) {
	unit, err := os.ReadFile("contrib/fse.service")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(unit), "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) < 2 || filepath.Base(args[0]) != "fse" || args[1] != "serve" {
		t.Fatalf("ExecStart runs %q, want fse serve", args)
	}
	vars := readEnvFile(t, "contrib/fse.env")
	if len(vars) == 0 {
		t.Fatal("contrib/fse.env sets nothing")
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := serveFlags(fs)
	e := env{getenv: func(k string) string { return vars[k] }}
	if err := parseFlags(fs, args[2:], e); err != nil {
		t.Fatalf("the unit's flags with contrib/fse.env: %v", err)
	}
	if err := c.settle(fs); err != nil {
		t.Fatalf("the unit's flags with contrib/fse.env: %v", err)
	}
	if c.dbPath != "/var/lib/fse/fse.db" || !strings.HasPrefix(c.baseURL, "https://") || len(c.tls.domains) == 0 ||
		c.addr != ":443" || c.observe.metricsAddr == "" || metricsExposed(c.observe.metricsAddr) {
		t.Errorf("the shipped configuration is db %q, base URL %q, domains %v, addr %q, metrics %q; "+
			"want the state directory, HTTPS on :443 and metrics on loopback", c.dbPath, c.baseURL, c.tls.domains, c.addr, c.observe.metricsAddr)
	}
}

// readEnvFile reads NAME=value lines as systemd's EnvironmentFile does,
// a value in double quotes without them (escapes and continuation lines,
// which the example does not use, are not read).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not NAME=value", path, line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	return vars
}
