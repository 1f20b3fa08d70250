package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
)

// Helpers shared by the patient tests: accounts and their steps
// (registration, login, SMS codes), activation, a second patient (Laura
// Bianchi), and logs free of secrets.

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

// paSMSCount is how many SMS the fake gateway received in all.
func paSMSCount(a *app) int {
	a.h.Wait() // neutral flows send in the background
	a.smsMu.Lock()
	defer a.smsMu.Unlock()
	return len(a.inbox)
}

// paAlert is the text of the page's errors: the error summary at the top
// of a patient page (the page's message and the fields' messages), or a
// staff page's banner.
func paAlert(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, rec.Body.String()).Find(`[data-error-summary], [role=alert]`).Text())
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

// Rossi's mobile as he types it when registering (the desk wrote "333 123 4567").
const pdRossiTyped = "333 1234567"

// Laura Bianchi: another patient, with her own mobile.
const (
	pdBianchiTyped = "347 000 1111"
	pdBianchiE164  = "+393470001111"
	pdPortalLink   = "https://referti.example.it/accedi"
)

// pdCF generates a valid codice fiscale for a fictional person.
func pdCF(t testing.TB, surname, name string, birth time.Time, sex, belfiore string) string {
	t.Helper()
	cf, err := codicefiscale.Generate(surname, name, birth, sex, belfiore)
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// pdBianchiCF is Laura Bianchi's codice fiscale (born 20/05/1990 in Milano).
func pdBianchiCF(t testing.TB) string {
	return pdCF(t, "Bianchi", "Laura", time.Date(1990, 5, 20, 0, 0, 0, 0, time.UTC), "F", "F205")
}

// pdBianchiForm is a valid acceptance of Laura Bianchi at the test facility.
func pdBianchiForm(t testing.TB, a *app) url.Values {
	t.Helper()
	f := a.acceptForm()
	f.Set("fiscal_code", pdBianchiCF(t))
	f.Set("first_name", "Laura")
	f.Set("last_name", "Bianchi")
	f.Set("birth_date", "1990-05-20")
	f.Set("birth_place", "Milano")
	f.Set("sex", "F")
	f.Set("mobile", pdBianchiTyped)
	f.Set("email", "laura.bianchi@example.it")
	f.Set("exams", "Ecografia addome")
	return f
}

// pdActivate activates and fails the test unless it succeeds.
func pdActivate(t testing.TB, c *client, cf, code string) {
	t.Helper()
	rec := c.activate(cf, code)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/fascicolo" {
		t.Fatalf("activate: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

// pdAssertLogsClean fails if the application log holds any of secrets
// (compared case-insensitively).
func pdAssertLogsClean(t testing.TB, a *app, secrets ...string) {
	t.Helper()
	logs := strings.ToLower(a.logs.String())
	if !strings.Contains(logs, "request") {
		t.Fatalf("application log is empty or not wired: %q", logs)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, strings.ToLower(s)) {
			t.Errorf("application log contains secret %q", s)
		}
	}
}

// pdCodeForms are the ways an activation code may end up in a log.
func pdCodeForms(code string) []string {
	return []string{code, actcode.Normalize(code), strings.ReplaceAll(code, "-", " ")}
}
