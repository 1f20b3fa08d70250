package handlers_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/argon2id"
	"github.com/alexedwards/scs/v2"

	"fse/db"
	"fse/handlers"
	"fse/internal/password"
	"fse/views"
)

// authSelection is a goquery selection.
type authSelection = goquery.Selection

// authCookieName is the staff session cookie.
const authCookieName = "__Host-fse-desk"

// authCount runs a count(*) query on the read pool.
func authCount(t *testing.T, a *app, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.raw.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// authTokenHash is how the session store keys a token.
func authTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// authSessionToken returns the client's current session cookie value ("" if none).
func authSessionToken(c *client) string {
	if ck := c.cookies[authCookieName]; ck != nil {
		return ck.Value
	}
	return ""
}

// authDo sends a request with the client's cookies and exactly the given
// extra headers (no automatic Sec-Fetch-Site).
func authDo(c *client, method, target string, form url.Values, headers map[string]string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = c.ip + ":51000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.a.e.ServeHTTP(rec, req)
	return rec
}

// authLoginAttempt posts the login form and returns the response.
func authLoginAttempt(c *client, user, pass string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.post("/desk/login", url.Values{"username": {user}, "password": {pass}})
}

// authWantRedirectToLogin fails unless rec is a 303 to the login page.
func authWantRedirectToLogin(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/login" {
		t.Errorf("%s: got %d Location %q, want 303 to /desk/login", what, rec.Code, rec.Header().Get("Location"))
	}
}

// authAuditDump returns every audit_events column of every row as text.
func authAuditDump(t *testing.T, a *app) string {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), `SELECT * FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				b.Write(v)
			default:
				fmt.Fprint(&b, v)
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// authStaffCount counts the staff rows.
func authStaffCount(t *testing.T, a *app) int {
	t.Helper()
	return authCount(t, a, `SELECT count(*) FROM staff`)
}

func TestAuthAnonymousAccess(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, _ := desk.accept(a.acceptForm())
	if rec := desk.upload(visitID, file{"Esami del sangue", "referto.pdf", samplePDF(t, "Esami")}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: got %d, want 303", rec.Code)
	}

	anon := a.client()
	for _, path := range []string{"/desk", "/desk/accept", "/desk/patients/1", fmt.Sprintf("/desk/visits/%d", visitID),
		"/desk/admin/staff", "/desk/admin/audit"} {
		authWantRedirectToLogin(t, "GET "+path, anon.get(path))
	}

	visitsBefore := authCount(t, a, `SELECT count(*) FROM visits`)
	patientsBefore := authCount(t, a, `SELECT count(*) FROM patients`)
	form := a.acceptForm()
	form.Set("fiscal_code", "BNCLRA90A41F205X")
	form.Set("last_name", "Bianchi")
	if rec := anon.post("/desk/accept", form); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous POST /desk/accept: got %d, want 401", rec.Code)
	}
	if got, want := authCount(t, a, `SELECT count(*) FROM visits`), visitsBefore; got != want {
		t.Errorf("visits after anonymous accept: got %d, want %d", got, want)
	}
	if got, want := authCount(t, a, `SELECT count(*) FROM patients`), patientsBefore; got != want {
		t.Errorf("patients after anonymous accept: got %d, want %d", got, want)
	}

	if rec := anon.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), url.Values{}); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous POST publish: got %d, want 401", rec.Code)
	}
	docs, err := a.db.VisitDocuments(context.Background(), visitID)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no document uploaded")
	}
	for _, d := range docs {
		if d.Published() {
			t.Errorf("document %d published by an anonymous request", d.ID)
		}
	}
}

func TestAuthRoles(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	ctx := context.Background()

	for _, path := range []string{"/desk/admin/staff", "/desk/admin/facilities", "/desk/admin/audit", "/desk/admin/settings"} {
		rec := desk.get(path)
		if rec.Code != http.StatusForbidden {
			t.Errorf("reception GET %s: got %d, want 403", path, rec.Code)
			continue
		}
		if body := rec.Body.String(); !strings.Contains(body, "riservata agli amministratori") {
			t.Errorf("reception GET %s: 403 page lacks the Italian message:\n%s", path, body)
		}
	}

	staffBefore := authStaffCount(t, a)
	facilitiesBefore := authCount(t, a, `SELECT count(*) FROM facilities`)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/desk/admin/staff", url.Values{"username": {"intruso"}, "display_name": {"Intruso"}, "role": {"admin"}, "password": {"password-lunga-intruso"}}},
		{"/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}}},
		{fmt.Sprintf("/desk/admin/staff/%d/active", a.adminID), url.Values{"active": {"0"}}},
	}
	for _, p := range posts {
		rec := desk.post(p.path, p.form)
		if rec.Code != http.StatusForbidden {
			t.Errorf("reception POST %s: got %d, want 403", p.path, rec.Code)
		}
		if body := rec.Body.String(); !strings.Contains(body, "riservata agli amministratori") {
			t.Errorf("reception POST %s: 403 page lacks the Italian message", p.path)
		}
	}
	if got, want := authStaffCount(t, a), staffBefore; got != want {
		t.Errorf("staff count: got %d, want %d", got, want)
	}
	if got, want := authCount(t, a, `SELECT count(*) FROM facilities`), facilitiesBefore; got != want {
		t.Errorf("facility count: got %d, want %d", got, want)
	}
	if _, err := a.db.StaffByUsername(ctx, "intruso"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("StaffByUsername(intruso): got err %v, want ErrNotFound", err)
	}
	admin, err := a.db.StaffByID(ctx, a.adminID)
	if err != nil {
		t.Fatal(err)
	}
	if !admin.Active {
		t.Error("a receptionist disabled the admin")
	}

	ad := a.adminClient()
	for _, path := range []string{"/desk/admin/staff", "/desk/admin/facilities", "/desk/admin/audit", "/desk/admin/settings"} {
		if rec := ad.get(path); rec.Code != http.StatusOK {
			t.Errorf("admin GET %s: got %d, want 200", path, rec.Code)
		}
	}
}

func TestAuthLoginFailuresAndSuccess(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	const wrongPass = "password-sbagliata-123"
	const unknownUser = "Segreto-Digitato-Nel-Campo"

	var bodies []string
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", receptionUser, wrongPass},
		{"unknown user", unknownUser, wrongPass},
	} {
		c := a.client()
		rec := authLoginAttempt(c, tc.user, tc.pass)
		if got, want := rec.Code, http.StatusUnauthorized; got != want {
			t.Errorf("%s: status got %d, want %d", tc.name, got, want)
		}
		doc := parseHTML(t, rec.Body.String())
		msg := strings.TrimSpace(doc.Find("[role=alert]").Text())
		if got, want := msg, "Nome utente o password non corretti."; got != want {
			t.Errorf("%s: error text got %q, want %q", tc.name, got, want)
		}
		if _, ok := c.cookies[authCookieName]; ok && rec.Code == http.StatusSeeOther {
			t.Errorf("%s: logged in", tc.name)
		}
		bodies = append(bodies, msg)
	}
	if len(bodies) == 2 && bodies[0] != bodies[1] {
		t.Errorf("wrong password and unknown user show different errors: %q vs %q", bodies[0], bodies[1])
	}

	logins := a.auditActions(db.AuditFilter{Action: "staff.login"})
	if len(logins) != 2 {
		t.Fatalf("staff.login audit rows after two failures: got %d, want 2", len(logins))
	}
	if got, want := logins[0].Outcome, db.OutcomeFailed; got != want {
		t.Errorf("wrong-password audit outcome: got %q, want %q", got, want)
	}
	if got, want := logins[0].Actor.Name, receptionUser; got != want {
		t.Errorf("wrong-password audit actor: got %q, want %q", got, want)
	}
	if got, want := logins[1].Outcome, db.OutcomeFailed; got != want {
		t.Errorf("unknown-user audit outcome: got %q, want %q", got, want)
	}
	if got := logins[1].Actor.Name; got != "" {
		t.Errorf("unknown-user audit actor name: got %q, want empty", got)
	}
	if logins[1].Actor.ID != 0 {
		t.Errorf("unknown-user audit actor id: got %d, want 0", logins[1].Actor.ID)
	}
	if dump := authAuditDump(t, a); strings.Contains(strings.ToLower(dump), strings.ToLower(unknownUser)) {
		t.Errorf("typed unknown username written to the audit log:\n%s", dump)
	}

	c := a.client()
	c.login(receptionUser, receptionPass)
	logins = a.auditActions(db.AuditFilter{Action: "staff.login", Outcome: db.OutcomeOK})
	if len(logins) != 1 {
		t.Fatalf("staff.login ok rows: got %d, want 1", len(logins))
	}
	ev := logins[0]
	if ev.Actor.Name != receptionUser || ev.Actor.ID != a.deskID || ev.Actor.IP != "192.0.2.10" {
		t.Errorf("login ok actor: got %+v, want name %q id %d ip 192.0.2.10", ev.Actor, receptionUser, a.deskID)
	}
	st, err := a.db.StaffByID(ctx, a.deskID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.LastLoginAt, a.Now(); !got.Equal(want) {
		t.Errorf("last_login_at: got %v, want %v", got, want)
	}

	logs := a.logs.String()
	dump := authAuditDump(t, a)
	for _, secret := range []string{receptionPass, wrongPass, unknownUser} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
		if strings.Contains(dump, secret) {
			t.Errorf("audit_events contains %q", secret)
		}
	}
}

func TestAuthLockout(t *testing.T) {
	ctx := context.Background()

	t.Run("locked per username, survives restart, expires", func(t *testing.T) {
		a := newApp(t)
		c := a.client()
		for i := range 10 {
			if rec := authLoginAttempt(c, receptionUser, "password-sbagliata-123"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: got %d, want 401", i+1, rec.Code)
			}
		}
		rec := authLoginAttempt(c, receptionUser, receptionPass)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("correct password after 10 failures: got %d, want 429", rec.Code)
		}
		msg := parseHTML(t, rec.Body.String()).Find("[role=alert]").Text()
		if !strings.Contains(msg, "15 minuti") {
			t.Errorf("lockout message %q does not say 15 minutes", msg)
		}
		if _, ok := c.cookies[authCookieName]; ok {
			t.Error("locked-out attempt got a session cookie")
		}
		denied := a.auditActions(db.AuditFilter{Action: "staff.login", Outcome: db.OutcomeDenied})
		if len(denied) != 1 {
			t.Errorf("denied staff.login rows: got %d, want 1", len(denied))
		}

		other := a.client()
		other.ip = "198.51.100.7"
		if rec := authLoginAttempt(other, receptionUser, receptionPass); rec.Code != http.StatusTooManyRequests {
			t.Errorf("correct password from another IP while locked: got %d, want 429", rec.Code)
		}

		var lockedUntil sql.NullTime
		if err := a.raw.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`,
			"staff:"+receptionUser).Scan(&lockedUntil); err != nil {
			t.Fatalf("login_throttle row: %v", err)
		}
		if !lockedUntil.Valid || !lockedUntil.Time.After(a.Now()) {
			t.Errorf("locked_until: got %v, want after %v", lockedUntil, a.Now())
		}

		// A restart: a new handler stack on the same database.
		hasher, err := password.NewHasher(password.Params, 4)
		if err != nil {
			t.Fatal(err)
		}
		h2 := &handlers.Handler{DB: a.db, Keys: a.keys, Hasher: hasher, Now: a.Now,
			Log: slog.New(slog.NewTextHandler(a.logs, nil)), Config: a.h.Config}
		a2 := &app{t: t, e: handlers.New(h2), db: a.db, h: h2, keys: a.keys, logs: a.logs, now: a.Now()}
		if rec := authLoginAttempt(a2.client(), receptionUser, receptionPass); rec.Code != http.StatusTooManyRequests {
			t.Errorf("correct password after restart while locked: got %d, want 429", rec.Code)
		}

		a.advance(16 * time.Minute)
		a.client().login(receptionUser, receptionPass)
	})

	t.Run("username case does not split the count", func(t *testing.T) {
		a := newApp(t)
		c := a.client()
		for i := range 10 {
			user := receptionUser
			if i%2 == 1 {
				user = strings.ToUpper(receptionUser)
			}
			if rec := authLoginAttempt(c, user, "password-sbagliata-123"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d (%s): got %d, want 401", i+1, user, rec.Code)
			}
		}
		if rec := authLoginAttempt(c, receptionUser, receptionPass); rec.Code != http.StatusTooManyRequests {
			t.Errorf("correct password after 5+5 mixed-case failures: got %d, want 429", rec.Code)
		}
		if rec := authLoginAttempt(c, "SPORTELLO", receptionPass); rec.Code != http.StatusTooManyRequests {
			t.Errorf("upper-case username while locked: got %d, want 429", rec.Code)
		}
	})

	t.Run("success resets the count", func(t *testing.T) {
		a := newApp(t)
		c := a.client()
		for range 9 {
			authLoginAttempt(c, receptionUser, "password-sbagliata-123")
		}
		a.client().login(receptionUser, receptionPass)
		for range 9 {
			authLoginAttempt(c, receptionUser, "password-sbagliata-123")
		}
		a.client().login(receptionUser, receptionPass)
	})
}

func TestAuthLoginFloodPerIP(t *testing.T) {
	a := newApp(t)
	c := a.client()
	c.ip = "203.0.113.50"
	limited := 0
	for i := range 40 {
		// An empty password is rejected before hashing: only the limiter answers 429.
		rec := authLoginAttempt(c, fmt.Sprintf("utente%d", i), "")
		switch rec.Code {
		case http.StatusTooManyRequests:
			limited++
			if !strings.Contains(rec.Body.String(), "Troppe richieste") {
				t.Errorf("attempt %d: 429 without the limiter message", i+1)
			}
		case http.StatusUnprocessableEntity:
			if limited > 0 {
				t.Errorf("attempt %d: got 422 after the limiter kicked in", i+1)
			}
		default:
			t.Errorf("attempt %d: got %d, want 422 or 429", i+1, rec.Code)
		}
	}
	if limited == 0 {
		t.Fatal("40 login POSTs from one IP: got no 429, want some")
	}
	if limited > 10+2 {
		t.Errorf("429 answers: got %d, want about 10 (burst is 30)", limited)
	}

	other := a.client()
	other.ip = "203.0.113.51"
	if rec := authLoginAttempt(other, "utente", ""); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("another IP: got %d, want 422 (not limited)", rec.Code)
	}
	other.login(receptionUser, receptionPass)
}

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
		if err := (db.SessionStore{DB: a.db, Now: time.Now}).Commit(planted, data, exp); err != nil {
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

func TestAuthStaffDisable(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	desk := a.deskClient()
	token := authSessionToken(desk)
	if rec := desk.get("/desk"); rec.Code != http.StatusOK {
		t.Fatalf("desk GET /desk before disable: got %d, want 200", rec.Code)
	}
	admin := a.adminClient()

	rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.deskID), url.Values{"active": {"0"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: got %d, want 303", rec.Code)
	}
	if st, err := a.db.StaffByID(ctx, a.deskID); err != nil || st.Active {
		t.Fatalf("after disable: active %v err %v, want inactive", st.Active, err)
	}
	authWantRedirectToLogin(t, "disabled member GET /desk", desk.get("/desk"))
	if got := authCount(t, a, `SELECT count(*) FROM sessions WHERE token_hash = ?`, authTokenHash(token)); got != 0 {
		t.Errorf("disabled member's session rows: got %d, want 0", got)
	}
	if got := len(a.auditActions(db.AuditFilter{Action: "staff.disable"})); got != 1 {
		t.Errorf("staff.disable audit rows: got %d, want 1", got)
	}

	if rec := authLoginAttempt(a.client(), receptionUser, receptionPass); rec.Code != http.StatusUnauthorized {
		t.Errorf("disabled member login: got %d, want 401", rec.Code)
	}

	if rec := admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.deskID), url.Values{"active": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("enable: got %d, want 303", rec.Code)
	}
	again := a.client()
	again.login(receptionUser, receptionPass)
	if rec := again.get("/desk"); rec.Code != http.StatusOK {
		t.Errorf("re-enabled member GET /desk: got %d, want 200", rec.Code)
	}

	rec = admin.post(fmt.Sprintf("/desk/admin/staff/%d/active", a.adminID), url.Values{"active": {"0"}})
	if rec.Code != http.StatusConflict {
		t.Errorf("admin disables self: got %d, want 409", rec.Code)
	}
	if st, err := a.db.StaffByID(ctx, a.adminID); err != nil || !st.Active {
		t.Errorf("admin after self-disable attempt: active %v err %v, want active", st.Active, err)
	}
}

func TestAuthAdminCreatesStaff(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.adminClient()

	rec := admin.post("/desk/admin/staff", url.Values{"username": {"laboratorio"}, "display_name": {"Laura Bianchi"},
		"role": {db.RoleReception}, "password": {"password-laboratorio-1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk/admin/staff" {
		t.Fatalf("create staff: got %d Location %q, want 303 to /desk/admin/staff", rec.Code, rec.Header().Get("Location"))
	}
	st, err := a.db.StaffByUsername(ctx, "laboratorio")
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != db.RoleReception || st.DisplayName != "Laura Bianchi" || !st.Active {
		t.Errorf("new staff: got %+v", st)
	}
	if strings.Contains(st.PasswordHash, "password-laboratorio-1") || !strings.HasPrefix(st.PasswordHash, "$argon2id$") {
		t.Errorf("stored password is not an argon2id hash: %q", st.PasswordHash)
	}
	a.client().login("laboratorio", "password-laboratorio-1")

	var created *db.AuditEvent
	for _, e := range a.auditActions(db.AuditFilter{Action: "staff.create"}) {
		if e.ObjectID == st.ID {
			created = &e
		}
	}
	if created == nil {
		t.Fatal("no staff.create audit row for the new member")
	}
	if created.Actor.Name != adminUser || created.Actor.Kind != "staff" {
		t.Errorf("staff.create actor: got %+v, want staff %s", created.Actor, adminUser)
	}
	if strings.Contains(authAuditDump(t, a), "password-laboratorio-1") {
		t.Error("password written to the audit log")
	}

	for _, tc := range []struct {
		name      string
		form      url.Values
		status    int
		errorElem string
	}{
		{"duplicate", url.Values{"username": {receptionUser}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusConflict, "#e-username"},
		{"duplicate other case", url.Values{"username": {"SPORTELLO"}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusConflict, "#e-username"},
		{"short password", url.Values{"username": {"nuovo"}, "role": {db.RoleReception}, "password": {"corta12345"}}, http.StatusUnprocessableEntity, "#e-password"},
		{"11-char password", url.Values{"username": {"nuovo"}, "role": {db.RoleReception}, "password": {"12345678901"}}, http.StatusUnprocessableEntity, "#e-password"},
		{"space in username", url.Values{"username": {"a b"}, "role": {db.RoleReception}, "password": {"password-lunga-altra"}}, http.StatusUnprocessableEntity, "#e-username"},
		// The role <select> renders no field error (only reachable by a forged form): status only.
		{"bad role", url.Values{"username": {"nuovo"}, "role": {"root"}, "password": {"password-lunga-altra"}}, http.StatusUnprocessableEntity, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := authStaffCount(t, a)
			rec := admin.post("/desk/admin/staff", tc.form)
			if got, want := rec.Code, tc.status; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if tc.errorElem != "" {
				if msg := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find(tc.errorElem).Text()); msg == "" {
					t.Errorf("no error message in %s", tc.errorElem)
				}
			}
			if got, want := authStaffCount(t, a), before; got != want {
				t.Errorf("staff count: got %d, want %d", got, want)
			}
		})
	}
}

func TestAuthAdminFacilities(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.adminClient()

	rec := admin.post("/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}, "address": {"Via Milano 2, Brescia"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create facility: got %d, want 303\n%s", rec.Code, rec.Body.String())
	}
	list := admin.get("/desk/admin/facilities")
	if list.Code != http.StatusOK {
		t.Fatalf("facility list: got %d", list.Code)
	}
	var listed bool
	parseHTML(t, list.Body.String()).Find("tbody tr").Each(func(_ int, s *authSelection) {
		if strings.TrimSpace(s.Find("td").Eq(0).Text()) == "BS" && strings.TrimSpace(s.Find("td").Eq(1).Text()) == "Sede Brescia" {
			listed = true
		}
	})
	if !listed {
		t.Error("new facility BS not listed")
	}
	var bsID int64
	fs, err := a.db.Facilities(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Code == "BS" {
			bsID = f.ID
		}
	}
	if bsID == 0 {
		t.Fatal("facility BS not in the database")
	}
	if got := len(a.auditActions(db.AuditFilter{Action: "facility.create", Actor: adminUser})); got != 1 {
		t.Errorf("facility.create audit rows by admin: got %d, want 1", got)
	}

	for _, tc := range []struct {
		name   string
		code   string
		status int
	}{
		{"duplicate", "BS", http.StatusConflict},
		{"duplicate lower case", "bs", http.StatusConflict},
		{"too short", "x", http.StatusUnprocessableEntity},
		{"symbols", "B-S", http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := authCount(t, a, `SELECT count(*) FROM facilities`)
			rec := admin.post("/desk/admin/facilities", url.Values{"code": {tc.code}, "name": {"Altra sede"}})
			if got, want := rec.Code, tc.status; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if msg := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("#e-code").Text()); msg == "" {
				t.Error("no error message on #e-code")
			}
			if got, want := authCount(t, a, `SELECT count(*) FROM facilities`), before; got != want {
				t.Errorf("facility count: got %d, want %d", got, want)
			}
		})
	}

	options := func() map[string]bool {
		t.Helper()
		rec := admin.get("/desk/accept")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /desk/accept: got %d", rec.Code)
		}
		out := map[string]bool{}
		parseHTML(t, rec.Body.String()).Find("select[name=facility] option").Each(func(_ int, s *authSelection) {
			out[s.AttrOr("value", "")] = true
		})
		return out
	}
	bs, mn := fmt.Sprint(bsID), fmt.Sprint(a.facilityID)
	if opts := options(); !opts[bs] || !opts[mn] {
		t.Errorf("acceptance options before disabling: got %v, want %s and %s", opts, bs, mn)
	}
	if rec := admin.post(fmt.Sprintf("/desk/admin/facilities/%d/active", bsID), url.Values{"active": {"0"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable facility: got %d, want 303", rec.Code)
	}
	if opts := options(); opts[bs] || !opts[mn] {
		t.Errorf("acceptance options after disabling BS: got %v, want only %s", opts, mn)
	}
}

func TestAuthAuditPage(t *testing.T) {
	a := newApp(t)
	authLoginAttempt(a.client(), receptionUser, "password-sbagliata-123")
	authLoginAttempt(a.client(), "sconosciuto", "password-sbagliata-123")
	a.deskClient()
	admin := a.adminClient()
	if rec := admin.post("/desk/admin/facilities", url.Values{"code": {"BS"}, "name": {"Sede Brescia"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("create facility: got %d", rec.Code)
	}

	type row struct{ actor, action, outcome string }
	fetch := func(t *testing.T, query string) (int, []row, string) {
		t.Helper()
		rec := admin.get("/desk/admin/audit" + query)
		var rows []row
		doc := parseHTML(t, rec.Body.String())
		doc.Find("table tbody tr").Each(func(_ int, s *authSelection) {
			td := s.Find("td")
			rows = append(rows, row{strings.Join(strings.Fields(td.Eq(1).Text()), " "),
				strings.TrimSpace(td.Eq(3).Text()), strings.TrimSpace(td.Eq(5).Text())})
		})
		return rec.Code, rows, rec.Body.String()
	}

	t.Run("all", func(t *testing.T) {
		code, rows, _ := fetch(t, "")
		if code != http.StatusOK {
			t.Fatalf("status: got %d, want 200", code)
		}
		actions := map[string]bool{}
		for _, r := range rows {
			actions[r.action] = true
		}
		for _, want := range []string{"staff.login", "staff.create", "facility.create"} {
			if !actions[want] {
				t.Errorf("audit page lacks %s; got %v", want, actions)
			}
		}
	})

	for _, tc := range []struct {
		name, query string
		keep        func(row) bool
		want        int
	}{
		{"action", "?action=staff.login", func(r row) bool { return r.action == "staff.login" }, 4},
		{"outcome", "?outcome=failed", func(r row) bool { return r.outcome == "failed" }, 2},
		{"actor", "?actor=sportello", func(r row) bool { return strings.Contains(r.actor, "sportello") }, 2},
		{"date range", "?from=2026-03-10&to=2026-03-10", func(row) bool { return true }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, rows, _ := fetch(t, tc.query)
			if code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", code)
			}
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			for _, r := range rows {
				if !tc.keep(r) {
					t.Errorf("row %+v does not match %s", r, tc.query)
				}
			}
			if tc.want >= 0 && len(rows) != tc.want {
				t.Errorf("rows: got %d, want %d", len(rows), tc.want)
			}
		})
	}

	t.Run("out of range", func(t *testing.T) {
		code, rows, body := fetch(t, "?from=2025-01-01&to=2025-01-31")
		if code != http.StatusOK {
			t.Errorf("status: got %d, want 200", code)
		}
		if len(rows) != 0 || !strings.Contains(body, "Nessun evento") {
			t.Errorf("got %d rows, want none and \"Nessun evento\"", len(rows))
		}
	})

	t.Run("bad date", func(t *testing.T) {
		code, rows, body := fetch(t, "?from=31-12-2026")
		if code != http.StatusUnprocessableEntity {
			t.Errorf("status: got %d, want 422", code)
		}
		if msg := strings.TrimSpace(parseHTML(t, body).Find("#e-from").Text()); msg == "" {
			t.Error("no error message on #e-from")
		}
		if len(rows) != 0 {
			t.Errorf("rows with an invalid filter: got %d, want 0", len(rows))
		}
	})
}

func TestAuthSettingsPage(t *testing.T) {
	const warning = "I referti restano online 60 giorni: le linee guida del Garante indicano un massimo di 45 giorni."
	a := newAppWith(t, func(cfg *handlers.Config) {
		cfg.RetentionDays = 60
		cfg.Settings = []views.Setting{{Name: "Permanenza online dei referti", Value: "60 giorni", Note: "--retention-days"}}
		cfg.Warnings = []string{warning}
	})
	rec := a.adminClient().get("/desk/admin/settings")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	var retention string
	doc.Find("tr").Each(func(_ int, s *authSelection) {
		if strings.TrimSpace(s.Find("th").Text()) == "Permanenza online dei referti" {
			retention = strings.TrimSpace(s.Find("td").First().Text())
		}
	})
	if got, want := retention, "60 giorni"; got != want {
		t.Errorf("retention setting: got %q, want %q", got, want)
	}
	if got := strings.TrimSpace(doc.Find(".warn[role=alert]").Text()); got != warning {
		t.Errorf("warning: got %q, want %q", got, warning)
	}

	plain := newApp(t)
	rec = plain.adminClient().get("/desk/admin/settings")
	if n := parseHTML(t, rec.Body.String()).Find(".warn").Length(); n != 0 {
		t.Errorf("warnings with none configured: got %d, want 0", n)
	}
}

var authNoncePattern = regexp.MustCompile(`'nonce-([^']+)'`)

func TestAuthSecurityHeaders(t *testing.T) {
	a := newApp(t)
	c := a.client()
	var nonces []string
	for range 2 {
		rec := c.get("/desk/login")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /desk/login: got %d", rec.Code)
		}
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		m := authNoncePattern.FindStringSubmatch(csp)
		if m == nil {
			t.Fatalf("CSP %q has no nonce", csp)
		}
		scriptNonce := parseHTML(t, rec.Body.String()).Find("script").AttrOr("nonce", "")
		if scriptNonce != m[1] {
			t.Errorf("script nonce %q does not match CSP nonce %q", scriptNonce, m[1])
		}
		nonces = append(nonces, m[1])
		if got, want := h.Get("X-Content-Type-Options"), "nosniff"; got != want {
			t.Errorf("X-Content-Type-Options: got %q, want %q", got, want)
		}
		if got := h.Get("Referrer-Policy"); got == "" {
			t.Error("no Referrer-Policy")
		}
		if got := h.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("HSTS with https BaseURL: got %q, want max-age", got)
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("nonce reused across requests: %q", nonces[0])
	}

	desk := a.deskClient()
	for _, path := range []string{"/desk", "/desk/accept"} {
		rec := desk.get(path)
		if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("GET %s Cache-Control: got %q, want no-store", path, got)
		}
	}
	admin := a.adminClient()
	if got := admin.get("/desk/admin/audit").Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("admin audit Cache-Control: got %q, want no-store", got)
	}

	local := newAppWith(t, func(cfg *handlers.Config) { cfg.BaseURL = "http://localhost:8080" })
	if got := local.client().get("/desk/login").Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS with http BaseURL: got %q, want none", got)
	}
}

func TestAuthCrossOriginPost(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visits := func() int { return authCount(t, a, `SELECT count(*) FROM visits`) }
	before := visits()

	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site cross-site with Origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"Origin only", map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := authDo(c, http.MethodPost, "/desk/accept", a.acceptForm(), tc.headers)
			if rec.Code != http.StatusForbidden {
				t.Errorf("status: got %d, want 403", rec.Code)
			}
			if got := visits(); got != before {
				t.Errorf("visits: got %d, want %d", got, before)
			}
		})
	}

	// Control: the same helper with a same-origin request works.
	form := a.acceptForm()
	form.Set("form_token", "same-origin-control")
	rec := authDo(c, http.MethodPost, "/desk/accept", form, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("same-origin control: got %d, want 303", rec.Code)
	}
	if got, want := visits(), before+1; got != want {
		t.Errorf("visits after same-origin accept: got %d, want %d", got, want)
	}
}

func TestAuthHealthAndNotFound(t *testing.T) {
	a := newApp(t)
	c := a.client()
	rec := c.get("/healthz")
	if rec.Code != http.StatusOK {
		t.Fatalf("/healthz: got %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("/healthz Content-Type: got %q", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("/healthz body %q: %v", rec.Body.String(), err)
	}
	if got, want := body["status"], "ok"; got != want || len(body) != 1 {
		t.Errorf("/healthz: got %v, want {status: ok}", body)
	}

	desk := a.deskClient()
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"anonymous", c, "/non-esiste"},
		{"logged in", desk, "/desk/non-esiste"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.c.get(tc.path)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("GET %s: got %d, want 404", tc.path, rec.Code)
			}
			page := rec.Body.String()
			doc := parseHTML(t, page)
			if got, want := strings.TrimSpace(doc.Find("h1").Text()), "Pagina non trovata."; got != want {
				t.Errorf("404 heading: got %q, want %q", got, want)
			}
			if lang := doc.Find("html").AttrOr("lang", ""); lang != "it" {
				t.Errorf("404 page lang: got %q, want it", lang)
			}
			for _, leak := range []string{"Not Found", "goroutine", ".go:", "code=", "message=", "echo"} {
				if strings.Contains(page, leak) {
					t.Errorf("404 page contains %q", leak)
				}
			}
		})
	}
}

func TestAuthPasswordRehash(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	const pw = "password-vecchio-hash"
	weak, err := argon2id.CreateHash(pw, &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.db.CreateStaff(ctx, db.Staff{Username: "vecchio", Role: db.RoleReception, PasswordHash: weak},
		db.Actor{Kind: "cli", Name: "test"}, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.client().login("vecchio", pw)
	st, err := a.db.StaffByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.PasswordHash, "m=19456,t=2,p=1") {
		t.Errorf("hash after login: got %q, want current params m=19456,t=2,p=1", st.PasswordHash)
	}
	if st.PasswordHash == weak {
		t.Error("hash not replaced")
	}
	// The new hash still verifies the same password.
	a.client().login("vecchio", pw)
	if rec := authLoginAttempt(a.client(), "vecchio", "password-sbagliata-123"); rec.Code != http.StatusUnauthorized {
		t.Errorf("wrong password after rehash: got %d, want 401", rec.Code)
	}
}
