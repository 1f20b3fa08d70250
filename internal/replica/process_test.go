package replica

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fse/internal/testkit"
)

// fakeLitestream writes a script that answers `version` like Litestream
// and, for `replicate`, records its start and its configuration, then
// either dies at once (die) or runs until SIGTERM, which it records.
func fakeLitestream(t *testing.T, version string, die bool) (bin, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	run := `sleep 60 & pid=$!
  echo start >> "` + record + `"
  wait $pid`
	if die {
		run = `echo "Error: cannot open the replica" >&2
  echo start >> "` + record + `"
  exit 1`
	}
	script := `#!/bin/sh
case "$1" in
version) echo ` + version + ` ;;
replicate)
  trap 'kill $pid 2>/dev/null; echo term >> "` + record + `"; exit 0' TERM
  cat > "` + record + `.config"
  echo '{"time":"2026-11-30T08:00:00Z","level":"INFO","msg":"initialized db","path":"/x"}' >&2
  echo '{"time":"2026-11-30T08:00:00Z","level":"WARN","msg":"sync error","error":"disk full"}' >&2
  ` + run + ` ;;
esac
`
	bin = filepath.Join(dir, "litestream")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, record
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20 s: %s", what)
		}
	}
}

func count(t *testing.T, path, line string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), line+"\n")
}

func TestSupervisorRestartsAReplicatorThatDies(t *testing.T) {
	bin, record := fakeLitestream(t, "v0.5.18", true)
	log := &testkit.LogBuffer{}
	s := &Supervisor{Bin: bin, DBPath: filepath.Join(t.TempDir(), "fse.db"),
		Settings: Settings{URL: "file:///srv/fse", Retention: DefaultRetention}, Log: log.Logger()}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second start after the first died", func() bool { return count(t, record, "start") >= 2 })
	s.Stop()
	logs := log.String()
	for _, want := range []string{"the replicator stopped; restarting it", "restart_in=1s", "litestream: Error: cannot open the replica",
		"litestream: sync error", "error=\"disk full\""} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestSupervisorStopsTheReplicatorWithSIGTERM(t *testing.T) {
	bin, record := fakeLitestream(t, "v0.5.18", false)
	log := &testkit.LogBuffer{}
	s := &Supervisor{Bin: bin, DBPath: filepath.Join(t.TempDir(), "fse.db"),
		Settings: Settings{URL: "sftp://backup:segreta@nas:22/srv/fse", Retention: time.Hour, SFTPHostKey: "ssh-ed25519 AAAA"},
		Log:      log.Logger()}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replicator runs", func() bool { return s.PID() != 0 && count(t, record, "start") == 1 })
	conf, err := os.ReadFile(record + ".config")
	if err != nil || !strings.Contains(string(conf), `"retention": "37m30s"`) || !strings.Contains(string(conf), "segreta") {
		t.Errorf("the replicator's configuration on stdin: %s (%v)", conf, err)
	}
	s.Stop()
	if got := count(t, record, "term"); got != 1 {
		t.Errorf("SIGTERMs received = %d, want 1", got)
	}
	if s.PID() != 0 {
		t.Error("a replicator still counted as running after Stop")
	}
	logs := log.String()
	if strings.Contains(logs, "segreta") {
		t.Errorf("the replica's password reached the log:\n%s", logs)
	}
	for _, want := range []string{"replicating the database", "replication stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "restarting") {
		t.Errorf("a stop was taken for a death:\n%s", logs)
	}
}

func TestSupervisorRefusesALitestreamOfAnotherLine(t *testing.T) {
	bin, record := fakeLitestream(t, "v0.3.14", false)
	s := &Supervisor{Bin: bin, DBPath: filepath.Join(t.TempDir(), "fse.db"),
		Settings: Settings{URL: "file:///srv/fse", Retention: DefaultRetention}, Log: (&testkit.LogBuffer{}).Logger()}
	err := s.Start()
	if err == nil || !strings.Contains(err.Error(), "v0.5") || !strings.Contains(err.Error(), "go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18") {
		t.Errorf("Start() = %v, want a refusal with the install hint", err)
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("a replicator of the wrong version was started")
	}
	s.Stop()
}

func TestCheckBinarySaysHowToInstallAMissingOne(t *testing.T) {
	err := CheckBinary(filepath.Join(t.TempDir(), "litestream"))
	if err == nil || !strings.Contains(err.Error(), "litestream not found") || !strings.Contains(err.Error(), "go install") {
		t.Errorf("CheckBinary(missing) = %v", err)
	}
}
