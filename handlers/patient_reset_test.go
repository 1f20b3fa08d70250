package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/notify"
)

// Tests of the forgotten-password flow: neutral answers, the reset code and
// the new password.

func TestForgotPasswordNeutral(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	tests := []struct {
		id    string
		known bool
	}{
		{"3477654321", false},
		{"nessuno@example.it", false},
		{"qualcosa", false},
		{"+39 333 123 4567", true},
		{"MARIO.ROSSI@example.it", true},
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := a.client()
			c.ip = "192.0.2." + itoa(int64(90+i))
			before, beforeRossi := paSMSCount(a), len(a.smsTo(rossiMobile))
			rec := c.post("/password-dimenticata", url.Values{"identifier": {tt.id}})
			paWantRedirect(t, "forgot", rec, "/password-dimenticata/codice")
			paWantStatus(t, "GET code page", c.get("/password-dimenticata/codice"), http.StatusOK)
			wantNew := 0
			if tt.known {
				wantNew = 1
			}
			if got := paSMSCount(a) - before; got != wantNew {
				t.Errorf("SMS sent: got %d, want %d", got, wantNew)
			}
			if got := len(a.smsTo(rossiMobile)) - beforeRossi; got != wantNew {
				t.Errorf("SMS to Rossi: got %d, want %d", got, wantNew)
			}
			if tt.known {
				a.lastSMSCode(rossiMobile)
			} else {
				form := url.Values{"code": {"123456"}, "password": {paNewPassword}, "password2": {paNewPassword}}
				paWantStatus(t, "reset for an unknown identifier", c.post("/password-dimenticata/codice", form), http.StatusUnprocessableEntity)
			}
		})
	}
}

func TestForgotPasswordReset(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	acc := paAccount(t, a, rossiMobile)
	a.advance(time.Minute)
	elsewhere := a.loginPatient("3331234567")
	paWantStatus(t, "other session before the reset", elsewhere.get("/profilo"), http.StatusOK)
	a.advance(time.Minute)

	c := a.client()
	c.ip = "192.0.2.100"
	paWantRedirect(t, "forgot", c.post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}}), "/password-dimenticata/codice")
	code := a.lastSMSCode(rossiMobile)
	rec := c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {paNewPassword}, "password2": {paNewPassword}})
	paWantRedirect(t, "reset", rec, "/accedi")
	paWantRedirect(t, "GET /profilo after reset (no automatic login)", c.get("/profilo"), "/accedi")
	paWantRedirect(t, "other session after reset", elsewhere.get("/profilo"), "/accedi")

	// The code is used up.
	rec = c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {patientPassword + " bis"}, "password2": {patientPassword + " bis"}})
	if rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/accedi" {
		t.Error("reset code accepted twice")
	}

	a.advance(time.Second)
	if _, rec := paLogin(a, "192.0.2.101", "3331234567", patientPassword); rec.Code != http.StatusUnauthorized {
		t.Errorf("old password: got %d, want 401", rec.Code)
	}
	l, rec := paLogin(a, "192.0.2.102", "3331234567", paNewPassword)
	paWantRedirect(t, "new password", rec, "/attiva")
	paWantStatus(t, "GET /profilo with the new password", l.get("/profilo"), http.StatusOK)

	var found bool
	msgs, err := a.db.RecentOutbox(context.Background(), false, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		found = found || (m.Kind == "security" && m.AccountID == acc.ID && m.Recipient == rossiMobile)
	}
	if !found {
		t.Errorf("outbox: got %+v, want a security notice for account %d", msgs, acc.ID)
	}
	for _, b := range paSecurityBodies(t, a, rossiMobile) {
		if paSixDigits.MatchString(b) || strings.Contains(b, paNewPassword) {
			t.Errorf("security notice carries a code or the password: %q", b)
		}
	}
	if ev := a.auditActions(db.AuditFilter{Action: "account.password_change", ObjectID: acc.ID}); len(ev) != 1 {
		t.Errorf("audit account.password_change: got %d, want 1", len(ev))
	}
}

func TestForgotPasswordResetCodeExpiry(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		ok    bool
	}{
		{15*time.Minute - time.Second, true},
		{15*time.Minute + time.Second, false},
	} {
		t.Run(tt.after.String(), func(t *testing.T) {
			a := newApp(t)
			a.register("Mario", "Rossi", "333 1234567", "")
			c := a.client()
			c.ip = "192.0.2.110"
			c.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
			code := a.lastSMSCode(rossiMobile)
			a.advance(tt.after)
			rec := c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {paNewPassword}, "password2": {paNewPassword}})
			if tt.ok {
				paWantRedirect(t, "reset before expiry", rec, "/accedi")
				return
			}
			paWantStatus(t, "expired reset code", rec, http.StatusUnprocessableEntity)
			if got := paAlert(t, rec); !strings.Contains(got, "scaduto") {
				t.Errorf("message: got %q, want «scaduto»", got)
			}
			if _, rec := paLogin(a, "192.0.2.111", "3331234567", patientPassword); rec.Code != http.StatusSeeOther {
				t.Errorf("old password after a refused reset: got %d, want 303", rec.Code)
			}
		})
	}
}

func TestForgotPasswordMismatchKeepsCode(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	c := a.client()
	c.ip = "192.0.2.120"
	c.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
	code := a.lastSMSCode(rossiMobile)
	for _, tt := range []struct{ name, pw, pw2, field string }{
		{"mismatch", paNewPassword, paNewPassword + "!", "password2"},
		{"too short", "abc", "abc", "password"},
		{"personal data", "rossi mario 3331234567", "rossi mario 3331234567", "password"},
	} {
		rec := c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {tt.pw}, "password2": {tt.pw2}})
		paWantStatus(t, tt.name, rec, http.StatusUnprocessableEntity)
		if got := paFieldErr(t, rec, tt.field); got == "" {
			t.Errorf("%s: no #e-%s", tt.name, tt.field)
		}
	}
	rec := c.post("/password-dimenticata/codice", url.Values{"code": {code}, "password": {paNewPassword}, "password2": {paNewPassword}})
	paWantRedirect(t, "correct retry with the same code", rec, "/accedi")
	a.advance(time.Second)
	if _, rec := paLogin(a, "192.0.2.121", "3331234567", paNewPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("new password: got %d, want 303", rec.Code)
	}
}

// slowGateway answers after a delay, or fails.
type slowGateway struct {
	delay time.Duration
	fail  bool
}

func (g slowGateway) Send(ctx context.Context, m notify.Message) error {
	time.Sleep(g.delay)
	if g.fail {
		return errors.New("gateway down")
	}
	return nil
}

// TestNeutralFlowsAnswerAlike: registration and password reset answer the
// same, in status and in time, whether the number has an account or not,
// and whether the SMS gateway works or not.
func TestNeutralFlowsAnswerAlike(t *testing.T) {
	for _, gw := range []slowGateway{{delay: 300 * time.Millisecond}, {delay: 300 * time.Millisecond, fail: true}} {
		a := newApp(t)
		a.register("Mario", "Rossi", "333 1234567", "")
		a.h.SMS = gw
		for _, tt := range []struct {
			name, path string
			form       url.Values
		}{
			{"reset known", "/password-dimenticata", url.Values{"identifier": {"3331234567"}}},
			{"reset unknown", "/password-dimenticata", url.Values{"identifier": {"3470001111"}}},
		} {
			start := time.Now()
			rec := a.client().post(tt.path, tt.form)
			took := time.Since(start)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/password-dimenticata/codice" {
				t.Errorf("%s (gateway fail=%v): %d %s, want 303 to the code page", tt.name, gw.fail, rec.Code, rec.Header().Get("Location"))
			}
			if took > 200*time.Millisecond {
				t.Errorf("%s waited %v for the gateway: the delay tells whether the account exists", tt.name, took)
			}
		}
		a.h.Wait()
	}
}

// TestResetSaysNothingAboutAccounts: the reset step answers a wrong code
// the same way for a registered and an unregistered number, even with a
// password made of the holder's own number; and past the send limit a
// known email answers like an unknown one.
func TestResetSaysNothingAboutAccounts(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario@example.it")
	answer := func(identifier string) (int, string) {
		c := a.client()
		c.post("/password-dimenticata", url.Values{"identifier": {identifier}})
		rec := c.post("/password-dimenticata/codice", url.Values{"code": {"000000"}, "password": {"3331234567!! rossi mario"},
			"password2": {"3331234567!! rossi mario"}})
		doc := parseHTML(t, rec.Body.String())
		return rec.Code, doc.Find(".flash.error").Text() + doc.Find(".field-error").Text()
	}
	knownCode, knownMsg := answer("3331234567")
	unknownCode, unknownMsg := answer("3470001111")
	if knownCode != unknownCode || knownMsg != unknownMsg {
		t.Errorf("registered: %d %q; unregistered: %d %q; want the same", knownCode, knownMsg, unknownCode, unknownMsg)
	}
	for range 10 {
		a.client().post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
		a.advance(16 * time.Minute)
	}
	for _, id := range []string{"mario@example.it", "nessuno@example.it"} {
		if rec := a.client().post("/password-dimenticata", url.Values{"identifier": {id}}); rec.Code != http.StatusSeeOther {
			t.Errorf("reset for %s past the limit: %d, want the usual 303", id, rec.Code)
		}
	}
}
