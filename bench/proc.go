package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pinning places the server under test and the load generator on
// different cores, as the measurements did.
type pinning struct {
	// on is false when taskset is missing or the machine has one core.
	on bool
	// serverCPU and loadCPU are the cores, as taskset's -c list.
	serverCPU, loadCPU string
	// clkTck is the unit of utime and stime in /proc/PID/stat.
	clkTck int
}

// command wraps argv so the process runs on the server core.
func (p pinning) command(argv ...string) *exec.Cmd {
	if p.on {
		argv = append([]string{"taskset", "-c", p.serverCPU}, argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

// pinSelf moves every thread of this process to the load core. Threads
// the Go runtime starts later inherit the mask from their creator.
func (p pinning) pinSelf() error {
	if !p.on {
		return nil
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", p.loadCPU, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %v: %s", err, out)
	}
	return nil
}

func clockTicks() int {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// server is a process under test: fse serve, or a reference server.
type server struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	logPath string
	// startup is from just before exec to the first 200 of the ready URL.
	startup time.Duration
	clkTck  int
	done    chan error
	stopped bool
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs argv (which must listen on addr), logging to logPath,
// and waits for readyPath to answer 200.
func startServer(p pinning, name, addr, readyPath, logPath string, argv ...string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := p.command(argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	s := &server{name: name, cmd: cmd, addr: addr, logPath: logPath, clkTck: p.clkTck, done: make(chan error, 1)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(readyPath, start); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls readyPath every millisecond; refused connections cost
// microseconds, so the poll barely delays the server it waits for.
func (s *server) waitReady(path string, start time.Time) error {
	req := rawRequest("GET", path, s.addr, nil, nil)
	deadline := start.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("%s exited before answering %s (%v); see %s", s.name, path, err, s.logPath)
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			rc := newRawConn(c)
			res, rerr := rc.roundTrip(req, nil)
			rc.close()
			if rerr == nil && res.status == http.StatusOK {
				s.startup = time.Since(start)
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s within a minute; see %s", s.name, path, s.logPath)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to shut down (SIGTERM) and waits for it; calling
// it again does nothing.
func (s *server) stop() {
	if s == nil || s.cmd.Process == nil || s.stopped {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cpu returns the server's user+system CPU time so far.
func (s *server) cpu() (time.Duration, error) { return procCPU(s.pid(), s.clkTck) }

// procCPU reads utime+stime of a process from /proc/PID/stat.
func procCPU(pid, clkTck int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / time.Duration(clkTck), nil
}

// memInfo is a process's memory from /proc/PID/status and smaps_rollup,
// in bytes. RSS is anonymous memory (the Go heap, stacks) plus file pages
// mapped in, such as a database read through mmap; a file page mapped by
// several connections counts once per mapping in RSS, once in all in PSS.
type memInfo struct {
	rss, hwm, anon, file, pss int64
}

// memory reads the server's memInfo.
func (s *server) memory() (memInfo, error) {
	var m memInfo
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*int64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if dst := fields[k]; ok && dst != nil {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return m, err
			}
			*dst = n << 10
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", s.pid()))
	if err != nil {
		return m, nil // older kernels: no PSS
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return m, err
			}
			m.pss = n << 10
			break
		}
	}
	return m, nil
}

// resetPeak resets VmHWM to the current RSS (Linux 4.0 and later).
func (s *server) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid()), []byte("5"), 0)
}

// sampleMemory records the server's memory at its largest VmRSS, and the
// largest RssAnon and PSS, every interval until ctx ends.
func (s *server) sampleMemory(ctx context.Context, interval time.Duration) <-chan [2]memInfo {
	out := make(chan [2]memInfo, 1)
	go func() {
		var peakRSS, peakAnon memInfo // peakAnon.pss is the largest PSS
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if m, err := s.memory(); err == nil {
				if m.rss > peakRSS.rss {
					peakRSS = m
				}
				if m.anon > peakAnon.anon {
					pss := peakAnon.pss
					peakAnon = m
					peakAnon.pss = max(pss, m.pss)
				}
				peakAnon.pss = max(peakAnon.pss, m.pss)
			}
			select {
			case <-ctx.Done():
				out <- [2]memInfo{peakRSS, peakAnon}
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// sampleSize records the largest size a file reaches, every interval,
// until ctx ends (a missing file counts as 0).
func sampleSize(ctx context.Context, path string, interval time.Duration) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if st, err := os.Stat(path); err == nil && st.Size() > peak {
				peak = st.Size()
			}
			select {
			case <-ctx.Done():
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// fseServer starts `fse serve` on dbPath with the bench's key file. Staff
// log in with the password alone (--staff-mfa off): the upload section
// measures the desk's upload, not its second factor.
func (b *bench) fseServer(name, dbPath string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startServer(b.pin, "fse ("+name+")", addr, "/healthz", filepath.Join(b.w.dir, "fse-"+name+".log"),
		b.fseBin, "serve", "--db", dbPath, "--key-file", b.w.key(), "--addr", addr, "--base-url", "http://"+addr,
		"--staff-mfa", "off")
}

// refServer starts this program again as a reference server (-serve-ref).
func (b *bench) refServer(kind, readyPath string, extra ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := append([]string{self, "-serve-ref", kind, "-ref-addr", addr}, extra...)
	return startServer(b.pin, "reference "+kind, addr, readyPath, filepath.Join(b.w.dir, "ref-"+kind+".log"), argv...)
}

// coreBusy returns the busy and total time of one core from /proc/stat.
func coreBusy(core string, clkTck int) (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "cpu"+core {
			continue
		}
		var ticks [8]int64
		for i := range ticks {
			ticks[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		}
		// user nice system idle iowait irq softirq steal
		idle := ticks[3] + ticks[4]
		var sum int64
		for _, t := range ticks {
			sum += t
		}
		unit := time.Second / time.Duration(clkTck)
		return time.Duration(sum-idle) * unit, time.Duration(sum) * unit, nil
	}
	return 0, 0, fmt.Errorf("no cpu%s in /proc/stat", core)
}

// window measures a server's CPU over a measurement, and how much of the
// server's core other processes took meanwhile (another build or test
// run on the machine makes every number worse).
type window struct {
	b            *bench
	s            *server
	cpu0         time.Duration
	busy0, tot0  time.Duration
	coreReadable bool
}

func (b *bench) startWindow(s *server) (window, error) {
	w := window{b: b, s: s}
	cpu, err := s.cpu()
	if err != nil {
		return w, err
	}
	w.cpu0 = cpu
	if b.pin.on {
		w.busy0, w.tot0, err = coreBusy(b.pin.serverCPU, b.pin.clkTck)
		w.coreReadable = err == nil
	}
	return w, nil
}

// end returns the server's CPU time over the window and records the
// share of the server's core that other processes used.
func (w window) end(what string) (time.Duration, error) {
	cpu, err := w.s.cpu()
	if err != nil {
		return 0, err
	}
	used := cpu - w.cpu0
	if w.coreReadable {
		if busy, tot, err := coreBusy(w.b.pin.serverCPU, w.b.pin.clkTck); err == nil && tot > w.tot0 {
			others := float64(busy-w.busy0-used) / float64(tot-w.tot0)
			if others > w.b.res.noise {
				w.b.res.noise, w.b.res.noiseWhere = others, what
			}
		}
	}
	return used, nil
}
