package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"fse/handlers"
)

// Tests of the security middleware: response headers (CSP with a nonce,
// HSTS, no-store) and the refusal of cross-origin POSTs.

// authDo sends a request with the client's cookies and exactly the given
// extra headers (no automatic Sec-Fetch-Site).
func authDo(c *client, method, target string, form url.Values, headers map[string]string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = c.ip + ":51000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.a.e.ServeHTTP(rec, req)
	return rec
}

var authNoncePattern = regexp.MustCompile(`'nonce-([^']+)'`)

func TestAuthSecurityHeaders(t *testing.T) {
	a := newApp(t)
	c := a.client()
	var nonces []string
	for range 2 {
		rec := c.get("/desk/login")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /desk/login: got %d", rec.Code)
		}
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		m := authNoncePattern.FindStringSubmatch(csp)
		if m == nil {
			t.Fatalf("CSP %q has no nonce", csp)
		}
		scriptNonce := parseHTML(t, rec.Body.String()).Find("script").AttrOr("nonce", "")
		if scriptNonce != m[1] {
			t.Errorf("script nonce %q does not match CSP nonce %q", scriptNonce, m[1])
		}
		nonces = append(nonces, m[1])
		if got, want := h.Get("X-Content-Type-Options"), "nosniff"; got != want {
			t.Errorf("X-Content-Type-Options: got %q, want %q", got, want)
		}
		if got := h.Get("Referrer-Policy"); got == "" {
			t.Error("no Referrer-Policy")
		}
		if got := h.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("HSTS with https BaseURL: got %q, want max-age", got)
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("nonce reused across requests: %q", nonces[0])
	}

	desk := a.deskClient()
	for _, path := range []string{"/desk", "/desk/accept"} {
		rec := desk.get(path)
		if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("GET %s Cache-Control: got %q, want no-store", path, got)
		}
	}
	admin := a.adminClient()
	if got := admin.get("/desk/admin/audit").Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("admin audit Cache-Control: got %q, want no-store", got)
	}

	local := newAppWith(t, func(cfg *handlers.Config) { cfg.BaseURL = "http://localhost:8080" })
	if got := local.client().get("/desk/login").Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS with http BaseURL: got %q, want none", got)
	}
}

func TestAuthCrossOriginPost(t *testing.T) {
	a := newApp(t)
	c := a.deskClient()
	visits := func() int { return authCount(t, a, `SELECT count(*) FROM visits`) }
	before := visits()

	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site cross-site with Origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"Origin only", map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := authDo(c, http.MethodPost, "/desk/accept", a.acceptForm(), tc.headers)
			if rec.Code != http.StatusForbidden {
				t.Errorf("status: got %d, want 403", rec.Code)
			}
			if got := visits(); got != before {
				t.Errorf("visits: got %d, want %d", got, before)
			}
		})
	}

	// Control: the same helper with a same-origin request works.
	form := a.acceptForm()
	form.Set("form_token", "same-origin-control")
	rec := authDo(c, http.MethodPost, "/desk/accept", form, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("same-origin control: got %d, want 303", rec.Code)
	}
	if got, want := visits(), before+1; got != want {
		t.Errorf("visits after same-origin accept: got %d, want %d", got, want)
	}
}
