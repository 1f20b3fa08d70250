package main

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// loadStats summarises a run of requests.
type loadStats struct {
	n        int
	errs     int
	firstErr error
	bytes    int64
	elapsed  time.Duration
	lat      []time.Duration
	// genCPU is the load generator's own CPU time over the run; near
	// elapsed means the generator, not the server, was the limit.
	genCPU time.Duration
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// genBusy is the share of one core the generator used.
func (s loadStats) genBusy() float64 { return float64(s.genCPU) / float64(s.elapsed) }

func (s *loadStats) add(o loadStats) {
	s.n += o.n
	s.errs += o.errs
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
	s.bytes += o.bytes
	s.lat = append(s.lat, o.lat...)
}

func (s *loadStats) fail(err error) {
	s.errs++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

func (s loadStats) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }

// mbps is megabytes (10^6) per second.
func (s loadStats) mbps() float64 { return float64(s.bytes) / 1e6 / s.elapsed.Seconds() }

// pct returns the q-quantile (0..1) of the latencies.
func (s loadStats) pct(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	l := slices.Clone(s.lat)
	slices.Sort(l)
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (s loadStats) String() string {
	out := fmt.Sprintf("%d requests in %s (%.1f/s), p50 %s, p99 %s, max %s", s.n, s.elapsed.Round(time.Millisecond), s.rate(),
		ms(s.pct(0.5)), ms(s.pct(0.99)), ms(s.pct(1)))
	if s.mbps() >= 1 {
		out += fmt.Sprintf(", %.0f MB/s", s.mbps())
	}
	if s.genCPU > 0 {
		out += fmt.Sprintf(", generator CPU %.0f%%", 100*s.genBusy())
	}
	if s.errs > 0 {
		out += fmt.Sprintf(", %d errors (first: %v)", s.errs, s.firstErr)
	}
	return out
}

// checkFunc accepts or refuses a response.
type checkFunc func(response) error

func wantStatus(code int) checkFunc {
	return func(r response) error {
		if r.status != code {
			return fmt.Errorf("status %d, want %d", r.status, code)
		}
		return nil
	}
}

// wantBody accepts a 200 with a body of exactly size bytes.
func wantBody(size int64) checkFunc {
	return func(r response) error {
		if r.status != http.StatusOK || r.n != size {
			return fmt.Errorf("status %d with %d bytes, want 200 with %d", r.status, r.n, size)
		}
		return nil
	}
}

// wantComplete accepts a 200 whose body is as long as its Content-Length.
func wantComplete(r response) error {
	if r.status != http.StatusOK || r.length <= 0 || r.n != r.length {
		return fmt.Errorf("status %d with %d of %d bytes, want a complete 200", r.status, r.n, r.length)
	}
	return nil
}

// closedLoop runs conns connections, each sending req as soon as the
// previous response has been read, for d.
func closedLoop(addr string, req []byte, conns int, d time.Duration, check checkFunc) loadStats {
	var mu sync.Mutex
	var total loadStats
	var wg sync.WaitGroup
	cpu0 := selfCPU()
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s loadStats
			c := &client{addr: addr}
			for time.Now().Before(deadline) {
				if c.rc == nil || c.rc.dead {
					rc, err := c.dial()
					if err != nil {
						s.fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					c.rc = rc
				}
				t := time.Now()
				res, err := c.rc.roundTrip(req, nil)
				if err == nil {
					err = check(res)
				}
				if err != nil {
					s.fail(err)
					continue
				}
				s.lat = append(s.lat, time.Since(t))
				s.n++
				s.bytes += res.n
			}
			c.close()
			mu.Lock()
			total.add(s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	total.genCPU = selfCPU() - cpu0
	return total
}

// probe sends req at a fixed rate whatever the server does (an open
// loop), opening more connections when responses are late, and times
// each request from when it was due: a server that freezes for ten
// seconds shows ten-second latencies, not one slow request.
type probe struct {
	addr     string
	req      []byte
	rate     float64
	maxConns int
	check    checkFunc
}

// run probes until stop is closed, then waits for requests in flight.
func (p probe) run(stop <-chan struct{}) loadStats {
	interval := time.Duration(float64(time.Second) / p.rate)
	idle := make(chan *rawConn, p.maxConns)
	slots := make(chan struct{}, p.maxConns)
	var mu sync.Mutex
	var total loadStats
	var wg sync.WaitGroup
	start := time.Now()
	due := start
loop:
	for {
		if wait := time.Until(due); wait > 0 {
			select {
			case <-stop:
				break loop
			case <-time.After(wait):
			}
		} else {
			select {
			case <-stop:
				break loop
			default:
			}
		}
		var rc *rawConn
		select {
		case rc = <-idle:
		default:
			select {
			case rc = <-idle:
			case slots <- struct{}{}:
			}
		}
		wg.Add(1)
		go func(rc *rawConn, due time.Time) {
			defer wg.Done()
			res, err := func() (response, error) {
				if rc == nil || rc.dead {
					c, err := net.DialTimeout("tcp", p.addr, 10*time.Second)
					if err != nil {
						return response{}, err
					}
					rc = newRawConn(c)
				}
				return rc.roundTrip(p.req, nil)
			}()
			if err == nil {
				err = p.check(res)
			}
			lat := time.Since(due)
			mu.Lock()
			if err != nil {
				total.fail(err)
			} else {
				total.n++
				total.lat = append(total.lat, lat)
			}
			mu.Unlock()
			if rc == nil || rc.dead {
				<-slots
				return
			}
			idle <- rc
		}(rc, due)
		due = due.Add(interval)
	}
	total.elapsed = time.Since(start)
	wg.Wait()
	close(idle)
	for rc := range idle {
		rc.close()
	}
	return total
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms"
}
