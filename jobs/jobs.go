// Package jobs holds fse's scheduled maintenance. Each job is idempotent
// and exposes RunOnce so tests and `fse jobs run NAME` call it directly.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/robfig/cron/v3"

	"fse/db"
	"fse/internal/lowprio"
	"fse/internal/notify"
)

// Job is one scheduled task.
type Job interface {
	// RunOnce does the job's work once.
	RunOnce(ctx context.Context) error
}

// background is a job of bulk work (a purge, an optimize) that pages must
// not wait behind: Run gives it the lowest CPU priority.
type background interface{ Background() bool }

// Run runs job once, a background job at the lowest CPU priority (package
// lowprio): the server's cron and `fse jobs run` both run jobs this way.
func Run(ctx context.Context, job Job) error {
	if b, ok := job.(background); !ok || !b.Background() {
		return job.RunOnce(ctx)
	}
	var err error
	lowprio.Run(func() { err = job.RunOnce(ctx) })
	return err
}

// Scheduled pairs a job with its cron spec.
type Scheduled struct {
	Name string
	Spec string
	Job  Job
}

// Expire removes everything whose time is up: published reports past
// expires_at (rows and ciphertext), abandoned upload drafts, drafts of
// uploads whose discard failed (a full disk) whatever their age, expired
// activation codes and sessions. The server's checkpointer then truncates
// the WAL, so no copy of a deleted page outlives the deletion for long.
type Expire struct {
	DB  *db.DB
	Now func() time.Time
	Log *slog.Logger
}

// Background marks the purge as bulk work (see Run).
func (Expire) Background() bool { return true }

// RunOnce implements Job.
func (j Expire) RunOnce(ctx context.Context) error {
	now := j.Now().UTC()
	// Drafts a full disk kept from being discarded go first, at the first
	// run after it, not an hour later. A failure here is the disk still
	// full: the rest of the run says so too, or gets through.
	failed, left, err := j.DB.RetryDiscards(ctx)
	if err != nil {
		j.Log.Warn("expire: drafts of failed uploads not yet discarded", "drafts", left, "err", err)
	}
	docs, drafts, err := j.DB.DeleteExpiredDocuments(ctx, now)
	if err != nil {
		return fmt.Errorf("expire documents: %w", err)
	}
	codes, err := j.DB.DeleteExpiredCodes(ctx, now)
	if err != nil {
		return fmt.Errorf("expire activation codes: %w", err)
	}
	sessions, err := j.DB.DeleteExpiredSessions(ctx, now)
	if err != nil {
		return fmt.Errorf("expire sessions: %w", err)
	}
	// SMS codes expire after minutes; rows stay a day so the send limit
	// (3 per 15 minutes) can count them.
	otps, err := j.DB.DeleteOldOTPs(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("expire sms codes: %w", err)
	}
	if _, err := j.DB.DeleteExpiredEmailVerifications(ctx, now); err != nil {
		return fmt.Errorf("expire email confirmations: %w", err)
	}
	if _, err := j.DB.DeleteEndedShares(ctx, now); err != nil {
		return fmt.Errorf("expire shares: %w", err)
	}
	// The background checkpointer erases the deleted pages from the WAL.
	j.DB.NoteDeletion()
	j.Log.Info("expire", "documents", docs, "drafts", drafts, "failed_uploads", failed, "codes", codes, "sessions", sessions, "sms_codes", otps)
	return nil
}

// Optimize runs SQLite's PRAGMA optimize.
type Optimize struct {
	DB *db.DB
}

// Background marks the optimize as bulk work (see Run).
func (Optimize) Background() bool { return true }

// RunOnce implements Job.
func (j Optimize) RunOnce(ctx context.Context) error { return j.DB.Optimize(ctx) }

// Senders are the notification channels the deliver job may use; a nil
// one leaves its messages queued.
type Senders struct {
	SMS, Email notify.Sender
	// Reports encrypts the reports emailed to the accounts that asked for
	// them; nil fails those messages (no key file in this process).
	Reports Attacher
}

// All returns fse's jobs with their schedules (Europe/Rome time).
func All(d *db.DB, now func() time.Time, log *slog.Logger, s Senders) []Scheduled {
	return []Scheduled{
		{Name: "expire", Spec: "*/15 * * * *", Job: Expire{DB: d, Now: now, Log: log}},
		{Name: "deliver", Spec: "* * * * *", Job: Deliver{DB: d, SMS: s.SMS, Email: s.Email, Now: now, Log: log, Attach: s.Reports}},
		{Name: "optimize", Spec: "30 3 * * *", Job: Optimize{DB: d}},
	}
}

// Find returns the job called name.
func Find(all []Scheduled, name string) (Job, error) {
	names := make([]string, 0, len(all))
	for _, s := range all {
		if s.Name == name {
			return s.Job, nil
		}
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown job %q (known: %v)", name, names)
}

// Scheduler runs the jobs on their schedules until Stop.
type Scheduler struct {
	cron   *cron.Cron
	cancel context.CancelFunc
}

// Start schedules the jobs on a cron in Rome time (db.Rome), recovering
// panics and skipping a run while the previous one is still going. Every
// run gets a context that Stop cancels, so a long job (a delivery backlog)
// stops at its next check instead of holding up the shutdown.
func Start(ctx context.Context, all []Scheduled, log *slog.Logger) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(ctx)
	logger := cronLogger{log}
	c := cron.New(cron.WithLocation(db.Rome), cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, s := range all {
		if _, err := c.AddFunc(s.Spec, func() {
			start := time.Now()
			if err := Run(ctx, s.Job); err != nil {
				log.Error("job failed", "job", s.Name, "err", err)
				return
			}
			log.Debug("job done", "job", s.Name, "ms", time.Since(start).Milliseconds())
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule %s: %w", s.Name, err)
		}
	}
	c.Start()
	return &Scheduler{cron: c, cancel: cancel}, nil
}

// Stop cancels running jobs, stops scheduling new runs and waits for the
// running ones to return.
func (s *Scheduler) Stop() {
	s.cancel()
	<-s.cron.Stop().Done()
}

// Entries lists the scheduled runs, for tests and diagnostics.
func (s *Scheduler) Entries() []cron.Entry { return s.cron.Entries() }

type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
