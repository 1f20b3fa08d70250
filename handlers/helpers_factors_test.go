package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/internal/mfa"
)

// Helpers of the second-factor tests: an authenticator app added through
// the Sicurezza pages, as a person does, and the codes its phone shows.

// mfPatientApp names Mario Rossi's app in a.apps (a.appCode).
const mfPatientApp = "patient:" + rossiMobile

// rememberApp keeps the secret of an app added in a test under name, so
// a.appCode can show its codes as the phone would.
func (a *app) rememberApp(name, secret string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apps[name] = &staffApp{secret: secret}
}

// codeAt is the code the app called name shows during step.
func (a *app) codeAt(name string, step int64) string {
	a.t.Helper()
	a.mu.Lock()
	app := a.apps[name]
	a.mu.Unlock()
	code, err := mfa.CodeAt(app.secret, step)
	if err != nil {
		a.t.Fatal(err)
	}
	return code
}

// mfSecret reads the secret an enrolment page shows for typing by hand
// (in groups of four) and returns it without the spaces.
func mfSecret(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	s := strings.Join(strings.Fields(parseHTML(t, rec.Body.String()).Find(`[data-testid=totp-secret]`).Text()), "")
	if len(s) != 32 {
		t.Fatalf("enrolment page shows secret %q, want 32 base32 characters\n%s", s, paSnippet(rec))
	}
	return s
}

// mfRecoveryCodes reads the recovery codes a page shows.
func mfRecoveryCodes(t testing.TB, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var codes []string
	parseHTML(t, rec.Body.String()).Find(`[data-testid=recovery-codes] code`).Each(func(_ int, s *goquery.Selection) {
		codes = append(codes, strings.TrimSpace(s.Text()))
	})
	return codes
}

// mfEnrolPatient adds an app called name (in a.apps) to the logged-in
// patient's account from "Il mio profilo → Sicurezza" and returns the
// recovery codes shown once.
func mfEnrolPatient(t *testing.T, a *app, c *client, name string) []string {
	t.Helper()
	rec := c.get("/profilo/sicurezza/app")
	if rec.Code != http.StatusOK {
		t.Fatalf("enrolment page: %d\n%s", rec.Code, paSnippet(rec))
	}
	a.rememberApp(name, mfSecret(t, rec))
	rec = c.post("/profilo/sicurezza/app", url.Values{"code": {a.appCode(name)}, "name": {"Telefono di Mario"},
		"password": {patientPassword}})
	paWantRedirect(t, "confirm the app", rec, "/profilo/sicurezza/codici")
	rec = c.get("/profilo/sicurezza/codici")
	codes := mfRecoveryCodes(t, rec)
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %d, want %d\n%s", len(codes), mfa.RecoveryCodeCount, paSnippet(rec))
	}
	a.later()
	return codes
}

// later moves the clock on a little, as between one visit and the next:
// a first second factor ends the sessions authenticated until that
// instant, and on the test's still clock a login "afterwards" would be
// one of them.
func (a *app) later() { a.advance(time.Millisecond) }

// mfRossiWithApp registers Mario Rossi (with an email) and adds an app to
// his account; it returns his logged-in client and the recovery codes.
func mfRossiWithApp(t *testing.T, a *app) (*client, []string) {
	t.Helper()
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	return c, mfEnrolPatient(t, a, c, mfPatientApp)
}

// mfPasswordStep logs in with Rossi's password from a fresh client and
// expects to be asked for the app's code.
func mfPasswordStep(t *testing.T, a *app, password string) *client {
	t.Helper()
	c := a.client()
	rec := c.post("/accedi", url.Values{"identifier": {"333 1234567"}, "password": {password}})
	paWantRedirect(t, "password step", rec, "/accedi/app")
	return c
}

// mfCount counts audit events of action with outcome.
func mfCount(a *app, action, outcome string) int {
	return len(a.auditActions(db.AuditFilter{Action: action, Outcome: outcome}))
}

// mfFactors returns the owner's second factors.
func mfFactors(t testing.TB, a *app, owner db.Owner) []db.Factor {
	t.Helper()
	f, err := a.db.Factors(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
