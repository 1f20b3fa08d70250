package handlers_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"fse/handlers"
	"fse/internal/metrics"
)

// Tests of the request metrics: every answer is counted under its route
// pattern, and a path's ids or codes never become a label.

func TestRequestMetricsNameTheRouteNeverThePath(t *testing.T) {
	a := newApp(t)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Build{Version: "test"})
	h := &handlers.Handler{DB: a.db, Keys: a.keys, Hasher: a.h.Hasher, Now: a.Now, Log: a.logs.Logger(), Config: a.h.Config, Requests: m}
	e := handlers.New(h)

	for _, path := range []string{"/healthz", "/fascicolo/referti/4242", "/fascicolo/referti/4243", "/desk/visits/777/slip",
		"/non-esiste/RSSMRA85T10A562S"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/healthz", nil))

	scrape := httptest.NewRecorder()
	m.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := scrape.Body.String()
	for _, want := range []string{
		`fse_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		// Logged out: sent to the login page, counted under the pattern.
		`fse_http_requests_total{method="GET",route="/fascicolo/referti/:id",status="303"} 2`,
		`fse_http_requests_total{method="GET",route="/desk/visits/:id/slip",status="303"} 1`,
		`fse_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fse_http_requests_total{method="DELETE",route="unmatched",status="405"} 1`,
		`fse_http_request_duration_seconds_count{method="GET",route="/fascicolo/referti/:id"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	var labels []string // the request series' names and labels, without values
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "fse_http_") {
			labels = append(labels, line[:strings.LastIndex(line, " ")])
		}
	}
	for _, secret := range []string{"4242", "777", "RSSMRA85T10A562S", "non-esiste"} {
		if all := strings.Join(labels, "\n"); strings.Contains(all, secret) {
			t.Errorf("a request series shows %q from a request's path:\n%s", secret, all)
		}
	}
}
