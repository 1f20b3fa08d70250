package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("/healthz body %q: %v", rec.Body.String(), err)
	}
	if got, want := body["status"], "ok"; got != want || len(body) != 1 {
		t.Errorf("/healthz: got %v, want {status: ok}", body)
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
