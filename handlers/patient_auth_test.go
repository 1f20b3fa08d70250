package handlers_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
)

// Tests of the patient side's authentication: registration in three steps,
// SMS codes, login (with and without the SMS step), sessions, password
// reset and the profile's password and preferences.

// paCookie is the patient session cookie.
const paCookie = "__Host-fse"

// paNewPassword is a second password the policy accepts for Mario Rossi.
const paNewPassword = "nuova frase segreta di marzo"

// Mobiles used besides rossiMobile (E.164 and as typed).
const (
	paMobile2      = "+393477654321"
	paMobile2Typed = "347 765 4321"
	paMobile3      = "+393201234567"
	paMobile3Typed = "320 123 4567"
)

var paSixDigits = regexp.MustCompile(`\d{6}`)

// paToken returns the client's patient session token ("" if none).
func paToken(c *client) string {
	if ck := c.cookies[paCookie]; ck != nil {
		return ck.Value
	}
	return ""
}

// paClientWithToken is a new browser holding only the given session token.
func paClientWithToken(a *app, token, ip string) *client {
	c := a.client()
	c.ip = ip
	c.cookies[paCookie] = &http.Cookie{Name: paCookie, Value: token}
	return c
}

// paCount runs a count(*) query on the read pool.
func paCount(t *testing.T, a *app, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.raw.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// paSMSCount is how many SMS the fake gateway received in all.
func paSMSCount(a *app) int {
	a.h.Wait() // neutral flows send in the background
	a.smsMu.Lock()
	defer a.smsMu.Unlock()
	return len(a.inbox)
}

// paAlert is the text of the page's error banner.
func paAlert(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, rec.Body.String()).Find(`[role=alert]`).Text())
}

// paFieldErr is the text of the error shown under field name (#e-name).
func paFieldErr(t *testing.T, rec *httptest.ResponseRecorder, name string) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("#e-" + name).Text())
}

// paWantRedirect fails unless rec is a 303 to loc.
func paWantRedirect(t *testing.T, what string, rec *httptest.ResponseRecorder, loc string) {
	t.Helper()
	if got := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || got != loc {
		t.Errorf("%s: got %d → %q, want 303 → %q\n%s", what, rec.Code, got, loc, paSnippet(rec))
	}
}

// paWantStatus fails unless rec has status want.
func paWantStatus(t *testing.T, what string, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Errorf("%s: got %d (Location %q), want %d\n%s", what, rec.Code, rec.Header().Get("Location"), want, paSnippet(rec))
	}
}

func paSnippet(rec *httptest.ResponseRecorder) string {
	s := rec.Body.String()
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 800 {
		s = s[:800]
	}
	return s
}

// paWrong returns a code that differs from code in every digit.
func paWrong(code string) string {
	b := []byte(code)
	for i, c := range b {
		b[i] = '0' + (c-'0'+1)%10
	}
	return string(b)
}

// paProfile is a valid registration profile for Mario Rossi.
func paProfile(mobile, email string) url.Values {
	return url.Values{"first_name": {"Mario"}, "last_name": {"Rossi"}, "mobile": {mobile}, "email": {email},
		"password": {patientPassword}, "password2": {patientPassword}}
}

// paStartRegistration gives consent and submits a valid profile; the client
// is then on the SMS-code step.
func paStartRegistration(t *testing.T, c *client, mobile, email string) *httptest.ResponseRecorder {
	t.Helper()
	if rec := c.post("/registrati", url.Values{"consent": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("consent: got %d, want 303", rec.Code)
	}
	rec := c.post("/registrati/profilo", paProfile(mobile, email))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/registrati/codice" {
		t.Fatalf("profile: got %d → %q, want 303 → /registrati/codice\n%s", rec.Code, rec.Header().Get("Location"), paSnippet(rec))
	}
	return rec
}

// paAccount returns the account registered with an E.164 mobile.
func paAccount(t *testing.T, a *app, mobile string) db.Account {
	t.Helper()
	acc, err := a.db.AccountByMobile(context.Background(), mobile)
	if err != nil {
		t.Fatalf("account %s: %v", mobile, err)
	}
	return acc
}

// paNoAccount fails if mobile has an account.
func paNoAccount(t *testing.T, a *app, mobile string) {
	t.Helper()
	if acc, err := a.db.AccountByMobile(context.Background(), mobile); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("account for %s: got %+v, %v; want none", mobile, acc, err)
	}
}

// paLogin posts the login form from a fresh client at ip.
func paLogin(a *app, ip, identifier, password string) (*client, *httptest.ResponseRecorder) {
	c := a.client()
	c.ip = ip
	return c, c.post("/accedi", url.Values{"identifier": {identifier}, "password": {password}})
}

// paEnableLoginOTP turns on the SMS code at every login from the profile.
func paEnableLoginOTP(t *testing.T, c *client) {
	t.Helper()
	rec := c.post("/profilo/preferenze", url.Values{"login_otp": {"1"}, "notify": {"sms"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profilo" {
		t.Fatalf("save preferences: got %d → %q\n%s", rec.Code, rec.Header().Get("Location"), paSnippet(rec))
	}
}

// paSecurityBodies returns the bodies of the security notices queued for recipient.
func paSecurityBodies(t *testing.T, a *app, recipient string) []string {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT body FROM outbox WHERE kind = 'security' AND recipient = ?`, recipient)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// paTokenHash is how the session store keys a token.
func paTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// --- 1. Registration steps -------------------------------------------------

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
			if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
				t.Errorf("accounts: got %d, want 0", got)
			}
			if got := paCount(t, a, `SELECT count(*) FROM otp_codes`); got != 0 {
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
		{"missing first name", map[string]string{"first_name": "  "}, "first_name", "Inserisci il nome"},
		{"missing last name", map[string]string{"last_name": ""}, "last_name", "Inserisci il cognome"},
		{"missing mobile", map[string]string{"mobile": ""}, "mobile", "Inserisci il numero"},
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
			if got := paCount(t, a, `SELECT count(*) FROM otp_codes`); got != 0 {
				t.Errorf("otp codes: got %d, want 0", got)
			}
			if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
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
	if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 0 {
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

// --- 2. SMS codes ----------------------------------------------------------

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
		if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
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
		if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
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

// --- 3. Enumeration neutrality ---------------------------------------------

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
	if got := paCount(t, a, `SELECT count(*) FROM accounts`); got != 1 {
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

// --- 4. Login --------------------------------------------------------------

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
			if got, want := paAlert(t, rec), "Cellulare, email o password non corretti."; got != want {
				t.Errorf("message: got %q, want %q", got, want)
			}
			paWantRedirect(t, "GET /profilo", c.get("/profilo"), "/accedi")
		})
	}
}

func TestLoginUnknownIdentifierRunsHash(t *testing.T) {
	a := newApp(t)
	a.register("Mario", "Rossi", "333 1234567", "")
	for i, id := range []string{"3477654321", "nessuno@example.it", "mario"} {
		start := time.Now()
		_, rec := paLogin(a, "192.0.2."+itoa(int64(50+i)), id, patientPassword)
		elapsed := time.Since(start)
		paWantStatus(t, "unknown "+id, rec, http.StatusUnauthorized)
		if elapsed <= 5*time.Millisecond {
			t.Errorf("unknown %q answered in %v; want > 5ms (a dummy argon2id hash must run)", id, elapsed)
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

// --- 5. Sessions -----------------------------------------------------------

func TestPatientSessionCookie(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	ck := c.cookies[paCookie]
	if ck == nil {
		t.Fatalf("no %s cookie; cookies: %v", paCookie, c.cookies)
	}
	if !ck.HttpOnly {
		t.Error("cookie not HttpOnly")
	}
	if !ck.Secure {
		t.Error("cookie not Secure")
	}
	if ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("SameSite: got %v, want Lax", ck.SameSite)
	}
	if ck.Path != "/" {
		t.Errorf("Path: got %q, want /", ck.Path)
	}
	if ck.Domain != "" {
		t.Errorf("Domain: got %q, want none (__Host- prefix)", ck.Domain)
	}

	var expiry time.Time
	if err := a.raw.QueryRowContext(context.Background(), `SELECT expiry FROM sessions WHERE token_hash = ?`,
		paTokenHash(ck.Value)).Scan(&expiry); err != nil {
		t.Fatalf("session row: %v", err)
	}
	want := time.Now().Add(15 * time.Minute)
	if d := expiry.Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("session expiry: got %v, want about %v (15 minutes idle)", expiry, want)
	}
}

func TestPatientSessionRenewedAtLogin(t *testing.T) {
	a := newApp(t)
	reg := a.register("Mario", "Rossi", "333 1234567", "")

	t.Run("password only", func(t *testing.T) {
		c := a.client()
		c.ip = "192.0.2.70"
		paWantRedirect(t, "anonymous GET /fascicolo", c.get("/fascicolo"), "/accedi")
		before := paToken(c)
		if before == "" {
			t.Fatal("no session before login")
		}
		c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}})
		after := paToken(c)
		if after == "" || after == before {
			t.Fatalf("token: before %q, after %q; want a new one", before, after)
		}
		paWantRedirect(t, "pre-login token", paClientWithToken(a, before, "192.0.2.71").get("/profilo"), "/accedi")
		paWantStatus(t, "new token", c.get("/profilo"), http.StatusOK)
	})

	t.Run("with SMS step", func(t *testing.T) {
		paEnableLoginOTP(t, reg)
		c := a.client()
		c.ip = "192.0.2.72"
		c.get("/fascicolo")
		t0 := paToken(c)
		paWantRedirect(t, "password", c.post("/accedi", url.Values{"identifier": {"3331234567"}, "password": {patientPassword}}), "/accedi/codice")
		t1 := paToken(c)
		c.post("/accedi/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}})
		t2 := paToken(c)
		if t0 == "" || t1 == "" || t2 == "" || t0 == t1 || t1 == t2 || t0 == t2 {
			t.Fatalf("tokens: before %q, after password %q, after code %q; want three different ones", t0, t1, t2)
		}
		paWantStatus(t, "final token", c.get("/profilo"), http.StatusOK)
		for _, old := range []string{t0, t1} {
			if rec := paClientWithToken(a, old, "192.0.2.73").get("/profilo"); rec.Code == http.StatusOK {
				t.Errorf("old token %q still opens /profilo", old)
			}
		}
	})
}

func TestPatientSessionLogoutDestroys(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	old := paToken(c)
	paWantStatus(t, "GET /profilo", c.get("/profilo"), http.StatusOK)
	paWantRedirect(t, "logout", c.post("/esci", nil), "/accedi")
	if got := paCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, paTokenHash(old)); got != 0 {
		t.Errorf("session row after logout: got %d, want 0", got)
	}
	replay := paClientWithToken(a, old, "192.0.2.80")
	paWantRedirect(t, "old cookie after logout", replay.get("/profilo"), "/accedi")
	paWantRedirect(t, "same browser after logout", c.get("/profilo"), "/accedi")
}

// --- 6. Forgot password ----------------------------------------------------

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

// --- 7. Profile --------------------------------------------------------------

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

// --- 8. No secrets in logs ---------------------------------------------------

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
