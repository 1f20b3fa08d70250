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

// Tests of the patient login: identifiers, neutral failures, the lockout,
// the SMS step, and no codes or passwords in the logs.

func TestLoginIdentifiers(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	for i, id := range []string{"3331234567", "+39 333 123 4567", "0039 333 1234567", "333-123-4567", "mario.rossi@example.it",
		"Mario.Rossi@EXAMPLE.it", "  mario.rossi@example.it "} {
		t.Run(id, func(t *testing.T) {
			c, rec := paLogin(a, "192.0.2."+itoa(int64(30+i)), id, patientPassword)
			paWantRedirect(t, "login", rec, "/attiva")
			paWantStatus(t, "GET /profilo", c.get("/profilo"), http.StatusOK)
		})
	}
}

func TestLoginFailuresNeutral(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	tests := []struct{ name, id, pw string }{
		{"wrong password by mobile", "3331234567", "gatto verde mangia pizza fredda"},
		{"wrong password by email", "mario.rossi@example.it", "gatto verde mangia pizza fredda"},
		{"unknown mobile", "3477654321", patientPassword},
		{"unknown email", "nessuno@example.it", patientPassword},
		{"not a number nor email", "mario", patientPassword},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := paLogin(a, "192.0.2."+itoa(int64(40+i)), tt.id, tt.pw)
			paWantStatus(t, "login", rec, http.StatusUnauthorized)
			// At the password, which of the two was wrong is not told.
			if got, want := paFieldErr(t, rec, "password"), "Cellulare, email o password non corretti."; got != want {
				t.Errorf("message at the password: got %q, want %q", got, want)
			}
			paWantRedirect(t, "GET /profilo", c.get("/profilo"), "/accedi")
		})
	}
}

func TestLoginUnknownIdentifierRunsHash(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	for i, id := range []string{"3477654321", "nessuno@example.it", "mario"} {
		before := a.h.Hasher.Runs()
		_, rec := paLogin(a, "192.0.2."+itoa(int64(50+i)), id, patientPassword)
		paWantStatus(t, "unknown "+id, rec, http.StatusUnauthorized)
		// As much work as a known account's login: one argon2id hash.
		if got := a.h.Hasher.Runs() - before; got != 1 {
			t.Errorf("unknown %q ran %d password hashes, want 1 (a dummy hash must run)", id, got)
		}
	}
}

func TestLoginLockout(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	for i := 1; i <= 10; i++ {
		_, rec := paLogin(a, "203.0.113.1", "333 1234567", "password sbagliata numero "+itoa(int64(i)))
		paWantStatus(t, "failure "+itoa(int64(i)), rec, http.StatusUnauthorized)
	}
	for _, tt := range []struct{ ip, id string }{
		{"203.0.113.2", "mario.rossi@example.it"},
		{"203.0.113.3", "+39 333 1234567"},
	} {
		c, rec := paLogin(a, tt.ip, tt.id, patientPassword)
		paWantStatus(t, "right password from "+tt.ip+" as "+tt.id+" after 10 failures", rec, http.StatusTooManyRequests)
		if got := paAlert(t, rec); !strings.Contains(got, "Troppi tentativi") {
			t.Errorf("lockout message: got %q", got)
		}
		paWantRedirect(t, "GET /profilo while locked", c.get("/profilo"), "/accedi")
	}
	// Another account is not affected.
	a.register("Anna", "Verdi", paMobile2Typed, "")
	if _, rec := paLogin(a, "203.0.113.4", paMobile2Typed, patientPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("other account during the lockout: got %d, want 303", rec.Code)
	}

	a.advance(15*time.Minute + time.Second)
	c, rec := paLogin(a, "203.0.113.1", "mario.rossi@example.it", patientPassword)
	paWantRedirect(t, "after 15 minutes", rec, "/attiva")
	paWantStatus(t, "GET /profilo", c.get("/profilo"), http.StatusOK)
}

func TestLoginOTPFlow(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	paEnableLoginOTP(t, c)
	if acc := paAccount(t, a, rossiMobile); !acc.LoginOTP {
		t.Fatal("login OTP not saved")
	}
	paWantRedirect(t, "logout", c.post("/esci", nil), "/accedi")
	paWantRedirect(t, "GET /profilo after logout", c.get("/profilo"), "/accedi")

	a.advance(time.Minute)
	smsBefore := len(a.smsTo(rossiMobile))
	rec := c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}})
	paWantRedirect(t, "password step", rec, "/accedi/codice")
	if got := len(a.smsTo(rossiMobile)); got != smsBefore+1 {
		t.Fatalf("SMS after password: got %d new, want 1", got-smsBefore)
	}
	code := a.lastSMSCode(rossiMobile)

	for _, p := range []string{"/fascicolo", "/profilo", "/attiva"} {
		paWantRedirect(t, "GET "+p+" before the SMS step", c.get(p), "/accedi/codice")
	}
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"sms"}}); rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/profilo" {
		t.Error("POST /profilo/preferenze accepted before the SMS step")
	}
	paWantStatus(t, "GET /accedi/codice", c.get("/accedi/codice"), http.StatusOK)

	rec = c.post("/accedi/codice", url.Values{"code": {paWrong(code)}})
	paWantStatus(t, "wrong code", rec, http.StatusUnprocessableEntity)
	paWantRedirect(t, "GET /profilo after a wrong code", c.get("/profilo"), "/accedi/codice")

	rec = c.post("/accedi/codice", url.Values{"code": {code}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("right code: got %d, want 303", rec.Code)
	}
	paWantStatus(t, "GET /profilo after the SMS step", c.get("/profilo"), http.StatusOK)

	// A code for the login step is not accepted without the password step.
	other := a.client()
	other.ip = "198.51.100.9"
	paWantRedirect(t, "code without password", other.post("/accedi/codice", url.Values{"code": {code}}), "/accedi")
	paWantRedirect(t, "GET /profilo", other.get("/profilo"), "/accedi")
}

func TestLoginOTPRequiredByConfig(t *testing.T) {
	a := newAppWith(t, func(cfg *handlers.Config) { cfg.RequireLoginOTP = true })
	ctx := context.Background()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	acc := paAccount(t, a, rossiMobile)
	// The form cannot switch it off...
	c.post("/profilo/preferenze", url.Values{"notify": {"sms"}})
	if acc = paAccount(t, a, rossiMobile); !acc.LoginOTP {
		t.Error("preferences switched the login code off although the portal requires it")
	}
	// ...and even an account with the setting off must give the code.
	if err := a.db.SetPreferences(ctx, acc.ID, db.Preferences{NotifySMS: true}, db.Actor{Kind: "cli", Name: "test"}, a.Now()); err != nil {
		t.Fatal(err)
	}
	if paAccount(t, a, rossiMobile).LoginOTP {
		t.Fatal("setup: login OTP still on")
	}
	smsBefore := len(a.smsTo(rossiMobile))
	l, rec := paLogin(a, "192.0.2.60", "3331234567", patientPassword)
	paWantRedirect(t, "login", rec, "/accedi/codice")
	if got := len(a.smsTo(rossiMobile)); got != smsBefore+1 {
		t.Fatalf("SMS: got %d new, want 1", got-smsBefore)
	}
	paWantRedirect(t, "GET /fascicolo before the code", l.get("/fascicolo"), "/accedi/codice")
	if rec := l.post("/accedi/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("code: got %d", rec.Code)
	}
	paWantStatus(t, "GET /profilo", l.get("/profilo"), http.StatusOK)
}

func TestSMSCodesAndPasswordsNotLogged(t *testing.T) {
	a := newApp(t)
	var secrets []string
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	secrets = append(secrets, a.lastSMSCode(rossiMobile))
	paEnableLoginOTP(t, c)
	c.post("/esci", nil)

	l, rec := paLogin(a, "192.0.2.140", "3331234567", patientPassword)
	paWantRedirect(t, "login", rec, "/accedi/codice")
	code := a.lastSMSCode(rossiMobile)
	secrets = append(secrets, code, paWrong(code))
	l.post("/accedi/codice", url.Values{"code": {paWrong(code)}})
	if rec := l.post("/accedi/codice", url.Values{"code": {code}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("login code: got %d", rec.Code)
	}
	paLogin(a, "192.0.2.141", "3331234567", "password sbagliata davvero")

	f := a.client()
	f.ip = "192.0.2.142"
	f.post("/password-dimenticata", url.Values{"identifier": {"mario.rossi@example.it"}})
	reset := a.lastSMSCode(rossiMobile)
	secrets = append(secrets, reset)
	f.post("/password-dimenticata/codice", url.Values{"code": {reset}, "password": {paNewPassword}, "password2": {paNewPassword}})

	logs := a.logs.String()
	if !strings.Contains(logs, "/accedi/codice") {
		t.Fatalf("request log missing; got:\n%s", logs)
	}
	for _, s := range append(secrets, patientPassword, paNewPassword, "password sbagliata davvero") {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain the secret %q", s)
		}
	}
}

// TestPendingLoginVoidAfterReset: a login whose password step was done
// before the password changed cannot be completed with the SMS code.
func TestPendingLoginVoidAfterReset(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 1234567", "")
	holder.post("/profilo/preferenze", url.Values{"notify": {"sms"}, "login_otp": {"1"}})
	thief := a.client()
	if rec := thief.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}}); rec.Header().Get("Location") != "/accedi/codice" {
		t.Fatalf("password step: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	loginCode := a.lastSMSCode(rossiMobile)
	a.advance(time.Minute)
	owner := a.client()
	owner.post("/password-dimenticata", url.Values{"identifier": {"3331234567"}})
	newPw := "una nuova frase per il portale"
	if rec := owner.post("/password-dimenticata/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}, "password": {newPw}, "password2": {newPw}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", rec.Code)
	}
	a.advance(time.Second)
	rec := thief.post("/accedi/codice", url.Values{"code": {loginCode}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
		t.Errorf("code after reset: %d %s, want 303 to /accedi", rec.Code, rec.Header().Get("Location"))
	}
	if rec := thief.get("/profilo"); rec.Code != http.StatusSeeOther {
		t.Errorf("profile after the voided login: %d, want 303", rec.Code)
	}
}
