package views

import (
	"time"

	"fse/db"
)

// ExpiresSoon tells whether a report leaves the portal within the
// reminder's days (--expiry-reminder-days).
func (p DossierPage) ExpiresSoon(r db.DossierReport) bool {
	return p.ExpiryReminderDays > 0 && r.ExpiresAt.Sub(p.Now) <= time.Duration(p.ExpiryReminderDays)*24*time.Hour
}
