package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"fse/db"
)

// Tests of the session cookies of staff and patients: their attributes, a
// new token at every login, and logout destroying the session.

func TestAuthSessionCookie(t *testing.T) {
	a := newApp(t)
	c := a.client()
	rec := authLoginAttempt(c, receptionUser, receptionPass)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: got %d, want 303", rec.Code)
	}
	var ck *http.Cookie
	for _, x := range rec.Result().Cookies() {
		if x.Name == authCookieName {
			ck = x
		}
	}
	if ck == nil {
		t.Fatalf("no %s cookie in %v", authCookieName, rec.Header().Values("Set-Cookie"))
	}
	if ck.Path != "/" {
		t.Errorf("Path: got %q, want /", ck.Path)
	}
	if !ck.Secure {
		t.Error("cookie not Secure")
	}
	if !ck.HttpOnly {
		t.Error("cookie not HttpOnly")
	}
	if ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("SameSite: got %v, want Strict", ck.SameSite)
	}
	if ck.Domain != "" {
		t.Errorf("Domain: got %q, want none", ck.Domain)
	}

	// Tokens are stored hashed.
	ctx := context.Background()
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, []byte(ck.Value)); got != 0 {
		t.Error("session token stored in clear")
	}
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, ck.Value); got != 0 {
		t.Error("session token stored in clear (text)")
	}
	var expiry time.Time
	if err := a.raw.QueryRowContext(ctx, `SELECT expiry FROM sessions WHERE token_hash = ?`, authTokenHash(ck.Value)).Scan(&expiry); err != nil {
		t.Fatalf("session row by SHA-256 of the token: %v", err)
	}
	want := time.Now().Add(30 * time.Minute)
	if d := expiry.Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("session expiry: got %v, want about %v (30 min idle timeout)", expiry, want)
	}
}

func TestAuthSessionFixation(t *testing.T) {
	a := newApp(t)

	t.Run("token present before login is replaced", func(t *testing.T) {
		c := a.client()
		c.get("/desk/login")
		authLoginAttempt(c, receptionUser, "password-sbagliata-123")
		before := authSessionToken(c)
		if before == "" {
			t.Log("no session cookie before login (anonymous pages do not start a session)")
		}
		c.login(receptionUser, receptionPass)
		after := authSessionToken(c)
		if after == "" {
			t.Fatal("no session cookie after login")
		}
		if before != "" && before == after {
			t.Errorf("session token unchanged by login: %q", after)
		}
	})

	t.Run("planted session", func(t *testing.T) {
		// An attacker holds a valid anonymous session and plants its cookie.
		const planted = "AuthPlantedSessionToken0123456789abcdefghij"
		exp := time.Now().Add(time.Hour)
		data, err := scs.GobCodec{}.Encode(exp, map[string]interface{}{})
		if err != nil {
			t.Fatal(err)
		}
		if err := (&db.SessionStore{DB: a.db, Realm: db.RealmStaff, Now: time.Now}).Commit(planted, data, exp); err != nil {
			t.Fatal(err)
		}
		victim := a.client()
		victim.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: planted}
		victim.login(receptionUser, receptionPass)
		if got := authSessionToken(victim); got == planted || got == "" {
			t.Errorf("token after login: got %q, want a new one", got)
		}
		if rec := victim.get("/desk"); rec.Code != http.StatusOK {
			t.Errorf("victim GET /desk with new token: got %d, want 200", rec.Code)
		}

		attacker := a.client()
		attacker.ip = "198.51.100.66"
		attacker.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: planted}
		authWantRedirectToLogin(t, "attacker GET /desk with planted token", attacker.get("/desk"))
	})

	t.Run("second login replaces an authenticated token", func(t *testing.T) {
		c := a.client()
		c.login(receptionUser, receptionPass)
		old := authSessionToken(c)
		c.login(adminUser, adminPass)
		if got := authSessionToken(c); got == old {
			t.Errorf("token unchanged across logins: %q", got)
		}
		replay := a.client()
		replay.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: old}
		authWantRedirectToLogin(t, "GET /desk with pre-login token", replay.get("/desk"))
	})
}

func TestAuthSessionLogout(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	token := authSessionToken(c)
	if token == "" {
		t.Fatal("no session cookie after login")
	}
	rowsBefore := authCount(t, a, `SELECT count(*) FROM sessions`)
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, authTokenHash(token)); got != 1 {
		t.Fatalf("session rows for the token before logout: got %d, want 1", got)
	}

	rec := c.post("/desk/logout", url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/login" {
		t.Errorf("logout: got %d Location %q, want 303 to /desk/login", rec.Code, rec.Header().Get("Location"))
	}
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, authTokenHash(token)); got != 0 {
		t.Errorf("session rows for the token after logout: got %d, want 0", got)
	}
	if got, want := authCount(t, a, `SELECT count(*) FROM sessions`), rowsBefore-1; got != want {
		t.Errorf("sessions rows after logout: got %d, want %d", got, want)
	}
	if got := authSessionToken(c); got != "" {
		t.Errorf("browser still holds a session cookie after logout: %q", got)
	}

	replay := a.client()
	replay.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: token}
	authWantRedirectToLogin(t, "GET /desk with logged-out token", replay.get("/desk"))
	if got := len(a.auditActions(db.AuditFilter{Action: "staff.logout"})); got != 1 {
		t.Errorf("staff.logout audit rows: got %d, want 1", got)
	}
}

// paClientWithToken is a new browser holding only the given session token.
func paClientWithToken(a *app, token, ip string) *client {
	c := a.client()
	c.ip = ip
	c.cookies[paCookie] = &http.Cookie{Name: paCookie, Value: token}
	return c
}

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
		authTokenHash(ck.Value)).Scan(&expiry); err != nil {
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
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, authTokenHash(old)); got != 0 {
		t.Errorf("session row after logout: got %d, want 0", got)
	}
	replay := paClientWithToken(a, old, "192.0.2.80")
	paWantRedirect(t, "old cookie after logout", replay.get("/profilo"), "/accedi")
	paWantRedirect(t, "same browser after logout", c.get("/profilo"), "/accedi")
}

// TestSessionTokenOfOneRealmIsUnknownToTheOther: staff and patient sessions
// share a table, not their tokens. A patient's token sent as the staff
// cookie is no staff session (nor does the staff side keep it alive past
// the patient's 15 idle minutes), and a staff token sent as the patient
// cookie is no patient session (nor does the patient side write into it).
func TestSessionTokenOfOneRealmIsUnknownToTheOther(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	row := func(token string) (data []byte, expiry time.Time) {
		t.Helper()
		if err := a.raw.QueryRowContext(ctx, `SELECT data, expiry FROM sessions WHERE token_hash = ?`, authTokenHash(token)).
			Scan(&data, &expiry); err != nil {
			t.Fatalf("session row: %v", err)
		}
		return data, expiry
	}
	setsCookie := func(rec interface{ Result() *http.Response }, name, value string) bool {
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == name && ck.Value == value {
				return true
			}
		}
		return false
	}

	patient := a.register("Mario", "Rossi", "333 1234567", "")
	pToken := paToken(patient)
	_, pExpiry := row(pToken)
	asStaff := a.client()
	asStaff.cookies[authCookieName] = &http.Cookie{Name: authCookieName, Value: pToken}
	rec := asStaff.get("/desk")
	authWantRedirectToLogin(t, "GET /desk with a patient's token", rec)
	if setsCookie(rec, authCookieName, pToken) {
		t.Error("the staff side took the patient's token as its own session")
	}
	if _, exp := row(pToken); !exp.Equal(pExpiry) {
		t.Errorf("the staff side moved the patient session's deadline from %v to %v", pExpiry, exp)
	}

	desk := a.deskClient()
	sToken := authSessionToken(desk)
	sData, _ := row(sToken)
	asPatient := a.client()
	asPatient.cookies[paCookie] = &http.Cookie{Name: paCookie, Value: sToken}
	rec = asPatient.get("/fascicolo")
	paWantRedirect(t, "GET /fascicolo with a staff token", rec, "/accedi")
	if setsCookie(rec, paCookie, sToken) {
		t.Error("the patient side took the staff token as its own session")
	}
	if data, _ := row(sToken); !bytes.Equal(data, sData) {
		t.Error("the patient side wrote into the staff session")
	}
	if rec := desk.get("/desk"); rec.Code != http.StatusOK {
		t.Errorf("the receptionist after the attempts: GET /desk = %d, want 200", rec.Code)
	}
}
