package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
)

// Tests of activating a dossier with the slip's code: accepted typings,
// refusals, and the lockout after failures.

// pdLinks counts the dossier links of the account with the E.164 mobile.
func pdLinks(t testing.TB, a *app, mobile string) int {
	t.Helper()
	return authCount(t, a, `SELECT count(*) FROM dossier_links l JOIN accounts a ON a.id = l.account_id WHERE a.mobile = ?`, mobile)
}

// pdActivations returns the "dossier.activate" audit rows, oldest first.
func pdActivations(a *app) []db.AuditEvent {
	return withAction(a.auditActions(db.AuditFilter{Action: "dossier.activate"}), "dossier.activate")
}

func pdOutcomes(ev []db.AuditEvent) []string {
	out := []string{}
	for _, e := range ev {
		out = append(out, e.Outcome)
	}
	return out
}

// pdSetup accepts Rossi at the desk with deskMobile ("" for the form's own),
// registers his account and returns desk, patient client, visit and code.
func pdSetup(t *testing.T, deskMobile string) (*app, *client, *client, int64, string) {
	t.Helper()
	a := newApp(t)
	desk := a.deskClient()
	form := a.acceptForm()
	if deskMobile != "" {
		form.Set("mobile", deskMobile)
	}
	visitID, code := desk.accept(form)
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	return a, desk, c, visitID, code
}

func TestPDActivationRules(t *testing.T) {
	otherCF := pdCF(t, "Verdi", "Giuseppe", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "M", "H501")
	const generic = "Codice fiscale o codice di attivazione non validi"
	type attempt func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder
	ok := func(cf func(string) string, typed func(string) string) attempt {
		return func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
			return c.activate(cf(rossiCF), typed(code))
		}
	}
	same := func(s string) string { return s }
	tests := []struct {
		name        string
		deskMobile  string
		attempt     attempt
		wantStatus  []int
		wantLoc     string
		wantErrID   string // id of the field error shown, "" for none
		wantMsg     string
		wantLinks   int
		wantAudit   []string // outcomes of the dossier.activate rows the attempt wrote
		noAuditTest bool
	}{
		{name: "code with spaces instead of dashes", attempt: ok(same, func(s string) string { return strings.ReplaceAll(s, "-", " ") }),
			wantStatus: []int{303}, wantLoc: "/fascicolo", wantLinks: 1, wantAudit: []string{"ok"}},
		{name: "code lowercase with dashes, codice fiscale lowercase", attempt: ok(strings.ToLower, strings.ToLower),
			wantStatus: []int{303}, wantLoc: "/fascicolo", wantLinks: 1, wantAudit: []string{"ok"}},
		{name: "code without dashes, padded", attempt: ok(same, func(s string) string { return "  " + strings.ReplaceAll(s, "-", "") + " " }),
			wantStatus: []int{303}, wantLoc: "/fascicolo", wantLinks: 1, wantAudit: []string{"ok"}},
		{name: "code lowercase in groups of four with spaces, codice fiscale in groups",
			attempt:    ok(func(string) string { return "rss mra 85t10 a562s" }, func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", " ")) }),
			wantStatus: []int{303}, wantLoc: "/fascicolo", wantLinks: 1, wantAudit: []string{"ok"}},
		{name: "consent missing",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				return c.post("/attiva", url.Values{"fiscal_code": {rossiCF}, "code": {code}})
			},
			wantStatus: []int{422}, wantErrID: "e-consent", wantAudit: []string{}},
		{name: "malformed codice fiscale (check character)", attempt: ok(func(string) string { return "RSSMRA85T10A562X" }, same),
			wantStatus: []int{422}, wantErrID: "e-fiscal_code", wantAudit: []string{}},
		{name: "malformed codice fiscale (too short)", attempt: ok(func(string) string { return "RSSMRA85T10" }, same),
			wantStatus: []int{422}, wantErrID: "e-fiscal_code", wantAudit: []string{}},
		{name: "code one character short", attempt: ok(same, func(s string) string { return s[:len(s)-1] }),
			wantStatus: []int{422}, wantErrID: "e-code", wantAudit: []string{}},
		{name: "code one character long", attempt: ok(same, func(s string) string { return s + "A" }),
			wantStatus: []int{422}, wantErrID: "e-code", wantAudit: []string{}},
		{name: "valid code with another valid codice fiscale", attempt: ok(func(string) string { return otherCF }, same),
			wantStatus: []int{422}, wantErrID: "e-code", wantMsg: generic, wantAudit: []string{"failed"}},
		{name: "code replaced by a reprint",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				rec := desk.post(fmt.Sprintf("/desk/visits/%d/reprint", visitID), nil)
				if rec.Code != http.StatusSeeOther {
					t.Fatalf("reprint: %d", rec.Code)
				}
				rec = desk.follow(rec)
				newCode := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("[data-testid=activation-code]").Text())
				if !codePattern.MatchString(newCode) || newCode == code {
					t.Fatalf("reprint slip code %q (old %q)", newCode, code)
				}
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{422}, wantErrID: "e-code", wantMsg: generic, wantAudit: []string{"failed"}},
		{name: "code expired (90 days, nothing published)",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				a.advance(db.ActivationCodeLifetime + time.Minute)
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{422}, wantErrID: "e-code", wantMsg: generic, wantAudit: []string{"failed"}},
		{name: "code already used",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				pdActivate(t, c, rossiCF, code)
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{422}, wantErrID: "e-code", wantLinks: 1, wantAudit: []string{"ok", "failed"}},
		{name: "another unused code of an already active dossier",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				pdActivate(t, c, rossiCF, code)
				_, code2 := desk.accept(a.acceptForm())
				return c.activate(rossiCF, code2)
			},
			wantStatus: []int{409}, wantMsg: "già attivo", wantLinks: 1, noAuditTest: true},
		{name: "desk registered another mobile", deskMobile: "347 000 1111", attempt: ok(same, same),
			wantStatus: []int{422}, wantMsg: "sportello", wantAudit: []string{"failed"}},
		{name: "desk corrects the mobile, then the same code works", deskMobile: "347 000 1111",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				if rec := c.activate(rossiCF, code); rec.Code != http.StatusUnprocessableEntity {
					t.Fatalf("with the wrong mobile: %d, want 422", rec.Code)
				}
				desk.accept(a.acceptForm()) // a new acceptance with Rossi's real mobile
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{303}, wantLoc: "/fascicolo", wantLinks: 1, wantAudit: []string{"failed", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, desk, c, visitID, code := pdSetup(t, tt.deskMobile)
			before := len(pdActivations(a))
			rec := tt.attempt(t, a, desk, c, visitID, code)

			if got := rec.Code; !slices.Contains(tt.wantStatus, got) {
				t.Fatalf("status = %d, want one of %v\n%s", got, tt.wantStatus, rec.Body.String())
			}
			if got, want := rec.Header().Get("Location"), tt.wantLoc; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			if rec.Code != http.StatusSeeOther {
				doc := parseHTML(t, rec.Body.String())
				for _, id := range []string{"e-consent", "e-fiscal_code", "e-code"} {
					n := doc.Find("#" + id).Length()
					if got, want := n == 1, id == tt.wantErrID; got != want {
						t.Errorf("field error #%s shown = %v, want %v", id, got, want)
					}
					if id == tt.wantErrID && strings.TrimSpace(doc.Find("#"+id).Text()) == "" {
						t.Errorf("field error #%s is empty", id)
					}
				}
				if tt.wantMsg != "" && !strings.Contains(rec.Body.String(), tt.wantMsg) {
					t.Errorf("page does not say %q:\n%s", tt.wantMsg, doc.Find("main").Text())
				}
			}
			if got, want := pdLinks(t, a, rossiMobile), tt.wantLinks; got != want {
				t.Errorf("dossier links = %d, want %d", got, want)
			}
			if !tt.noAuditTest {
				ev := pdActivations(a)[before:]
				if got, want := pdOutcomes(ev), tt.wantAudit; !slices.Equal(got, want) {
					t.Errorf("dossier.activate audit outcomes = %v, want %v", got, want)
				}
				accountID := accountIDOf(t, a, rossiMobile)
				for _, e := range ev {
					if e.Actor.Kind != "patient" || e.Actor.ID != accountID {
						t.Errorf("audit actor = %+v, want patient #%d", e.Actor, accountID)
					}
				}
			}
			pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF)...)
		})
	}
}

func TestPDActivationLockout(t *testing.T) {
	otherCF := pdCF(t, "Verdi", "Giuseppe", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "M", "H501")
	tests := []struct {
		name string
		// fromOther makes the failures from another account (Bianchi's).
		fromOther bool
		// failCF is the codice fiscale of the failed attempts ("" = Rossi's).
		failCF     string
		failures   int
		wantStatus int
	}{
		{name: "5 failures of the account lock it even with the right code", failCF: otherCF, failures: 5, wantStatus: http.StatusTooManyRequests},
		{name: "4 failures of the account do not lock it", failCF: otherCF, failures: 4, wantStatus: http.StatusSeeOther},
		{name: "5 failures for a codice fiscale from another account lock that codice fiscale", fromOther: true, failures: 5,
			wantStatus: http.StatusTooManyRequests},
		{name: "4 failures for a codice fiscale from another account do not lock it", fromOther: true, failures: 4,
			wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, rossi, _, code := pdSetup(t, "")
			attacker := rossi
			if tt.fromOther {
				attacker = a.register("Laura", "Bianchi", pdBianchiTyped, "laura@example.it")
			}
			failCF := tt.failCF
			if failCF == "" {
				failCF = rossiCF
			}
			// However the codice fiscale is typed, the failures count for it.
			typings := []string{failCF, strings.ToLower(failCF), failCF[:3] + " " + failCF[3:6] + " " + failCF[6:], strings.ToLower(failCF[:8] + "-" + failCF[8:])}
			for i := range tt.failures {
				wrong := code
				if failCF == rossiCF {
					wrong = actcode.New()
				}
				if rec := attacker.activate(typings[i%len(typings)], wrong); rec.Code != http.StatusUnprocessableEntity {
					t.Fatalf("failure %d: status %d, want 422", i+1, rec.Code)
				}
			}
			failedRows := len(withAction(a.auditActions(db.AuditFilter{Action: "dossier.activate", Outcome: db.OutcomeFailed}), "dossier.activate"))
			if got, want := failedRows, tt.failures; got != want {
				t.Errorf("failed audit rows = %d, want %d", got, want)
			}

			rec := rossi.activate(rossiCF, code)
			if got, want := rec.Code, tt.wantStatus; got != want {
				t.Fatalf("right code after %d failures: status %d, want %d\n%s", tt.failures, got, want, rec.Body.String())
			}
			if tt.wantStatus != http.StatusTooManyRequests {
				if got, want := pdLinks(t, a, rossiMobile), 1; got != want {
					t.Errorf("links = %d, want %d", got, want)
				}
				return
			}
			if body := rec.Body.String(); !strings.Contains(body, "Troppi tentativi") || !strings.Contains(body, "15 minuti") {
				t.Errorf("429 page does not explain the lock:\n%s", parseHTML(t, body).Find("main").Text())
			}
			if got, want := pdLinks(t, a, rossiMobile), 0; got != want {
				t.Errorf("links while locked = %d, want %d", got, want)
			}
			denied := withAction(a.auditActions(db.AuditFilter{Action: "dossier.activate", Outcome: db.OutcomeDenied}), "dossier.activate")
			if len(denied) != 1 || denied[0].Actor.ID != accountIDOf(t, a, rossiMobile) || denied[0].Actor.Kind != "patient" {
				t.Errorf("denied audit rows = %+v, want one for Rossi's account", denied)
			}

			a.advance(14 * time.Minute)
			if got, want := rossi.activate(rossiCF, code).Code, http.StatusTooManyRequests; got != want {
				t.Errorf("after 14 minutes: status %d, want %d", got, want)
			}
			a.advance(time.Minute)
			pdActivate(t, rossi, rossiCF, code)
			if got, want := pdLinks(t, a, rossiMobile), 1; got != want {
				t.Errorf("links after the lock = %d, want %d", got, want)
			}
			pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF, otherCF)...)
		})
	}
}

// TestLockedAccountCannotLockAFiscalCode: an account already locked out of
// activation cannot go on counting failures against a codice fiscale and
// so lock its real owner out.
func TestLockedAccountCannotLockAFiscalCode(t *testing.T) {
	a := newApp(t)
	_, code := a.deskClient().accept(a.acceptForm())
	attacker := a.register("Eva", "Neri", "347 111 2222", "")
	otherCF, _ := codicefiscale.Generate("Neri", "Eva", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), "F", "F205")
	for range 5 { // lock the attacker's account with its own mistakes
		attacker.activate(otherCF, "ABCD-EFGH-JKMN")
	}
	for range 10 { // then keep hammering the victim's codice fiscale
		if rec := attacker.activate(rossiCF, "ABCD-EFGH-JKMN"); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("locked account: %d, want 429", rec.Code)
		}
	}
	victim := a.register("Mario", "Rossi", "333 1234567", "")
	if rec := victim.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner's activation after the attack: %d, want 303", rec.Code)
	}
}
