package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fse/db"
)

// lab is a LIS with a visit accepted through the API and Rossi's dossier
// active online.
type lab struct {
	a         *app
	token     string
	accession string
	patient   *client
}

func newLab(t *testing.T) lab {
	t.Helper()
	a := newApp(t)
	token := a.integration(t, "Laboratorio analisi", []string{db.ScopeVisits, db.ScopeReports})
	accession, code := a.apiVisit(t, token, "CUP-1")
	patient := a.register("Mario", "Rossi", rossiMobile, "")
	if rec := patient.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d", rec.Code)
	}
	return lab{a: a, token: token, accession: accession, patient: patient}
}

func (l lab) put(t *testing.T, reportID, query string, pdf []byte) *httptest.ResponseRecorder {
	t.Helper()
	return l.a.apiPDF(t, "/api/v1/visits/"+l.accession+"/reports/"+reportID+query, l.token, pdf)
}

// reports returns the visit's reports as GET shows them, by report id.
func (l lab) reports(t *testing.T) map[string]map[string]any {
	t.Helper()
	rec := l.a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/" + l.accession, token: l.token})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET visit: %d %s", rec.Code, rec.Body.String())
	}
	out := map[string]map[string]any{}
	for _, r := range decode(t, rec)["reports"].([]any) {
		m := r.(map[string]any)
		out[fmt.Sprint(m["report_id"])] = m
	}
	return out
}

// download fetches the patient's only report and returns its bytes.
func (l lab) download(t *testing.T) []byte {
	t.Helper()
	doc := parseHTML(t, l.patient.get("/fascicolo").Body.String())
	href, ok := doc.Find(`a[download]`).Attr("href")
	if !ok {
		t.Fatal("no report in the dossier")
	}
	rec := l.patient.get(href)
	if rec.Code != http.StatusOK {
		t.Fatalf("download: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

func (l lab) notices(t *testing.T) int {
	return authCount(t, l.a, `SELECT count(*) FROM outbox WHERE kind = 'report_available'`)
}

func TestAPIDeliversAndPublishesAReport(t *testing.T) {
	l := newLab(t)
	pdf := samplePDF(t, "Esami del sangue")
	rec := l.put(t, "LAB-1", "?title=Esami%20del%20sangue", pdf)
	if m := decode(t, rec); rec.Code != http.StatusCreated || m["outcome"] != "created" || m["state"] != "draft" {
		t.Fatalf("put: %d %v", rec.Code, m)
	}
	if got := l.reports(t)["LAB-1"]; got["state"] != "draft" || got["title"] != "Esami del sangue" {
		t.Errorf("report = %v, want a draft", got)
	}
	if l.notices(t) != 0 {
		t.Error("a draft was announced")
	}
	// The same PDF with ?publish=true publishes it: nothing else changes.
	rec = l.put(t, "LAB-1", "?title=Esami%20del%20sangue&publish=true", pdf)
	if m := decode(t, rec); rec.Code != http.StatusOK || m["outcome"] != "unchanged" || m["state"] != "published" {
		t.Fatalf("publish: %d %v", rec.Code, m)
	}
	if !bytes.Equal(l.download(t), pdf) {
		t.Error("the patient downloads something else")
	}
	got := l.reports(t)["LAB-1"]
	if got["state"] != "published" || got["expires_at"] == nil || got["first_downloaded_at"] == nil {
		t.Errorf("report after download = %v, want published with a first download time", got)
	}
	if l.notices(t) != 1 {
		t.Errorf("notices = %d, want 1", l.notices(t))
	}
	events := withAction(l.a.auditActions(db.AuditFilter{Action: "report."}), db.ActionReportUpload)
	if len(events) != 1 || events[0].Actor.Kind != db.ActorIntegration || events[0].Actor.Name != "Laboratorio analisi" {
		t.Errorf("upload audit = %+v, want one by the integration", events)
	}
}

// A retry after a lost answer changes nothing and announces nothing twice.
func TestAPIReportRetryIsIdempotent(t *testing.T) {
	l := newLab(t)
	pdf := samplePDF(t, "Esami")
	for i := 0; i < 3; i++ {
		l.put(t, "LAB-1", "?title=Esami&publish=true", pdf)
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("documents = %d, want 1", n)
	}
	if l.notices(t) != 1 {
		t.Errorf("notices = %d, want 1", l.notices(t))
	}
	// The title travels in a header as well, percent-encoded.
	req := apiCall{method: http.MethodPut, path: "/api/v1/visits/" + l.accession + "/reports/LAB-2", token: l.token,
		body: bytes.NewReader(samplePDF(t, "ECG")), contentType: "application/pdf", header: map[string]string{"X-Report-Title": "Elettrocardiogramma%20%C3%A8"}}
	if rec := l.a.api(t, req); rec.Code != http.StatusCreated {
		t.Fatalf("put with the title in a header: %d %s", rec.Code, rec.Body.String())
	}
	if got := l.reports(t)["LAB-2"]["title"]; got != "Elettrocardiogramma è" {
		t.Errorf("title from the header = %q", got)
	}
}

// A new PDF for a published report is a corrected report: it replaces the
// old one online, the patient is told again, the audit keeps both.
func TestAPICorrectedReportReplacesThePublishedOne(t *testing.T) {
	l := newLab(t)
	first := samplePDF(t, "Esami prima versione")
	l.put(t, "LAB-1", "?title=Esami&publish=true", first)
	corrected := samplePDF(t, "Esami versione rettificata")
	rec := l.put(t, "LAB-1", "?title=Esami", corrected)
	if m := decode(t, rec); rec.Code != http.StatusOK || m["outcome"] != "corrected" || m["state"] != "published" {
		t.Fatalf("correction: %d %v", rec.Code, m)
	}
	if got := l.download(t); !bytes.Equal(got, corrected) {
		t.Error("the patient still sees the old report")
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("documents = %d, want only the corrected one", n)
	}
	if l.notices(t) != 2 {
		t.Errorf("notices = %d, want 2: the patient is told of the correction", l.notices(t))
	}
	if len(l.a.auditActions(db.AuditFilter{Action: db.ActionReportCorrect})) != 1 ||
		len(l.a.auditActions(db.AuditFilter{Action: db.ActionReportPublish})) != 2 {
		t.Error("the audit does not keep both publications and the correction")
	}
	// A new PDF for a draft simply replaces it.
	l.put(t, "LAB-2", "?title=ECG", samplePDF(t, "ECG"))
	if m := decode(t, l.put(t, "LAB-2", "?title=ECG", samplePDF(t, "ECG bis"))); m["outcome"] != "replaced" || m["state"] != "draft" {
		t.Errorf("replacing a draft: %v", m)
	}
}

func TestAPIWithdrawAndWhatBecomesOfReports(t *testing.T) {
	l := newLab(t)
	l.put(t, "LAB-1", "?title=Esami&publish=true", samplePDF(t, "Esami"))
	l.put(t, "LAB-2", "?title=ECG&publish=true", samplePDF(t, "ECG"))
	path := "/api/v1/visits/" + l.accession + "/reports/LAB-1"
	for i := 0; i < 2; i++ {
		if rec := l.a.api(t, apiCall{method: http.MethodDelete, path: path, token: l.token}); rec.Code != http.StatusNoContent {
			t.Fatalf("DELETE #%d: %d %s", i+1, rec.Code, rec.Body.String())
		}
	}
	wantProblem(t, l.a.api(t, apiCall{method: http.MethodDelete, path: path + "-nessuno", token: l.token}), http.StatusNotFound)
	// The patient deletes the other one.
	docID := lastDocument(t, l.a, accessionVisit(t, l))
	l.patient.post(fmt.Sprintf("/fascicolo/referti/%d/elimina", docID), nil)

	reps := l.reports(t)
	if reps["LAB-1"]["state"] != "withdrawn" || reps["LAB-2"]["state"] != "deleted_by_patient" {
		t.Errorf("states = %v / %v", reps["LAB-1"]["state"], reps["LAB-2"]["state"])
	}
	// A withdrawn report may be sent again; one the patient deleted may not.
	if rec := l.put(t, "LAB-1", "?title=Esami&publish=true", samplePDF(t, "Esami")); rec.Code != http.StatusCreated {
		t.Errorf("resend of a withdrawn report: %d", rec.Code)
	}
	wantProblem(t, l.put(t, "LAB-2", "?title=ECG&publish=true", samplePDF(t, "ECG")), http.StatusConflict)
}

func accessionVisit(t *testing.T, l lab) int64 {
	t.Helper()
	visits, err := l.a.db.RecentVisits(t.Context(), 1)
	if err != nil || len(visits) == 0 {
		t.Fatal("no visit")
	}
	return visits[0].ID
}

// The desk's rules hold for integrations: declined and disabled online
// delivery, the size limit, PDFs only, a title.
func TestAPIReportRefusals(t *testing.T) {
	l := newLab(t)
	declinedBody := visitBody("CUP-2")
	declinedBody["online_declined"] = true
	declined := decode(t, l.a.apiJSON(t, http.MethodPost, "/api/v1/visits", l.token, declinedBody))["accession_number"].(string)
	pdf := samplePDF(t, "Esami")
	big := append(append([]byte{}, pdf...), bytes.Repeat([]byte(" "), 1<<20)...)
	for _, tt := range []struct {
		name   string
		call   apiCall
		status int
	}{
		{"declined at the desk", apiCall{path: "/api/v1/visits/" + declined + "/reports/R?title=E", body: bytes.NewReader(pdf),
			contentType: "application/pdf"}, http.StatusConflict},
		{"not a PDF body", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E", body: strings.NewReader("<html>"),
			contentType: "application/pdf"}, http.StatusUnsupportedMediaType},
		{"wrong media type", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E", body: bytes.NewReader(pdf),
			contentType: "application/octet-stream"}, http.StatusUnsupportedMediaType},
		{"truncated PDF", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E", body: bytes.NewReader(pdf[:len(pdf)-30]),
			contentType: "application/pdf"}, http.StatusUnprocessableEntity},
		{"too large", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E", body: bytes.NewReader(big),
			contentType: "application/pdf"}, http.StatusRequestEntityTooLarge},
		{"too large, no length", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E", body: io.MultiReader(bytes.NewReader(big)),
			contentType: "application/pdf"}, http.StatusRequestEntityTooLarge},
		{"no title", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R", body: bytes.NewReader(pdf),
			contentType: "application/pdf"}, http.StatusUnprocessableEntity},
		{"unknown visit", apiCall{path: "/api/v1/visits/MN-2026-09999/reports/R?title=E", body: bytes.NewReader(pdf),
			contentType: "application/pdf"}, http.StatusNotFound},
		{"bad publish flag", apiCall{path: "/api/v1/visits/" + l.accession + "/reports/R?title=E&publish=forse", body: bytes.NewReader(pdf),
			contentType: "application/pdf"}, http.StatusUnprocessableEntity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.method, tt.call.token = http.MethodPut, l.token
			wantProblem(t, l.a.api(t, tt.call), tt.status)
		})
	}
	// Turned off by the patient: stored on request, never published.
	l.patient.post(fmt.Sprintf("/fascicolo/%d/disattiva", patientByCF(t, l.a, rossiCF).ID), nil)
	wantProblem(t, l.put(t, "R2", "?title=E&publish=true", pdf), http.StatusConflict)
	if n := authCount(t, l.a, `SELECT count(*) FROM documents`); n != 0 {
		t.Errorf("documents after refusals = %d, want 0", n)
	}
}
