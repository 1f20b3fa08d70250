package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/jobs"
)

// Tests of the reminder before a report leaves the portal: one neutral
// notice, N days before expires_at, for a report nobody collected, through
// the outbox, to the accounts that see it, as each chose.

// erMessage is a reminder as queued.
type erMessage struct{ channel, recipient, subject, body string }

func erQueued(t testing.TB, a *app) []erMessage {
	t.Helper()
	rows, err := a.raw.Query(`SELECT channel, recipient, subject, body FROM outbox WHERE kind = 'report_expiring' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []erMessage
	for rows.Next() {
		var m erMessage
		if err := rows.Scan(&m.channel, &m.recipient, &m.subject, &m.body); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// erRemind runs the reminder job with days at the app's clock.
func erRemind(t testing.TB, a *app, days int) {
	t.Helper()
	job := jobs.Remind{DB: a.db, Now: a.Now, Log: a.logs.Logger(), BaseURL: "https://referti.example.it", Days: days}
	if err := job.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func erRecipients(ms []erMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.channel+":"+m.recipient)
	}
	slices.Sort(out)
	return out
}

func TestExpiryReminder(t *testing.T) {
	const days = 7
	tests := []struct {
		name   string
		policy db.ProtectedPolicy
		// prepare publishes the report (and does whatever else) and
		// returns its id; before is how long before expiry the job runs.
		prepare func(t *testing.T, f *rfFamily) int64
		before  time.Duration
		want    []string
	}{
		{"8 days before: not yet", db.ProtectedPaper, erPublish(false), 8*24*time.Hour + time.Minute, nil},
		{"7 days before: every account that sees it, by SMS", db.ProtectedPaper, erPublish(false), days * 24 * time.Hour,
			[]string{"sms:" + rossiMobile, "sms:" + rfGiuliaMobile}},
		{"downloaded: no reminder", db.ProtectedPaper, func(t *testing.T, f *rfFamily) int64 {
			doc := erPublish(false)(t, f)
			fcDownload(f.mario, doc)
			return doc
		}, 24 * time.Hour, nil},
		{"picked up on paper: no reminder", db.ProtectedPaper, func(t *testing.T, f *rfFamily) int64 {
			doc := erPublish(false)(t, f)
			f.desk.post(fmt.Sprintf("/desk/documents/%d/pickup", doc), nil)
			return doc
		}, 24 * time.Hour, nil},
		{"the service turned off: no reminder", db.ProtectedPaper, func(t *testing.T, f *rfFamily) int64 {
			doc := erPublish(false)(t, f)
			if rec := f.giulia.post(fmt.Sprintf("/fascicolo/%d/disattiva", f.patient), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("disable: %d", rec.Code)
			}
			return doc
		}, 24 * time.Hour, nil},
		{"protected: the patient's own account only", db.ProtectedSelf, erPublish(true), 24 * time.Hour,
			[]string{"sms:" + rfGiuliaMobile}},
		{"hidden from relatives: the patient's own account only", db.ProtectedPaper, func(t *testing.T, f *rfFamily) int64 {
			doc := erPublish(false)(t, f)
			hide(f.giulia, doc, true)
			return doc
		}, 24 * time.Hour, []string{"sms:" + rfGiuliaMobile}},
		{"by email when the account chose email", db.ProtectedPaper, func(t *testing.T, f *rfFamily) int64 {
			if rec := f.mario.post("/profilo/recapiti", url.Values{"new_mobile": {"333 123 4567"}, "new_email": {"mario@example.it"},
				"contact_password": {patientPassword}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("contact change: %d", rec.Code)
			}
			f.a.confirmEmail("mario@example.it")
			if rec := f.mario.post("/profilo/preferenze", url.Values{"notify": {"email"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("preferences: %d", rec.Code)
			}
			return erPublish(false)(t, f)
		}, 24 * time.Hour, []string{"email:mario@example.it", "sms:" + rfGiuliaMobile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, tt.policy, func(c *handlers.Config) { c.ExpiryReminderDays = days }))
			doc := tt.prepare(t, f)
			d, err := f.a.db.Document(context.Background(), doc)
			if err != nil {
				t.Fatal(err)
			}
			f.a.setNow(d.ExpiresAt.Add(-tt.before))
			erRemind(t, f.a, days)
			got := erQueued(t, f.a)
			if fmt.Sprint(erRecipients(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("reminders to %v, want %v", erRecipients(got), tt.want)
			}
			day := d.ExpiresAt.In(db.Rome).Format("02/01/2006")
			for _, m := range got {
				text := m.subject + " " + m.body
				if !strings.Contains(text, "sarà rimosso il "+day) || !strings.Contains(text, "https://referti.example.it/accedi") {
					t.Errorf("reminder %q does not name the day %s and the portal", text, day)
				}
				for _, never := range []string{"Ecografia", "Giulia", "Verdi", "Poliambulatorio", rfGiuliaCF} {
					if strings.Contains(text, never) {
						t.Errorf("reminder %q reveals %q", text, never)
					}
				}
			}
			// Once per report: running again (the next day) sends nothing more.
			f.a.advance(24 * time.Hour)
			erRemind(t, f.a, days)
			if n := len(erQueued(t, f.a)); n != len(tt.want) {
				t.Errorf("after a second run %d reminders, want %d", n, len(tt.want))
			}
		})
	}
}

// erPublish publishes a report of Giulia's, of a protected visit or not.
func erPublish(protected bool) func(t *testing.T, f *rfFamily) int64 {
	return func(t *testing.T, f *rfFamily) int64 {
		t.Helper()
		visit := f.ownVisit
		if protected {
			visit = f.visit(t, true)
		}
		doc, _ := publishReport(t, f.desk, visit, "Ecografia")
		return doc
	}
}

func TestExpiryReminderOffAndDroppedWithTheService(t *testing.T) {
	f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, nil))
	doc, _ := publishReport(t, f.desk, f.ownVisit, "Ecografia")
	d, _ := f.a.db.Document(context.Background(), doc)
	f.a.setNow(d.ExpiresAt.Add(-time.Hour))
	erRemind(t, f.a, 0)
	if n := len(erQueued(t, f.a)); n != 0 {
		t.Fatalf("--expiry-reminder-days 0 queued %d reminders", n)
	}
	erRemind(t, f.a, 7)
	if n := len(erQueued(t, f.a)); n != 2 {
		t.Fatalf("%d reminders queued, want 2", n)
	}
	// Turning the service off drops the reminders not yet sent.
	f.giulia.post(fmt.Sprintf("/fascicolo/%d/disattiva", f.patient), nil)
	if got := erRecipients(erQueued(t, f.a)); len(got) != 0 {
		t.Errorf("after the service was turned off reminders to %v remain queued", got)
	}
}

func TestDossierMarksReportsAboutToExpire(t *testing.T) {
	tests := []struct {
		name   string
		days   int
		before time.Duration
		want   bool
	}{
		{"8 days before", 7, 8*24*time.Hour + time.Minute, false},
		{"7 days before", 7, 7 * 24 * time.Hour, true},
		{"the last hour", 7, time.Hour, true},
		{"reminder off", 0, time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, db.ProtectedPaper, func(c *handlers.Config) { c.ExpiryReminderDays = tt.days }))
			doc, _ := publishReport(t, f.desk, f.ownVisit, "Ecografia")
			d, _ := f.a.db.Document(context.Background(), doc)
			f.a.setNow(d.ExpiresAt.Add(-tt.before))
			page := parseHTML(t, f.giulia.get(f.dossierPath()).Body.String())
			if got := page.Find("li.report [data-testid=expiring]").Length() == 1; got != tt.want {
				t.Errorf("marked as expiring: %t, want %t", got, tt.want)
			}
		})
	}
}
