package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/mfa"
)

// Tests of the login and the password reset of an account with an
// authenticator app: the app's code instead of the SMS, each time step
// once, the lockout, the recovery codes, and a reset that still asks for
// the app.

func TestAppCodeReplacesTheSMSAtLogin(t *testing.T) {
	a := newApp(t)
	c, _ := mfRossiWithApp(t, a)
	// He had asked for an SMS code at every login: the app replaces it.
	paEnableLoginOTP(t, c)
	sms := paSMSCount(a)

	l := mfPasswordStep(t, a, patientPassword)
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent at a login with an app, want none", got)
	}
	// Neither the pages behind the login nor the SMS step open.
	paWantRedirect(t, "dossier before the app's code", l.get("/fascicolo"), "/accedi/app")
	paWantRedirect(t, "SMS step", l.get("/accedi/codice"), "/accedi")
	paWantStatus(t, "app step page", l.get("/accedi/app"), http.StatusOK)

	// The enrolment's code was accepted: the same time step is refused.
	enrolStep := a.apps[mfPatientApp].last
	rec := l.post("/accedi/app", url.Values{"code": {a.codeAt(mfPatientApp, enrolStep)}})
	paWantStatus(t, "the enrolment's code again", rec, http.StatusUnprocessableEntity)
	if got := paAlert(t, rec); !strings.Contains(got, "già stato usato") {
		t.Errorf("reused code explained as %q", got)
	}
	rec = l.post("/accedi/app", url.Values{"code": {paWrong(a.codeAt(mfPatientApp, mfa.Step(a.Now())))}})
	paWantStatus(t, "a wrong code", rec, http.StatusUnprocessableEntity)
	if got := paAlert(t, rec); !strings.Contains(got, "non è corretto") {
		t.Errorf("wrong code explained as %q", got)
	}
	paWantRedirect(t, "still waiting for the app", l.get("/profilo"), "/accedi/app")

	code := a.appCode(mfPatientApp)
	paWantRedirect(t, "the app's code", l.post("/accedi/app", url.Values{"code": {code[:3] + " " + code[3:]}}), "/attiva")
	paWantStatus(t, "profile after the login", l.get("/profilo"), http.StatusOK)
	if got := paSMSCount(a) - sms; got != 0 {
		t.Errorf("%d SMS sent, want none", got)
	}

	// A second login with the very same code, in the same 30 seconds, is refused.
	l2 := mfPasswordStep(t, a, patientPassword)
	paWantStatus(t, "the same code on another login", l2.post("/accedi/app", url.Values{"code": {code}}), http.StatusUnprocessableEntity)

	ok := mfCount(a, db.ActionAccountSecondFactor, db.OutcomeOK)
	failed := mfCount(a, db.ActionAccountSecondFactor, db.OutcomeFailed)
	if ok != 1 || failed != 3 {
		t.Errorf("second-factor audit: %d ok, %d failed; want 1 and 3", ok, failed)
	}
}

// Five wrong codes lock the account's app step for 15 minutes, in any
// session; the right code does not get through meanwhile.
func TestAppCodeLockout(t *testing.T) {
	a := newApp(t)
	mfRossiWithApp(t, a)
	l := mfPasswordStep(t, a, patientPassword)
	a.advance(mfa.Period)
	for i := range 5 {
		rec := l.post("/accedi/app", url.Values{"code": {paWrong(a.codeAt(mfPatientApp, mfa.Step(a.Now())))}})
		paWantStatus(t, "wrong code "+itoa(int64(i+1)), rec, http.StatusUnprocessableEntity)
	}
	right := a.codeAt(mfPatientApp, mfa.Step(a.Now()))
	rec := l.post("/accedi/app", url.Values{"code": {right}})
	paWantStatus(t, "the right code while locked", rec, http.StatusTooManyRequests)
	if got := paAlert(t, rec); !strings.Contains(got, "Troppi codici sbagliati") || !strings.Contains(got, "15 minuti") {
		t.Errorf("lockout explained as %q", got)
	}
	// A new password step does not reset the count: it is the account's.
	other := mfPasswordStep(t, a, patientPassword)
	paWantStatus(t, "another session while locked", other.post("/accedi/app", url.Values{"code": {right}}), http.StatusTooManyRequests)
	if n := mfCount(a, db.ActionAccountSecondFactor, db.OutcomeDenied); n != 2 {
		t.Errorf("denials audited: %d, want 2", n)
	}

	a.advance(15*time.Minute + time.Second)
	paWantRedirect(t, "after the lock", l.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}}), "/attiva")
}

// Past the 15-minute locks, 50 wrong codes in a day lock the app step for
// the rest of the day, as ten SMS codes a day bound the SMS step.
func TestAppCodeDailyLimit(t *testing.T) {
	a := newApp(t)
	mfRossiWithApp(t, a)
	l := mfPasswordStep(t, a, patientPassword)
	for round := range 10 {
		a.advance(16 * time.Minute) // past the last 15-minute lock
		l.ip = "192.0.2." + itoa(int64(50+round))
		for range 5 {
			rec := l.post("/accedi/app", url.Values{"code": {paWrong(a.codeAt(mfPatientApp, mfa.Step(a.Now())))}})
			paWantStatus(t, "a wrong code in round "+itoa(int64(round+1)), rec, http.StatusUnprocessableEntity)
		}
	}
	a.advance(16 * time.Minute)
	l.ip = "192.0.2.70"
	rec := l.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}})
	paWantStatus(t, "the right code after 50 wrong ones", rec, http.StatusTooManyRequests)
	if got := paAlert(t, rec); !strings.Contains(got, "24 ore") {
		t.Errorf("daily lock explained as %q", got)
	}
	a.advance(24 * time.Hour)
	paWantRedirect(t, "the next day", l.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}}), "/attiva")
}

// Wrong codes add up over the day between right ones: a right code lifts
// the quarter-hour lock but keeps the day's count of wrong codes, and is
// not counted itself.
func TestWrongAppCodesAddUpOverTheDayBetweenRightOnes(t *testing.T) {
	a := newApp(t)
	mfRossiWithApp(t, a)
	step := func(n int) *client {
		c := a.client()
		c.ip = "192.0.2." + itoa(int64(100+n)) // past the per-address limits
		paWantRedirect(t, "password step", c.post("/accedi", url.Values{"identifier": {"333 1234567"}, "password": {patientPassword}}), "/accedi/app")
		return c
	}
	wrong := func(c *client, what string) {
		rec := c.post("/accedi/app", url.Values{"code": {paWrong(a.codeAt(mfPatientApp, mfa.Step(a.Now())))}})
		paWantStatus(t, what, rec, http.StatusUnprocessableEntity)
	}
	// Twelve logins, each after four wrong codes: 48 wrong, 12 right.
	for round := range 12 {
		a.advance(16 * time.Minute) // past the last 15-minute lock
		c := step(round)
		for range 4 {
			wrong(c, "a wrong code in round "+itoa(int64(round+1)))
		}
		paWantRedirect(t, "the right code in round "+itoa(int64(round+1)), c.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}}), "/attiva")
	}
	a.advance(16 * time.Minute)
	c := step(12)
	wrong(c, "the 49th wrong code of the day")
	wrong(c, "the 50th wrong code of the day")
	rec := c.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}})
	paWantStatus(t, "the right code after 50 wrong ones in the day", rec, http.StatusTooManyRequests)
	if got := paAlert(t, rec); !strings.Contains(got, "24 ore") {
		t.Errorf("daily lock explained as %q", got)
	}
}

func TestRecoveryCodeLogsInOnce(t *testing.T) {
	a := newApp(t)
	_, codes := mfRossiWithApp(t, a)
	beforeSMS := len(paSecurityBodies(t, a, rossiMobile))

	l := mfPasswordStep(t, a, patientPassword)
	// Typed as people type: lower case, a space instead of the dash.
	typed := strings.ToLower(strings.Replace(codes[0], "-", " ", 1))
	paWantRedirect(t, "a recovery code", l.post("/accedi/app", url.Values{"code": {typed}}), "/attiva")
	rec := l.get("/attiva")
	if got := parseHTML(t, rec.Body.String()).Find(`[role=status]`).Text(); !strings.Contains(got, "Le restano 9 codici") {
		t.Errorf("flash after a recovery code = %q, want how many are left", got)
	}
	if n := mfCount(a, db.ActionAccountRecoveryCodeUsed, db.OutcomeOK); n != 1 {
		t.Errorf("recovery code use audited %d times, want 1", n)
	}
	sms := paSecurityBodies(t, a, rossiMobile)
	mail := paSecurityBodies(t, a, "mario.rossi@example.it")
	if len(sms) != beforeSMS+1 || !strings.Contains(sms[len(sms)-1], "codice di recupero") ||
		len(mail) == 0 || !strings.Contains(mail[len(mail)-1], "codice di recupero") {
		t.Errorf("notices: SMS %q, email %q; want both about the recovery code", sms, mail)
	}
	for _, body := range append(sms, mail...) {
		if strings.Contains(body, codes[0]) {
			t.Error("a notice contains the recovery code")
		}
	}

	// Used up: the same code fails on the next login, another one works.
	l2 := mfPasswordStep(t, a, patientPassword)
	paWantStatus(t, "the same recovery code again", l2.post("/accedi/app", url.Values{"code": {codes[0]}}), http.StatusUnprocessableEntity)
	paWantRedirect(t, "another recovery code", l2.post("/accedi/app", url.Values{"code": {codes[1]}}), "/attiva")
	pdAssertLogsClean(t, a, codes...)
}

// An SMS step begun before the holder added an app does not open the
// account: from then on only the app's code does.
func TestSMSStepBegunBeforeAnAppNoLongerOpens(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
	paEnableLoginOTP(t, c)
	l, rec := paLogin(a, "192.0.2.30", "333 1234567", patientPassword)
	paWantRedirect(t, "password", rec, "/accedi/codice")
	code := a.lastSMSCode(rossiMobile)

	mfEnrolPatient(t, a, c, mfPatientApp)
	paWantRedirect(t, "the SMS code after the app was added", l.post("/accedi/codice", url.Values{"code": {code}}), "/accedi")
	paWantRedirect(t, "dossier", l.get("/fascicolo"), "/accedi")
}

func TestSMSLoginPageSaysAnAppIsSafer(t *testing.T) {
	a := newApp(t)
	c := a.register("Mario", "Rossi", "333 1234567", "")
	paEnableLoginOTP(t, c)
	l, rec := paLogin(a, "192.0.2.31", "333 1234567", patientPassword)
	paWantRedirect(t, "password", rec, "/accedi/codice")
	rec = l.get("/accedi/codice")
	if got := parseHTML(t, rec.Body.String()).Find(`[data-testid=app-safer]`).Text(); !strings.Contains(got, "più sicura") {
		t.Errorf("the SMS login step says %q, want that an app is safer", got)
	}
	// Not on the registration's code, where there is no account to add one to.
	r := a.client()
	paStartRegistration(t, r, paMobile2Typed, "")
	if parseHTML(t, r.get("/registrati/codice").Body.String()).Find(`[data-testid=app-safer]`).Length() != 0 {
		t.Error("the registration's code page suggests an app")
	}
}

// ASVS 6.4.3: the SMS code of a password reset does not bypass the app.
func TestPasswordResetWithAnAppAsksForItsCode(t *testing.T) {
	a := newApp(t)
	mfRossiWithApp(t, a)
	acc := paAccount(t, a, rossiMobile)

	c := a.client()
	c.ip = "192.0.2.40"
	paWantRedirect(t, "forgot", c.post("/password-dimenticata", url.Values{"identifier": {"333 1234567"}}), "/password-dimenticata/codice")
	sms := a.lastSMSCode(rossiMobile)
	reset := url.Values{"code": {sms}, "password": {paNewPassword}, "password2": {paNewPassword}}
	paWantRedirect(t, "SMS code and new password", c.post("/password-dimenticata/codice", reset), "/password-dimenticata/app")
	unchanged := func(what string) {
		t.Helper()
		if got := paAccount(t, a, rossiMobile); got.PasswordHash != acc.PasswordHash {
			t.Fatalf("%s: the password changed before the app's code", what)
		}
	}
	unchanged("after the SMS code")
	// Sending the SMS step again leads to the app again.
	paWantRedirect(t, "SMS step again", c.post("/password-dimenticata/codice", reset), "/password-dimenticata/app")
	unchanged("after the SMS step again")

	rec := c.get("/password-dimenticata/app")
	paWantStatus(t, "app step of the reset", rec, http.StatusOK)
	if !strings.Contains(parseHTML(t, rec.Body.String()).Find("main").Text(), "codice dell'app") {
		t.Errorf("the reset's app step does not ask for the app's code\n%s", paSnippet(rec))
	}
	rec = c.post("/password-dimenticata/app", url.Values{"code": {paWrong(a.codeAt(mfPatientApp, mfa.Step(a.Now())+1))}})
	paWantStatus(t, "a wrong app code", rec, http.StatusUnprocessableEntity)
	unchanged("after a wrong app code")

	paWantRedirect(t, "the app's code", c.post("/password-dimenticata/app", url.Values{"code": {a.appCode(mfPatientApp)}}), "/accedi")
	if got := paAccount(t, a, rossiMobile); got.PasswordHash == acc.PasswordHash {
		t.Fatal("the password did not change")
	}
	// The reset's SMS code is used up, and the new password still needs the app.
	paWantRedirect(t, "the reset again", c.post("/password-dimenticata/codice", reset), "/password-dimenticata")
	_, rec = paLogin(a, "192.0.2.41", "333 1234567", patientPassword)
	paWantStatus(t, "the old password", rec, http.StatusUnauthorized)
	mfPasswordStep(t, a, paNewPassword)
}
