package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fse/db"
	"fse/internal/metrics"
	"fse/jobs"
)

// observeConfig holds the flags of the logs and the metrics.
type observeConfig struct {
	metricsAddr string
	logFormat   string
	logLevel    slog.Level
}

func (o *observeConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-addr", "",
		"serve Prometheus metrics at /metrics on this address of their own, e.g. 127.0.0.1:9090 (off by default; never the public port)")
	o.logFormat = "text"
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json (one JSON object per line)")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "lowest level logged: debug, info, warn or error")
}

func (o observeConfig) validate(addr string) error {
	if o.logFormat != "text" && o.logFormat != "json" {
		return usagef("--log-format must be text or json, got %q", o.logFormat)
	}
	if o.metricsAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(o.metricsAddr); err != nil {
		return usagef("--metrics-addr must be host:port such as 127.0.0.1:9090, got %q", o.metricsAddr)
	}
	if o.metricsAddr == addr {
		return usagef("--metrics-addr must differ from --addr: metrics never go on the public port")
	}
	return nil
}

// logger is the process's logger as the flags ask. Every line has its
// time and level; each request's line has its request_id (see handlers'
// request logger).
func (o observeConfig) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// metricsExposed says whether host listens beyond this machine.
func metricsExposed(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// startMetrics builds the registry and serves it at /metrics on
// --metrics-addr, a listener apart from the portal's. Without the flag it
// returns a nil Metrics, which records nothing, and a stop that does
// nothing.
func startMetrics(ctx context.Context, o observeConfig, d *db.DB, now func() time.Time, log *slog.Logger) (*metrics.Metrics, func(), error) {
	if o.metricsAddr == "" {
		return nil, func() {}, nil
	}
	schema, err := d.AppliedSchemaVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	b := currentBuild()
	m := metrics.New(prometheus.NewRegistry(), metrics.Build{Version: b.Version, Commit: b.Commit, GoVersion: b.GoVersion, Schema: schema})
	if err := m.WatchStore(ctx, d, now, nil); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", o.metricsAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	if metricsExposed(o.metricsAddr) {
		log.Warn("metrics are served on every network interface: keep the port firewalled, or use --metrics-addr 127.0.0.1:PORT",
			"metrics_addr", o.metricsAddr)
	}
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-done
	}
	return m, stop, nil
}

// observedSenders counts what the notification channels send: codes sent
// at once by pages, and notices from the outbox.
func observedSenders(m *metrics.Metrics, s jobs.Senders) (codes, notices jobs.Senders) {
	codes = jobs.Senders{SMS: m.Sender(db.ChannelSMS, metrics.PurposeCode, s.SMS), Email: m.Sender(db.ChannelEmail, metrics.PurposeCode, s.Email)}
	notices = jobs.Senders{SMS: m.Sender(db.ChannelSMS, metrics.PurposeNotice, s.SMS), Email: m.Sender(db.ChannelEmail, metrics.PurposeNotice, s.Email)}
	return codes, notices
}

// observedJobs counts and times every scheduled job's runs.
func observedJobs(m *metrics.Metrics, all []jobs.Scheduled) []jobs.Scheduled {
	for i := range all {
		all[i].Job = m.Job(all[i].Name, all[i].Job)
	}
	return all
}
