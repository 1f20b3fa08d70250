package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/internal/notify"
)

// Tests of email confirmation, and of the portal without a mail server.

// TestEmailConfirmationOfTakenAddress: if the owner follows a link meant to
// give their confirmed address to another account, nothing changes (409).
func TestEmailConfirmationOfTakenAddress(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	intruder := a.client()
	intruder.ip = "198.51.100.2"
	paStartRegistration(t, intruder, paMobile2Typed, "mario.rossi@example.it")
	intruder.post("/registrati/codice", url.Values{"code": {a.lastSMSCode(paMobile2)}})
	a.smsMu.Lock()
	last := a.mails[len(a.mails)-1]
	a.smsMu.Unlock()
	token := confirmLink.FindStringSubmatch(last.Body)[1]
	paWantStatus(t, "confirming a taken address", a.client().post("/verifica-email", url.Values{"t": {token}}), http.StatusConflict)
	if acc := paAccount(t, a, paMobile2); acc.Email != "" {
		t.Errorf("the intruder's account got %q", acc.Email)
	}
	paWantStatus(t, "a made-up token", a.client().post("/verifica-email", url.Values{"t": {"inventato"}}), http.StatusNotFound)
	a.advance(25 * time.Hour)
	intruder.post("/profilo/recapiti", url.Values{"new_mobile": {paMobile2Typed}, "new_email": {"altro@example.it"},
		"contact_password": {patientPassword}})
	a.smsMu.Lock()
	last = a.mails[len(a.mails)-1]
	a.smsMu.Unlock()
	token = confirmLink.FindStringSubmatch(last.Body)[1]
	a.advance(25 * time.Hour)
	paWantStatus(t, "an expired link", a.client().post("/verifica-email", url.Values{"t": {token}}), http.StatusGone)
}

// failingMail is a mail server that refuses everything.
type failingMail struct{}

func (failingMail) Send(context.Context, notify.Message) error { return errors.New("mail server down") }

// TestEmailConfirmationLimitsAndNotices: confirmation emails are capped per
// account, say which account asked, leave nothing pending when sending
// fails, and asking for a new address tells the holder.
func TestEmailConfirmationLimitsAndNotices(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	change := func(email string) int {
		return c.post("/profilo/recapiti", url.Values{"new_mobile": {"333 1234567"}, "new_email": {email},
			"contact_password": {patientPassword}}).Code
	}
	for i := range 5 {
		if code := change("indirizzo" + itoa(int64(i)) + "@example.it"); code != http.StatusSeeOther {
			t.Fatalf("confirmation %d: %d", i, code)
		}
	}
	if code := change("ancora@example.it"); code != http.StatusTooManyRequests {
		t.Errorf("6th confirmation email in a day: %d, want 429", code)
	}
	a.smsMu.Lock()
	last := a.mails[len(a.mails)-1]
	a.smsMu.Unlock()
	if !strings.Contains(last.Body, "4567") || strings.Contains(last.Body, "3331234567") {
		t.Errorf("the confirmation email should name the account by its masked mobile: %q", last.Body)
	}
	a.confirmEmail("indirizzo4@example.it")
	var notices int
	a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'security' AND channel = 'sms' AND body LIKE '%nuovo indirizzo email%'`).Scan(&notices)
	if notices != 5 {
		t.Errorf("holder told of each requested address change: %d SMS, want 5", notices)
	}

	a.advance(25 * time.Hour)
	a.h.Email = failingMail{}
	if code := change("nuovo@example.it"); code != http.StatusServiceUnavailable {
		t.Errorf("confirmation with the mail server down: %d, want 503", code)
	}
	if pending, _ := a.db.PendingEmail(context.Background(), 1, a.Now()); pending != "" {
		t.Errorf("an address is pending although no email went out: %q", pending)
	}
}

// TestNoMailServer: without a mail server the email is not asked (it could
// never be confirmed) and a mobile change still works.
func TestNoMailServer(t *testing.T) {
	a := newApp(t)
	a.h.Email = nil
	if n := parseHTML(t, func() string {
		c := a.client()
		c.post("/registrati", url.Values{"consent": {"1"}})
		return c.get("/registrati/profilo").Body.String()
	}()).Find(`input[name=email]`).Length(); n != 0 {
		t.Error("registration asks for an email that could never be confirmed")
	}
	c := a.register("Mario", "Rossi", "333 1234567", "")
	rec := c.post("/profilo/recapiti", url.Values{"new_mobile": {"347 555 1234"}, "new_email": {"mario@example.it"},
		"contact_password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profilo/recapiti/codice" {
		t.Fatalf("mobile change without a mail server: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}
