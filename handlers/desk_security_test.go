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
	"fse/internal/mfa"
)

// Tests of the staff's second factor: the enrolment forced after the first
// password login (--staff-mfa), the app's code at login, and an admin's
// reset of another member's app.

const newMemberPass = "provetta azzurra sul bancone"

// mfNewMember adds a member without an app, as an admin or `fse staff add`
// does, and returns its id.
func mfNewMember(t *testing.T, a *app, username, role string) int64 {
	t.Helper()
	ctx := context.Background()
	hash, err := a.h.Hasher.Hash(ctx, newMemberPass)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.db.CreateStaff(ctx, db.Staff{Username: username, Role: role, PasswordHash: hash}, db.Actor{Kind: db.ActorCLI, Name: "test"}, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// mfEnrolStaff adds an app to the logged-in member from the enrolment page
// and returns the recovery codes shown once.
func mfEnrolStaff(t *testing.T, a *app, c *client, username, pass string) []string {
	t.Helper()
	rec := c.get("/desk/security/app")
	paWantStatus(t, "enrolment page", rec, http.StatusOK)
	a.rememberApp(username, mfSecret(t, rec))
	rec = c.post("/desk/security/app", url.Values{"code": {a.appCode(username)}, "password": {pass}})
	paWantRedirect(t, "confirm the app", rec, "/desk/security/codes")
	codes := mfRecoveryCodes(t, c.get("/desk/security/codes"))
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %d, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	a.later()
	return codes
}

// mfWantEnrolment fails unless every staff page sends the client to the
// enrolment.
func mfWantEnrolment(t *testing.T, c *client, what string) {
	t.Helper()
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/desk"},
		{http.MethodGet, "/desk?q=Rossi"},
		{http.MethodGet, "/desk/accept"},
		{http.MethodPost, "/desk/accept"},
		{http.MethodGet, "/desk/patients/1"},
		{http.MethodGet, "/desk/visits/1"},
		{http.MethodGet, "/desk/documents/1/file"},
		{http.MethodGet, "/desk/admin/staff"},
		{http.MethodGet, "/desk/admin/audit"},
	} {
		var rec = c.get(r.path)
		if r.method == http.MethodPost {
			rec = c.post(r.path, url.Values{})
		}
		paWantRedirect(t, what+": "+r.method+" "+r.path, rec, "/desk/security/app")
	}
}

func TestStaffMustEnrolAnAppBeforeAnythingElse(t *testing.T) {
	a := newApp(t)
	a.publishedVisit() // patient data to stay out of reach
	mfNewMember(t, a, "laboratorio", db.RoleAdmin)

	c := a.client()
	paWantRedirect(t, "first password login", authLoginAttempt(c, "laboratorio", newMemberPass), "/desk/security/app")
	mfWantEnrolment(t, c, "password only")
	rec := c.get("/desk/security/app")
	if got := parseHTML(t, rec.Body.String()).Find(`main [role=alert]`).Text(); !strings.Contains(got, "devi prima configurare") {
		t.Errorf("the forced enrolment says %q, want why nothing else opens", got)
	}
	// A wrong first code adds nothing and opens nothing.
	a.rememberApp("laboratorio", mfSecret(t, rec))
	rec = c.post("/desk/security/app", url.Values{"code": {paWrong(a.codeAt("laboratorio", mfa.Step(a.Now())))}, "password": {newMemberPass}})
	paWantStatus(t, "wrong first code", rec, http.StatusUnprocessableEntity)
	mfWantEnrolment(t, c, "after a wrong first code")

	codes := mfEnrolStaff(t, a, c, "laboratorio", newMemberPass)
	paWantStatus(t, "desk after enrolling", c.get("/desk"), http.StatusOK)
	paWantStatus(t, "admin page after enrolling", c.get("/desk/admin/staff"), http.StatusOK)
	if n := mfCount(a, db.ActionStaffFactorAdd, db.OutcomeOK); n != 3 { // two seeded by the test app
		t.Errorf("staff.factor_add audited %d times, want 3", n)
	}
	// The only app stays while the policy asks for one.
	member, err := a.db.StaffByUsername(context.Background(), "laboratorio")
	if err != nil {
		t.Fatal(err)
	}
	only := mfFactors(t, a, db.StaffOwner(member.ID))[0]
	rec = c.post("/desk/security/app/"+itoa(only.ID)+"/remove", url.Values{"password": {newMemberPass}})
	paWantStatus(t, "removing the only app", rec, http.StatusConflict)
	if len(mfFactors(t, a, db.StaffOwner(member.ID))) != 1 {
		t.Fatal("the only app was removed although the policy requires one")
	}

	// From now on the password alone opens nothing.
	c2 := a.client()
	paWantRedirect(t, "password login", authLoginAttempt(c2, "laboratorio", newMemberPass), "/desk/login/code")
	authWantRedirectToLogin(t, "desk before the code", c2.get("/desk"))
	paWantStatus(t, "code page", c2.get("/desk/login/code"), http.StatusOK)
	paWantStatus(t, "wrong code", c2.post("/desk/login/code", url.Values{"code": {paWrong(a.codeAt("laboratorio", mfa.Step(a.Now())))}}),
		http.StatusUnprocessableEntity)
	enrolStep := a.apps["laboratorio"].last
	rec = c2.post("/desk/login/code", url.Values{"code": {a.codeAt("laboratorio", enrolStep)}})
	paWantStatus(t, "the enrolment's code again", rec, http.StatusUnprocessableEntity)
	if got := paAlert(t, rec); !strings.Contains(got, "già stato usato") {
		t.Errorf("reused code explained as %q", got)
	}
	paWantRedirect(t, "the app's code", c2.post("/desk/login/code", url.Values{"code": {a.appCode("laboratorio")}}), "/desk")
	paWantStatus(t, "desk after the code", c2.get("/desk"), http.StatusOK)

	// A recovery code works once.
	c3 := a.client()
	paWantRedirect(t, "password login", authLoginAttempt(c3, "laboratorio", newMemberPass), "/desk/login/code")
	paWantRedirect(t, "a recovery code", c3.post("/desk/login/code", url.Values{"code": {codes[0]}}), "/desk")
	c4 := a.client()
	paWantRedirect(t, "password login", authLoginAttempt(c4, "laboratorio", newMemberPass), "/desk/login/code")
	paWantStatus(t, "the recovery code again", c4.post("/desk/login/code", url.Values{"code": {codes[0]}}), http.StatusUnprocessableEntity)
	if n := mfCount(a, db.ActionStaffRecoveryCodeUsed, db.OutcomeOK); n != 1 {
		t.Errorf("staff.recovery_code_used audited %d times, want 1", n)
	}
}

func TestStaffMFAPolicy(t *testing.T) {
	for _, tt := range []struct {
		policy                db.StaffMFAPolicy
		adminMust, receptMust bool
	}{
		{"", true, true}, // the default is required
		{db.StaffMFARequired, true, true},
		{db.StaffMFAAdmins, true, false},
		{db.StaffMFAOff, false, false},
	} {
		t.Run(string(tt.policy), func(t *testing.T) {
			a := newAppWith(t, func(c *handlers.Config) { c.StaffMFA = tt.policy })
			mfNewMember(t, a, "nuovo.admin", db.RoleAdmin)
			mfNewMember(t, a, "nuovo.sportello", db.RoleReception)
			for _, m := range []struct {
				user string
				must bool
			}{{"nuovo.admin", tt.adminMust}, {"nuovo.sportello", tt.receptMust}} {
				c := a.client()
				want := "/desk"
				if m.must {
					want = "/desk/security/app"
				}
				paWantRedirect(t, m.user+" logs in", authLoginAttempt(c, m.user, newMemberPass), want)
				if m.must {
					mfWantEnrolment(t, c, m.user)
				} else {
					paWantStatus(t, m.user+" at the desk", c.get("/desk"), http.StatusOK)
				}
			}
			// Whoever has an app gives its code, whatever the policy.
			paWantRedirect(t, "a member with an app", authLoginAttempt(a.client(), receptionUser, receptionPass), "/desk/login/code")
		})
	}
}

func TestAdminResetsAnotherMembersApp(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	desk := a.deskClient()

	rec := admin.get("/desk/admin/staff")
	resetPath := "/desk/admin/staff/" + itoa(a.deskID) + "/reset-mfa"
	if parseHTML(t, rec.Body.String()).Find(`form[action="`+resetPath+`"]`).Length() != 1 {
		t.Fatalf("the staff page offers no reset of the receptionist's app\n%s", paSnippet(rec))
	}
	if parseHTML(t, rec.Body.String()).Find(`form[action="/desk/admin/staff/`+itoa(a.adminID)+`/reset-mfa"]`).Length() != 0 {
		t.Error("the staff page offers the admin a reset of their own app")
	}
	paWantStatus(t, "reset by a receptionist", desk.post("/desk/admin/staff/"+itoa(a.adminID)+"/reset-mfa", nil), http.StatusForbidden)
	paWantStatus(t, "reset of one's own app", admin.post("/desk/admin/staff/"+itoa(a.adminID)+"/reset-mfa", nil), http.StatusConflict)
	paWantStatus(t, "reset of a member who does not exist", admin.post("/desk/admin/staff/4242/reset-mfa", nil), http.StatusNotFound)
	if f := mfFactors(t, a, db.StaffOwner(a.adminID)); len(f) != 1 {
		t.Fatal("a refused reset removed the admin's app")
	}

	paWantRedirect(t, "reset", admin.post(resetPath, nil), "/desk/admin/staff")
	if f := mfFactors(t, a, db.StaffOwner(a.deskID)); len(f) != 0 {
		t.Fatalf("the receptionist still has %d apps", len(f))
	}
	ev := a.auditActions(db.AuditFilter{Action: db.ActionStaffFactorsReset})
	if len(ev) != 1 || ev[0].Actor.Name != adminUser || ev[0].ObjectID != a.deskID {
		t.Fatalf("reset audited as %+v, want one event by %s on the receptionist", ev, adminUser)
	}
	// The receptionist's open session ends.
	authWantRedirectToLogin(t, "the receptionist's session after the reset", desk.get("/desk"))

	// At the next login they are told, and set up an app again.
	a.advance(time.Second)
	c := a.client()
	paWantRedirect(t, "login after the reset", authLoginAttempt(c, receptionUser, receptionPass), "/desk/security/app")
	if got := parseHTML(t, c.get("/desk/security/app").Body.String()).Find(`[role=status]`).Text(); !strings.Contains(got, "Un amministratore ha azzerato") {
		t.Errorf("flash after the reset = %q, want the member told", got)
	}
	mfWantEnrolment(t, c, "after the reset")
	mfEnrolStaff(t, a, c, receptionUser, receptionPass)
	// Told once only.
	c2 := a.client()
	c2.login(receptionUser, receptionPass)
	if got := c2.get("/desk").Body.String(); strings.Contains(got, "Un amministratore ha azzerato") {
		t.Error("the reset is told again at a later login")
	}
}

// The example: `password1234` was accepted for staff.
func TestAdminRefusesAGuessableStaffPassword(t *testing.T) {
	a := newApp(t)
	admin := a.adminClient()
	rec := admin.post("/desk/admin/staff", url.Values{"username": {"laboratorio"}, "display_name": {"Laura Bianchi"},
		"role": {db.RoleReception}, "password": {"password1234"}})
	paWantStatus(t, "password1234", rec, http.StatusUnprocessableEntity)
	if got := paFieldErr(t, rec, "password"); got == "" {
		t.Errorf("no reason under the password\n%s", paSnippet(rec))
	}
	if _, err := a.db.StaffByUsername(context.Background(), "laboratorio"); err == nil {
		t.Error("the member was created with a guessable password")
	}
}

// A member who had to enrol gets a new session token once enrolled: the
// token of the password-only session, which opened nothing but the
// enrolment, does not go on as one that opens the desk.
func TestStaffEnrolmentRenewsTheSessionToken(t *testing.T) {
	for _, way := range []struct {
		name  string
		enrol func(t *testing.T, a *app, c *client)
	}{
		{"app", func(t *testing.T, a *app, c *client) { mfEnrolStaff(t, a, c, "laboratorio", newMemberPass) }},
		{"passkey", func(t *testing.T, a *app, c *client) {
			pkWant(t, "add a passkey", pkAdd(t, c, pkDevice(), "/desk/security", "Chiavetta", newMemberPass),
				http.StatusOK, "/desk/security/codes")
		}},
	} {
		t.Run(way.name, func(t *testing.T) {
			a := newApp(t)
			mfNewMember(t, a, "laboratorio", db.RoleReception)
			c := a.client()
			paWantRedirect(t, "first password login", authLoginAttempt(c, "laboratorio", newMemberPass), "/desk/security/app")
			before := authSessionToken(c)
			way.enrol(t, a, c)
			if after := authSessionToken(c); after == "" || after == before {
				t.Errorf("session token after the enrolment: %q, want a new one", after)
			}
			old := a.client()
			old.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: before}
			authWantRedirectToLogin(t, "the token from before the enrolment", old.get("/desk"))
			paWantStatus(t, "the enrolled session", c.get("/desk"), http.StatusOK)
		})
	}
}
