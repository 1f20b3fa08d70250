package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Tests of the profile: changing the password and the notice preferences.

func TestProfileChangePassword(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	acc := paAccount(t, a, rossiMobile)
	other := a.loginPatient("mario.rossi@example.it")
	a.advance(time.Minute)

	rec := c.post("/profilo/password", url.Values{"current": {"non è la mia password"}, "password": {paNewPassword}, "password2": {paNewPassword}})
	paWantStatus(t, "wrong current password", rec, http.StatusUnprocessableEntity)
	if got := paFieldErr(t, rec, "current"); !strings.Contains(got, "non è corretta") {
		t.Errorf("#e-current: got %q", got)
	}
	if got := paAccount(t, a, rossiMobile).PasswordHash; got != acc.PasswordHash {
		t.Fatal("password changed without the current one")
	}
	paWantStatus(t, "other session after a refused change", other.get("/profilo"), http.StatusOK)

	rec = c.post("/profilo/password", url.Values{"current": {patientPassword}, "password": {paNewPassword}, "password2": {paNewPassword + "x"}})
	paWantStatus(t, "mismatch", rec, http.StatusUnprocessableEntity)
	if paFieldErr(t, rec, "password2") == "" {
		t.Error("mismatch: no #e-password2")
	}

	old := paToken(c)
	rec = c.post("/profilo/password", url.Values{"current": {patientPassword}, "password": {paNewPassword}, "password2": {paNewPassword}})
	paWantRedirect(t, "change", rec, "/profilo")
	paWantStatus(t, "this session after the change", c.get("/profilo"), http.StatusOK)
	if paToken(c) == old {
		t.Error("session token not renewed after the password change")
	}
	paWantRedirect(t, "other session after the change", other.get("/profilo"), "/accedi")
	if n := len(paSecurityBodies(t, a, rossiMobile)); n != 1 {
		t.Errorf("security notices: got %d, want 1", n)
	}

	a.advance(time.Second)
	if _, rec := paLogin(a, "192.0.2.130", "3331234567", patientPassword); rec.Code != http.StatusUnauthorized {
		t.Errorf("old password: got %d, want 401", rec.Code)
	}
	if _, rec := paLogin(a, "192.0.2.131", "3331234567", paNewPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("new password: got %d, want 303", rec.Code)
	}
}

func TestProfilePreferences(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	for _, notify := range []string{"email", "both"} {
		rec := c.post("/profilo/preferenze", url.Values{"notify": {notify}})
		paWantStatus(t, "notify="+notify+" without an email", rec, http.StatusUnprocessableEntity)
		if body := rec.Body.String(); !strings.Contains(body, "serve un indirizzo email") {
			t.Errorf("notify=%s: no explanation in the page", notify)
		}
	}
	acc := paAccount(t, a, rossiMobile)
	if acc.NotifyEmail || !acc.NotifySMS {
		t.Errorf("preferences after refusals: sms=%v email=%v, want sms only", acc.NotifySMS, acc.NotifyEmail)
	}

	b := a.register("Anna", "Verdi", paMobile2Typed, "anna.verdi@example.it")
	paWantRedirect(t, "notify=email with an email", b.post("/profilo/preferenze", url.Values{"notify": {"email"}}), "/profilo")
	if acc := paAccount(t, a, paMobile2); !acc.NotifyEmail || acc.NotifySMS {
		t.Errorf("preferences: sms=%v email=%v, want email only", acc.NotifySMS, acc.NotifyEmail)
	}
}
