package metrics

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fse/db"
	"fse/internal/diskspace"
)

// storeTimeout bounds one scrape's reads of the database.
const storeTimeout = 10 * time.Second

// WatchStore registers the metrics read from the database at each scrape:
// the events of the audit log from now on (logins, lockouts, reports,
// intake) as counters, and the outbox, the lockouts in force, the reports
// online and the database's files and disk as gauges. The audit log is
// where every one of those events is already recorded, in the same
// transaction as the event, so counting it misses none and needs no hook
// in the code that does them. free reads the free bytes of the disk
// holding a file (nil: diskspace.Free).
func (m *Metrics) WatchStore(ctx context.Context, d *db.DB, now func() time.Time, free func(string) (uint64, error)) error {
	after, err := d.LastAuditID(ctx)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if free == nil {
		free = diskspace.Free
	}
	c := &storeCollector{store: d, now: now, free: free, after: after, counts: map[series]float64{}}
	for _, realm := range []string{"staff", "patient"} {
		for _, step := range []string{"password", "second_factor"} {
			for _, outcome := range []string{db.OutcomeOK, db.OutcomeFailed, db.OutcomeDenied} {
				c.counts[seriesOf3(logins, realm, step, outcome)] = 0
			}
		}
	}
	for _, by := range []string{"patient", "staff"} {
		c.counts[seriesOf1(downloaded, by)] = 0
	}
	for _, d := range []*prometheus.Desc{published, corrected, expired, withdrawn, deletedByPatient} {
		c.counts[seriesOf0(d)] = 0
	}
	return m.reg.Register(c)
}

var (
	logins = prometheus.NewDesc("fse_logins_total",
		"Login steps, by realm (staff, patient), step (password, second_factor: an authenticator app or SMS code) and outcome (ok, failed, denied: refused by a lockout or a disabled account).",
		[]string{"realm", "step", "outcome"}, nil)
	lockedOut = prometheus.NewDesc("fse_locked_out_attempts_total",
		"Attempts refused because their username, account, codice fiscale or factor was locked out, by audit action.",
		[]string{"action"}, nil)
	published = prometheus.NewDesc("fse_reports_published_total",
		"Reports published online (by staff or an integration).", nil, nil)
	corrected = prometheus.NewDesc("fse_reports_corrected_total",
		"Published reports replaced by a corrected one.", nil, nil)
	downloaded = prometheus.NewDesc("fse_reports_downloaded_total",
		"Reports downloaded or opened, by patients (download or view online) or by staff at the desk.", []string{"by"}, nil)
	expired = prometheus.NewDesc("fse_reports_expired_total",
		"Reports deleted by the expire job at the end of their retention.", nil, nil)
	withdrawn = prometheus.NewDesc("fse_reports_withdrawn_total",
		"Reports withdrawn by staff or an integration.", nil, nil)
	deletedByPatient = prometheus.NewDesc("fse_reports_deleted_by_patient_total",
		"Reports a patient deleted (one, or a dossier reset).", nil, nil)
	intake = prometheus.NewDesc("fse_intake_events_total",
		"What the clinic's systems did through the API, FHIR, MLLP or the hot folder, by audit action and outcome (integration.auth_failed: a refused token).",
		[]string{"action", "outcome"}, nil)

	lockouts = prometheus.NewDesc("fse_lockouts_active",
		"Lockouts in force, by kind of key (staff, account, activate-cf, factor...).", []string{"kind"}, nil)
	reportsOnline = prometheus.NewDesc("fse_reports_online",
		"Published reports not yet expired.", nil, nil)
	outboxPending = prometheus.NewDesc("fse_outbox_pending",
		"Notifications waiting in the outbox, by channel.", []string{"channel"}, nil)
	outboxOldest = prometheus.NewDesc("fse_outbox_oldest_pending_age_seconds",
		"Age of the oldest notification waiting in the outbox; 0 when none waits.", nil, nil)
	outboxFailed = prometheus.NewDesc("fse_outbox_failed",
		"Notifications given up on after their last attempt, kept 90 days (listed for admins on Notifiche).", nil, nil)
	dbSize = prometheus.NewDesc("fse_db_size_bytes",
		"Size of the database file.", nil, nil)
	walSize = prometheus.NewDesc("fse_db_wal_size_bytes",
		"Size of the database's write-ahead log.", nil, nil)
	diskFree = prometheus.NewDesc("fse_db_disk_free_bytes",
		"Free space on the disk holding the database, for fse's user.", nil, nil)
)

// series is one counter with its label values (as many as its desc has).
type series struct {
	desc   *prometheus.Desc
	labels [3]string
	n      int
}

func seriesOf0(d *prometheus.Desc) series { return series{desc: d} }

func seriesOf1(d *prometheus.Desc, a string) series {
	return series{desc: d, labels: [3]string{a}, n: 1}
}

func seriesOf2(d *prometheus.Desc, a, b string) series {
	return series{desc: d, labels: [3]string{a, b}, n: 2}
}

func seriesOf3(d *prometheus.Desc, a, b, c string) series {
	return series{desc: d, labels: [3]string{a, b, c}, n: 3}
}

type storeCollector struct {
	store *db.DB
	now   func() time.Time
	free  func(string) (uint64, error)

	// mu serialises scrapes: each counts the audit events after the
	// previous one's last.
	mu     sync.Mutex
	after  int64
	counts map[series]float64
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{logins, lockedOut, published, corrected, downloaded, expired, withdrawn,
		deletedByPatient, intake, lockouts, reportsOnline, outboxPending, outboxOldest, outboxFailed, dbSize, walSize, diskFree} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	c.collectEvents(ctx, ch)
	c.collectStats(ctx, ch)
	c.collectFiles(ch)
}

func (c *storeCollector) collectEvents(ctx context.Context, ch chan<- prometheus.Metric) {
	counts, last, err := c.store.AuditCountsAfter(ctx, c.after)
	if err != nil {
		// The events stay in the log: the next scrape counts them.
		ch <- prometheus.NewInvalidMetric(logins, err)
	} else {
		c.after = last
		for _, n := range counts {
			for _, s := range countersOf(n) {
				c.counts[s] += float64(n.N)
			}
		}
	}
	for s, v := range c.counts {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, v, s.labels[:s.n]...)
	}
}

func (c *storeCollector) collectStats(ctx context.Context, ch chan<- prometheus.Metric) {
	now := c.now()
	st, err := c.store.Stats(ctx, now)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(reportsOnline, err)
		return
	}
	for kind, n := range st.LockedKeys {
		ch <- prometheus.MustNewConstMetric(lockouts, prometheus.GaugeValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(reportsOnline, prometheus.GaugeValue, float64(st.ReportsOnline))
	ob, err := c.store.OutboxStats(ctx, now)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPending, err)
		return
	}
	for _, channel := range []string{db.ChannelSMS, db.ChannelEmail} {
		ch <- prometheus.MustNewConstMetric(outboxPending, prometheus.GaugeValue, float64(ob.QueuedByChannel[channel]), channel)
	}
	age := 0.0
	if !ob.OldestQueued.IsZero() {
		age = max(now.Sub(ob.OldestQueued).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxOldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(outboxFailed, prometheus.GaugeValue, float64(ob.Failed))
}

func (c *storeCollector) collectFiles(ch chan<- prometheus.Metric) {
	if size, wal, err := c.store.FileSizes(); err != nil {
		ch <- prometheus.NewInvalidMetric(dbSize, err)
	} else {
		ch <- prometheus.MustNewConstMetric(dbSize, prometheus.GaugeValue, float64(size))
		ch <- prometheus.MustNewConstMetric(walSize, prometheus.GaugeValue, float64(wal))
	}
	if free, err := c.free(c.store.Path); err != nil {
		ch <- prometheus.NewInvalidMetric(diskFree, err)
	} else {
		ch <- prometheus.MustNewConstMetric(diskFree, prometheus.GaugeValue, float64(free))
	}
}
