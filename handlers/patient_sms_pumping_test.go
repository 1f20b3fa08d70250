package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
)

// Tests against SMS pumping (strangers making the portal send SMS to
// numbers that cost the clinic): codes go only to the configured countries,
// and the portal sends at most its daily budget of codes.

// The foreign mobiles the probe registered with.
var pumpForeign = []struct{ typed, e164 string }{
	{"+216 20 123 456", "+21620123456"},
	{"+44 7400 123456", "+447400123456"},
	{"+1 202 555 0123", "+12025550123"},
}

func TestRegistrationSendsCodesOnlyToTheConfiguredCountries(t *testing.T) {
	a := newApp(t)
	for _, m := range pumpForeign {
		c := a.client()
		c.post("/registrati", url.Values{"consent": {"1"}})
		rec := c.post("/registrati/profilo", paProfile(m.typed, ""))
		paWantStatus(t, "registration with "+m.typed, rec, http.StatusUnprocessableEntity)
		if msg := paFieldErr(t, rec, "mobile"); !strings.Contains(msg, "+39") || !strings.Contains(msg, "sportello") {
			t.Errorf("%s: message %q, want it to name +39 and the front desk", m.typed, msg)
		}
		if got := a.smsTo(m.e164); len(got) != 0 {
			t.Errorf("%s: %d SMS sent", m.typed, len(got))
		}
	}
	if n := authCount(t, a, `SELECT count(*) FROM otp_codes`); n != 0 {
		t.Errorf("%d codes created for refused countries", n)
	}
	a.register("Mario", "Rossi", "333 1234567", "")

	// --sms-countries IT,GB: a British mobile gets its code.
	b := newAppWith(t, func(c *handlers.Config) { c.SMSCountries = []string{"IT", "GB"} })
	b.register("John", "Smith", "+44 7400 123456", "")
	if got := len(b.smsTo("+447400123456")); got != 1 {
		t.Errorf("SMS to a listed country: %d, want 1", got)
	}
}

// A foreign mobile the desk recorded gets no code either: not for a
// password reset, a login or a new mobile. A reset asked by email answers
// as for an unknown address.
func TestForeignMobileOutsideTheCountriesGetsNoCode(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	hash, err := a.h.Hasher.Hash(ctx, patientPassword)
	if err != nil {
		t.Fatal(err)
	}
	const british = "+447400123456"
	if _, err := a.db.CreateAccount(ctx, db.Account{FirstName: "John", LastName: "Smith", Mobile: british, Email: "john@example.it",
		PasswordHash: hash, LoginOTP: true, PrivacyVersion: handlers.ServicePrivacyVersion, PrivacyAcceptedAt: a.Now()}, "192.0.2.1", a.Now()); err != nil {
		t.Fatal(err)
	}

	rec := a.client().post("/password-dimenticata", url.Values{"identifier": {"+44 7400 123456"}})
	paWantStatus(t, "reset for the typed British number", rec, http.StatusUnprocessableEntity)
	if !strings.Contains(paAlert(t, rec), "+39") {
		t.Errorf("reset message %q, want it to name +39", paAlert(t, rec))
	}
	known := a.client().post("/password-dimenticata", url.Values{"identifier": {"john@example.it"}})
	unknown := a.client().post("/password-dimenticata", url.Values{"identifier": {"nessuno@example.it"}})
	paWantRedirect(t, "reset by the account's email", known, "/password-dimenticata/codice")
	paWantRedirect(t, "reset by an unknown email", unknown, "/password-dimenticata/codice")

	_, rec = paLogin(a, "192.0.2.30", "john@example.it", patientPassword)
	paWantStatus(t, "login with an SMS step to a British number", rec, http.StatusUnprocessableEntity)
	if !strings.Contains(paAlert(t, rec), "+39") {
		t.Errorf("login message %q, want it to name +39", paAlert(t, rec))
	}
	if got := a.smsTo(british); len(got) != 0 {
		t.Errorf("%d SMS to the British number, want none", len(got))
	}

	rossi := a.register("Mario", "Rossi", "333 1234567", "")
	rec = rossi.post("/profilo/recapiti", url.Values{"new_mobile": {"+216 20 123 456"}, "contact_password": {patientPassword}})
	paWantStatus(t, "a Tunisian new mobile", rec, http.StatusUnprocessableEntity)
	if msg := paFieldErr(t, rec, "new_mobile"); !strings.Contains(msg, "+39") {
		t.Errorf("contact change message %q, want it to name +39", msg)
	}
	if got := a.smsTo("+21620123456"); len(got) != 0 {
		t.Errorf("%d SMS to the Tunisian number, want none", len(got))
	}
}

// Past the daily budget (--sms-daily-limit) codes for registrations,
// resets and new mobiles are refused with an Italian message, admins see a
// warning on every page, and login codes still go. A day later codes go
// again.
func TestDailyBudgetOfSMSCodesRefusesCodesAndWarnsAdmins(t *testing.T) {
	a := newAppWith(t, func(c *handlers.Config) { c.SMSDailyLimit = 2 })
	rossi := a.register("Mario", "Rossi", "333 1234567", "") // code 1
	paEnableLoginOTP(t, rossi)
	paStartRegistration(t, a.client(), paMobile2Typed, "") // code 2

	third := a.client()
	third.post("/registrati", url.Values{"consent": {"1"}})
	rec := third.post("/registrati/profilo", paProfile(paMobile3Typed, ""))
	paWantStatus(t, "registration past the budget", rec, http.StatusServiceUnavailable)
	if msg := paAlert(t, rec); !strings.Contains(msg, "numero massimo di codici") || !strings.Contains(msg, "sportello") {
		t.Errorf("message %q, want the daily maximum and the front desk", msg)
	}
	rec = a.client().post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}})
	paWantStatus(t, "reset past the budget", rec, http.StatusServiceUnavailable)
	if got := a.smsTo(paMobile3); len(got) != 0 {
		t.Errorf("%d SMS past the budget", len(got))
	}

	// Login codes need the password and are not refused.
	_, rec = paLogin(a, "192.0.2.31", "333 1234567", patientPassword)
	paWantRedirect(t, "login code past the budget", rec, "/accedi/codice")
	if got := len(a.smsTo(rossiMobile)); got != 2 {
		t.Errorf("SMS to Rossi = %d, want the registration and the login code", got)
	}

	admin, desk := a.adminClient(), a.deskClient()
	banner := func(c *client, path string) string {
		return strings.TrimSpace(parseHTML(t, c.get(path).Body.String()).Find("[data-testid=sms-budget]").Text())
	}
	for _, p := range []string{"/desk", "/desk/admin/settings", "/desk/admin/audit"} {
		if got := banner(admin, p); !strings.Contains(got, "Limite giornaliero di codici SMS raggiunto") || !strings.Contains(got, "2 codici") {
			t.Errorf("admin %s: banner %q, want the spent budget", p, got)
		}
	}
	if got := banner(desk, "/desk"); got != "" {
		t.Errorf("a receptionist sees the banner: %q", got)
	}
	if got := strings.Count(a.logs.String(), "daily budget of SMS codes spent"); got != 1 {
		t.Errorf("the spent budget was logged %d times, want once", got)
	}

	a.advance(24 * time.Hour)
	if got := banner(admin, "/desk"); got != "" {
		t.Errorf("a day later the banner is still there: %q", got)
	}
	rec = third.post("/registrati/profilo", paProfile(paMobile3Typed, ""))
	paWantRedirect(t, "registration a day later", rec, "/registrati/codice")
}
