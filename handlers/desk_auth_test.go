package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"fse/db"
	"fse/handlers"
	"fse/internal/password"
)

// Tests of the staff login: who may reach the desk, failed and successful
// logins, the lockout, the per-IP limit and password rehashing.

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
		hasher, err := password.NewHasher(testHashParams, 4)
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
	a.enrolStaffApp(id, "vecchio")
	a.client().login("vecchio", pw)
	st, err := a.db.StaffByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.PasswordHash, "m=1024,t=1,p=1") {
		t.Errorf("hash after login: got %q, want the hasher's params m=1024,t=1,p=1", st.PasswordHash)
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
