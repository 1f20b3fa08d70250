package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeWarnsOfDatabaseFilesOthersCanRead: the registry is not
// encrypted, so a database copied by hand with mode 0644 (and the -wal and
// -shm SQLite then gives the same mode) is named in the start-up log; a
// database fse created is not.
func TestServeWarnsOfDatabaseFilesOthersCanRead(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	const warning = "a database file is open to other users"
	for _, tt := range []struct {
		name   string
		mode   os.FileMode
		create bool
		want   []string
	}{
		{"created by fse", 0, false, nil},
		{"copied with mode 0644", 0o644, true, []string{"copiato.db mode=0644", "copiato.db-wal mode=0644", "copiato.db-shm mode=0644"}},
		{"copied with mode 0640", 0o640, true, []string{"copiato-gruppo.db mode=0640", "copiato-gruppo.db-wal mode=0640"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := map[os.FileMode]string{0: "nuovo.db", 0o644: "copiato.db", 0o640: "copiato-gruppo.db"}[tt.mode]
			path := filepath.Join(dir, name)
			if tt.create {
				if err := os.WriteFile(path, nil, tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			s, code, ok := startCmd(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", path, "--base-url", "https://referti.example.it",
				"--retention-days", "45"}, nil)
			if !ok {
				t.Fatalf("serve exited with %d; stderr %q", code, s.stderr.String())
			}
			if code := s.stop(t); code != 0 {
				t.Errorf("exit = %d", code)
			}
			logs := s.stderr.String()
			if tt.want == nil && strings.Contains(logs, warning) {
				t.Errorf("warned about a private database:\n%s", logs)
			}
			if got := strings.Count(logs, warning); tt.want != nil && got != 3 {
				t.Errorf("%d warnings, want one for each of the database, its -wal and -shm:\n%s", got, logs)
			}
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("log lacks %q:\n%s", w, logs)
				}
			}
		})
	}
}
