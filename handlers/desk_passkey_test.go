package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fse/db"
	"fse/internal/mfa"
)

// A member who must enrol a second factor (--staff-mfa) can choose a
// passkey instead of the app; from then on the password and the passkey
// open the desk, and the passkey alone opens nothing, neither the desk
// nor a patient's login.
func TestStaffEnrolsAPasskeyAndLogsInWithIt(t *testing.T) {
	a := newApp(t)
	id := mfNewMember(t, a, "laboratorio", db.RoleReception)
	c := a.client()
	paWantRedirect(t, "first password login", authLoginAttempt(c, "laboratorio", newMemberPass), "/desk/security/app")
	enrol := parseHTML(t, c.get("/desk/security/app").Body.String())
	if enrol.Find(`[data-testid=passkey-instead] form[data-passkey-register="/desk/security/passkey"]`).Length() != 1 {
		t.Fatal("the forced enrolment offers no passkey")
	}
	dev := pkDevice()
	pkWant(t, "a wrong password", pkAdd(t, c, dev, "/desk/security", "Chiavetta", "password sbagliata"), http.StatusUnprocessableEntity, "")
	mfWantEnrolment(t, c, "after a refused passkey")

	pkWant(t, "add a passkey", pkAdd(t, c, dev, "/desk/security", "Chiavetta", newMemberPass), http.StatusOK, "/desk/security/codes")
	if codes := mfRecoveryCodes(t, c.get("/desk/security/codes")); len(codes) != mfa.RecoveryCodeCount {
		t.Errorf("recovery codes shown: %d, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	paWantStatus(t, "desk after enrolling", c.get("/desk"), http.StatusOK)
	listed := parseHTML(t, c.get("/desk/security").Body.String()).Find(`[data-testid=factors]`).Text()
	if !strings.Contains(listed, "Chiavetta") || !strings.Contains(listed, "Passkey") {
		t.Errorf("Sicurezza lists %q, want the passkey", listed)
	}

	// The password, then the passkey.
	l := a.client()
	paWantRedirect(t, "password login", authLoginAttempt(l, "laboratorio", newMemberPass), "/desk/login/code")
	step := parseHTML(t, l.get("/desk/login/code").Body.String())
	if step.Find(`button[data-passkey-login="/desk/login/passkey"]`).Length() != 1 {
		t.Fatal("the desk's second step offers no passkey")
	}
	authWantRedirectToLogin(t, "desk before the passkey", l.get("/desk"))
	noPIN := dev.Copy()
	noPIN.SkipUserVerification = true
	answer, err := noPIN.Get(pkOptions(t, l, "/desk/login/passkey"))
	if err != nil {
		t.Fatal(err)
	}
	pkWant(t, "no PIN", l.postJSON("/desk/login/passkey", answer), http.StatusUnauthorized, "")
	authWantRedirectToLogin(t, "desk after a refused passkey", l.get("/desk"))
	pkWant(t, "the passkey", pkLogin(t, l, dev, "/desk/login/passkey"), http.StatusOK, "/desk")
	paWantStatus(t, "desk after the passkey", l.get("/desk"), http.StatusOK)
	steps := a.auditActions(db.AuditFilter{Action: db.ActionStaffSecondFactor})
	if len(steps) != 2 || steps[0].Outcome != db.OutcomeFailed || steps[1].Outcome != db.OutcomeOK ||
		!strings.Contains(steps[1].Detail, `passkey "Chiavetta"`) || steps[1].Actor.ID != id {
		t.Errorf("second steps audited: %+v", steps)
	}

	// A member's passkey is not a patient's: the patients' login refuses it.
	pkWant(t, "a staff passkey on the patients' login", pkLogin(t, a.client(), dev, "/accedi/passkey"), http.StatusUnauthorized, "")

	// The only factor stays while the policy asks for one.
	pk := mfFactors(t, a, db.StaffOwner(id))[0]
	rec := l.post("/desk/security/passkey/"+itoa(pk.ID)+"/remove", url.Values{"password": {newMemberPass}})
	paWantStatus(t, "removing the only passkey", rec, http.StatusConflict)
	paWantStatus(t, "the passkey as an app", l.post("/desk/security/app/"+itoa(pk.ID)+"/remove", url.Values{"password": {newMemberPass}}),
		http.StatusNotFound)
}
