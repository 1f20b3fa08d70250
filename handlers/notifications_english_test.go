package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/internal/notify"
	"fse/jobs"
)

// Tests that the SMS and emails a patient receives speak the language of
// the account they go to, whoever caused them (the desk, a job, the
// holder) and whatever language the desk speaks.

// ntRossi accepts Rossi at the desk and has him register with browser
// (his email confirmed), activate his dossier and ask to be told by SMS
// and email. It returns the app, his browser, the desk and the visit.
func ntRossi(t *testing.T, browser func(*app) *client) (*app, *client, *client, int64) {
	t.Helper()
	a := newApp(t)
	desk := a.deskClient()
	visitID, code := desk.accept(a.acceptForm())
	c := a.registerWith(browser(a), "Mario", "Rossi", pdRossiTyped, "mario@example.it")
	if rec := c.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d\n%s", rec.Code, rec.Body.String())
	}
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"both"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("preferences: %d", rec.Code)
	}
	return a, c, desk, visitID
}

// ntDeliver runs the outbox worker with the fake SMS gateway and mailbox.
func ntDeliver(t *testing.T, a *app) {
	t.Helper()
	err := jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: mailbox{a}, Now: a.Now,
		Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// ntLastMail is the last email sent to to.
func ntLastMail(t *testing.T, a *app, to string) notify.Message {
	t.Helper()
	a.h.Wait()
	a.smsMu.Lock()
	defer a.smsMu.Unlock()
	for i := len(a.mails) - 1; i >= 0; i-- {
		if a.mails[i].To == to {
			return a.mails[i]
		}
	}
	t.Fatalf("no email sent to %s", to)
	return notify.Message{}
}

// ntLastSMS is the last SMS the gateway received for mobile.
func ntLastSMS(t *testing.T, a *app, mobile string) string {
	t.Helper()
	msgs := a.smsTo(mobile)
	if len(msgs) == 0 {
		t.Fatalf("no SMS sent to %s", mobile)
	}
	return msgs[len(msgs)-1]
}

// ntQueued are the bodies of the messages of kind queued for recipient.
func ntQueued(t *testing.T, a *app, kind, recipient string) []string {
	t.Helper()
	rows, err := a.raw.Query(`SELECT subject || ' ' || body FROM outbox WHERE kind = ? AND recipient = ? ORDER BY id`, kind, recipient)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// The desk publishes a report: an account registered in English is told
// in English, by SMS and email, and one registered in Italian in Italian,
// though the desk's pages are Italian.
func TestReportReadyNoticeSpeaksTheAccountsLanguage(t *testing.T) {
	tests := []struct {
		name                   string
		browser                func(*app) *client
		sms, subject, greeting string
		notSaid                []string
	}{
		{"English", (*app).englishClient, "Online medical reports: a new document is available in your dossier. Log in at " + pdPortalLink,
			"Online medical reports: new document available", "Dear user,", []string{"fascicolo", "Gentile", "documento"}},
		{"Italian", (*app).client, "Referti online: è disponibile un nuovo documento nel suo fascicolo. Acceda da " + pdPortalLink,
			"Referti online: nuovo documento disponibile", "Gentile utente,", []string{"dossier", "Dear", "document "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, desk, visitID := ntRossi(t, tt.browser)
			publishReport(t, desk, visitID, "Esami del sangue")
			ntDeliver(t, a)
			if got := ntLastSMS(t, a, rossiMobile); got != tt.sms {
				t.Errorf("SMS = %q, want %q", got, tt.sms)
			}
			m := ntLastMail(t, a, "mario@example.it")
			if m.Subject != tt.subject {
				t.Errorf("email subject = %q, want %q", m.Subject, tt.subject)
			}
			if !strings.HasPrefix(m.Body, tt.greeting) || !strings.Contains(m.Body, pdPortalLink) {
				t.Errorf("email body = %q, want it to open with %q and give the link", m.Body, tt.greeting)
			}
			for _, w := range tt.notSaid {
				for _, text := range []string{ntLastSMS(t, a, rossiMobile), m.Subject, m.Body} {
					if strings.Contains(strings.ReplaceAll(text, pdPortalLink, ""), w) {
						t.Errorf("%s notice says %q: %q", tt.name, w, text)
					}
				}
			}
		})
	}
}

// A patient who registered in Italian and then chose English on the site
// is told in English from then on: the choice is the account's.
func TestChoosingEnglishOnTheSiteChangesTheNoticesLanguage(t *testing.T) {
	a, c, desk, visitID := ntRossi(t, (*app).client)
	if rec := c.get("/lingua/en?torna=/fascicolo"); rec.Code != http.StatusSeeOther {
		t.Fatalf("switch to English: %d", rec.Code)
	}
	publishReport(t, desk, visitID, "Esami del sangue")
	ntDeliver(t, a)
	if got := ntLastSMS(t, a, rossiMobile); !strings.HasPrefix(got, "Online medical reports: a new document") {
		t.Errorf("SMS after choosing English = %q", got)
	}
}

// The other notices follow the account's language too: the email that
// confirms the address (the language of the sign-up), a security notice
// (a password changed) and the reminder that a report leaves the portal.
func TestEveryNoticeToAnEnglishAccountIsEnglish(t *testing.T) {
	a, c, desk, visitID := ntRossi(t, (*app).englishClient)
	var confirm notify.Message
	a.smsMu.Lock()
	for _, m := range a.mails {
		if m.To == "mario@example.it" && strings.Contains(m.Body, "/verifica-email?t=") {
			confirm = m
		}
	}
	a.smsMu.Unlock()
	if confirm.Subject != "Online medical reports: confirm your email address" || !strings.HasPrefix(confirm.Body, "Dear user,") ||
		strings.Contains(confirm.Body, "collegamento") {
		t.Errorf("confirmation email in English: %q\n%s", confirm.Subject, confirm.Body)
	}

	const newPassword = "blue kite over the quiet harbour"
	if rec := c.post("/profilo/password", url.Values{"current": {patientPassword}, "password": {newPassword},
		"password2": {newPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", rec.Code, rec.Body.String())
	}
	security := ntQueued(t, a, "security", rossiMobile)
	if len(security) == 0 || !strings.Contains(security[len(security)-1], "Online medical reports: Your account's password has been changed.") {
		t.Errorf("security SMS = %q, want the English notice", security)
	}
	security = ntQueued(t, a, "security", "mario@example.it")
	if len(security) == 0 || !strings.HasPrefix(security[len(security)-1], "Online medical reports: security notice Dear user,") {
		t.Errorf("security email = %q, want the English notice", security)
	}

	publishReport(t, desk, visitID, "Esami del sangue")
	a.advance(55 * 24 * time.Hour)
	if err := (jobs.Remind{DB: a.db, Now: a.Now, Log: slog.New(slog.DiscardHandler), BaseURL: "https://referti.example.it",
		Days: 7}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	reminders := ntQueued(t, a, "report_expiring", rossiMobile)
	if len(reminders) != 1 || !strings.Contains(reminders[0], "a document in your dossier will be removed on ") {
		t.Errorf("expiry reminder = %q, want one in English", reminders)
	}
	for _, r := range append(reminders, ntQueued(t, a, "report_expiring", "mario@example.it")...) {
		if strings.Contains(r, "fascicolo") || strings.Contains(r, "rimosso") {
			t.Errorf("English reminder in Italian: %q", r)
		}
	}
}

// A parent whose account speaks English is told in English that the
// dossier of a child who came of age is no longer his to see.
func TestTheComingOfAgeNoticeSpeaksTheParentsLanguage(t *testing.T) {
	m := mjSetup(t, date(2008, 3, 10), rome(2026, 1, 10, 9, 0))
	if rec := m.mario.get("/lingua/en?torna=/fascicolo"); rec.Code != http.StatusSeeOther {
		t.Fatalf("switch to English: %d", rec.Code)
	}
	m.a.setNow(rome(2026, 3, 10, 9, 0))
	m.runMajority(t)
	body := authBody(t, m.a, `SELECT body FROM outbox WHERE kind = 'dossier_ended'`)
	if want := "Online medical reports: a dossier you managed can no longer be accessed from your account."; body != want {
		t.Errorf("notice = %q, want %q", body, want)
	}
}
