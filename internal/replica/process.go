package replica

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Restart back-off of a replicator that died: doubling from the first to
// the last, and back to the first once it ran for stableAfter.
const (
	firstRestartDelay = time.Second
	lastRestartDelay  = time.Minute
	stableAfter       = time.Minute
	// stopGrace is how long Litestream may take for its last upload when
	// fse stops before it is killed.
	stopGrace = 30 * time.Second
)

// Supervisor keeps `litestream replicate` running beside fse: it starts it
// with a configuration it writes on the child's standard input (nothing
// with credentials lands on disk), restarts it if it dies, forwards its log
// and stops it on Stop. The child is killed with fse even when fse itself
// is killed, so a restarted fse never finds a second replicator at work on
// its database.
type Supervisor struct {
	// Bin is the litestream executable.
	Bin string
	// DBPath is the database to replicate.
	DBPath   string
	Settings Settings
	Log      *slog.Logger
	// Heartbeat, if set, commits a small write. It runs every half
	// snapshot interval so Litestream keeps taking snapshots on a quiet
	// database: old snapshots, and the deleted data they hold, are only
	// dropped once a newer one exists.
	Heartbeat func(context.Context) error

	stop    context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	running int // pid of the current child, 0 when none
}

// Start checks the binary and the configuration and starts replicating.
func (s *Supervisor) Start() error {
	conf, err := s.Settings.Config(s.DBPath)
	if err != nil {
		return err
	}
	if err := CheckBinary(s.Bin); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	started := make(chan error, 1)
	go s.supervise(ctx, conf, started)
	if err := <-started; err != nil {
		cancel()
		<-s.done
		return err
	}
	if s.Heartbeat != nil {
		go s.beat(ctx, NewSchedule(s.Settings.Retention).SnapshotInterval/2)
	}
	return nil
}

// Stop asks Litestream to finish its last upload and exit, kills it if it
// takes longer than stopGrace, and stops supervising.
func (s *Supervisor) Stop() {
	if s.stop == nil {
		return
	}
	s.stop()
	<-s.done
	s.stop = nil
}

// PID is the process id of the running replicator, 0 if none runs now.
func (s *Supervisor) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// supervise runs the child until ctx ends, restarting it when it exits.
// It stays on one OS thread for its whole life: the child is told to die
// with the thread that started it (Pdeathsig), and Go may end a thread
// that another goroutine locked and left.
func (s *Supervisor) supervise(ctx context.Context, conf []byte, started chan<- error) {
	runtime.LockOSThread()
	defer close(s.done)
	delay := firstRestartDelay
	for attempt := 0; ; attempt++ {
		began := time.Now()
		cmd, logs, err := s.spawn(conf)
		if attempt == 0 {
			started <- err
			if err != nil {
				return
			}
		}
		if err == nil {
			err = s.wait(ctx, cmd, logs)
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) >= stableAfter {
			delay = firstRestartDelay
		}
		s.Log.Error("the replicator stopped; restarting it", "err", err, "restart_in", delay.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, lastRestartDelay)
	}
}

// spawn starts `litestream replicate` with the configuration on its stdin.
func (s *Supervisor) spawn(conf []byte) (*exec.Cmd, *logForwarder, error) {
	cmd := exec.Command(s.Bin, "replicate", "-no-expand-env", "-config", "/dev/stdin")
	cmd.Stdin = bytes.NewReader(conf)
	logs := &logForwarder{log: s.Log}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = childAttr()
	// Once it exited, a grandchild holding its output open does not hold us.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", s.Bin, err)
	}
	s.mu.Lock()
	s.running = cmd.Process.Pid
	s.mu.Unlock()
	s.Log.Info("replicating the database", "replica", Redacted(s.Settings.URL), "retention", s.Settings.Retention.String(),
		"pid", cmd.Process.Pid)
	return cmd, logs, nil
}

// wait returns when the child exits or, after ctx ends, once it was
// stopped: SIGTERM first, so it uploads what is left, SIGKILL after stopGrace.
func (s *Supervisor) wait(ctx context.Context, cmd *exec.Cmd, logs *logForwarder) error {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		s.mu.Lock()
		s.running = 0
		s.mu.Unlock()
		logs.flush()
	}()
	select {
	case err := <-exited:
		if err == nil {
			err = errors.New("exited with status 0")
		}
		return err
	case <-ctx.Done():
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			s.Log.Warn("the replicator did not stop cleanly", "err", err)
		} else {
			s.Log.Info("replication stopped")
		}
	case <-time.After(stopGrace):
		cmd.Process.Kill()
		<-exited
		s.Log.Warn("the replicator did not stop in time and was killed", "grace", stopGrace.String())
	}
	return nil
}

// beat commits the heartbeat every interval until ctx ends.
func (s *Supervisor) beat(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Heartbeat(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("replica heartbeat: cannot write", "err", err)
		}
	}
}

// CheckBinary makes sure bin is a Litestream of the v0.5 line, whose
// configuration fse writes.
func CheckBinary(bin string) error {
	path, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("litestream not found (%s): %s", bin, InstallHint)
	}
	out, err := exec.Command(path, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %v: %s", path, err, InstallHint)
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "v0.5.") {
		return fmt.Errorf("%s is Litestream %q; fse needs the v0.5 line (tested with %s): %s", path, v, Version, InstallHint)
	}
	return nil
}

// logForwarder turns Litestream's JSON log lines into fse's log. Its
// routine chatter (compactions every 30 s) goes to debug; snapshots,
// warnings and errors stay visible.
type logForwarder struct {
	log  *slog.Logger
	mu   sync.Mutex
	part []byte
}

func (f *logForwarder) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.part = append(f.part, p...)
	for {
		i := bytes.IndexByte(f.part, '\n')
		if i < 0 {
			break
		}
		f.line(f.part[:i])
		f.part = f.part[i+1:]
	}
	return len(p), nil
}

func (f *logForwarder) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.part) > 0 {
		f.line(f.part)
		f.part = nil
	}
}

// shownAtInfo are Litestream's info messages worth an operator's eye.
var shownAtInfo = map[string]bool{"snapshot complete": true, "litestream shut down": true, "initialized db": true}

func (f *logForwarder) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	var rec map[string]any
	if json.Unmarshal(b, &rec) != nil {
		// Not a log record: Litestream's last words on a failure.
		f.log.Warn("litestream: " + string(b))
		return
	}
	msg, _ := rec["msg"].(string)
	lvl, _ := rec["level"].(string)
	level := slog.LevelDebug
	switch {
	case lvl == "ERROR":
		level = slog.LevelError
	case lvl == "WARN":
		level = slog.LevelWarn
	case lvl == "INFO" && shownAtInfo[msg]:
		level = slog.LevelInfo
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		if k != "msg" && k != "level" && k != "time" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	attrs := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		attrs = append(attrs, k, rec[k])
	}
	f.log.Log(context.Background(), level, "litestream: "+msg, attrs...)
}

var _ io.Writer = (*logForwarder)(nil)
