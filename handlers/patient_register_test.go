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
)

// Tests of patient registration: consent, profile, the SMS code that
// creates the account, and answers that do not tell whether a mobile or an
// email is already registered.

// paNoAccount fails if mobile has an account.
func paNoAccount(t *testing.T, a *app, mobile string) {
	t.Helper()
	if acc, err := a.db.AccountByMobile(context.Background(), mobile); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("account for %s: got %+v, %v; want none", mobile, acc, err)
	}
}

func TestRegisterConsentRequired(t *testing.T) {
	for _, tt := range []struct {
		name string
		form url.Values
	}{{"missing", url.Values{}}, {"zero", url.Values{"consent": {"0"}}}, {"empty", url.Values{"consent": {""}}}} {
		form := tt.form
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			c := a.client()
			rec := c.post("/registrati", form)
			paWantStatus(t, "POST /registrati without consent", rec, http.StatusUnprocessableEntity)
			if got := paAlert(t, rec); !strings.Contains(got, "consenso") {
				t.Errorf("error message: got %q, want an Italian message about the consent", got)
			}
			// Nothing recorded: the next step still asks for the consent.
			paWantRedirect(t, "GET /registrati/profilo after refusal", c.get("/registrati/profilo"), "/registrati")
			paWantRedirect(t, "POST /registrati/profilo after refusal", c.post("/registrati/profilo", paProfile("333 1234567", "")), "/registrati")
			if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
				t.Errorf("accounts: got %d, want 0", got)
			}
			if got := authCount(t, a, `SELECT count(*) FROM otp_codes`); got != 0 {
				t.Errorf("otp codes: got %d, want 0", got)
			}
			if got := paSMSCount(a); got != 0 {
				t.Errorf("SMS sent: got %d, want 0", got)
			}
		})
	}
}

func TestRegisterProfileNeedsConsent(t *testing.T) {
	a := newApp(t)
	c := a.client()
	paWantRedirect(t, "GET /registrati/profilo", c.get("/registrati/profilo"), "/registrati")
	paWantRedirect(t, "POST /registrati/profilo", c.post("/registrati/profilo", paProfile("333 1234567", "")), "/registrati")
	paWantRedirect(t, "GET /registrati/codice", c.get("/registrati/codice"), "/registrati")
	if got := paSMSCount(a); got != 0 {
		t.Errorf("SMS sent: got %d, want 0", got)
	}
	// With the consent the form is shown.
	c.post("/registrati", url.Values{"consent": {"1"}})
	paWantStatus(t, "GET /registrati/profilo after consent", c.get("/registrati/profilo"), http.StatusOK)
}

func TestRegisterProfileValidation(t *testing.T) {
	tests := []struct {
		name      string
		change    map[string]string
		field     string // the field whose error shows; "" for a valid form
		wantInErr string
	}{
		{"missing first name", map[string]string{"first_name": "  "}, "first_name", "Inserisca il nome"},
		{"missing last name", map[string]string{"last_name": ""}, "last_name", "Inserisca il cognome"},
		{"missing mobile", map[string]string{"mobile": ""}, "mobile", "Inserisca il numero"},
		{"bad mobile", map[string]string{"mobile": "12345"}, "mobile", "non valido"},
		{"landline", map[string]string{"mobile": "02 1234 5678"}, "mobile", "non è un cellulare"},
		{"bad email", map[string]string{"email": "mario.rossi@"}, "email", "non valido"},
		{"email with display name", map[string]string{"email": "Mario <mario@example.it>"}, "email", "non valido"},
		{"password too short", map[string]string{"password": "abc", "password2": "abc"}, "password", "almeno 10 caratteri"},
		{"common password", map[string]string{"password": "password123", "password2": "password123"}, "password", "comune"},
		{"passwords differ", map[string]string{"password2": patientPassword + "x"}, "password2", "non coincidono"},
		{"password contains surname", map[string]string{"last_name": "Zanardelli", "password": "zanardelli estate", "password2": "zanardelli estate"},
			"password", "dati personali"},
		// Control for the case above: the same password is fine for someone else.
		{"same password, other surname", map[string]string{"last_name": "Verdi", "password": "zanardelli estate", "password2": "zanardelli estate"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			c := a.client()
			c.post("/registrati", url.Values{"consent": {"1"}})
			form := paProfile("333 1234567", "mario.rossi@example.it")
			for k, v := range tt.change {
				form.Set(k, v)
			}
			rec := c.post("/registrati/profilo", form)
			if tt.field == "" {
				paWantRedirect(t, "valid profile", rec, "/registrati/codice")
				return
			}
			paWantStatus(t, "invalid profile", rec, http.StatusUnprocessableEntity)
			if got := paFieldErr(t, rec, tt.field); !strings.Contains(got, tt.wantInErr) {
				t.Errorf("#e-%s: got %q, want it to contain %q", tt.field, got, tt.wantInErr)
			}
			doc := parseHTML(t, rec.Body.String())
			for _, pw := range []string{"password", "password2"} {
				if v := doc.Find("#f-"+pw).AttrOr("value", ""); v != "" {
					t.Errorf("#f-%s is re-filled with %q; passwords must not be echoed", pw, v)
				}
			}
			if got := paSMSCount(a); got != 0 {
				t.Errorf("SMS sent: got %d, want 0", got)
			}
			if got := authCount(t, a, `SELECT count(*) FROM otp_codes`); got != 0 {
				t.Errorf("otp codes: got %d, want 0", got)
			}
			if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
				t.Errorf("accounts: got %d, want 0", got)
			}
		})
	}
}

func TestRegisterFlowCreatesAccountOnlyAfterCode(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	c := a.client()
	paWantStatus(t, "GET /registrati", c.get("/registrati"), http.StatusOK)
	paWantRedirect(t, "consent", c.post("/registrati", url.Values{"consent": {"1"}}), "/registrati/profilo")
	consentAt := a.Now()
	a.advance(time.Minute)
	paWantStatus(t, "GET /registrati/profilo", c.get("/registrati/profilo"), http.StatusOK)
	rec := c.post("/registrati/profilo", paProfile("333 123 4567", "Mario.Rossi@Example.it"))
	paWantRedirect(t, "profile", rec, "/registrati/codice")

	msgs := a.smsTo(rossiMobile)
	if len(msgs) != 1 {
		t.Fatalf("SMS to %s: got %d, want 1 (all: %+v)", rossiMobile, len(msgs), a.inbox)
	}
	codes := smsCodePattern.FindAllString(msgs[0], -1)
	if len(codes) != 1 {
		t.Fatalf("SMS %q: want exactly one 6-digit code", msgs[0])
	}
	code := codes[0]

	// Not yet an account: only the SMS code creates it.
	paNoAccount(t, a, rossiMobile)
	if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
		t.Fatalf("accounts before the code: got %d, want 0", got)
	}
	paWantStatus(t, "GET /registrati/codice", c.get("/registrati/codice"), http.StatusOK)
	paWantRedirect(t, "GET /attiva before the code", c.get("/attiva"), "/accedi")

	a.advance(time.Minute)
	rec = c.post("/registrati/codice", url.Values{"code": {code[:3] + " " + code[3:]}})
	paWantRedirect(t, "right code", rec, "/attiva")

	acc := paAccount(t, a, rossiMobile)
	// The email is the account's only once its owner confirms the link.
	if acc.FirstName != "Mario" || acc.LastName != "Rossi" || acc.Email != "" {
		t.Errorf("account: got %q %q %q, want Mario Rossi with no email before confirmation", acc.FirstName, acc.LastName, acc.Email)
	}
	a.confirmEmail("mario.rossi@example.it")
	if acc := paAccount(t, a, rossiMobile); acc.Email != "mario.rossi@example.it" {
		t.Errorf("email after confirmation: got %q", acc.Email)
	}
	if got, want := acc.PrivacyVersion, "servizio-2026-11"; got != want {
		t.Errorf("privacy_version: got %q, want %q", got, want)
	}
	if got := acc.PrivacyAcceptedAt; !got.Equal(consentAt) {
		t.Errorf("privacy_accepted_at: got %v, want the consent time %v", got, consentAt)
	}
	if acc.LoginOTP {
		t.Error("login OTP on by default; want off unless configured")
	}
	if strings.Contains(acc.PasswordHash, patientPassword) || !strings.HasPrefix(acc.PasswordHash, "$argon2id$") {
		t.Errorf("password hash: got %q, want an argon2id PHC string", acc.PasswordHash)
	}
	ev := a.auditActions(db.AuditFilter{Action: "account.register"})
	if len(ev) != 1 || ev[0].ObjectID != acc.ID || ev[0].Actor.ID != acc.ID {
		t.Errorf("audit account.register: got %+v, want one event for account %d", ev, acc.ID)
	}
	// Logged in right away.
	paWantStatus(t, "GET /attiva after registration", c.get("/attiva"), http.StatusOK)
	paWantStatus(t, "GET /profilo after registration", c.get("/profilo"), http.StatusOK)
	// And the chosen password works.
	if _, rec := paLogin(a, "192.0.2.20", "3331234567", patientPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("login with the registered password: got %d, want 303", rec.Code)
	}
	if n, err := a.db.RecentOutbox(ctx, false, 10); err != nil || len(n) != 0 {
		t.Errorf("outbox after a normal registration: got %+v, %v; want nothing", n, err)
	}
}

func TestRegisterSMSCodeExpiry(t *testing.T) {
	tests := []struct {
		after time.Duration
		ok    bool
	}{
		{10*time.Minute - time.Second, true},
		{10*time.Minute + time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			a := newApp(t)
			c := a.client()
			paStartRegistration(t, c, "333 1234567", "")
			code := a.lastSMSCode(rossiMobile)
			a.advance(tt.after)
			rec := c.post("/registrati/codice", url.Values{"code": {code}})
			if tt.ok {
				paWantRedirect(t, "code before expiry", rec, "/attiva")
				paAccount(t, a, rossiMobile)
				return
			}
			paWantStatus(t, "expired code", rec, http.StatusUnprocessableEntity)
			if got := paAlert(t, rec); !strings.Contains(got, "scaduto") {
				t.Errorf("message: got %q, want it to say the code expired (scaduto)", got)
			}
			paNoAccount(t, a, rossiMobile)
		})
	}
}

func TestRegisterSMSCodeSingleUse(t *testing.T) {
	t.Run("replay after registration", func(t *testing.T) {
		a := newApp(t)
		c := a.client()
		paStartRegistration(t, c, "333 1234567", "")
		code := a.lastSMSCode(rossiMobile)
		paWantRedirect(t, "first use", c.post("/registrati/codice", url.Values{"code": {code}}), "/attiva")
		rec := c.post("/registrati/codice", url.Values{"code": {code}})
		if rec.Code >= 500 {
			t.Errorf("replay: got %d", rec.Code)
		}
		paWantRedirect(t, "replay in the same session", rec, "/registrati")
		if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
			t.Errorf("accounts: got %d, want 1", got)
		}
	})

	t.Run("used code refused", func(t *testing.T) {
		// Two browsers register the same new number; the second one's code
		// fails when the first has already taken the number, and once used
		// it cannot be tried again.
		a := newApp(t)
		c1, c2 := a.client(), a.client()
		c2.ip = "192.0.2.11"
		paStartRegistration(t, c1, "333 1234567", "")
		code1 := a.lastSMSCode(rossiMobile)
		paStartRegistration(t, c2, "333 1234567", "")
		code2 := a.lastSMSCode(rossiMobile)
		paWantRedirect(t, "first browser", c1.post("/registrati/codice", url.Values{"code": {code1}}), "/attiva")
		rec := c2.post("/registrati/codice", url.Values{"code": {code2}})
		paWantStatus(t, "second browser, number taken meanwhile", rec, http.StatusConflict)
		rec = c2.post("/registrati/codice", url.Values{"code": {code2}})
		paWantStatus(t, "second browser, same code again", rec, http.StatusUnprocessableEntity)
		if got := paAlert(t, rec); !strings.Contains(got, "non è più valido") {
			t.Errorf("message: got %q, want the code reported as no longer valid", got)
		}
		if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
			t.Errorf("accounts: got %d, want 1", got)
		}
	})
}

func TestRegisterSMSCodeBoundToSession(t *testing.T) {
	a := newApp(t)
	owner := a.client()
	paStartRegistration(t, owner, "333 1234567", "")
	code := a.lastSMSCode(rossiMobile)

	// A browser with no registration in progress.
	thief := a.client()
	thief.ip = "198.51.100.7"
	rec := thief.post("/registrati/codice", url.Values{"code": {code}})
	paWantRedirect(t, "code from another session", rec, "/registrati")
	paNoAccount(t, a, rossiMobile)

	// A browser registering another number cannot use this code either.
	other := a.client()
	other.ip = "198.51.100.8"
	paStartRegistration(t, other, paMobile2Typed, "")
	if a.lastSMSCode(paMobile2) == code {
		t.Skip("both random codes are equal")
	}
	rec = other.post("/registrati/codice", url.Values{"code": {code}})
	paWantStatus(t, "other registration with this code", rec, http.StatusUnprocessableEntity)
	paNoAccount(t, a, rossiMobile)
	paNoAccount(t, a, paMobile2)

	// The owner's code still works.
	paWantRedirect(t, "owner", owner.post("/registrati/codice", url.Values{"code": {code}}), "/attiva")
	if acc := paAccount(t, a, rossiMobile); acc.Email != "" {
		t.Errorf("account: %+v", acc)
	}
}

func TestRegisterSMSCodeVoidAfterFiveWrong(t *testing.T) {
	for _, tt := range []struct {
		wrong int
		ok    bool
	}{{4, true}, {5, false}} {
		t.Run(itoa(int64(tt.wrong))+" wrong", func(t *testing.T) {
			a := newApp(t)
			c := a.client()
			paStartRegistration(t, c, "333 1234567", "")
			code := a.lastSMSCode(rossiMobile)
			for i := range tt.wrong {
				rec := c.post("/registrati/codice", url.Values{"code": {paWrong(code)}})
				paWantStatus(t, "wrong code", rec, http.StatusUnprocessableEntity)
				if i < 4 && !strings.Contains(paAlert(t, rec), "non è corretto") {
					t.Errorf("wrong code %d: message %q", i+1, paAlert(t, rec))
				}
			}
			rec := c.post("/registrati/codice", url.Values{"code": {code}})
			if tt.ok {
				paWantRedirect(t, "right code after 4 wrong", rec, "/attiva")
				return
			}
			paWantStatus(t, "right code after 5 wrong", rec, http.StatusUnprocessableEntity)
			if got := paAlert(t, rec); !strings.Contains(got, "Troppi tentativi") {
				t.Errorf("message: got %q, want «Troppi tentativi…»", got)
			}
			paNoAccount(t, a, rossiMobile)
		})
	}
}

func TestEnumerationRegisterTakenMobile(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	owner := paAccount(t, a, rossiMobile)
	smsBefore := len(a.smsTo(rossiMobile))

	// A new number, for comparison.
	fresh := a.client()
	fresh.ip = "198.51.100.1"
	fresh.post("/registrati", url.Values{"consent": {"1"}})
	want := fresh.post("/registrati/profilo", paProfile(paMobile2Typed, ""))

	intruder := a.client()
	intruder.ip = "198.51.100.2"
	intruder.post("/registrati", url.Values{"consent": {"1"}})
	got := intruder.post("/registrati/profilo", paProfile("0039 333 1234567", ""))
	if got.Code != want.Code || got.Header().Get("Location") != want.Header().Get("Location") {
		t.Errorf("taken mobile: got %d → %q; new mobile: %d → %q; want the same", got.Code, got.Header().Get("Location"),
			want.Code, want.Header().Get("Location"))
	}
	paWantRedirect(t, "taken mobile", got, "/registrati/codice")
	if n := len(a.smsTo(rossiMobile)); n != smsBefore {
		t.Errorf("SMS to the taken number: got %d new, want none", n-smsBefore)
	}
	paWantStatus(t, "GET /registrati/codice", intruder.get("/registrati/codice"), http.StatusOK)

	msgs, err := a.db.RecentOutbox(ctx, false, 10)
	if err != nil {
		t.Fatal(err)
	}
	var sms, email bool
	for _, m := range msgs {
		if m.Kind == "security" && m.AccountID == owner.ID {
			sms = sms || (m.Channel == db.ChannelSMS && m.Recipient == rossiMobile)
			email = email || (m.Channel == db.ChannelEmail && m.Recipient == "mario.rossi@example.it")
		}
	}
	if !sms || !email {
		t.Errorf("outbox: got %+v; want a security notice to the owner by SMS and email", msgs)
	}
	bodies := append(paSecurityBodies(t, a, rossiMobile), paSecurityBodies(t, a, "mario.rossi@example.it")...)
	if len(bodies) == 0 {
		t.Fatal("no security notice body")
	}
	for _, b := range bodies {
		if paSixDigits.MatchString(b) {
			t.Errorf("security notice carries a 6-digit number: %q", b)
		}
	}

	// No code works, and resending does not send one either.
	for _, code := range []string{"123456", "000000"} {
		paWantStatus(t, "code "+code, intruder.post("/registrati/codice", url.Values{"code": {code}}), http.StatusUnprocessableEntity)
	}
	paWantStatus(t, "resend", intruder.post("/registrati/codice", url.Values{"resend": {"1"}}), http.StatusOK)
	if n := len(a.smsTo(rossiMobile)); n != smsBefore {
		t.Errorf("SMS to the taken number after resend: got %d new, want none", n-smsBefore)
	}
	if got := authCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
		t.Errorf("accounts: got %d, want 1", got)
	}
	if acc := paAccount(t, a, rossiMobile); acc.PasswordHash != owner.PasswordHash {
		t.Error("the owner's password changed")
	}
}

func TestEnumerationRegisterTakenEmail(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	owner := paAccount(t, a, rossiMobile)

	fresh := a.client()
	fresh.ip = "198.51.100.1"
	fresh.post("/registrati", url.Values{"consent": {"1"}})
	want := fresh.post("/registrati/profilo", paProfile(paMobile3Typed, "nuovo@example.it"))

	// Naming someone else's email changes nothing in the answer, and the
	// address never becomes the intruder's: only its owner could confirm it.
	intruder := a.client()
	intruder.ip = "198.51.100.2"
	intruder.post("/registrati", url.Values{"consent": {"1"}})
	got := intruder.post("/registrati/profilo", paProfile(paMobile2Typed, "Mario.Rossi@example.it"))
	if got.Code != want.Code || got.Header().Get("Location") != want.Header().Get("Location") {
		t.Errorf("taken email: got %d → %q; new email: %d → %q; want the same", got.Code, got.Header().Get("Location"),
			want.Code, want.Header().Get("Location"))
	}
	paWantRedirect(t, "intruder's own mobile code", intruder.post("/registrati/codice", url.Values{"code": {a.lastSMSCode(paMobile2)}}), "/attiva")
	if acc := paAccount(t, a, paMobile2); acc.Email != "" {
		t.Errorf("the intruder's account got the email %q without confirming it", acc.Email)
	}
	if acc, err := a.db.AccountByEmail(context.Background(), "mario.rossi@example.it"); err != nil || acc.ID != owner.ID {
		t.Errorf("email owner: got %+v, %v", acc, err)
	}
}
