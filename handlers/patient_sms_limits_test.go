package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
)

// Tests of the limits on SMS codes: per number, per account and per day, so
// that nobody can flood a number or use up its owner's codes.

func TestRegisterSMSSendLimitPerNumber(t *testing.T) {
	a := newApp(t)
	c := a.client()
	first := a.Now()
	paStartRegistration(t, c, "333 1234567", "") // send 1
	for i := 2; i <= 3; i++ {
		a.advance(time.Minute)
		rec := c.post("/registrati/codice", url.Values{"resend": {"1"}})
		paWantStatus(t, "resend", rec, http.StatusOK)
	}
	if got := len(a.smsTo(rossiMobile)); got != 3 {
		t.Fatalf("SMS after 3 sends: got %d, want 3", got)
	}
	a.advance(time.Minute)
	rec := c.post("/registrati/codice", url.Values{"resend": {"1"}})
	paWantStatus(t, "4th send", rec, http.StatusTooManyRequests)
	at := first.Add(15 * time.Minute).In(db.Rome).Format("15:04")
	if got := paAlert(t, rec); !strings.Contains(got, "alle "+at) {
		t.Errorf("message: got %q, want it to name the time «alle %s»", got, at)
	}
	doc := parseHTML(t, rec.Body.String())
	resend := doc.Find(`form:has(input[name=resend]) button`)
	if _, disabled := resend.Attr("disabled"); resend.Length() != 1 || !disabled {
		t.Errorf("resend button: %d found, disabled=%v; want one, disabled", resend.Length(), disabled)
	}
	if got := len(a.smsTo(rossiMobile)); got != 3 {
		t.Errorf("SMS after refused send: got %d, want 3", got)
	}
	// The code form also shows the disabled button.
	doc = parseHTML(t, c.get("/registrati/codice").Body.String())
	if _, disabled := doc.Find(`form:has(input[name=resend]) button`).Attr("disabled"); !disabled {
		t.Error("GET /registrati/codice: resend button enabled while the limit is reached")
	}
	// Still refused for another browser registering the same number.
	other := a.client()
	other.ip = "192.0.2.12"
	other.post("/registrati", url.Values{"consent": {"1"}})
	paWantStatus(t, "another browser, same number", other.post("/registrati/profilo", paProfile("3331234567", "")), http.StatusTooManyRequests)

	// 15 minutes after the first send, one more may go.
	a.advance(15*time.Minute - 3*time.Minute)
	rec = c.post("/registrati/codice", url.Values{"resend": {"1"}})
	paWantStatus(t, "send after 15 minutes", rec, http.StatusOK)
	if got := len(a.smsTo(rossiMobile)); got != 4 {
		t.Fatalf("SMS after the window: got %d, want 4", got)
	}
	paWantRedirect(t, "newest code", c.post("/registrati/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}}), "/attiva")
}

func TestLoginOTPSendLimitPerAccount(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	paEnableLoginOTP(t, c)
	a.advance(16 * time.Minute) // the registration code is out of the window

	for i, ip := range []string{"192.0.2.21", "192.0.2.22"} {
		_, rec := paLogin(a, ip, "3331234567", patientPassword)
		paWantRedirect(t, "login with SMS step", rec, "/accedi/codice")
		if got := len(a.smsTo(rossiMobile)); got != 2+i {
			t.Fatalf("SMS to Rossi: got %d, want %d", got, 2+i)
		}
	}
	// The account moves to another number: the limit follows the account.
	acc := paAccount(t, a, rossiMobile)
	if err := a.db.SetContact(ctx, acc.ID, paMobile2, "", db.Actor{Kind: "cli", Name: "test"}, a.Now()); err != nil {
		t.Fatal(err)
	}
	_, rec := paLogin(a, "192.0.2.23", "3477654321", patientPassword)
	paWantRedirect(t, "3rd code for the account", rec, "/accedi/codice")
	_, rec = paLogin(a, "192.0.2.24", "3477654321", patientPassword)
	paWantStatus(t, "4th code for the account", rec, http.StatusTooManyRequests)
	if got := paAlert(t, rec); !strings.Contains(got, "alle ") {
		t.Errorf("message: got %q, want it to name the time", got)
	}
	if got := len(a.smsTo(paMobile2)); got != 1 {
		t.Errorf("SMS to the new number: got %d, want 1", got)
	}
}

// TestSMSCodeDailyBudget: guessing is bounded by 5 tries per code and 10
// codes a day per purpose (50 guesses a day at a million codes), and what
// anyone can trigger with a victim's number (registrations, resets) cannot
// use up the codes of the victim's login, which needs the password.
func TestSMSCodeDailyBudget(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 1234567", "")
	holder.post("/profilo/preferenze", url.Values{"notify": {"sms"}, "login_otp": {"1"}})
	attacker := a.client()
	before := len(a.smsTo(rossiMobile))
	for i := range 12 {
		attacker.ip = "198.51.100." + itoa(int64(i+1))
		// Past the limit the answer stays the same (a 429 would tell that the
		// number has an account); nothing is sent.
		if rec := attacker.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("reset request %d: %d, want 303", i, rec.Code)
		}
		for range 5 {
			attacker.post("/password-dimenticata/codice", url.Values{"code": {"000000"}, "password": {"un'altra frase segreta lunga"},
				"password2": {"un'altra frase segreta lunga"}})
		}
		// Registrations with the victim's number, by anyone.
		attacker.post("/registrati", url.Values{"consent": {"1"}})
		attacker.post("/registrati/profilo", url.Values{"first_name": {"X"}, "last_name": {"Y"}, "mobile": {"3331234567"},
			"password": {patientPassword}, "password2": {patientPassword}})
		a.advance(16 * time.Minute)
	}
	// Registrations and resets by strangers share one budget per number.
	if sent := len(a.smsTo(rossiMobile)) - before; sent == 0 || sent > 10 {
		t.Errorf("codes sent to the number in a day = %d, want some and at most 10", sent)
	}
	// The victim still logs in with an SMS code.
	if rec := a.client().post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}}); rec.Header().Get("Location") != "/accedi/codice" {
		t.Fatalf("victim's login after the attack: %d %s, want the SMS step", rec.Code, rec.Header().Get("Location"))
	}
}

// TestNoSMSFlood: repeated registrations with a registered number send its
// owner one warning a day, and no number gets more than 10 codes a day.
func TestNoSMSFlood(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	for i := range 12 {
		c := a.client()
		c.ip = "198.51.100." + itoa(int64(i+1))
		c.post("/registrati", url.Values{"consent": {"1"}})
		c.post("/registrati/profilo", url.Values{"first_name": {"X"}, "last_name": {"Y"}, "mobile": {"3331234567"},
			"password": {patientPassword}, "password2": {patientPassword}})
		a.advance(16 * time.Minute)
	}
	var warnings int
	a.raw.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'security' AND channel = 'sms'`).Scan(&warnings)
	if warnings != 1 {
		t.Errorf("warnings to the owner after 12 attempts = %d, want 1", warnings)
	}
	before := len(a.smsTo(rossiMobile))
	for i := range 40 {
		c := a.client()
		c.ip = "198.51.100." + itoa(int64(i+1))
		c.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
		a.advance(6 * time.Minute)
	}
	if got := len(a.smsTo(rossiMobile)) - before; got > 10 {
		t.Errorf("reset codes sent in 4 hours = %d, want at most 10 a day", got)
	}
}
