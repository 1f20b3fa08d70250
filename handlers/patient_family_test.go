package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fse/db"
	"fse/internal/codicefiscale"
)

// Tests of family dossiers: adding a relative, activating their dossier,
// sharing it between accounts, authorization, removal and the switcher.

// fcNonce is a page's CSP nonce, different on every request.
var fcNonce = regexp.MustCompile(`nonce="[^"]*"`)

// fcComparable is a page without its per-request CSP nonce.
func fcComparable(rec *httptest.ResponseRecorder) string {
	return fcNonce.ReplaceAllString(rec.Body.String(), `nonce=""`)
}

// fcActivations returns the dossier.activate audit events, oldest first.
func fcActivations(a *app) []db.AuditEvent {
	return a.auditActions(db.AuditFilter{Action: "dossier.activate"})
}

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
			publishReport(t, desk, childVisit, fcChildTitle)
			holder := a.register("Mario", "Rossi", "333 123 4567", "")
			holderID := accountIDOf(t, a, rossiMobile)
			rel := fcAddRelative(t, holder, fcRelativeForm(s.childCF))

			rec := fcActivateRelative(holder, rel, tt.cf(s), tt.code(s))
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%s", rec.Code, rec.Body.String())
			}
			msg := paAlert(t, rec)
			for _, want := range tt.wantMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
			signup := parseHTML(t, rec.Body.String()).Find(`main a[href="/registrati"]`).Length() > 0
			if signup != tt.wantSignup {
				t.Errorf("link to /registrati present = %v, want %v", signup, tt.wantSignup)
			}
			if n := authCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ?`, holderID); n != 0 {
				t.Errorf("%d dossiers linked after a refusal", n)
			}
			if n := authCount(t, a, `SELECT count(*) FROM activation_codes WHERE used_at IS NOT NULL`); n != 0 {
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
				if got, want := rec.Header().Get("Location"), fmt.Sprintf("/fascicolo?p=%d", patientByCF(t, a, s.childCF).ID); rec.Code != http.StatusSeeOther || got != want {
					t.Errorf("retry with the right data: %d %q, want 303 %q", rec.Code, got, want)
				}
			}
		})
	}
}

func TestFamilyControlAddRelativeValidation(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := accountIDOf(t, a, rossiMobile)
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
			if n := authCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, holderID); n != 0 {
				t.Errorf("%d relatives stored after a refused form", n)
			}
		})
	}
}

func TestFamilyControlRelativeDuplicate(t *testing.T) {
	a := newApp(t)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := accountIDOf(t, a, rossiMobile)
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
	if n := authCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, holderID); n != 1 {
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
	publishReport(t, desk, childVisit, fcChildTitle)
	holder := a.register("Mario", "Rossi", "333 123 4567", "")
	holderID := accountIDOf(t, a, rossiMobile)
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
	if msg := paAlert(t, rec); !strings.Contains(msg, "Troppi tentativi") {
		t.Errorf("lockout message %q", msg)
	}
	if n := authCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ?`, holderID); n != 0 {
		t.Errorf("%d dossiers linked while locked", n)
	}
	if n := authCount(t, a, `SELECT count(*) FROM activation_codes WHERE used_at IS NOT NULL`); n != 0 {
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
	lastMsg := authCount(t, a, `SELECT coalesce(max(id), 0) FROM outbox`)
	doc2, pdf2 := publishReport(t, f.desk, visit2, "Ecografia addome")

	if n := authCount(t, a, `SELECT count(*) FROM dossier_links WHERE patient_id = ?`, f.childPatient); n != 2 {
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
		if n := authCount(t, a, `SELECT count(*) FROM outbox WHERE kind = 'report_available' AND recipient = ? AND id > ?`,
			m, lastMsg); n != 1 {
			t.Errorf("%s: %d notices of the new report, want 1", m, n)
		}
	}
}

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
	o.doc, o.pdf = publishReport(t, f.desk, visit, "Visita ortopedica")
	o.c = a.register("Giulia", "Verdi", "347 555 1234", "")
	o.rel = fcAddRelative(t, o.c, url.Values{"first_name": {"Anna"}, "last_name": {"Verdi"}, "birth_date": {"2016-02-20"},
		"birth_place": {"Mantova"}, "sex": {"F"}, "fiscal_code": {o.cf}})
	if rec := fcActivateRelative(o.c, o.rel, o.cf, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("other family's activation: %d", rec.Code)
	}
	o.patient = patientByCF(t, a, o.cf).ID
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

	// Each request for the other family's report, and for a made-up one,
	// is a denied event by the holder for admins (download, online view,
	// deletion form and deletion).
	for _, doc := range []int64{b.doc, fcMadeUpID} {
		got := map[string]int{}
		for _, e := range f.a.auditActions(db.AuditFilter{Outcome: db.OutcomeDenied, ObjectType: "document", ObjectID: doc}) {
			if e.Actor.Kind != db.ActorPatient || e.Actor.ID != f.holderID {
				t.Errorf("document %d: denied event by %+v, want the holder's account %d", doc, e.Actor, f.holderID)
			}
			got[e.Action]++
		}
		want := map[string]int{db.ActionReportDownload: 1, db.ActionReportViewOnline: 1, db.ActionReportDeleteByPatient: 2}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("document %d: denied events %v, want %v", doc, got, want)
		}
	}
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
	if n := authCount(t, a, `SELECT count(*) FROM relatives WHERE id = ?`, f.relativeID); n != 1 {
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
	if n := authCount(t, a, `SELECT count(*) FROM dossier_links WHERE account_id = ? AND patient_id = ?`, f.holderID, f.childPatient); n != 0 {
		t.Errorf("link to the child's dossier survived the removal")
	}
	if n := authCount(t, a, `SELECT count(*) FROM relatives WHERE account_id = ?`, f.holderID); n != 0 {
		t.Errorf("%d relatives after removal", n)
	}
	// The reports themselves stay (paper, other accounts); the holder's own
	// dossier is untouched.
	if n := authCount(t, a, `SELECT count(*) FROM documents WHERE id = ?`, f.childDoc); n != 1 {
		t.Errorf("removing the relative deleted the child's report")
	}
	fcWantDownload(t, f.holder, f.ownDoc, f.ownPDF)
	ev := a.auditActions(db.AuditFilter{Action: "relative.remove", ObjectType: "patient", ObjectID: f.childPatient})
	if len(ev) != 1 || ev[0].Actor.ID != f.holderID {
		t.Errorf("relative.remove audit: %+v", ev)
	}
}

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
	publishReport(t, f.desk, visit, "Ecografia addome")

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
