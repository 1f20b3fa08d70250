// Command bench is fse's load script (issue 14): it builds the fse binary,
// seeds realistic databases through the product's own store code, starts
// `fse serve` as a subprocess pinned to one core, drives it from another
// core, and prints the table with same-run references (a bare
// Echo handler and a plain file server it starts itself).
//
//	go run ./bench                  # everything, about ten minutes
//	go run ./bench -purge 2000      # a quick run
//	go run ./bench -only dossier,download -dir /tmp/fse-bench
//
// See bench/README.md for what each number means.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"fse/internal/password"
)

// sectionNames in the order they run: the purge consumes its database and
// is the longest, so it runs last.
var sectionNames = []string{"startup", "dossier", "download", "memory", "upload", "login", "backup", "purge"}

// config is the command line.
type config struct {
	only          string
	dir           string
	fseBin        string
	purge         int
	purgeSize     int
	seedWorkers   int
	conns         int
	dossierTime   time.Duration
	downloadTime  time.Duration
	downloadConns int
	memDownloads  int
	probeRate     float64
	probeIdle     time.Duration
	logins        int
	starts        int
	uploads       int
	warmup        time.Duration
	noPin         bool
	purgeGuard    time.Duration
	// serveRef, refAddr and refDir run this program as a reference server.
	serveRef, refAddr, refDir string
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.only, "only", "", "comma-separated sections to run (default all): "+strings.Join(sectionNames, ","))
	fs.StringVar(&c.dir, "dir", "", "work directory, kept and reused by later runs with the same seed flags (default: a temporary one, removed)")
	fs.StringVar(&c.fseBin, "fse", "", "fse binary to measure (default: go build from the repository root)")
	fs.IntVar(&c.purge, "purge", 100000, "expired reports the expiry job purges")
	size := sizeFlag(8 << 10)
	fs.Var(&size, "purge-size", "size of each expired report (8KiB: 100k of them make the issue's 1 GB database)")
	fs.IntVar(&c.seedWorkers, "seed-workers", runtime.NumCPU(), "goroutines seeding the expired reports")
	fs.IntVar(&c.conns, "conns", 16, "connections for the dossier page and the Echo reference")
	fs.DurationVar(&c.dossierTime, "dossier-time", 10*time.Second, "how long the dossier page (and Echo) are loaded")
	fs.DurationVar(&c.downloadTime, "download-time", 10*time.Second, "how long each download measurement lasts")
	fs.IntVar(&c.downloadConns, "download-conns", 4, "connections of the parallel download measurement")
	fs.IntVar(&c.memDownloads, "mem-downloads", 100, "concurrent 20 MiB downloads of the memory measurement")
	fs.Float64Var(&c.probeRate, "probe-rate", 50, "dossier requests per second of the latency probe (purge, login burst)")
	fs.DurationVar(&c.probeIdle, "probe-idle", 5*time.Second, "how long the probe measures the idle p99 first")
	fs.IntVar(&c.logins, "logins", 100, "patients logging in at once (each has an account)")
	fs.IntVar(&c.starts, "starts", 5, "server starts timed per database")
	fs.IntVar(&c.uploads, "uploads", 5, "20 MiB desk uploads timed")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured load before each throughput measurement")
	fs.BoolVar(&c.noPin, "no-pin", false, "do not pin server and load generator to separate cores")
	fs.DurationVar(&c.purgeGuard, "purge-guard", 0,
		"wait for the quarter hour (when the server's own expire job runs) if it is closer than this; 0 guesses from -purge, negative never waits")
	fs.StringVar(&c.serveRef, "serve-ref", "", "internal: serve a reference (echo|files) instead of benchmarking")
	fs.StringVar(&c.refAddr, "ref-addr", "", "internal: address of the reference server")
	fs.StringVar(&c.refDir, "ref-dir", "", "internal: directory the files reference serves")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	c.purgeSize = int(size)
	for _, s := range c.sections() {
		if !slices.Contains(sectionNames, s) {
			return c, fmt.Errorf("-only: unknown section %q (have %s)", s, strings.Join(sectionNames, ","))
		}
	}
	if c.conns < 1 || c.downloadConns < 1 || c.memDownloads < 1 || c.logins < 1 || c.starts < 1 || c.uploads < 1 || c.probeRate <= 0 {
		return c, errors.New("counts and rates must be positive")
	}
	if c.logins > 250*250 {
		return c, errors.New("-logins: at most 62500 (one loopback address each)")
	}
	return c, nil
}

func (c config) sections() []string {
	if c.only == "" {
		return sectionNames
	}
	var out []string
	for _, s := range strings.Split(c.only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sizeFlag is a byte count such as 10KiB, 5MiB or 4096.
type sizeFlag int

func (s *sizeFlag) String() string { return sizeString(int64(*s)) }

func (s *sizeFlag) Set(v string) error {
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if t, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = t, u.mult
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return errors.New("want a size such as 10KiB")
	}
	*s = sizeFlag(n * mult)
	return nil
}

// bench is one run.
type bench struct {
	cfg    config
	w      workDB
	pin    pinning
	fseBin string
	seed   *seeder
	res    results
	out    io.Writer
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.serveRef != "" {
		err = serveRef(cfg.serveRef, cfg.refAddr, cfg.refDir)
	} else {
		err = run(context.Background(), cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	b := &bench{cfg: cfg, out: out, res: results{took: map[string]time.Duration{}}}
	total := time.Now()
	if cfg.dir == "" {
		dir, err := os.MkdirTemp("", "fse-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		b.w = workDB{dir: dir}
	} else {
		if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
			return err
		}
		abs, err := filepath.Abs(cfg.dir)
		if err != nil {
			return err
		}
		b.w = workDB{dir: abs}
	}
	b.logf("work directory %s", b.w.dir)
	if err := b.build(); err != nil {
		return err
	}
	hasher, err := password.NewHasher(password.Params, runtime.NumCPU())
	if err != nil {
		return err
	}
	sections := cfg.sections()
	b.seed = &seeder{w: b.w, hasher: hasher, workers: cfg.seedWorkers, log: b.logf,
		want: seedParams{Logins: cfg.logins, Purge: cfg.purge, PurgeSize: cfg.purgeSize}}
	t := time.Now()
	// Seeding goes through the product's store: bound it, so a store that
	// deadlocks (work in progress) fails the run instead of hanging it.
	seedCtx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := b.seed.prepare(seedCtx, slices.Contains(sections, "purge") || slices.Contains(sections, "backup")); err != nil {
		return err
	}
	b.res.took["seeding"] = time.Since(t)

	b.pin = pinning{clkTck: clockTicks(), serverCPU: "0", loadCPU: "1"}
	if _, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() >= 2 && !cfg.noPin {
		b.pin.on = true
	}
	if err := b.pin.pinSelf(); err != nil {
		return err
	}
	if b.pin.on {
		// One core is all the generator has; more Ps would only contend.
		runtime.GOMAXPROCS(1)
		b.logf("pinning: servers (fse, its expire job, the references) on CPU %s with taskset; this load generator on CPU %s",
			b.pin.serverCPU, b.pin.loadCPU)
	} else {
		b.logf("pinning: OFF (taskset missing, fewer than 2 cores, or -no-pin): server and load generator share the cores")
	}
	b.logf("server CPU from /proc/PID/stat utime+stime, CLK_TCK %d; MB = 10^6 bytes", b.pin.clkTck)

	funcs := map[string]func(context.Context) error{
		"startup": b.runStartup, "dossier": b.runDossier, "download": b.runDownload, "memory": b.runMemory,
		"upload": b.runUpload, "login": b.runLogin, "backup": b.runBackup, "purge": b.runPurge,
	}
	var failed []string
	for _, name := range sectionNames {
		if !slices.Contains(sections, name) {
			continue
		}
		b.logf("== %s", name)
		t := time.Now()
		if err := funcs[name](ctx); err != nil {
			b.logf("section %s failed: %v", name, err)
			failed = append(failed, name)
		}
		b.res.took[name] = time.Since(t)
		b.logf("   %s took %s", name, b.res.took[name].Round(100*time.Millisecond))
	}
	b.res.took["total"] = time.Since(total)
	fmt.Fprintln(out)
	b.res.print(out, b)
	if len(failed) > 0 {
		return fmt.Errorf("sections failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// build compiles fse from the repository root, or checks -fse.
func (b *bench) build() error {
	if b.cfg.fseBin != "" {
		abs, err := filepath.Abs(b.cfg.fseBin)
		b.fseBin = abs
		return err
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	b.fseBin = filepath.Join(b.w.dir, "fse")
	t := time.Now()
	cmd := exec.Command("go", "build", "-o", b.fseBin, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build fse in %s: %w", root, err)
	}
	b.logf("built %s from %s in %s", b.fseBin, root, time.Since(t).Round(time.Millisecond))
	return nil
}
