package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"fse/internal/codicefiscale"
)

// downloadResult is a download measurement: one connection, then several.
type downloadResult struct {
	seq, par       loadStats
	seqCPU, parCPU time.Duration
}

func perItem(cpu time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// measureDownloads fetches req (a body of size bytes) back to back for
// -download-time on one connection, then on -download-conns.
func (b *bench) measureDownloads(s *server, req []byte, size int64) (downloadResult, error) {
	var r downloadResult
	if w := closedLoop(s.addr, req, 1, b.cfg.warmup, wantBody(size)); w.n == 0 {
		return r, fmt.Errorf("warm-up: no complete download (%v)", w.firstErr)
	}
	for _, m := range []struct {
		conns int
		st    *loadStats
		cpu   *time.Duration
	}{{1, &r.seq, &r.seqCPU}, {b.cfg.downloadConns, &r.par, &r.parCPU}} {
		w, err := b.startWindow(s)
		if err != nil {
			return r, err
		}
		*m.st = closedLoop(s.addr, req, m.conns, b.cfg.downloadTime, wantBody(size))
		if *m.cpu, err = w.end(s.name + " downloads"); err != nil {
			return r, err
		}
		b.logf("   %s, %d connection(s): %s; server CPU %s per download", s.name, m.conns, *m.st, ms(perItem(*m.cpu, m.st.n)))
	}
	return r, nil
}

// runDownload measures the 5 MiB report's download (decrypting from the
// database), then a plain file server sending the same plaintext file.
func (b *bench) runDownload(ctx context.Context) error {
	s, err := b.fseServer("download", b.w.main())
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		return err
	}
	defer c.close()
	ids, err := dossierReports(c)
	if err != nil {
		return err
	}
	path := "/fascicolo/referti/" + strconv.FormatInt(ids[title5MiB], 10)
	res, body, err := c.get(path)
	if err != nil {
		return err
	}
	if res.status != http.StatusOK || !bytes.Equal(body, b.seed.pdf5) {
		return fmt.Errorf("GET %s: status %d, %d bytes: not the seeded report", path, res.status, len(body))
	}
	size := int64(len(b.seed.pdf5))
	dl, err := b.measureDownloads(s, c.request("GET", path, nil), size)
	if err != nil {
		return err
	}
	b.res.download = &dl
	s.stop()

	f, err := b.refServer("files", "/report5.pdf", "-ref-dir", filepath.Dir(b.w.pdf5()))
	if err != nil {
		return err
	}
	defer f.stop()
	ref, err := b.measureDownloads(f, rawRequest("GET", "/report5.pdf", f.addr, nil, nil), size)
	if err != nil {
		return err
	}
	b.res.files = &ref
	return nil
}

// memoryResult is the server's resident memory around many downloads.
type memoryResult struct {
	started, idle memInfo // before any login; after a login and a page
	peak, anon    memInfo // at the largest VmRSS; the largest RssAnon and PSS
	hwm           int64   // VmHWM after the downloads
	stats         loadStats
}

// peakRSS is the larger of the sampled peak and the kernel's VmHWM.
func (m memoryResult) peakRSS() int64 { return max(m.peak.rss, m.hwm) }

// runMemory starts the 20 MiB report's download on -mem-downloads
// connections at once and samples the server's VmRSS every 20 ms.
func (b *bench) runMemory(ctx context.Context) error {
	s, err := b.fseServer("memory", b.w.main())
	if err != nil {
		return err
	}
	defer s.stop()
	var r memoryResult
	time.Sleep(time.Second)
	if r.started, err = s.memory(); err != nil {
		return err
	}
	c, err := loginPatient(s.addr, patientMobile)
	if err != nil {
		return err
	}
	defer c.close()
	ids, err := dossierReports(c)
	if err != nil {
		return err
	}
	path := "/fascicolo/referti/" + strconv.FormatInt(ids[title20MiB], 10)
	// Idle is after a login and a dossier page, before any download.
	time.Sleep(time.Second)
	if r.idle, err = s.memory(); err != nil {
		return err
	}
	if err := s.resetPeak(); err != nil {
		b.logf("   cannot reset VmHWM (%v): it includes the start-up and warm-up", err)
	}
	n := b.cfg.memDownloads
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = newClient(s.addr)
		if clients[i].rc, err = clients[i].dial(); err != nil {
			return err
		}
	}
	req := c.request("GET", path, nil)
	sampleCtx, stopSampling := context.WithCancel(ctx)
	peak := s.sampleMemory(sampleCtx, 20*time.Millisecond)
	var mu sync.Mutex
	var wg sync.WaitGroup
	fire := make(chan struct{})
	start := time.Now()
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.close()
			<-fire
			t := time.Now()
			res, err := cl.rc.roundTrip(req, nil)
			if err == nil {
				err = wantComplete(res)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.stats.fail(err)
				return
			}
			r.stats.n++
			r.stats.bytes += res.n
			r.stats.lat = append(r.stats.lat, time.Since(t))
		}()
	}
	close(fire)
	wg.Wait()
	r.stats.elapsed = time.Since(start)
	stopSampling()
	peaks := <-peak
	r.peak, r.anon = peaks[0], peaks[1]
	after, err := s.memory()
	if err != nil {
		return err
	}
	r.hwm = after.hwm
	b.logf("   %d concurrent downloads of the 20 MiB report: %s", n, r.stats)
	b.logf("   VmRSS at start %s (anon %s, file %s, PSS %s); after a login and a page %s (anon %s, file %s, PSS %s)",
		mb(r.started.rss), mb(r.started.anon), mb(r.started.file), mb(r.started.pss), mb(r.idle.rss), mb(r.idle.anon),
		mb(r.idle.file), mb(r.idle.pss))
	b.logf("   peak VmRSS sampled every 20 ms %s (anon %s, file %s); peak RssAnon %s; peak PSS %s; VmHWM %s",
		mb(r.peak.rss), mb(r.peak.anon), mb(r.peak.file), mb(r.anon.anon), mb(r.anon.pss), mb(r.hwm))
	b.res.memory = &r
	return nil
}

// uploadResult is the desk's 20 MiB uploads.
type uploadResult struct {
	stats loadStats
	cpu   time.Duration
}

var (
	formToken      = regexp.MustCompile(`name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"`)
	facilityOption = regexp.MustCompile(`<option[^>]*value="(\d+)"`)
	visitLink      = regexp.MustCompile(`/desk/visits/(\d+)`)
)

// runUpload logs in at the desk, accepts a patient through the form and
// uploads a 20 MiB report to the visit, one upload after another, on a
// copy of the main database.
func (b *bench) runUpload(ctx context.Context) error {
	path := filepath.Join(b.w.dir, "upload.db")
	if err := copyFile(b.w.main(), path); err != nil {
		return err
	}
	defer removeDB(path)
	s, err := b.fseServer("upload", path)
	if err != nil {
		return err
	}
	defer s.stop()
	c := newClient(s.addr)
	defer c.close()
	res, body, err := c.postForm("/desk/login", url.Values{"username": {deskUser}, "password": {deskPassword}}.Encode())
	if err != nil {
		return err
	}
	if err := loggedIn(res, "__Host-fse-desk"); err != nil {
		return fmt.Errorf("desk login: %w: %s", err, snippet(body))
	}
	visit, err := acceptVisit(c)
	if err != nil {
		return err
	}
	pdf, err := benchPDF("Risonanza magnetica", 20<<20)
	if err != nil {
		return err
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("title", "Risonanza magnetica")
	fw, _ := mw.CreateFormFile("file", "risonanza.pdf")
	fw.Write(pdf)
	mw.Close()
	req := c.request("POST", "/desk/visits/"+strconv.FormatInt(visit, 10)+"/documents", form.Bytes(),
		[2]string{"Content-Type", mw.FormDataContentType()})
	upload := func() (time.Duration, error) {
		t := time.Now()
		var body bytes.Buffer
		res, err := c.do(req, &body)
		if err != nil {
			return 0, err
		}
		if res.status != http.StatusSeeOther {
			return 0, fmt.Errorf("upload: status %d, want 303: %s", res.status, snippet(body.Bytes()))
		}
		return time.Since(t), nil
	}
	if _, err := upload(); err != nil { // warm-up
		return err
	}
	var r uploadResult
	w, err := b.startWindow(s)
	if err != nil {
		return err
	}
	start := time.Now()
	for range b.cfg.uploads {
		d, err := upload()
		if err != nil {
			return err
		}
		r.stats.n++
		r.stats.bytes += int64(len(pdf))
		r.stats.lat = append(r.stats.lat, d)
	}
	r.stats.elapsed = time.Since(start)
	if r.cpu, err = w.end("uploads"); err != nil {
		return err
	}
	b.logf("   %d uploads of %s, one after another: %s; server CPU %s per upload", r.stats.n, sizeString(int64(len(pdf))),
		r.stats, ms(perItem(r.cpu, r.stats.n)))
	b.res.upload = &r
	return nil
}

// acceptVisit fills the desk's acceptance form and returns the new visit.
func acceptVisit(c *client) (int64, error) {
	res, page, err := c.get("/desk/accept")
	if err != nil {
		return 0, err
	}
	tok, fac := formToken.FindSubmatch(page), facilityOption.FindSubmatch(page)
	if res.status != http.StatusOK || tok == nil || fac == nil {
		return 0, fmt.Errorf("GET /desk/accept: status %d, no form token or facility: %s", res.status, snippet(page))
	}
	token := string(tok[1]) + string(tok[2])
	birth := time.Date(1975, time.June, 2, 0, 0, 0, 0, time.UTC)
	cf, err := codicefiscale.Generate("Neri", "Paolo", birth, "M", "E897")
	if err != nil {
		return 0, err
	}
	form := url.Values{"fiscal_code": {cf}, "first_name": {"Paolo"}, "last_name": {"Neri"}, "birth_date": {birth.Format(time.DateOnly)},
		"birth_place": {"Mantova"}, "sex": {"M"}, "mobile": {"347 555 1234"}, "email": {""}, "facility": {string(fac[1])},
		"exams": {"Risonanza magnetica"}, "form_token": {token}}
	res, page, err = c.postForm("/desk/accept", form.Encode())
	if err != nil {
		return 0, err
	}
	// The acceptance redirects to the slip (older versions showed it at once).
	m := visitLink.FindStringSubmatch(res.header.Get("Location"))
	if res.status == http.StatusSeeOther && m != nil {
		if res, page, err = c.get(res.header.Get("Location")); err != nil {
			return 0, err
		} else if res.status != http.StatusOK {
			return 0, fmt.Errorf("GET the slip: status %d: %s", res.status, snippet(page))
		}
	} else if res.status == http.StatusOK {
		m = visitLink.FindStringSubmatch(string(page))
	}
	if m == nil {
		return 0, fmt.Errorf("POST /desk/accept: status %d, no visit: %s", res.status, snippet(page))
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// mb is a byte count in MB (10^6).
func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
