package handlers_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
)

// BenchmarkAPIIntake300KB measures reports delivered through the REST API:
// a 300 KB PDF per request, each a new report published at once (PDF
// check, encryption, chunks, publication and the patient's notice).
func BenchmarkAPIIntake300KB(b *testing.B) {
	a := newAppWith(b, func(c *handlers.Config) { c.APIRatePerSecond = 1e6 })
	token := a.integration(b, "LIS", []string{db.ScopeVisits, db.ScopeReports})
	accession, _ := a.apiVisit(b, token, "CUP-1")
	pdf := benchPDF(b, 300<<10)
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rec := a.apiPDF(b, fmt.Sprintf("/api/v1/visits/%s/reports/R%d?title=Esami&publish=true", accession, i), token, pdf)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkDossierWhileIntake measures the patient's dossier page while a
// lab delivers 300 KB reports through the API without pause: it reports
// the page's p50 and p99 with the intake running, against the same page
// alone, and how many reports went in meanwhile.
func BenchmarkDossierWhileIntake(b *testing.B) {
	a := newAppWith(b, func(c *handlers.Config) { c.APIRatePerSecond = 1e6 })
	_, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	token := a.integration(b, "LIS", []string{db.ScopeVisits, db.ScopeReports})
	accession, _ := a.apiVisit(b, token, "CUP-1")
	pdf := benchPDF(b, 300<<10)

	page := func() time.Duration {
		req := httptest.NewRequest(http.MethodGet, "/fascicolo", nil)
		for _, ck := range c.cookies {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("dossier: %d", rec.Code)
		}
		return time.Since(start)
	}
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
	}
	idle := make([]time.Duration, 0, 500)
	for range 500 {
		idle = append(idle, page())
	}

	stop := make(chan struct{})
	var delivered atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req := httptest.NewRequest(http.MethodPut, fmt.Sprintf("/api/v1/visits/%s/reports/W%d-%d?title=Esami&publish=true", accession, w, i),
					bytes.NewReader(pdf))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/pdf")
				rec := httptest.NewRecorder()
				a.e.ServeHTTP(rec, req)
				if rec.Code == http.StatusCreated {
					delivered.Add(1)
				}
			}
		}()
	}
	busy := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		busy = append(busy, page())
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(pct(idle, 0.5), "idle-p50-ms")
	b.ReportMetric(pct(idle, 0.99), "idle-p99-ms")
	b.ReportMetric(pct(busy, 0.5), "intake-p50-ms")
	b.ReportMetric(pct(busy, 0.99), "intake-p99-ms")
	b.ReportMetric(float64(delivered.Load()), "reports-during")
}
