package handlers_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-smtp"

	"fse/db"
	"fse/internal/actcode"
	"fse/internal/codicefiscale"
	"fse/internal/notify"
	"fse/jobs"
)

// Rossi's mobile as he types it when registering (the desk wrote "333 123 4567").
const pdRossiTyped = "333 1234567"

// Laura Bianchi: another patient, with her own mobile.
const (
	pdBianchiTyped = "347 000 1111"
	pdBianchiE164  = "+393470001111"
	pdPortalLink   = "https://referti.example.it/accedi"
)

// pdCF generates a valid codice fiscale for a fictional person.
func pdCF(t testing.TB, surname, name string, birth time.Time, sex, belfiore string) string {
	t.Helper()
	cf, err := codicefiscale.Generate(surname, name, birth, sex, belfiore)
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// pdBianchiCF is Laura Bianchi's codice fiscale (born 20/05/1990 in Milano).
func pdBianchiCF(t testing.TB) string {
	return pdCF(t, "Bianchi", "Laura", time.Date(1990, 5, 20, 0, 0, 0, 0, time.UTC), "F", "F205")
}

// pdBianchiForm is a valid acceptance of Laura Bianchi at the test facility.
func pdBianchiForm(t testing.TB, a *app) url.Values {
	t.Helper()
	f := a.acceptForm()
	f.Set("fiscal_code", pdBianchiCF(t))
	f.Set("first_name", "Laura")
	f.Set("last_name", "Bianchi")
	f.Set("birth_date", "1990-05-20")
	f.Set("birth_place", "Milano")
	f.Set("sex", "F")
	f.Set("mobile", pdBianchiTyped)
	f.Set("email", "laura.bianchi@example.it")
	f.Set("exams", "Ecografia addome")
	return f
}

// pdCount runs a count query on the read pool.
func pdCount(t testing.TB, a *app, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.raw.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// pdAccountID returns the id of the account with the E.164 mobile.
func pdAccountID(t testing.TB, a *app, mobile string) int64 {
	t.Helper()
	var id int64
	if err := a.raw.QueryRowContext(context.Background(), `SELECT id FROM accounts WHERE mobile = ?`, mobile).Scan(&id); err != nil {
		t.Fatalf("account %s: %v", mobile, err)
	}
	return id
}

// pdLinks counts the dossier links of the account with the E.164 mobile.
func pdLinks(t testing.TB, a *app, mobile string) int {
	t.Helper()
	return pdCount(t, a, `SELECT count(*) FROM dossier_links l JOIN accounts a ON a.id = l.account_id WHERE a.mobile = ?`, mobile)
}

// pdUploadPublish uploads one report to the visit, publishes it and returns
// the new document's id and bytes.
func pdUploadPublish(t testing.TB, desk *client, visitID int64, title string) (int64, []byte) {
	t.Helper()
	id, pdf := pdUpload(t, desk, visitID, title)
	if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish visit %d: %d", visitID, rec.Code)
	}
	return id, pdf
}

// pdUpload uploads one report without publishing it and returns its id.
func pdUpload(t testing.TB, desk *client, visitID int64, title string) (int64, []byte) {
	t.Helper()
	pdf := samplePDF(t, title)
	if rec := desk.upload(visitID, file{title, "x.pdf", pdf}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload to visit %d: %d", visitID, rec.Code)
	}
	return pdLastDoc(t, desk.a, visitID), pdf
}

// pdLastDoc is the id of the visit's newest document.
func pdLastDoc(t testing.TB, a *app, visitID int64) int64 {
	t.Helper()
	docs, err := a.db.VisitDocuments(context.Background(), visitID)
	if err != nil || len(docs) == 0 {
		t.Fatalf("documents of visit %d: %v, %d", visitID, err, len(docs))
	}
	return docs[len(docs)-1].ID
}

// pdActivate activates and fails the test unless it succeeds.
func pdActivate(t testing.TB, c *client, cf, code string) {
	t.Helper()
	rec := c.activate(cf, code)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/fascicolo" {
		t.Fatalf("activate: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

// pdActivations returns the "dossier.activate" audit rows, oldest first.
func pdActivations(a *app) []db.AuditEvent {
	return pdExactAction(a.auditActions(db.AuditFilter{Action: "dossier.activate"}), "dossier.activate")
}

// pdExactAction keeps the events of exactly action (the filter is a prefix match).
func pdExactAction(ev []db.AuditEvent, action string) []db.AuditEvent {
	var out []db.AuditEvent
	for _, e := range ev {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func pdOutcomes(ev []db.AuditEvent) []string {
	out := []string{}
	for _, e := range ev {
		out = append(out, e.Outcome)
	}
	return out
}

// pdReport is a report as listed on the dossier page.
type pdReport struct {
	id    int64
	title string
	text  string
}

// pdDossier fetches /fascicolo and returns the page and its listed reports.
func pdDossier(t testing.TB, c *client) (*goquery.Document, []pdReport) {
	t.Helper()
	rec := c.get("/fascicolo")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /fascicolo: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	doc := parseHTML(t, rec.Body.String())
	var out []pdReport
	doc.Find("li.report").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Find("a[download]").Attr("href")
		id, _ := strconv.ParseInt(strings.TrimPrefix(href, "/fascicolo/referti/"), 10, 64)
		out = append(out, pdReport{id: id, title: strings.TrimSpace(s.Find(".report-title").Text()),
			text: strings.Join(strings.Fields(s.Text()), " ")})
	})
	return doc, out
}

func pdTitles(rs []pdReport) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.title)
	}
	return out
}

// pdDate is a date as the patient pages print it.
func pdDate(t time.Time) string { return t.In(db.Rome).Format("02/01/2006") }

// pdAssertLogsClean fails if the application log holds any of secrets
// (compared case-insensitively).
func pdAssertLogsClean(t testing.TB, a *app, secrets ...string) {
	t.Helper()
	logs := strings.ToLower(a.logs.String())
	if !strings.Contains(logs, "request") {
		t.Fatalf("application log is empty or not wired: %q", logs)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, strings.ToLower(s)) {
			t.Errorf("application log contains secret %q", s)
		}
	}
}

// pdCodeForms are the ways an activation code may end up in a log.
func pdCodeForms(code string) []string {
	return []string{code, actcode.Normalize(code), strings.ReplaceAll(code, "-", " ")}
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
			wantStatus: []int{422}, wantMsg: generic, wantAudit: []string{"failed"}},
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
			wantStatus: []int{422}, wantMsg: generic, wantAudit: []string{"failed"}},
		{name: "code expired (90 days, nothing published)",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				a.advance(db.ActivationCodeLifetime + time.Minute)
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{422}, wantMsg: generic, wantAudit: []string{"failed"}},
		{name: "code already used",
			attempt: func(t *testing.T, a *app, desk, c *client, visitID int64, code string) *httptest.ResponseRecorder {
				pdActivate(t, c, rossiCF, code)
				return c.activate(rossiCF, code)
			},
			wantStatus: []int{409, 422}, wantLinks: 1, wantAudit: []string{"ok", "failed"}},
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
				accountID := pdAccountID(t, a, rossiMobile)
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
			failedRows := len(pdExactAction(a.auditActions(db.AuditFilter{Action: "dossier.activate", Outcome: db.OutcomeFailed}), "dossier.activate"))
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
			denied := pdExactAction(a.auditActions(db.AuditFilter{Action: "dossier.activate", Outcome: db.OutcomeDenied}), "dossier.activate")
			if len(denied) != 1 || denied[0].Actor.ID != pdAccountID(t, a, rossiMobile) || denied[0].Actor.Kind != "patient" {
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

func TestPDDossierListing(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")

	rec := c.get("/fascicolo")
	if got, want := rec.Code, http.StatusSeeOther; got != want {
		t.Fatalf("GET /fascicolo before activation: %d, want %d", got, want)
	}
	if got, want := rec.Header().Get("Location"), "/attiva"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	// Published before activation, for Rossi and for Bianchi.
	published1 := a.Now()
	visit1, code, _ := a.publishedVisit()
	bVisit1, _ := desk.accept(pdBianchiForm(t, a))
	pdUploadPublish(t, desk, bVisit1, "Ecografia addome")

	pdActivate(t, c, rossiCF, code)
	page, reports := pdDossier(t, c)
	if got, want := pdTitles(reports), []string{"Esami del sangue"}; !slices.Equal(got, want) {
		t.Fatalf("reports = %v, want %v", got, want)
	}
	exp1 := published1.Add(60 * 24 * time.Hour)
	for _, want := range []string{"Poliambulatorio Test", "pubblicato il " + pdDate(published1), "Disponibile fino al " + pdDate(exp1), "ancora 60 giorni"} {
		if !strings.Contains(reports[0].text, want) {
			t.Errorf("report %q does not show %q", reports[0].text, want)
		}
	}
	if page.Find("p.empty").Length() != 0 {
		t.Error("dossier with a report shows the empty state")
	}
	if doc1 := pdLastDoc(t, a, visit1); reports[0].id != doc1 {
		t.Errorf("download link of report = %d, want %d", reports[0].id, doc1)
	}

	// A new visit of Rossi, accepted but not reported: in preparation.
	a.advance(24 * time.Hour)
	accepted2 := a.Now()
	visit2, _ := desk.accept(a.acceptForm())
	bVisit2, _ := desk.accept(pdBianchiForm(t, a))
	page, _ = pdDossier(t, c)
	var pending []string
	page.Find("li").Each(func(_ int, s *goquery.Selection) {
		if s.Find(".tag").Text() == "in preparazione" {
			pending = append(pending, strings.Join(strings.Fields(s.Text()), " "))
		}
	})
	wantPending := "Prestazione del " + pdDate(accepted2) + " presso Poliambulatorio Test: in preparazione"
	if !slices.Equal(pending, []string{wantPending}) {
		t.Errorf("pending visits = %q, want [%q]", pending, wantPending)
	}

	// Reports published after activation appear too; Bianchi's never do.
	a.advance(9 * 24 * time.Hour) // 10 days after the first publication
	published2 := a.Now()
	pdUploadPublish(t, desk, visit2, "Radiografia torace")
	pdUploadPublish(t, desk, bVisit2, "Visita cardiologica")
	page, reports = pdDossier(t, c)
	if got, want := pdTitles(reports), []string{"Radiografia torace", "Esami del sangue"}; !slices.Equal(got, want) {
		t.Fatalf("reports = %v, want %v", got, want)
	}
	for i, want := range [][]string{
		{"Poliambulatorio Test", "pubblicato il " + pdDate(published2), "Disponibile fino al " + pdDate(published2.Add(60*24*time.Hour)), "ancora 60 giorni"},
		{"Poliambulatorio Test", "pubblicato il " + pdDate(published1), "Disponibile fino al " + pdDate(exp1), "ancora 50 giorni"},
	} {
		for _, w := range want {
			if !strings.Contains(reports[i].text, w) {
				t.Errorf("report %q does not show %q", reports[i].text, w)
			}
		}
	}
	if page.Find("li .tag:contains('in preparazione')").Length() != 0 {
		t.Error("a published visit is still shown in preparation")
	}
	body := page.Text()
	for _, other := range []string{"Ecografia addome", "Visita cardiologica", "Bianchi", "Laura"} {
		if strings.Contains(body, other) {
			t.Errorf("Rossi's dossier shows %q of another patient", other)
		}
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF)...)
}

func TestPDDossierEmptyState(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	// The desk withdraws the only report: the dossier is active and empty.
	docID := pdLastDoc(t, a, visitID)
	if rec := desk.post(fmt.Sprintf("/desk/documents/%d/withdraw", docID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", rec.Code)
	}
	page, reports := pdDossier(t, c)
	if len(reports) != 0 {
		t.Fatalf("reports = %v, want none", pdTitles(reports))
	}
	empty := strings.Join(strings.Fields(page.Find("p.empty").Text()), " ")
	for _, want := range []string{"vuoto finché nessun documento è pronto", "Ti avviseremo via SMS"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty state %q does not say %q", empty, want)
		}
	}
}

func TestPDDownload(t *testing.T) {
	a := newApp(t)
	visitID, code, pdf := a.publishedVisit()
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	docID := pdLastDoc(t, a, visitID)
	accountID := pdAccountID(t, a, rossiMobile)
	firstDownload := func() sql.NullTime {
		t.Helper()
		var at sql.NullTime
		if err := a.raw.QueryRow(`SELECT first_downloaded_at FROM documents WHERE id = ?`, docID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	if firstDownload().Valid {
		t.Fatal("first_downloaded_at set before any download")
	}

	a.advance(2 * time.Hour)
	firstAt := a.Now()
	tests := []struct {
		path            string
		wantDisposition string
	}{
		{fmt.Sprintf("/fascicolo/referti/%d", docID), fmt.Sprintf(`attachment; filename="referto-%d.pdf"`, docID)},
		{fmt.Sprintf("/fascicolo/referti/%d/apri", docID), fmt.Sprintf(`inline; filename="referto-%d.pdf"`, docID)},
		{fmt.Sprintf("/fascicolo/referti/%d", docID), fmt.Sprintf(`attachment; filename="referto-%d.pdf"`, docID)},
	}
	for i, tt := range tests {
		rec := c.get(tt.path)
		if got, want := rec.Code, http.StatusOK; got != want {
			t.Fatalf("GET %s: %d, want %d", tt.path, got, want)
		}
		if got := rec.Body.Bytes(); !bytes.Equal(got, pdf) {
			t.Errorf("GET %s: %d bytes differ from the %d uploaded", tt.path, len(got), len(pdf))
		}
		hd := rec.Header()
		for _, h := range []struct{ name, want string }{
			{"Content-Type", "application/pdf"},
			{"Content-Disposition", tt.wantDisposition},
			{"Cache-Control", "no-store"},
			{"X-Content-Type-Options", "nosniff"},
			{"Content-Length", strconv.Itoa(len(pdf))},
		} {
			if got := hd.Get(h.name); got != h.want {
				t.Errorf("GET %s: %s = %q, want %q", tt.path, h.name, got, h.want)
			}
		}
		if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("GET %s: CSP %q has no sandbox", tt.path, csp)
		}
		at := firstDownload()
		if !at.Valid || !at.Time.Equal(firstAt) {
			t.Errorf("after download %d: first_downloaded_at = %v, want %v", i+1, at, firstAt)
		}
		a.advance(time.Hour)
	}

	for _, tt := range []struct {
		action string
		want   int
	}{{"report.download", 2}, {"report.view_online", 1}} {
		ev := a.auditActions(db.AuditFilter{Action: tt.action, ObjectType: "document", ObjectID: docID})
		if got := len(ev); got != tt.want {
			t.Errorf("%s audit rows = %d, want %d", tt.action, got, tt.want)
		}
		for _, e := range ev {
			if e.Action != tt.action || e.Actor.Kind != "patient" || e.Actor.ID != accountID || e.Outcome != db.OutcomeOK {
				t.Errorf("%s audit row = %+v, want patient #%d, ok", tt.action, e, accountID)
			}
		}
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF)...)
}

func TestPDDownloadIDOR(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitA, codeA, _ := a.publishedVisit()
	docA := pdLastDoc(t, a, visitA)
	rossi := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, rossi, rossiCF, codeA)

	visitB, codeB := desk.accept(pdBianchiForm(t, a))
	docB, pdfB := pdUploadPublish(t, desk, visitB, "Ecografia addome")
	bianchi := a.register("Laura", "Bianchi", pdBianchiTyped, "laura@example.it")
	pdActivate(t, bianchi, pdBianchiCF(t), codeB)

	// Control: each account does see its own report.
	if rec := bianchi.get(fmt.Sprintf("/fascicolo/referti/%d", docB)); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), pdfB) {
		t.Fatalf("Bianchi's own report: %d", rec.Code)
	}

	// A report of Rossi uploaded but not published.
	visitU, _ := desk.accept(a.acceptForm())
	docU, _ := pdUpload(t, desk, visitU, "Referto in bozza")

	type notFound struct {
		status  int
		heading string
	}
	var ref *notFound
	tests := []struct {
		name string
		c    *client
		path string
	}{
		{"another patient's report", bianchi, fmt.Sprintf("/fascicolo/referti/%d", docA)},
		{"another patient's report, online view", bianchi, fmt.Sprintf("/fascicolo/referti/%d/apri", docA)},
		{"made-up id", bianchi, "/fascicolo/referti/999999"},
		{"non-numeric id", bianchi, "/fascicolo/referti/abc"},
		{"negative id", bianchi, "/fascicolo/referti/-1"},
		{"own unpublished report", rossi, fmt.Sprintf("/fascicolo/referti/%d", docU)},
		{"own unpublished report, online view", rossi, fmt.Sprintf("/fascicolo/referti/%d/apri", docU)},
	}
	for _, tt := range tests {
		rec := tt.c.get(tt.path)
		got := notFound{rec.Code, strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("h1").Text())}
		if got.status != http.StatusNotFound {
			t.Errorf("%s: GET %s = %d, want 404", tt.name, tt.path, got.status)
		}
		if ref == nil {
			ref = &got
		} else if got != *ref {
			t.Errorf("%s: 404 = %+v, differs from %+v", tt.name, got, *ref)
		}
		if ct := rec.Header().Get("Content-Type"); strings.Contains(ct, "pdf") || rec.Header().Get("Content-Disposition") != "" {
			t.Errorf("%s: answered with a file (%s)", tt.name, ct)
		}
	}
	if _, reports := pdDossier(t, rossi); !slices.Equal(pdTitles(reports), []string{"Esami del sangue"}) {
		t.Errorf("Rossi's reports = %v, want only the published one", pdTitles(reports))
	}
	if got := pdCount(t, a, `SELECT count(*) FROM documents WHERE id IN (?, ?) AND first_downloaded_at IS NOT NULL`, docA, docU); got != 0 {
		t.Errorf("refused requests recorded %d downloads", got)
	}
	if ev := a.auditActions(db.AuditFilter{Action: "report.download", ObjectID: docA}); len(ev) != 0 {
		t.Errorf("refused requests audited as downloads: %+v", ev)
	}

	// Anonymous: to the login page.
	for _, p := range []string{fmt.Sprintf("/fascicolo/referti/%d", docA), fmt.Sprintf("/fascicolo/referti/%d/apri", docA)} {
		rec := a.client().get(p)
		if got, want := rec.Code, http.StatusSeeOther; got != want {
			t.Errorf("anonymous GET %s = %d, want %d", p, got, want)
		}
		if got, want := rec.Header().Get("Location"), "/accedi"; got != want {
			t.Errorf("anonymous GET %s: Location %q, want %q", p, got, want)
		}
	}

	// Past expires_at, even before the expire job runs: gone.
	path := fmt.Sprintf("/fascicolo/referti/%d", docA)
	if got := rossi.get(path).Code; got != http.StatusOK {
		t.Fatalf("before expiry: %d, want 200", got)
	}
	a.advance(60*24*time.Hour + time.Minute)
	for _, p := range []string{path, path + "/apri"} {
		rec := rossi.get(p)
		got := notFound{rec.Code, strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("h1").Text())}
		if got != *ref {
			t.Errorf("expired report GET %s = %+v, want %+v", p, got, *ref)
		}
	}
	if _, reports := pdDossier(t, rossi); len(reports) != 0 {
		t.Errorf("expired reports still listed: %v", pdTitles(reports))
	}
	pdAssertLogsClean(t, a, append(append(pdCodeForms(codeA), pdCodeForms(codeB)...), rossiCF, pdBianchiCF(t))...)
}

// pdOutboxRow is a queued message as stored.
type pdOutboxRow struct {
	channel, recipient, subject, body string
	sent                              bool
}

func pdNotices(t testing.TB, a *app) []pdOutboxRow {
	t.Helper()
	rows, err := a.raw.Query(`SELECT channel, recipient, subject, body, sent_at IS NOT NULL FROM outbox
		WHERE kind = 'report_available' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []pdOutboxRow
	for rows.Next() {
		var r pdOutboxRow
		if err := rows.Scan(&r.channel, &r.recipient, &r.subject, &r.body, &r.sent); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pdForbidden is what a "new document" message must never say.
var pdForbidden = []string{"Esami del sangue", "Radiografia torace", "Emocromo", "Glicemia", "Poliambulatorio", "Mario", "Rossi", rossiCF}

func pdCheckNoticeText(t testing.TB, where, text string) {
	t.Helper()
	if !strings.Contains(text, pdPortalLink) {
		t.Errorf("%s %q has no portal link %s", where, text, pdPortalLink)
	}
	for _, f := range pdForbidden {
		if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
			t.Errorf("%s %q reveals %q", where, text, f)
		}
	}
}

// pdActiveRossi returns an app where Rossi's dossier is active (one report
// published before activation), his client, the desk and the slip code.
func pdActiveRossi(t *testing.T) (*app, *client, *client, string) {
	t.Helper()
	a := newApp(t)
	desk := a.deskClient()
	_, code, _ := a.publishedVisit()
	if got := pdNotices(t, a); len(got) != 0 {
		t.Fatalf("publishing for a patient without account queued %+v", got)
	}
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	// A patient with no account at all: publishing queues nothing.
	bVisit, _ := desk.accept(pdBianchiForm(t, a))
	pdUploadPublish(t, desk, bVisit, "Ecografia addome")
	if got := pdNotices(t, a); len(got) != 0 {
		t.Fatalf("publishing for Bianchi (no account) queued %+v", got)
	}
	return a, c, desk, code
}

func TestPDNotifications(t *testing.T) {
	tests := []struct {
		pref                string // "" keeps the default
		wantSMS, wantEmails int
	}{
		{"", 1, 0},
		{"sms", 1, 0},
		{"email", 0, 1},
		{"both", 1, 1},
	}
	for _, tt := range tests {
		t.Run("preference "+pdOr(tt.pref, "default"), func(t *testing.T) {
			a, c, desk, code := pdActiveRossi(t)
			if tt.pref != "" {
				rec := c.post("/profilo/preferenze", url.Values{"notify": {tt.pref}})
				if rec.Code != http.StatusSeeOther {
					t.Fatalf("preferences: %d\n%s", rec.Code, rec.Body.String())
				}
			}
			// Two reports published together are one notice per channel.
			visit2, _ := desk.accept(a.acceptForm())
			if rec := desk.upload(visit2, file{"Radiografia torace", "a.pdf", samplePDF(t, "Radiografia torace")},
				file{"Esami del sangue", "b.pdf", samplePDF(t, "Esami del sangue")}); rec.Code != http.StatusSeeOther {
				t.Fatalf("upload: %d", rec.Code)
			}
			if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visit2), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("publish: %d", rec.Code)
			}
			if n := len(a.auditActions(db.AuditFilter{Action: "report.publish"})); n != 4 {
				t.Fatalf("report.publish rows = %d, want 4 (two visits before, two reports now)", n)
			}

			notices := pdNotices(t, a)
			var sms, emails int
			for _, n := range notices {
				switch n.channel {
				case db.ChannelSMS:
					sms++
					if n.recipient != rossiMobile {
						t.Errorf("SMS to %q, want %q", n.recipient, rossiMobile)
					}
					if n.subject != "" {
						t.Errorf("SMS has subject %q", n.subject)
					}
				case db.ChannelEmail:
					emails++
					if n.recipient != "mario@example.it" {
						t.Errorf("email to %q, want mario@example.it", n.recipient)
					}
					pdCheckNoticeText(t, "email subject", n.subject+" "+pdPortalLink)
				}
				pdCheckNoticeText(t, n.channel+" body", n.body)
			}
			if sms != tt.wantSMS || emails != tt.wantEmails {
				t.Fatalf("queued %d SMS and %d emails, want %d and %d: %+v", sms, emails, tt.wantSMS, tt.wantEmails, notices)
			}

			err := jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Now: a.Now,
				Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			received := a.smsTo(rossiMobile)
			for _, n := range pdNotices(t, a) {
				if n.channel != db.ChannelSMS {
					continue
				}
				if !n.sent {
					t.Errorf("SMS not marked sent after delivery")
				}
				if !slices.Contains(received, n.body) {
					t.Errorf("gateway did not receive %q; got %q", n.body, received)
				}
			}
			var bodies []string
			for _, n := range notices {
				bodies = append(bodies, n.body)
			}
			pdAssertLogsClean(t, a, append(append(pdCodeForms(code), rossiCF), bodies...)...)
		})
	}
}

func pdOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pdSMTP records what an in-process SMTP server received.
type pdSMTP struct {
	mu   sync.Mutex
	msgs []pdMail
}

type pdMail struct {
	from string
	rcpt []string
	data []byte
}

func (b *pdSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &pdSMTPSession{b: b}, nil }

func (b *pdSMTP) received() []pdMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.msgs)
}

type pdSMTPSession struct {
	b   *pdSMTP
	cur pdMail
}

func (s *pdSMTPSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *pdSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.rcpt = append(s.cur.rcpt, to)
	return nil
}

func (s *pdSMTPSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	s.cur = pdMail{}
	return nil
}

func (s *pdSMTPSession) Reset()        { s.cur = pdMail{} }
func (s *pdSMTPSession) Logout() error { return nil }

// pdStartSMTP serves an in-process SMTP server on loopback and returns a
// sender that talks to it.
func pdStartSMTP(t *testing.T) (*pdSMTP, *notify.SMTP) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be := &pdSMTP{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	sender, err := notify.NewSMTP("smtp://"+ln.Addr().String(), "referti@example.it")
	if err != nil {
		t.Fatal(err)
	}
	return be, sender
}

// pdMailBody decodes a received message as a mail client would.
func pdMailBody(t testing.TB, data []byte) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, data)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header, strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestPDNotificationSMTP(t *testing.T) {
	a, c, desk, code := pdActiveRossi(t)
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"email"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("preferences: %d", rec.Code)
	}
	visit2, _ := desk.accept(a.acceptForm())
	pdUploadPublish(t, desk, visit2, "Radiografia torace")

	server, sender := pdStartSMTP(t)
	smsBefore := len(a.smsTo(rossiMobile))
	err := jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: sender, Now: a.Now,
		Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := server.received()
	if len(got) != 1 {
		t.Fatalf("SMTP server received %d messages, want 1", len(got))
	}
	if want := []string{"mario@example.it"}; !slices.Equal(got[0].rcpt, want) {
		t.Errorf("RCPT = %v, want %v", got[0].rcpt, want)
	}
	if got[0].from != "referti@example.it" {
		t.Errorf("MAIL FROM = %q, want referti@example.it", got[0].from)
	}
	hdr, body := pdMailBody(t, got[0].data)
	pdCheckNoticeText(t, "delivered email body", body)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(hdr.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	pdCheckNoticeText(t, "delivered email subject", subject+" "+pdPortalLink)
	if n := len(a.smsTo(rossiMobile)); n != smsBefore {
		t.Errorf("email preference also sent %d SMS", n-smsBefore)
	}
	notices := pdNotices(t, a)
	if len(notices) != 1 || notices[0].channel != db.ChannelEmail || !notices[0].sent {
		t.Errorf("outbox = %+v, want one sent email", notices)
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF, notices[0].body)...)
}

func TestPDPatientExpiry(t *testing.T) {
	a := newApp(t)
	visitID, code, pdf := a.publishedVisit()
	docID := pdLastDoc(t, a, visitID)
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	path := fmt.Sprintf("/fascicolo/referti/%d", docID)
	if rec := c.get(path); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Fatalf("download before expiry: %d", rec.Code)
	}
	if n := pdCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, docID); n == 0 {
		t.Fatal("no ciphertext chunks stored before expiry")
	}

	a.advance(60*24*time.Hour + time.Minute)
	err := jobs.Expire{DB: a.db, Now: a.Now, Log: slog.New(slog.DiscardHandler)}.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	page, reports := pdDossier(t, c)
	if len(reports) != 0 || strings.Contains(page.Text(), "Esami del sangue") {
		t.Errorf("expired report still listed: %v", pdTitles(reports))
	}
	if page.Find("p.empty").Length() != 1 || strings.Contains(page.Text(), "in preparazione") {
		t.Errorf("dossier after expiry should be empty, not in preparation:\n%s", page.Find("main").Text())
	}
	for _, p := range []string{path, path + "/apri"} {
		if got, want := c.get(p).Code, http.StatusNotFound; got != want {
			t.Errorf("GET %s after expiry = %d, want %d", p, got, want)
		}
	}
	for _, q := range []string{`SELECT count(*) FROM documents WHERE id = ?`, `SELECT count(*) FROM document_chunks WHERE document_id = ?`} {
		if got := pdCount(t, a, q, docID); got != 0 {
			t.Errorf("%s = %d, want 0", q, got)
		}
	}
	if ev := a.auditActions(db.AuditFilter{Action: "report.expire", ObjectID: docID}); len(ev) != 1 {
		t.Errorf("report.expire audit rows = %d, want 1", len(ev))
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF)...)
}

// TestPDDossierLogsKeepNoSecrets goes through activation (failed and
// successful), downloads, notifications on both channels and expiry, with
// every job logging to the application log, and then reads the log.
func TestPDDossierLogsKeepNoSecrets(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	otherCF := pdBianchiCF(t)
	for _, att := range [][2]string{{otherCF, code}, {rossiCF, actcode.New()}, {"RSSMRA85T10A562X", code}, {rossiCF, code[:5]}} {
		if rec := c.activate(att[0], att[1]); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong attempt: %d", rec.Code)
		}
	}
	pdActivate(t, c, strings.ToLower(rossiCF), strings.ToLower(code))
	docID := pdLastDoc(t, a, visitID)
	for _, p := range []string{fmt.Sprintf("/fascicolo/referti/%d", docID), fmt.Sprintf("/fascicolo/referti/%d/apri", docID), "/fascicolo/referti/999999"} {
		c.get(p)
	}
	if rec := c.post("/profilo/preferenze", url.Values{"notify": {"both"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("preferences: %d", rec.Code)
	}
	visit2, _ := desk.accept(a.acceptForm())
	pdUploadPublish(t, desk, visit2, "Radiografia torace")

	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, sender := pdStartSMTP(t)
	if err := (jobs.Deliver{DB: a.db, SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: sender, Now: a.Now, Log: log}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.advance(61 * 24 * time.Hour)
	if err := (jobs.Expire{DB: a.db, Now: a.Now, Log: log}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.get(fmt.Sprintf("/fascicolo/referti/%d", docID))

	notices := pdNotices(t, a)
	if len(notices) != 2 {
		t.Fatalf("notices = %+v, want an SMS and an email", notices)
	}
	secrets := append(pdCodeForms(code), rossiCF, otherCF, "RSSMRA85T10A562X")
	for _, n := range notices {
		if !n.sent {
			t.Errorf("%s notice not delivered", n.channel)
		}
		secrets = append(secrets, n.body, n.recipient)
	}
	for _, n := range notices {
		if n.channel != db.ChannelEmail {
			continue
		}
		for _, line := range strings.Split(n.body, "\n") {
			if len(line) > 20 { // each line of the email body on its own
				secrets = append(secrets, line)
			}
		}
	}
	pdAssertLogsClean(t, a, secrets...)
}
