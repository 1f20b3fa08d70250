package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/argon2id"
	"github.com/labstack/echo/v4"

	"fse/db"
	"fse/handlers"
	"fse/internal/demo"
	"fse/internal/mfa"
	"fse/internal/notify"
	"fse/internal/password"
	"fse/internal/sealbox"
	"fse/internal/testkit"
)

// Test logins seeded by newApp.
const (
	adminUser     = "amministratore"
	adminPass     = "password-admin-lunga"
	receptionUser = "sportello"
	receptionPass = "password-sportello-lunga"
)

// app is a full fse handler stack over a real SQLite file in a temp dir.
type app struct {
	t    testing.TB
	e    *echo.Echo
	db   *db.DB
	h    *handlers.Handler
	keys *sealbox.Keys
	logs *testkit.LogBuffer
	// raw looks at rows no db method shows.
	raw        *sql.DB
	facilityID int64
	adminID    int64
	deskID     int64

	mu  sync.Mutex
	now time.Time
	// apps are the authenticator apps of the test, by name: a staff
	// member's username, or a patient's (mfPatientApp).
	apps map[string]*staffApp

	// sms is the fake SMS gateway (an httptest server) and what it received.
	sms   *httptest.Server
	smsMu sync.Mutex
	inbox []smsMessage
	mails []notify.Message
}

// mailbox is the fake mail server: it records what the portal sends.
type mailbox struct{ a *app }

func (m mailbox) Send(_ context.Context, msg notify.Message) error {
	m.a.smsMu.Lock()
	defer m.a.smsMu.Unlock()
	m.a.mails = append(m.a.mails, msg)
	return nil
}

// smsMessage is one SMS the gateway received.
type smsMessage struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// newApp opens a fresh database, seeds one facility, one admin and one
// receptionist, and builds the routes exactly as main does.
func newApp(t testing.TB) *app {
	t.Helper()
	return newAppWith(t, func(*handlers.Config) {})
}

// testHashParams are argon2id parameters far cheaper than production's:
// the handlers' tests hash hundreds of passwords, and under the race
// detector a production hash takes about a second. What the parameters are
// is the password package's to test (TestHashAndVerify pins OWASP's).
var testHashParams = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func newAppWith(t testing.TB, configure func(*handlers.Config)) *app {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	keys := testkit.Keys(t)
	hasher, err := password.NewHasher(testHashParams, 4)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, db: d, keys: keys, logs: &testkit.LogBuffer{}, now: testkit.T0, apps: map[string]*staffApp{}}
	cfg := handlers.Config{BaseURL: "https://referti.example.it", RetentionDays: 60, UploadLimit: 1 << 20}
	configure(&cfg)
	a.sms = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m smsMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		a.smsMu.Lock()
		a.inbox = append(a.inbox, m)
		a.smsMu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(a.sms.Close)
	a.h = &handlers.Handler{DB: d, Keys: keys, Hasher: hasher, Now: a.Now,
		Log: a.logs.Logger(), Config: cfg,
		SMS: &notify.SMSGateway{URL: a.sms.URL}, Email: mailbox{a}}
	a.e = handlers.New(a.h)
	// The background checkpointer runs as in main, quickly, so tests see
	// deleted data erased from the WAL within a few milliseconds.
	ckCtx, stopCheckpointer := context.WithCancel(context.Background())
	ckDone := make(chan struct{})
	go func() {
		d.RunCheckpointer(ckCtx, 5*time.Millisecond, nil, slog.New(slog.DiscardHandler))
		close(ckDone)
	}()
	t.Cleanup(func() { stopCheckpointer(); <-ckDone })
	a.raw = testkit.Raw(t, d)
	d.SetSealer(keys)

	cli := db.Actor{Kind: "cli", Name: "test"}
	if a.facilityID, err = d.CreateFacility(ctx, db.Facility{Code: "MN", Name: "Poliambulatorio Test", Address: "Via Roma 1, Mantova"}, cli, a.Now()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		user, pass, role string
		id               *int64
	}{{adminUser, adminPass, db.RoleAdmin, &a.adminID}, {receptionUser, receptionPass, db.RoleReception, &a.deskID}} {
		hash, err := hasher.Hash(ctx, s.pass)
		if err != nil {
			t.Fatal(err)
		}
		if *s.id, err = d.CreateStaff(ctx, db.Staff{Username: s.user, Role: s.role, PasswordHash: hash}, cli, a.Now()); err != nil {
			t.Fatal(err)
		}
		// Staff log in with an authenticator app, as the default
		// --staff-mfa required asks.
		a.enrolStaffApp(*s.id, s.user)
	}
	return a
}

// staffApp is an authenticator app of a staff member (or, in the second
// factors' tests, of a patient): its secret, and the last time step whose
// code a test sent.
type staffApp struct {
	secret string
	last   int64
}

// enrolStaffApp gives a member an authenticator app, as if they had set it
// up, and returns its secret.
func (a *app) enrolStaffApp(id int64, username string) string {
	a.t.Helper()
	owner := db.StaffOwner(id)
	e, err := (&mfa.Service{DB: a.db, Keys: a.keys, Now: a.Now}).NewEnrolment(owner, username)
	if err != nil {
		a.t.Fatal(err)
	}
	if _, _, err := a.db.AddFactor(context.Background(), db.Factor{Owner: owner, Kind: db.FactorTOTP, Name: "Telefono", Secret: e.Sealed},
		nil, db.AuditEvent{Actor: db.Actor{Kind: db.ActorCLI, Name: "test"}, Action: db.ActionStaffFactorAdd}, a.Now()); err != nil {
		a.t.Fatal(err)
	}
	a.mu.Lock()
	a.apps[username] = &staffApp{secret: e.Secret}
	a.mu.Unlock()
	return e.Secret
}

// appCode returns a code of the member's app that the portal has not
// accepted yet, as the phone would show it: the portal takes the steps
// next to its clock's, so three logins fit in one clock time; a test that
// logs the same member in more often moves the clock on a step.
func (a *app) appCode(username string) string {
	a.t.Helper()
	a.mu.Lock()
	app := a.apps[username]
	a.mu.Unlock()
	if app == nil {
		a.t.Fatalf("%s has no authenticator app in this test", username)
	}
	step := max(mfa.Step(a.Now())-mfa.Skew, app.last+1)
	if step > mfa.Step(a.Now())+mfa.Skew {
		a.advance(mfa.Period)
		step = mfa.Step(a.Now())
	}
	app.last = step
	code, err := mfa.CodeAt(app.secret, step)
	if err != nil {
		a.t.Fatal(err)
	}
	return code
}

// Now is the app's clock.
func (a *app) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// advance moves the clock.
func (a *app) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// client is a browser: it keeps cookies between requests.
type client struct {
	a       *app
	cookies map[string]*http.Cookie
	ip      string
	// header is sent with every request (Accept-Language, for one).
	header http.Header
}

func (a *app) client() *client {
	return &client{a: a, cookies: map[string]*http.Cookie{}, ip: "192.0.2.10", header: http.Header{}}
}

// englishClient is a browser whose visitor chose English with the link.
func (a *app) englishClient() *client {
	c := a.client()
	c.cookies["fse_lang"] = &http.Cookie{Name: "fse_lang", Value: "en"}
	return c
}

// templateSyntax is templ source that reached a page instead of being
// compiled: a component call (@name(...)) or an expression ({ x.Y }).
var templateSyntax = regexp.MustCompile(`@[A-Za-z_][A-Za-z0-9_.]*\(|\{ *[A-Za-z_][A-Za-z0-9_.]*(\([^)]*\))? *\}`)

// missingMessage is what a page shows for a message no catalogue has.
var missingMessage = regexp.MustCompile(`\[\[[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\]\]`)

// assertNoTemplateSyntax fails the test when an HTML page shows template
// source or a message missing from the catalogue of its language. Every
// page any handler test renders goes through it.
func assertNoTemplateSyntax(t testing.TB, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		return
	}
	if m := templateSyntax.FindString(rec.Body.String()); m != "" {
		t.Errorf("%s: the page shows template source %q", what, m)
	}
	if m := missingMessage.FindString(rec.Body.String()); m != "" {
		t.Errorf("%s: the page shows a message missing from its catalogue: %s", what, m)
	}
}

// do sends a request through the full middleware stack.
func (c *client) do(method, target string, body io.Reader, contentType string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = c.ip + ":51000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.a.e.ServeHTTP(rec, req)
	assertNoTemplateSyntax(c.a.t, method+" "+target, rec)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return rec
}

func (c *client) get(target string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.do(http.MethodGet, target, nil, "")
}

func (c *client) post(target string, form url.Values) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.do(http.MethodPost, target, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// login signs the client in with the password and the app's code, and
// fails the test if it does not work.
func (c *client) login(user, pass string) {
	c.a.t.Helper()
	rec := c.post("/desk/login", url.Values{"username": {user}, "password": {pass}})
	if rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/desk/login/code" {
		rec = c.post("/desk/login/code", url.Values{"code": {c.a.appCode(user)}})
	}
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/desk" {
		c.a.t.Fatalf("login %s: status %d, location %q", user, rec.Code, rec.Header().Get("Location"))
	}
}

// deskClient returns a receptionist already logged in.
func (a *app) deskClient() *client {
	c := a.client()
	c.login(receptionUser, receptionPass)
	return c
}

// adminClient returns an admin already logged in.
func (a *app) adminClient() *client {
	c := a.client()
	c.login(adminUser, adminPass)
	return c
}

// Fictional patient Mario Rossi, born 10/12/1985 in San Giuliano Terme.
const rossiCF = "RSSMRA85T10A562S"

// acceptForm is a valid acceptance of Mario Rossi at the test facility.
func (a *app) acceptForm() url.Values {
	return url.Values{
		"fiscal_code": {rossiCF}, "first_name": {"Mario"}, "last_name": {"Rossi"}, "birth_date": {"1985-12-10"},
		"birth_place": {"San Giuliano Terme"}, "sex": {"M"}, "mobile": {"333 123 4567"}, "email": {"mario.rossi@example.it"},
		"facility": {fmt.Sprint(a.facilityID)}, "exams": {"Emocromo\nGlicemia"},
	}
}

var codePattern = regexp.MustCompile(`[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}`)

// accept submits form and returns the new visit id and the activation code
// read from the slip ("" when online delivery was declined).
func (c *client) accept(form url.Values) (visitID int64, code string) {
	c.a.t.Helper()
	rec := c.postAccept(form)
	if rec.Code != http.StatusSeeOther {
		c.a.t.Fatalf("accept: status %d\n%s", rec.Code, rec.Body.String())
	}
	if strings.HasSuffix(rec.Header().Get("Location"), "/slip") {
		doc := parseHTML(c.a.t, c.follow(rec).Body.String())
		code = strings.TrimSpace(doc.Find("[data-testid=activation-code]").Text())
		if !codePattern.MatchString(code) {
			c.a.t.Fatalf("slip has no activation code: %q", code)
		}
	}
	visits, err := c.a.db.RecentVisits(context.Background(), 1)
	if err != nil || len(visits) == 0 {
		c.a.t.Fatalf("no visit after accept: %v", err)
	}
	return visits[0].ID, code
}

// postAccept sends an acceptance as the desk's browser does: with the
// one-time token of a freshly loaded form.
func (c *client) postAccept(form url.Values) *httptest.ResponseRecorder {
	c.a.t.Helper()
	rec := c.get("/desk/accept")
	token, ok := parseHTML(c.a.t, rec.Body.String()).Find("input[name=form_token]").Attr("value")
	if !ok || token == "" {
		c.a.t.Fatalf("acceptance form has no form_token (status %d)", rec.Code)
	}
	withToken := url.Values{"form_token": {token}}
	for k, v := range form {
		withToken[k] = v
	}
	return c.post("/desk/accept", withToken)
}

// follow GETs the Location of a redirect, as a browser does after a POST.
func (c *client) follow(rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	c.a.t.Helper()
	if rec.Code != http.StatusSeeOther && rec.Code != http.StatusFound {
		c.a.t.Fatalf("want a redirect, got %d\n%s", rec.Code, rec.Body.String())
	}
	return c.get(rec.Header().Get("Location"))
}

// file is one part of an upload.
type file struct {
	title, name string
	content     []byte
}

// upload posts files to a visit as the browser's multipart form does.
func (c *client) upload(visitID int64, files ...file) *httptest.ResponseRecorder {
	c.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		mw.WriteField("title", f.title)
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			c.a.t.Fatal(err)
		}
		w.Write(f.content)
	}
	mw.Close()
	return c.do(http.MethodPost, fmt.Sprintf("/desk/visits/%d/documents", visitID), &body, mw.FormDataContentType())
}

// samplePDF is a real, small, valid PDF report.
func samplePDF(t testing.TB, title string) []byte {
	t.Helper()
	b, err := demo.ReportPDF(title, "Rossi Mario", rossiCF, "MN-2026-00001", []string{"Emocromo"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseHTML(t testing.TB, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// auditActions lists the actions of audit rows matching f, oldest first.
func (a *app) auditActions(f db.AuditFilter) []db.AuditEvent {
	a.t.Helper()
	f.Limit = 500
	ev, err := a.db.ListAudit(context.Background(), f)
	if err != nil {
		a.t.Fatal(err)
	}
	for i, j := 0, len(ev)-1; i < j; i, j = i+1, j-1 {
		ev[i], ev[j] = ev[j], ev[i]
	}
	return ev
}

// smsTo returns the texts the gateway received for mobile (E.164), oldest first.
func (a *app) smsTo(mobile string) []string {
	a.h.Wait() // codes of neutral flows are sent in the background
	a.smsMu.Lock()
	defer a.smsMu.Unlock()
	var out []string
	for _, m := range a.inbox {
		if m.To == mobile {
			out = append(out, m.Text)
		}
	}
	return out
}

var smsCodePattern = regexp.MustCompile(`\b(\d{6})\b`)

// lastSMSCode returns the 6-digit code of the last SMS sent to mobile.
func (a *app) lastSMSCode(mobile string) string {
	a.t.Helper()
	msgs := a.smsTo(mobile)
	if len(msgs) == 0 {
		a.t.Fatalf("no SMS sent to %s", mobile)
	}
	m := smsCodePattern.FindStringSubmatch(msgs[len(msgs)-1])
	if m == nil {
		a.t.Fatalf("last SMS to %s has no code: %q", mobile, msgs[len(msgs)-1])
	}
	return m[1]
}

var confirmLink = regexp.MustCompile(`/verifica-email\?t=([A-Za-z0-9_-]+)`)

// confirmEmail follows the last confirmation link mailed to email, as its
// owner would, and fails the test if it does not work.
func (a *app) confirmEmail(email string) {
	a.t.Helper()
	a.smsMu.Lock()
	var token string
	for _, m := range a.mails {
		if m.To == email {
			if sub := confirmLink.FindStringSubmatch(m.Body); sub != nil {
				token = sub[1]
			}
		}
	}
	a.smsMu.Unlock()
	if token == "" {
		a.t.Fatalf("no confirmation link mailed to %s", email)
	}
	c := a.client()
	if rec := c.get("/verifica-email?t=" + token); rec.Code != http.StatusOK {
		a.t.Fatalf("confirmation page: %d", rec.Code)
	}
	if rec := c.post("/verifica-email", url.Values{"t": {token}}); rec.Code != http.StatusOK {
		a.t.Fatalf("confirm %s: %d\n%s", email, rec.Code, rec.Body.String())
	}
}

// Rossi's mobile as the desk stores it (a.acceptForm uses it).
const rossiMobile = "+393331234567"

// patientPassword is a password the policy accepts.
const patientPassword = "gatto verde mangia pizza tiepida"

// register walks the three registration steps and returns the logged-in
// client. It fails the test if any step does not work.
func (a *app) register(first, last, mobile, email string) *client {
	a.t.Helper()
	return a.registerWith(a.client(), first, last, mobile, email)
}

// registerWith registers with a given browser (one that asks for English,
// say).
func (a *app) registerWith(c *client, first, last, mobile, email string) *client {
	a.t.Helper()
	if rec := c.post("/registrati", url.Values{"consent": {"1"}}); rec.Code != http.StatusSeeOther {
		a.t.Fatalf("consent: %d", rec.Code)
	}
	rec := c.post("/registrati/profilo", url.Values{"first_name": {first}, "last_name": {last}, "mobile": {mobile},
		"email": {email}, "password": {patientPassword}, "password2": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/registrati/codice" {
		a.t.Fatalf("profile: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	// As typed, "+44 7400 123456" or "333 1234567": the gateway gets E.164.
	e164 := strings.ReplaceAll(mobile, " ", "")
	if !strings.HasPrefix(e164, "+") {
		e164 = "+39" + e164
	}
	rec = c.post("/registrati/codice", url.Values{"code": {a.lastSMSCode(e164)}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/attiva" {
		a.t.Fatalf("sms code: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if email != "" {
		a.confirmEmail(strings.ToLower(email))
	}
	return c
}

// loginPatient logs in with mobile (any notation) or email and the test password.
func (a *app) loginPatient(identifier string) *client {
	a.t.Helper()
	c := a.client()
	rec := c.post("/accedi", url.Values{"identifier": {identifier}, "password": {patientPassword}})
	if rec.Code != http.StatusSeeOther {
		a.t.Fatalf("patient login: %d\n%s", rec.Code, rec.Body.String())
	}
	return c
}

// activate posts the activation form and returns the response.
func (c *client) activate(cf, code string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.post("/attiva", url.Values{"consent": {"1"}, "fiscal_code": {cf}, "code": {code}})
}

// publishedVisit accepts Rossi, uploads one report and publishes it; it
// returns the visit, the slip code and the report's bytes.
func (a *app) publishedVisit() (visitID int64, code string, pdf []byte) {
	a.t.Helper()
	desk := a.deskClient()
	visitID, code = desk.accept(a.acceptForm())
	pdf = samplePDF(a.t, "Esami del sangue")
	if rec := desk.upload(visitID, file{"Esami del sangue", "x.pdf", pdf}); rec.Code != http.StatusSeeOther {
		a.t.Fatalf("upload: %d", rec.Code)
	}
	if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		a.t.Fatalf("publish: %d", rec.Code)
	}
	return visitID, code, pdf
}

// The helpers below are shared by several areas: what they read back from
// the database and from pages.

// itoa formats an id for a path.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// authCount runs a count(*) query on the raw handle.
func authCount(t testing.TB, a *app, query string, args ...any) int {
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

// accountIDOf returns the id of the account with the E.164 mobile.
func accountIDOf(t testing.TB, a *app, mobile string) int64 {
	t.Helper()
	var id int64
	if err := a.raw.QueryRowContext(context.Background(), `SELECT id FROM accounts WHERE mobile = ?`, mobile).Scan(&id); err != nil {
		t.Fatalf("account %s: %v", mobile, err)
	}
	return id
}

// patientByCF reads a patient by normalized codice fiscale.
func patientByCF(t testing.TB, a *app, cf string) db.Patient {
	t.Helper()
	p, err := a.db.PatientByFiscalCode(context.Background(), cf)
	if err != nil {
		t.Fatalf("patient %s: %v", cf, err)
	}
	return p
}

// lastDocument is the id of the visit's newest document.
func lastDocument(t testing.TB, a *app, visitID int64) int64 {
	t.Helper()
	docs, err := a.db.VisitDocuments(context.Background(), visitID)
	if err != nil || len(docs) == 0 {
		t.Fatalf("documents of visit %d: %v, %d", visitID, err, len(docs))
	}
	return docs[len(docs)-1].ID
}

// publishReport uploads one report with title to the visit, publishes it
// and returns the document id and the report's bytes.
func publishReport(t testing.TB, desk *client, visitID int64, title string) (int64, []byte) {
	t.Helper()
	pdf := samplePDF(t, title)
	if rec := desk.upload(visitID, file{title, "r.pdf", pdf}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload %q: status %d", title, rec.Code)
	}
	if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish %q: status %d", title, rec.Code)
	}
	return lastDocument(t, desk.a, visitID), pdf
}

// withAction keeps the events of exactly action (the audit filter matches
// a prefix).
func withAction(events []db.AuditEvent, action string) []db.AuditEvent {
	var out []db.AuditEvent
	for _, e := range events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// flashError returns the text of the page's `.flash.error` paragraph.
func flashError(t testing.TB, body string) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, body).Find(".flash.error").Text())
}

// erasedWithin reports whether window disappears from the database files
// within d: deletions are committed at once, and the background
// checkpointer erases their pages from the WAL soon after.
func erasedWithin(t *testing.T, a *app, window []byte, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if !bytes.Contains(repDBBytes(t, a), window) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
