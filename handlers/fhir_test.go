package handlers_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fhirExample reads one of internal/fhir's example resources and sets, in
// every attachment, a real PDF (the examples carry a few bytes only), and
// replaces its accession numbers: the pairs are old, new, old, new...
func fhirExample(t *testing.T, name string, pdf []byte, accessions ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../internal/fhir/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The examples' patient is Maria Rossi; the visits here are Mario's.
	repl := map[string]string{"RSSMRA58E52E897R": rossiCF}
	for i := 0; i+1 < len(accessions); i += 2 {
		repl[accessions[i]] = accessions[i+1]
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ct, ok := x["contentType"].(string); ok && ct == "application/pdf" {
				if _, has := x["data"]; has {
					x["data"] = base64.StdEncoding.EncodeToString(pdf)
				}
				delete(x, "size")
				delete(x, "hash")
			}
			if v, ok := x["value"].(string); ok && repl[v] != "" {
				x["value"] = repl[v]
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (l lab) fhir(t *testing.T, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return l.a.api(t, apiCall{method: method, path: path, token: l.token, body: bytes.NewReader(body), contentType: "application/fhir+json"})
}

func TestFHIRCreateFromADocumentReference(t *testing.T) {
	l := newLab(t)
	pdf := samplePDF(t, "Esami del sangue")
	body := fhirExample(t, "documentreference-referto-lab.json", pdf, "MN-2026-00042", l.accession)
	rec := l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", body)
	if rec.Code != http.StatusCreated || !strings.HasPrefix(rec.Header().Get("Location"), "https://referti.example.it/fhir/r4/DocumentReference/") {
		t.Fatalf("create: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	created := decode(t, rec)
	if created["resourceType"] != "DocumentReference" || created["description"] != "Esami del sangue" || created["status"] != "current" {
		t.Errorf("answer = %v", created)
	}
	// Final: published at once, and the patient downloads the very PDF.
	if !bytes.Equal(l.download(t), pdf) {
		t.Error("the patient does not get the PDF sent")
	}
	// The same resource again is a retry.
	if rec := l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", body); rec.Code != http.StatusOK {
		t.Errorf("the same DocumentReference again: %d", rec.Code)
	}
	// Read back, by accession and by id; the PDF itself never comes back.
	rec = l.a.api(t, apiCall{method: http.MethodGet, path: "/fhir/r4/DocumentReference?identifier=urn:oid:2.16.840.1.113883.2.9.2.30.4.2|" + l.accession,
		token: l.token})
	set := decode(t, rec)
	if rec.Code != http.StatusOK || set["type"] != "searchset" || set["total"] != 1.0 || strings.Contains(rec.Body.String(), `"data"`) {
		t.Errorf("search: %d %s", rec.Code, rec.Body.String())
	}
	id := created["id"].(string)
	rec = l.a.api(t, apiCall{method: http.MethodGet, path: "/fhir/r4/DocumentReference/" + id, token: l.token})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "LAB-998877") {
		t.Errorf("read %s: %d %s", id, rec.Code, rec.Body.String())
	}
	// entered-in-error withdraws it.
	var withdrawn map[string]any
	json.Unmarshal(body, &withdrawn)
	withdrawn["status"] = "entered-in-error"
	b, _ := json.Marshal(withdrawn)
	if rec := l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", b); rec.Code != http.StatusOK {
		t.Errorf("entered-in-error: %d %s", rec.Code, rec.Body.String())
	}
	if got := l.reports(t)["LAB-998877"]["state"]; got != "withdrawn" {
		t.Errorf("state after entered-in-error = %v", got)
	}
}

func TestFHIRTransactionBundle(t *testing.T) {
	l := newLab(t)
	second, _ := l.a.apiVisit(t, l.token, "CUP-2")
	body := fhirExample(t, "bundle-transaction-referti.json", samplePDF(t, "Referto"), "MN-2026-00042", l.accession, "MN-2026-00043", second)
	rec := l.fhir(t, http.MethodPost, "/fhir/r4", body)
	m := decode(t, rec)
	if rec.Code != http.StatusOK || m["type"] != "transaction-response" || len(m["entry"].([]any)) != 2 {
		t.Fatalf("bundle: %d %s", rec.Code, rec.Body.String())
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents WHERE complete`); n != 2 {
		t.Errorf("documents = %d, want 2", n)
	}
	// A Bundle with one entry for an unknown visit stores nothing.
	bad := fhirExample(t, "bundle-transaction-referti.json", samplePDF(t, "Referto"), "MN-2026-00042", "MN-2026-07777", "MN-2026-00043", second)
	rec = l.fhir(t, http.MethodPost, "/fhir/r4", bad)
	if out := decode(t, rec); rec.Code != http.StatusNotFound || out["resourceType"] != "OperationOutcome" {
		t.Errorf("bundle with an unknown visit: %d %s", rec.Code, rec.Body.String())
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents WHERE complete`); n != 2 {
		t.Errorf("documents after a refused bundle = %d, want still 2", n)
	}
}

// Every refusal is an OperationOutcome with the status a FHIR client expects.
func TestFHIROperationOutcomes(t *testing.T) {
	l := newLab(t)
	good := fhirExample(t, "documentreference-referto-lab.json", samplePDF(t, "E"), "MN-2026-00042", l.accession)
	urlOnly, err := os.ReadFile("../internal/fhir/testdata/documentreference-example.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		token, body string
		contentType string
		status      int
	}{
		{"no token", "", string(good), "application/fhir+json", http.StatusUnauthorized},
		{"not JSON", l.token, "{", "application/fhir+json", http.StatusBadRequest},
		{"attachment by url only (the spec's own example)", l.token, string(urlOnly), "application/fhir+json", http.StatusBadRequest},
		{"unknown visit", l.token, string(fhirExample(t, "documentreference-referto-lab.json", samplePDF(t, "E"), "MN-2026-00042", "MN-2026-05555")),
			"application/fhir+json", http.StatusNotFound},
		{"not a PDF inside", l.token, string(fhirExample(t, "documentreference-referto-lab.json", []byte("<html>"), "MN-2026-00042", l.accession)),
			"application/fhir+json", http.StatusUnsupportedMediaType},
		{"wrong media type", l.token, string(good), "text/plain", http.StatusUnsupportedMediaType},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := l.a.api(t, apiCall{method: http.MethodPost, path: "/fhir/r4/DocumentReference", token: tt.token,
				body: strings.NewReader(tt.body), contentType: tt.contentType})
			out := decode(t, rec)
			if rec.Code != tt.status || out["resourceType"] != "OperationOutcome" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/fhir+json") {
				t.Errorf("%d %s, want %d with an OperationOutcome", rec.Code, rec.Body.String(), tt.status)
			}
		})
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents`); n != 0 {
		t.Errorf("documents after refusals = %d", n)
	}
}

func TestFHIRMetadata(t *testing.T) {
	a := newApp(t)
	rec := a.api(t, apiCall{method: http.MethodGet, path: "/fhir/r4/metadata"})
	m := decode(t, rec)
	if rec.Code != http.StatusOK || m["resourceType"] != "CapabilityStatement" || m["fhirVersion"] != "4.0.1" ||
		!strings.Contains(rec.Body.String(), `"DocumentReference"`) {
		t.Errorf("metadata: %d %s", rec.Code, rec.Body.String())
	}
}

func TestFHIRDocStatusAndSubject(t *testing.T) {
	l := newLab(t)
	with := func(edit func(map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(fhirExample(t, "documentreference-referto-lab.json", samplePDF(t, "E"), "MN-2026-00042", l.accession), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	// preliminary: stored, not published.
	l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", with(func(m map[string]any) { m["docStatus"] = "preliminary" }))
	if got := l.reports(t)["LAB-998877"]["state"]; got != "draft" {
		t.Errorf("preliminary: %v, want draft", got)
	}
	// docStatus entered-in-error withdraws, it is never published.
	l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", with(func(m map[string]any) { m["docStatus"] = "entered-in-error" }))
	if got := l.reports(t)["LAB-998877"]["state"]; got != "withdrawn" {
		t.Errorf("docStatus entered-in-error: %v, want withdrawn", got)
	}
	// The subject names another patient: refused, whatever the accession says.
	rec := l.fhir(t, http.MethodPost, "/fhir/r4/DocumentReference", with(func(m map[string]any) {
		m["masterIdentifier"].(map[string]any)["value"] = "LAB-2"
		m["subject"].(map[string]any)["identifier"].(map[string]any)["value"] = "VRDGLI78E54E897T"
	}))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("subject of another patient: %d", rec.Code)
	}
	if _, ok := l.reports(t)["LAB-2"]; ok {
		t.Error("a report naming another patient was stored")
	}
}

// A Bundle is stored all or none, even when its last report is refused
// only once the store looks at the visit (declined online delivery).
func TestFHIRBundleIsAllOrNothing(t *testing.T) {
	l := newLab(t)
	declined := visitBody("CUP-2")
	declined["online_declined"] = true
	second := decode(t, l.a.apiJSON(t, http.MethodPost, "/api/v1/visits", l.token, declined))["accession_number"].(string)
	body := fhirExample(t, "bundle-transaction-referti.json", samplePDF(t, "Referto"), "MN-2026-00042", l.accession, "MN-2026-00043", second)
	rec := l.fhir(t, http.MethodPost, "/fhir/r4", body)
	if rec.Code != http.StatusConflict {
		t.Errorf("bundle with a declined visit: %d %s", rec.Code, rec.Body.String())
	}
	if n := authCount(t, l.a, `SELECT count(*) FROM documents`); n != 0 {
		t.Errorf("documents after a refused bundle = %d, want 0", n)
	}
	if l.notices(t) != 0 {
		t.Error("a refused bundle announced a report")
	}
}
