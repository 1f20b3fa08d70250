package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"fse/db"
	"fse/internal/notify"
)

// RightsConfig is what the jobs of the patient's further rights need.
type RightsConfig struct {
	// BaseURL is the portal's public address, for the notices' link.
	BaseURL string
	// ExpiryReminderDays is how many days before a report leaves the portal
	// a patient who never downloaded it is reminded; 0 turns it off.
	ExpiryReminderDays int
}

// Rights returns the jobs of the patient's further rights with their
// schedules (Europe/Rome time): majority at 00:05, remind at 10:00 (a
// reasonable hour for an SMS).
func Rights(d *db.DB, now func() time.Time, log *slog.Logger, c RightsConfig) []Scheduled {
	return []Scheduled{
		{Name: "majority", Spec: "5 0 * * *", Job: Majority{DB: d, Now: now, Log: log}},
		{Name: "remind", Spec: "0 10 * * *", Job: Remind{DB: d, Now: now, Log: log, BaseURL: c.BaseURL, Days: c.ExpiryReminderDays}},
	}
}

// Majority ends the links of other accounts (a parent's) to the dossier of
// a patient who has turned 18, telling each account with a neutral notice
// in its language (db.EndMinorLinks). Reports published from the birthday on are never
// visible through such a link, even before the job runs.
type Majority struct {
	DB  *db.DB
	Now func() time.Time
	Log *slog.Logger
}

// RunOnce implements Job.
func (j Majority) RunOnce(ctx context.Context) error {
	n, err := j.DB.EndMinorLinks(ctx, notify.MajorityNotices(), j.Now().UTC())
	if err != nil {
		return fmt.Errorf("majority: %w", err)
	}
	j.Log.Info("majority", "links_ended", n)
	return nil
}

// Remind queues the one reminder of each report that leaves the portal
// within Days and that nobody collected (db.QueueExpiryNotices), with a
// neutral text in each account's language that names only the day. Days 0 turns it off.
type Remind struct {
	DB      *db.DB
	Now     func() time.Time
	Log     *slog.Logger
	BaseURL string
	Days    int
}

// RunOnce implements Job.
func (j Remind) RunOnce(ctx context.Context) error {
	if j.Days <= 0 {
		j.Log.Info("remind: off (--expiry-reminder-days 0)")
		return nil
	}
	n, err := j.DB.QueueExpiryNotices(ctx, j.Days, func(expires time.Time) db.Notice {
		return notify.ExpiryNotices(j.BaseURL, expires)
	}, j.Now().UTC())
	if err != nil {
		return fmt.Errorf("remind: %w", err)
	}
	j.Log.Info("remind", "reports", n)
	return nil
}
