package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// The two measurements of pages under pressure: a burst of logins and the
// nightly purge. Both watch one logged-in patient's dossier page with an
// open-loop probe, idle first, then while the pressure lasts.

// dossierProbe is the probe of the logged-in patient c.
func (b *bench) dossierProbe(s *server, c *client) probe {
	return probe{addr: s.addr, req: c.request("GET", "/fascicolo", nil), rate: b.cfg.probeRate, maxConns: 256,
		check: wantStatus(http.StatusOK)}
}

// idleProbe runs the probe alone for -probe-idle, after an unmeasured
// warm-up (a fresh server's first requests are slower).
func (b *bench) idleProbe(p probe) loadStats {
	warm := make(chan struct{})
	time.AfterFunc(max(b.cfg.warmup, time.Second), func() { close(warm) })
	p.run(warm)
	stop := make(chan struct{})
	time.AfterFunc(b.cfg.probeIdle, func() { close(stop) })
	st := p.run(stop)
	b.logf("   dossier probe, idle (%.0f req/s): %s", p.rate, st)
	return st
}

// loginResult is the burst of patient logins.
type loginResult struct {
	logins   loadStats // one latency per successful login
	idle     loadStats // dossier probe before the burst
	meantime loadStats // dossier probe during the burst
	cpu      time.Duration
}

// runLogin has every seeded login account log in at the same moment, each
// from its own loopback address (the login route allows 30 attempts a
// minute per address, as it would see 100 patients' phones), while the
// probe watches an already logged-in patient's dossier page.
func (b *bench) runLogin(ctx context.Context) error {
	s, err := b.fseServer("login", b.w.main())
	if err != nil {
		return err
	}
	defer s.stop()
	observer, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		return err
	}
	defer observer.close()
	p := b.dossierProbe(s, observer)
	var r loginResult
	r.idle = b.idleProbe(p)

	n := b.cfg.logins
	clients := make([]*client, n)
	reqs := make([][]byte, n)
	for i := range n {
		c := newClient(s.addr)
		c.local = &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(1+i%250))}
		rc, err := c.dial()
		if err != nil {
			return fmt.Errorf("connect from %s: %w", c.local, err)
		}
		c.rc = rc
		clients[i] = c
		reqs[i] = c.request("POST", "/accedi", []byte(url.Values{"identifier": {loginMobile(i)}, "password": {patientPassword}}.Encode()),
			[2]string{"Content-Type", "application/x-www-form-urlencoded"})
	}
	stop := make(chan struct{})
	probed := make(chan loadStats, 1)
	go func() { probed <- p.run(stop) }()
	fire := make(chan struct{})
	var mu sync.Mutex
	var wg sync.WaitGroup
	w, err := b.startWindow(s)
	if err != nil {
		return err
	}
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			<-fire
			t := time.Now()
			res, err := c.do(reqs[i], nil)
			if err == nil {
				err = loggedIn(res, "__Host-fse")
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.logins.fail(fmt.Errorf("account %d: %w", i, err))
				return
			}
			r.logins.n++
			r.logins.lat = append(r.logins.lat, time.Since(t))
		}()
	}
	close(fire)
	wg.Wait()
	r.logins.elapsed = time.Since(start)
	close(stop)
	r.meantime = <-probed
	if r.cpu, err = w.end("login burst"); err != nil {
		return err
	}
	b.logf("   %d logins at once: %d ok in %s = %.1f logins/s, login p50 %s, p99 %s, max %s; server CPU %s per login "+
		"(the probe's pages included)", n, r.logins.n, r.logins.elapsed.Round(time.Millisecond), r.logins.rate(), ms(r.logins.pct(0.5)),
		ms(r.logins.pct(0.99)), ms(r.logins.pct(1)), ms(perItem(r.cpu, r.logins.n)))
	if r.logins.errs > 0 {
		b.logf("   %d logins failed (first: %v)", r.logins.errs, r.logins.firstErr)
	}
	b.logf("   dossier probe during the burst: %s", r.meantime)
	b.res.login = &r
	return nil
}

// purgeResult is the dossier page while `fse jobs run expire` purges.
type purgeResult struct {
	idle, during loadStats
	duration     time.Duration
	walPeak      int64
	purged       int64 // documents the job reported, -1 if unknown
	dbSize       int64
}

var expireLog = regexp.MustCompile(`documents=(\d+)`)

// runPurge serves a copy of the purge database, then runs the expiry job
// as a second process (on the server's core, as the in-process cron job
// would be) while the probe watches the dossier page and the WAL file is
// sampled.
func (b *bench) runPurge(ctx context.Context) error {
	if b.cfg.purge == 0 {
		b.logf("   -purge 0: nothing to purge")
		return nil
	}
	path := b.w.dir + "/purge-run.db"
	removeDB(path)
	defer removeDB(path)
	if b.cfg.dir != "" {
		// Kept directories keep the seed for the next run.
		if err := copyFile(b.w.purgeSeed(), path); err != nil {
			return err
		}
	} else if err := os.Rename(b.w.purgeSeed(), path); err != nil {
		return err
	}
	var r purgeResult
	if st, err := os.Stat(path); err == nil {
		r.dbSize = st.Size()
	}
	// The server runs the same job every quarter hour: keep it out of the run.
	guard := b.cfg.purgeGuard
	if guard == 0 {
		guard = min(b.cfg.probeIdle+20*time.Second+time.Duration(b.cfg.purge)*600*time.Microsecond, 14*time.Minute)
	}
	if wait := untilQuarter(time.Now()); wait < guard {
		b.logf("   waiting %s for the quarter hour to pass, so the server's own expire job does not purge first",
			(wait + 2*time.Second).Round(time.Second))
		time.Sleep(wait + 2*time.Second)
	}
	s, err := b.fseServer("purge", path)
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := dossierReports(c); err != nil {
		return err
	}
	p := b.dossierProbe(s, c)
	r.idle = b.idleProbe(p)

	walCtx, walStop := context.WithCancel(ctx)
	wal := sampleSize(walCtx, path+"-wal", 20*time.Millisecond)
	stop := make(chan struct{})
	probed := make(chan loadStats, 1)
	go func() { probed <- p.run(stop) }()
	var out bytes.Buffer
	job := b.pin.command(b.fseBin, "jobs", "run", "expire", "--db", path)
	job.Stdout, job.Stderr = &out, &out
	start := time.Now()
	jobErr := job.Start()
	if jobErr == nil {
		done := make(chan error, 1)
		go func() { done <- job.Wait() }()
		select {
		case jobErr = <-done:
		case <-time.After(30 * time.Minute): // a purge this slow makes no number
			job.Process.Kill()
			jobErr = <-done
		}
	}
	r.duration = time.Since(start)
	close(stop)
	r.during = <-probed
	walStop()
	r.walPeak = <-wal
	if jobErr != nil {
		return fmt.Errorf("fse jobs run expire: %w: %s", jobErr, snippet(out.Bytes()))
	}
	r.purged = -1
	if m := expireLog.FindSubmatch(out.Bytes()); m != nil {
		r.purged, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	b.logf("   fse jobs run expire: %d reports purged in %s, WAL peak %s (database %s)", r.purged,
		r.duration.Round(time.Millisecond), sizeString(r.walPeak), sizeString(r.dbSize))
	if r.purged != int64(b.cfg.purge) {
		b.logf("   WARNING: the job purged %d reports, want %d: %s", r.purged, b.cfg.purge, snippet(out.Bytes()))
	}
	b.logf("   dossier probe during the purge: %s", r.during)
	b.res.purge = &r
	return nil
}

// untilQuarter is the time left before the next quarter hour, when the
// server's cron runs the expire job ("*/15 * * * *").
func untilQuarter(now time.Time) time.Duration {
	next := now.Truncate(15 * time.Minute).Add(15 * time.Minute)
	return next.Sub(now)
}
