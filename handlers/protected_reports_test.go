package handlers_test

import (
	"fmt"

	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fse/db"
)

// Tests of protected reports ("riservato"): what the desk and the intake
// API mark, and what --protected-reports paper|self makes of them online.

// rfQueued lists the recipients of unsent messages of kind, oldest first.
func rfQueued(t testing.TB, a *app, kind string) []string {
	t.Helper()
	rows, err := a.raw.Query(`SELECT recipient FROM outbox WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// pendingCount is how many visits c's page of Giulia's dossier lists as
// "in preparazione".
func (f *rfFamily) pendingCount(t testing.TB, c *client) int {
	t.Helper()
	rec := c.get(f.dossierPath())
	if rec.Code != http.StatusOK {
		t.Fatalf("dossier page: %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	n := 0
	doc.Find("li").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "in preparazione") {
			n++
		}
	})
	return n
}

func TestProtectedReports(t *testing.T) {
	tests := []struct {
		name   string
		policy db.ProtectedPolicy
		run    func(t *testing.T, f *rfFamily)
	}{
		{"paper: a protected visit takes no report and the desk says paper only", db.ProtectedPaper, func(t *testing.T, f *rfFamily) {
			visit := f.visit(t, true)
			page := f.desk.get(fmt.Sprintf("/desk/visits/%d", visit))
			doc := parseHTML(t, page.Body.String())
			if doc.Find("[data-testid=paper-only]").Length() != 1 || doc.Find(`input[name=file]`).Length() != 0 {
				t.Errorf("the visit page of a protected visit does not say paper only, or still offers the upload")
			}
			rec := f.desk.upload(visit, file{"Test HIV", "hiv.pdf", samplePDF(t, "Test HIV")})
			if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "solo su carta") {
				t.Errorf("upload to a protected visit: status %d, want 409 saying «solo su carta»", rec.Code)
			}
			if n := authCount(t, f.a, `SELECT count(*) FROM documents WHERE visit_id = ?`, visit); n != 0 {
				t.Errorf("%d documents stored for a paper-only protected visit", n)
			}
			if got := f.pendingCount(t, f.giulia); got != 2 {
				// The two unprotected visits of the fixture are pending; the
				// protected one never goes online, so it is not "in preparazione".
				t.Errorf("Giulia's pending visits: %d, want 2 (not the protected one)", got)
			}
		}},
		{"paper: a report marked protected stays on paper, the others go online", db.ProtectedPaper, func(t *testing.T, f *rfFamily) {
			visit := f.visit(t, false)
			repUploadOK(t, f.desk, visit, file{"Emocromo", "a.pdf", samplePDF(t, "Emocromo")}, file{"Test HIV", "b.pdf", samplePDF(t, "Test HIV")})
			docs, _ := f.a.db.VisitDocuments(t.Context(), visit)
			hiv := docs[1].ID
			if rec := f.desk.post(fmt.Sprintf("/desk/documents/%d/protected", hiv), url.Values{"on": {"1"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("mark protected: %d", rec.Code)
			}
			if rec := f.desk.post(fmt.Sprintf("/desk/visits/%d/publish", visit), nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("publish: %d", rec.Code)
			}
			rows := repVisitRows(t, f.desk, visit)
			if !strings.Contains(rows["Test HIV"], "solo su carta") || !strings.Contains(rows["Emocromo"], "pubblicato") {
				t.Errorf("desk rows = %q", rows)
			}
			want := []int64{docs[0].ID}
			for who, c := range map[string]*client{"Giulia": f.giulia, "Mario": f.mario} {
				if got := f.sees(t, c); !fcSameIDs(got, want) {
					t.Errorf("%s sees %v, want only the unprotected report %v", who, got, want)
				}
				wantSameAsMadeUp(t, c, hiv)
			}
			if len(repAudit(f.a, db.ActionReportProtect)) != 1 {
				t.Errorf("marking the report protected is not audited once")
			}
		}},
		{"self: only the patient's own account sees a protected report, and is the only one told", db.ProtectedSelf, func(t *testing.T, f *rfFamily) {
			visit := f.visit(t, true)
			hiv, pdf := publishReport(t, f.desk, visit, "Test HIV")
			if got := f.sees(t, f.giulia); !slices.Contains(got, hiv) {
				t.Errorf("Giulia sees %v, not her protected report %d", got, hiv)
			}
			fcWantDownload(t, f.giulia, hiv, pdf)
			if got := f.sees(t, f.mario); slices.Contains(got, hiv) {
				t.Errorf("Mario, a relative's account, sees the protected report")
			}
			wantSameAsMadeUp(t, f.mario, hiv)
			if rec := f.mario.get(fmt.Sprintf("/fascicolo/referti/%d/apri", hiv)); rec.Code != http.StatusNotFound {
				t.Errorf("Mario opens the protected report: %d, want 404", rec.Code)
			}
			if got := rfQueued(t, f.a, "report_available"); !slices.Equal(got, []string{rfGiuliaMobile}) {
				t.Errorf("report notices went to %v, want Giulia's mobile only", got)
			}
			// Her access history shows who saw it: the desk and herself.
			f.desk.get(fmt.Sprintf("/desk/documents/%d/file", hiv))
			page := f.giulia.get("/fascicolo/accessi").Body.String()
			for _, want := range []string{"Consultazione di un referto da parte del personale", "Scaricamento di un referto"} {
				if !strings.Contains(page, want) {
					t.Errorf("Giulia's access history lacks %q", want)
				}
			}
			// Mario's access history shows nothing of it.
			for _, never := range []string{"Consultazione di un referto da parte del personale", "Scaricamento di un referto", "riservat"} {
				if strings.Contains(f.mario.get("/fascicolo/accessi").Body.String(), never) {
					t.Errorf("Mario's access history shows %q about Giulia's protected report", never)
				}
			}
			desk := repVisitRows(t, f.desk, visit)
			if !strings.Contains(desk["Test HIV"], "visibile solo al paziente") {
				t.Errorf("desk row = %q, want it to say only the patient sees it", desk["Test HIV"])
			}
		}},
		{"self: a protected visit is in preparation for the patient, never for a relative", db.ProtectedSelf, func(t *testing.T, f *rfFamily) {
			giulia, mario := f.pendingCount(t, f.giulia), f.pendingCount(t, f.mario)
			f.visit(t, true)
			if got := f.pendingCount(t, f.giulia); got != giulia+1 {
				t.Errorf("Giulia's pending visits: %d, want %d", got, giulia+1)
			}
			if got := f.pendingCount(t, f.mario); got != mario {
				t.Errorf("Mario's pending visits: %d, want %d (the protected visit must not show)", got, mario)
			}
		}},
		{"the protected mark cannot be taken off a report already online", db.ProtectedSelf, func(t *testing.T, f *rfFamily) {
			visit := f.visit(t, false)
			doc, _ := publishReport(t, f.desk, visit, "Emocromo")
			f.desk.post(fmt.Sprintf("/desk/documents/%d/protected", doc), url.Values{"on": {"1"}})
			if got := f.sees(t, f.mario); slices.Contains(got, doc) {
				t.Errorf("after marking it protected Mario still sees the report")
			}
			rec := f.desk.post(fmt.Sprintf("/desk/documents/%d/protected", doc), url.Values{"on": {"0"}})
			if rec.Code != http.StatusConflict {
				t.Errorf("unmarking a published report: %d, want 409", rec.Code)
			}
			if rec := f.desk.post(fmt.Sprintf("/desk/visits/%d/protected", visit), url.Values{"on": {"1"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("mark visit: %d", rec.Code)
			}
			if rec := f.desk.post(fmt.Sprintf("/desk/visits/%d/protected", visit), url.Values{"on": {"0"}}); rec.Code != http.StatusConflict {
				t.Errorf("unmarking a visit with a published report: %d, want 409", rec.Code)
			}
			if got := len(repAudit(f.a, db.ActionVisitProtect)); got != 1 {
				t.Errorf("visit.protect audited %d times, want 1", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, tt.policy, nil))
			tt.run(t, f)
		})
	}
}

func TestProtectedReportsThroughTheIntakeAPI(t *testing.T) {
	tests := []struct {
		name       string
		policy     db.ProtectedPolicy
		visitFlag  bool
		reportFlag bool
		wantStatus int
		marioSees  bool
	}{
		{"an ordinary report is published to every linked account", db.ProtectedPaper, false, false, http.StatusCreated, true},
		{"paper: a protected visit's report is refused", db.ProtectedPaper, true, false, http.StatusConflict, false},
		{"paper: a report sent as protected is refused", db.ProtectedPaper, false, true, http.StatusConflict, false},
		{"self: a protected visit's report is for the patient only", db.ProtectedSelf, true, false, http.StatusCreated, false},
		{"self: a report sent as protected is for the patient only", db.ProtectedSelf, false, true, http.StatusCreated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rfSetup(t, newRightsApp(t, tt.policy, nil))
			token := f.a.integration(t, "LIS", []string{db.ScopeVisits, db.ScopeReports})
			body := visitBody("CUP-1")
			body["patient"] = map[string]any{"fiscal_code": rfGiuliaCF, "first_name": "Giulia", "last_name": "Verdi",
				"birth_date": rfGiuliaBirth, "birth_place": "Mantova", "sex": "F", "mobile": rfGiuliaPhone}
			body["protected"] = tt.visitFlag
			rec := f.a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("create visit: %d\n%s", rec.Code, rec.Body.String())
			}
			v := decode(t, rec)
			if v["protected"] != tt.visitFlag {
				t.Errorf("visit answer protected = %v, want %v", v["protected"], tt.visitFlag)
			}
			path := fmt.Sprintf("/api/v1/visits/%s/reports/LAB-1?title=Referto&publish=true&protected=%t", v["accession_number"], tt.reportFlag)
			rec = f.a.apiPDF(t, path, token, samplePDF(t, "Referto"))
			if rec.Code != tt.wantStatus {
				t.Fatalf("put report: %d, want %d\n%s", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if rec.Code != http.StatusCreated {
				wantProblem(t, rec, http.StatusConflict)
				if n := authCount(t, f.a, `SELECT count(*) FROM documents`); n != 0 {
					t.Errorf("%d documents stored after a refusal", n)
				}
				return
			}
			giulia, mario := f.sees(t, f.giulia), f.sees(t, f.mario)
			if len(giulia) != 1 {
				t.Fatalf("Giulia sees %v, want the one report", giulia)
			}
			if got := len(mario) == 1; got != tt.marioSees {
				t.Errorf("Mario sees %v; want seeing it %v", mario, tt.marioSees)
			}
		})
	}
}
