package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"fse/db"
	"fse/internal/metrics"
	"fse/internal/notify"
	"fse/internal/testkit"
)

// Tests of the metrics: what each counts, and that a scrape never shows
// who did what.

// scrape reads the registry as Prometheus does and returns the text.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// value is the value of the series name{labels} in reg, and whether it exists.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			return metricValue(m), true
		}
	}
	return 0, false
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func wantValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := value(t, reg, name, labels)
	if !ok {
		t.Errorf("%s%v is missing", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func newMetrics(t *testing.T) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return metrics.New(reg, metrics.Build{Version: "1.2.3", Commit: "abc", GoVersion: "go1.26", Schema: 11}), reg
}

func audit(t *testing.T, d *db.DB, e db.AuditEvent) {
	t.Helper()
	if e.At.IsZero() {
		e.At = testkit.T0
	}
	if err := d.Audit(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func TestStoreCountsTheAuditLogsEventsFromStartOnwards(t *testing.T) {
	d := testkit.OpenDB(t)
	m, reg := newMetrics(t)
	staff := db.Actor{Kind: db.ActorStaff, ID: 7, Name: "mario.rossi", IP: "203.0.113.9"}
	patient := db.Actor{Kind: db.ActorPatient, ID: 12, IP: "198.51.100.4"}
	lab := db.Actor{Kind: db.ActorIntegration, ID: 3, Name: "Laboratorio analisi"}
	// Before the server started: not counted.
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffLogin, Outcome: db.OutcomeFailed})

	if err := m.WatchStore(context.Background(), d, func() time.Time { return testkit.T0 }, nil); err != nil {
		t.Fatal(err)
	}
	wantValue(t, reg, "fse_logins_total", map[string]string{"realm": "staff", "step": "password", "outcome": "failed"}, 0)

	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffLogin, Outcome: db.OutcomeFailed})
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffLogin, Outcome: db.OutcomeFailed})
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffLogin})
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffSecondFactor})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionAccountLogin, Outcome: db.OutcomeDenied, Detail: db.DetailLockedOut})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionAccountLoginCode, Outcome: db.OutcomeFailed})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionDossierActivate, Outcome: db.OutcomeDenied, Detail: db.DetailLockedOut})
	audit(t, d, db.AuditEvent{Actor: lab, Action: db.ActionReportPublish, ObjectType: "document", ObjectID: 99})
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionReportPublish, ObjectType: "document", ObjectID: 98})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionReportDownload, ObjectType: "document", ObjectID: 98})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionReportViewOnline, ObjectType: "document", ObjectID: 98})
	audit(t, d, db.AuditEvent{Actor: patient, Action: db.ActionReportDownload, Outcome: db.OutcomeFailed, ObjectType: "document", ObjectID: 98})
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionReportView, ObjectType: "document", ObjectID: 98})
	audit(t, d, db.AuditEvent{Actor: db.Actor{Kind: db.ActorSystem}, Action: db.ActionReportExpire, ObjectType: "document", ObjectID: 97})
	audit(t, d, db.AuditEvent{Actor: db.Actor{Kind: db.ActorIntegration, IP: "10.1.2.3"}, Action: db.ActionIntegrationAuthFailed,
		Outcome: db.OutcomeDenied, Detail: "unknown or revoked token"})

	text := scrape(t, m)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fse_logins_total", map[string]string{"realm": "staff", "step": "password", "outcome": "failed"}, 2},
		{"fse_logins_total", map[string]string{"realm": "staff", "step": "password", "outcome": "ok"}, 1},
		{"fse_logins_total", map[string]string{"realm": "staff", "step": "second_factor", "outcome": "ok"}, 1},
		{"fse_logins_total", map[string]string{"realm": "patient", "step": "password", "outcome": "denied"}, 1},
		{"fse_logins_total", map[string]string{"realm": "patient", "step": "second_factor", "outcome": "failed"}, 1},
		{"fse_logins_total", map[string]string{"realm": "patient", "step": "password", "outcome": "ok"}, 0},
		{"fse_locked_out_attempts_total", map[string]string{"action": db.ActionAccountLogin}, 1},
		{"fse_locked_out_attempts_total", map[string]string{"action": db.ActionDossierActivate}, 1},
		{"fse_reports_published_total", nil, 2},
		{"fse_reports_downloaded_total", map[string]string{"by": "patient"}, 2},
		{"fse_reports_downloaded_total", map[string]string{"by": "staff"}, 1},
		{"fse_reports_expired_total", nil, 1},
		{"fse_reports_withdrawn_total", nil, 0},
		{"fse_intake_events_total", map[string]string{"action": db.ActionReportPublish, "outcome": "ok"}, 1},
		{"fse_intake_events_total", map[string]string{"action": db.ActionIntegrationAuthFailed, "outcome": "denied"}, 1},
	} {
		wantValue(t, reg, tt.name, tt.labels, tt.want)
	}
	// Who, from where and on what never reaches a label.
	for _, secret := range []string{"mario.rossi", "203.0.113.9", "198.51.100.4", "10.1.2.3", "Laboratorio", "unknown or revoked"} {
		if strings.Contains(text, secret) {
			t.Errorf("the scrape shows %q", secret)
		}
	}

	// A second scrape counts only what happened since the first.
	audit(t, d, db.AuditEvent{Actor: staff, Action: db.ActionStaffLogin, Outcome: db.OutcomeFailed})
	wantValue(t, reg, "fse_logins_total", map[string]string{"realm": "staff", "step": "password", "outcome": "failed"}, 3)
	wantValue(t, reg, "fse_reports_published_total", nil, 2)
}

func TestStoreReportsLockoutsOutboxAndFilesAsGauges(t *testing.T) {
	d := testkit.OpenDB(t)
	ctx := context.Background()
	m, reg := newMetrics(t)
	clock := testkit.NewClock(testkit.T0)
	if err := m.WatchStore(ctx, d, clock.Now, func(string) (uint64, error) { return 5 << 30, nil }); err != nil {
		t.Fatal(err)
	}
	lockAfterOne := db.Throttle{MaxFailures: 1, Window: time.Minute, LockFor: 15 * time.Minute}
	for _, key := range []string{"staff:mario.rossi", "activate-cf:RSSMRA85T10A562S", "account:12"} {
		if _, err := d.ClaimAttempt(ctx, lockAfterOne, key, testkit.T0); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range []string{db.ChannelSMS, db.ChannelSMS, db.ChannelEmail} {
		msg := db.OutboxMessage{Channel: ch, Recipient: "+393331234567", Body: "Nuovo documento disponibile", Kind: "report_available"}
		if ch == db.ChannelEmail {
			msg.Recipient, msg.Subject = "mario.rossi@example.it", "Referti online"
		}
		if err := d.Enqueue(ctx, msg, testkit.T0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(testkit.T0.Add(10 * time.Minute))

	text := scrape(t, m)
	wantValue(t, reg, "fse_lockouts_active", map[string]string{"kind": "staff"}, 1)
	wantValue(t, reg, "fse_lockouts_active", map[string]string{"kind": "activate-cf"}, 1)
	wantValue(t, reg, "fse_lockouts_active", map[string]string{"kind": "account"}, 1)
	wantValue(t, reg, "fse_outbox_pending", map[string]string{"channel": "sms"}, 2)
	wantValue(t, reg, "fse_outbox_pending", map[string]string{"channel": "email"}, 1)
	wantValue(t, reg, "fse_outbox_oldest_pending_age_seconds", nil, 600)
	wantValue(t, reg, "fse_outbox_failed", nil, 0)
	wantValue(t, reg, "fse_reports_online", nil, 0)
	wantValue(t, reg, "fse_db_disk_free_bytes", nil, 5<<30)
	if size, ok := value(t, reg, "fse_db_size_bytes", nil); !ok || size <= 0 {
		t.Errorf("fse_db_size_bytes = %v (present %v), want the file's size", size, ok)
	}
	if _, ok := value(t, reg, "fse_db_wal_size_bytes", nil); !ok {
		t.Error("fse_db_wal_size_bytes is missing")
	}
	for _, secret := range []string{"mario.rossi", "RSSMRA85T10A562S", "393331234567", "account:12"} {
		if strings.Contains(text, secret) {
			t.Errorf("the scrape shows %q", secret)
		}
	}

	// Past the lock, the gauge drops.
	clock.Set(testkit.T0.Add(time.Hour))
	if _, ok := value(t, reg, "fse_lockouts_active", map[string]string{"kind": "staff"}); ok {
		t.Error("fse_lockouts_active{kind=staff} still reported after the lock ended")
	}
}

func TestRequestsAreCountedByRouteStatusAndBoundedMethod(t *testing.T) {
	m, reg := newMetrics(t)
	m.ObserveRequest(http.MethodGet, "/fascicolo/referti/:id", http.StatusOK, 30*time.Millisecond)
	m.ObserveRequest(http.MethodGet, "/fascicolo/referti/:id", http.StatusNotFound, time.Millisecond)
	m.ObserveRequest("PROPFIND", "unmatched", http.StatusMethodNotAllowed, time.Millisecond)

	wantValue(t, reg, "fse_http_requests_total", map[string]string{"method": "GET", "route": "/fascicolo/referti/:id", "status": "200"}, 1)
	wantValue(t, reg, "fse_http_requests_total", map[string]string{"method": "GET", "route": "/fascicolo/referti/:id", "status": "404"}, 1)
	wantValue(t, reg, "fse_http_requests_total", map[string]string{"method": "other", "route": "unmatched", "status": "405"}, 1)
	wantValue(t, reg, "fse_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/fascicolo/referti/:id"}, 2)
	wantValue(t, reg, "fse_build_info", map[string]string{"version": "1.2.3", "schema": "11"}, 1)

	var none *metrics.Metrics
	none.ObserveRequest(http.MethodGet, "/", http.StatusOK, time.Millisecond) // a nil Metrics records nothing, and does not panic
}

// gateway is the outside world's SMS gateway: it fails when told to.
type gateway struct{ fail bool }

func (g *gateway) Send(context.Context, notify.Message) error {
	if g.fail {
		return errors.New("gateway unavailable")
	}
	return nil
}

func TestSenderCountsSentAndFailedMessages(t *testing.T) {
	m, reg := newMetrics(t)
	g := &gateway{}
	s := m.Sender("sms", metrics.PurposeNotice, g)
	msg := notify.Message{To: "+393331234567", Body: "Nuovo documento disponibile"}
	_ = s.Send(context.Background(), msg)
	_ = s.Send(context.Background(), msg)
	g.fail = true
	if err := s.Send(context.Background(), msg); err == nil {
		t.Error("the gateway's failure did not reach the caller")
	}
	wantValue(t, reg, "fse_notifications_total", map[string]string{"channel": "sms", "purpose": "notice", "outcome": "sent"}, 2)
	wantValue(t, reg, "fse_notifications_total", map[string]string{"channel": "sms", "purpose": "notice", "outcome": "failed"}, 1)

	if got := m.Sender("email", metrics.PurposeCode, nil); got != nil {
		t.Errorf("an unconfigured channel became %v, want it to stay nil (messages wait in the outbox)", got)
	}
}

// bulkJob is a job that asks for the lowest CPU priority.
type bulkJob struct{ err error }

func (j bulkJob) RunOnce(context.Context) error { return j.err }
func (bulkJob) Background() bool                { return true }

func TestJobRunsAreCountedTimedAndKeepTheirPriority(t *testing.T) {
	m, reg := newMetrics(t)
	job := m.Job("expire", bulkJob{})
	if b, ok := job.(interface{ Background() bool }); !ok || !b.Background() {
		t.Error("the counted job lost its Background mark: it would run at normal priority")
	}
	_ = job.RunOnce(context.Background())
	_ = m.Job("expire", bulkJob{err: errors.New("disk full")}).RunOnce(context.Background())
	wantValue(t, reg, "fse_job_runs_total", map[string]string{"job": "expire", "outcome": "ok"}, 1)
	wantValue(t, reg, "fse_job_runs_total", map[string]string{"job": "expire", "outcome": "failed"}, 1)
	wantValue(t, reg, "fse_job_duration_seconds", map[string]string{"job": "expire"}, 2)
}
