package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/internal/mfa"
)

// Tests of a patient's passkeys: adding one needs the password and brings
// the recovery codes; it logs in without a password; a wrong page, an
// unknown passkey, one without the fingerprint or PIN, or a copied one are
// refused and audited; it confirms a password login; it is removed with the
// password, and only by its owner.

func TestPasskeyAddNeedsThePasswordAndBringsRecoveryCodes(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	owner := db.AccountOwner(accountIDOf(t, a, rossiMobile))
	dev := pkDevice()

	page := parseHTML(t, c.get("/profilo/sicurezza").Body.String())
	if page.Find(`form[data-passkey-register="/profilo/sicurezza/passkey"]`).Length() != 1 {
		t.Fatal("Sicurezza offers no passkey")
	}
	for _, pw := range []string{"", "password sbagliata"} {
		rec := pkAdd(t, c, dev, "/profilo/sicurezza", "Telefono", pw)
		if r := pkWant(t, "password "+pw, rec, http.StatusUnprocessableEntity, ""); r.Error == "" {
			t.Errorf("refusal of password %q not explained", pw)
		}
	}
	// Without the options (no ceremony in the session) an answer adds nothing.
	pkWant(t, "an answer without a ceremony", c.postJSON("/profilo/sicurezza/passkey", []byte(`{}`)), http.StatusUnprocessableEntity, "")
	if dev.Len() != 0 || len(mfFactors(t, a, owner)) != 0 {
		t.Fatal("a passkey was made without the password")
	}

	pkWant(t, "add a passkey", pkAdd(t, c, dev, "/profilo/sicurezza", "  Telefono  ", patientPassword), http.StatusOK, "/profilo/sicurezza/codici")
	if codes := mfRecoveryCodes(t, c.get("/profilo/sicurezza/codici")); len(codes) != mfa.RecoveryCodeCount {
		t.Errorf("recovery codes shown after the first passkey: %d, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	factors := mfFactors(t, a, owner)
	if len(factors) != 1 || factors[0].Kind != db.FactorPasskey || factors[0].Name != "Telefono" {
		t.Fatalf("factors after adding: %+v", factors)
	}
	listed := parseHTML(t, c.get("/profilo/sicurezza").Body.String()).Find(`[data-testid=passkeys]`).Text()
	if !strings.Contains(listed, "Telefono") || !strings.Contains(listed, "Aggiunta il "+"10/03/2026") {
		t.Errorf("Sicurezza lists %q, want the passkey with its date", listed)
	}
	for _, to := range []string{rossiMobile, "mario.rossi@example.it"} {
		if got := paSecurityBodies(t, a, to); len(got) != 1 || !strings.Contains(got[0], "aggiunta una passkey") {
			t.Errorf("notices to %s = %q, want one about the new passkey", to, got)
		}
	}
	added := a.auditActions(db.AuditFilter{Action: db.ActionAccountFactorAdd})
	if len(added) != 1 || added[0].Outcome != db.OutcomeOK || !strings.Contains(added[0].Detail, `passkey "Telefono"`) {
		t.Errorf("audited additions: %+v", added)
	}

	// A second passkey: the same user handle, the first one excluded (the
	// phone will not make two), no new recovery codes.
	options := c.post("/profilo/sicurezza/passkey/opzioni", url.Values{"name": {"Computer"}, "password": {patientPassword}})
	var o struct {
		PublicKey struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Exclude []struct {
				ID string `json:"id"`
			} `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	handle, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil || len(handle) != 32 || strings.Contains(string(handle), "account") {
		t.Errorf("user handle %q: want 32 opaque bytes", handle)
	}
	if len(o.PublicKey.Exclude) != 1 || o.PublicKey.Exclude[0].ID != base64.RawURLEncoding.EncodeToString(factors[0].CredentialID) {
		t.Errorf("excluded credentials %+v, want the first passkey", o.PublicKey.Exclude)
	}
	if _, err := dev.Create(options.Body.Bytes()); err == nil {
		t.Error("the same phone made a second passkey for the account")
	}
	laptop := pkDevice()
	answer, err := laptop.Create(options.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	pkWant(t, "a second passkey", c.postJSON("/profilo/sicurezza/passkey", answer), http.StatusOK, "/profilo/sicurezza")
	if n := len(mfFactors(t, a, owner)); n != 2 {
		t.Errorf("passkeys after the second: %d, want 2", n)
	}
}

func TestPasskeyLogsInWithoutPassword(t *testing.T) {
	a := newApp(t)
	c, dev := pkRossiWithPasskey(t, a)
	paEnableLoginOTP(t, c) // an SMS at every login: the passkey replaces it too
	sms := paSMSCount(a)

	l := a.client()
	login := parseHTML(t, l.get("/accedi").Body.String())
	if login.Find(`button[data-passkey-login="/accedi/passkey"]`).Length() != 1 {
		t.Fatal("the login page has no «Accedi con passkey»")
	}
	a.advance(time.Hour)
	pkWant(t, "passkey login", pkLogin(t, l, dev, "/accedi/passkey"), http.StatusOK, "/attiva")
	paWantStatus(t, "profile after the passkey login", l.get("/profilo"), http.StatusOK)
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent at a passkey login, want none", got)
	}
	logins := a.auditActions(db.AuditFilter{Action: db.ActionAccountLogin, Outcome: db.OutcomeOK})
	last := logins[len(logins)-1]
	if !strings.Contains(last.Detail, `passkey "Telefono"`) || !strings.Contains(last.Detail, "without password") || last.Actor.ID == 0 {
		t.Errorf("the passkey login audited as %+v", last)
	}
	listed := parseHTML(t, l.get("/profilo/sicurezza").Body.String()).Find(`[data-testid=passkeys]`).Text()
	if !strings.Contains(listed, "ultimo uso: 10/03/2026") { // the test clock's day, an hour later
		t.Errorf("Sicurezza shows %q, want the last use", listed)
	}

	// The same answer cannot be posted again: the ceremony served once.
	options := pkOptions(t, a.client(), "/accedi/passkey")
	answer, err := dev.Get(options)
	if err != nil {
		t.Fatal(err)
	}
	other := a.client()
	pkWant(t, "an answer to another session's ceremony", other.postJSON("/accedi/passkey", answer), http.StatusUnprocessableEntity, "")
	paWantRedirect(t, "no session from it", other.get("/profilo"), "/accedi")
}

func TestPasskeyRefusalsAreAudited(t *testing.T) {
	a := newApp(t)
	_, dev := pkRossiWithPasskey(t, a)
	// A passkey made for the portal but never registered (the page was
	// closed before the answer was sent).
	unregistered := pkDevice()
	stray := a.register("Luigi", "Verdi", "333 7654321", "")
	if _, err := unregistered.Create(stray.post("/profilo/sicurezza/passkey/opzioni", url.Values{"password": {patientPassword}}).Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	foreignSite := dev.Copy()
	foreignSite.Origin = "https://referti.example.it.evil.example"
	noPIN := dev.Copy()
	noPIN.SkipUserVerification = true

	for _, tt := range []struct {
		name string
		dev  interface{ Get([]byte) ([]byte, error) }
	}{
		{"a page of another site", foreignSite},
		{"a passkey the portal does not know", unregistered},
		{"no fingerprint or PIN", noPIN},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := mfCount(a, db.ActionAccountLogin, db.OutcomeFailed)
			l := a.client()
			answer, err := tt.dev.Get(pkOptions(t, l, "/accedi/passkey"))
			if err != nil {
				t.Fatal(err)
			}
			r := pkWant(t, tt.name, l.postJSON("/accedi/passkey", answer), http.StatusUnauthorized, "")
			if !strings.Contains(r.Error, "non è stata accettata") {
				t.Errorf("refusal explained as %q", r.Error)
			}
			paWantRedirect(t, "no session", l.get("/profilo"), "/accedi")
			if n := mfCount(a, db.ActionAccountLogin, db.OutcomeFailed) - before; n != 1 {
				t.Errorf("refusals audited: %d, want 1", n)
			}
		})
	}

	// A copy of the phone: once the phone has logged in, the copy's
	// signature counter is behind, and the copy is refused.
	copied := dev.Copy()
	pkWant(t, "the phone", pkLogin(t, a.client(), dev, "/accedi/passkey"), http.StatusOK, "/attiva")
	l := a.client()
	r := pkWant(t, "the copy", pkLogin(t, l, copied, "/accedi/passkey"), http.StatusUnauthorized, "")
	if !strings.Contains(r.Error, "copia") {
		t.Errorf("the copy's refusal explained as %q", r.Error)
	}
	failed := a.auditActions(db.AuditFilter{Action: db.ActionAccountLogin, Outcome: db.OutcomeFailed})
	if last := failed[len(failed)-1]; !strings.Contains(last.Detail, "signature counter") || last.Actor.ID == 0 {
		t.Errorf("the copy audited as %+v, want its owner and the counter", last)
	}
	paWantRedirect(t, "no session for the copy", l.get("/profilo"), "/accedi")
}

// Ten failed passkey logins from one address lock passkey logins from it
// for 15 minutes, the right passkey included; other addresses go on.
func TestPasskeyLoginLockoutPerAddress(t *testing.T) {
	a := newApp(t)
	_, dev := pkRossiWithPasskey(t, a)
	wrong := dev.Copy()
	wrong.SkipUserVerification = true
	l := a.client()
	// The options come from other addresses, so the flood limit (20
	// requests a minute from one address) does not answer before the lock.
	attempt := func(d interface{ Get([]byte) ([]byte, error) }, n int) *httptest.ResponseRecorder {
		l.ip = "198.51.100." + itoa(int64(n))
		options := pkOptions(t, l, "/accedi/passkey")
		answer, err := d.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		l.ip = "192.0.2.77"
		return l.postJSON("/accedi/passkey", answer)
	}
	for i := range 10 {
		pkWant(t, "failure "+itoa(int64(i+1)), attempt(wrong, i), http.StatusUnauthorized, "")
	}
	r := pkWant(t, "the right passkey while locked", attempt(dev, 20), http.StatusTooManyRequests, "")
	if !strings.Contains(r.Error, "15 minuti") {
		t.Errorf("lock explained as %q", r.Error)
	}
	if n := mfCount(a, db.ActionAccountLogin, db.OutcomeDenied); n != 1 {
		t.Errorf("denials audited: %d, want 1", n)
	}
	other := a.client()
	other.ip = "192.0.2.78"
	pkWant(t, "another address", pkLogin(t, other, dev, "/accedi/passkey"), http.StatusOK, "/attiva")

	a.advance(15*time.Minute + time.Second)
	pkWant(t, "after the lock", attempt(dev, 21), http.StatusOK, "/attiva")
}

// A patient with a passkey who logs in with the password confirms with the
// passkey (no SMS); another patient's passkey does not do.
func TestPasskeyConfirmsAPasswordLogin(t *testing.T) {
	a := newApp(t)
	_, dev := pkRossiWithPasskey(t, a)
	luigi := a.register("Luigi", "Verdi", "333 7654321", "")
	theirs := pkDevice()
	pkWant(t, "Luigi's passkey", pkAdd(t, luigi, theirs, "/profilo/sicurezza", "Tablet", patientPassword), http.StatusOK, "/profilo/sicurezza/codici")
	sms := paSMSCount(a)

	l := mfPasswordStep(t, a, patientPassword)
	step := parseHTML(t, l.get("/accedi/app").Body.String())
	if step.Find(`button[data-passkey-login="/accedi/app/passkey"]`).Length() != 1 {
		t.Fatal("the second step offers no passkey")
	}
	if got := step.Find(`label[for=f-code]`).Text(); !strings.Contains(got, "Codice di recupero") {
		t.Errorf("without an app the code field asks for %q, want a recovery code", got)
	}
	paWantRedirect(t, "dossier before the passkey", l.get("/fascicolo"), "/accedi/app")

	// Luigi's passkey answers Rossi's ceremony (its allow list stripped).
	options := pkOptions(t, l, "/accedi/app/passkey")
	var o map[string]map[string]any
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	delete(o["publicKey"], "allowCredentials")
	stripped, _ := json.Marshal(o)
	answer, err := theirs.Get(stripped)
	if err != nil {
		t.Fatal(err)
	}
	pkWant(t, "another patient's passkey", l.postJSON("/accedi/app/passkey", answer), http.StatusUnauthorized, "")
	paWantRedirect(t, "still waiting", l.get("/profilo"), "/accedi/app")

	pkWant(t, "his passkey", pkLogin(t, l, dev, "/accedi/app/passkey"), http.StatusOK, "/attiva")
	paWantStatus(t, "profile after the second step", l.get("/profilo"), http.StatusOK)
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent, want none", got)
	}
	steps := a.auditActions(db.AuditFilter{Action: db.ActionAccountSecondFactor})
	if len(steps) != 2 || steps[0].Outcome != db.OutcomeFailed || steps[1].Outcome != db.OutcomeOK || !strings.Contains(steps[1].Detail, "Telefono") {
		t.Errorf("second steps audited: %+v", steps)
	}
}

// A password reset of an account with a passkey asks for the passkey too.
func TestPasswordResetWithAPasskeyAsksForIt(t *testing.T) {
	a := newApp(t)
	_, dev := pkRossiWithPasskey(t, a)
	c := a.client()
	paWantStatus(t, "forgot", c.post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}}), http.StatusSeeOther)
	const newPassword = "nuvola rossa sopra il lago"
	rec := c.post("/password-dimenticata/codice", url.Values{"code": {a.lastSMSCode(rossiMobile)}, "password": {newPassword},
		"password2": {newPassword}})
	paWantRedirect(t, "the reset's SMS code", rec, "/password-dimenticata/app")
	if parseHTML(t, c.get("/password-dimenticata/app").Body.String()).Find(`button[data-passkey-login="/password-dimenticata/app/passkey"]`).Length() != 1 {
		t.Fatal("the reset's second step offers no passkey")
	}
	pkWant(t, "the passkey", pkLogin(t, c, dev, "/password-dimenticata/app/passkey"), http.StatusOK, "/accedi")
	if _, rec := paLogin(a, "192.0.2.30", "333 1234567", newPassword); rec.Header().Get("Location") != "/accedi/app" {
		t.Errorf("login with the new password: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestPasskeyRemoval(t *testing.T) {
	a := newApp(t)
	c, dev := pkRossiWithPasskey(t, a)
	owner := db.AccountOwner(accountIDOf(t, a, rossiMobile))
	pk := mfFactors(t, a, owner)[0]
	path := "/profilo/sicurezza/passkey/" + itoa(pk.ID) + "/rimuovi"

	// Luigi cannot see or remove it: the same 404 as a passkey that does not exist.
	luigi := a.register("Luigi", "Verdi", "333 7654321", "")
	paWantStatus(t, "another patient's passkey page", luigi.get(path), http.StatusNotFound)
	paWantStatus(t, "another patient's removal", luigi.post(path, url.Values{"password": {patientPassword}}), http.StatusNotFound)
	paWantStatus(t, "a passkey that does not exist", c.get("/profilo/sicurezza/passkey/99999/rimuovi"), http.StatusNotFound)
	// Nor is it an app.
	paWantStatus(t, "the passkey as an app", c.get("/profilo/sicurezza/app/"+itoa(pk.ID)+"/rimuovi"), http.StatusNotFound)

	link := parseHTML(t, c.get("/profilo/sicurezza").Body.String()).Find(`[data-testid=passkeys] a[href="` + path + `"]`)
	if link.Length() != 1 {
		t.Fatal("Sicurezza has no link to remove the passkey")
	}
	if got := parseHTML(t, c.get(path).Body.String()).Find("h1").Text(); !strings.Contains(got, "passkey «Telefono»") {
		t.Errorf("removal page asks %q", got)
	}
	paWantStatus(t, "wrong password", c.post(path, url.Values{"password": {"password sbagliata"}}), http.StatusUnprocessableEntity)
	if len(mfFactors(t, a, owner)) != 1 {
		t.Fatal("removed with a wrong password")
	}
	paWantRedirect(t, "remove", c.post(path, url.Values{"password": {patientPassword}}), "/profilo/sicurezza")
	if len(mfFactors(t, a, owner)) != 0 {
		t.Fatal("the passkey is still there")
	}
	for _, to := range []string{rossiMobile, "mario.rossi@example.it"} {
		if got := paSecurityBodies(t, a, to); len(got) == 0 || !strings.Contains(got[len(got)-1], "tolta una passkey") {
			t.Errorf("notices to %s = %q, want one about the removal", to, got)
		}
	}
	if n := mfCount(a, db.ActionAccountFactorRemove, db.OutcomeOK); n != 1 {
		t.Errorf("removals audited: %d, want 1", n)
	}
	pkWant(t, "a login with the removed passkey", pkLogin(t, a.client(), dev, "/accedi/passkey"), http.StatusUnauthorized, "")
	// The password alone opens again: the last factor took the recovery codes with it.
	if _, rec := paLogin(a, "192.0.2.31", "333 1234567", patientPassword); rec.Header().Get("Location") != "/attiva" {
		t.Errorf("password login after the removal: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

// Without an http(s) address the portal has no relying party: passkeys
// are nowhere to be seen.
func TestPasskeysAreHiddenWithoutABaseURL(t *testing.T) {
	a := newAppWith(t, func(cfg *handlers.Config) { cfg.BaseURL = "" })
	c := a.register("Mario", "Rossi", "333 1234567", "")
	if n := parseHTML(t, a.client().get("/accedi").Body.String()).Find(`[data-passkey-login]`).Length(); n != 0 {
		t.Error("the login offers a passkey")
	}
	if n := parseHTML(t, c.get("/profilo/sicurezza").Body.String()).Find(`[data-testid=passkeys-section]`).Length(); n != 0 {
		t.Error("Sicurezza offers passkeys")
	}
	if rec := c.post("/profilo/sicurezza/passkey/opzioni", url.Values{"password": {patientPassword}}); rec.Code < 400 {
		t.Errorf("passkey options: %d, want a refusal", rec.Code)
	}
}
