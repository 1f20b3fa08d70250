package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loginPatient logs in as account (an E.164 mobile) with the seeded
// password, the way the login form does.
func loginPatient(addr, mobile string) (*client, error) {
	c := newClient(addr)
	res, body, err := c.postForm("/accedi", url.Values{"identifier": {mobile}, "password": {patientPassword}}.Encode())
	if err != nil {
		return nil, fmt.Errorf("patient login: %w", err)
	}
	if err := loggedIn(res, "__Host-fse"); err != nil {
		return nil, fmt.Errorf("patient login: %w: %s", err, snippet(body))
	}
	return c, nil
}

// loggedIn checks the answer to a successful login: a redirect setting
// the session cookie.
func loggedIn(res response, cookie string) error {
	if res.status != http.StatusSeeOther {
		return fmt.Errorf("status %d, want 303", res.status)
	}
	for _, ck := range res.cookies {
		if ck.Name == cookie && ck.Value != "" {
			return nil
		}
	}
	return fmt.Errorf("no %s cookie", cookie)
}

var reportLink = regexp.MustCompile(`(?s)<strong>([^<]*)</strong>.*?href="/fascicolo/referti/(\d+)"`)

// dossierReports reads the patient's dossier page: report title to id.
func dossierReports(c *client) (map[string]int64, error) {
	res, body, err := c.get("/fascicolo")
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, fmt.Errorf("GET /fascicolo: status %d: %s", res.status, snippet(body))
	}
	out := map[string]int64{}
	for _, m := range reportLink.FindAllSubmatch(body, -1) {
		id, _ := strconv.ParseInt(string(m[2]), 10, 64)
		out[string(m[1])] = id
	}
	if len(out) != dossierSize {
		return out, fmt.Errorf("the dossier page lists %d reports, want %d", len(out), dossierSize)
	}
	return out, nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// pageResult is a closed-loop page measurement.
type pageResult struct {
	stats loadStats
	cpu   time.Duration
}

func (r pageResult) cpuPerRequest() time.Duration {
	if r.stats.n == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.stats.n)
}

// measurePage loads req on s with conns connections: a warm-up, then
// the measured window with the server's CPU read around it.
func (b *bench) measurePage(s *server, req []byte, conns int, d time.Duration) (pageResult, error) {
	if w := closedLoop(s.addr, req, conns, b.cfg.warmup, wantStatus(http.StatusOK)); w.n == 0 {
		return pageResult{}, fmt.Errorf("warm-up: no successful request (%v)", w.firstErr)
	}
	w, err := b.startWindow(s)
	if err != nil {
		return pageResult{}, err
	}
	st := closedLoop(s.addr, req, conns, d, wantStatus(http.StatusOK))
	cpu, err := w.end(s.name)
	if err != nil {
		return pageResult{}, err
	}
	r := pageResult{stats: st, cpu: cpu}
	b.logf("   %s: %s; server CPU %s = %s per request", s.name, st, r.cpu.Round(time.Millisecond), ms(r.cpuPerRequest()))
	return r, nil
}

// runDossier loads the patient's dossier page (20 reports), then the bare
// Echo reference, the same way.
func (b *bench) runDossier(ctx context.Context) error {
	s, err := b.fseServer("dossier", b.w.main())
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
	page, err := b.measurePage(s, c.request("GET", "/fascicolo", nil), b.cfg.conns, b.cfg.dossierTime)
	if err != nil {
		return err
	}
	b.res.dossier = &page
	s.stop()

	e, err := b.refServer("echo", "/")
	if err != nil {
		return err
	}
	defer e.stop()
	ref, err := b.measurePage(e, rawRequest("GET", "/", e.addr, nil, nil), b.cfg.conns, b.cfg.dossierTime)
	if err != nil {
		return err
	}
	b.res.echo = &ref
	return nil
}

// startupResult is the time from exec to the first 200 of /healthz.
type startupResult struct {
	seeded, empty []time.Duration
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// runStartup starts and stops fse several times on the seeded and on the
// empty database.
func (b *bench) runStartup(ctx context.Context) error {
	var r startupResult
	for _, db := range []struct {
		name, path string
		out        *[]time.Duration
	}{{"seeded", b.w.main(), &r.seeded}, {"empty", b.w.empty(), &r.empty}} {
		for range b.cfg.starts {
			s, err := b.fseServer("startup", db.path)
			if err != nil {
				return err
			}
			*db.out = append(*db.out, s.startup)
			s.stop()
		}
		var parts []string
		for _, d := range *db.out {
			parts = append(parts, ms(d))
		}
		b.logf("   %s db: start to /healthz 200: %s (median %s)", db.name, strings.Join(parts, ", "), ms(median(*db.out)))
	}
	b.res.startup = &r
	return nil
}
