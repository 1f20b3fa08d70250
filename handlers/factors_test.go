package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"

	"fse/db"
	"fse/handlers"
	"fse/internal/mfa"
)

// Tests of what patients and staff share about second factors
// (factors.go): the recovery codes' one showing, and the end of the
// sessions opened with the password alone once the owner has a factor.

// fcSessionData is every session's stored data, as a copy of the database
// would hold it.
func fcSessionData(t *testing.T, a *app) []byte {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT data FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// sessionCopy is another browser holding a copy of c's session, as the
// store holds it now, under a token of its own: what a second request sent
// with c's cookie reads when it loads the session before the first has
// saved its changes.
func sessionCopy(t *testing.T, c *client, cookie string) *client {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	res, err := c.a.raw.ExecContext(context.Background(), `INSERT INTO sessions(token_hash, realm, data, expiry)
		SELECT ?, realm, data, expiry FROM sessions WHERE token_hash = ?`, authTokenHash(token), authTokenHash(c.cookies[cookie].Value))
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("copy the session: %d rows, %v", n, err)
	}
	return &client{a: c.a, cookies: map[string]*http.Cookie{cookie: {Name: cookie, Value: token}}, ip: c.ip}
}

// New recovery codes wait for their one showing in the session that made
// them: another session of the same person that opens the codes' page
// first finds none, and the sessions table never holds them in clear.
func TestRecoveryCodesAreShownOnlyToTheSessionThatMadeThem(t *testing.T) {
	for _, realm := range []struct {
		name string
		// sessions returns two sessions of one person with a second factor.
		sessions            func(t *testing.T, a *app) (maker, other *client)
		password            string
		codesPage, security string
	}{
		{"patient", func(t *testing.T, a *app) (*client, *client) {
			maker, _ := mfRossiWithApp(t, a)
			other := mfPasswordStep(t, a, patientPassword)
			paWantRedirect(t, "the other session's app code", other.post("/accedi/app", url.Values{"code": {a.appCode(mfPatientApp)}}), "/attiva")
			return maker, other
		}, patientPassword, "/profilo/sicurezza/codici", "/profilo/sicurezza"},
		{"staff", func(t *testing.T, a *app) (*client, *client) {
			return a.deskClient(), a.deskClient()
		}, receptionPass, "/desk/security/codes", "/desk/security"},
	} {
		t.Run(realm.name, func(t *testing.T) {
			a := newApp(t)
			maker, other := realm.sessions(t, a)
			paWantRedirect(t, "new codes", maker.post(realm.codesPage, url.Values{"password": {realm.password}}), realm.codesPage)
			stored := fcSessionData(t, a)
			paWantRedirect(t, "the codes' page in the other session", other.get(realm.codesPage), realm.security)
			codes := mfRecoveryCodes(t, maker.get(realm.codesPage))
			if len(codes) != mfa.RecoveryCodeCount {
				t.Fatalf("the session that made them is shown %d codes, want %d", len(codes), mfa.RecoveryCodeCount)
			}
			for _, code := range codes {
				if bytes.Contains(stored, []byte(code)) {
					t.Fatalf("the sessions table holds the recovery code %s in clear", code)
				}
			}
			paWantRedirect(t, "the codes' page again", maker.get(realm.codesPage), realm.security)
		})
	}
}

// A patient's first second factor, an app or a passkey, ends every other
// session of the account: they were opened with the password alone. The
// session that added it goes on.
func TestFirstFactorEndsTheAccountsOtherSessions(t *testing.T) {
	for _, way := range []struct {
		name string
		add  func(t *testing.T, a *app, c *client)
	}{
		{"app", func(t *testing.T, a *app, c *client) { mfEnrolPatient(t, a, c, mfPatientApp) }},
		{"passkey", func(t *testing.T, a *app, c *client) {
			pkWant(t, "add a passkey", pkAdd(t, c, pkDevice(), "/profilo/sicurezza", "Telefono", patientPassword),
				http.StatusOK, "/profilo/sicurezza/codici")
		}},
	} {
		t.Run(way.name, func(t *testing.T) {
			a := newApp(t)
			adder := a.register("Mario", "Rossi", "333 1234567", "mario.rossi@example.it")
			other := a.loginPatient("333 1234567")
			paWantStatus(t, "the other session before", other.get("/profilo"), http.StatusOK)
			way.add(t, a, adder)
			paWantRedirect(t, "the other session after the first factor", other.get("/profilo"), "/accedi")
			paWantStatus(t, "the session that added it", adder.get("/profilo"), http.StatusOK)
		})
	}
}

// A member's first second factor ends every other session of theirs,
// whatever --staff-mfa says: one at the desk with the password alone (a
// receptionist when only admins must have a factor), one waiting in the
// forced enrolment, which could otherwise add a factor of its own.
func TestFirstFactorEndsTheMembersOtherSessions(t *testing.T) {
	for _, policy := range []db.StaffMFAPolicy{db.StaffMFAAdmins, db.StaffMFARequired} {
		for _, way := range []struct {
			name string
			add  func(t *testing.T, a *app, c *client)
		}{
			{"app", func(t *testing.T, a *app, c *client) { mfEnrolStaff(t, a, c, "banco", newMemberPass) }},
			{"passkey", func(t *testing.T, a *app, c *client) {
				pkWant(t, "add a passkey", pkAdd(t, c, pkDevice(), "/desk/security", "Chiavetta", newMemberPass),
					http.StatusOK, "/desk/security/codes")
			}},
		} {
			t.Run(string(policy)+"/"+way.name, func(t *testing.T) {
				a := newAppWith(t, func(c *handlers.Config) { c.StaffMFA = policy })
				mfNewMember(t, a, "banco", db.RoleReception)
				atDesk, enrolling, adder := a.client(), a.client(), a.client()
				for _, c := range []*client{atDesk, enrolling, adder} {
					authLoginAttempt(c, "banco", newMemberPass)
				}
				if policy == db.StaffMFAAdmins {
					paWantStatus(t, "the password-only session at the desk", atDesk.get("/desk"), http.StatusOK)
				}
				way.add(t, a, adder)
				authWantRedirectToLogin(t, "the other session at the desk", atDesk.get("/desk"))
				authWantRedirectToLogin(t, "the other session adding an app of its own", enrolling.get("/desk/security/app"))
				paWantStatus(t, "the session that added it", adder.get("/desk"), http.StatusOK)
			})
		}
	}
}

// A session that never proved a second factor ends once its owner has
// one, however the factor came (here stored while the session was being
// opened, as two requests racing would leave it, after the cut-off of the
// first factor) and whatever --staff-mfa says.
func TestSessionWithoutAFactorEndsOnceTheOwnerHasOne(t *testing.T) {
	t.Run("patient", func(t *testing.T) {
		a := newApp(t)
		c := a.register("Mario", "Rossi", "333 1234567", "")
		paWantStatus(t, "profile with the password alone", c.get("/profilo"), http.StatusOK)
		if _, _, err := a.db.AddFactor(context.Background(), db.Factor{Owner: db.AccountOwner(accountIDOf(t, a, rossiMobile)),
			Kind: db.FactorTOTP, Name: "Telefono", Secret: []byte("sealed")}, nil,
			db.AuditEvent{Actor: db.Actor{Kind: db.ActorCLI, Name: "test"}, Action: db.ActionAccountFactorAdd}, a.Now()); err != nil {
			t.Fatal(err)
		}
		paWantRedirect(t, "profile once the account has a factor", c.get("/profilo"), "/accedi")
	})
	t.Run("staff", func(t *testing.T) {
		a := newAppWith(t, func(c *handlers.Config) { c.StaffMFA = db.StaffMFAOff })
		id := mfNewMember(t, a, "banco", db.RoleReception)
		atDesk, atSecurity := a.client(), a.client()
		for _, c := range []*client{atDesk, atSecurity} {
			paWantRedirect(t, "password login", authLoginAttempt(c, "banco", newMemberPass), "/desk")
		}
		paWantStatus(t, "desk with the password alone", atDesk.get("/desk"), http.StatusOK)
		a.enrolStaffApp(id, "banco")
		authWantRedirectToLogin(t, "desk once the member has a factor", atDesk.get("/desk"))
		authWantRedirectToLogin(t, "Sicurezza once the member has a factor", atSecurity.get("/desk/security/app"))
	})
}
