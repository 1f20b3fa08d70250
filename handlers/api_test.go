package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"fse/db"
	"fse/handlers"
)

func TestAPIAuthentication(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits, db.ScopeReports})
	lab := a.integration(t, "Laboratorio analisi", []string{db.ScopeReports}, "10.1.0.0/16")
	revoked := a.integration(t, "Vecchio LIS", []string{db.ScopeReports})
	in, _ := a.db.IntegrationByName(t.Context(), "Vecchio LIS")
	if err := a.db.RevokeIntegration(t.Context(), in.ID, db.Actor{Kind: db.ActorCLI}, a.Now()); err != nil {
		t.Fatal(err)
	}
	accession, _ := a.apiVisit(t, token, "CUP-1")
	visit := "/api/v1/visits/" + accession

	for _, tt := range []struct {
		name   string
		call   apiCall
		status int
	}{
		{"no token", apiCall{method: http.MethodGet, path: visit}, http.StatusUnauthorized},
		{"not a bearer", apiCall{method: http.MethodGet, path: visit, token: ""}, http.StatusUnauthorized},
		{"wrong token", apiCall{method: http.MethodGet, path: visit, token: "fse_" + strings.Repeat("A", 43)}, http.StatusUnauthorized},
		{"revoked token", apiCall{method: http.MethodGet, path: visit, token: revoked}, http.StatusUnauthorized},
		{"wrong network", apiCall{method: http.MethodGet, path: visit, token: lab, ip: "192.0.2.50"}, http.StatusForbidden},
		{"right network", apiCall{method: http.MethodGet, path: visit, token: lab, ip: "10.1.2.3"}, http.StatusOK},
		{"scope missing", apiCall{method: http.MethodPost, path: visit + "/code", token: lab, ip: "10.1.2.3"}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.api(t, tt.call)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.status >= 400 {
				wantProblem(t, rec, tt.status)
			}
		})
	}
	// Refusals are counted and visible to admins; the token never is.
	failures, err := a.db.IntegrationAuthFailures(t.Context(), a.Now().AddDate(0, 0, -1))
	if err != nil || len(failures) != 1 || failures[0].IP != "192.0.2.50" || failures[0].Count != 5 {
		t.Errorf("auth failures = %+v, %v; want 5 from 192.0.2.50", failures, err)
	}
	if strings.Contains(a.logs.String(), token[4:]) || strings.Contains(a.logs.String(), lab[4:]) {
		t.Error("a token reached the log")
	}
}

// A token of another facility finds nothing of this one: the same 404 as
// an accession number that does not exist.
func TestAPITokenIsLimitedToItsFacility(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits, db.ScopeReports})
	accession, _ := a.apiVisit(t, token, "CUP-1")
	other, err := a.db.CreateFacility(t.Context(), db.Facility{Code: "CR", Name: "Cremona"}, db.Actor{Kind: db.ActorCLI}, a.Now())
	if err != nil {
		t.Fatal(err)
	}
	crToken, hash := db.NewIntegrationToken()
	if _, err := a.db.CreateIntegration(t.Context(), db.Integration{Name: "CUP Cremona", FacilityID: other,
		Scopes: []string{db.ScopeVisits, db.ScopeReports}}, hash, db.Actor{Kind: db.ActorCLI}, a.Now()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/visits/" + accession, "/api/v1/visits/MN-2026-99999", "/api/v1/visits/nonsense"} {
		if rec := a.api(t, apiCall{method: http.MethodGet, path: path, token: crToken}); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s with another facility's token: %d, want 404", path, rec.Code)
		}
	}
	rec := a.apiPDF(t, "/api/v1/visits/"+accession+"/reports/R1?title=Esami", crToken, samplePDF(t, "Esami"))
	wantProblem(t, rec, http.StatusNotFound)
	// Its own acceptance gets its own facility's accession number.
	rec = a.apiJSON(t, http.MethodPost, "/api/v1/visits", crToken, visitBody("CUP-1"))
	if m := decode(t, rec); rec.Code != http.StatusCreated || !strings.HasPrefix(m["accession_number"].(string), "CR-") {
		t.Errorf("create with the Cremona token: %d %v", rec.Code, m)
	}
}

func TestAPICreateVisit(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits})
	rec := a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, visitBody("CUP-2026-0001"))
	if rec.Code != http.StatusCreated || rec.Header().Get("Location") != "/api/v1/visits/MN-2026-00001" {
		t.Fatalf("create: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	m := decode(t, rec)
	code, _ := m["activation_code"].(string)
	if !codePattern.MatchString(code) || m["activation_url"] != "https://referti.example.it/attiva#codice="+code ||
		m["created"] != true || m["external_id"] != "CUP-2026-0001" || m["activation_code_active"] != true {
		t.Errorf("answer = %v", m)
	}
	// The code works: a patient activates with it.
	c := a.register("Mario", "Rossi", rossiMobile, "")
	if rec := c.activate(rossiCF, code); rec.Code != http.StatusSeeOther {
		t.Errorf("activation with the API's code: %d", rec.Code)
	}
	// The visit and its code were made by the integration, as the patient's access history says.
	events := a.auditActions(db.AuditFilter{Action: "visit.accept"})
	if len(events) != 1 || events[0].Actor.Kind != db.ActorIntegration || events[0].Actor.Name != "CUP" {
		t.Errorf("visit.accept events = %+v, want one by the integration", events)
	}
	page := c.get("/fascicolo/accessi").Body.String()
	if !strings.Contains(page, "CUP") {
		t.Error("the patient's access history does not name the integration")
	}
}

// A retry (same external_id) returns the same visit and issues no second
// code; the same external_id for another patient is a conflict.
func TestAPICreateVisitIsIdempotent(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits})
	first := decode(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, visitBody("CUP-7")))
	rec := a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, visitBody("CUP-7"))
	m := decode(t, rec)
	if rec.Code != http.StatusOK || m["accession_number"] != first["accession_number"] || m["created"] != false ||
		m["activation_code"] != nil || !strings.Contains(fmt.Sprint(m["activation_code_note"]), "/code") {
		t.Errorf("retry: %d %v", rec.Code, m)
	}
	if n := authCount(t, a, `SELECT count(*) FROM visits`); n != 1 {
		t.Errorf("visits = %d, want 1", n)
	}
	if n := authCount(t, a, `SELECT count(*) FROM activation_codes`); n != 1 {
		t.Errorf("codes = %d, want 1", n)
	}
	other := visitBody("CUP-7")
	other["patient"] = map[string]any{"fiscal_code": "VRDGLI78E54E897T", "first_name": "Giulia", "last_name": "Verdi",
		"birth_date": "1978-05-14", "birth_place": "Mantova", "sex": "F", "mobile": "333 111 2233"}
	wantProblem(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, other), http.StatusConflict)

	// A HIS that lost the code asks for a new one; the first stops working.
	rec = a.api(t, apiCall{method: http.MethodPost, path: fmt.Sprintf("/api/v1/visits/%s/code", first["accession_number"]), token: token})
	m = decode(t, rec)
	if rec.Code != http.StatusOK || !codePattern.MatchString(fmt.Sprint(m["activation_code"])) || m["activation_code"] == first["activation_code"] {
		t.Errorf("reissue: %d %v", rec.Code, m)
	}
	c := a.register("Mario", "Rossi", rossiMobile, "")
	if rec := c.activate(rossiCF, first["activation_code"].(string)); rec.Code == http.StatusSeeOther {
		t.Error("the replaced code still activates")
	}
}

func TestAPIValidationErrors(t *testing.T) {
	a := newApp(t)
	token := a.integration(t, "CUP", []string{db.ScopeVisits})
	set := func(path string, v any) map[string]any {
		b := visitBody("X-1")
		if p, field, ok := strings.Cut(path, "."); ok {
			b[p].(map[string]any)[field] = v
		} else {
			b[path] = v
		}
		return b
	}
	for _, tt := range []struct {
		field string
		body  map[string]any
	}{
		{"external_id", set("external_id", "")},
		{"fiscal_code", set("patient.fiscal_code", "RSSMRA85T10A562X")},
		{"first_name", set("patient.first_name", "")},
		{"last_name", set("patient.last_name", strings.Repeat("R", 101))},
		{"birth_date", set("patient.birth_date", "10/12/1985")},
		{"birth_date", set("patient.birth_date", "1985-12-11")},
		{"birth_place", set("patient.birth_place", " ")},
		{"sex", set("patient.sex", "F")},
		{"mobile", set("patient.mobile", "0376 123456")},
		{"email", set("patient.email", "non un indirizzo")},
		{"exams", set("exams", []string{})},
	} {
		t.Run(tt.field, func(t *testing.T) {
			p := wantProblem(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, tt.body), http.StatusUnprocessableEntity)
			errs, _ := p["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want one", p["errors"])
			}
			e := errs[0].(map[string]any)
			if e["field"] != tt.field || e["detail"] == "" || e["detail_it"] == "" || e["detail"] == e["detail_it"] {
				t.Errorf("error = %v, want %s with English and Italian details", e, tt.field)
			}
		})
	}
	// Not JSON, unknown fields and the wrong media type are the client's mistakes too.
	wantProblem(t, a.api(t, apiCall{method: http.MethodPost, path: "/api/v1/visits", token: token, body: strings.NewReader("{"),
		contentType: "application/json"}), http.StatusBadRequest)
	unknown := visitBody("X-2")
	unknown["exam"] = "Emocromo"
	wantProblem(t, a.apiJSON(t, http.MethodPost, "/api/v1/visits", token, unknown), http.StatusBadRequest)
	wantProblem(t, a.api(t, apiCall{method: http.MethodPost, path: "/api/v1/visits", token: token, body: strings.NewReader("a=b"),
		contentType: "application/x-www-form-urlencoded"}), http.StatusUnsupportedMediaType)
	if n := authCount(t, a, `SELECT count(*) FROM visits`); n != 0 {
		t.Errorf("visits after refusals = %d, want 0", n)
	}
}

// Every route of the API is in the OpenAPI document, and every documented
// route exists.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	a := newApp(t)
	rec := a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/openapi.json"})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %d %v", rec.Code, err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	var documented, routed []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" /api/v1"+param.ReplaceAllString(path, ":$1"))
		}
	}
	for _, r := range a.e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && r.Method != "echo_route_not_found" {
			routed = append(routed, r.Method+" "+r.Path)
		}
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if strings.Join(documented, "\n") != strings.Join(routed, "\n") {
		t.Errorf("documented:\n%s\nrouted:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
}

// Each token has its own rate: past it, 429 with Retry-After, and other
// tokens are not slowed down.
func TestAPIRateLimitPerToken(t *testing.T) {
	a := newAppWith(t, func(c *handlers.Config) { c.APIRatePerSecond = 1 })
	busy := a.integration(t, "CUP", []string{db.ScopeVisits})
	calm := a.integration(t, "LIS", []string{db.ScopeReports})
	get := func(token string) int {
		return a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: token}).Code
	}
	limited := 0
	for i := 0; i < 5; i++ {
		if get(busy) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("5 requests at once with a rate of 1/s: none limited")
	}
	rec := a.api(t, apiCall{method: http.MethodGet, path: "/api/v1/visits/MN-2026-00001", token: busy})
	if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if code := get(calm); code == http.StatusTooManyRequests {
		t.Error("another token was limited too")
	}
}
