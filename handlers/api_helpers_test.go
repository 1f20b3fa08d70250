package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fse/db"
)

// integration creates an integration of the test facility and returns its token.
func (a *app) integration(t testing.TB, name string, scopes []string, cidrs ...string) string {
	t.Helper()
	token, hash := db.NewIntegrationToken()
	if _, err := a.db.CreateIntegration(context.Background(), db.Integration{Name: name, FacilityID: a.facilityID, Scopes: scopes,
		AllowCIDRs: cidrs}, hash, db.Actor{Kind: db.ActorCLI, Name: "test"}, a.Now()); err != nil {
		t.Fatal(err)
	}
	return token
}

// apiCall is one request of a clinic system.
type apiCall struct {
	method, path, token string
	body                io.Reader
	contentType         string
	ip                  string
	header              map[string]string
}

func (a *app) api(t testing.TB, c apiCall) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, c.body)
	req.RemoteAddr = "192.0.2.50:40000"
	if c.ip != "" {
		req.RemoteAddr = c.ip + ":40000"
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// apiJSON sends a JSON body.
func (a *app) apiJSON(t testing.TB, method, path, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return a.api(t, apiCall{method: method, path: path, token: token, body: bytes.NewReader(b), contentType: "application/json"})
}

// apiPDF sends a PDF report.
func (a *app) apiPDF(t testing.TB, path, token string, pdf []byte) *httptest.ResponseRecorder {
	t.Helper()
	return a.api(t, apiCall{method: http.MethodPut, path: path, token: token, body: bytes.NewReader(pdf), contentType: "application/pdf"})
}

// decode reads a JSON answer into a map.
func decode(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer is not JSON (%d): %v\n%s", rec.Code, err, rec.Body.String())
	}
	return m
}

// wantProblem checks a problem+json answer.
func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d\n%s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := decode(t, rec)
	if int(p["status"].(float64)) != status || p["title"] == "" {
		t.Errorf("problem = %v", p)
	}
	return p
}

// visitBody is a valid acceptance of Mario Rossi sent by a HIS.
func visitBody(externalID string) map[string]any {
	return map[string]any{
		"external_id": externalID,
		"patient": map[string]any{"fiscal_code": rossiCF, "first_name": "Mario", "last_name": "Rossi", "birth_date": "1985-12-10",
			"birth_place": "San Giuliano Terme", "sex": "M", "mobile": "+39 333 123 4567"},
		"exams": []string{"Emocromo", "Glicemia"},
	}
}

// apiVisit creates Rossi's acceptance through the API and returns its accession number and code.
func (a *app) apiVisit(t testing.TB, token, externalID string) (accession, code string) {
	t.Helper()
	rec := a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, visitBody(externalID))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create visit: %d\n%s", rec.Code, rec.Body.String())
	}
	m := decode(t, rec)
	return m["accession_number"].(string), m["activation_code"].(string)
}
