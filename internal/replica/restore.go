package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoSuchPoint means the replica holds no copy of the database as it
// was at the asked time: before the replica's oldest snapshot (dropped by
// the retention), or before the replica began.
var ErrNoSuchPoint = errors.New("the replica holds no copy of the database at that time")

// Restore writes the database kept in the replica to out (which must not
// exist): its latest state, or its state at the time at when at is not
// zero. dbPath is the database the replica is of; only its name matters.
func Restore(ctx context.Context, bin string, s Settings, dbPath, out string, at time.Time) error {
	conf, err := s.Config(dbPath)
	if err != nil {
		return err
	}
	if err := CheckBinary(bin); err != nil {
		return err
	}
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return err
	}
	args := []string{"restore", "-no-expand-env", "-config", "/dev/stdin", "-o", out}
	if !at.IsZero() {
		args = append(args, "-timestamp", at.UTC().Format(time.RFC3339Nano))
	}
	cmd := exec.CommandContext(ctx, bin, append(args, abs)...)
	cmd.Stdin = bytes.NewReader(conf)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		said := lastLine(output.String())
		if strings.Contains(said, "timestamp does not exist") || strings.Contains(said, "no matching backup") ||
			strings.Contains(said, "no snapshots available") {
			return fmt.Errorf("restore from %s: %w (litestream: %s)", Redacted(s.URL), ErrNoSuchPoint, said)
		}
		return fmt.Errorf("restore from %s: litestream: %v: %s", Redacted(s.URL), err, said)
	}
	return nil
}

// lastLine is what a failing command said last.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
