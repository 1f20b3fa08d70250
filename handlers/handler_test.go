package handlers_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"fse/db"
)

// Tests of what every area shares: the health check and the error page.

func TestAuthHealthAndNotFound(t *testing.T) {
	a := newApp(t)
	c := a.client()
	rec := c.get("/healthz")
	if rec.Code != http.StatusOK {
		t.Fatalf("/healthz: got %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("/healthz Content-Type: got %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("/healthz body %q: %v", rec.Body.String(), err)
	}
	// The status, and which fse runs on which schema: nothing else.
	if body["status"] != "ok" || body["schema"] != float64(db.LatestSchemaVersion()) || len(body) != 3 {
		t.Errorf("/healthz: got %v, want {status: ok, version, schema: %d}", body, db.LatestSchemaVersion())
	}
	if _, ok := body["version"].(string); !ok {
		t.Errorf("/healthz: version = %#v, want a string", body["version"])
	}

	desk := a.deskClient()
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"anonymous", c, "/non-esiste"},
		{"logged in", desk, "/desk/non-esiste"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.c.get(tc.path)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("GET %s: got %d, want 404", tc.path, rec.Code)
			}
			page := rec.Body.String()
			doc := parseHTML(t, page)
			if got, want := strings.TrimSpace(doc.Find("h1").Text()), "Pagina non trovata."; got != want {
				t.Errorf("404 heading: got %q, want %q", got, want)
			}
			if lang := doc.Find("html").AttrOr("lang", ""); lang != "it" {
				t.Errorf("404 page lang: got %q, want it", lang)
			}
			for _, leak := range []string{"Not Found", "goroutine", ".go:", "code=", "message=", "echo"} {
				if strings.Contains(page, leak) {
					t.Errorf("404 page contains %q", leak)
				}
			}
		})
	}
}

// TestMethodNotAllowedOnKnownPaths: a method a known path does not have
// (TRACE included) is 405 with an Allow header naming the methods it has;
// an unknown path is 404 whatever the method.
func TestMethodNotAllowedOnKnownPaths(t *testing.T) {
	a := newApp(t)
	c := a.client()
	for _, tt := range []struct {
		method, path string
		want         int
		allow        []string
	}{
		{"TRACE", "/", http.StatusMethodNotAllowed, []string{"GET"}},
		{"TRACE", "/desk/login", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
		{"PUT", "/accedi", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
		{"DELETE", "/fascicolo/referti/1", http.StatusMethodNotAllowed, []string{"GET"}},
		{"TRACE", "/desk/admin/audit", http.StatusMethodNotAllowed, []string{"GET"}},
		{"PATCH", "/api/v1/visits/MN-2026-00001/reports/R1", http.StatusMethodNotAllowed, []string{"PUT", "DELETE"}},
		{"TRACE", "/fhir/r4/metadata", http.StatusMethodNotAllowed, []string{"GET"}},
		{"TRACE", "/non-esiste", http.StatusNotFound, nil},
		{"GET", "/desk/non-esiste", http.StatusNotFound, nil},
		{"TRACE", "/desk/non-esiste", http.StatusNotFound, nil},
		{"POST", "/api/v1/non-esiste", http.StatusNotFound, nil},
	} {
		rec := c.do(tt.method, tt.path, nil, "")
		if rec.Code != tt.want {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.path, rec.Code, tt.want)
			continue
		}
		allow := rec.Header().Get("Allow")
		for _, m := range tt.allow {
			if !strings.Contains(allow, m) {
				t.Errorf("%s %s: Allow %q lacks %s", tt.method, tt.path, allow, m)
			}
		}
		if tt.allow == nil && allow != "" {
			t.Errorf("%s %s: Allow %q on a 404", tt.method, tt.path, allow)
		}
		if tt.want == http.StatusMethodNotAllowed && !strings.HasPrefix(tt.path, "/api/") && !strings.HasPrefix(tt.path, "/fhir/") {
			if got := strings.TrimSpace(parseHTML(t, rec.Body.String()).Find("h1").Text()); got != "Operazione non consentita." {
				t.Errorf("%s %s: page says %q, want the Italian 405 message", tt.method, tt.path, got)
			}
		}
	}
}

// TestPagesCarryTheirLength: a rendered page says how long it is, so it is
// sent whole instead of in chunks; the same for a patient's and the desk's.
func TestPagesCarryTheirLength(t *testing.T) {
	a := newApp(t)
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"help page", a.client(), "/aiuto"},
		{"desk acceptance form", a.deskClient(), "/desk/accept"},
		{"not found", a.client(), "/non-esiste"},
	} {
		rec := tc.c.get(tc.path)
		if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want || rec.Body.Len() < 1000 {
			t.Errorf("%s (%s, %d): Content-Length %q, body %d bytes", tc.name, tc.path, rec.Code, got, rec.Body.Len())
		}
	}
}
