package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/handlers"
	"fse/internal/codicefiscale"
)

// Tests for family dossiers and the patient's control over online delivery:
// relatives, the dossier switcher, disable/enable, reset, single deletion
// and account deletion.

// Luca Rossi, Mario Rossi's son, born 3/6/2015 in Mantova (E897).
const (
	fcChildBirth = "2015-06-03"
	fcChildTitle = "Visita pediatrica"
	fcOwnTitle   = "Esami del sangue"
	// fcUnknownCode is well formed but never issued.
	fcUnknownCode = "2222-3333-4444"
	// fcMadeUpID is an id no row has.
	fcMadeUpID = 987654
)

// fcChildCF returns the child's codice fiscale.
func fcChildCF(t testing.TB) string {
	t.Helper()
	cf, err := codicefiscale.Generate("Rossi", "Luca", time.Date(2015, 6, 3, 0, 0, 0, 0, time.UTC), "M", "E897")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// fcChildAcceptance is the desk's acceptance of the child with mobile.
func fcChildAcceptance(a *app, cf, mobile string) url.Values {
	f := a.acceptForm()
	f.Set("fiscal_code", cf)
	f.Set("first_name", "Luca")
	f.Set("birth_date", fcChildBirth)
	f.Set("birth_place", "Mantova")
	f.Set("mobile", mobile)
	f.Set("email", "")
	f.Set("exams", fcChildTitle)
	return f
}

// fcRelativeForm is the holder's "add a relative" form for the child.
func fcRelativeForm(cf string) url.Values {
	return url.Values{"first_name": {"Luca"}, "last_name": {"Rossi"}, "birth_date": {fcChildBirth},
		"birth_place": {"Mantova"}, "sex": {"M"}, "fiscal_code": {cf}}
}

// fcPublish uploads one report with title to the visit, publishes it and
// returns the document id and the report's bytes.
func fcPublish(t testing.TB, a *app, desk *client, visitID int64, title string) (int64, []byte) {
	t.Helper()
	pdf := samplePDF(t, title)
	if rec := desk.upload(visitID, file{title, "r.pdf", pdf}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload %q: status %d", title, rec.Code)
	}
	if rec := desk.post(fmt.Sprintf("/desk/visits/%d/publish", visitID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish %q: status %d", title, rec.Code)
	}
	return fcLastDoc(t, a, visitID), pdf
}

// fcLastDoc returns the newest document of a visit.
func fcLastDoc(t testing.TB, a *app, visitID int64) int64 {
	t.Helper()
	var id int64
	if err := a.raw.QueryRowContext(context.Background(), `SELECT id FROM documents WHERE visit_id = ? ORDER BY id DESC LIMIT 1`,
		visitID).Scan(&id); err != nil {
		t.Fatalf("document of visit %d: %v", visitID, err)
	}
	return id
}

func fcCount(t testing.TB, a *app, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.raw.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func fcPatientID(t testing.TB, a *app, cf string) int64 {
	t.Helper()
	p, err := a.db.PatientByFiscalCode(context.Background(), cf)
	if err != nil {
		t.Fatalf("patient %s: %v", cf, err)
	}
	return p.ID
}

func fcAccountID(t testing.TB, a *app, mobile string) int64 {
	t.Helper()
	var id int64
	if err := a.raw.QueryRowContext(context.Background(), `SELECT id FROM accounts WHERE mobile = ?`, mobile).Scan(&id); err != nil {
		t.Fatalf("account %s: %v", mobile, err)
	}
	return id
}

var fcActivatePath = regexp.MustCompile(`^/profilo/familiari/(\d+)/attiva$`)

// fcAddRelative adds a relative and returns its id, read from the redirect
// to its activation page.
func fcAddRelative(t testing.TB, c *client, form url.Values) int64 {
	t.Helper()
	rec := c.post("/profilo/familiari", form)
	m := fcActivatePath.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("add relative: status %d, location %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func fcActivateRelative(c *client, relativeID int64, cf, code string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.post(fmt.Sprintf("/profilo/familiari/%d/attiva", relativeID), url.Values{"consent": {"1"}, "fiscal_code": {cf}, "code": {code}})
}

// fcReportIDs returns the ids of the reports listed on a dossier page.
func fcReportIDs(t testing.TB, c *client, target string) []int64 {
	t.Helper()
	rec := c.get(target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d", target, rec.Code)
	}
	ids := []int64{}
	doc := parseHTML(t, rec.Body.String())
	for _, n := range doc.Find("li.report a[download]").Nodes {
		for _, at := range n.Attr {
			if at.Key != "href" {
				continue
			}
			id, err := strconv.ParseInt(strings.TrimPrefix(at.Val, "/fascicolo/referti/"), 10, 64)
			if err != nil {
				t.Fatalf("report link %q", at.Val)
			}
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func fcIDs(ids ...int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func fcSameIDs(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// fcDownload fetches a report of the client's dossiers.
func fcDownload(c *client, docID int64) *httptest.ResponseRecorder {
	c.a.t.Helper()
	return c.get(fmt.Sprintf("/fascicolo/referti/%d", docID))
}

// fcWantDownload fails unless the report downloads with exactly want.
func fcWantDownload(t testing.TB, c *client, docID int64, want []byte) {
	t.Helper()
	rec := fcDownload(c, docID)
	if rec.Code != http.StatusOK {
		t.Fatalf("download %d: status %d, want 200", docID, rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("download %d: %d bytes differ from the uploaded %d bytes", docID, rec.Body.Len(), len(want))
	}
}

// fcFamily is Mario Rossi (the holder, Rossi's mobile) with his own dossier
// and his son Luca's, each with one published report.
type fcFamily struct {
	a                        *app
	desk, holder             *client
	holderID                 int64
	childCF                  string
	ownPatient, childPatient int64
	relativeID               int64
	ownDoc, childDoc         int64
	ownPDF, childPDF         []byte
}

func fcSetup(t *testing.T) *fcFamily {
	t.Helper()
	a := newApp(t)
	f := &fcFamily{a: a, desk: a.deskClient(), childCF: fcChildCF(t)}
	ownVisit, ownCode := f.desk.accept(a.acceptForm())
	f.ownDoc, f.ownPDF = fcPublish(t, a, f.desk, ownVisit, fcOwnTitle)
	childVisit, childCode := f.desk.accept(fcChildAcceptance(a, f.childCF, "333 123 4567"))
	f.childDoc, f.childPDF = fcPublish(t, a, f.desk, childVisit, fcChildTitle)
	f.ownPatient, f.childPatient = fcPatientID(t, a, rossiCF), fcPatientID(t, a, f.childCF)

	f.holder = a.register("Mario", "Rossi", "333 123 4567", "")
	f.holderID = fcAccountID(t, a, rossiMobile)
	if rec := f.holder.activate(rossiCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: status %d", rec.Code)
	}
	f.relativeID = fcAddRelative(t, f.holder, fcRelativeForm(f.childCF))
	rec := fcActivateRelative(f.holder, f.relativeID, f.childCF, childCode)
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/fascicolo?p=%d", f.childPatient); rec.Code != http.StatusSeeOther || got != want {
		t.Fatalf("relative activation: status %d, location %q; want 303 to %q\n%s", rec.Code, got, want, rec.Body.String())
	}
	return f
}

// fcDBFiles returns the database file and its WAL (when present).
func fcDBFiles(t testing.TB, a *app) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{a.db.Path, a.db.Path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

// fcFindable reports which database file holds window.
func fcFindable(t testing.TB, a *app, window []byte) string {
	t.Helper()
	for p, b := range fcDBFiles(t, a) {
		if bytes.Contains(b, window) {
			return p
		}
	}
	return ""
}

// fcCipherWindow returns 32 bytes of the document's stored ciphertext that
// can be found in the database files as they are now, so that not finding
// them later means they were erased.
func fcCipherWindow(t testing.TB, a *app, docID int64) []byte {
	t.Helper()
	var data []byte
	if err := a.raw.QueryRowContext(context.Background(), `SELECT data FROM document_chunks WHERE document_id = ? ORDER BY seq LIMIT 1`,
		docID).Scan(&data); err != nil {
		t.Fatalf("chunk of document %d: %v", docID, err)
	}
	if len(data) < 64 {
		t.Fatalf("chunk of document %d has only %d bytes", docID, len(data))
	}
	for _, off := range []int{len(data) / 2, len(data) / 3, 2 * len(data) / 3, 40, len(data) - 40} {
		w := bytes.Clone(data[off : off+32])
		if fcFindable(t, a, w) != "" {
			return w
		}
	}
	t.Fatalf("no window of document %d's ciphertext is in the database files", docID)
	return nil
}

// fcDump returns every row of query as text, to compare states.
func fcDump(t testing.TB, a *app, query string) string {
	t.Helper()
	rows, err := a.raw.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
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
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fcState is everything a patient action could change.
func fcState(t testing.TB, a *app) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT id, visit_id, published_at, expires_at, first_downloaded_at FROM documents ORDER BY id`,
		`SELECT document_id, seq, length(data) FROM document_chunks ORDER BY 1, 2`,
		`SELECT id, account_id, fiscal_code FROM relatives ORDER BY id`,
		`SELECT account_id, patient_id, relation, relative_id, privacy_version, consented_at FROM dossier_links ORDER BY 1, 2`,
		`SELECT id, mobile, online_disabled_at FROM patients ORDER BY id`,
		`SELECT id, used_at FROM activation_codes ORDER BY id`,
		`SELECT key, failures FROM login_throttle ORDER BY key`,
		`SELECT action, object_type, object_id, outcome FROM audit_events WHERE actor_kind = 'patient' ORDER BY id`,
	} {
		out[q] = fcDump(t, a, q)
	}
	return out
}

func fcAssertSameState(t testing.TB, before, after map[string]string) {
	t.Helper()
	for q, b := range before {
		if after[q] != b {
			t.Errorf("state changed:\n%s\nbefore:\n%safter:\n%s", q, b, after[q])
		}
	}
}

// fcFlashError returns the page's error message.
var fcNonce = regexp.MustCompile(`nonce="[^"]*"`)

// fcComparable is a page without its per-request CSP nonce.
func fcComparable(rec *httptest.ResponseRecorder) string {
	return fcNonce.ReplaceAllString(rec.Body.String(), `nonce=""`)
}

func fcFlashError(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return strings.TrimSpace(parseHTML(t, rec.Body.String()).Find(".flash.error").Text())
}

// fcActivations returns the dossier.activate audit events, oldest first.
func fcActivations(a *app) []db.AuditEvent {
	return a.auditActions(db.AuditFilter{Action: "dossier.activate"})
}

// 1. Family activation.

func TestFamilyControlActivation(t *testing.T) {
	f := fcSetup(t)

	if got, want := fcReportIDs(t, f.holder, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)), fcIDs(f.childDoc); !fcSameIDs(got, want) {
		t.Errorf("child's dossier lists %v, want %v", got, want)
	}
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)

	// The family page now opens the child's dossier.
	rec := f.holder.get("/profilo/familiari")
	if rec.Code != http.StatusOK {
		t.Fatalf("family page: %d", rec.Code)
	}
	if n := parseHTML(t, rec.Body.String()).Find(fmt.Sprintf(`a[href="/fascicolo?p=%d"]`, f.childPatient)).Length(); n != 1 {
		t.Errorf("family page has %d links to the child's dossier, want 1", n)
	}

	var got []string
	for _, e := range f.a.auditActions(db.AuditFilter{Action: "dossier.activate", ObjectType: "patient", ObjectID: f.childPatient}) {
		got = append(got, fmt.Sprintf("%s by %d", e.Outcome, e.Actor.ID))
	}
	if want := []string{fmt.Sprintf("ok by %d", f.holderID)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("child's activation audit = %v, want %v", got, want)
	}
	var relation string
	var relative int64
	if err := f.a.raw.QueryRow(`SELECT relation, relative_id FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
		f.holderID, f.childPatient).Scan(&relation, &relative); err != nil {
		t.Fatal(err)
	}
	if relation != db.RelationFamily || relative != f.relativeID {
		t.Errorf("link: relation %q, relative %d; want %q, %d", relation, relative, db.RelationFamily, f.relativeID)
	}
}

// fcSlips are the codes the desk printed in a refusal scenario.
type fcSlips struct{ childCF, ownCode, childCode string }

func TestFamilyControlActivationRefused(t *testing.T) {
	tests := []struct {
		name       string
		deskMobile string // the child's mobile at the desk
		cf, code   func(s fcSlips) string
		wantMsg    []string
		wantReason string
		wantSignup bool // the page links to /registrati
		retryWorks bool // the right data still work afterwards
	}{
		{
			name: "desk registered another mobile", deskMobile: "347 000 1111",
			cf: func(s fcSlips) string { return s.childCF }, code: func(s fcSlips) string { return s.childCode },
			wantMsg:    []string{"cellulare diverso", "account distinto", "dati del familiare", "SMS al cellulare del familiare"},
			wantReason: "mobile differs from the desk's", wantSignup: true,
		},
		{
			name: "code of another patient", deskMobile: "333 123 4567",
			cf: func(s fcSlips) string { return s.childCF }, code: func(s fcSlips) string { return s.ownCode },
			wantMsg:    []string{"non validi"},
			wantReason: "invalid code or codice fiscale", retryWorks: true,
		},
		{
			name: "codice fiscale is not the relative's", deskMobile: "333 123 4567",
			cf: func(s fcSlips) string { return rossiCF }, code: func(s fcSlips) string { return s.ownCode },
			wantMsg:    []string{"non è quello del familiare"},
			wantReason: "codice fiscale is not the relative's", retryWorks: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t)
			desk := a.deskClient()
			s := fcSlips{childCF: fcChildCF(t)}
			_, s.ownCode = desk.accept(a.acceptForm())
			childVisit, childCode := desk.accept(fcChildAcceptance(a, s.childCF, tt.deskMobile))
			s.childCode = childCode
			fcPublish(t, a, desk, childVisit, fcChildTitle)
			holder := a.register("Mario", "Rossi", "333 123 4567", "")
			holderID := fcAccountID(t, a, rossiMobile)
			rel := fcAddRelative(t, holder, fcRelativeForm(s.childCF))

			rec := fcActivateRelative(holder, rel, tt.cf(s), tt.code(s))
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%s", rec.Code, rec.Body.String())
			}
			msg := fcFlashError(t, rec)
			for _, want := range tt.wantMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
			signup := parseHTML(t, rec.Body.String()).Find(`main a[href="/registrati"]`).Length() > 0
			if signup != tt.wantSignup {
				t.Errorf("link to /registrati present = %v, want %v", signup, tt.wantSignup)
			}
			if n := fcCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ?`, holderID); n != 0 {
				t.Errorf("%d dossiers linked after a refusal", n)
			}
			if n := fcCount(t, a, `SELECT count(*) FROM activation_codes WHERE used_at IS NOT NULL`); n != 0 {
				t.Errorf("%d codes used up by a refusal", n)
			}
			ev := fcActivations(a)
			if len(ev) != 1 {
				t.Fatalf("%d dossier.activate audit events, want 1", len(ev))
			}
			if got := ev[0]; got.Outcome != db.OutcomeFailed || got.Detail != tt.wantReason || got.Actor.ID != holderID {
				t.Errorf("audit: outcome %q, detail %q, actor %d; want %q, %q, %d", got.Outcome, got.Detail, got.Actor.ID,
					db.OutcomeFailed, tt.wantReason, holderID)
			}
			if tt.retryWorks {
				rec := fcActivateRelative(holder, rel, s.childCF, s.childCode)
				if got, want := rec.Header().Get("Location"), fmt.Sprintf("/fascicolo?p=%d", fcPatientID(t, a, s.childCF)); rec.Code != http.StatusSeeOther || got != want {
					t.Errorf("retry with the right data: %d %q, want 303 %q", rec.Code, got, want)
				}
			}
		})
	}
}

func TestFamilyControlAddRelativeValidation(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := fcAccountID(t, a, rossiMobile)
	cf := fcChildCF(t)
	badCheck := cf[:15] + "A"
	if cf[15] == 'A' {
		badCheck = cf[:15] + "B"
	}
	tests := []struct {
		name, key, value string
		wantField        string
	}{
		{"invalid codice fiscale", "fiscal_code", badCheck, "fiscal_code"},
		{"malformed codice fiscale", "fiscal_code", "RSSLCU15H03", "fiscal_code"},
		{"birth day differs from the code", "birth_date", "2015-06-04", "birth_date"},
		{"birth year differs from the code", "birth_date", "2016-06-03", "birth_date"},
		{"sex differs from the code", "sex", "F", "sex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := fcRelativeForm(cf)
			form.Set(tt.key, tt.value)
			rec := holder.post("/profilo/familiari", form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", rec.Code)
			}
			doc := parseHTML(t, rec.Body.String())
			for _, field := range []string{"fiscal_code", "birth_date", "sex"} {
				got := doc.Find("#e-" + field).Length()
				if want := map[bool]int{true: 1, false: 0}[field == tt.wantField]; got != want {
					t.Errorf("#e-%s: %d elements, want %d", field, got, want)
				}
			}
			if n := fcCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, holderID); n != 0 {
				t.Errorf("%d relatives stored after a refused form", n)
			}
		})
	}
}

func TestFamilyControlRelativeDuplicate(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := fcAccountID(t, a, rossiMobile)
	cf := fcChildCF(t)
	fcAddRelative(t, holder, fcRelativeForm(cf))

	// Lower case is the same code.
	again := fcRelativeForm(strings.ToLower(cf))
	rec := holder.post("/profilo/familiari", again)
	if rec.Code != http.StatusConflict {
		t.Fatalf("same codice fiscale twice: status %d, want 409", rec.Code)
	}
	if parseHTML(t, rec.Body.String()).Find("#e-fiscal_code").Length() != 1 {
		t.Error("the conflict is not shown on the codice fiscale field")
	}
	if n := fcCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, holderID); n != 1 {
		t.Errorf("%d relatives, want 1", n)
	}
	// Another account may register the same person.
	other := a.register("Anna", "Rossi", "347 000 2222", "")
	fcAddRelative(t, other, fcRelativeForm(cf))
}

func TestFamilyControlActivationLockout(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	cf := fcChildCF(t)
	childVisit, childCode := desk.accept(fcChildAcceptance(a, cf, "333 123 4567"))
	fcPublish(t, a, desk, childVisit, fcChildTitle)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := fcAccountID(t, a, rossiMobile)
	rel := fcAddRelative(t, holder, fcRelativeForm(cf))

	for i := range 5 {
		if rec := fcActivateRelative(holder, rel, cf, fcUnknownCode); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: status %d, want 422", i+1, rec.Code)
		}
	}
	rec := fcActivateRelative(holder, rel, cf, childCode)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right data after 5 failures: status %d, want 429", rec.Code)
	}
	if msg := fcFlashError(t, rec); !strings.Contains(msg, "Troppi tentativi") {
		t.Errorf("lockout message %q", msg)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ?`, holderID); n != 0 {
		t.Errorf("%d dossiers linked while locked", n)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM activation_codes WHERE used_at IS NOT NULL`); n != 0 {
		t.Errorf("the code was used while locked")
	}

	// The lock is temporary: afterwards the right data work.
	a.advance(16 * time.Minute)
	if rec := fcActivateRelative(holder, rel, cf, childCode); rec.Code != http.StatusSeeOther {
		t.Errorf("after the lock: status %d, want 303", rec.Code)
	}

	var got []string
	for _, e := range fcActivations(a) {
		if e.Actor.ID != holderID {
			t.Errorf("activation audited with actor %d, want %d", e.Actor.ID, holderID)
		}
		got = append(got, e.Outcome)
	}
	want := []string{"failed", "failed", "failed", "failed", "failed", "denied", "ok"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dossier.activate outcomes = %v, want %v", got, want)
	}
}

// 2. One dossier, two accounts.

func TestFamilyControlMultiAccountDossier(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	mother := a.register("Anna", "Rossi", "347 000 2222", "")

	// The desk accepts Luca again with the mother's mobile: a new slip.
	visit2, code2 := f.desk.accept(fcChildAcceptance(a, f.childCF, "347 000 2222"))
	rel := fcAddRelative(t, mother, fcRelativeForm(f.childCF))
	rec := fcActivateRelative(mother, rel, f.childCF, code2)
	if got, want := rec.Header().Get("Location"), fmt.Sprintf("/fascicolo?p=%d", f.childPatient); rec.Code != http.StatusSeeOther || got != want {
		t.Fatalf("second parent's activation: %d %q, want 303 %q\n%s", rec.Code, got, want, rec.Body.String())
	}
	lastMsg := fcCount(t, a, `SELECT coalesce(max(id), 0) FROM outbox`)
	doc2, pdf2 := fcPublish(t, a, f.desk, visit2, "Ecografia addome")

	if n := fcCount(t, a, `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, f.childPatient); n != 2 {
		t.Errorf("child's dossier linked to %d accounts, want 2", n)
	}
	for _, p := range []struct {
		name string
		c    *client
	}{{"father", f.holder}, {"mother", mother}} {
		t.Run(p.name, func(t *testing.T) {
			if got, want := fcReportIDs(t, p.c, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)), fcIDs(f.childDoc, doc2); !fcSameIDs(got, want) {
				t.Errorf("child's dossier lists %v, want %v", got, want)
			}
			fcWantDownload(t, p.c, f.childDoc, f.childPDF)
			fcWantDownload(t, p.c, doc2, pdf2)
		})
	}
	// The mother does not see the father's own dossier.
	if rec := mother.get(fmt.Sprintf("/fascicolo?p=%d", f.ownPatient)); rec.Code != http.StatusNotFound {
		t.Errorf("mother opening the father's dossier: %d, want 404", rec.Code)
	}
	if rec := fcDownload(mother, f.ownDoc); rec.Code != http.StatusNotFound {
		t.Errorf("mother downloading the father's report: %d, want 404", rec.Code)
	}
	// Both were notified of the new report.
	for _, m := range []string{rossiMobile, "+393470002222"} {
		if n := fcCount(t, a, `SELECT count(*) FROM outbox WHERE kind = 'report_available' AND recipient = ? AND id > ?`,
			m, lastMsg); n != 1 {
			t.Errorf("%s: %d notices of the new report, want 1", m, n)
		}
	}
}

// 3. Authorization.

// fcOtherFamily adds Giulia Verdi (another account, another mobile) with
// her daughter Anna's dossier and one published report.
type fcOtherFamily struct {
	c                 *client
	cf                string
	patient, rel, doc int64
	pdf               []byte
}

func fcSetupOther(t *testing.T, f *fcFamily) fcOtherFamily {
	t.Helper()
	a := f.a
	o := fcOtherFamily{}
	var err error
	if o.cf, err = codicefiscale.Generate("Verdi", "Anna", time.Date(2016, 2, 20, 0, 0, 0, 0, time.UTC), "F", "E897"); err != nil {
		t.Fatal(err)
	}
	form := a.acceptForm()
	for k, v := range map[string]string{"fiscal_code": o.cf, "first_name": "Anna", "last_name": "Verdi", "birth_date": "2016-02-20",
		"birth_place": "Mantova", "sex": "F", "mobile": "347 555 1234", "email": "", "exams": "Visita ortopedica"} {
		form.Set(k, v)
	}
	visit, code := f.desk.accept(form)
	o.doc, o.pdf = fcPublish(t, a, f.desk, visit, "Visita ortopedica")
	o.c = a.register("Giulia", "Verdi", "347 555 1234", "")
	o.rel = fcAddRelative(t, o.c, url.Values{"first_name": {"Anna"}, "last_name": {"Verdi"}, "birth_date": {"2016-02-20"},
		"birth_place": {"Mantova"}, "sex": {"F"}, "fiscal_code": {o.cf}})
	if rec := fcActivateRelative(o.c, o.rel, o.cf, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("other family's activation: %d", rec.Code)
	}
	o.patient = fcPatientID(t, a, o.cf)
	return o
}

func TestFamilyControlRelativeAuthorization(t *testing.T) {
	f := fcSetup(t)
	b := fcSetupOther(t, f)
	before := fcState(t, f.a)

	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	made := id(fcMadeUpID)
	tests := []struct {
		name, method, path, madeUp string
		form                       url.Values
	}{
		{"download", "GET", "/fascicolo/referti/" + id(b.doc), "/fascicolo/referti/" + made, nil},
		{"open online", "GET", "/fascicolo/referti/" + id(b.doc) + "/apri", "/fascicolo/referti/" + made + "/apri", nil},
		{"delete form", "GET", "/fascicolo/referti/" + id(b.doc) + "/elimina", "/fascicolo/referti/" + made + "/elimina", nil},
		{"delete", "POST", "/fascicolo/referti/" + id(b.doc) + "/elimina", "/fascicolo/referti/" + made + "/elimina", url.Values{}},
		{"switch to the dossier", "GET", "/fascicolo?p=" + id(b.patient), "/fascicolo?p=" + made, nil},
		{"reset form", "GET", "/fascicolo/" + id(b.patient) + "/azzera", "/fascicolo/" + made + "/azzera", nil},
		{"reset", "POST", "/fascicolo/" + id(b.patient) + "/azzera", "/fascicolo/" + made + "/azzera", url.Values{}},
		{"disable", "POST", "/fascicolo/" + id(b.patient) + "/disattiva", "/fascicolo/" + made + "/disattiva", url.Values{}},
		{"enable", "POST", "/fascicolo/" + id(b.patient) + "/riattiva", "/fascicolo/" + made + "/riattiva", url.Values{"consent": {"1"}}},
		{"relative activation form", "GET", "/profilo/familiari/" + id(b.rel) + "/attiva", "/profilo/familiari/" + made + "/attiva", nil},
		{"relative activation", "POST", "/profilo/familiari/" + id(b.rel) + "/attiva", "/profilo/familiari/" + made + "/attiva",
			url.Values{"consent": {"1"}, "fiscal_code": {b.cf}, "code": {fcUnknownCode}}},
		{"relative removal form", "GET", "/profilo/familiari/" + id(b.rel) + "/rimuovi", "/profilo/familiari/" + made + "/rimuovi", nil},
		{"relative removal", "POST", "/profilo/familiari/" + id(b.rel) + "/rimuovi", "/profilo/familiari/" + made + "/rimuovi", url.Values{}},
	}
	send := func(path, method string, form url.Values) *httptest.ResponseRecorder {
		if method == "POST" {
			return f.holder.post(path, form)
		}
		return f.holder.get(path)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(tt.path, tt.method, tt.form)
			if got.Code != http.StatusNotFound {
				t.Fatalf("%s %s: status %d, want 404", tt.method, tt.path, got.Code)
			}
			ref := send(tt.madeUp, tt.method, tt.form)
			if ref.Code != got.Code || fcComparable(ref) != fcComparable(got) {
				t.Errorf("%s %s answers differently (%d) from a made-up id (%d)", tt.method, tt.path, got.Code, ref.Code)
			}
		})
	}
	fcAssertSameState(t, before, fcState(t, f.a))
	fcWantDownload(t, b.c, b.doc, b.pdf)
}

func TestFamilyControlRemoveRelativeRevokesAccess(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)

	path := fmt.Sprintf("/profilo/familiari/%d/rimuovi", f.relativeID)
	rec := f.holder.get(path)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Rimuovere Luca Rossi") {
		t.Fatalf("removal confirmation: status %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM relatives WHERE id = ?`, f.relativeID); n != 1 {
		t.Fatal("the confirmation page removed the relative")
	}
	rec = f.holder.post(path, url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profilo/familiari" {
		t.Fatalf("removal: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	madeUp := fcDownload(f.holder, fcMadeUpID)
	for _, target := range []string{
		fmt.Sprintf("/fascicolo/referti/%d", f.childDoc),
		fmt.Sprintf("/fascicolo/referti/%d/apri", f.childDoc),
		fmt.Sprintf("/fascicolo?p=%d", f.childPatient),
	} {
		got := f.holder.get(target)
		if got.Code != http.StatusNotFound {
			t.Errorf("GET %s after removal: %d, want 404", target, got.Code)
		} else if fcComparable(got) != fcComparable(madeUp) {
			t.Errorf("GET %s after removal differs from a made-up id", target)
		}
	}
	if n := fcCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ? AND patient_id = ?`, f.holderID, f.childPatient); n != 0 {
		t.Errorf("link to the child's dossier survived the removal")
	}
	if n := fcCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, f.holderID); n != 0 {
		t.Errorf("%d relatives after removal", n)
	}
	// The reports themselves stay (paper, other accounts); the holder's own
	// dossier is untouched.
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, f.childDoc); n != 1 {
		t.Errorf("removing the relative deleted the child's report")
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF)
	ev := a.auditActions(db.AuditFilter{Action: "relative.remove", ObjectType: "patient", ObjectID: f.childPatient})
	if len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("relative.remove audit: %+v", ev)
	}
}

// 4. The switcher and the notices.

func TestFamilyControlSwitchDossiers(t *testing.T) {
	f := fcSetup(t)
	tests := []struct {
		target, heading string
		want            []int64
	}{
		{"/fascicolo", "Mario Rossi", fcIDs(f.ownDoc)},
		{fmt.Sprintf("/fascicolo?p=%d", f.ownPatient), "Mario Rossi", fcIDs(f.ownDoc)},
		{fmt.Sprintf("/fascicolo?p=%d", f.childPatient), "Luca Rossi", fcIDs(f.childDoc)},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if got := fcReportIDs(t, f.holder, tt.target); !fcSameIDs(got, tt.want) {
				t.Errorf("reports %v, want %v", got, tt.want)
			}
			doc := parseHTML(t, f.holder.get(tt.target).Body.String())
			if got := strings.TrimSpace(doc.Find("section.card h2").First().Text()); got != tt.heading {
				t.Errorf("dossier shown: %q, want %q", got, tt.heading)
			}
			if n := doc.Find("nav.dossiers a").Length(); n != 2 {
				t.Errorf("switcher has %d entries, want 2", n)
			}
			if got := strings.TrimSpace(doc.Find(`nav.dossiers a[aria-current="page"]`).Text()); got != tt.heading {
				t.Errorf("switcher marks %q as current, want %q", got, tt.heading)
			}
		})
	}
}

func TestFamilyControlSwitchChildNoticeNamesNobody(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	var last int64
	a.raw.QueryRow(`SELECT coalesce(max(id), 0) FROM outbox`).Scan(&last)

	visit, _ := f.desk.accept(func() url.Values {
		v := fcChildAcceptance(a, f.childCF, "333 123 4567")
		v.Set("exams", "Ecografia addome\nVisita cardiologica")
		return v
	}())
	fcPublish(t, a, f.desk, visit, "Ecografia addome")

	rows, err := a.raw.Query(`SELECT recipient, subject, body FROM outbox WHERE id > ? ORDER BY id`, last)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var to, subject, body string
		if err := rows.Scan(&to, &subject, &body); err != nil {
			t.Fatal(err)
		}
		n++
		if to != rossiMobile {
			t.Errorf("notice to %q, want the holder's %q", to, rossiMobile)
		}
		if !strings.Contains(body, "/accedi") {
			t.Errorf("notice %q has no link to the portal", body)
		}
		text := strings.ToLower(subject + " " + body)
		for _, secret := range []string{"luca", "rossi", "mario", strings.ToLower(f.childCF), "ecografia", "addome", "cardiolog",
			"pediatric", "visita"} {
			if strings.Contains(text, secret) {
				t.Errorf("notice for the child's report says %q: %q", secret, subject+" "+body)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d notices queued for the child's report, want 1", n)
	}
}

// 5. Disable and enable.

func TestFamilyControlDisableEnable(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	childPage := fmt.Sprintf("/fascicolo?p=%d", f.childPatient)
	deskPage := fmt.Sprintf("/desk/patients/%d", f.childPatient)
	if strings.Contains(f.desk.get(deskPage).Body.String(), "disattivato dal paziente") {
		t.Fatal("the desk shows the service disabled before it was")
	}

	base := fmt.Sprintf("/fascicolo/%d/", f.childPatient)
	if rec := f.holder.get(base + "disattiva"); rec.Code != http.StatusOK {
		t.Fatalf("disable confirmation: %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM patients WHERE online_disabled_at IS NOT NULL`); n != 0 {
		t.Fatal("the confirmation page disabled the service")
	}
	rec := f.holder.post(base+"disattiva", url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != childPage {
		t.Fatalf("disable: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	if got := fcReportIDs(t, f.holder, childPage); len(got) != 0 {
		t.Errorf("disabled dossier lists %v", got)
	}
	if rec := fcDownload(f.holder, f.childDoc); rec.Code != http.StatusNotFound {
		t.Errorf("download from a disabled dossier: %d, want 404", rec.Code)
	}
	if rec := f.holder.get(fmt.Sprintf("/fascicolo/referti/%d/apri", f.childDoc)); rec.Code != http.StatusNotFound {
		t.Errorf("online view from a disabled dossier: %d, want 404", rec.Code)
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF) // only the child's dossier is off
	if !strings.Contains(f.desk.get(deskPage).Body.String(), "disattivato dal paziente") {
		t.Error("the desk patient page does not say the patient disabled the service")
	}
	if ev := a.auditActions(db.AuditFilter{Action: "dossier.disable", ObjectType: "patient", ObjectID: f.childPatient}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("dossier.disable audit: %+v", ev)
	}

	// The desk cannot publish any more, and nobody is notified.
	outbox := fcCount(t, a, `SELECT count(*) FROM outbox`)
	visit, _ := f.desk.accept(fcChildAcceptance(a, f.childCF, "333 123 4567"))
	if rec := f.desk.upload(visit, file{"Ecografia addome", "e.pdf", samplePDF(t, "Ecografia addome")}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d", rec.Code)
	}
	if rec := f.desk.post(fmt.Sprintf("/desk/visits/%d/publish", visit), nil); rec.Code != http.StatusConflict {
		t.Errorf("publish for a disabled dossier: %d, want 409", rec.Code)
	}
	newDoc := fcLastDoc(t, a, visit)
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id = ? AND published_at IS NULL`, newDoc); n != 1 {
		t.Error("the report was published although the patient disabled the service")
	}
	if got := fcCount(t, a, `SELECT count(*) FROM outbox`); got != outbox {
		t.Errorf("%d messages queued by a refused publication", got-outbox)
	}

	// Re-enabling needs the consent again.
	var consented time.Time
	if err := a.raw.QueryRow(`SELECT consented_at FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
		f.holderID, f.childPatient).Scan(&consented); err != nil {
		t.Fatal(err)
	}
	a.advance(2 * time.Hour)
	if rec := f.holder.get(base + "riattiva"); rec.Code != http.StatusOK {
		t.Errorf("enable confirmation: %d", rec.Code)
	}
	rec = f.holder.post(base+"riattiva", url.Values{})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("enable without consent: %d, want 422", rec.Code)
	}
	if parseHTML(t, rec.Body.String()).Find("#e-consent").Length() != 1 {
		t.Error("the missing consent is not shown")
	}
	if n := fcCount(t, a, `SELECT count(*) FROM patients WHERE id = ? AND online_disabled_at IS NOT NULL`, f.childPatient); n != 1 {
		t.Error("enable without consent turned the service on")
	}
	if n := len(a.auditActions(db.AuditFilter{Action: "dossier.enable"})); n != 0 {
		t.Errorf("%d dossier.enable events without consent", n)
	}

	rec = f.holder.post(base+"riattiva", url.Values{"consent": {"1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != childPage {
		t.Fatalf("enable: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got, want := fcReportIDs(t, f.holder, childPage), fcIDs(f.childDoc); !fcSameIDs(got, want) {
		t.Errorf("re-enabled dossier lists %v, want %v", got, want)
	}
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)
	if ev := a.auditActions(db.AuditFilter{Action: "dossier.enable", ObjectType: "patient", ObjectID: f.childPatient}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("dossier.enable audit: %+v", ev)
	}
	var version string
	if err := a.raw.QueryRow(`SELECT consented_at, privacy_version FROM dossier_links WHERE account_id = ? AND patient_id = ?`,
		f.holderID, f.childPatient).Scan(&consented, &version); err != nil {
		t.Fatal(err)
	}
	if !consented.Equal(a.Now()) || version != handlers.DossierPrivacyVersion {
		t.Errorf("consent after enabling: %v version %q, want %v version %q", consented, version, a.Now(), handlers.DossierPrivacyVersion)
	}
}

// 6. Reset and single deletion.

// fcSecondChildReport publishes another report for the child.
func fcSecondChildReport(t *testing.T, f *fcFamily) (int64, []byte) {
	t.Helper()
	visit, _ := f.desk.accept(fcChildAcceptance(f.a, f.childCF, "333 123 4567"))
	return fcPublish(t, f.a, f.desk, visit, "Ecografia addome")
}

func TestFamilyControlResetDossier(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	doc2, _ := fcSecondChildReport(t, f)
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF) // first_downloaded_at is set
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id = ? AND first_downloaded_at IS NOT NULL`, f.childDoc); n != 1 {
		t.Fatal("the download was not recorded")
	}
	windows := [][]byte{fcCipherWindow(t, a, f.childDoc), fcCipherWindow(t, a, doc2)}
	ownChunks := fcCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, f.ownDoc)

	path := fmt.Sprintf("/fascicolo/%d/azzera", f.childPatient)
	rec := f.holder.get(path)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Azzerare lo storico") {
		t.Fatalf("reset confirmation: %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id IN (?, ?)`, f.childDoc, doc2); n != 2 {
		t.Fatal("the confirmation page deleted reports")
	}
	rec = f.holder.post(path, url.Values{})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != fmt.Sprintf("/fascicolo?p=%d", f.childPatient) {
		t.Fatalf("reset: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	checks := []struct {
		name  string
		query string
		args  []any
		want  int
	}{
		{"child's reports", `SELECT count(*) FROM documents d JOIN visits v ON v.id = d.visit_id WHERE v.patient_id = ? AND d.published_at IS NOT NULL`, []any{f.childPatient}, 0},
		{"child's chunks", `SELECT count(*) FROM document_chunks WHERE document_id IN (?, ?)`, []any{f.childDoc, doc2}, 0},
		{"download history", `SELECT count(*) FROM documents WHERE id = ? AND first_downloaded_at IS NOT NULL`, []any{f.childDoc}, 0},
		{"own report", `SELECT count(*) FROM documents WHERE id = ?`, []any{f.ownDoc}, 1},
		{"own chunks", `SELECT count(*) FROM document_chunks WHERE document_id = ?`, []any{f.ownDoc}, ownChunks},
	}
	for _, c := range checks {
		if got := fcCount(t, a, c.query, c.args...); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.name, got, c.want)
		}
	}
	for i, w := range windows {
		if p := fcFindable(t, a, w); p != "" {
			t.Errorf("ciphertext of report %d still in %s after the reset", i+1, p)
		}
	}
	if got := fcReportIDs(t, f.holder, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)); len(got) != 0 {
		t.Errorf("reset dossier still lists %v", got)
	}
	for _, id := range []int64{f.childDoc, doc2} {
		if rec := fcDownload(f.holder, id); rec.Code != http.StatusNotFound {
			t.Errorf("download of deleted report %d: %d, want 404", id, rec.Code)
		}
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF)

	ev := a.auditActions(db.AuditFilter{Action: "dossier.reset", ObjectType: "patient", ObjectID: f.childPatient})
	if len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Fatalf("dossier.reset audit: %+v", ev)
	}
	detail := strings.ToLower(ev[0].Detail)
	for _, secret := range []string{"visita", "pediatric", "ecografia", "addome", "emocromo", "glicemia", "luca"} {
		if strings.Contains(detail, secret) {
			t.Errorf("dossier.reset detail %q names %q", ev[0].Detail, secret)
		}
	}
}

func TestFamilyControlDeleteReport(t *testing.T) {
	f := fcSetup(t)
	a := f.a
	doc2, _ := fcSecondChildReport(t, f)
	window := fcCipherWindow(t, a, doc2)

	path := fmt.Sprintf("/fascicolo/referti/%d/elimina", doc2)
	rec := f.holder.get(path)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Ecografia addome") {
		t.Fatalf("delete confirmation: %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, doc2); n != 1 {
		t.Fatal("the confirmation page deleted the report")
	}
	rec = f.holder.post(path, url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, doc2); n != 0 {
		t.Error("the report row survived")
	}
	if n := fcCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, doc2); n != 0 {
		t.Errorf("%d chunks of the deleted report survived", n)
	}
	if p := fcFindable(t, a, window); p != "" {
		t.Errorf("ciphertext of the deleted report still in %s", p)
	}
	if rec := fcDownload(f.holder, doc2); rec.Code != http.StatusNotFound {
		t.Errorf("download of the deleted report: %d, want 404", rec.Code)
	}
	// The other report of the same dossier stays.
	if got, want := fcReportIDs(t, f.holder, fmt.Sprintf("/fascicolo?p=%d", f.childPatient)), fcIDs(f.childDoc); !fcSameIDs(got, want) {
		t.Errorf("dossier lists %v, want %v", got, want)
	}
	fcWantDownload(t, f.holder, f.childDoc, f.childPDF)
	if ev := a.auditActions(db.AuditFilter{Action: "report.delete_by_patient", ObjectType: "document", ObjectID: doc2}); len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("report.delete_by_patient audit: %+v", ev)
	}
}

// 7. Account deletion.

func fcCopyCookies(c *client) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for k, v := range c.cookies {
		ck := *v
		out[k] = &ck
	}
	return out
}

func TestFamilyControlDeleteAccount(t *testing.T) {
	a := newApp(t)
	desk := a.deskClient()
	// The mother registers first, so the holder's account has the highest id.
	mother := a.register("Anna", "Rossi", "347 000 2222", "")

	childCF := fcChildCF(t)
	ownVisit, ownCode := desk.accept(a.acceptForm())
	ownDoc, _ := fcPublish(t, a, desk, ownVisit, fcOwnTitle)
	childVisit, childCode := desk.accept(fcChildAcceptance(a, childCF, "333 123 4567"))
	childDoc, childPDF := fcPublish(t, a, desk, childVisit, fcChildTitle)
	ownPatient, childPatient := fcPatientID(t, a, rossiCF), fcPatientID(t, a, childCF)

	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := fcAccountID(t, a, rossiMobile)
	if rec := holder.activate(rossiCF, ownCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("own activation: %d", rec.Code)
	}
	if rec := fcActivateRelative(holder, fcAddRelative(t, holder, fcRelativeForm(childCF)), childCF, childCode); rec.Code != http.StatusSeeOther {
		t.Fatalf("child activation: %d", rec.Code)
	}
	// The mother shares the child's dossier.
	_, code2 := desk.accept(fcChildAcceptance(a, childCF, "347 000 2222"))
	if rec := fcActivateRelative(mother, fcAddRelative(t, mother, fcRelativeForm(childCF)), childCF, code2); rec.Code != http.StatusSeeOther {
		t.Fatalf("mother's activation: %d", rec.Code)
	}
	// A new report of the holder queues a notice for the holder.
	ownVisit2, _ := desk.accept(a.acceptForm())
	ownDoc2, _ := fcPublish(t, a, desk, ownVisit2, "Glicemia")

	second := a.loginPatient(rossiMobile) // used right after the deletion
	third := a.loginPatient(rossiMobile)  // left untouched until after re-registration

	pre := []struct {
		name, query string
		args        []any
	}{
		{"relatives", `SELECT count(*) FROM relatives WHERE account_id = ?`, []any{holderID}},
		{"dossier links", `SELECT count(*) FROM dossier_links WHERE account_id = ?`, []any{holderID}},
		{"otp codes", `SELECT count(*) FROM otp_codes WHERE mobile = ?`, []any{rossiMobile}},
		{"queued messages", `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND (recipient = ? OR account_id = ?)`, []any{rossiMobile, holderID}},
	}
	for _, p := range pre {
		if fcCount(t, a, p.query, p.args...) == 0 {
			t.Fatalf("setup: no %s to delete", p.name)
		}
	}
	patients := fcCount(t, a, `SELECT count(*) FROM patients`)
	visits := fcCount(t, a, `SELECT count(*) FROM visits`)

	// Wrong password: nothing happens.
	if rec := holder.get("/profilo/elimina"); rec.Code != http.StatusOK {
		t.Fatalf("deletion page: %d", rec.Code)
	}
	before := fcState(t, a)
	rec := holder.post("/profilo/elimina", url.Values{"password": {"non è la mia password"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d, want 422", rec.Code)
	}
	if parseHTML(t, rec.Body.String()).Find("#e-password").Length() != 1 {
		t.Error("wrong password not shown on the field")
	}
	// The wrong password counts against the account's re-authentication
	// lock and is audited; nothing else changes.
	after := fcState(t, a)
	for q := range after {
		if strings.Contains(q, "login_throttle") || strings.Contains(q, "audit_events") {
			delete(before, q)
			delete(after, q)
		}
	}
	fcAssertSameState(t, before, after)
	if n := fcCount(t, a, `SELECT count(*) FROM audit_events WHERE action = 'account.reauthenticate' AND outcome = 'failed'`); n != 1 {
		t.Errorf("failed re-authentications audited = %d, want 1", n)
	}
	if n := fcCount(t, a, `SELECT failures FROM login_throttle WHERE key = ?`, "reauth:"+itoa(holderID)); n != 1 {
		t.Errorf("re-authentication failures after a wrong password = %d, want 1", n)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM accounts WHERE id = ?`, holderID); n != 1 {
		t.Fatal("a wrong password deleted the account")
	}

	oldCookies := fcCopyCookies(holder)
	rec = holder.post("/profilo/elimina", url.Values{"password": {patientPassword}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("deletion: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	replay := a.client()
	replay.cookies = oldCookies
	for name, c := range map[string]*client{"replayed cookie": replay, "second session": second} {
		rec := c.get("/fascicolo")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
			t.Errorf("%s after deletion: %d %q, want 303 /accedi", name, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := a.client().post("/accedi", url.Values{"identifier": {rossiMobile}, "password": {patientPassword}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("login after deletion: %d, want 401", rec.Code)
	}

	gone := []struct {
		name, query string
		args        []any
		want        int
	}{
		{"account", `SELECT count(*) FROM accounts WHERE id = ? OR mobile = ?`, []any{holderID, rossiMobile}, 0},
		{"relatives", `SELECT count(*) FROM relatives WHERE account_id = ?`, []any{holderID}, 0},
		{"dossier links", `SELECT count(*) FROM dossier_links WHERE account_id = ?`, []any{holderID}, 0},
		{"otp codes", `SELECT count(*) FROM otp_codes WHERE mobile = ?`, []any{rossiMobile}, 0},
		{"queued messages", `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND (recipient = ? OR account_id = ?)`, []any{rossiMobile, holderID}, 0},
		{"orphaned dossier's reports", `SELECT count(*) FROM documents d JOIN visits v ON v.id = d.visit_id WHERE v.patient_id = ? AND d.published_at IS NOT NULL`, []any{ownPatient}, 0},
		{"orphaned dossier's chunks", `SELECT count(*) FROM document_chunks WHERE document_id IN (?, ?)`, []any{ownDoc, ownDoc2}, 0},
		{"shared dossier's report", `SELECT count(*) FROM documents WHERE id = ?`, []any{childDoc}, 1},
		{"shared dossier's link", `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, []any{childPatient}, 1},
		{"patients", `SELECT count(*) FROM patients`, nil, patients},
		{"visits", `SELECT count(*) FROM visits`, nil, visits},
	}
	for _, g := range gone {
		if got := fcCount(t, a, g.query, g.args...); got != g.want {
			t.Errorf("%s: %d rows after deletion, want %d", g.name, got, g.want)
		}
	}
	if fcCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, childDoc) == 0 {
		t.Error("the shared dossier's report lost its ciphertext")
	}
	fcWantDownload(t, mother, childDoc, childPDF)

	ev := a.auditActions(db.AuditFilter{Action: "account.delete"})
	if len(ev) != 1 {
		t.Fatalf("%d account.delete audit rows, want 1", len(ev))
	}
	if ev[0].Actor.Name != "" || ev[0].Actor.IP != "" {
		t.Errorf("account.delete audit keeps actor_name %q, ip %q; want both empty", ev[0].Actor.Name, ev[0].Actor.IP)
	}
	for _, secret := range []string{"Rossi", "Mario", "333", rossiMobile} {
		if strings.Contains(ev[0].Detail, secret) {
			t.Errorf("account.delete detail %q names %q", ev[0].Detail, secret)
		}
	}

	// The account's id is free again: whoever registers next must not
	// inherit a session of the deleted account.
	stranger := a.register("Paolo", "Bianchi", "347 999 8888", "")
	strangerID := fcAccountID(t, a, "+393479998888")
	rec = third.get("/fascicolo")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/accedi" {
		profile := third.get("/profilo")
		t.Errorf("a session of the deleted account (id %d) works after another person registered (id %d): GET /fascicolo %d %q, want 303 /accedi; "+
			"its /profilo (%d) shows Paolo Bianchi: %v",
			holderID, strangerID, rec.Code, rec.Header().Get("Location"), profile.Code, strings.Contains(profile.Body.String(), "Paolo Bianchi"))
	}
	if rec := stranger.get("/attiva"); rec.Code != http.StatusOK {
		t.Errorf("new account: /attiva %d", rec.Code)
	}

	// The same mobile can register again.
	again := a.register("Mario", "Rossi", "333 123 4567", "")
	if rec := again.get("/attiva"); rec.Code != http.StatusOK {
		t.Errorf("re-registered account: /attiva %d", rec.Code)
	}
	if n := fcCount(t, a, `SELECT count(*) FROM dossier_links l JOIN accounts a ON a.id = l.account_id WHERE a.mobile = ?`, rossiMobile); n != 0 {
		t.Errorf("the re-registered account inherited %d dossiers", n)
	}
}
