package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/mfa"
)

// Tests of "Il mio profilo → Sicurezza": adding and removing an
// authenticator app, and the recovery codes.

func TestPatientAddsAnAuthenticatorApp(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	acc := paAccount(t, a, rossiMobile)

	rec := c.get("/profilo")
	if parseHTML(t, rec.Body.String()).Find(`a[href="/profilo/sicurezza"]`).Length() == 0 {
		t.Error("Il mio profilo has no link to Sicurezza")
	}
	rec = c.get("/profilo/sicurezza")
	paWantStatus(t, "Sicurezza", rec, http.StatusOK)
	if !strings.Contains(parseHTML(t, rec.Body.String()).Find("main").Text(), "più sicura dell'SMS") {
		t.Error("Sicurezza does not say that an app is safer than the SMS")
	}

	rec = c.get("/profilo/sicurezza/app")
	paWantStatus(t, "enrolment page", rec, http.StatusOK)
	secret := mfSecret(t, rec)
	doc := parseHTML(t, rec.Body.String())
	if doc.Find(`.qrbox svg`).Length() != 1 {
		t.Error("the enrolment page has no QR code drawn by the server")
	}
	if groups := strings.Fields(doc.Find(`[data-testid=totp-secret]`).Text()); len(groups) != 8 || len(groups[0]) != 4 {
		t.Errorf("secret shown as %q, want 8 groups of 4", groups)
	}
	// The page shown again (a reload) keeps the same secret until confirmed.
	if again := mfSecret(t, c.get("/profilo/sicurezza/app")); again != secret {
		t.Error("reloading the enrolment page changed the secret the phone already has")
	}
	a.rememberApp(mfPatientApp, secret)
	code := a.appCode(mfPatientApp)

	for _, tt := range []struct {
		name, code, password, field string
	}{
		{"wrong code", paWrong(code), patientPassword, "code"},
		{"no code", "", patientPassword, "code"},
		{"wrong password", code, "non è la mia password", "password"},
		{"no password", code, "", "password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := c.post("/profilo/sicurezza/app", url.Values{"code": {tt.code}, "password": {tt.password}})
			paWantStatus(t, tt.name, rec, http.StatusUnprocessableEntity)
			if paFieldErr(t, rec, tt.field) == "" {
				t.Errorf("no error under %s\n%s", tt.field, paSnippet(rec))
			}
			if got := mfSecret(t, rec); got != secret {
				t.Error("a refused confirmation changed the secret")
			}
		})
	}
	if f := mfFactors(t, a, db.AccountOwner(acc.ID)); len(f) != 0 {
		t.Fatalf("refused confirmations stored %d apps", len(f))
	}

	rec = c.post("/profilo/sicurezza/app", url.Values{"code": {code}, "name": {"  Telefono di Mario "}, "password": {patientPassword}})
	paWantRedirect(t, "confirm", rec, "/profilo/sicurezza/codici")
	rec = c.get("/profilo/sicurezza/codici")
	codes := mfRecoveryCodes(t, rec)
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %d, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	// Shown once.
	paWantRedirect(t, "recovery codes again", c.get("/profilo/sicurezza/codici"), "/profilo/sicurezza")

	factors := mfFactors(t, a, db.AccountOwner(acc.ID))
	if len(factors) != 1 || factors[0].Kind != db.FactorTOTP || factors[0].Name != "Telefono di Mario" {
		t.Fatalf("factors = %+v, want one app called Telefono di Mario", factors)
	}
	rec = c.get("/profilo/sicurezza")
	if !strings.Contains(parseHTML(t, rec.Body.String()).Find(`[data-testid=factors]`).Text(), "Telefono di Mario") {
		t.Errorf("Sicurezza does not list the app\n%s", paSnippet(rec))
	}
	if got := strings.Join(strings.Fields(parseHTML(t, rec.Body.String()).Find(`[data-testid=recovery-left]`).Text()), " "); !strings.Contains(got, "10") {
		t.Errorf("recovery codes left shown as %q, want 10", got)
	}

	// Stored sealed: neither the secret nor a recovery code is in the
	// database or the log.
	var stored []byte
	if err := a.raw.QueryRow(`SELECT secret FROM auth_factors`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), secret) {
		t.Error("the app's secret is stored in clear")
	}
	// (The 6-digit code is left out: six digits may occur in a log by chance.)
	dump := authAuditDump(t, a)
	for _, s := range append([]string{secret}, codes...) {
		if strings.Contains(dump, s) {
			t.Errorf("audit log contains %q", s)
		}
		if n := authCount(t, a, `SELECT count(*) FROM recovery_codes WHERE instr(code_mac, ?) > 0`, s); n != 0 {
			t.Errorf("recovery code %q stored in clear", s)
		}
	}
	pdAssertLogsClean(t, a, append([]string{secret}, codes...)...)

	// Audited, and told by SMS and email.
	if n := mfCount(a, db.ActionAccountFactorAdd, db.OutcomeOK); n != 1 {
		t.Errorf("factor_add audited %d times, want 1", n)
	}
	for _, to := range []string{rossiMobile, "mario.rossi@example.it"} {
		bodies := paSecurityBodies(t, a, to)
		if len(bodies) == 0 || !strings.Contains(bodies[len(bodies)-1], "aggiunta un'app di autenticazione") {
			t.Errorf("notices to %s = %q, want one about the new app", to, bodies)
		}
	}
}

func TestPatientRemovesAnAppWithThePassword(t *testing.T) {
	a := newApp(t)
	c, _ := mfRossiWithApp(t, a)
	acc := paAccount(t, a, rossiMobile)
	factor := mfFactors(t, a, db.AccountOwner(acc.ID))[0]
	path := "/profilo/sicurezza/app/" + itoa(factor.ID) + "/rimuovi"

	// Another patient cannot see or remove it.
	other := a.register("Laura", "Bianchi", pdBianchiTyped, "")
	paWantStatus(t, "another account's app", other.get(path), http.StatusNotFound)
	paWantStatus(t, "remove another account's app", other.post(path, url.Values{"password": {patientPassword}}), http.StatusNotFound)

	paWantStatus(t, "removal page", c.get(path), http.StatusOK)
	rec := c.post(path, url.Values{"password": {"non è la mia password"}})
	paWantStatus(t, "wrong password", rec, http.StatusUnprocessableEntity)
	if len(mfFactors(t, a, db.AccountOwner(acc.ID))) != 1 {
		t.Fatal("the app was removed without the password")
	}
	paWantRedirect(t, "remove", c.post(path, url.Values{"password": {patientPassword}}), "/profilo/sicurezza")
	if f := mfFactors(t, a, db.AccountOwner(acc.ID)); len(f) != 0 {
		t.Fatalf("factors after removal: %+v", f)
	}
	if left, _ := a.db.RecoveryCodesLeft(context.Background(), db.AccountOwner(acc.ID)); left != 0 {
		t.Errorf("recovery codes left after removing the only app: %d, want 0", left)
	}
	if n := mfCount(a, db.ActionAccountFactorRemove, db.OutcomeOK); n != 1 {
		t.Errorf("factor_remove audited %d times, want 1", n)
	}
	for _, to := range []string{rossiMobile, "mario.rossi@example.it"} {
		bodies := paSecurityBodies(t, a, to)
		if len(bodies) == 0 || !strings.Contains(bodies[len(bodies)-1], "tolta un'app di autenticazione") {
			t.Errorf("notices to %s = %q, want one about the removed app", to, bodies)
		}
	}
	// Without the app the password is enough again.
	_, rec = paLogin(a, "192.0.2.20", "333 1234567", patientPassword)
	paWantRedirect(t, "login without the app", rec, "/attiva")
}

func TestNewRecoveryCodesVoidTheOldOnes(t *testing.T) {
	a := newApp(t)
	c, old := mfRossiWithApp(t, a)

	rec := c.post("/profilo/sicurezza/codici", url.Values{"password": {"non è la mia password"}})
	paWantStatus(t, "new codes with a wrong password", rec, http.StatusUnprocessableEntity)
	paWantRedirect(t, "new codes", c.post("/profilo/sicurezza/codici", url.Values{"password": {patientPassword}}), "/profilo/sicurezza/codici")
	fresh := mfRecoveryCodes(t, c.get("/profilo/sicurezza/codici"))
	if len(fresh) != mfa.RecoveryCodeCount {
		t.Fatalf("new codes shown: %d", len(fresh))
	}
	if n := mfCount(a, db.ActionAccountRecoveryCodes, db.OutcomeOK); n != 1 {
		t.Errorf("recovery_codes audited %d times, want 1", n)
	}

	l := mfPasswordStep(t, a, patientPassword)
	paWantStatus(t, "an old code", l.post("/accedi/app", url.Values{"code": {old[0]}}), http.StatusUnprocessableEntity)
	paWantRedirect(t, "a new code", l.post("/accedi/app", url.Values{"code": {fresh[0]}}), "/attiva")
}

// An erased account leaves no app secret and no recovery code behind.
func TestDeletingTheAccountDeletesItsApp(t *testing.T) {
	a := newApp(t)
	c, _ := mfRossiWithApp(t, a)
	paWantRedirect(t, "delete the account", c.post("/profilo/elimina", url.Values{"password": {patientPassword}}), "/")
	for _, table := range []string{"auth_factors", "recovery_codes"} {
		if n := authCount(t, a, `SELECT count(*) FROM `+table+` WHERE account_id IS NOT NULL`); n != 0 {
			t.Errorf("%s: %d rows after the account was deleted, want 0", table, n)
		}
	}
}
