package handlers_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
	"fse/jobs"
)

// Tests of the patient's dossier: the list of reports, downloads, what
// other patients' ids answer, expiry and the access log.

// pdUpload uploads one report without publishing it and returns its id.
func pdUpload(t testing.TB, desk *client, visitID int64, title string) (int64, []byte) {
	t.Helper()
	pdf := samplePDF(t, title)
	if rec := desk.upload(visitID, file{title, "x.pdf", pdf}); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload to visit %d: %d", visitID, rec.Code)
	}
	return lastDocument(t, desk.a, visitID), pdf
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
	publishReport(t, desk, bVisit1, "Ecografia addome")

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
	if doc1 := lastDocument(t, a, visit1); reports[0].id != doc1 {
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
	publishReport(t, desk, visit2, "Radiografia torace")
	publishReport(t, desk, bVisit2, "Visita cardiologica")
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
	docID := lastDocument(t, a, visitID)
	if rec := desk.post(fmt.Sprintf("/desk/documents/%d/withdraw", docID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", rec.Code)
	}
	page, reports := pdDossier(t, c)
	if len(reports) != 0 {
		t.Fatalf("reports = %v, want none", pdTitles(reports))
	}
	empty := strings.Join(strings.Fields(page.Find("p.empty").Text()), " ")
	for _, want := range []string{"vuoto finché nessun documento è pronto", "La avviseremo via SMS"} {
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
	docID := lastDocument(t, a, visitID)
	accountID := accountIDOf(t, a, rossiMobile)
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
	docA := lastDocument(t, a, visitA)
	rossi := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, rossi, rossiCF, codeA)

	visitB, codeB := desk.accept(pdBianchiForm(t, a))
	docB, pdfB := publishReport(t, desk, visitB, "Ecografia addome")
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
	if got := authCount(t, a, `SELECT count(*) FROM documents WHERE id IN (?, ?) AND first_downloaded_at IS NOT NULL`, docA, docU); got != 0 {
		t.Errorf("refused requests recorded %d downloads", got)
	}
	if ev := a.auditActions(db.AuditFilter{Action: "report.download", ObjectID: docA, Outcome: db.OutcomeOK}); len(ev) != 0 {
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

func TestPDPatientExpiry(t *testing.T) {
	a := newApp(t)
	visitID, code, pdf := a.publishedVisit()
	docID := lastDocument(t, a, visitID)
	c := a.register("Mario", "Rossi", pdRossiTyped, "mario@example.it")
	pdActivate(t, c, rossiCF, code)
	path := fmt.Sprintf("/fascicolo/referti/%d", docID)
	if rec := c.get(path); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), pdf) {
		t.Fatalf("download before expiry: %d", rec.Code)
	}
	if n := authCount(t, a, `SELECT count(*) FROM document_chunks WHERE document_id = ?`, docID); n == 0 {
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
		if got := authCount(t, a, q, docID); got != 0 {
			t.Errorf("%s = %d, want 0", q, got)
		}
	}
	if ev := a.auditActions(db.AuditFilter{Action: "report.expire", ObjectID: docID}); len(ev) != 1 {
		t.Errorf("report.expire audit rows = %d, want 1", len(ev))
	}
	pdAssertLogsClean(t, a, append(pdCodeForms(code), rossiCF)...)
}

// TestPatientAccessLog: the patient sees who accessed their dossier and
// when, including events about a report that has since been withdrawn.
func TestPatientAccessLog(t *testing.T) {
	a := newApp(t)
	visitID, code, _ := a.publishedVisit()
	c := a.register("Mario", "Rossi", "333 1234567", "")
	c.activate(rossiCF, code)
	docs, _ := a.db.VisitDocuments(context.Background(), visitID)
	c.get("/fascicolo/referti/" + itoa(docs[0].ID))
	desk := a.deskClient()
	desk.get("/desk/documents/" + itoa(docs[0].ID) + "/file")
	desk.post("/desk/documents/"+itoa(docs[0].ID)+"/withdraw", nil)

	// Someone else's activity must not show up.
	other := a.deskClient()
	form := a.acceptForm()
	form.Set("fiscal_code", "BNCGPP49B21F205H")
	form.Set("first_name", "Giuseppe")
	form.Set("last_name", "Bianchi")
	form.Set("birth_date", "1949-02-21")
	form.Set("birth_place", "Milano")
	form.Set("mobile", "347 987 6543")
	other.accept(form)

	rec := c.get("/fascicolo/accessi")
	if rec.Code != http.StatusOK {
		t.Fatalf("access log: %d", rec.Code)
	}
	body := parseHTML(t, rec.Body.String()).Find("tbody").Text()
	for _, want := range []string{"Scaricamento di un referto", "Lei (questo account)", "Consultazione di un referto da parte del personale",
		"Personale della struttura (sportello)", "Ritiro di un referto", "Pubblicazione di un referto online", "Attivazione del fascicolo"} {
		if !strings.Contains(body, want) {
			t.Errorf("access log lacks %q", want)
		}
	}
	if n := strings.Count(body, "Accettazione della prestazione"); n != 1 {
		t.Errorf("access log shows %d acceptances, want Rossi's 1 (not Bianchi's)", n)
	}
	if rec := a.client().get("/fascicolo/accessi"); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous access log: %d, want 303", rec.Code)
	}
}
