// Package metrics counts what the portal does, for Prometheus: requests by
// route, notifications sent, job runs, and what the store holds (logins,
// lockouts, reports, the outbox, the database's size). main builds the
// registry and serves it on a listener of its own; nothing here is global.
//
// No label ever carries personal data: routes are Echo's patterns
// (/fascicolo/referti/:id), never request paths; the rest are fixed
// names (realms, channels, jobs, audit actions).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fse/internal/notify"
)

// Build says which fse is running, for fse_build_info.
type Build struct {
	Version, Commit, GoVersion string
	// Schema is the database's schema version.
	Schema int
}

// Metrics records the portal's events on a registry. A nil *Metrics
// records nothing, so code paths without metrics need no checks.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	sends    *prometheus.CounterVec
	jobRuns  *prometheus.CounterVec
	jobTime  *prometheus.HistogramVec
}

// New registers fse's metrics, the Go runtime's and the process's on reg.
func New(reg *prometheus.Registry, b Build) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fse_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fse_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern (a download counts until its last byte).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"method", "route"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fse_notifications_total",
			Help: "Messages handed to the SMS gateway or the mail server, by channel, purpose (code: sent at once; notice: from the outbox) and outcome (sent, failed).",
		}, []string{"channel", "purpose", "outcome"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fse_job_runs_total",
			Help: "Scheduled job runs, by job and outcome (ok, failed).",
		}, []string{"job", "outcome"}),
		jobTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fse_job_duration_seconds",
			Help:    "Time a scheduled job run took, by job.",
			Buckets: []float64{.01, .05, .25, 1, 5, 15, 60, 300, 900},
		}, []string{"job"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "fse_build_info",
		Help: "Always 1; the labels say which fse runs and the database's schema version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion,
			"schema": strconv.Itoa(b.Schema)},
	})
	info.Set(1)
	reg.MustRegister(m.requests, m.latency, m.sends, m.jobRuns, m.jobTime, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus' text format. A collector
// that fails (the database busy past the deadline) is logged and left
// out; the others are still served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
		Timeout:       20 * time.Second,
	})
}

type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) {
	if len(v) == 1 {
		l.log.Error("metrics", "err", v[0])
		return
	}
	l.log.Error("metrics", "err", v)
}

// knownMethods keeps the method label bounded whatever clients send.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// ObserveRequest records one answered request. route must be a route
// pattern or a fixed name such as "unmatched", never the request's path.
func (m *Metrics) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	if !knownMethods[method] {
		method = "other"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// Notification purposes, for Sender.
const (
	// PurposeCode is a message sent at once by a page: an SMS code, an
	// email confirmation link.
	PurposeCode = "code"
	// PurposeNotice is a message the deliver job takes from the outbox.
	PurposeNotice = "notice"
)

// Sender counts what s sends on channel ("sms", "email") for purpose. A
// nil s (the channel not configured) stays nil.
func (m *Metrics) Sender(channel, purpose string, s notify.Sender) notify.Sender {
	if m == nil || s == nil {
		return s
	}
	return countingSender{s: s, sent: m.sends.WithLabelValues(channel, purpose, "sent"),
		failed: m.sends.WithLabelValues(channel, purpose, "failed")}
}

type countingSender struct {
	s            notify.Sender
	sent, failed prometheus.Counter
}

func (c countingSender) Send(ctx context.Context, msg notify.Message) error {
	err := c.s.Send(ctx, msg)
	if err != nil {
		c.failed.Inc()
	} else {
		c.sent.Inc()
	}
	return err
}

// Runner is a scheduled job as package jobs runs it.
type Runner interface {
	RunOnce(ctx context.Context) error
}

// Job counts the runs of the job called name and times them. The job
// keeps its CPU priority (a Background method is passed on).
func (m *Metrics) Job(name string, j Runner) Runner {
	if m == nil {
		return j
	}
	return timedJob{name: name, j: j, runs: m.jobRuns, time: m.jobTime.WithLabelValues(name)}
}

type timedJob struct {
	name string
	j    Runner
	runs *prometheus.CounterVec
	time prometheus.Observer
}

func (t timedJob) RunOnce(ctx context.Context) error {
	start := time.Now()
	err := t.j.RunOnce(ctx)
	t.time.Observe(time.Since(start).Seconds())
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	t.runs.WithLabelValues(t.name, outcome).Inc()
	return err
}

// Background passes on the job's own answer (see jobs.Run).
func (t timedJob) Background() bool {
	b, ok := t.j.(interface{ Background() bool })
	return ok && b.Background()
}
